# The environment's monthly budget (budget.tf) and the alarms of alarms.tf that no module
# makes, planned with a mocked AWS provider:
# override_during = plan gives the alarm topic a known ARN to compare with.
mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "333333333333" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:333333333333:orders-prod-alarms" }
  }
}

variables {
  environment         = "prod"
  notification_sender = "orders@example.com"
  monthly_budget_usd  = 1500
  alarm_subscriptions = [{ protocol = "email", endpoint = "oncall@example.com" }]
  artifacts = {
    for name in ["orders_api", "order_processor", "notifier", "pre_traffic_hook", "layer"] : name => {
      s3_bucket        = "artifacts"
      s3_key           = "artifacts/${name}.zip"
      source_code_hash = "lSyBCdUna4Up6YC+AydMJ7Irc63YDGp2LvFlIpMcvSU="
    }
  }
}

run "a_monthly_cost_budget_notifies_the_alarm_topic_at_80_percent_forecast_and_100_percent_actual" {
  command = plan

  assert {
    condition = (
      aws_budgets_budget.monthly.name == "orders-prod-monthly" &&
      aws_budgets_budget.monthly.budget_type == "COST" &&
      aws_budgets_budget.monthly.time_unit == "MONTHLY" &&
      aws_budgets_budget.monthly.limit_amount == "1500.00" &&
      aws_budgets_budget.monthly.limit_unit == "USD"
    )
    error_message = "the budget is not a monthly cost budget of 1500.00 USD named orders-prod-monthly"
  }

  assert {
    condition = toset([for n in aws_budgets_budget.monthly.notification : "${n.notification_type} ${n.threshold} ${n.threshold_type} ${n.comparison_operator}"]) == toset([
      "FORECASTED 80 PERCENTAGE GREATER_THAN",
      "ACTUAL 100 PERCENTAGE GREATER_THAN",
    ])
    error_message = "the budget must notify at 80 % of the forecast and 100 % of the actual cost"
  }

  assert {
    condition     = alltrue([for n in aws_budgets_budget.monthly.notification : n.subscriber_sns_topic_arns == toset([module.alarm_topic[0].topic_arn])])
    error_message = "every budget notification must go to the environment's alarm topic"
  }

  assert {
    condition     = contains(local.alarm_topic_publishers, "budgets.amazonaws.com")
    error_message = "the alarm topic's key and policy must admit AWS Budgets as a publisher"
  }
}

run "without_alarms_the_budget_stands_alone" {
  command = plan

  variables {
    environment         = "local"
    alarms_enabled      = false
    alarm_subscriptions = []
  }

  assert {
    condition     = length(aws_budgets_budget.monthly.notification) == 0 && aws_budgets_budget.monthly.name == "orders-local-monthly"
    error_message = "with alarms off there is no topic, so the budget has no notifications"
  }
}

run "a_budget_must_be_a_positive_amount" {
  command = plan

  variables {
    monthly_budget_usd = 0
  }

  expect_failures = [var.monthly_budget_usd]
}

run "an_uncertain_notification_alarms_the_topic_at_once_and_does_not_page" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.notifications_uncertain[0].alarm_name == "orders-prod-notifications-uncertain" &&
      aws_cloudwatch_metric_alarm.notifications_uncertain[0].namespace == "OrdersPlatform" &&
      aws_cloudwatch_metric_alarm.notifications_uncertain[0].metric_name == "NotificationsUncertain" &&
      aws_cloudwatch_metric_alarm.notifications_uncertain[0].dimensions == tomap({ environment = "prod", service = "notifier" }) &&
      aws_cloudwatch_metric_alarm.notifications_uncertain[0].threshold == 0 &&
      aws_cloudwatch_metric_alarm.notifications_uncertain[0].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.notifications_uncertain[0].treat_missing_data == "notBreaching"
    )
    error_message = "the first NotificationsUncertain of the notifier in 5 minutes must alarm"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.notifications_uncertain[0].alarm_actions == toset(["arn:aws:sns:eu-west-1:333333333333:orders-prod-alarms"])
    error_message = "the alarm must notify the environment's alarm topic"
  }

  assert {
    condition     = !strcontains(aws_cloudwatch_composite_alarm.unhealthy[0].alarm_rule, "notifications-uncertain")
    error_message = "an uncertain notification blocks no order: it must not page through the composite alarm"
  }
}
