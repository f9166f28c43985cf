# The function's alarms. Missing data is "not breaching" in each: a function nobody invokes has
# no errors, no throttles and no slow invocations, and a quiet hour must not look like trouble.

locals {
  alarms     = var.alarms.enabled
  dimensions = { FunctionName = aws_lambda_function.this.function_name }
}

resource "aws_cloudwatch_metric_alarm" "error_rate" {
  count = local.alarms ? 1 : 0

  alarm_name          = "${var.function_name}-error-rate"
  alarm_description   = "Over ${var.alarms.error_rate_threshold_pct}% of ${var.function_name}'s invocations failed in ${var.alarms.datapoints_to_alarm} of the last ${var.alarms.evaluation_periods} periods of ${var.alarms.period_seconds} s (periods with fewer than ${var.alarms.error_rate_min_invocations} invocations count as 0 %). Read the errors in its log group ${aws_cloudwatch_log_group.this.name}."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.error_rate_threshold_pct
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions

  metric_query {
    id          = "error_rate"
    expression  = "IF(invocations >= ${var.alarms.error_rate_min_invocations}, 100 * errors / invocations, 0)"
    label       = "Errors (% of invocations)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = local.dimensions
      period      = var.alarms.period_seconds
      stat        = "Sum"
    }
  }

  metric_query {
    id = "invocations"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      dimensions  = local.dimensions
      period      = var.alarms.period_seconds
      stat        = "Sum"
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  count = local.alarms ? 1 : 0

  alarm_name          = "${var.function_name}-throttles"
  alarm_description   = "Invocations of ${var.function_name} were throttled in ${var.alarms.datapoints_to_alarm} of the last ${var.alarms.evaluation_periods} periods: its reserved concurrency, an event source's maximum concurrency or the account's concurrency is exhausted."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = local.dimensions
  statistic           = "Sum"
  period              = var.alarms.period_seconds
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.throttles_threshold
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "duration_p99" {
  count = local.alarms ? 1 : 0

  alarm_name          = "${var.function_name}-duration-p99"
  alarm_description   = "The p99 duration of ${var.function_name} exceeded ${var.alarms.duration_p99_timeout_pct}% of its ${var.timeout} s timeout in ${var.alarms.datapoints_to_alarm} of the last ${var.alarms.evaluation_periods} periods: invocations are about to time out. Look for a slow dependency in its traces."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = local.dimensions
  extended_statistic  = "p99"
  period              = var.alarms.period_seconds
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.timeout * 1000 * var.alarms.duration_p99_timeout_pct / 100
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  for_each = local.alarms ? local.stream_sources : {}

  alarm_name          = "${var.function_name}-${each.key}-iterator-age"
  alarm_description   = "${var.function_name} is behind on stream ${each.key}: the newest record it read was over ${var.alarms.iterator_age_threshold_seconds} s old in ${var.alarms.datapoints_to_alarm} of the last ${var.alarms.evaluation_periods} periods. A failing batch blocks its shard until it succeeds or expires."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = local.dimensions
  statistic           = "Maximum"
  period              = var.alarms.period_seconds
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.iterator_age_threshold_seconds * 1000
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions
  tags                = var.tags
}
