# One CloudWatch dashboard per environment, generated from the same inventory as the alarms:
# a function, queue, table or rule added to the stack is drawn without editing widgets.

locals {
  inventory = {
    functions = {
      orders_api      = module.orders_api.function_name
      order_processor = module.order_processor.function_name
      notifier        = module.notifier.function_name
    }
    queues = {
      orders        = { queue = module.orders_queue.queue_name, dlq = module.orders_queue.dlq_name }
      notifications = { queue = module.notifications_queue.queue_name, dlq = module.notifications_queue.dlq_name }
    }
    table = module.table.table_name
    rules = { (module.outcomes_rule.rule_name) = module.outcomes_rule.bus_name }
    api   = { ApiId = module.http_api.api_id, Stage = "$default" }
  }

  region = data.aws_region.current.name
  api    = ["ApiId", local.inventory.api.ApiId, "Stage", local.inventory.api.Stage]

  # { title, metrics (CloudWatch dashboard metric arrays), stat }, laid out three to a row.
  # Objects, not lists: flatten() would flatten a list of lists all the way down.
  dashboard_widgets = concat(
    [
      { title = "API requests", stat = "Sum", metrics = [concat(["AWS/ApiGateway", "Count"], local.api)] },
      { title = "API 4xx and 5xx", stat = "Sum", metrics = [
        concat(["AWS/ApiGateway", "4xx"], local.api),
        concat(["AWS/ApiGateway", "5xx"], local.api),
      ] },
      { title = "API latency p50 / p99 (ms)", stat = "p99", metrics = [
        concat(["AWS/ApiGateway", "Latency"], local.api, [{ stat = "p50" }]),
        concat(["AWS/ApiGateway", "Latency"], local.api, [{ stat = "p99" }]),
      ] },
      { title = "Orders accepted, confirmed, rejected; notifications sent", stat = "Sum", metrics = [
        [local.business_namespace, "OrdersAccepted", "environment", var.environment, "service", "orders_api"],
        [local.business_namespace, "OrdersConfirmed", "environment", var.environment, "service", "order_processor"],
        [local.business_namespace, "OrdersRejected", "environment", var.environment, "service", "order_processor"],
        [local.business_namespace, "NotificationsSent", "environment", var.environment, "service", "notifier"],
      ] },
    ],
    flatten([for service, function in local.inventory.functions : [
      { title = "${service}: invocations, errors, throttles", stat = "Sum", metrics = [
        ["AWS/Lambda", "Invocations", "FunctionName", function],
        ["AWS/Lambda", "Errors", "FunctionName", function],
        ["AWS/Lambda", "Throttles", "FunctionName", function],
      ] },
      { title = "${service}: duration p50 / p99 (ms)", stat = "p99", metrics = [
        ["AWS/Lambda", "Duration", "FunctionName", function, { stat = "p50" }],
        ["AWS/Lambda", "Duration", "FunctionName", function, { stat = "p99" }],
      ] },
      { title = "${service}: concurrent executions, cold starts", stat = "Maximum", metrics = [
        ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", function, { stat = "Maximum" }],
        [local.business_namespace, "ColdStart", "function_name", function, "service", service, { stat = "Sum" }],
      ] },
    ]]),
    flatten([for queue, q in local.inventory.queues : [
      { title = "${queue} queue and its DLQ: messages waiting", stat = "Maximum", metrics = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.queue],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.dlq],
      ] },
      { title = "${queue} queue: oldest message age (s)", stat = "Maximum", metrics = [
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q.queue],
      ] },
    ]]),
    [
      { title = "Table: consumed capacity", stat = "Sum", metrics = [
        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", local.inventory.table],
        ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", local.inventory.table],
      ] },
      { title = "Table: throttled reads and writes", stat = "Sum", metrics = [
        ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", local.inventory.table],
        ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", local.inventory.table],
      ] },
    ],
    [for rule, bus in local.inventory.rules : {
      title = "Rule ${rule}: delivered, failed, to DLQ", stat = "Sum", metrics = [
        for metric in ["Invocations", "FailedInvocations", "InvocationsSentToDlq"] :
        concat(["AWS/Events", metric, "RuleName", rule], bus == "default" ? [] : ["EventBusName", bus])
      ]
    }],
  )

  dashboard_body = jsonencode({
    widgets = concat(
      [for index, widget in local.dashboard_widgets : {
        type   = "metric"
        x      = (index % 3) * 8
        y      = floor(index / 3) * 6
        width  = 8
        height = 6
        properties = {
          title   = widget.title
          metrics = widget.metrics
          stat    = widget.stat
          period  = 60
          region  = local.region
          view    = "timeSeries"
          stacked = false
        }
      }],
      var.alarms_enabled ? [{
        type   = "alarm"
        x      = 0
        y      = ceil(length(local.dashboard_widgets) / 3) * 6
        width  = 24
        height = 6
        properties = {
          title  = "Alarms"
          alarms = concat(aws_cloudwatch_composite_alarm.unhealthy[*].arn, sort(local.all_alarm_arns))
        }
      }] : [],
    )
  })

  all_alarm_arns = concat(
    values(module.http_api.alarm_arns),
    values(module.orders_api.alarm_arns),
    values(module.order_processor.alarm_arns),
    values(module.notifier.alarm_arns),
    module.orders_queue.alarm_arns,
    module.notifications_queue.alarm_arns,
    values(module.table.alarm_arns),
    values(module.outcomes_rule.alarm_arns),
    aws_cloudwatch_metric_alarm.rejected_orders[*].arn,
    [for alarm in aws_cloudwatch_metric_alarm.batch_item_failures : alarm.arn],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.name
  dashboard_body = local.dashboard_body
}
