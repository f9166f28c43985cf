data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  bus_name   = var.bus.create ? aws_cloudwatch_event_bus.this[0].name : var.bus.name
  bus_arn = (var.bus.create ? aws_cloudwatch_event_bus.this[0].arn
  : "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.name}:${local.account_id}:event-bus/${var.bus.name}")

  lambda_targets = { for id, t in var.targets : id => t if t.type == "lambda" }
  bus_targets    = { for id, t in var.targets : id => t if t.type == "event_bus" }
}

resource "aws_cloudwatch_event_bus" "this" {
  count = var.bus.create ? 1 : 0

  name = var.bus.name
  tags = var.tags
}

resource "aws_cloudwatch_event_rule" "this" {
  name                = var.name
  description         = var.description
  event_bus_name      = local.bus_name
  event_pattern       = var.event_pattern
  schedule_expression = var.schedule_expression
  state               = var.state
  tags                = var.tags
}

resource "aws_cloudwatch_event_archive" "this" {
  count = var.archive.enabled ? 1 : 0

  name             = var.name
  description      = "Events matching rule ${var.name}, for replay."
  event_source_arn = local.bus_arn
  event_pattern    = var.event_pattern
  retention_days   = var.archive.retention_days
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = var.targets

  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = local.bus_name
  target_id      = each.key
  arn            = each.value.arn
  role_arn       = each.value.type == "event_bus" ? aws_iam_role.bus_target[0].arn : null
  input_path     = each.value.input_path

  dynamic "input_transformer" {
    for_each = each.value.input_transformer == null ? [] : [each.value.input_transformer]
    content {
      input_paths    = input_transformer.value.input_paths
      input_template = input_transformer.value.input_template
    }
  }

  dynamic "dead_letter_config" {
    for_each = each.value.dead_letter_queue_arn == null ? [] : [each.value.dead_letter_queue_arn]
    content {
      arn = dead_letter_config.value
    }
  }

  # EventBridge rejects a retry policy on event bus targets.
  dynamic "retry_policy" {
    for_each = each.value.type == "event_bus" ? [] : [each.value.retry_policy]
    content {
      maximum_retry_attempts       = retry_policy.value.maximum_retry_attempts
      maximum_event_age_in_seconds = retry_policy.value.maximum_event_age_in_seconds
    }
  }

  dynamic "sqs_target" {
    for_each = each.value.sqs_message_group_id == null ? [] : [each.value.sqs_message_group_id]
    content {
      message_group_id = sqs_target.value
    }
  }
}

# Lambda targets: the function's resource policy admits this rule only, on the
# alias when the ARN names one (arn:...:function:<name>:<alias>).
resource "aws_lambda_permission" "this" {
  for_each = local.lambda_targets

  statement_id  = substr(replace("events-${var.name}-${each.key}", "/[^A-Za-z0-9_-]/", "_"), 0, 100)
  action        = "lambda:InvokeFunction"
  function_name = join(":", slice(split(":", each.value.arn), 0, 7))
  qualifier     = try(split(":", each.value.arn)[7], null)
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}

# Event bus targets: one role for this rule, assumable by EventBridge on behalf
# of this rule only, allowed to put events on exactly the target buses.
data "aws_iam_policy_document" "bus_target_trust" {
  count = length(local.bus_targets) > 0 ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.this.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "bus_target" {
  count = length(local.bus_targets) > 0 ? 1 : 0

  statement {
    sid       = "PutEventsOnTargetBuses"
    actions   = ["events:PutEvents"]
    resources = distinct([for t in local.bus_targets : t.arn])
  }
}

resource "aws_iam_role" "bus_target" {
  count = length(local.bus_targets) > 0 ? 1 : 0

  name_prefix        = "${substr(var.name, 0, 32)}-bus-"
  description        = "EventBridge rule ${var.name} puts events on its event bus targets."
  assume_role_policy = data.aws_iam_policy_document.bus_target_trust[0].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "bus_target" {
  count = length(local.bus_targets) > 0 ? 1 : 0

  name   = "put-events-on-target-buses"
  role   = aws_iam_role.bus_target[0].id
  policy = data.aws_iam_policy_document.bus_target[0].json
}
