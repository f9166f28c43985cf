# The table's alarms. Missing data is "not breaching": DynamoDB publishes throttle and error
# metrics only when there is something to count.

locals {
  # Throttles on the table itself, then on each global secondary index (read and write each).
  throttle_scopes = merge(
    { table = { TableName = local.table.name } },
    { for i in var.global_secondary_indexes : "index-${i.name}" => { TableName = local.table.name, GlobalSecondaryIndexName = i.name } },
  )
}

resource "aws_cloudwatch_metric_alarm" "throttled_requests" {
  for_each = var.alarms.enabled ? local.throttle_scopes : {}

  alarm_name          = each.key == "table" ? "${var.name}-throttled-requests" : "${var.name}-${each.key}-throttled-requests"
  alarm_description   = "${each.key == "table" ? "Table ${var.name}" : "Index ${each.value.GlobalSecondaryIndexName} of ${var.name}"} throttled reads or writes in ${var.alarms.datapoints_to_alarm} of the last ${var.alarms.evaluation_periods} periods of ${var.alarms.period_seconds} s. On demand: a hot partition key or a burst beyond the table's previous peak; provisioned: capacity too low."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.throttled_requests_threshold
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions

  metric_query {
    id          = "throttled"
    expression  = "reads + writes"
    label       = "Throttled reads and writes"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { reads = "ReadThrottleEvents", writes = "WriteThrottleEvents" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = metric_query.value
        dimensions  = each.value
        period      = var.alarms.period_seconds
        stat        = "Sum"
      }
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "system_errors" {
  count = var.alarms.enabled ? 1 : 0

  alarm_name          = "${var.name}-system-errors"
  alarm_description   = "DynamoDB answered requests to ${var.name} with internal errors (HTTP 500) in ${var.alarms.datapoints_to_alarm} of the last ${var.alarms.evaluation_periods} periods of ${var.alarms.period_seconds} s. The SDK retries them; if it persists, check the AWS Health Dashboard for DynamoDB in this region."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.system_errors_threshold
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions

  metric_query {
    id          = "system_errors"
    expression  = "SUM(METRICS())"
    label       = "System errors"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = var.alarms.system_error_operations
    content {
      id = "op${metric_query.key}"
      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = "SystemErrors"
        dimensions  = { TableName = local.table.name, Operation = metric_query.value }
        period      = var.alarms.period_seconds
        stat        = "Sum"
      }
    }
  }

  tags = var.tags
}
