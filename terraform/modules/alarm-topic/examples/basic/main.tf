# An alarm topic mailed to on-call, paging only on the composite alarm, with one alarm that
# notifies it on ALARM and on OK.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region to create the example in."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Name of the example topic."
  type        = string
  default     = "example-alarms"
}

module "alarm_topic" {
  source = "../../"

  name = var.name
  subscriptions = [
    { protocol = "email", endpoint = "oncall@example.com" },
    { protocol = "https", endpoint = "https://pager.example.com/hook", alarm_names = ["${var.name}-unhealthy"] },
  ]

  tags = { example = "alarm-topic" }
}

resource "aws_cloudwatch_metric_alarm" "queue_backlog" {
  alarm_name          = "${var.name}-backlog"
  alarm_description   = "An example alarm that notifies the topic."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = "example-orders" }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 100
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [module.alarm_topic.topic_arn]
  ok_actions          = [module.alarm_topic.topic_arn]
}

output "topic_arn" {
  description = "ARN of the alarm topic."
  value       = module.alarm_topic.topic_arn
}

output "kms_key_arn" {
  description = "ARN of the topic's key."
  value       = module.alarm_topic.kms_key_arn
}

output "alarm_name" {
  description = "Name of the example alarm."
  value       = aws_cloudwatch_metric_alarm.queue_backlog.alarm_name
}
