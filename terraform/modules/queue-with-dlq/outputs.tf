output "queue_name" {
  description = "Name of the main queue."
  value       = aws_sqs_queue.this.name
}

output "queue_arn" {
  description = "ARN of the main queue (event source mappings, IAM policies)."
  value       = aws_sqs_queue.this.arn
}

output "queue_url" {
  description = "URL of the main queue (SendMessage)."
  value       = aws_sqs_queue.this.id
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue (inspection and redrive)."
  value       = aws_sqs_queue.dlq.id
}

output "visibility_timeout_seconds" {
  description = "Visibility timeout applied to the main queue."
  value       = aws_sqs_queue.this.visibility_timeout_seconds
}

output "alarm_arns" {
  description = "ARNs of the DLQ-not-empty and oldest-message-age alarms (empty when alarms are off)."
  value       = concat(aws_cloudwatch_metric_alarm.dlq_not_empty[*].arn, aws_cloudwatch_metric_alarm.oldest_message_age[*].arn)
}

output "alarm_names" {
  description = "Name of each alarm by kind: dlq_not_empty, oldest_message_age (empty when alarms are off)."
  value = merge(
    { for alarm in aws_cloudwatch_metric_alarm.dlq_not_empty : "dlq_not_empty" => alarm.alarm_name },
    { for alarm in aws_cloudwatch_metric_alarm.oldest_message_age : "oldest_message_age" => alarm.alarm_name },
  )
}
