data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  base_name  = trimsuffix(var.name, ".fifo")
  dlq_name   = var.fifo ? "${local.base_name}-dlq.fifo" : "${local.base_name}-dlq"
  arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  queue_arn  = "${local.arn_prefix}:${var.name}"
  dlq_arn    = "${local.arn_prefix}:${local.dlq_name}"
  visibility = coalesce(var.visibility_timeout_seconds, 6 * var.consumer_timeout_seconds)
  use_kms    = var.kms_key_arn != null
}

resource "aws_sqs_queue" "dlq" {
  name                        = local.dlq_name
  fifo_queue                  = var.fifo
  content_based_deduplication = var.fifo ? var.content_based_deduplication : null
  message_retention_seconds   = var.dlq_message_retention_seconds

  sqs_managed_sse_enabled           = local.use_kms ? null : true
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.use_kms ? var.kms_data_key_reuse_period_seconds : null

  # Only the main queue may use this queue as its dead-letter queue. Its ARN is
  # computed, not referenced, because the main queue depends on this one.
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [local.queue_arn]
  })

  # Inline, not an aws_sqs_queue_policy: every SQS write waits ~25 s for its attributes to
  # settle (the provider's waiter, on AWS too), so a separate policy resource would add a
  # third wait to the DLQ -> queue chain.
  policy = data.aws_iam_policy_document.queue["dlq"].json

  tags = var.tags
}

resource "aws_sqs_queue" "this" {
  name                        = var.name
  fifo_queue                  = var.fifo
  content_based_deduplication = var.fifo ? var.content_based_deduplication : null
  visibility_timeout_seconds  = local.visibility
  message_retention_seconds   = var.message_retention_seconds
  receive_wait_time_seconds   = var.receive_wait_time_seconds

  sqs_managed_sse_enabled           = local.use_kms ? null : true
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.use_kms ? var.kms_data_key_reuse_period_seconds : null

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  policy = data.aws_iam_policy_document.queue["main"].json

  tags = var.tags
}

data "aws_iam_policy_document" "queue" {
  for_each = {
    main = { arn = local.queue_arn, senders = var.allowed_senders }
    dlq  = { arn = local.dlq_arn, senders = var.dlq_allowed_senders }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [each.value.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = each.value.senders
    content {
      sid       = "AllowSend${statement.key}"
      actions   = ["sqs:SendMessage"]
      resources = [each.value.arn]
      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [statement.value.source_arn]
      }
    }
  }
}

# Earlier versions of this module attached the policies as separate resources; the queues now
# carry them, so those are only forgotten (destroying one would clear the queue's policy).
removed {
  from = aws_sqs_queue_policy.this
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_sqs_queue_policy.dlq
  lifecycle {
    destroy = false
  }
}

resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  count = var.alarms.enabled ? 1 : 0

  alarm_name          = "${local.dlq_name}-not-empty"
  alarm_description   = "Messages in ${local.dlq_name}: processing of ${var.name} failed ${var.max_receive_count} times. Inspect, fix, then redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = var.alarms.evaluation_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "oldest_message_age" {
  count = var.alarms.enabled ? 1 : 0

  alarm_name          = "${local.base_name}-oldest-message-age"
  alarm_description   = "The oldest message in ${var.name} waited longer than ${var.alarms.oldest_message_age_threshold_s} s: the consumer is failing or too slow."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.this.name }
  statistic           = "Maximum"
  period              = var.alarms.evaluation_period_seconds
  evaluation_periods  = 3
  threshold           = var.alarms.oldest_message_age_threshold_s
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.alarm_actions
  ok_actions          = var.alarms.ok_actions
  tags                = var.tags
}
