output "rule_arn" {
  description = "ARN of the rule (aws:SourceArn of its deliveries)."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "rule_name" {
  description = "Name of the rule."
  value       = aws_cloudwatch_event_rule.this.name
}

output "bus_name" {
  description = "Name of the event bus the rule is on."
  value       = local.bus_name
}

output "bus_arn" {
  description = "ARN of the event bus the rule is on (PutEvents permissions of publishers)."
  value       = local.bus_arn
}

output "archive_arn" {
  description = "ARN of the archive, null when archive.enabled is false."
  value       = one(aws_cloudwatch_event_archive.this[*].arn)
}

output "target_ids" {
  description = "Ids of the rule's targets (the keys of var.targets)."
  value       = sort(keys(var.targets))
}

output "sqs_allowed_senders" {
  description = "Pass to the queue-with-dlq module's allowed_senders (target queue) and dlq_allowed_senders (target DLQ): EventBridge may send for this rule only."
  value = [{
    service    = "events.amazonaws.com"
    source_arn = aws_cloudwatch_event_rule.this.arn
  }]
}

output "bus_target_role_arn" {
  description = "ARN of the role EventBridge uses to put events on event_bus targets, null without such targets."
  value       = one(aws_iam_role.bus_target[*].arn)
}

output "lambda_permission_statement_ids" {
  description = "Map of lambda target id to the statement id of its lambda permission."
  value       = { for id, p in aws_lambda_permission.this : id => p.statement_id }
}

output "alarm_names" {
  description = "Name of each alarm of the rule by kind: failed_invocations, sent_to_dlq (empty when alarms are off)."
  value = {
    for kind, alarm in {
      failed_invocations = aws_cloudwatch_metric_alarm.failed_invocations
      sent_to_dlq        = aws_cloudwatch_metric_alarm.sent_to_dlq
    } : kind => alarm[0].alarm_name if length(alarm) > 0
  }
}

output "alarm_arns" {
  description = "ARN of each alarm of the rule by kind (as alarm_names)."
  value = {
    for kind, alarm in {
      failed_invocations = aws_cloudwatch_metric_alarm.failed_invocations
      sent_to_dlq        = aws_cloudwatch_metric_alarm.sent_to_dlq
    } : kind => alarm[0].arn if length(alarm) > 0
  }
}
