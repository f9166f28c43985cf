# The orders platform, composed from the modules. Every environment (local, dev, staging,
# prod) instantiates exactly this, with its own values: a change to the platform is a change
# here, and all environments get it the same way.
#
#   client -> http_api -> orders_api -> orders queue (+DLQ) -> order_processor
#          -> event bus -> outcomes rule -> notifications queue (+DLQ) -> notifier -> SES

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  name         = "${var.name_prefix}-${var.environment}"
  event_source = "orders"
  tags         = merge(var.tags, { "platform:environment" = var.environment })

  # Every alarm notifies the environment's alarm topic on ALARM and on OK (alarms.tf).
  alarm_actions = module.alarm_topic[*].topic_arn
  alarm_routing = {
    enabled       = var.alarms_enabled
    alarm_actions = local.alarm_actions
    ok_actions    = local.alarm_actions
  }
  function_alarms = merge(local.alarm_routing, {
    error_rate_threshold_pct = var.alarm_thresholds.function_error_rate_pct
  })

  table_arn          = module.table.table_arn
  customer_index_arn = module.table.index_arns["by-customer"]
  # Partition keys of the orders table (shared/README.md); an idempotency record's is
  # "<function name>.<handler>#<hash>" (powertools' key prefix).
  function_names = {
    orders_api      = "${local.name}-orders-api"
    order_processor = "${local.name}-order-processor"
    notifier        = "${local.name}-notifier"
  }
  order_keys    = "ORDER#*"
  stock_keys    = "SKU#*"
  customer_keys = "CUSTOMER#*"
  ses_identity_arn = format(
    "arn:%s:ses:%s:%s:identity/%s",
    data.aws_partition.current.partition,
    data.aws_region.current.name,
    data.aws_caller_identity.current.account_id,
    var.notification_sender,
  )

  # What every function reads from its environment (orders_core.settings, powertools).
  common_environment = {
    ENVIRONMENT                  = var.environment
    TABLE_NAME                   = module.table.table_name
    POWERTOOLS_METRICS_NAMESPACE = "OrdersPlatform"
    POWERTOOLS_TRACE_DISABLED    = var.tracing_enabled ? "false" : "true"
  }
  tracing_mode = var.tracing_enabled ? "Active" : "PassThrough"

  # The functions CodeDeploy deploys (var.deployment, local.function_names), each tested
  # first by the pre-traffic hook with the smoke checks of its kind (orders_core.smoke).
  smoke_checks = {
    (local.function_names.orders_api)      = "http_api"
    (local.function_names.order_processor) = "sqs_consumer"
    (local.function_names.notifier)        = "sqs_consumer"
  }
  arn_prefix     = "arn:${data.aws_partition.current.partition}"
  account_region = "${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  # Each deployment watches the function's own alarms and the composite alarm. The composite is
  # named, not referenced: it is over the functions' alarms, so a reference would make the
  # functions depend on it, and removing the alarms a cycle in Terraform's graph.
  deployment = var.deployment == null ? null : {
    config               = var.deployment.config
    custom               = var.deployment.custom
    alarm_names          = var.alarms_enabled ? [local.composite_alarm_name] : []
    pre_traffic_hook_arn = module.pre_traffic_hook.function_arn
  }


  # Who may call each route of docs/api/orders.openapi.json. Every route but GET /health needs
  # a token of the environment's user pool; the gateway also checks that it carries one of
  # the route's scopes. A customer's access token carries Cognito's sign-in scope (ID tokens
  # carry none, so they are refused here too); the admin client's carries orders/admin. The
  # gateway cannot tell one customer from another: which orders a caller sees is the API's
  # decision (its own customer's, any customer's with orders/admin). $default lets the
  # function answer unknown paths (404) and wrong methods (405), to callers with a token.
  customer_scope = "aws.cognito.signin.user.admin"
  admin_scope    = module.user_pool.scope_identifiers["admin"]
  api_routes = {
    "POST /orders"                        = [local.customer_scope] # orders are placed by customers only
    "GET /orders/{order_id}"              = [local.customer_scope, local.admin_scope]
    "GET /customers/{customer_id}/orders" = [local.customer_scope, local.admin_scope]
    "$default"                            = [local.customer_scope, local.admin_scope]
    "GET /health"                         = null # public: load balancers and smoke checks
  }
}

# --- identity ----------------------------------------------------------------------------

module "user_pool" {
  source = "../modules/user-pool"

  name = "${local.name}-customers"
  # Unique across AWS accounts in the region: the account id makes it this environment's.
  domain_prefix        = "${local.name}-${data.aws_caller_identity.current.account_id}"
  deletion_protection  = var.user_pool.deletion_protection
  self_sign_up_enabled = var.user_pool.self_sign_up_enabled

  # SRP for apps; the password over TLS for scripts (make token, the load test's sign-in).
  customer_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

  access_token_validity_minutes = var.user_pool.access_token_validity_minutes
  id_token_validity_minutes     = var.user_pool.id_token_validity_minutes
  refresh_token_validity_days   = var.user_pool.refresh_token_validity_days

  tags = local.tags
}

# --- data --------------------------------------------------------------------------------

module "table" {
  source = "../modules/dynamo-table"

  name      = "${local.name}-orders"
  hash_key  = { name = "pk", type = "S" }
  range_key = { name = "sk", type = "S" }
  global_secondary_indexes = [{
    name            = "by-customer"
    hash_key        = { name = "gsi1pk", type = "S" }
    range_key       = { name = "gsi1sk", type = "S" }
    projection_type = "ALL"
  }]
  ttl_attribute_name     = "expires_at"
  point_in_time_recovery = var.data_protection.point_in_time_recovery
  deletion_protection    = var.data_protection.deletion_protection
  alarms                 = local.alarm_routing

  tags = local.tags
}

# --- messaging ---------------------------------------------------------------------------

module "orders_queue" {
  source = "../modules/queue-with-dlq"

  name                     = "${local.name}-orders"
  consumer_timeout_seconds = var.processor_function.timeout
  max_receive_count        = 3
  alarms                   = local.alarm_routing

  tags = local.tags
}

module "outcomes_rule" {
  source = "../modules/event-rule"

  name        = "${local.name}-order-outcomes"
  description = "OrderConfirmed and OrderRejected events, to the notifications queue."
  bus         = { name = "${local.name}-events", create = true }
  event_pattern = jsonencode({
    source        = [local.event_source]
    "detail-type" = ["OrderConfirmed", "OrderRejected"]
  })
  archive = {
    enabled        = var.event_archive_retention_days > 0
    retention_days = var.event_archive_retention_days
  }
  alarms = local.alarm_routing
  targets = {
    notifications = {
      type                  = "sqs"
      arn                   = module.notifications_queue.queue_arn
      dead_letter_queue_arn = module.notifications_queue.dlq_arn
      retry_policy = {
        maximum_retry_attempts       = 185
        maximum_event_age_in_seconds = 86400
      }
    }
  }

  tags = local.tags
}

module "notifications_queue" {
  source = "../modules/queue-with-dlq"

  name                     = "${local.name}-notifications"
  consumer_timeout_seconds = var.notifier_function.timeout
  max_receive_count        = 3
  # The rule delivers to the queue, and what it cannot deliver to the queue's DLQ.
  allowed_senders     = module.outcomes_rule.sqs_allowed_senders
  dlq_allowed_senders = module.outcomes_rule.sqs_allowed_senders
  alarms              = local.alarm_routing

  tags = local.tags
}

resource "aws_sesv2_email_identity" "sender" {
  count = var.manage_ses_identity ? 1 : 0

  email_identity = var.notification_sender
  tags           = local.tags
}

# --- code --------------------------------------------------------------------------------

resource "aws_lambda_layer_version" "shared" {
  layer_name  = "${local.name}-shared"
  description = "orders_core and the functions' third-party runtime dependencies"

  filename         = var.artifacts["layer"].filename
  s3_bucket        = var.artifacts["layer"].s3_bucket
  s3_key           = var.artifacts["layer"].s3_key
  source_code_hash = var.artifacts["layer"].source_code_hash

  compatible_runtimes      = [var.lambda_runtime]
  compatible_architectures = [var.lambda_architecture]

  # New code: the new version exists before the functions move to it.
  lifecycle {
    create_before_destroy = true
  }
}

module "orders_api" {
  source = "../modules/lambda"

  function_name = local.function_names.orders_api
  description   = "HTTP API of the orders platform"
  handler       = "orders_api.handler.lambda_handler"
  package       = var.artifacts["orders_api"]
  runtime       = var.lambda_runtime
  architecture  = var.lambda_architecture
  layers        = [aws_lambda_layer_version.shared.arn]
  memory_size   = var.api_function.memory_size
  timeout       = var.api_function.timeout

  environment_variables = merge(local.common_environment, {
    POWERTOOLS_SERVICE_NAME = "orders_api"
    ORDERS_QUEUE_URL        = module.orders_queue.queue_url
    IDEMPOTENCY_TTL_SECONDS = "86400"
    ADMIN_SCOPE             = local.admin_scope
  })
  log_retention_in_days = var.log_retention_days
  tracing_mode          = local.tracing_mode
  alarms                = local.function_alarms

  reserved_concurrent_executions    = var.api_function.reserved_concurrency
  provisioned_concurrent_executions = var.api_function.provisioned_concurrency
  snap_start                        = var.api_function.snap_start

  # Exactly the calls it makes (make iam-check): orders by id, the customer index, its own
  # idempotency records, the orders queue.
  accesses = [
    { type = "dynamodb_get_item", resources = [local.table_arn], leading_keys = [local.order_keys] },
    { type = "dynamodb_put_item", resources = [local.table_arn], leading_keys = [local.order_keys] },
    { type = "dynamodb_query", resources = [local.customer_index_arn] },
    { type = "dynamodb_idempotency", resources = [local.table_arn], leading_keys = ["${local.function_names.orders_api}.*"] },
    { type = "sqs_send", resources = [module.orders_queue.queue_arn] },
  ]

  deployment = local.deployment

  tags = local.tags
}

module "order_processor" {
  source = "../modules/lambda"

  function_name = local.function_names.order_processor
  description   = "Reserves stock and confirms or rejects orders from the orders queue"
  handler       = "order_processor.handler.lambda_handler"
  package       = var.artifacts["order_processor"]
  runtime       = var.lambda_runtime
  architecture  = var.lambda_architecture
  layers        = [aws_lambda_layer_version.shared.arn]
  memory_size   = var.processor_function.memory_size
  timeout       = var.processor_function.timeout

  environment_variables = merge(local.common_environment, {
    POWERTOOLS_SERVICE_NAME = "order_processor"
    EVENT_BUS_NAME          = module.outcomes_rule.bus_name
    EVENT_SOURCE            = local.event_source
  })
  log_retention_in_days = var.log_retention_days
  tracing_mode          = local.tracing_mode
  alarms                = local.function_alarms

  event_sources = {
    orders = {
      type                               = "sqs"
      event_source_arn                   = module.orders_queue.queue_arn
      batch_size                         = var.processor_function.batch_size
      maximum_batching_window_in_seconds = var.processor_function.batching_window_seconds
      maximum_concurrency                = var.processor_function.maximum_concurrency
    }
  }
  # Orders and stock: read, confirmed in one transaction (Put of the order, Update of each
  # SKU), rejected (Put), marked announced (Update); then the outcome onto the bus.
  accesses = [
    { type = "dynamodb_get_item", resources = [local.table_arn], leading_keys = [local.order_keys, local.stock_keys] },
    { type = "dynamodb_put_item", resources = [local.table_arn], leading_keys = [local.order_keys] },
    { type = "dynamodb_update_item", resources = [local.table_arn], leading_keys = [local.order_keys, local.stock_keys] },
    { type = "events_put", resources = [module.outcomes_rule.bus_arn] },
  ]

  deployment = local.deployment

  tags = local.tags
}

module "notifier" {
  source = "../modules/lambda"

  function_name = local.function_names.notifier
  description   = "Tells customers how their orders ended, once per order"
  handler       = "notifier.handler.lambda_handler"
  package       = var.artifacts["notifier"]
  runtime       = var.lambda_runtime
  architecture  = var.lambda_architecture
  layers        = [aws_lambda_layer_version.shared.arn]
  memory_size   = var.notifier_function.memory_size
  timeout       = var.notifier_function.timeout

  environment_variables = merge(local.common_environment, {
    POWERTOOLS_SERVICE_NAME = "notifier"
    NOTIFICATION_SENDER     = var.notification_sender
    # This execution environment's share of the SES rate: at most maximum_concurrency of them
    # run at once (the event source's cap), so together they never exceed ses_send_rate.
    MAIL_SENDS_PER_SECOND = tostring(var.ses_send_rate / var.notifier_function.maximum_concurrency)
    # Longer than the notifications queue keeps a message: a late redelivery still finds
    # the record and sends nothing.
    IDEMPOTENCY_TTL_SECONDS = "604800"
  })
  log_retention_in_days = var.log_retention_days
  tracing_mode          = local.tracing_mode
  alarms                = local.function_alarms

  event_sources = {
    notifications = {
      type                = "sqs"
      event_source_arn    = module.notifications_queue.queue_arn
      batch_size          = var.notifier_function.batch_size
      maximum_concurrency = var.notifier_function.maximum_concurrency
    }
  }
  # The customer's address, the order's notification record (claimed and completed with
  # PutItem, given back with DeleteItem when SES did not take the mail), its own idempotency
  # records, and SES v2 SendEmail from the sender identity.
  accesses = [
    { type = "dynamodb_get_item", resources = [local.table_arn], leading_keys = [local.customer_keys, local.order_keys] },
    { type = "dynamodb_put_item", resources = [local.table_arn], leading_keys = [local.order_keys] },
    { type = "dynamodb_delete_item", resources = [local.table_arn], leading_keys = [local.order_keys] },
    { type = "dynamodb_idempotency", resources = [local.table_arn], leading_keys = ["${local.function_names.notifier}.*"] },
    { type = "ses_send", resources = [local.ses_identity_arn] },
  ]

  deployment = local.deployment

  tags = local.tags
}

# The pre-traffic hook CodeDeploy runs before any traffic shifts to a new version (make deploy).
# It exists in every environment, so that every environment ships the same artifacts; only
# one with a deployment runs it.
module "pre_traffic_hook" {
  source = "../modules/lambda"

  function_name = "${local.name}-pre-traffic-hook"
  description   = "Smoke-tests a new function version before CodeDeploy shifts traffic to it"
  handler       = "pre_traffic_hook.handler.lambda_handler"
  package       = var.artifacts["pre_traffic_hook"]
  runtime       = var.lambda_runtime
  architecture  = var.lambda_architecture
  layers        = [aws_lambda_layer_version.shared.arn]
  memory_size   = 256
  # Three synchronous invocations of a version that may start cold.
  timeout = 120

  environment_variables = {
    ENVIRONMENT                  = var.environment
    POWERTOOLS_SERVICE_NAME      = "pre_traffic_hook"
    POWERTOOLS_METRICS_NAMESPACE = local.common_environment.POWERTOOLS_METRICS_NAMESPACE
    POWERTOOLS_TRACE_DISABLED    = local.common_environment.POWERTOOLS_TRACE_DISABLED
    SMOKE_CHECKS                 = jsonencode(local.smoke_checks)
  }
  log_retention_in_days = var.log_retention_days
  tracing_mode          = local.tracing_mode
  # Its verdict is the deployment's: make deploy reports it, and a failure rolls back.
  alarms = { enabled = false }

  accesses = [
    {
      type      = "lambda_invoke"
      resources = [for name in values(local.function_names) : "${local.arn_prefix}:lambda:${local.account_region}:function:${name}:*"]
    },
    {
      # Each function's deployment group is named after its alias (modules/lambda).
      type      = "codedeploy_hook"
      resources = [for name in values(local.function_names) : "${local.arn_prefix}:codedeploy:${local.account_region}:deploymentgroup:${name}/live"]
    },
  ]

  tags = local.tags
}

# --- HTTP --------------------------------------------------------------------------------

module "http_api" {
  source = "../modules/http-api"

  name        = "${local.name}-api"
  description = "Orders API (docs/api/orders.openapi.json)"
  routes = {
    for key, scopes in local.api_routes : key => {
      function_invoke_arn  = module.orders_api.alias_invoke_arn
      function_name        = module.orders_api.function_name
      function_qualifier   = module.orders_api.alias_name
      timeout_milliseconds = min(var.api_function.timeout * 1000, 30000)
      authorization        = scopes == null ? "NONE" : "JWT"
      authorization_scopes = coalesce(scopes, [])
    }
  }
  # Tokens of this environment's pool, issued to its customer or admin client.
  jwt_authorizer = merge(module.user_pool.jwt_authorizer, { name = "${local.name}-customers" })
  throttling = {
    burst_limit = var.api_throttling.burst_limit
    rate_limit  = var.api_throttling.rate_limit
  }
  log_retention_days = var.log_retention_days
  alarms = merge(local.alarm_routing, {
    latency_p99_threshold_ms        = var.alarm_thresholds.api_latency_p99_ms
    server_error_rate_threshold_pct = var.alarm_thresholds.api_server_error_rate_pct
  })

  tags = local.tags
}
