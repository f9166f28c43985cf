# The environment's monthly AWS Budgets budget. Each environment has an AWS account of its own
# (docs/deploying.md), so the budget covers the account's whole cost, untagged spend included;
# a tag filter would see nothing until the cost-allocation tags are activated in Billing.
# Where alarms are on, it notifies the alarm topic (who hears the alarms hears it) when the
# month is forecast to reach 80 % of the budget and when it has spent 100 %.

locals {
  # AWS Budgets publishes to the alarm topic too, so its key and policy must admit it.
  alarm_topic_publishers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
  budget_notifications = {
    forecast_80 = { threshold = 80, type = "FORECASTED" }
    actual_100  = { threshold = 100, type = "ACTUAL" }
  }
}

resource "aws_budgets_budget" "monthly" {
  name         = "${local.name}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  dynamic "notification" {
    for_each = var.alarms_enabled ? local.budget_notifications : {}
    content {
      comparison_operator       = "GREATER_THAN"
      threshold                 = notification.value.threshold
      threshold_type            = "PERCENTAGE"
      notification_type         = notification.value.type
      subscriber_sns_topic_arns = module.alarm_topic[*].topic_arn
    }
  }

  tags = local.tags
}
