output "api_id" {
  description = "ID of the HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "Default endpoint of the API (https://<id>.execute-api.<region>.amazonaws.com)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "stage_invoke_url" {
  description = "Invoke URL of the $default stage (callers append the route path)."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "execution_arn" {
  description = "Execution ARN of the API (prefix of Lambda permission source ARNs and execute-api IAM policies)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_id" {
  description = "ID of the $default stage."
  value       = aws_apigatewayv2_stage.default.id
}

output "log_group_name" {
  description = "Name of the access log group."
  value       = aws_cloudwatch_log_group.access.name
}

output "log_group_arn" {
  description = "ARN of the access log group."
  value       = aws_cloudwatch_log_group.access.arn
}

output "route_ids" {
  description = "Map of route key to route ID."
  value       = { for key, r in aws_apigatewayv2_route.this : key => r.id }
}

output "integration_ids" {
  description = "Map of function (name or name:qualifier) to the ID of its integration."
  value       = { for key, i in aws_apigatewayv2_integration.this : key => i.id }
}

output "route_source_arns" {
  description = "Map of route key to the source ARN its Lambda permission allows."
  value       = { for key, p in aws_lambda_permission.route : key => p.source_arn }
}

output "authorizer_id" {
  description = "ID of the JWT authorizer, null without one."
  value       = one(aws_apigatewayv2_authorizer.jwt[*].id)
}

output "alarm_names" {
  description = "Name of each alarm of the API by kind: server_error_rate, latency_p99 (empty when alarms are off)."
  value = {
    for kind, alarm in {
      server_error_rate = aws_cloudwatch_metric_alarm.server_error_rate
      latency_p99       = aws_cloudwatch_metric_alarm.latency_p99
    } : kind => alarm[0].alarm_name if length(alarm) > 0
  }
}

output "alarm_arns" {
  description = "ARN of each alarm of the API by kind (as alarm_names)."
  value = {
    for kind, alarm in {
      server_error_rate = aws_cloudwatch_metric_alarm.server_error_rate
      latency_p99       = aws_cloudwatch_metric_alarm.latency_p99
    } : kind => alarm[0].arn if length(alarm) > 0
  }
}

output "route_authorization" {
  description = "Map of route key to how the gateway authorizes it, as applied: type (NONE or JWT), authorizer_id (null for NONE) and the scopes a token must carry one of (empty: any token of the authorizer)."
  value = {
    # Scopes and authorizer as configured: read back (ministack, measured), routes without them
    # answered an empty set and "", and every plan showed this output as changed.
    for key, r in aws_apigatewayv2_route.this : key => {
      type          = r.authorization_type
      authorizer_id = r.authorization_type == "JWT" ? aws_apigatewayv2_authorizer.jwt[0].id : null
      scopes        = sort(var.routes[key].authorization_scopes)
    }
  }
}

output "jwt_authorizer" {
  description = "The JWT authorizer as applied: id, issuer and audience (null without jwt_authorizer)."
  value = one([for a in aws_apigatewayv2_authorizer.jwt : {
    id       = a.id
    issuer   = one(a.jwt_configuration).issuer
    audience = sort(tolist(one(a.jwt_configuration).audience))
  }])
}
