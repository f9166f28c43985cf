locals {
  # One integration per function and qualifier; routes onto it share it.
  integration_key = { for key, r in var.routes : key => r.function_qualifier == null ? r.function_name : "${r.function_name}:${r.function_qualifier}" }
  integrations    = { for key, r in var.routes : local.integration_key[key] => r... }

  # Lambda source ARN per route: <execution_arn>/<stage>/<METHOD>/<path>, path
  # parameters as *, ANY as * (the format SAM uses); $default can receive any
  # method and path of this API.
  route_source_path = {
    for key in keys(var.routes) : key => key == "$default" ? "*/*" : format("*/%s%s",
      split(" ", key)[0] == "ANY" ? "*" : split(" ", key)[0],
      replace(split(" ", key)[1], "/\\{[^}]+\\}/", "*"),
    )
  }

  access_log_format = jsonencode({
    requestId          = "$context.requestId"
    ip                 = "$context.identity.sourceIp"
    requestTime        = "$context.requestTime"
    httpMethod         = "$context.httpMethod"
    routeKey           = "$context.routeKey"
    status             = "$context.status"
    protocol           = "$context.protocol"
    responseLength     = "$context.responseLength"
    integrationError   = "$context.integrationErrorMessage"
    latency            = "$context.responseLatency"
    integrationLatency = "$context.integrationLatency"
  })
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  description   = var.description
  protocol_type = "HTTP"

  dynamic "cors_configuration" {
    for_each = var.cors == null ? [] : [var.cors]
    content {
      allow_origins     = cors_configuration.value.allow_origins
      allow_methods     = cors_configuration.value.allow_methods
      allow_headers     = cors_configuration.value.allow_headers
      expose_headers    = cors_configuration.value.expose_headers
      max_age           = cors_configuration.value.max_age
      allow_credentials = cors_configuration.value.allow_credentials
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; a customer managed key is the caller's choice (log_kms_key_arn)
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit   = var.throttling.burst_limit
    throttling_rate_limit    = var.throttling.rate_limit
    detailed_metrics_enabled = var.detailed_metrics
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format          = local.access_log_format
  }

  tags = var.tags
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count = var.jwt_authorizer == null ? 0 : 1

  api_id           = aws_apigatewayv2_api.this.id
  name             = var.jwt_authorizer.name
  authorizer_type  = "JWT"
  identity_sources = var.jwt_authorizer.identity_sources

  jwt_configuration {
    issuer   = var.jwt_authorizer.issuer
    audience = var.jwt_authorizer.audience
  }

  lifecycle {
    # The payload format of Lambda (REQUEST) authorizers; a JWT authorizer has none. ministack
    # reports 2.0 for every authorizer, which would show as a change in every plan.
    ignore_changes = [authorizer_payload_format_version]
  }
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = local.integrations

  api_id                 = aws_apigatewayv2_api.this.id
  description            = "Lambda ${each.key}"
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = each.value[0].function_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = each.value[0].timeout_milliseconds
}

resource "aws_apigatewayv2_route" "this" {
  for_each = var.routes

  #checkov:skip=CKV_AWS_309:Authorization is chosen per route: JWT where an authorizer is configured, NONE only for deliberately public routes (e.g. the public order API), which the stage throttles
  api_id               = aws_apigatewayv2_api.this.id
  route_key            = each.key
  target               = "integrations/${aws_apigatewayv2_integration.this[local.integration_key[each.key]].id}"
  authorization_type   = each.value.authorization
  authorizer_id        = each.value.authorization == "JWT" ? aws_apigatewayv2_authorizer.jwt[0].id : null
  authorization_scopes = each.value.authorization == "JWT" && length(each.value.authorization_scopes) > 0 ? each.value.authorization_scopes : null
}

# One permission per route: API Gateway may invoke the alias only through this
# API's route (method and path), never through another API or route.
resource "aws_lambda_permission" "route" {
  for_each = var.routes

  statement_id  = "apigw-${substr(replace(each.key, "/[^A-Za-z0-9_-]/", "_"), 0, 80)}-${substr(md5(each.key), 0, 8)}"
  action        = "lambda:InvokeFunction"
  function_name = each.value.function_name
  qualifier     = each.value.function_qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/${local.route_source_path[each.key]}"
}
