data "aws_caller_identity" "current" {}

locals {
  role_name      = coalesce(var.role_name, "${var.function_name}-role")
  tracing_active = var.tracing_mode == "Active"

  dynamodb_read_actions = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
  ]
  dynamodb_write_actions = [
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
  ]

  # The exact actions each access type grants; nothing else reaches the role. The item-level
  # DynamoDB types let a function hold exactly the calls it makes (tools/iam checks that every
  # grant of the stack's functions is used); the broad dynamodb_read/_write/_read_write remain
  # for callers that want them.
  access_actions = {
    dynamodb_read        = local.dynamodb_read_actions
    dynamodb_write       = local.dynamodb_write_actions
    dynamodb_read_write  = sort(distinct(concat(local.dynamodb_read_actions, local.dynamodb_write_actions)))
    dynamodb_get_item    = ["dynamodb:GetItem"]
    dynamodb_batch_get   = ["dynamodb:BatchGetItem"]
    dynamodb_query       = ["dynamodb:Query"]
    dynamodb_put_item    = ["dynamodb:PutItem"]
    dynamodb_update_item = ["dynamodb:UpdateItem"]
    dynamodb_delete_item = ["dynamodb:DeleteItem"]
    dynamodb_batch_write = ["dynamodb:BatchWriteItem"]
    # What powertools' idempotency persistence layer calls (DynamoDBPersistenceLayer).
    dynamodb_idempotency = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    # SQS authorises SendMessageBatch as SendMessage.
    sqs_send     = ["sqs:SendMessage"]
    events_put   = ["events:PutEvents"]
    ses_send     = ["ses:SendEmail"]
    ses_send_raw = ["ses:SendRawEmail"]
    s3_read      = ["s3:GetObject", "s3:GetObjectVersion"]
    kms_decrypt  = ["kms:Decrypt", "kms:GenerateDataKey"]
    sns_publish  = ["sns:Publish"]
  }

  # What the role needs to deliver to a destination, by the service in its ARN.
  destination_actions = {
    sqs    = ["sqs:SendMessage"]
    sns    = ["sns:Publish"]
    lambda = ["lambda:InvokeFunction"]
    events = ["events:PutEvents"]
  }

  sqs_sources    = { for k, s in var.event_sources : k => s if s.type == "sqs" }
  stream_sources = { for k, s in var.event_sources : k => s if s.type == "dynamodb_stream" }
  stream_failure_destinations = {
    for k, s in local.stream_sources : k => s.on_failure_destination_arn if s.on_failure_destination_arn != null
  }
  async_failure_destination = try(var.async_invocation.on_failure_destination_arn, null)
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:KMS for logs is optional (log_kms_key_arn); without it CloudWatch Logs encrypts with its own keys
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (log_retention_in_days, validated); not every environment needs a year
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    # Only the Lambda service acting for this account may assume the role.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "Execution role of the ${var.function_name} function."
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "permissions" {
  # The module creates the log group, so logs:CreateLogGroup is not granted.
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = local.tracing_active ? [1] : []
    content {
      sid     = "WriteTraces"
      actions = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      # X-Ray has no resource-level permissions for these actions: "*" is the only valid resource.
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.accesses
    content {
      sid       = format("Access%d%s", statement.key, replace(title(replace(statement.value.type, "_", " ")), " ", ""))
      actions   = local.access_actions[statement.value.type]
      resources = statement.value.resources

      # Only items whose partition key matches one of these patterns.
      dynamic "condition" {
        for_each = statement.value.leading_keys == null ? [] : [statement.value.leading_keys]
        content {
          test     = "ForAllValues:StringLike"
          variable = "dynamodb:LeadingKeys"
          values   = condition.value
        }
      }
    }
  }

  dynamic "statement" {
    for_each = local.sqs_sources
    content {
      sid = "ConsumeQueue${replace(title(replace(statement.key, "/[^A-Za-z0-9]+/", " ")), " ", "")}"
      # What Lambda's poller calls with the role (AWS documents no other).
      actions   = ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
      resources = [statement.value.event_source_arn]
    }
  }

  dynamic "statement" {
    for_each = local.stream_sources
    content {
      sid       = "ReadStream${replace(title(replace(statement.key, "/[^A-Za-z0-9]+/", " ")), " ", "")}"
      actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
      resources = [statement.value.event_source_arn]
    }
  }

  dynamic "statement" {
    for_each = local.stream_failure_destinations
    content {
      sid       = "StreamFailures${replace(title(replace(statement.key, "/[^A-Za-z0-9]+/", " ")), " ", "")}"
      actions   = local.destination_actions[split(":", statement.value)[2]]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.async_failure_destination == null ? [] : [local.async_failure_destination]
    content {
      sid       = "AsyncFailures"
      actions   = local.destination_actions[split(":", statement.value)[2]]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-permissions"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions talk only to AWS APIs over TLS with IAM auth; a VPC adds NAT cost and cold-start latency and protects nothing here
  #checkov:skip=CKV_AWS_272:Code signing needs AWS Signer profiles the kit does not manage; integrity is pinned by source_code_hash from the build manifest
  #checkov:skip=CKV_AWS_173:Environment variables are encrypted at rest by Lambda's service key; kms_key_arn opts into a customer managed key, and secrets never go in variables
  #checkov:skip=CKV_AWS_116:No DLQ on purpose: async failures go to the on-failure destination (async_invocation), SQS-triggered failures to the queue's own DLQ
  #checkov:skip=CKV_AWS_115:Reserved concurrency is the caller's choice (reserved_concurrent_executions, default -1 = unreserved); reserving by default would take from the account pool
  function_name = var.function_name
  description   = var.description
  role          = aws_iam_role.this.arn
  handler       = var.handler
  runtime       = var.runtime
  architectures = [var.architecture]
  memory_size   = var.memory_size
  timeout       = var.timeout

  filename          = var.package.filename
  s3_bucket         = var.package.s3_bucket
  s3_key            = var.package.s3_key
  s3_object_version = var.package.s3_object_version
  source_code_hash  = var.package.source_code_hash

  # Every change publishes an immutable version for the alias to point at.
  publish                        = true
  layers                         = var.layers
  kms_key_arn                    = var.kms_key_arn
  reserved_concurrent_executions = var.reserved_concurrent_executions

  ephemeral_storage {
    size = var.ephemeral_storage_size
  }

  dynamic "environment" {
    for_each = length(var.environment_variables) > 0 ? [var.environment_variables] : []
    content {
      variables = environment.value
    }
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "snap_start" {
    for_each = var.snap_start ? [1] : []
    content {
      apply_on = "PublishedVersions"
    }
  }

  tags = var.tags

  # The first invocation must find its log group and a role that may write to it.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_alias" "this" {
  name             = var.alias_name
  description      = "Published version that callers and event sources invoke."
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

resource "aws_lambda_provisioned_concurrency_config" "this" {
  count = var.provisioned_concurrent_executions > 0 ? 1 : 0

  function_name                     = aws_lambda_alias.this.function_name
  qualifier                         = aws_lambda_alias.this.name
  provisioned_concurrent_executions = var.provisioned_concurrent_executions
}

resource "aws_lambda_event_source_mapping" "this" {
  for_each = var.event_sources

  # The alias, so the live version and its provisioned concurrency handle the records.
  function_name    = aws_lambda_alias.this.arn
  event_source_arn = each.value.event_source_arn
  enabled          = each.value.enabled

  batch_size                         = coalesce(each.value.batch_size, each.value.type == "sqs" ? 10 : 100)
  maximum_batching_window_in_seconds = each.value.maximum_batching_window_in_seconds
  function_response_types            = each.value.report_batch_item_failures ? ["ReportBatchItemFailures"] : null

  dynamic "scaling_config" {
    for_each = each.value.maximum_concurrency == null ? [] : [each.value.maximum_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }

  dynamic "filter_criteria" {
    for_each = length(each.value.filter_patterns) > 0 ? [each.value.filter_patterns] : []
    content {
      dynamic "filter" {
        for_each = filter_criteria.value
        content {
          pattern = filter.value
        }
      }
    }
  }

  starting_position              = each.value.type == "sqs" ? null : coalesce(each.value.starting_position, "LATEST")
  bisect_batch_on_function_error = each.value.type == "sqs" ? null : coalesce(each.value.bisect_batch_on_function_error, true)
  maximum_retry_attempts         = each.value.maximum_retry_attempts
  maximum_record_age_in_seconds  = each.value.maximum_record_age_in_seconds
  parallelization_factor         = each.value.type == "sqs" ? null : coalesce(each.value.parallelization_factor, 1)

  dynamic "destination_config" {
    for_each = each.value.on_failure_destination_arn == null ? [] : [each.value.on_failure_destination_arn]
    content {
      on_failure {
        destination_arn = destination_config.value
      }
    }
  }

  tags = var.tags

  # Lambda checks at creation that the role may read the source.
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.async_invocation == null ? 0 : 1

  function_name                = aws_lambda_alias.this.function_name
  qualifier                    = aws_lambda_alias.this.name
  maximum_retry_attempts       = var.async_invocation.maximum_retry_attempts
  maximum_event_age_in_seconds = var.async_invocation.maximum_event_age_in_seconds

  dynamic "destination_config" {
    for_each = local.async_failure_destination == null ? [] : [local.async_failure_destination]
    content {
      on_failure {
        destination = destination_config.value
      }
    }
  }

  depends_on = [aws_iam_role_policy.this]
}
