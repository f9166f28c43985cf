output "api_endpoint" {
  description = "Base URL of the HTTP API (the $default stage)."
  value       = module.http_api.stage_invoke_url
}

output "api_id" {
  description = "Id of the HTTP API."
  value       = module.http_api.api_id
}

output "table_name" {
  description = "The orders table (orders, stock, customers, notifications, idempotency records)."
  value       = module.table.table_name
}

output "orders_queue_url" {
  description = "Queue of accepted orders, consumed by the order processor."
  value       = module.orders_queue.queue_url
}

output "orders_dlq_url" {
  description = "Dead-letter queue of the orders queue: orders that failed processing 3 times, to inspect and redrive."
  value       = module.orders_queue.dlq_url
}

output "notifications_queue_url" {
  description = "Queue of order outcome events, consumed by the notifier."
  value       = module.notifications_queue.queue_url
}

output "notifications_dlq_url" {
  description = "Dead-letter queue of the notifications queue (and of the rule's undeliverable events)."
  value       = module.notifications_queue.dlq_url
}

output "event_bus_name" {
  description = "Event bus the order processor publishes OrderConfirmed / OrderRejected to."
  value       = module.outcomes_rule.bus_name
}

output "function_names" {
  description = "Function name per service."
  value = {
    orders_api      = module.orders_api.function_name
    order_processor = module.order_processor.function_name
    notifier        = module.notifier.function_name
  }
}

output "function_code_sha256" {
  description = "CodeSha256 (base64) of the code each function runs, and of the layer: what promotion compares."
  value = {
    orders_api      = module.orders_api.code_sha256
    order_processor = module.order_processor.code_sha256
    notifier        = module.notifier.code_sha256
    layer           = aws_lambda_layer_version.shared.source_code_hash
  }
}

output "layer_version_arn" {
  description = "ARN of the shared layer version the functions use."
  value       = aws_lambda_layer_version.shared.arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify (null when no alarm e-mail addresses are given)."
  value       = one(aws_sns_topic.alarms[*].arn)
}

output "region" {
  description = "Region of the stack: where tools find its table and queues."
  value       = data.aws_region.current.name
}
