# Order outcomes on a custom bus, delivered to a queue; undeliverable events go
# to that queue's dead-letter queue.

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
  description = "Prefix of the example's bus, rule and queue names."
  type        = string
  default     = "example-orders"
}

variable "transform_input" {
  description = "Deliver a small {order_id, outcome} document instead of the whole event."
  type        = bool
  default     = true
}

module "order_outcomes" {
  source = "../../"

  name        = "${var.name}-outcomes"
  description = "Confirmed and rejected orders to the outcomes queue."
  bus         = { name = "${var.name}-bus", create = true }
  event_pattern = jsonencode({
    source        = ["orders"]
    "detail-type" = ["OrderConfirmed", "OrderRejected"]
  })

  targets = {
    outcomes-queue = {
      type                  = "sqs"
      arn                   = module.queue.queue_arn
      dead_letter_queue_arn = module.queue.dlq_arn
      retry_policy          = { maximum_retry_attempts = 10, maximum_event_age_in_seconds = 3600 }
      input_transformer = var.transform_input ? {
        input_paths = { order_id = "$.detail.order_id", outcome = "$.detail-type" }
        # Placeholders inside quotes: both values are strings.
        input_template = "{\"order_id\": \"<order_id>\", \"outcome\": \"<outcome>\"}"
      } : null
    }
  }

  tags = { example = "event-rule" }
}

module "queue" {
  source = "../../../queue-with-dlq"

  name   = "${var.name}-outcomes"
  alarms = { enabled = false }

  # The rule may send to the queue, and to the DLQ for events it cannot deliver.
  allowed_senders     = module.order_outcomes.sqs_allowed_senders
  dlq_allowed_senders = module.order_outcomes.sqs_allowed_senders

  tags = { example = "event-rule" }
}

output "rule_arn" {
  description = "Rule ARN."
  value       = module.order_outcomes.rule_arn
}

output "rule_name" {
  description = "Rule name."
  value       = module.order_outcomes.rule_name
}

output "bus_name" {
  description = "Bus name."
  value       = module.order_outcomes.bus_name
}

output "bus_arn" {
  description = "Bus ARN."
  value       = module.order_outcomes.bus_arn
}

output "target_ids" {
  description = "Target ids."
  value       = module.order_outcomes.target_ids
}

output "queue_url" {
  description = "Target queue URL."
  value       = module.queue.queue_url
}

output "queue_arn" {
  description = "Target queue ARN."
  value       = module.queue.queue_arn
}

output "dlq_url" {
  description = "Dead-letter queue URL."
  value       = module.queue.dlq_url
}

output "dlq_arn" {
  description = "Dead-letter queue ARN."
  value       = module.queue.dlq_arn
}
