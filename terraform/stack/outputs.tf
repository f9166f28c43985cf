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

output "outcomes_rule_name" {
  description = "The rule that delivers order outcomes to the notifications queue."
  value       = module.outcomes_rule.rule_name
}

output "event_bus_name" {
  description = "Event bus the order processor publishes OrderConfirmed / OrderRejected to."
  value       = module.outcomes_rule.bus_name
}

output "function_names" {
  description = "Function name per service."
  value = {
    orders_api       = module.orders_api.function_name
    order_processor  = module.order_processor.function_name
    notifier         = module.notifier.function_name
    pre_traffic_hook = module.pre_traffic_hook.function_name
  }
}

output "deployments" {
  description = "What make deploy shifts (empty without a deployment), in the order it deploys: consumers before producers, so that no consumer ever reads a message or event from a newer producer than itself (the notifier reads the processor's events, the processor reads the API's orders). Per function: its service, name, alias, the version the last apply published, and its CodeDeploy application, group, configuration, alarms and pre-traffic hook."
  value = var.deployment == null ? [] : [
    for entry in [
      ["notifier", module.notifier],
      ["order_processor", module.order_processor],
      ["orders_api", module.orders_api],
      ] : merge(entry[1].deployment, {
        service          = entry[0]
        function_name    = entry[1].function_name
        alias_name       = entry[1].alias_name
        function_version = entry[1].function_version
    })
  ]
}

output "function_code_sha256" {
  description = "CodeSha256 (base64) of the code each function runs, and of the layer: what promotion compares."
  value = {
    orders_api       = module.orders_api.code_sha256
    order_processor  = module.order_processor.code_sha256
    notifier         = module.notifier.code_sha256
    pre_traffic_hook = module.pre_traffic_hook.code_sha256
    layer            = aws_lambda_layer_version.shared.source_code_hash
  }
}

output "layer_version_arn" {
  description = "ARN of the shared layer version the functions use."
  value       = aws_lambda_layer_version.shared.arn
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies on ALARM and OK (null where alarms are off: the local emulator)."
  value       = one(module.alarm_topic[*].topic_arn)
}

output "composite_alarm_name" {
  description = "The alarm that means customers are hurt: what pages, and what a deployment watches (null where alarms are off)."
  value       = one(aws_cloudwatch_composite_alarm.unhealthy[*].alarm_name)
}

output "alarm_names" {
  description = "Every alarm of the environment, by what it watches (empty where alarms are off)."
  value = merge(
    { for kind, name in module.http_api.alarm_names : "api_${kind}" => name },
    { for kind, name in module.orders_api.alarm_names : "orders_api_${kind}" => name },
    { for kind, name in module.order_processor.alarm_names : "order_processor_${kind}" => name },
    { for kind, name in module.notifier.alarm_names : "notifier_${kind}" => name },
    { for kind, name in module.orders_queue.alarm_names : "orders_queue_${kind}" => name },
    { for kind, name in module.notifications_queue.alarm_names : "notifications_queue_${kind}" => name },
    { for kind, name in module.table.alarm_names : "table_${kind}" => name },
    { for kind, name in module.outcomes_rule.alarm_names : "outcomes_rule_${kind}" => name },
    { for alarm in aws_cloudwatch_metric_alarm.rejected_orders : "rejected_orders" => alarm.alarm_name },
    { for alarm in aws_cloudwatch_metric_alarm.notifications_uncertain : "notifications_uncertain" => alarm.alarm_name },
    { for service, alarm in aws_cloudwatch_metric_alarm.batch_item_failures : "${service}_batch_item_failures" => alarm.alarm_name },
  )
}

output "function_alarm_names" {
  description = "Each function's alarms by kind (error_rate, throttles, duration_p99), by service: what its deployment watches."
  value = {
    orders_api      = module.orders_api.alarm_names
    order_processor = module.order_processor.alarm_names
    notifier        = module.notifier.alarm_names
  }
}

output "dashboard_name" {
  description = "The environment's CloudWatch dashboard (make dashboard ENV=<env> prints its console URL)."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "region" {
  description = "Region of the stack: where tools find its table and queues."
  value       = data.aws_region.current.name
}

output "user_pool" {
  description = "The API's sign-in: the pool, its clients, the issuer the authorizer accepts, where admin tools exchange client credentials for a token, and the admin scope. The admin client's secret is read from Cognito (DescribeUserPoolClient), never from outputs."
  value = {
    id                 = module.user_pool.user_pool_id
    arn                = module.user_pool.user_pool_arn
    issuer_url         = module.user_pool.issuer_url
    customer_client_id = module.user_pool.customer_client_id
    admin_client_id    = module.user_pool.admin_client_id
    token_endpoint     = module.user_pool.token_endpoint
    admin_scope        = local.admin_scope
    customer_scope     = local.customer_scope
  }
}

output "api_route_authorization" {
  description = "How the gateway authorizes each route of the API: type (NONE or JWT), authorizer_id and the scopes a token must carry one of."
  value       = module.http_api.route_authorization
}

output "name" {
  description = "<name_prefix>-<environment>: what the environment's resources are named with (and its SSM parameters under /<name>/)."
  value       = local.name
}
