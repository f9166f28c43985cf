variable "name" {
  description = "Name of the API (also names its access log group /aws/apigateway/<name>)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,128}$", var.name))
    error_message = "name must be 1-128 letters, digits, dots, hyphens or underscores."
  }
}

variable "description" {
  description = "Description of the API."
  type        = string
  default     = null

  validation {
    condition     = length(coalesce(var.description, " ")) <= 1024
    error_message = "description must be at most 1024 characters, or null."
  }
}

variable "routes" {
  description = <<-EOT
    Routes keyed by route key: "<METHOD> /path" (METHOD one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY;
    path segments may be {param}, the last one {param+}) or "$default". Each names the Lambda function it invokes:
    function_invoke_arn (the alias invoke ARN), function_name and function_qualifier (the alias) for the permission.
    authorization NONE or JWT (JWT needs jwt_authorizer; authorization_scopes only with JWT).
    timeout_milliseconds 50-30000, the same for routes onto the same function (they share one integration).
  EOT
  type = map(object({
    function_invoke_arn  = string
    function_name        = string
    function_qualifier   = optional(string)
    authorization        = optional(string, "NONE")
    authorization_scopes = optional(list(string), [])
    timeout_milliseconds = optional(number, 30000)
  }))

  validation {
    condition     = length(var.routes) >= 1 && alltrue([for k in keys(var.routes) : k == "$default" || can(regex("^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) /(([A-Za-z0-9._~-]+|\\{[A-Za-z0-9_]+\\})(/([A-Za-z0-9._~-]+|\\{[A-Za-z0-9_]+\\}))*(/\\{[A-Za-z0-9_]+\\+\\})?|\\{[A-Za-z0-9_]+\\+\\})?$", k))])
    error_message = "routes needs at least one route; keys must be \"$default\" or \"<GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY> /path\" with segments of letters, digits, ._~- or {param}, the last one possibly {param+}, no trailing slash."
  }

  validation {
    condition     = alltrue([for r in var.routes : can(regex("^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?/invocations$", r.function_invoke_arn))])
    error_message = "routes[*].function_invoke_arn must be a Lambda invoke ARN (arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<function or alias ARN>/invocations)."
  }

  validation {
    condition     = alltrue([for r in var.routes : can(regex("^([A-Za-z0-9_-]{1,64}|arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64})$", r.function_name)) && (r.function_qualifier == null || can(regex("^[A-Za-z0-9_$-]{1,128}$", r.function_qualifier)))])
    error_message = "routes[*].function_name must be a function name or unqualified function ARN, and function_qualifier an alias or version (or null)."
  }

  validation {
    condition = alltrue([for r in var.routes : endswith(r.function_invoke_arn, format("%s%s/invocations",
      startswith(r.function_name, "arn:") ? r.function_name : ":function:${r.function_name}",
      r.function_qualifier == null ? "" : ":${r.function_qualifier}",
    ))])
    error_message = "routes[*].function_invoke_arn must invoke function_name with function_qualifier (the permission and the integration must name the same function and alias)."
  }

  validation {
    condition     = alltrue([for r in var.routes : contains(["NONE", "JWT"], r.authorization) && (r.authorization == "JWT" || length(r.authorization_scopes) == 0)])
    error_message = "routes[*].authorization must be NONE or JWT; authorization_scopes are only allowed with JWT."
  }

  validation {
    condition     = var.jwt_authorizer != null || alltrue([for r in var.routes : r.authorization != "JWT"])
    error_message = "routes with authorization = \"JWT\" need jwt_authorizer."
  }

  validation {
    condition     = alltrue([for r in var.routes : r.timeout_milliseconds >= 50 && r.timeout_milliseconds <= 30000 && floor(r.timeout_milliseconds) == r.timeout_milliseconds])
    error_message = "routes[*].timeout_milliseconds must be a whole number between 50 and 30000."
  }

  validation {
    condition = alltrue([for fn, rs in { for r in values(var.routes) : "${r.function_name}:${coalesce(r.function_qualifier, "-")}" => r... } :
      length(distinct([for r in rs : r.timeout_milliseconds])) == 1 && length(distinct([for r in rs : r.function_invoke_arn])) == 1
    ])
    error_message = "routes onto the same function and qualifier must use the same function_invoke_arn and timeout_milliseconds (they share one integration)."
  }
}

variable "throttling" {
  description = "Default route throttling of the stage: burst_limit requests at once, rate_limit requests per second (steady state)."
  type = object({
    burst_limit = number
    rate_limit  = number
  })
  default = {
    burst_limit = 200
    rate_limit  = 100
  }

  validation {
    condition     = var.throttling.burst_limit >= 1 && floor(var.throttling.burst_limit) == var.throttling.burst_limit && var.throttling.rate_limit > 0
    error_message = "throttling.burst_limit must be a whole number of at least 1 and throttling.rate_limit greater than 0."
  }
}

variable "detailed_metrics" {
  description = "Per-route CloudWatch metrics (latency, 4xx, 5xx by route); charged as custom metrics."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the access log group, in days (a CloudWatch Logs value)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "Customer managed KMS key for the access log group (its key policy must allow logs.<region>.amazonaws.com). Null = CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), or null."
  }
}

variable "jwt_authorizer" {
  description = "JWT authorizer for routes with authorization = \"JWT\": issuer (https URL), audience (client ids), identity_sources."
  type = object({
    name             = optional(string, "jwt")
    issuer           = string
    audience         = list(string)
    identity_sources = optional(list(string), ["$request.header.Authorization"])
  })
  default = null

  validation {
    condition     = var.jwt_authorizer == null || can(regex("^https://[^\\s/]+(/\\S*)?$", var.jwt_authorizer.issuer))
    error_message = "jwt_authorizer.issuer must be an https:// URL."
  }

  validation {
    condition     = var.jwt_authorizer == null || (length(try(var.jwt_authorizer.audience, [])) >= 1 && alltrue([for a in try(var.jwt_authorizer.audience, []) : length(a) > 0]))
    error_message = "jwt_authorizer.audience must list at least one non-empty audience."
  }

  validation {
    condition     = var.jwt_authorizer == null || (length(try(var.jwt_authorizer.identity_sources, [])) >= 1 && alltrue([for s in try(var.jwt_authorizer.identity_sources, []) : can(regex("^\\$(request\\.(header|querystring)|context|stageVariables)\\.[A-Za-z0-9._-]+$", s))]))
    error_message = "jwt_authorizer.identity_sources must list selection expressions like $request.header.Authorization."
  }

  validation {
    condition     = var.jwt_authorizer == null || can(regex("^[A-Za-z0-9._-]{1,128}$", try(var.jwt_authorizer.name, "")))
    error_message = "jwt_authorizer.name must be 1-128 letters, digits, dots, hyphens or underscores."
  }
}

variable "cors" {
  description = "CORS configuration answered by API Gateway. Null = no CORS. A wildcard origin cannot be combined with allow_credentials."
  type = object({
    allow_origins     = list(string)
    allow_methods     = optional(list(string), ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    allow_headers     = optional(list(string), ["authorization", "content-type"])
    expose_headers    = optional(list(string), [])
    max_age           = optional(number, 600)
    allow_credentials = optional(bool, false)
  })
  default = null

  validation {
    condition     = var.cors == null || (length(try(var.cors.allow_origins, [])) >= 1 && alltrue([for o in try(var.cors.allow_origins, []) : o == "*" || can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))]))
    error_message = "cors.allow_origins must list \"*\" or origins like https://app.example.com (scheme, host, optional port; no path)."
  }

  validation {
    condition     = var.cors == null || !(try(var.cors.allow_credentials, false) && contains(try(var.cors.allow_origins, []), "*"))
    error_message = "cors.allow_credentials = true needs explicit origins, not \"*\"."
  }

  validation {
    condition     = var.cors == null || alltrue([for m in try(var.cors.allow_methods, []) : contains(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"], m)])
    error_message = "cors.allow_methods must be among GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or *."
  }

  validation {
    condition     = var.cors == null || (try(var.cors.max_age, 0) >= 0 && try(var.cors.max_age, 0) <= 86400)
    error_message = "cors.max_age must be between 0 and 86400 seconds."
  }
}

variable "alarms" {
  description = "CloudWatch alarms on the API, each notifying alarm_actions on ALARM and ok_actions on OK (SNS topic ARNs): the share of requests answered 5xx (counted only in periods with at least min_requests requests) and the p99 latency. An alarm fires when datapoints_to_alarm of the last evaluation_periods periods breach."
  type = object({
    enabled                         = optional(bool, true)
    alarm_actions                   = optional(list(string), [])
    ok_actions                      = optional(list(string), [])
    period_seconds                  = optional(number, 60)
    evaluation_periods              = optional(number, 5)
    datapoints_to_alarm             = optional(number, 3)
    server_error_rate_threshold_pct = optional(number, 1)
    min_requests                    = optional(number, 10)
    latency_p99_threshold_ms        = optional(number, 1000)
  })
  default = {}

  validation {
    condition     = contains([10, 30, 60, 300, 900, 3600], var.alarms.period_seconds)
    error_message = "alarms.period_seconds must be one of 10, 30, 60, 300, 900, 3600."
  }

  validation {
    condition     = var.alarms.evaluation_periods >= 1 && var.alarms.datapoints_to_alarm >= 1 && var.alarms.datapoints_to_alarm <= var.alarms.evaluation_periods && var.alarms.period_seconds * var.alarms.evaluation_periods <= 86400
    error_message = "alarms: datapoints_to_alarm must be between 1 and evaluation_periods, and evaluation_periods x period_seconds at most one day."
  }

  validation {
    condition     = var.alarms.server_error_rate_threshold_pct > 0 && var.alarms.server_error_rate_threshold_pct < 100 && var.alarms.min_requests >= 1
    error_message = "alarms.server_error_rate_threshold_pct must be a percentage between 0 and 100 (exclusive), and min_requests at least 1."
  }

  validation {
    condition     = var.alarms.latency_p99_threshold_ms >= 1 && var.alarms.latency_p99_threshold_ms <= 30000
    error_message = "alarms.latency_p99_threshold_ms must be between 1 and 30000 (an HTTP API integration times out after 30 s)."
  }

  validation {
    condition     = alltrue([for a in concat(var.alarms.alarm_actions, var.alarms.ok_actions) : can(regex("^arn:aws[a-z-]*:sns:", a))])
    error_message = "alarms actions must be SNS topic ARNs."
  }
}

variable "tags" {
  description = "Tags for the API, its stage and its log group."
  type        = map(string)
  default     = {}
}
