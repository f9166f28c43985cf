output "topic_arn" {
  description = "ARN of the topic: what alarms name in alarm_actions and ok_actions."
  value       = aws_sns_topic.this.arn
}

output "topic_name" {
  description = "Name of the topic."
  value       = aws_sns_topic.this.name
}

output "kms_key_arn" {
  description = "ARN of the customer managed key the topic is encrypted with (rotation on)."
  value       = aws_kms_key.this.arn
}

output "kms_key_alias" {
  description = "Alias of the key (alias/<name>)."
  value       = aws_kms_alias.this.name
}

output "subscription_arns" {
  description = "ARN of each subscription by \"<protocol> <endpoint>\" (\"pending confirmation\" until an e-mail or https endpoint confirms)."
  value       = { for key, s in aws_sns_topic_subscription.this : key => s.arn }
}
