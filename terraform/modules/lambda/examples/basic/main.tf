# An SQS-triggered order processor that writes to a DynamoDB table: the
# function, its live alias, role, log group and event source mapping. The zip is
# built outside Terraform; pass its path and base64 SHA-256:
#   terraform apply -var filename=dist/processor.zip \
#     -var source_code_hash=$(openssl dgst -sha256 -binary dist/processor.zip | base64)

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
  description = "Prefix of the example's resource names."
  type        = string
  default     = "example-orders"
}

variable "filename" {
  description = "Path of the prebuilt function zip."
  type        = string
}

variable "source_code_hash" {
  description = "Base64-encoded SHA-256 of the zip."
  type        = string
}

variable "snap_start" {
  description = "SnapStart on the published version. Passed to the module; turn off on emulators that reject it."
  type        = bool
  default     = true
}

variable "provisioned_concurrent_executions" {
  description = "Warm environments on the alias (0 = off; not together with snap_start). moto answers 404 to provisioned concurrency, so the apply test keeps 0."
  type        = number
  default     = 0
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  function_timeout = 30
}

resource "aws_dynamodb_table" "orders" {
  #checkov:skip=CKV_AWS_119:Example table; SSE-KMS with the AWS managed key (aws/dynamodb) is on. Production tables come from the dynamo-table module
  name         = "${var.name}-table"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "customer_id"
    type = "S"
  }

  global_secondary_index {
    name            = "by-customer"
    hash_key        = "customer_id"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_sqs_queue" "orders_dlq" {
  name                      = "${var.name}-queue-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true

  # Only the orders queue may use this queue as its DLQ.
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = ["arn:${data.aws_partition.current.partition}:sqs:${var.region}:${data.aws_caller_identity.current.account_id}:${var.name}-queue"]
  })
}

resource "aws_sqs_queue" "orders" {
  name                       = "${var.name}-queue"
  visibility_timeout_seconds = 6 * local.function_timeout
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.orders_dlq.arn
    maxReceiveCount     = 3
  })
}

module "function" {
  source = "../../"

  function_name = "${var.name}-processor"
  description   = "Processes order messages in batches."
  handler       = "app.handler"
  package = {
    filename         = var.filename
    source_code_hash = var.source_code_hash
  }
  runtime      = "python3.12"
  architecture = "arm64"
  memory_size  = 512
  timeout      = local.function_timeout

  environment_variables = {
    TABLE_NAME              = aws_dynamodb_table.orders.name
    POWERTOOLS_SERVICE_NAME = "orders"
  }

  accesses = [
    {
      type      = "dynamodb_read_write"
      resources = [aws_dynamodb_table.orders.arn, "${aws_dynamodb_table.orders.arn}/index/by-customer"]
    },
  ]

  event_sources = {
    orders = {
      type                       = "sqs"
      event_source_arn           = aws_sqs_queue.orders.arn
      batch_size                 = 5
      report_batch_item_failures = true
    }
  }

  # Failed asynchronous invocations land in the queue's DLQ.
  async_invocation = {
    maximum_retry_attempts     = 1
    on_failure_destination_arn = aws_sqs_queue.orders_dlq.arn
  }

  snap_start                        = var.snap_start
  provisioned_concurrent_executions = var.provisioned_concurrent_executions
  log_retention_in_days             = 14

  tags = { example = "lambda" }
}

output "function_name" {
  description = "Function name."
  value       = module.function.function_name
}

output "function_arn" {
  description = "Function ARN."
  value       = module.function.function_arn
}

output "function_version" {
  description = "Published version behind the alias."
  value       = module.function.function_version
}

output "alias_arn" {
  description = "Alias ARN (the event source mapping's target)."
  value       = module.function.alias_arn
}

output "alias_name" {
  description = "Alias name."
  value       = module.function.alias_name
}

output "role_name" {
  description = "Execution role name."
  value       = module.function.role_name
}

output "log_group_name" {
  description = "Log group name."
  value       = module.function.log_group_name
}

output "event_source_mapping_uuids" {
  description = "Event source mapping UUIDs by key."
  value       = module.function.event_source_mapping_uuids
}

output "code_sha256" {
  description = "CodeSha256 Lambda reports."
  value       = module.function.code_sha256
}

output "table_arn" {
  description = "Orders table ARN."
  value       = aws_dynamodb_table.orders.arn
}

output "queue_arn" {
  description = "Orders queue ARN."
  value       = aws_sqs_queue.orders.arn
}

output "dlq_arn" {
  description = "Dead-letter queue ARN (also the async on-failure destination)."
  value       = aws_sqs_queue.orders_dlq.arn
}
