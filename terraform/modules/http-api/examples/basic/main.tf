# Two routes onto one function's "live" alias. The function is a bare stand-in
# (the lambda module is the real thing); the zip comes from -var.

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
  description = "Name of the example API and function."
  type        = string
  default     = "example-orders-api"
}

variable "function_zip_path" {
  description = "Path of the function's deployment package (a zip with handler.py)."
  type        = string
}

variable "function_zip_sha256" {
  description = "Base64-encoded SHA-256 of the zip (filebase64sha256), so a new zip is deployed."
  type        = string
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "function" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }

  # X-Ray has no resource-level permissions for these actions.
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "function" {
  name               = "${var.name}-fn"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "function" {
  name   = "logs-and-tracing"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:Example stand-in function; CloudWatch Logs encrypts at rest by default
  #checkov:skip=CKV_AWS_338:Example stand-in function; a week of logs is enough for an example
  name              = "/aws/lambda/${var.name}"
  retention_in_days = 7
}

resource "aws_lambda_function" "orders" {
  #checkov:skip=CKV_AWS_116:Stand-in for the lambda module in this example; invoked synchronously by API Gateway, so a DLQ would never be used
  #checkov:skip=CKV_AWS_117:Stand-in for the lambda module in this example; it reaches no VPC resources
  #checkov:skip=CKV_AWS_115:Stand-in for the lambda module in this example; the stage throttling bounds its concurrency
  #checkov:skip=CKV_AWS_272:Stand-in for the lambda module in this example; its zip is written by the test, not signed
  function_name    = var.name
  role             = aws_iam_role.function.arn
  runtime          = "python3.12"
  handler          = "handler.handler"
  filename         = var.function_zip_path
  source_code_hash = var.function_zip_sha256
  publish          = true
  timeout          = 10

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.orders.function_name
  function_version = aws_lambda_function.orders.version
}

module "api" {
  source = "../../"

  name        = var.name
  description = "Example order API."

  routes = {
    "POST /orders" = {
      function_invoke_arn  = aws_lambda_alias.live.invoke_arn
      function_name        = aws_lambda_function.orders.function_name
      function_qualifier   = aws_lambda_alias.live.name
      timeout_milliseconds = 10000
    }
    "GET /orders/{order_id}" = {
      function_invoke_arn  = aws_lambda_alias.live.invoke_arn
      function_name        = aws_lambda_function.orders.function_name
      function_qualifier   = aws_lambda_alias.live.name
      timeout_milliseconds = 10000
    }
  }

  throttling = { burst_limit = 50, rate_limit = 20 }

  tags = { example = "http-api" }
}

output "api_id" {
  description = "API ID."
  value       = module.api.api_id
}

output "api_endpoint" {
  description = "API endpoint."
  value       = module.api.api_endpoint
}

output "stage_invoke_url" {
  description = "Stage invoke URL."
  value       = module.api.stage_invoke_url
}

output "execution_arn" {
  description = "Execution ARN."
  value       = module.api.execution_arn
}

output "log_group_arn" {
  description = "Access log group ARN."
  value       = module.api.log_group_arn
}

output "log_group_name" {
  description = "Access log group name."
  value       = module.api.log_group_name
}

output "route_ids" {
  description = "Route key to route ID."
  value       = module.api.route_ids
}

output "integration_ids" {
  description = "Function to integration ID."
  value       = module.api.integration_ids
}

output "function_name" {
  description = "Function name."
  value       = aws_lambda_function.orders.function_name
}

output "alias_name" {
  description = "Alias the routes invoke."
  value       = aws_lambda_alias.live.name
}

output "alias_invoke_arn" {
  description = "Invoke ARN of the alias."
  value       = aws_lambda_alias.live.invoke_arn
}
