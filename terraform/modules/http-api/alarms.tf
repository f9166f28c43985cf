# The API's alarms, on the $default stage. Missing data is "not breaching": an API nobody calls
# answers no 5xx and is not slow.

locals {
  alarm_dimensions = { ApiId = aws_apigatewayv2_api.this.id, Stage = aws_apigatewayv2_stage.default.name }
}

resource "aws_cloudwatch_metric_alarm" "server_error_rate" {
  count = var.alarms.enabled ? 1 : 0

  alarm_name          = "${var.name}-5xx-rate"
  alarm_description   = "Over ${var.alarms.server_error_rate_threshold_pct}% of the requests to ${var.name} were answered 5xx in ${var.alarms.datapoints_to_alarm} of the last ${var.alarms.evaluation_periods} periods of ${var.alarms.period_seconds} s (periods with fewer than ${var.alarms.min_requests} requests count as 0 %). Clients are failing: check the integration's function errors and the access log ${aws_cloudwatch_log_group.access.name}."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.server_error_rate_threshold_pct
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions

  metric_query {
    id          = "server_error_rate"
    expression  = "IF(requests >= ${var.alarms.min_requests}, 100 * server_errors / requests, 0)"
    label       = "5xx (% of requests)"
    return_data = true
  }

  metric_query {
    id = "server_errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5xx"
      dimensions  = local.alarm_dimensions
      period      = var.alarms.period_seconds
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = local.alarm_dimensions
      period      = var.alarms.period_seconds
      stat        = "Sum"
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  count = var.alarms.enabled ? 1 : 0

  alarm_name          = "${var.name}-latency-p99"
  alarm_description   = "The p99 latency of ${var.name} exceeded ${var.alarms.latency_p99_threshold_ms} ms in ${var.alarms.datapoints_to_alarm} of the last ${var.alarms.evaluation_periods} periods of ${var.alarms.period_seconds} s: clients wait. Compare IntegrationLatency (the function) with Latency (the gateway)."
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = local.alarm_dimensions
  extended_statistic  = "p99"
  period              = var.alarms.period_seconds
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.latency_p99_threshold_ms
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.datapoints_to_alarm
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions
  tags                = var.tags
}
