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
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/orders-bus/order-outcomes" }
  }
  mock_resource "aws_cloudwatch_event_bus" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:event-bus/orders-bus" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/order-outcomes-bus-1" }
  }
}

variables {
  name          = "order-outcomes"
  event_pattern = "{\"source\":[\"orders\"],\"detail-type\":[\"OrderConfirmed\",\"OrderRejected\"]}"
  targets = {
    queue = {
      type                  = "sqs"
      arn                   = "arn:aws:sqs:eu-west-1:123456789012:outcomes"
      dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:outcomes-dlq"
    }
  }
}

run "secure_defaults_on_the_default_bus" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_event_bus.this) == 0 && aws_cloudwatch_event_rule.this.event_bus_name == "default"
    error_message = "the rule is on the existing default bus"
  }
  assert {
    condition     = output.bus_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/default" && output.bus_name == "default"
    error_message = "the default bus ARN is derived from partition, region and account"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.this.state == "ENABLED" && aws_cloudwatch_event_rule.this.event_pattern == var.event_pattern && aws_cloudwatch_event_rule.this.schedule_expression == null
    error_message = "an enabled pattern rule"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["queue"].dead_letter_config[0].arn == "arn:aws:sqs:eu-west-1:123456789012:outcomes-dlq"
    error_message = "the target keeps undeliverable events in its DLQ"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["queue"].retry_policy[0].maximum_retry_attempts == 185 && aws_cloudwatch_event_target.this["queue"].retry_policy[0].maximum_event_age_in_seconds == 86400
    error_message = "retries default to the EventBridge maximum: 185 attempts within 24 h"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["queue"].target_id == "queue" && aws_cloudwatch_event_target.this["queue"].role_arn == null && length(aws_cloudwatch_event_target.this["queue"].sqs_target) == 0
    error_message = "an SQS target needs no role; standard queues need no message group"
  }
  assert {
    condition     = length(aws_cloudwatch_event_archive.this) == 0 && length(aws_iam_role.bus_target) == 0 && length(aws_lambda_permission.this) == 0
    error_message = "no archive, role or permission unless needed"
  }
  assert {
    condition     = output.target_ids == tolist(["queue"])
    error_message = "target ids are output"
  }
}

run "sqs_allowed_senders_name_the_rule" {
  command = apply

  assert {
    condition = output.sqs_allowed_senders == [{
      service    = "events.amazonaws.com"
      source_arn = "arn:aws:events:eu-west-1:123456789012:rule/orders-bus/order-outcomes"
    }]
    error_message = "sqs_allowed_senders is ready for queue-with-dlq's allowed_senders"
  }
  assert {
    condition     = output.rule_arn == "arn:aws:events:eu-west-1:123456789012:rule/orders-bus/order-outcomes" && output.archive_arn == null && output.bus_target_role_arn == null
    error_message = "rule ARN output; no archive or role"
  }
}

run "custom_bus_with_archive" {
  command = apply

  variables {
    bus     = { name = "orders-bus", create = true }
    archive = { enabled = true, retention_days = 0 }
    tags    = { team = "orders" }
  }

  assert {
    condition     = aws_cloudwatch_event_bus.this[0].name == "orders-bus" && aws_cloudwatch_event_bus.this[0].tags == tomap({ team = "orders" })
    error_message = "the custom bus is created and tagged"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.this.event_bus_name == "orders-bus" && aws_cloudwatch_event_target.this["queue"].event_bus_name == "orders-bus"
    error_message = "rule and target are on the custom bus"
  }
  assert {
    condition     = aws_cloudwatch_event_archive.this[0].event_source_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/orders-bus" && aws_cloudwatch_event_archive.this[0].event_pattern == var.event_pattern
    error_message = "the archive keeps the bus's events matching the rule's pattern"
  }
  assert {
    condition     = aws_cloudwatch_event_archive.this[0].retention_days == 0 && aws_cloudwatch_event_archive.this[0].name == "order-outcomes"
    error_message = "retention 0 keeps events indefinitely"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.this.tags == tomap({ team = "orders" })
    error_message = "the rule is tagged"
  }
  assert {
    condition     = output.bus_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/orders-bus" && output.archive_arn != null
    error_message = "bus and archive ARNs are output"
  }
}

run "archive_on_an_existing_bus" {
  command = plan

  variables {
    bus     = { name = "shared-bus" }
    archive = { enabled = true }
  }

  assert {
    condition     = aws_cloudwatch_event_archive.this[0].event_source_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/shared-bus" && aws_cloudwatch_event_archive.this[0].retention_days == 30
    error_message = "the archive is on the existing bus, 30 days by default"
  }
}

run "schedule_on_the_default_bus" {
  command = plan

  variables {
    event_pattern       = null
    schedule_expression = "rate(5 minutes)"
    state               = "DISABLED"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this.schedule_expression == "rate(5 minutes)" && aws_cloudwatch_event_rule.this.event_pattern == null && aws_cloudwatch_event_rule.this.state == "DISABLED"
    error_message = "a disabled scheduled rule"
  }
}

run "lambda_alias_target_gets_a_scoped_permission" {
  command = apply

  variables {
    targets = {
      handler = {
        type                  = "lambda"
        arn                   = "arn:aws:lambda:eu-west-1:123456789012:function:notifier:live"
        dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:notifier-dlq"
        retry_policy          = { maximum_retry_attempts = 3, maximum_event_age_in_seconds = 600 }
      }
      plain = {
        type                  = "lambda"
        arn                   = "arn:aws:lambda:eu-west-1:123456789012:function:auditor"
        dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:notifier-dlq"
      }
    }
  }

  assert {
    condition     = aws_lambda_permission.this["handler"].function_name == "arn:aws:lambda:eu-west-1:123456789012:function:notifier" && aws_lambda_permission.this["handler"].qualifier == "live"
    error_message = "the permission is on the alias named in the ARN"
  }
  assert {
    condition     = aws_lambda_permission.this["plain"].function_name == "arn:aws:lambda:eu-west-1:123456789012:function:auditor" && aws_lambda_permission.this["plain"].qualifier == null
    error_message = "an unqualified function ARN gets an unqualified permission"
  }
  assert {
    condition     = aws_lambda_permission.this["handler"].principal == "events.amazonaws.com" && aws_lambda_permission.this["handler"].action == "lambda:InvokeFunction" && aws_lambda_permission.this["handler"].source_arn == "arn:aws:events:eu-west-1:123456789012:rule/orders-bus/order-outcomes"
    error_message = "only this rule may invoke the function"
  }
  assert {
    condition     = aws_lambda_permission.this["handler"].statement_id == "events-order-outcomes-handler"
    error_message = "statement ids name the rule and the target"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["handler"].retry_policy[0].maximum_retry_attempts == 3 && aws_cloudwatch_event_target.this["handler"].retry_policy[0].maximum_event_age_in_seconds == 600
    error_message = "the retry policy is configurable"
  }
}

run "event_bus_target_gets_a_role_for_that_bus_only" {
  command = plan

  variables {
    targets = {
      central = {
        type                  = "event_bus"
        arn                   = "arn:aws:events:eu-west-1:210987654321:event-bus/central"
        dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:forward-dlq"
      }
    }
  }

  assert {
    condition     = length(aws_iam_role.bus_target) == 1 && length(aws_iam_role_policy.bus_target) == 1
    error_message = "one role for the event bus targets"
  }
  assert {
    condition     = data.aws_iam_policy_document.bus_target[0].statement[0].actions == toset(["events:PutEvents"]) && data.aws_iam_policy_document.bus_target[0].statement[0].resources == toset(["arn:aws:events:eu-west-1:210987654321:event-bus/central"])
    error_message = "the role may only put events on the target bus"
  }
  assert {
    condition     = tolist(data.aws_iam_policy_document.bus_target_trust[0].statement[0].principals)[0].identifiers == toset(["events.amazonaws.com"]) && [for c in data.aws_iam_policy_document.bus_target_trust[0].statement[0].condition : c.variable] == ["aws:SourceArn", "aws:SourceAccount"]
    error_message = "only EventBridge, for this rule and account, may assume the role"
  }
  assert {
    condition     = length(aws_cloudwatch_event_target.this["central"].retry_policy) == 0
    error_message = "no retry policy on event bus targets (EventBridge rejects it)"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["central"].dead_letter_config[0].arn == "arn:aws:sqs:eu-west-1:123456789012:forward-dlq"
    error_message = "event bus targets keep their DLQ"
  }
}

run "event_bus_target_role_is_wired" {
  command = apply

  variables {
    targets = {
      central = {
        type                  = "event_bus"
        arn                   = "arn:aws:events:eu-west-1:210987654321:event-bus/central"
        dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:forward-dlq"
      }
    }
  }

  assert {
    condition     = aws_cloudwatch_event_target.this["central"].role_arn == "arn:aws:iam::123456789012:role/order-outcomes-bus-1" && output.bus_target_role_arn == "arn:aws:iam::123456789012:role/order-outcomes-bus-1"
    error_message = "the target uses the role"
  }
}

run "fifo_queue_input_path_and_transformer" {
  command = plan

  variables {
    targets = {
      fifo = merge(var.targets.queue, {
        arn                  = "arn:aws:sqs:eu-west-1:123456789012:outcomes.fifo"
        sqs_message_group_id = "orders"
        input_path           = "$.detail"
      })
      shaped = merge(var.targets.queue, {
        input_transformer = {
          input_paths    = { id = "$.detail.order_id" }
          input_template = "{\"order_id\": \"<id>\"}"
        }
      })
    }
  }

  assert {
    condition     = aws_cloudwatch_event_target.this["fifo"].sqs_target[0].message_group_id == "orders" && aws_cloudwatch_event_target.this["fifo"].input_path == "$.detail"
    error_message = "FIFO targets get their message group; input_path is passed through"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["shaped"].input_transformer[0].input_paths == tomap({ id = "$.detail.order_id" }) && aws_cloudwatch_event_target.this["shaped"].input_transformer[0].input_template == "{\"order_id\": \"<id>\"}"
    error_message = "the input transformer is passed through"
  }
}

run "no_dead_letter_queue_when_explicitly_allowed" {
  command = plan

  variables {
    allow_no_dead_letter_queue = true
    targets                    = { queue = merge(var.targets.queue, { dead_letter_queue_arn = null }) }
  }

  assert {
    condition     = length(aws_cloudwatch_event_target.this["queue"].dead_letter_config) == 0
    error_message = "no DLQ block without a DLQ"
  }
}

# --- validations -------------------------------------------------------------

run "rejects_bad_name" {
  command = plan
  variables {
    name = "order outcomes"
  }
  expect_failures = [var.name]
}

run "rejects_long_description" {
  command = plan
  variables {
    description = join("", [for i in range(52) : "0123456789"])
  }
  expect_failures = [var.description]
}

run "rejects_creating_the_default_bus" {
  command = plan
  variables {
    bus = { create = true }
  }
  expect_failures = [var.bus]
}

run "rejects_bus_arn_as_name" {
  command = plan
  variables {
    bus = { name = "arn:aws:events:eu-west-1:123456789012:event-bus/orders" }
  }
  expect_failures = [var.bus]
}

run "rejects_pattern_that_is_not_json" {
  command = plan
  variables {
    event_pattern = "source = orders"
  }
  expect_failures = [var.event_pattern]
}

run "rejects_pattern_that_is_not_an_object" {
  command = plan
  variables {
    event_pattern = "[\"orders\"]"
  }
  expect_failures = [var.event_pattern]
}

run "rejects_neither_pattern_nor_schedule" {
  command = plan
  variables {
    event_pattern = null
  }
  expect_failures = [var.event_pattern]
}

run "rejects_both_pattern_and_schedule" {
  command = plan
  variables {
    schedule_expression = "rate(1 hour)"
  }
  expect_failures = [var.event_pattern]
}

run "rejects_bad_schedule" {
  command = plan
  variables {
    event_pattern       = null
    schedule_expression = "every 5 minutes"
  }
  expect_failures = [var.schedule_expression]
}

run "rejects_rate_with_wrong_unit_plural" {
  command = plan
  variables {
    event_pattern       = null
    schedule_expression = "rate(5 minute)"
  }
  expect_failures = [var.schedule_expression]
}

run "rejects_schedule_on_a_custom_bus" {
  command = plan
  variables {
    event_pattern       = null
    schedule_expression = "cron(0 12 * * ? *)"
    bus                 = { name = "orders-bus", create = true }
  }
  expect_failures = [var.schedule_expression]
}

run "rejects_bad_state" {
  command = plan
  variables {
    state = "ON"
  }
  expect_failures = [var.state]
}

run "rejects_negative_archive_retention" {
  command = plan
  variables {
    archive = { enabled = true, retention_days = -1 }
  }
  expect_failures = [var.archive]
}

run "rejects_archive_of_a_schedule" {
  command = plan
  variables {
    event_pattern       = null
    schedule_expression = "rate(1 day)"
    archive             = { enabled = true }
  }
  expect_failures = [var.archive]
}

run "rejects_archive_with_a_long_rule_name" {
  command = plan
  variables {
    name    = "a-rule-name-that-is-far-too-long-for-an-archive-name"
    archive = { enabled = true }
  }
  expect_failures = [var.archive]
}

run "rejects_bad_target_id" {
  command = plan
  variables {
    targets = { "my queue" = var.targets.queue }
  }
  expect_failures = [var.targets]
}

run "rejects_more_than_five_targets" {
  command = plan
  variables {
    targets = { for i in range(6) : "t${i}" => { type = "sqs", arn = "arn:aws:sqs:eu-west-1:123456789012:q${i}", dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:d" } }
  }
  expect_failures = [var.targets]
}

run "rejects_unknown_target_type" {
  command = plan
  variables {
    targets = { topic = merge(var.targets.queue, { type = "sns", arn = "arn:aws:sns:eu-west-1:123456789012:t" }) }
  }
  expect_failures = [var.targets]
}

run "rejects_arn_of_another_service" {
  command = plan
  variables {
    targets = { handler = merge(var.targets.queue, { type = "lambda" }) }
  }
  expect_failures = [var.targets]
}

run "rejects_dlq_that_is_not_a_queue" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { dead_letter_queue_arn = "arn:aws:sns:eu-west-1:123456789012:d" }) }
  }
  expect_failures = [var.targets]
}

run "rejects_fifo_dlq" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:d.fifo" }) }
  }
  expect_failures = [var.targets]
}

run "rejects_target_without_dlq" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { dead_letter_queue_arn = null }) }
  }
  expect_failures = [var.targets]
}

run "rejects_input_path_with_transformer" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { input_path = "$.detail", input_transformer = { input_template = "\"<aws.events.event.json>\"" } }) }
  }
  expect_failures = [var.targets]
}

run "rejects_input_path_not_jsonpath" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { input_path = "detail" }) }
  }
  expect_failures = [var.targets]
}

run "rejects_empty_input_template" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { input_transformer = { input_template = "" } }) }
  }
  expect_failures = [var.targets]
}

run "rejects_too_many_retries" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { retry_policy = { maximum_retry_attempts = 186 } }) }
  }
  expect_failures = [var.targets]
}

run "rejects_too_short_event_age" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { retry_policy = { maximum_event_age_in_seconds = 59 } }) }
  }
  expect_failures = [var.targets]
}

run "rejects_fifo_target_without_message_group" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { arn = "arn:aws:sqs:eu-west-1:123456789012:outcomes.fifo" }) }
  }
  expect_failures = [var.targets]
}

run "rejects_message_group_on_a_standard_queue" {
  command = plan
  variables {
    targets = { queue = merge(var.targets.queue, { sqs_message_group_id = "g" }) }
  }
  expect_failures = [var.targets]
}

# --- alarms ------------------------------------------------------------------------------

run "alarms_on_failed_and_dead_lettered_invocations_of_a_default_bus_rule" {
  command = plan

  variables {
    alarms = { alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:alarms"], ok_actions = ["arn:aws:sns:eu-west-1:123456789012:alarms"] }
  }

  assert {
    condition     = toset([for q in aws_cloudwatch_metric_alarm.failed_invocations[0].metric_query : q.metric[0].metric_name if length(q.metric) > 0]) == toset(["FailedInvocations", "InvocationsFailedToBeSentToDlq"])
    error_message = "failed invocations include those that could not reach the DLQ"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.sent_to_dlq[0].metric_name == "InvocationsSentToDlq" && aws_cloudwatch_metric_alarm.sent_to_dlq[0].dimensions == tomap({ RuleName = "order-outcomes" })
    error_message = "a default-bus rule's metrics carry only RuleName"
  }
  assert {
    condition = alltrue([for a in [aws_cloudwatch_metric_alarm.failed_invocations[0], aws_cloudwatch_metric_alarm.sent_to_dlq[0]] :
    a.threshold == 0 && a.evaluation_periods == 1 && a.treat_missing_data == "notBreaching" && length(a.alarm_actions) == 1 && length(a.ok_actions) == 1])
    error_message = "any event failed or parked alarms at once; ALARM and OK notify"
  }
  assert {
    condition     = keys(output.alarm_names) == ["failed_invocations", "sent_to_dlq"]
    error_message = "the outputs name both alarms"
  }
}

run "a_custom_bus_rule_alarms_on_its_bus_and_rule" {
  command = plan
  variables {
    bus = { name = "orders-events", create = true }
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.sent_to_dlq[0].dimensions == tomap({ RuleName = "order-outcomes", EventBusName = "orders-events" })
    error_message = "a custom bus rule's metrics carry EventBusName and RuleName"
  }
}

run "rule_alarms_can_be_turned_off" {
  command = plan
  variables {
    alarms = { enabled = false }
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.failed_invocations) + length(aws_cloudwatch_metric_alarm.sent_to_dlq) == 0 && output.alarm_names == {}
    error_message = "no alarm when off"
  }
}

run "rejects_rule_alarm_actions_that_are_not_topics" {
  command = plan
  variables {
    alarms = { alarm_actions = ["arn:aws:events:eu-west-1:123456789012:event-bus/x"] }
  }
  expect_failures = [var.alarms]
}
