variable "name_prefix" {
  description = "Prefix of every resource name; resources are named <name_prefix>-<environment>-<part>. The bootstrap's deploy roles may only manage names under it."
  type        = string
  default     = "orders"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix must be 2-21 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name: local, dev, staging or prod. Used in names, tags and as the metrics dimension."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of local, dev, staging, prod."
  }
}

variable "artifacts" {
  description = "Build artifacts by name (orders_api, order_processor, notifier, pre_traffic_hook, layer), each a local zip (filename) or an S3 object (s3_bucket + s3_key), with the base64 sha256 Lambda reports as CodeSha256. Taken from the build manifest or a release file."
  type = map(object({
    filename         = optional(string)
    s3_bucket        = optional(string)
    s3_key           = optional(string)
    source_code_hash = string
  }))

  validation {
    condition     = alltrue([for name in ["orders_api", "order_processor", "notifier", "pre_traffic_hook", "layer"] : contains(keys(var.artifacts), name)])
    error_message = "artifacts must contain orders_api, order_processor, notifier, pre_traffic_hook and layer."
  }

  validation {
    condition     = alltrue([for a in values(var.artifacts) : (a.filename != null) != (a.s3_bucket != null && a.s3_key != null)])
    error_message = "each artifact needs exactly one source: filename, or s3_bucket together with s3_key."
  }

  validation {
    condition     = alltrue([for a in values(var.artifacts) : can(regex("^[A-Za-z0-9+/]{43}=$", a.source_code_hash))])
    error_message = "source_code_hash must be the base64-encoded sha256 of the zip (44 characters ending in '=')."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function and the layer: arm64 (cheaper, the default) or x86_64 (the local emulator runs code on this machine's CPU)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of every function and the layer."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.12 or python3.13."
  }
}

variable "api_function" {
  description = "Sizing of the HTTP API function. provisioned_concurrency > 0 keeps that many environments warm on the live alias (0 = off); snap_start is the cheaper alternative (not both)."
  type = object({
    memory_size             = optional(number, 512)
    timeout                 = optional(number, 10)
    reserved_concurrency    = optional(number, -1)
    provisioned_concurrency = optional(number, 0)
    snap_start              = optional(bool, false)
  })
  default = {}

  validation {
    condition     = !(var.api_function.snap_start && var.api_function.provisioned_concurrency > 0)
    error_message = "api_function: choose snap_start or provisioned_concurrency, not both."
  }
}

variable "processor_function" {
  description = "Sizing of the order processor and its SQS event source: batch size (1-10 for ReportBatchItemFailures here) and maximum concurrency (2-1000)."
  type = object({
    memory_size             = optional(number, 512)
    timeout                 = optional(number, 30)
    batch_size              = optional(number, 10)
    batching_window_seconds = optional(number, 0)
    maximum_concurrency     = optional(number, 50)
  })
  default = {}

  validation {
    condition     = var.processor_function.batch_size >= 1 && var.processor_function.batch_size <= 10
    error_message = "processor_function.batch_size must be between 1 and 10."
  }

  validation {
    condition     = var.processor_function.maximum_concurrency >= 2 && var.processor_function.maximum_concurrency <= 1000
    error_message = "processor_function.maximum_concurrency must be between 2 and 1000."
  }
}

variable "api_throttling" {
  description = "Default throttling of the HTTP API stage: steady requests per second and burst."
  type = object({
    rate_limit  = optional(number, 2000)
    burst_limit = optional(number, 1000)
  })
  default = {}

  validation {
    condition     = var.api_throttling.rate_limit > 0 && var.api_throttling.burst_limit > 0
    error_message = "api_throttling limits must be positive."
  }
}

variable "notification_sender" {
  description = "Verified SES identity (email address) the notifier sends from."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.notification_sender))
    error_message = "notification_sender must be an email address verified in SES."
  }
}

variable "data_protection" {
  description = "Table protection: deletion protection and point-in-time recovery. Leave both on outside dev and local."
  type = object({
    deletion_protection    = optional(bool, true)
    point_in_time_recovery = optional(bool, true)
  })
  default = {}
}

variable "log_retention_days" {
  description = "Retention of every log group (a CloudWatch Logs value)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "alarm_subscriptions" {
  description = "Who the environment's alarm topic tells: protocol (email, https, sqs...) and endpoint. pages = true sends it only the composite alarm \"<prefix>-<env>-unhealthy\" (a pager); the others receive every alarm's ALARM and OK. prod needs at least one. E-mail and https endpoints must confirm the subscription AWS sends them."
  type = list(object({
    protocol = string
    endpoint = string
    pages    = optional(bool, false)
  }))
  default = []

  validation {
    condition     = var.environment != "prod" || length(var.alarm_subscriptions) > 0
    error_message = "prod needs at least one alarm subscription: an alarm nobody receives does not page anyone."
  }
}

variable "alarm_thresholds" {
  description = "Thresholds of the environment's alarms (docs/operating.md says what each means): API p99 latency in ms (the seeds ask 400 ms), the share of API requests answered 5xx and of function invocations that fail, in %, the share of processed orders rejected in % (over at least rejected_orders_min_processed orders in 5 minutes), and how many consecutive minutes of batch item failures alarm."
  type = object({
    api_latency_p99_ms            = optional(number, 400)
    api_server_error_rate_pct     = optional(number, 1)
    function_error_rate_pct       = optional(number, 1)
    rejected_orders_share_pct     = optional(number, 25)
    rejected_orders_min_processed = optional(number, 20)
    batch_item_failures_minutes   = optional(number, 5)
  })
  default = {}

  validation {
    condition     = var.alarm_thresholds.api_latency_p99_ms >= 1 && var.alarm_thresholds.api_latency_p99_ms <= 30000
    error_message = "alarm_thresholds.api_latency_p99_ms must be between 1 and 30000."
  }

  validation {
    condition = alltrue([for pct in [var.alarm_thresholds.api_server_error_rate_pct, var.alarm_thresholds.function_error_rate_pct, var.alarm_thresholds.rejected_orders_share_pct] :
    pct > 0 && pct < 100])
    error_message = "alarm_thresholds percentages must be between 0 and 100 (exclusive)."
  }

  validation {
    condition     = var.alarm_thresholds.rejected_orders_min_processed >= 1 && var.alarm_thresholds.batch_item_failures_minutes >= 1 && var.alarm_thresholds.batch_item_failures_minutes <= 60
    error_message = "alarm_thresholds.rejected_orders_min_processed must be at least 1, and batch_item_failures_minutes between 1 and 60."
  }
}

variable "tracing_enabled" {
  description = "X-Ray active tracing on functions (and powertools Tracer). Off only where no X-Ray endpoint exists, e.g. the local emulator."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource, on top of platform:environment."
  type        = map(string)
  default     = {}
}

variable "notifier_function" {
  description = "Sizing of the notifier and its SQS event source: batch size (1-10) and maximum concurrency (2-1000; the default 2, SQS's floor, sends a batch of 10 in 20 s at ses_send_rate's sandbox default of 1/s)."
  type = object({
    memory_size         = optional(number, 256)
    timeout             = optional(number, 30)
    batch_size          = optional(number, 10)
    maximum_concurrency = optional(number, 2)
  })
  default = {}

  validation {
    condition     = var.notifier_function.batch_size >= 1 && var.notifier_function.batch_size <= 10
    error_message = "notifier_function.batch_size must be between 1 and 10."
  }

  validation {
    condition     = var.notifier_function.maximum_concurrency >= 2 && var.notifier_function.maximum_concurrency <= 1000
    error_message = "notifier_function.maximum_concurrency must be between 2 and 1000."
  }
}

variable "alarms_enabled" {
  description = "The environment's alarms, its alarm topic and composite alarm (on in every AWS environment). Only the local root turns them off: ministack cannot describe alarms back, so every plan would show a difference."
  type        = bool
  default     = true
}

variable "manage_ses_identity" {
  description = "Create the SES e-mail identity of notification_sender (AWS then mails it a verification link). Off when the identity is managed elsewhere, e.g. a verified domain."
  type        = bool
  default     = true
}

variable "event_archive_retention_days" {
  description = "Keep the order outcome events in an EventBridge archive for replay this many days (0 = no archive)."
  type        = number
  default     = 0

  validation {
    condition     = var.event_archive_retention_days >= 0 && floor(var.event_archive_retention_days) == var.event_archive_retention_days
    error_message = "event_archive_retention_days must be a whole number of days, 0 for no archive."
  }
}

variable "ses_send_rate" {
  description = "Messages a second SES accepts from this environment's account and region (its maximum send rate, GetSendQuota's MaxSendRate: 1 in the SES sandbox). The notifier never sends faster: each of its execution environments sends at most ses_send_rate / notifier_function.maximum_concurrency a second. `make capacity ENV=<env>` checks it against the account's GetSendQuota."
  type        = number
  default     = 1

  validation {
    condition     = var.ses_send_rate > 0 && var.ses_send_rate <= 100000
    error_message = "ses_send_rate must be a positive number of messages a second (1 in the SES sandbox)."
  }

  # At its share of the rate, a batch must be sent well inside the notifier's timeout, or its
  # last messages are left to the queue on every delivery and reach the DLQ.
  validation {
    condition     = var.notifier_function.batch_size * var.notifier_function.maximum_concurrency / var.ses_send_rate <= 0.8 * var.notifier_function.timeout
    error_message = "At ses_send_rate, a notifier batch takes batch_size x maximum_concurrency / ses_send_rate seconds to send: keep it within 80 % of notifier_function.timeout (lower the batch size or the maximum concurrency, or raise the timeout)."
  }
}

variable "monthly_budget_usd" {
  description = "The environment's monthly AWS Budgets budget, in USD: its alarm topic hears when the month is forecast to reach 80 % of it and when it has spent 100 %. `make cost ENV=<env>` estimates what the environment costs."
  type        = number

  validation {
    condition     = var.monthly_budget_usd > 0 && var.monthly_budget_usd <= 1000000
    error_message = "monthly_budget_usd must be a positive number of US dollars, at most 1,000,000."
  }
}

variable "deployment" {
  description = "How a new version of each function reaches traffic. null: Terraform moves each function's live alias when it applies (the local emulator, which has no CodeDeploy). Otherwise Terraform publishes versions and `make deploy` has CodeDeploy shift the alias: config AllAtOnce, Canary10Percent5Minutes, Linear10PercentEvery1Minute, another predefined Lambda configuration, or Custom with custom = { type = canary|linear, percentage, interval_minutes } (the lambda module validates them). Every deployment runs the pre-traffic hook first and rolls back by itself on a failed hook, on the function's own alarms or on the environment's composite alarm."
  type = object({
    config = string
    custom = optional(object({
      type             = string
      percentage       = number
      interval_minutes = number
    }))
  })
  default = null

  validation {
    condition     = var.deployment == null || var.environment != "local"
    error_message = "the local environment has no deployment: the emulator has no CodeDeploy, so Terraform moves the alias there."
  }
}

variable "user_pool" {
  description = "The environment's Cognito user pool (the API's sign-in): deletion_protection (Cognito refuses to delete the pool and its users' accounts; off only in dev and local), self_sign_up_enabled (off: only administrators and the seeding create users), and token lifetimes: access and ID tokens in minutes (5-1440; an access token works until it expires, API Gateway does not check revocation), refresh tokens in days (1-3650)."
  type = object({
    deletion_protection           = optional(bool, true)
    self_sign_up_enabled          = optional(bool, false)
    access_token_validity_minutes = optional(number, 60)
    id_token_validity_minutes     = optional(number, 60)
    refresh_token_validity_days   = optional(number, 30)
  })
  default = {}

  validation {
    condition     = var.user_pool.deletion_protection || contains(["local", "dev"], var.environment)
    error_message = "user_pool.deletion_protection may be off only in local and dev: staging's and prod's pools hold their customers' accounts."
  }
}
