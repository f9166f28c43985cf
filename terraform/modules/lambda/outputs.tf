output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the function (IAM policies, lambda:InvokeFunction on every version)."
  value       = aws_lambda_function.this.arn
}

output "function_version" {
  description = "Version published by the last apply, the one the alias points at."
  value       = aws_lambda_function.this.version
}

output "qualified_arn" {
  description = "ARN of the published version (<function_arn>:<version>)."
  value       = aws_lambda_function.this.qualified_arn
}

output "invoke_arn" {
  description = "Invoke ARN of the unqualified function ($LATEST). Integrate with alias_invoke_arn instead."
  value       = aws_lambda_function.this.invoke_arn
}

output "alias_name" {
  description = "Name of the alias."
  value       = aws_lambda_alias.this.name
}

output "alias_arn" {
  description = "ARN of the alias: what callers, EventBridge targets and lambda permissions should name."
  value       = aws_lambda_alias.this.arn
}

output "alias_invoke_arn" {
  description = "Invoke ARN of the alias, for API Gateway (http-api) integrations."
  value       = aws_lambda_alias.this.invoke_arn
}

output "role_name" {
  description = "Name of the execution role (attach further policies to it)."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the execution role (key policies, resource policies)."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the function's log group (metric filters, subscriptions)."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the function's log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "event_source_mapping_uuids" {
  description = "UUID of each event source mapping, by its key in event_sources."
  value       = { for k, m in aws_lambda_event_source_mapping.this : k => m.uuid }
}

output "code_sha256" {
  description = "Base64 SHA-256 of the deployed zip as Lambda reports it (CodeSha256); equals package.source_code_hash once deployed."
  value       = aws_lambda_function.this.code_sha256
}

output "architecture" {
  description = "Instruction set of the function (arm64 or x86_64), for building matching layers."
  value       = one(aws_lambda_function.this.architectures)
}

output "alarm_arns" {
  description = "ARN of each alarm of the function by kind: error_rate, throttles, duration_p99, and iterator_age_<source> per stream source (empty when alarms are off)."
  value = merge(
    { for kind, alarm in {
      error_rate   = aws_cloudwatch_metric_alarm.error_rate
      throttles    = aws_cloudwatch_metric_alarm.throttles
      duration_p99 = aws_cloudwatch_metric_alarm.duration_p99
    } : kind => alarm[0].arn if length(alarm) > 0 },
    { for key, alarm in aws_cloudwatch_metric_alarm.iterator_age : "iterator_age_${key}" => alarm.arn },
  )
}

output "alarm_names" {
  description = "Name of each alarm of the function by kind (as alarm_arns): what a composite alarm or a deployment refers to."
  value = merge(
    { for kind, alarm in {
      error_rate   = aws_cloudwatch_metric_alarm.error_rate
      throttles    = aws_cloudwatch_metric_alarm.throttles
      duration_p99 = aws_cloudwatch_metric_alarm.duration_p99
    } : kind => alarm[0].alarm_name if length(alarm) > 0 },
    { for key, alarm in aws_cloudwatch_metric_alarm.iterator_age : "iterator_age_${key}" => alarm.alarm_name },
  )
}
