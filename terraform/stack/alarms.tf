# The environment's alarms beyond each module's own, the topic every alarm notifies, and the one
# composite alarm that means users are hurt: it is what pages and what a deployment watches.

locals {
  composite_alarm_name = "${local.name}-unhealthy"

  # EMF metrics the functions emit (orders_core.observability): namespace OrdersPlatform,
  # dimensions environment and service.
  business_namespace = "OrdersPlatform"
  processor_metrics  = { environment = var.environment, service = "order_processor" }

  # The alarms whose state means customers cannot place orders, or placed orders do not get
  # processed. Notifications failing are bad news but nobody is blocked: they alarm, not page.
  user_facing_alarms = var.alarms_enabled ? concat(
    values(module.http_api.alarm_names),
    [module.orders_api.alarm_names["error_rate"], module.orders_api.alarm_names["throttles"]],
    [module.order_processor.alarm_names["error_rate"], module.order_processor.alarm_names["throttles"]],
    values(module.orders_queue.alarm_names),
    values(module.table.alarm_names),
    [aws_cloudwatch_metric_alarm.batch_item_failures["order_processor"].alarm_name],
  ) : []
}

module "alarm_topic" {
  source = "../modules/alarm-topic"
  count  = var.alarms_enabled ? 1 : 0

  name = "${local.name}-alarms"
  subscriptions = [for s in var.alarm_subscriptions : {
    protocol    = s.protocol
    endpoint    = s.endpoint
    alarm_names = s.pages ? [local.composite_alarm_name] : null
  }]
  publishers = local.alarm_topic_publishers # budget.tf

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "rejected_orders" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name          = "${local.name}-rejected-orders"
  alarm_description   = "Over ${var.alarm_thresholds.rejected_orders_share_pct}% of the orders processed in ${var.environment} were REJECTED in 2 of the last 3 periods of 5 minutes (periods with fewer than ${var.alarm_thresholds.rejected_orders_min_processed} orders count as 0 %). Stock is running out, or prices or SKUs sent by clients are wrong: read the reasons on the rejected orders."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_thresholds.rejected_orders_share_pct
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  # No orders processed: no rejections to speak of.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions

  metric_query {
    id          = "rejected_share"
    expression  = "IF(confirmed + rejected >= ${var.alarm_thresholds.rejected_orders_min_processed}, 100 * rejected / (confirmed + rejected), 0)"
    label       = "Rejected (% of processed orders)"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { confirmed = "OrdersConfirmed", rejected = "OrdersRejected" }
    content {
      id = metric_query.key
      metric {
        namespace   = local.business_namespace
        metric_name = metric_query.value
        dimensions  = local.processor_metrics
        period      = 300
        stat        = "Sum"
      }
    }
  }

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "batch_item_failures" {
  for_each = var.alarms_enabled ? toset(["order_processor", "notifier"]) : toset([])

  alarm_name          = "${local.name}-${replace(each.key, "_", "-")}-batch-item-failures"
  alarm_description   = "${each.key} reported failed records in every one of the last ${var.alarm_thresholds.batch_item_failures_minutes} minutes: messages are being retried again and again and will end in the dead-letter queue. Its log group names the message ids and why."
  namespace           = local.business_namespace
  metric_name         = "BatchItemFailures"
  dimensions          = { environment = var.environment, service = each.key }
  statistic           = "Sum"
  period              = 60
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = var.alarm_thresholds.batch_item_failures_minutes
  datapoints_to_alarm = var.alarm_thresholds.batch_item_failures_minutes
  # The metric is emitted with every batch; no batch, no failure.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
  tags               = local.tags
}

# A notification whose attempt died while SES was sending it: nobody knows whether the customer
# got the mail, and nothing will send it again (orders_core.workflows.notify_customer). Each one
# is for a person to check, so the first one alarms; it does not page (no order is blocked).
resource "aws_cloudwatch_metric_alarm" "notifications_uncertain" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name          = "${local.name}-notifications-uncertain"
  alarm_description   = "A notification in ${var.environment} is UNCERTAIN: the notifier died or timed out while SES was sending it, so the customer may or may not have the mail, and it is not sent again. The notifier's ERROR line names the order; SES's sending records say whether it went out."
  namespace           = local.business_namespace
  metric_name         = "NotificationsUncertain"
  dimensions          = { environment = var.environment, service = "notifier" }
  statistic           = "Sum"
  period              = 300
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  # Emitted only when a notification is found uncertain: no data, nothing uncertain.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
  tags               = local.tags
}

resource "aws_cloudwatch_composite_alarm" "unhealthy" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name        = local.composite_alarm_name
  alarm_description = "The orders service in ${var.environment} is unhealthy: customers cannot place orders, or placed orders are not processed. One of its alarms is in ALARM (the notification names which); docs/operating.md says what to do first."
  alarm_rule        = join(" OR ", [for name in local.user_facing_alarms : "ALARM(\"${name}\")"])
  alarm_actions     = local.alarm_actions
  ok_actions        = local.alarm_actions
  tags              = local.tags
}
