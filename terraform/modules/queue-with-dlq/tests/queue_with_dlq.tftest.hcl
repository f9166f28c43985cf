mock_provider "aws" {
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
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mocked" }
  }
}

variables {
  name = "orders"
}

run "secure_defaults" {
  command = apply

  assert {
    condition     = jsondecode(aws_sqs_queue.this.redrive_policy).maxReceiveCount == 3
    error_message = "maxReceiveCount must default to 3"
  }
  assert {
    condition     = aws_sqs_queue.dlq.name == "orders-dlq"
    error_message = "the DLQ is named <name>-dlq"
  }
  assert {
    condition     = aws_sqs_queue.dlq.message_retention_seconds == 1209600
    error_message = "the DLQ keeps messages 14 days"
  }
  assert {
    condition     = aws_sqs_queue.this.sqs_managed_sse_enabled && aws_sqs_queue.dlq.sqs_managed_sse_enabled
    error_message = "SSE-SQS is on for both queues by default"
  }
  assert {
    condition     = aws_sqs_queue.this.visibility_timeout_seconds == 180
    error_message = "visibility defaults to 6 x the 30 s consumer timeout"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.dlq.redrive_allow_policy).redrivePermission == "byQueue" && jsondecode(aws_sqs_queue.dlq.redrive_allow_policy).sourceQueueArns == ["arn:aws:sqs:eu-west-1:123456789012:orders"]
    error_message = "only the main queue may redrive into the DLQ"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.dlq_not_empty) == 1 && length(aws_cloudwatch_metric_alarm.oldest_message_age) == 1
    error_message = "both alarms exist by default"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty[0].threshold == 0 && aws_cloudwatch_metric_alarm.dlq_not_empty[0].dimensions.QueueName == "orders-dlq"
    error_message = "the DLQ alarm fires on any message in the DLQ"
  }
  assert {
    condition     = data.aws_iam_policy_document.queue["main"].statement[0].effect == "Deny" && one(data.aws_iam_policy_document.queue["main"].statement[0].condition).variable == "aws:SecureTransport"
    error_message = "the queue policy denies non-TLS access"
  }
  assert {
    condition     = aws_sqs_queue.this.policy == data.aws_iam_policy_document.queue["main"].json && aws_sqs_queue.dlq.policy == data.aws_iam_policy_document.queue["dlq"].json
    error_message = "each queue carries its own policy document"
  }
  assert {
    condition     = data.aws_iam_policy_document.queue["main"].statement[0].resources == toset(["arn:aws:sqs:eu-west-1:123456789012:orders"]) && data.aws_iam_policy_document.queue["dlq"].statement[0].resources == toset(["arn:aws:sqs:eu-west-1:123456789012:orders-dlq"])
    error_message = "each policy names its own queue's ARN"
  }
}

run "fifo_queues" {
  command = apply

  variables {
    name                        = "orders.fifo"
    fifo                        = true
    content_based_deduplication = true
  }

  assert {
    condition     = aws_sqs_queue.this.fifo_queue && aws_sqs_queue.dlq.fifo_queue
    error_message = "both queues are FIFO"
  }
  assert {
    condition     = aws_sqs_queue.dlq.name == "orders-dlq.fifo"
    error_message = "the FIFO DLQ name keeps the .fifo suffix"
  }
  assert {
    condition     = aws_sqs_queue.this.content_based_deduplication
    error_message = "content-based deduplication is passed through"
  }
}

run "customer_managed_kms_key" {
  command = apply

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = aws_sqs_queue.this.kms_master_key_id == var.kms_key_arn && aws_sqs_queue.this.kms_data_key_reuse_period_seconds == 300
    error_message = "SSE-KMS uses the given key"
  }
}

run "named_senders_get_a_policy_statement_each" {
  command = apply

  variables {
    allowed_senders = [
      { service = "events.amazonaws.com", source_arn = "arn:aws:events:eu-west-1:123456789012:rule/bus/rule" },
      { service = "sns.amazonaws.com", source_arn = "arn:aws:sns:eu-west-1:123456789012:topic" },
    ]
  }

  assert {
    condition     = length(data.aws_iam_policy_document.queue["main"].statement) == 3
    error_message = "one deny plus one allow per sender"
  }
  assert {
    condition     = one(data.aws_iam_policy_document.queue["main"].statement[1].condition).values == tolist(["arn:aws:events:eu-west-1:123456789012:rule/bus/rule"])
    error_message = "each sender is limited to its source ARN"
  }
  assert {
    condition     = data.aws_iam_policy_document.queue["main"].statement[1].actions == toset(["sqs:SendMessage"])
    error_message = "senders may only send"
  }
}

run "alarms_with_actions_and_off" {
  command = apply

  variables {
    max_receive_count = 5
    alarms = {
      alarm_actions                  = ["arn:aws:sns:eu-west-1:123456789012:alarms"]
      oldest_message_age_threshold_s = 900
    }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty[0].alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alarms"])
    error_message = "alarm actions are passed through"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.oldest_message_age[0].threshold == 900
    error_message = "the age threshold is configurable"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.this.redrive_policy).maxReceiveCount == 5
    error_message = "maxReceiveCount is configurable"
  }
}

run "alarms_can_be_turned_off" {
  command = apply

  variables {
    alarms = { enabled = false }
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.dlq_not_empty) == 0 && length(aws_cloudwatch_metric_alarm.oldest_message_age) == 0
    error_message = "no alarms when disabled"
  }
}

run "rejects_max_receive_count_out_of_range" {
  command = plan
  variables {
    max_receive_count = 0
  }
  expect_failures = [var.max_receive_count]
}

run "rejects_visibility_shorter_than_six_consumer_timeouts" {
  command = plan
  variables {
    consumer_timeout_seconds   = 60
    visibility_timeout_seconds = 120
  }
  expect_failures = [var.visibility_timeout_seconds]
}

run "rejects_fifo_name_mismatch" {
  command = plan
  variables {
    fifo = true
  }
  expect_failures = [var.fifo]
}

run "rejects_dedup_without_fifo" {
  command = plan
  variables {
    content_based_deduplication = true
  }
  expect_failures = [var.content_based_deduplication]
}

run "rejects_unknown_sender_service" {
  command = plan
  variables {
    allowed_senders = [{ service = "s3.amazonaws.com", source_arn = "arn:aws:events:eu-west-1:123456789012:rule/r" }]
  }
  expect_failures = [var.allowed_senders]
}

run "rejects_invalid_queue_name" {
  command = plan
  variables {
    name = "orders queue!"
  }
  expect_failures = [var.name]
}

run "rejects_bad_kms_key" {
  command = plan
  variables {
    kms_key_arn = "my-key"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_non_sns_alarm_action" {
  command = plan
  variables {
    alarms = { alarm_actions = ["arn:aws:lambda:eu-west-1:123456789012:function:f"] }
  }
  expect_failures = [var.alarms]
}

run "the_alarm_names_are_output_by_kind" {
  command = plan

  assert {
    condition     = output.alarm_names == { dlq_not_empty = "orders-dlq-not-empty", oldest_message_age = "orders-oldest-message-age" }
    error_message = "alarm_names names both alarms by kind"
  }
}
