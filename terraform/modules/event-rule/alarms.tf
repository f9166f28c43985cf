# The rule's delivery alarms. EventBridge publishes these metrics only when they are not zero, so
# missing data is "not breaching". Any single event lost or parked is worth knowing: one period,
# no M of N. Metrics of a rule on a custom bus carry the bus name as a dimension too.

locals {
  rule_dimensions = merge(
    { RuleName = aws_cloudwatch_event_rule.this.name },
    local.bus_name == "default" ? {} : { EventBusName = local.bus_name },
  )
}

resource "aws_cloudwatch_metric_alarm" "failed_invocations" {
  count = var.alarms.enabled ? 1 : 0

  alarm_name          = "${var.name}-failed-invocations"
  alarm_description   = "Rule ${var.name} failed to deliver events after all retries, including some it could not even put in the target's dead-letter queue (those are lost). Check the target's permissions and the dead-letter queue's policy."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions

  metric_query {
    id          = "failed"
    expression  = "failed_invocations + not_sent_to_dlq"
    label       = "Failed invocations"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { failed_invocations = "FailedInvocations", not_sent_to_dlq = "InvocationsFailedToBeSentToDlq" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/Events"
        metric_name = metric_query.value
        dimensions  = local.rule_dimensions
        period      = var.alarms.period_seconds
        stat        = "Sum"
      }
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "sent_to_dlq" {
  count = var.alarms.enabled ? 1 : 0

  alarm_name          = "${var.name}-sent-to-dlq"
  alarm_description   = "Rule ${var.name} put events in a target's dead-letter queue after its retries ran out. Inspect the queue, fix the target, then redrive."
  namespace           = "AWS/Events"
  metric_name         = "InvocationsSentToDlq"
  dimensions          = local.rule_dimensions
  statistic           = "Sum"
  period              = var.alarms.period_seconds
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions
  tags                = var.tags
}
