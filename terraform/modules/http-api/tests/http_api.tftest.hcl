mock_provider "aws" {
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "a1b2c3d4e5"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
      api_endpoint  = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/orders-api" }
  }
}

variables {
  name = "orders-api"
  routes = {
    "POST /orders" = {
      function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live/invocations"
      function_name       = "orders-api"
      function_qualifier  = "live"
    }
    "GET /orders/{order_id}" = {
      function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live/invocations"
      function_name       = "orders-api"
      function_qualifier  = "live"
    }
  }
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_api.this.protocol_type == "HTTP" && length(aws_apigatewayv2_api.this.cors_configuration) == 0
    error_message = "an HTTP API without CORS by default"
  }
  assert {
    condition     = aws_apigatewayv2_stage.default.name == "$default" && aws_apigatewayv2_stage.default.auto_deploy
    error_message = "the $default stage deploys automatically"
  }
  assert {
    condition     = aws_apigatewayv2_stage.default.default_route_settings[0].throttling_burst_limit == 200 && aws_apigatewayv2_stage.default.default_route_settings[0].throttling_rate_limit == 100
    error_message = "routes are throttled by default"
  }
  assert {
    condition     = aws_apigatewayv2_stage.default.default_route_settings[0].detailed_metrics_enabled
    error_message = "per-route metrics are on by default"
  }
  assert {
    condition     = aws_cloudwatch_log_group.access.name == "/aws/apigateway/orders-api" && aws_cloudwatch_log_group.access.retention_in_days == 365 && aws_cloudwatch_log_group.access.kms_key_id == null
    error_message = "access logs go to their own log group, kept a year"
  }
  assert {
    condition = toset(keys(jsondecode(aws_apigatewayv2_stage.default.access_log_settings[0].format))) == toset([
      "requestId", "ip", "requestTime", "httpMethod", "routeKey", "status", "protocol",
      "responseLength", "integrationError", "latency", "integrationLatency",
    ])
    error_message = "the access log is JSON with the agreed fields"
  }
  assert {
    condition     = jsondecode(aws_apigatewayv2_stage.default.access_log_settings[0].format).requestId == "$context.requestId" && jsondecode(aws_apigatewayv2_stage.default.access_log_settings[0].format).latency == "$context.responseLatency"
    error_message = "access log fields map to $context variables"
  }
  assert {
    condition     = keys(aws_apigatewayv2_integration.this) == ["orders-api:live"]
    error_message = "two routes onto one alias share one integration"
  }
  assert {
    condition     = aws_apigatewayv2_integration.this["orders-api:live"].integration_type == "AWS_PROXY" && aws_apigatewayv2_integration.this["orders-api:live"].payload_format_version == "2.0" && aws_apigatewayv2_integration.this["orders-api:live"].integration_uri == var.routes["POST /orders"].function_invoke_arn
    error_message = "Lambda proxy integration, payload 2.0, invoking the alias"
  }
  assert {
    condition     = aws_apigatewayv2_integration.this["orders-api:live"].timeout_milliseconds == 30000
    error_message = "integration timeout defaults to the 30 s maximum"
  }
  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.authorization_type == "NONE" && r.authorizer_id == null])
    error_message = "routes are public unless JWT is asked for"
  }
  assert {
    condition     = length(aws_apigatewayv2_authorizer.jwt) == 0
    error_message = "no authorizer unless configured"
  }
  assert {
    condition     = alltrue([for p in aws_lambda_permission.route : p.principal == "apigateway.amazonaws.com" && p.function_name == "orders-api" && p.qualifier == "live" && p.action == "lambda:InvokeFunction"])
    error_message = "each route's permission is on the alias, for API Gateway"
  }
}

run "permissions_are_scoped_to_api_method_and_path" {
  command = apply

  variables {
    routes = merge(var.routes, {
      "ANY /files/{proxy+}" = {
        function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:files/invocations"
        function_name       = "files"
      }
      "$default" = {
        function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:fallback:live/invocations"
        function_name       = "arn:aws:lambda:eu-west-1:123456789012:function:fallback"
        function_qualifier  = "live"
      }
    })
  }

  assert {
    condition = output.route_source_arns == {
      "POST /orders"           = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/*/POST/orders"
      "GET /orders/{order_id}" = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/*/GET/orders/*"
      "ANY /files/{proxy+}"    = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/*/*/files/*"
      "$default"               = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/*/*"
    }
    error_message = "source ARNs name this API, the method and the path (parameters as *)"
  }
  assert {
    condition     = toset(keys(output.integration_ids)) == toset(["orders-api:live", "files", "arn:aws:lambda:eu-west-1:123456789012:function:fallback:live"])
    error_message = "one integration per function and qualifier"
  }
  assert {
    condition     = aws_lambda_permission.route["ANY /files/{proxy+}"].qualifier == null
    error_message = "an unqualified function gets an unqualified permission"
  }
  assert {
    condition     = length(distinct([for p in aws_lambda_permission.route : p.statement_id])) == 4 && alltrue([for p in aws_lambda_permission.route : can(regex("^[A-Za-z0-9_-]{1,100}$", p.statement_id))])
    error_message = "statement ids are unique and valid"
  }
  assert {
    condition     = aws_apigatewayv2_route.this["GET /orders/{order_id}"].target == "integrations/${aws_apigatewayv2_integration.this["orders-api:live"].id}"
    error_message = "routes target their function's integration"
  }
  assert {
    condition     = output.execution_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5" && output.api_id == "a1b2c3d4e5" && output.log_group_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/orders-api"
    error_message = "outputs expose the API and its log group"
  }
  assert {
    condition     = length(output.route_ids) == 4 && output.authorizer_id == null
    error_message = "every route id is output"
  }
}

run "jwt_routes_cors_and_options" {
  command = plan

  variables {
    routes = {
      "POST /orders" = {
        function_invoke_arn  = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live/invocations"
        function_name        = "orders-api"
        function_qualifier   = "live"
        authorization        = "JWT"
        authorization_scopes = ["orders/write"]
        timeout_milliseconds = 5000
      }
      "GET /health" = {
        function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:health/invocations"
        function_name       = "health"
      }
    }
    jwt_authorizer = {
      issuer   = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
      audience = ["client-1"]
    }
    cors = {
      allow_origins     = ["https://shop.example.com"]
      allow_credentials = true
    }
    throttling         = { burst_limit = 1000, rate_limit = 500.5 }
    detailed_metrics   = false
    log_retention_days = 30
    log_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    tags               = { team = "orders" }
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.jwt[0].authorizer_type == "JWT" && aws_apigatewayv2_authorizer.jwt[0].identity_sources == toset(["$request.header.Authorization"]) && aws_apigatewayv2_authorizer.jwt[0].jwt_configuration[0].issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc" && aws_apigatewayv2_authorizer.jwt[0].jwt_configuration[0].audience == toset(["client-1"])
    error_message = "the JWT authorizer is configured"
  }
  assert {
    condition     = aws_apigatewayv2_route.this["POST /orders"].authorization_type == "JWT" && aws_apigatewayv2_route.this["POST /orders"].authorization_scopes == toset(["orders/write"])
    error_message = "JWT routes use the authorizer with their scopes"
  }
  assert {
    condition     = aws_apigatewayv2_route.this["GET /health"].authorization_type == "NONE" && aws_apigatewayv2_route.this["GET /health"].authorizer_id == null
    error_message = "public routes stay public"
  }
  assert {
    condition     = aws_apigatewayv2_integration.this["orders-api:live"].timeout_milliseconds == 5000
    error_message = "the route timeout becomes the integration timeout"
  }
  assert {
    condition     = aws_apigatewayv2_api.this.cors_configuration[0].allow_origins == toset(["https://shop.example.com"]) && aws_apigatewayv2_api.this.cors_configuration[0].allow_credentials && aws_apigatewayv2_api.this.cors_configuration[0].max_age == 600
    error_message = "CORS is configured"
  }
  assert {
    condition     = aws_apigatewayv2_stage.default.default_route_settings[0].throttling_burst_limit == 1000 && aws_apigatewayv2_stage.default.default_route_settings[0].throttling_rate_limit == 500.5 && !aws_apigatewayv2_stage.default.default_route_settings[0].detailed_metrics_enabled
    error_message = "throttling and metrics are configurable"
  }
  assert {
    condition     = aws_cloudwatch_log_group.access.retention_in_days == 30 && aws_cloudwatch_log_group.access.kms_key_id == var.log_kms_key_arn
    error_message = "log retention and key are configurable"
  }
  assert {
    condition     = aws_apigatewayv2_api.this.tags == tomap({ team = "orders" }) && aws_apigatewayv2_stage.default.tags == tomap({ team = "orders" }) && aws_cloudwatch_log_group.access.tags == tomap({ team = "orders" })
    error_message = "tags reach the API, stage and log group"
  }
}

# --- validations -------------------------------------------------------------

run "rejects_bad_name" {
  command = plan
  variables {
    name = "orders api"
  }
  expect_failures = [var.name]
}

run "rejects_long_description" {
  command = plan
  variables {
    description = join("", [for i in range(103) : "0123456789"])
  }
  expect_failures = [var.description]
}

run "rejects_no_routes" {
  command = plan
  variables {
    routes = {}
  }
  expect_failures = [var.routes]
}

run "rejects_route_key_without_method" {
  command = plan
  variables {
    routes = { "/orders" = var.routes["POST /orders"] }
  }
  expect_failures = [var.routes]
}

run "rejects_route_key_with_trailing_slash" {
  command = plan
  variables {
    routes = { "GET /orders/" = var.routes["POST /orders"] }
  }
  expect_failures = [var.routes]
}

run "rejects_greedy_parameter_before_the_end" {
  command = plan
  variables {
    routes = { "GET /{proxy+}/x" = var.routes["POST /orders"] }
  }
  expect_failures = [var.routes]
}

run "rejects_function_arn_as_invoke_arn" {
  command = plan
  variables {
    routes = { "POST /orders" = merge(var.routes["POST /orders"], { function_invoke_arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live" }) }
  }
  expect_failures = [var.routes]
}

run "rejects_bad_function_name" {
  command = plan
  variables {
    routes = { "POST /orders" = merge(var.routes["POST /orders"], { function_name = "orders-api/live" }) }
  }
  expect_failures = [var.routes]
}

run "rejects_permission_on_another_alias_than_invoked" {
  command = plan
  variables {
    routes = { "POST /orders" = merge(var.routes["POST /orders"], { function_qualifier = "canary" }) }
  }
  expect_failures = [var.routes]
}

run "rejects_unknown_authorization" {
  command = plan
  variables {
    routes = { "POST /orders" = merge(var.routes["POST /orders"], { authorization = "AWS_IAM" }) }
  }
  expect_failures = [var.routes]
}

run "rejects_scopes_without_jwt" {
  command = plan
  variables {
    routes = { "POST /orders" = merge(var.routes["POST /orders"], { authorization_scopes = ["read"] }) }
  }
  expect_failures = [var.routes]
}

run "rejects_jwt_route_without_authorizer" {
  command = plan
  variables {
    routes = { "POST /orders" = merge(var.routes["POST /orders"], { authorization = "JWT" }) }
  }
  expect_failures = [var.routes]
}

run "rejects_timeout_out_of_range" {
  command = plan
  variables {
    routes = { "POST /orders" = merge(var.routes["POST /orders"], { timeout_milliseconds = 30001 }) }
  }
  expect_failures = [var.routes]
}

run "rejects_different_timeouts_onto_one_function" {
  command = plan
  variables {
    routes = merge(var.routes, { "POST /orders" = merge(var.routes["POST /orders"], { timeout_milliseconds = 1000 }) })
  }
  expect_failures = [var.routes]
}

run "rejects_zero_burst_limit" {
  command = plan
  variables {
    throttling = { burst_limit = 0, rate_limit = 10 }
  }
  expect_failures = [var.throttling]
}

run "rejects_zero_rate_limit" {
  command = plan
  variables {
    throttling = { burst_limit = 10, rate_limit = 0 }
  }
  expect_failures = [var.throttling]
}

run "rejects_unsupported_log_retention" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_bad_log_kms_key" {
  command = plan
  variables {
    log_kms_key_arn = "alias/logs"
  }
  expect_failures = [var.log_kms_key_arn]
}

run "rejects_http_issuer" {
  command = plan
  variables {
    jwt_authorizer = { issuer = "http://issuer.example.com", audience = ["a"] }
  }
  expect_failures = [var.jwt_authorizer]
}

run "rejects_empty_audience" {
  command = plan
  variables {
    jwt_authorizer = { issuer = "https://issuer.example.com", audience = [] }
  }
  expect_failures = [var.jwt_authorizer]
}

run "rejects_bad_identity_source" {
  command = plan
  variables {
    jwt_authorizer = { issuer = "https://issuer.example.com", audience = ["a"], identity_sources = ["Authorization"] }
  }
  expect_failures = [var.jwt_authorizer]
}

run "rejects_bad_authorizer_name" {
  command = plan
  variables {
    jwt_authorizer = { name = "my authorizer", issuer = "https://issuer.example.com", audience = ["a"] }
  }
  expect_failures = [var.jwt_authorizer]
}

run "rejects_wildcard_origin_with_credentials" {
  command = plan
  variables {
    cors = { allow_origins = ["*"], allow_credentials = true }
  }
  expect_failures = [var.cors]
}

run "rejects_origin_with_path" {
  command = plan
  variables {
    cors = { allow_origins = ["https://shop.example.com/app"] }
  }
  expect_failures = [var.cors]
}

run "rejects_unknown_cors_method" {
  command = plan
  variables {
    cors = { allow_origins = ["*"], allow_methods = ["FETCH"] }
  }
  expect_failures = [var.cors]
}

run "rejects_cors_max_age_out_of_range" {
  command = plan
  variables {
    cors = { allow_origins = ["*"], max_age = 86401 }
  }
  expect_failures = [var.cors]
}

# --- alarms ------------------------------------------------------------------------------

run "alarms_on_5xx_rate_and_p99_latency_by_default" {
  command = plan

  variables {
    alarms = { alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:alarms"], ok_actions = ["arn:aws:sns:eu-west-1:123456789012:alarms"] }
  }

  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.server_error_rate[0].metric_query : q.expression if q.id == "server_error_rate"]) == "IF(requests >= 10, 100 * server_errors / requests, 0)" && aws_cloudwatch_metric_alarm.server_error_rate[0].threshold == 1
    error_message = "5xx as a share of requests, over 1 %, 0 below 10 requests"
  }
  assert {
    condition     = toset([for q in aws_cloudwatch_metric_alarm.server_error_rate[0].metric_query : q.metric[0].metric_name if length(q.metric) > 0]) == toset(["5xx", "Count"]) && alltrue([for q in aws_cloudwatch_metric_alarm.server_error_rate[0].metric_query : q.metric[0].dimensions["Stage"] == "$default" if length(q.metric) > 0])
    error_message = "reads 5xx and Count of the $default stage"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.latency_p99[0].extended_statistic == "p99" && aws_cloudwatch_metric_alarm.latency_p99[0].threshold == 1000 && aws_cloudwatch_metric_alarm.latency_p99[0].metric_name == "Latency"
    error_message = "p99 latency over 1 s by default"
  }
  assert {
    condition = alltrue([for a in [aws_cloudwatch_metric_alarm.server_error_rate[0], aws_cloudwatch_metric_alarm.latency_p99[0]] :
    a.treat_missing_data == "notBreaching" && a.datapoints_to_alarm == 3 && a.evaluation_periods == 5 && length(a.alarm_actions) == 1 && length(a.ok_actions) == 1])
    error_message = "3 of 5 periods; ALARM and OK notify"
  }
  assert {
    condition     = keys(output.alarm_names) == ["latency_p99", "server_error_rate"]
    error_message = "the outputs name both alarms"
  }
}

run "api_alarm_thresholds_are_values" {
  command = plan
  variables {
    alarms = { latency_p99_threshold_ms = 400, server_error_rate_threshold_pct = 0.5, min_requests = 100 }
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.latency_p99[0].threshold == 400 && aws_cloudwatch_metric_alarm.server_error_rate[0].threshold == 0.5 && strcontains(one([for q in aws_cloudwatch_metric_alarm.server_error_rate[0].metric_query : q.expression if q.id == "server_error_rate"]), ">= 100")
    error_message = "thresholds come from the values"
  }
}

run "api_alarms_can_be_turned_off" {
  command = plan
  variables {
    alarms = { enabled = false }
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.server_error_rate) + length(aws_cloudwatch_metric_alarm.latency_p99) == 0 && output.alarm_names == {}
    error_message = "no alarm when off"
  }
}

run "rejects_a_latency_threshold_beyond_the_integration_timeout" {
  command = plan
  variables {
    alarms = { latency_p99_threshold_ms = 31000 }
  }
  expect_failures = [var.alarms]
}

run "rejects_api_alarm_actions_that_are_not_topics" {
  command = plan
  variables {
    alarms = { ok_actions = ["arn:aws:lambda:eu-west-1:123456789012:function:f"] }
  }
  expect_failures = [var.alarms]
}
