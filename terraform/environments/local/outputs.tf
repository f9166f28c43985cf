output "api_endpoint" {
  description = "Base URL of the HTTP API as the emulator reports it."
  value       = module.platform.api_endpoint
}

output "api_id" {
  description = "Id of the HTTP API (the emulator serves it at <endpoint>/_aws/execute-api/<id>/)."
  value       = module.platform.api_id
}

output "orders_dlq_url" {
  description = "Dead-letter queue of the orders queue."
  value       = module.platform.orders_dlq_url
}

output "notifications_dlq_url" {
  description = "Dead-letter queue of the notifications queue."
  value       = module.platform.notifications_dlq_url
}

output "function_names" {
  description = "Function name per service."
  value       = module.platform.function_names
}

output "platform" {
  description = "Every output of the stack, for tools."
  value       = module.platform
}
