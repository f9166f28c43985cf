# The platform's single table: pk/sk, one GSI by customer, TTL, a stream.

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
  description = "Name of the example table."
  type        = string
  default     = "example-orders"
}

variable "deletion_protection" {
  description = "Passed to the module; the apply test turns it off to destroy the table afterwards."
  type        = bool
  default     = true
}

module "table" {
  source = "../../"

  name      = var.name
  hash_key  = { name = "pk", type = "S" }
  range_key = { name = "sk", type = "S" }

  global_secondary_indexes = [
    {
      name      = "by-customer"
      hash_key  = { name = "gsi1pk", type = "S" }
      range_key = { name = "gsi1sk", type = "S" }
    },
  ]

  ttl_attribute_name  = "expires_at"
  stream_view_type    = "NEW_AND_OLD_IMAGES"
  deletion_protection = var.deletion_protection

  tags = { example = "dynamo-table" }
}

output "table_name" {
  description = "Table name."
  value       = module.table.table_name
}

output "table_arn" {
  description = "Table ARN."
  value       = module.table.table_arn
}

output "stream_arn" {
  description = "Stream ARN."
  value       = module.table.stream_arn
}

output "index_arns" {
  description = "Index name to ARN."
  value       = module.table.index_arns
}

output "global_secondary_index_names" {
  description = "GSI names."
  value       = module.table.global_secondary_index_names
}
