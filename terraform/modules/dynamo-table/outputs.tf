output "table_name" {
  description = "Name of the table."
  value       = local.table.name
}

output "table_arn" {
  description = "ARN of the table (IAM policies)."
  value       = local.table.arn
}

output "table_id" {
  description = "ID of the table (its name)."
  value       = local.table.id
}

output "stream_arn" {
  description = "ARN of the table's stream (event source mappings, IAM), null when stream_view_type is null."
  value       = var.stream_view_type == null ? null : local.table.stream_arn
}

output "stream_label" {
  description = "Timestamp label of the current stream, null when stream_view_type is null."
  value       = var.stream_view_type == null ? null : local.table.stream_label
}

output "hash_key" {
  description = "Name of the partition key attribute."
  value       = var.hash_key.name
}

output "range_key" {
  description = "Name of the sort key attribute, null when the table has none."
  value       = try(var.range_key.name, null)
}

output "index_arns" {
  description = "Map of index name (global and local) to its ARN <table_arn>/index/<name>, as IAM policies need it for Query on an index."
  value       = { for i in concat(var.global_secondary_indexes, var.local_secondary_indexes) : i.name => "${local.table.arn}/index/${i.name}" }
}

output "global_secondary_index_names" {
  description = "Names of the global secondary indexes."
  value       = [for i in var.global_secondary_indexes : i.name]
}

output "autoscaling_policy_arns" {
  description = "Map of scaled dimension (table:read, index/<name>:write, ...) to its target-tracking policy ARN; empty without autoscaling."
  value       = { for k, p in aws_appautoscaling_policy.this : k => p.arn }
}

output "alarm_names" {
  description = "Name of each alarm of the table by kind: throttled_requests (the table), throttled_requests_index-<name> per global secondary index, system_errors (empty when alarms are off)."
  value = merge(
    { for scope, alarm in aws_cloudwatch_metric_alarm.throttled_requests : (scope == "table" ? "throttled_requests" : "throttled_requests_${scope}") => alarm.alarm_name },
    { for alarm in aws_cloudwatch_metric_alarm.system_errors : "system_errors" => alarm.alarm_name },
  )
}

output "alarm_arns" {
  description = "ARN of each alarm of the table by kind (as alarm_names)."
  value = merge(
    { for scope, alarm in aws_cloudwatch_metric_alarm.throttled_requests : (scope == "table" ? "throttled_requests" : "throttled_requests_${scope}") => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.system_errors : "system_errors" => alarm.arn },
  )
}
