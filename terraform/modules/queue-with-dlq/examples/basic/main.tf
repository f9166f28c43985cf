# A queue consumed by a 30 s function, with its dead-letter queue and alarms.

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
  description = "Name of the example queue."
  type        = string
  default     = "example-orders"
}

module "queue" {
  source = "../../"

  name                     = var.name
  consumer_timeout_seconds = 30
  max_receive_count        = 3

  tags = { example = "queue-with-dlq" }
}

output "queue_url" {
  description = "Main queue URL."
  value       = module.queue.queue_url
}

output "queue_arn" {
  description = "Main queue ARN."
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
