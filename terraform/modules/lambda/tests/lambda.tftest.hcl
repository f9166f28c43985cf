# Plan-only tests with a mocked AWS provider. override_during = plan gives the
# computed attributes (ARNs, version) known values at plan time.
mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
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
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-api" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/orders-api-role" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:eu-west-1:123456789012:function:orders-api"
      qualified_arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders-api:3"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:orders-api/invocations"
      version       = "3"
      code_sha256   = "lSyBCdUna4Up6YC+AydMJ7Irc63YDGp2LvFlIpMcvSU="
    }
  }
  mock_resource "aws_lambda_alias" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live/invocations"
    }
  }
  mock_resource "aws_lambda_event_source_mapping" {
    defaults = { uuid = "0b3e0a6e-1111-2222-3333-444455556666" }
  }
}

variables {
  function_name = "orders-api"
  handler       = "orders_api.app.handler"
  package = {
    filename         = "dist/orders_api.zip"
    source_code_hash = "lSyBCdUna4Up6YC+AydMJ7Irc63YDGp2LvFlIpMcvSU="
  }
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.publish && aws_lambda_function.this.runtime == "python3.13" && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "publishes versions, python3.13 on arm64 by default"
  }
  assert {
    condition     = aws_lambda_function.this.memory_size == 256 && aws_lambda_function.this.timeout == 30 && aws_lambda_function.this.ephemeral_storage[0].size == 512
    error_message = "default sizing: 256 MB, 30 s, 512 MB /tmp"
  }
  assert {
    condition     = aws_lambda_function.this.filename == "dist/orders_api.zip" && aws_lambda_function.this.source_code_hash == var.package.source_code_hash && aws_lambda_function.this.s3_bucket == null
    error_message = "the local zip and its hash are deployed"
  }
  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing is Active by default"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/orders-api"
    error_message = "logs are JSON, into the module's own log group"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "INFO" && aws_lambda_function.this.logging_config[0].system_log_level == "INFO"
    error_message = "log levels default to INFO"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/orders-api" && aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.kms_key_id == null
    error_message = "the log group is /aws/lambda/<name> with 30 days retention"
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1 && length(aws_lambda_function.this.snap_start) == 0 && length(aws_lambda_function.this.environment) == 0
    error_message = "unreserved, no SnapStart, no environment block by default"
  }
  assert {
    condition     = aws_lambda_function.this.kms_key_arn == null && length(aws_lambda_function.this.layers) == 0
    error_message = "no KMS key and no layers by default"
  }
  assert {
    condition     = aws_lambda_alias.this.name == "live" && aws_lambda_alias.this.function_version == "3"
    error_message = "the live alias points at the published version, not $LATEST"
  }
  assert {
    condition     = length(aws_lambda_provisioned_concurrency_config.this) == 0 && length(aws_lambda_event_source_mapping.this) == 0 && length(aws_lambda_function_event_invoke_config.this) == 0
    error_message = "no provisioned concurrency, event sources or async config by default"
  }
  assert {
    condition     = aws_iam_role.this.name == "orders-api-role" && aws_iam_role.this.permissions_boundary == null && aws_lambda_function.this.role == aws_iam_role.this.arn
    error_message = "the function runs with its own <name>-role"
  }
  assert {
    condition     = one(data.aws_iam_policy_document.assume_role.statement[0].principals).identifiers == toset(["lambda.amazonaws.com"]) && data.aws_iam_policy_document.assume_role.statement[0].actions == toset(["sts:AssumeRole"])
    error_message = "only Lambda may assume the role"
  }
  assert {
    condition     = one(data.aws_iam_policy_document.assume_role.statement[0].condition).variable == "aws:SourceAccount" && one(data.aws_iam_policy_document.assume_role.statement[0].condition).values == tolist(["123456789012"])
    error_message = "the trust policy is pinned to this account"
  }
  assert {
    condition     = length(data.aws_iam_policy_document.permissions.statement) == 2
    error_message = "by default the role may only write its logs and traces"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "WriteLogs"
      && s.actions == toset(["logs:CreateLogStream", "logs:PutLogEvents"])
      && s.resources == toset(["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-api:*"])
    ])
    error_message = "log permissions are limited to the function's own log group"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "WriteTraces" && s.actions == toset(["xray:PutTelemetryRecords", "xray:PutTraceSegments"]) && s.resources == toset(["*"])])
    error_message = "X-Ray permissions come with Active tracing"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.permissions.statement : alltrue([for a in s.actions : !strcontains(a, "*")])])
    error_message = "no wildcard actions"
  }
  assert {
    condition     = output.alias_invoke_arn == "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live/invocations" && output.architecture == "arm64"
    error_message = "outputs expose the alias invoke ARN and the architecture"
  }
}

run "passthrough_tracing_grants_no_xray" {
  command = plan

  variables {
    tracing_mode = "PassThrough"
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "PassThrough"
    error_message = "tracing mode is passed through"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.permissions.statement : s.sid] == ["WriteLogs"]
    error_message = "no X-Ray statement without Active tracing"
  }
}

run "accesses_become_one_exact_statement_each" {
  command = plan

  variables {
    accesses = [
      { type = "dynamodb_read_write", resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-customer"] },
      { type = "sqs_send", resources = ["arn:aws:sqs:eu-west-1:123456789012:orders"] },
      { type = "events_put", resources = ["arn:aws:events:eu-west-1:123456789012:event-bus/orders"] },
      { type = "ses_send", resources = ["arn:aws:ses:eu-west-1:123456789012:identity/example.com"] },
      { type = "dynamodb_read", resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/customers"] },
      { type = "dynamodb_write", resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/audit"] },
      { type = "s3_read", resources = ["arn:aws:s3:::orders-bucket/templates/*"] },
      { type = "kms_decrypt", resources = ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"] },
      { type = "sns_publish", resources = ["arn:aws:sns:eu-west-1:123456789012:alerts"] },
    ]
  }

  assert {
    condition     = length(data.aws_iam_policy_document.permissions.statement) == 11
    error_message = "logs + traces + one statement per access"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "Access0DynamodbReadWrite"
      && s.actions == toset([
        "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
        "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
      ])
      && s.resources == toset(["arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-customer"])
    ])
    error_message = "dynamodb_read_write grants read and write item actions on the table and its index only"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "Access1SqsSend" && s.actions == toset(["sqs:SendMessage"]) && s.resources == toset(["arn:aws:sqs:eu-west-1:123456789012:orders"])])
    error_message = "sqs_send grants exactly SendMessage"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "Access2EventsPut" && s.actions == toset(["events:PutEvents"])])
    error_message = "events_put grants exactly events:PutEvents"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "Access3SesSend" && s.actions == toset(["ses:SendEmail"])])
    error_message = "ses_send grants exactly SendEmail"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "Access4DynamodbRead" && s.actions == toset(["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query"])])
    error_message = "dynamodb_read grants exactly the read actions"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "Access5DynamodbWrite" && s.actions == toset(["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"])])
    error_message = "dynamodb_write grants exactly the write actions"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "Access6S3Read" && s.actions == toset(["s3:GetObject", "s3:GetObjectVersion"])]) && anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "Access7KmsDecrypt" && s.actions == toset(["kms:Decrypt", "kms:GenerateDataKey"])]) && anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "Access8SnsPublish" && s.actions == toset(["sns:Publish"])])
    error_message = "s3_read, kms_decrypt and sns_publish grant their exact actions"
  }
  assert {
    condition     = length(distinct([for s in data.aws_iam_policy_document.permissions.statement : s.sid])) == 11
    error_message = "statement ids are unique"
  }
}

run "item_level_dynamodb_accesses_with_leading_keys" {
  command = plan

  variables {
    accesses = [
      { type = "dynamodb_get_item", resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"], leading_keys = ["ORDER#*", "SKU#*"] },
      { type = "dynamodb_query", resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-customer"] },
      { type = "dynamodb_idempotency", resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"], leading_keys = ["orders-api.*"] },
      { type = "ses_send_raw", resources = ["arn:aws:ses:eu-west-1:123456789012:identity/example.com"] },
    ]
  }

  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "Access0DynamodbGetItem" && s.actions == toset(["dynamodb:GetItem"])
      && length(s.condition) == 1
      && anytrue([for c in s.condition : c.test == "ForAllValues:StringLike" && c.variable == "dynamodb:LeadingKeys" && toset(c.values) == toset(["ORDER#*", "SKU#*"])])
    ])
    error_message = "dynamodb_get_item grants GetItem on items whose partition key matches leading_keys only"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "Access1DynamodbQuery" && s.actions == toset(["dynamodb:Query"]) && length(s.condition) == 0
      && s.resources == toset(["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-customer"])
    ])
    error_message = "dynamodb_query grants Query on the index only, without a key condition"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "Access2DynamodbIdempotency"
      && s.actions == toset(["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"])
    ])
    error_message = "dynamodb_idempotency grants what powertools' persistence layer calls"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "Access3SesSendRaw" && s.actions == toset(["ses:SendRawEmail"])])
    error_message = "ses_send_raw grants exactly SendRawEmail"
  }
}

run "leading_keys_only_on_dynamodb_item_types" {
  command = plan

  variables {
    accesses = [{ type = "sqs_send", resources = ["arn:aws:sqs:eu-west-1:123456789012:orders"], leading_keys = ["ORDER#*"] }]
  }

  expect_failures = [var.accesses]
}

run "sqs_event_source_targets_the_alias" {
  command = plan

  variables {
    event_sources = {
      orders = {
        type                = "sqs"
        event_source_arn    = "arn:aws:sqs:eu-west-1:123456789012:orders"
        maximum_concurrency = 50
        filter_patterns     = ["{\"body\":{\"type\":[\"order_placed\"]}}"]
      }
    }
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this["orders"].function_name == "arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live"
    error_message = "the mapping invokes the alias"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this["orders"].batch_size == 10 && aws_lambda_event_source_mapping.this["orders"].maximum_batching_window_in_seconds == 0 && aws_lambda_event_source_mapping.this["orders"].enabled
    error_message = "SQS defaults: batch of 10, no batching window, enabled"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this["orders"].function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "partial batch failures are reported by default"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this["orders"].scaling_config[0].maximum_concurrency == 50
    error_message = "maximum concurrency is passed through"
  }
  assert {
    condition     = [for f in aws_lambda_event_source_mapping.this["orders"].filter_criteria[0].filter : f.pattern] == ["{\"body\":{\"type\":[\"order_placed\"]}}"]
    error_message = "filter patterns are passed through"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this["orders"].starting_position == null && aws_lambda_event_source_mapping.this["orders"].bisect_batch_on_function_error == null && length(aws_lambda_event_source_mapping.this["orders"].destination_config) == 0
    error_message = "stream-only settings stay unset on an SQS mapping"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "ConsumeQueueOrders"
      && s.actions == toset(["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"])
      && s.resources == toset(["arn:aws:sqs:eu-west-1:123456789012:orders"])
    ])
    error_message = "the role may consume exactly that queue"
  }
  assert {
    condition     = output.event_source_mapping_uuids == { orders = "0b3e0a6e-1111-2222-3333-444455556666" }
    error_message = "mapping UUIDs are output by key"
  }
}

run "sqs_event_source_without_partial_failures" {
  command = plan

  variables {
    event_sources = {
      orders = {
        type                               = "sqs"
        event_source_arn                   = "arn:aws:sqs:eu-west-1:123456789012:orders"
        batch_size                         = 100
        maximum_batching_window_in_seconds = 5
        report_batch_item_failures         = false
        enabled                            = false
      }
    }
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this["orders"].function_response_types == null && !aws_lambda_event_source_mapping.this["orders"].enabled
    error_message = "ReportBatchItemFailures can be turned off, and the mapping disabled"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this["orders"].batch_size == 100 && aws_lambda_event_source_mapping.this["orders"].maximum_batching_window_in_seconds == 5 && length(aws_lambda_event_source_mapping.this["orders"].scaling_config) == 0
    error_message = "a batch above 10 with a batching window, no concurrency cap"
  }
}

run "dynamodb_stream_event_source" {
  command = plan

  variables {
    event_sources = {
      order_changes = {
        type                          = "dynamodb_stream"
        event_source_arn              = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000"
        maximum_retry_attempts        = 5
        maximum_record_age_in_seconds = 3600
        on_failure_destination_arn    = "arn:aws:sqs:eu-west-1:123456789012:orders-stream-failures"
      }
      audit = {
        type                           = "dynamodb_stream"
        event_source_arn               = "arn:aws:dynamodb:eu-west-1:123456789012:table/audit/stream/2025-01-01T00:00:00.000"
        starting_position              = "TRIM_HORIZON"
        bisect_batch_on_function_error = false
        parallelization_factor         = 4
        batch_size                     = 500
        on_failure_destination_arn     = "arn:aws:sns:eu-west-1:123456789012:audit-failures"
      }
    }
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this["order_changes"].starting_position == "LATEST"
      && aws_lambda_event_source_mapping.this["order_changes"].bisect_batch_on_function_error == true
      && aws_lambda_event_source_mapping.this["order_changes"].parallelization_factor == 1
      && aws_lambda_event_source_mapping.this["order_changes"].batch_size == 100
    )
    error_message = "stream defaults: LATEST, bisect on error, parallelization 1, batch of 100"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this["order_changes"].maximum_retry_attempts == 5 && aws_lambda_event_source_mapping.this["order_changes"].maximum_record_age_in_seconds == 3600
    error_message = "retry and record age limits are passed through"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this["order_changes"].destination_config[0].on_failure[0].destination_arn == "arn:aws:sqs:eu-west-1:123456789012:orders-stream-failures"
    error_message = "the on-failure destination is set"
  }
  assert {
    condition = (
      aws_lambda_event_source_mapping.this["audit"].starting_position == "TRIM_HORIZON"
      && aws_lambda_event_source_mapping.this["audit"].bisect_batch_on_function_error == false
      && aws_lambda_event_source_mapping.this["audit"].parallelization_factor == 4
      && aws_lambda_event_source_mapping.this["audit"].batch_size == 500
      && aws_lambda_event_source_mapping.this["audit"].function_name == "arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live"
    )
    error_message = "stream settings are passed through and the alias is invoked"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "ReadStreamOrderChanges"
      && s.actions == toset(["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"])
      && s.resources == toset(["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000"])
    ])
    error_message = "the role may read exactly that stream"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "StreamFailuresOrderChanges" && s.actions == toset(["sqs:SendMessage"]) && s.resources == toset(["arn:aws:sqs:eu-west-1:123456789012:orders-stream-failures"])
    ])
    error_message = "the role may send failed batches to the SQS destination"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "StreamFailuresAudit" && s.actions == toset(["sns:Publish"]) && s.resources == toset(["arn:aws:sns:eu-west-1:123456789012:audit-failures"])
    ])
    error_message = "the role may publish failed batches to the SNS destination"
  }
}

run "async_invocation_on_the_alias" {
  command = plan

  variables {
    async_invocation = {
      maximum_retry_attempts       = 0
      maximum_event_age_in_seconds = 3600
      on_failure_destination_arn   = "arn:aws:events:eu-west-1:123456789012:event-bus/failures"
    }
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this[0].qualifier == "live"
      && aws_lambda_function_event_invoke_config.this[0].maximum_retry_attempts == 0
      && aws_lambda_function_event_invoke_config.this[0].maximum_event_age_in_seconds == 3600
    )
    error_message = "the async config applies to the alias"
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.this[0].destination_config[0].on_failure[0].destination == "arn:aws:events:eu-west-1:123456789012:event-bus/failures"
    error_message = "the on-failure destination is set"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.permissions.statement :
      s.sid == "AsyncFailures" && s.actions == toset(["events:PutEvents"]) && s.resources == toset(["arn:aws:events:eu-west-1:123456789012:event-bus/failures"])
    ])
    error_message = "the role may put failed events on that bus only"
  }
}

run "async_invocation_to_a_lambda_destination" {
  command = plan

  variables {
    async_invocation = {
      on_failure_destination_arn = "arn:aws:lambda:eu-west-1:123456789012:function:failure-handler"
    }
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this[0].maximum_retry_attempts == 2 && aws_lambda_function_event_invoke_config.this[0].maximum_event_age_in_seconds == 21600
    error_message = "AWS defaults for retries and age"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.permissions.statement : s.sid == "AsyncFailures" && s.actions == toset(["lambda:InvokeFunction"])])
    error_message = "a Lambda destination needs lambda:InvokeFunction"
  }
}

run "provisioned_concurrency_on_the_alias" {
  command = plan

  variables {
    provisioned_concurrent_executions = 5
    reserved_concurrent_executions    = 20
  }

  assert {
    condition     = aws_lambda_provisioned_concurrency_config.this[0].qualifier == "live" && aws_lambda_provisioned_concurrency_config.this[0].provisioned_concurrent_executions == 5
    error_message = "provisioned concurrency is configured on the alias"
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 20
    error_message = "reserved concurrency is passed through"
  }
}

run "snap_start_on_published_versions" {
  command = plan

  variables {
    snap_start = true
    runtime    = "python3.12"
  }

  assert {
    condition     = aws_lambda_function.this.snap_start[0].apply_on == "PublishedVersions" && aws_lambda_function.this.runtime == "python3.12"
    error_message = "SnapStart applies to published versions"
  }
  assert {
    condition     = length(aws_lambda_provisioned_concurrency_config.this) == 0
    error_message = "no provisioned concurrency alongside SnapStart"
  }
}

run "s3_package" {
  command = plan

  variables {
    package = {
      s3_bucket         = "artifacts-bucket"
      s3_key            = "orders_api/abc123.zip"
      s3_object_version = "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
      source_code_hash  = var.package.source_code_hash
    }
  }

  assert {
    condition = (
      aws_lambda_function.this.filename == null
      && aws_lambda_function.this.s3_bucket == "artifacts-bucket"
      && aws_lambda_function.this.s3_key == "orders_api/abc123.zip"
      && aws_lambda_function.this.s3_object_version == "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    )
    error_message = "the S3 object is deployed"
  }
}

run "options_are_passed_through" {
  command = plan

  variables {
    description              = "Orders HTTP API"
    architecture             = "x86_64"
    memory_size              = 1769
    timeout                  = 10
    ephemeral_storage_size   = 2048
    environment_variables    = { TABLE_NAME = "orders", POWERTOOLS_SERVICE_NAME = "orders" }
    layers                   = ["arn:aws:lambda:eu-west-1:123456789012:layer:deps:7"]
    kms_key_arn              = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    log_kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/9999abcd-12ab-34cd-56ef-1234567890ab"
    log_retention_in_days    = 365
    application_log_level    = "DEBUG"
    system_log_level         = "WARN"
    alias_name               = "prod"
    role_name                = "orders-api-exec"
    permissions_boundary_arn = "arn:aws:iam::123456789012:policy/platform-boundary"
    tags                     = { team = "orders" }
    event_sources = {
      orders = { type = "sqs", event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:orders" }
    }
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["x86_64"]) && aws_lambda_function.this.memory_size == 1769 && aws_lambda_function.this.timeout == 10 && aws_lambda_function.this.ephemeral_storage[0].size == 2048
    error_message = "sizing is passed through"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ TABLE_NAME = "orders", POWERTOOLS_SERVICE_NAME = "orders" }) && aws_lambda_function.this.kms_key_arn == var.kms_key_arn
    error_message = "environment variables are set and encrypted with the given key"
  }
  assert {
    condition     = aws_lambda_function.this.layers == tolist(["arn:aws:lambda:eu-west-1:123456789012:layer:deps:7"]) && aws_lambda_function.this.description == "Orders HTTP API"
    error_message = "layers and description are passed through"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.log_kms_key_arn && aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "log group encryption and retention are passed through"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "DEBUG" && aws_lambda_function.this.logging_config[0].system_log_level == "WARN"
    error_message = "log levels are passed through"
  }
  assert {
    condition     = aws_lambda_alias.this.name == "prod" && aws_iam_role.this.name == "orders-api-exec" && aws_iam_role.this.permissions_boundary == var.permissions_boundary_arn
    error_message = "alias name, role name and permissions boundary are passed through"
  }
  assert {
    condition = alltrue([
      aws_lambda_function.this.tags == tomap({ team = "orders" }),
      aws_iam_role.this.tags == tomap({ team = "orders" }),
      aws_cloudwatch_log_group.this.tags == tomap({ team = "orders" }),
      aws_lambda_event_source_mapping.this["orders"].tags == tomap({ team = "orders" }),
    ])
    error_message = "tags reach every taggable resource"
  }
}

# ---- validation: every wrong value fails at plan time ----

run "rejects_bad_function_name" {
  command = plan
  variables {
    function_name = "orders api!"
  }
  expect_failures = [var.function_name]
}

run "rejects_long_description" {
  command = plan
  variables {
    description = join("", [for i in range(257) : "x"])
  }
  expect_failures = [var.description]
}

run "rejects_two_code_sources" {
  command = plan
  variables {
    package = merge(var.package, { s3_bucket = "artifacts-bucket", s3_key = "orders_api.zip" })
  }
  expect_failures = [var.package]
}

run "rejects_no_code_source" {
  command = plan
  variables {
    package = { source_code_hash = var.package.source_code_hash }
  }
  expect_failures = [var.package]
}

run "rejects_s3_bucket_without_key" {
  command = plan
  variables {
    package = { s3_bucket = "artifacts-bucket", source_code_hash = var.package.source_code_hash }
  }
  expect_failures = [var.package]
}

run "rejects_non_zip_filename" {
  command = plan
  variables {
    package = merge(var.package, { filename = "dist/orders_api.tar.gz" })
  }
  expect_failures = [var.package]
}

run "rejects_hex_source_code_hash" {
  command = plan
  variables {
    package = merge(var.package, { source_code_hash = "9522c10a752b6b8529e980be03274c26c8ad73ad80c6a762ef16522531cbd253" })
  }
  expect_failures = [var.package]
}

run "rejects_handler_without_function" {
  command = plan
  variables {
    handler = "app"
  }
  expect_failures = [var.handler]
}

run "rejects_handler_with_a_path" {
  command = plan
  variables {
    handler = "src/app.py:handler"
  }
  expect_failures = [var.handler]
}

run "rejects_old_runtime" {
  command = plan
  variables {
    runtime = "python3.11"
  }
  expect_failures = [var.runtime]
}

run "rejects_unknown_architecture" {
  command = plan
  variables {
    architecture = "aarch64"
  }
  expect_failures = [var.architecture]
}

run "rejects_too_little_memory" {
  command = plan
  variables {
    memory_size = 64
  }
  expect_failures = [var.memory_size]
}

run "rejects_too_much_memory" {
  command = plan
  variables {
    memory_size = 10241
  }
  expect_failures = [var.memory_size]
}

run "rejects_zero_timeout" {
  command = plan
  variables {
    timeout = 0
  }
  expect_failures = [var.timeout]
}

run "rejects_timeout_over_15_minutes" {
  command = plan
  variables {
    timeout = 901
  }
  expect_failures = [var.timeout]
}

run "rejects_reserved_environment_key" {
  command = plan
  variables {
    environment_variables = { AWS_REGION = "us-east-1" }
  }
  expect_failures = [var.environment_variables]
}

run "rejects_reserved_credentials_key" {
  command = plan
  variables {
    environment_variables = { AWS_ACCESS_KEY_ID = "AKIA..." }
  }
  expect_failures = [var.environment_variables]
}

run "rejects_invalid_environment_key" {
  command = plan
  variables {
    environment_variables = { "table-name" = "orders" }
  }
  expect_failures = [var.environment_variables]
}

run "rejects_kms_alias_for_environment" {
  command = plan
  variables {
    kms_key_arn = "alias/orders"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_six_layers" {
  command = plan
  variables {
    layers = [for i in range(6) : "arn:aws:lambda:eu-west-1:123456789012:layer:deps:${i + 1}"]
  }
  expect_failures = [var.layers]
}

run "rejects_unversioned_layer_arn" {
  command = plan
  variables {
    layers = ["arn:aws:lambda:eu-west-1:123456789012:layer:deps"]
  }
  expect_failures = [var.layers]
}

run "rejects_small_ephemeral_storage" {
  command = plan
  variables {
    ephemeral_storage_size = 256
  }
  expect_failures = [var.ephemeral_storage_size]
}

run "rejects_retention_not_offered_by_cloudwatch" {
  command = plan
  variables {
    log_retention_in_days = 10
  }
  expect_failures = [var.log_retention_in_days]
}

run "rejects_bad_log_kms_key" {
  command = plan
  variables {
    log_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/logs"
  }
  expect_failures = [var.log_kms_key_arn]
}

run "rejects_unknown_application_log_level" {
  command = plan
  variables {
    application_log_level = "WARNING"
  }
  expect_failures = [var.application_log_level]
}

run "rejects_unknown_system_log_level" {
  command = plan
  variables {
    system_log_level = "ERROR"
  }
  expect_failures = [var.system_log_level]
}

run "rejects_unknown_tracing_mode" {
  command = plan
  variables {
    tracing_mode = "Off"
  }
  expect_failures = [var.tracing_mode]
}

run "rejects_numeric_alias_name" {
  command = plan
  variables {
    alias_name = "1"
  }
  expect_failures = [var.alias_name]
}

run "rejects_latest_as_alias_name" {
  command = plan
  variables {
    alias_name = "$LATEST"
  }
  expect_failures = [var.alias_name]
}

run "rejects_negative_reserved_concurrency" {
  command = plan
  variables {
    reserved_concurrent_executions = -2
  }
  expect_failures = [var.reserved_concurrent_executions]
}

run "rejects_negative_provisioned_concurrency" {
  command = plan
  variables {
    provisioned_concurrent_executions = -1
  }
  expect_failures = [var.provisioned_concurrent_executions]
}

run "rejects_provisioned_above_reserved" {
  command = plan
  variables {
    reserved_concurrent_executions    = 2
    provisioned_concurrent_executions = 5
  }
  expect_failures = [var.provisioned_concurrent_executions]
}

run "rejects_snap_start_with_provisioned_concurrency" {
  command = plan
  variables {
    snap_start                        = true
    provisioned_concurrent_executions = 2
  }
  expect_failures = [var.snap_start]
}

run "rejects_snap_start_with_large_ephemeral_storage" {
  command = plan
  variables {
    snap_start             = true
    ephemeral_storage_size = 1024
  }
  expect_failures = [var.snap_start]
}

run "rejects_role_name_over_64_characters" {
  command = plan
  variables {
    function_name = "orders-api-function-with-a-very-long-name-that-fills-64-chars"
  }
  expect_failures = [var.role_name]
}

run "rejects_bad_permissions_boundary" {
  command = plan
  variables {
    permissions_boundary_arn = "platform-boundary"
  }
  expect_failures = [var.permissions_boundary_arn]
}

run "rejects_unknown_access_type" {
  command = plan
  variables {
    accesses = [{ type = "dynamodb_admin", resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"] }]
  }
  expect_failures = [var.accesses]
}

run "rejects_wildcard_access_resource" {
  command = plan
  variables {
    accesses = [{ type = "sqs_send", resources = ["*"] }]
  }
  expect_failures = [var.accesses]
}

run "rejects_access_without_resources" {
  command = plan
  variables {
    accesses = [{ type = "sqs_send", resources = [] }]
  }
  expect_failures = [var.accesses]
}

run "rejects_access_resource_of_another_service" {
  command = plan
  variables {
    accesses = [{ type = "dynamodb_read", resources = ["arn:aws:sqs:eu-west-1:123456789012:orders"] }]
  }
  expect_failures = [var.accesses]
}

run "rejects_unknown_event_source_type" {
  command = plan
  variables {
    event_sources = { k = { type = "kinesis", event_source_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/s" } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_table_arn_as_stream_source" {
  command = plan
  variables {
    event_sources = { s = { type = "dynamodb_stream", event_source_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders" } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_zero_batch_size" {
  command = plan
  variables {
    event_sources = { q = { type = "sqs", event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:orders", batch_size = 0 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_stream_batch_size_over_10000" {
  command = plan
  variables {
    event_sources = { s = { type = "dynamodb_stream", event_source_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000", batch_size = 10001 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_fifo_batch_size_over_10" {
  command = plan
  variables {
    event_sources = { q = { type = "sqs", event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:orders.fifo", batch_size = 20, maximum_batching_window_in_seconds = 1 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_large_sqs_batch_without_window" {
  command = plan
  variables {
    event_sources = { q = { type = "sqs", event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:orders", batch_size = 100 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_batching_window_over_300" {
  command = plan
  variables {
    event_sources = { q = { type = "sqs", event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:orders", maximum_batching_window_in_seconds = 301 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_maximum_concurrency_of_1" {
  command = plan
  variables {
    event_sources = { q = { type = "sqs", event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:orders", maximum_concurrency = 1 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_maximum_concurrency_on_a_stream" {
  command = plan
  variables {
    event_sources = { s = { type = "dynamodb_stream", event_source_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000", maximum_concurrency = 10 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_invalid_filter_pattern" {
  command = plan
  variables {
    event_sources = { q = { type = "sqs", event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:orders", filter_patterns = ["body.type = order_placed"] } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_stream_settings_on_sqs" {
  command = plan
  variables {
    event_sources = { q = { type = "sqs", event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:orders", on_failure_destination_arn = "arn:aws:sqs:eu-west-1:123456789012:failures" } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_unknown_starting_position" {
  command = plan
  variables {
    event_sources = { s = { type = "dynamodb_stream", event_source_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000", starting_position = "AT_TIMESTAMP" } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_retry_attempts_below_minus_one" {
  command = plan
  variables {
    event_sources = { s = { type = "dynamodb_stream", event_source_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000", maximum_retry_attempts = -2 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_record_age_under_a_minute" {
  command = plan
  variables {
    event_sources = { s = { type = "dynamodb_stream", event_source_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000", maximum_record_age_in_seconds = 30 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_parallelization_factor_over_10" {
  command = plan
  variables {
    event_sources = { s = { type = "dynamodb_stream", event_source_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000", parallelization_factor = 11 } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_lambda_as_stream_failure_destination" {
  command = plan
  variables {
    event_sources = { s = { type = "dynamodb_stream", event_source_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000", on_failure_destination_arn = "arn:aws:lambda:eu-west-1:123456789012:function:f" } }
  }
  expect_failures = [var.event_sources]
}

run "rejects_three_async_retries" {
  command = plan
  variables {
    async_invocation = { maximum_retry_attempts = 3 }
  }
  expect_failures = [var.async_invocation]
}

run "rejects_async_event_age_under_a_minute" {
  command = plan
  variables {
    async_invocation = { maximum_event_age_in_seconds = 30 }
  }
  expect_failures = [var.async_invocation]
}

run "rejects_s3_as_async_destination" {
  command = plan
  variables {
    async_invocation = { on_failure_destination_arn = "arn:aws:s3:::failures-bucket" }
  }
  expect_failures = [var.async_invocation]
}

# --- alarms ------------------------------------------------------------------------------

run "alarms_are_on_by_default_error_rate_throttles_and_duration" {
  command = plan

  variables {
    timeout = 10
    alarms  = { alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:alarms"], ok_actions = ["arn:aws:sns:eu-west-1:123456789012:alarms"] }
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.error_rate) == 1 && length(aws_cloudwatch_metric_alarm.throttles) == 1 && length(aws_cloudwatch_metric_alarm.duration_p99) == 1
    error_message = "every function gets its error-rate, throttles and duration alarms"
  }
  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.error_rate[0].metric_query : q.expression if q.id == "error_rate"]) == "IF(invocations >= 10, 100 * errors / invocations, 0)" && aws_cloudwatch_metric_alarm.error_rate[0].threshold == 1
    error_message = "the error rate is errors / invocations in %, 0 below 10 invocations, alarming over 1 %"
  }
  assert {
    condition     = toset([for q in aws_cloudwatch_metric_alarm.error_rate[0].metric_query : q.metric[0].metric_name if length(q.metric) > 0]) == toset(["Errors", "Invocations"]) && alltrue([for q in aws_cloudwatch_metric_alarm.error_rate[0].metric_query : q.metric[0].dimensions["FunctionName"] == "orders-api" if length(q.metric) > 0])
    error_message = "the error rate reads Errors and Invocations of this function"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.duration_p99[0].extended_statistic == "p99" && aws_cloudwatch_metric_alarm.duration_p99[0].threshold == 8000
    error_message = "duration alarm: p99 over 80 % of a 10 s timeout, in ms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.throttles[0].threshold == 0 && aws_cloudwatch_metric_alarm.throttles[0].metric_name == "Throttles"
    error_message = "any throttle counts"
  }
  assert {
    condition = alltrue([for a in [aws_cloudwatch_metric_alarm.error_rate[0], aws_cloudwatch_metric_alarm.throttles[0], aws_cloudwatch_metric_alarm.duration_p99[0]] :
    a.evaluation_periods == 5 && a.datapoints_to_alarm == 3 && a.treat_missing_data == "notBreaching" && a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alarms"]) && a.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alarms"])])
    error_message = "3 of 5 periods, missing data not breaching, ALARM and OK both notify"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.iterator_age) == 0 && keys(output.alarm_names) == ["duration_p99", "error_rate", "throttles"]
    error_message = "no iterator age alarm without a stream source; the outputs name the three alarms"
  }
}

run "a_stream_consumer_also_alarms_on_iterator_age" {
  command = plan

  variables {
    event_sources = {
      changes = { type = "dynamodb_stream", event_source_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000" }
    }
    alarms = { iterator_age_threshold_seconds = 120 }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.iterator_age["changes"].threshold == 120000 && aws_cloudwatch_metric_alarm.iterator_age["changes"].statistic == "Maximum"
    error_message = "iterator age over 120 s (in ms) on the stream source"
  }
  assert {
    condition     = output.alarm_names["iterator_age_changes"] == "orders-api-changes-iterator-age"
    error_message = "the output names the stream's alarm"
  }
}

run "alarm_thresholds_and_periods_are_values" {
  command = plan

  variables {
    alarms = { error_rate_threshold_pct = 5, error_rate_min_invocations = 50, duration_p99_timeout_pct = 50, period_seconds = 300, evaluation_periods = 3, datapoints_to_alarm = 2, throttles_threshold = 10 }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.error_rate[0].threshold == 5 && strcontains(one([for q in aws_cloudwatch_metric_alarm.error_rate[0].metric_query : q.expression if q.id == "error_rate"]), ">= 50")
    error_message = "error rate threshold and minimum invocations come from the values"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.duration_p99[0].threshold == 15000 && aws_cloudwatch_metric_alarm.throttles[0].threshold == 10
    error_message = "duration at 50 % of the default 30 s timeout; throttles over 10"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.throttles[0].period == 300 && aws_cloudwatch_metric_alarm.throttles[0].evaluation_periods == 3 && aws_cloudwatch_metric_alarm.throttles[0].datapoints_to_alarm == 2
    error_message = "period and M of N come from the values"
  }
}

run "alarms_can_be_turned_off" {
  command = plan

  variables {
    alarms = { enabled = false }
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.error_rate) + length(aws_cloudwatch_metric_alarm.throttles) + length(aws_cloudwatch_metric_alarm.duration_p99) == 0 && output.alarm_arns == {}
    error_message = "no alarm when alarms are off"
  }
}

run "rejects_an_alarm_period_cloudwatch_does_not_have" {
  command = plan
  variables {
    alarms = { period_seconds = 120 }
  }
  expect_failures = [var.alarms]
}

run "rejects_more_datapoints_than_evaluation_periods" {
  command = plan
  variables {
    alarms = { evaluation_periods = 2, datapoints_to_alarm = 3 }
  }
  expect_failures = [var.alarms]
}

run "rejects_an_error_rate_of_100_percent_or_more" {
  command = plan
  variables {
    alarms = { error_rate_threshold_pct = 100 }
  }
  expect_failures = [var.alarms]
}

run "rejects_a_duration_share_over_the_timeout" {
  command = plan
  variables {
    alarms = { duration_p99_timeout_pct = 120 }
  }
  expect_failures = [var.alarms]
}

run "rejects_alarm_actions_that_are_not_topics" {
  command = plan
  variables {
    alarms = { alarm_actions = ["arn:aws:sqs:eu-west-1:123456789012:q"] }
  }
  expect_failures = [var.alarms]
}
