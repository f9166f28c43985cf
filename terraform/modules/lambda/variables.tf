variable "function_name" {
  description = "Name of the function. The log group is /aws/lambda/<function_name> and the role <function_name>-role unless role_name is set."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "description" {
  description = "Description of the function (at most 256 characters)."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "package" {
  description = "The prebuilt deployment zip: a local file (filename) or an S3 object (s3_bucket + s3_key, optional s3_object_version), with the base64 SHA-256 of the zip (what Lambda reports as CodeSha256), e.g. from filebase64sha256() or the build manifest."
  type = object({
    filename          = optional(string)
    s3_bucket         = optional(string)
    s3_key            = optional(string)
    s3_object_version = optional(string)
    source_code_hash  = string
  })

  validation {
    condition = (
      (var.package.filename != null && var.package.s3_bucket == null && var.package.s3_key == null && var.package.s3_object_version == null)
      || (var.package.filename == null && var.package.s3_bucket != null && var.package.s3_key != null)
    )
    error_message = "package needs exactly one code source: filename, or s3_bucket together with s3_key (and optionally s3_object_version)."
  }

  validation {
    condition     = var.package.filename == null ? true : endswith(var.package.filename, ".zip")
    error_message = "package.filename must be the path of a .zip file."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.package.source_code_hash))
    error_message = "package.source_code_hash must be the base64-encoded SHA-256 of the zip: 44 characters ending in \"=\" (filebase64sha256(), or CodeSha256 from the build manifest)."
  }
}

variable "handler" {
  description = "Python handler in module.function form, e.g. orders_api.app.handler."
  type        = string

  validation {
    condition     = length(var.handler) <= 128 && can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.handler))
    error_message = "handler must be a dotted Python path module.function (e.g. app.handler or orders_api.app.handler), at most 128 characters."
  }
}

variable "runtime" {
  description = "Python runtime."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.12 or python3.13."
  }
}

variable "architecture" {
  description = "Instruction set: arm64 (Graviton, cheaper per GB-second) or x86_64. Must match the wheels in the zip."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (128-10240); CPU is allocated in proportion."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  description = "Timeout in seconds (1-900). An SQS source queue needs a visibility timeout of at least 6 times this."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function. Keys Lambda reserves (AWS_REGION, AWS_ACCESS_KEY_ID, _HANDLER, LAMBDA_TASK_ROOT...) are rejected. Do not put secrets here; read them from Secrets Manager or SSM at run time."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[A-Za-z][A-Za-z0-9_]+$", k))])
    error_message = "environment_variables keys must start with a letter and contain only letters, digits and underscores (at least 2 characters)."
  }

  validation {
    condition = length(setintersection(keys(var.environment_variables), [
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    ])) == 0
    error_message = "environment_variables must not set keys Lambda reserves: _HANDLER, _X_AMZN_TRACE_ID, AWS_DEFAULT_REGION, AWS_REGION, AWS_EXECUTION_ENV, AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_INITIALIZATION_TYPE, AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME, AWS_ACCESS_KEY, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_LAMBDA_RUNTIME_API, LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts the environment variables at rest. Null uses the Lambda service key. Whoever applies needs kms:CreateGrant on it (Lambda grants the execution role)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), or null."
  }
}

variable "layers" {
  description = "Layer version ARNs, at most 5, in the order Lambda extracts them."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.layers) <= 5
    error_message = "layers may list at most 5 layer versions (a Lambda limit)."
  }

  validation {
    condition     = alltrue([for l in var.layers : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", l))])
    error_message = "layers must be layer version ARNs: arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>."
  }
}

variable "ephemeral_storage_size" {
  description = "Size of /tmp in MB (512-10240)."
  type        = number
  default     = 512

  validation {
    condition     = var.ephemeral_storage_size >= 512 && var.ephemeral_storage_size <= 10240 && floor(var.ephemeral_storage_size) == var.ephemeral_storage_size
    error_message = "ephemeral_storage_size must be a whole number of MB between 512 and 10240."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group, a CloudWatch Logs value."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "Customer managed KMS key for the log group. Null uses CloudWatch Logs' own encryption. The key policy must allow logs.<region>.amazonaws.com."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>; CloudWatch Logs does not take aliases), or null."
  }
}

variable "application_log_level" {
  description = "Lowest level of the function's own JSON log records that Lambda keeps (also exported as AWS_LAMBDA_LOG_LEVEL, which powertools Logger follows)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.application_log_level)
    error_message = "application_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "system_log_level" {
  description = "Lowest level of Lambda platform records (START, REPORT...) that are kept."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be one of DEBUG, INFO, WARN."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing: Active samples and traces every invocation; PassThrough only traces requests that arrive with a sampled trace header."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "alias_name" {
  description = "Name of the alias that points at the published version. Callers, event sources and provisioned concurrency use the alias."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.alias_name)) && !can(regex("^[0-9]+$", var.alias_name))
    error_message = "alias_name must be 1-128 letters, digits, hyphens or underscores, and not only digits (that would be a version number)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for (and capping) the function. -1 leaves it unreserved; 0 stops all invocations."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions == -1 || (var.reserved_concurrent_executions >= 0 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions)
    error_message = "reserved_concurrent_executions must be -1 (unreserved) or a whole number >= 0."
  }
}

variable "provisioned_concurrent_executions" {
  description = "Execution environments kept initialised on the alias. 0 turns provisioned concurrency off."
  type        = number
  default     = 0

  validation {
    condition     = var.provisioned_concurrent_executions >= 0 && floor(var.provisioned_concurrent_executions) == var.provisioned_concurrent_executions
    error_message = "provisioned_concurrent_executions must be a whole number >= 0 (0 = off)."
  }

  validation {
    condition     = var.reserved_concurrent_executions == -1 || var.provisioned_concurrent_executions <= var.reserved_concurrent_executions
    error_message = "provisioned_concurrent_executions cannot exceed reserved_concurrent_executions when concurrency is reserved."
  }
}

variable "snap_start" {
  description = "SnapStart on published versions: Lambda snapshots the initialised environment when a version is published and restores it on cold starts. Python 3.12+ only; not together with provisioned concurrency or ephemeral storage above 512 MB."
  type        = bool
  default     = false

  validation {
    condition     = !var.snap_start || contains(["python3.12", "python3.13"], var.runtime)
    error_message = "snap_start needs a Python 3.12 or later runtime."
  }

  validation {
    condition     = !var.snap_start || var.provisioned_concurrent_executions == 0
    error_message = "snap_start and provisioned_concurrent_executions > 0 cannot be used on the same version (AWS refuses both): choose one, snap_start = true or provisioned concurrency."
  }

  validation {
    condition     = !var.snap_start || var.ephemeral_storage_size <= 512
    error_message = "snap_start does not support ephemeral storage above 512 MB: set ephemeral_storage_size = 512 or turn snap_start off."
  }
}

variable "role_name" {
  description = "Name of the execution role. Null uses <function_name>-role."
  type        = string
  default     = null

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", coalesce(var.role_name, "${var.function_name}-role")))
    error_message = "the role name (role_name, or <function_name>-role when null) must be 1-64 letters, digits or +=,.@_- characters; set role_name when function_name is longer than 59 characters."
  }
}

variable "permissions_boundary_arn" {
  description = "Managed policy set as the permissions boundary of the execution role, or null."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM managed policy ARN (arn:<partition>:iam::<account>:policy/<name>), or null."
  }
}

variable "accesses" {
  description = "What the function may do: a list of { type, resources, leading_keys }, each one policy statement with the exact actions of its type on exactly those ARNs. Types: dynamodb_get_item, dynamodb_batch_get, dynamodb_query, dynamodb_put_item, dynamodb_update_item, dynamodb_delete_item, dynamodb_batch_write, dynamodb_idempotency (Get/Put/Update/DeleteItem, what powertools' idempotency calls), and the broad dynamodb_read, dynamodb_write, dynamodb_read_write (table and index ARNs; Query on an index needs the index ARN); sqs_send (queue), events_put (event bus), ses_send (SES v2 SendEmail or v1 SendEmail: identity or configuration set), ses_send_raw (v1 SendRawEmail), s3_read (object ARNs, e.g. arn:aws:s3:::bucket/prefix/*), kms_decrypt (key), sns_publish (topic). leading_keys (DynamoDB types only): partition key patterns (IAM wildcards) the items must match, as a dynamodb:LeadingKeys condition."
  type = list(object({
    type         = string
    resources    = list(string)
    leading_keys = optional(list(string))
  }))
  default = []

  validation {
    condition = alltrue([for a in var.accesses : contains([
      "dynamodb_read", "dynamodb_write", "dynamodb_read_write", "dynamodb_get_item", "dynamodb_batch_get", "dynamodb_query",
      "dynamodb_put_item", "dynamodb_update_item", "dynamodb_delete_item", "dynamodb_batch_write", "dynamodb_idempotency",
      "sqs_send", "events_put", "ses_send", "ses_send_raw", "s3_read", "kms_decrypt", "sns_publish",
    ], a.type)])
    error_message = "accesses[*].type must be one of dynamodb_get_item, dynamodb_batch_get, dynamodb_query, dynamodb_put_item, dynamodb_update_item, dynamodb_delete_item, dynamodb_batch_write, dynamodb_idempotency, dynamodb_read, dynamodb_write, dynamodb_read_write, sqs_send, events_put, ses_send, ses_send_raw, s3_read, kms_decrypt, sns_publish."
  }

  validation {
    condition     = alltrue([for a in var.accesses : length(a.resources) > 0 && alltrue([for r in a.resources : can(regex("^arn:", r))])])
    error_message = "accesses[*].resources must be a non-empty list of ARNs (starting with arn:); \"*\" is not allowed."
  }

  validation {
    condition     = alltrue([for a in var.accesses : alltrue([for r in a.resources : try(split(":", r)[2], "") == (startswith(a.type, "dynamodb_") ? "dynamodb" : split("_", a.type)[0])])])
    error_message = "accesses[*].resources must be ARNs of the type's service: dynamodb_* -> dynamodb, sqs_send -> sqs, events_put -> events, ses_send and ses_send_raw -> ses, s3_read -> s3, kms_decrypt -> kms, sns_publish -> sns."
  }

  validation {
    condition     = alltrue([for a in var.accesses : a.leading_keys == null || (startswith(a.type, "dynamodb_") && a.type != "dynamodb_query" && length(coalesce(a.leading_keys, [])) > 0 && alltrue([for k in coalesce(a.leading_keys, []) : length(k) > 0]))])
    error_message = "accesses[*].leading_keys is for DynamoDB item types only (not dynamodb_query: a query on an index is keyed by the index's partition key) and must be a non-empty list of non-empty patterns."
  }
}

variable "event_sources" {
  description = "Event source mappings by a key of your choice, all invoking the alias; the role gets the permissions each needs. type: sqs or dynamodb_stream. batch_size defaults to 10 (sqs) or 100 (streams); report_batch_item_failures (default true) sets FunctionResponseTypes = ReportBatchItemFailures, so the handler must return batchItemFailures. filter_patterns: EventBridge-style JSON patterns. sqs only: maximum_concurrency (2-1000, null = no cap). Streams only: starting_position (LATEST), bisect_batch_on_function_error (true), maximum_retry_attempts and maximum_record_age_in_seconds (null = AWS default), parallelization_factor (1), on_failure_destination_arn (SQS queue or SNS topic)."
  type = map(object({
    type                               = string
    event_source_arn                   = string
    batch_size                         = optional(number)
    maximum_batching_window_in_seconds = optional(number, 0)
    report_batch_item_failures         = optional(bool, true)
    enabled                            = optional(bool, true)
    filter_patterns                    = optional(list(string), [])
    maximum_concurrency                = optional(number)
    starting_position                  = optional(string)
    bisect_batch_on_function_error     = optional(bool)
    maximum_retry_attempts             = optional(number)
    maximum_record_age_in_seconds      = optional(number)
    parallelization_factor             = optional(number)
    on_failure_destination_arn         = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.event_sources) : contains(["sqs", "dynamodb_stream"], s.type)])
    error_message = "event_sources[*].type must be sqs or dynamodb_stream."
  }

  validation {
    condition = alltrue([for s in values(var.event_sources) : s.type == "sqs"
      ? can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", s.event_source_arn))
    : can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+$", s.event_source_arn))])
    error_message = "event_sources[*].event_source_arn must be an SQS queue ARN for type sqs, or a DynamoDB stream ARN (arn:...:table/<name>/stream/<label>) for type dynamodb_stream."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.batch_size == null ? true : (s.batch_size >= 1 && s.batch_size <= 10000 && floor(s.batch_size) == s.batch_size)])
    error_message = "event_sources[*].batch_size must be a whole number between 1 and 10000, or null for the default (10 for sqs, 100 for streams)."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.type != "sqs" || !endswith(s.event_source_arn, ".fifo") || coalesce(s.batch_size, 10) <= 10])
    error_message = "event_sources[*].batch_size must be at most 10 for a FIFO queue."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.type != "sqs" || coalesce(s.batch_size, 10) <= 10 || s.maximum_batching_window_in_seconds >= 1])
    error_message = "event_sources[*]: an SQS batch_size above 10 needs maximum_batching_window_in_seconds of at least 1."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.maximum_batching_window_in_seconds >= 0 && s.maximum_batching_window_in_seconds <= 300 && floor(s.maximum_batching_window_in_seconds) == s.maximum_batching_window_in_seconds])
    error_message = "event_sources[*].maximum_batching_window_in_seconds must be a whole number between 0 and 300."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.maximum_concurrency == null ? true : (s.type == "sqs" && s.maximum_concurrency >= 2 && s.maximum_concurrency <= 1000 && floor(s.maximum_concurrency) == s.maximum_concurrency)])
    error_message = "event_sources[*].maximum_concurrency is for sqs sources only and must be a whole number between 2 and 1000, or null (no cap)."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : length(s.filter_patterns) <= 10 && alltrue([for p in s.filter_patterns : can(keys(jsondecode(p)))])])
    error_message = "event_sources[*].filter_patterns must be at most 10 JSON objects (the default AWS quota is 5 filters per mapping)."
  }

  validation {
    condition = alltrue([for s in values(var.event_sources) : s.type != "sqs" || (
      s.starting_position == null && s.bisect_batch_on_function_error == null && s.maximum_retry_attempts == null
      && s.maximum_record_age_in_seconds == null && s.parallelization_factor == null && s.on_failure_destination_arn == null
    )])
    error_message = "event_sources[*]: starting_position, bisect_batch_on_function_error, maximum_retry_attempts, maximum_record_age_in_seconds, parallelization_factor and on_failure_destination_arn apply to dynamodb_stream sources only (an SQS source's failures go to the queue's own dead-letter queue)."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.starting_position == null ? true : contains(["LATEST", "TRIM_HORIZON"], s.starting_position)])
    error_message = "event_sources[*].starting_position must be LATEST or TRIM_HORIZON."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.maximum_retry_attempts == null ? true : (s.maximum_retry_attempts >= -1 && s.maximum_retry_attempts <= 10000 && floor(s.maximum_retry_attempts) == s.maximum_retry_attempts)])
    error_message = "event_sources[*].maximum_retry_attempts must be a whole number between -1 (retry until the record expires) and 10000, or null."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.maximum_record_age_in_seconds == null ? true : (s.maximum_record_age_in_seconds == -1 || (s.maximum_record_age_in_seconds >= 60 && s.maximum_record_age_in_seconds <= 604800))])
    error_message = "event_sources[*].maximum_record_age_in_seconds must be -1 (unlimited) or between 60 and 604800, or null."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.parallelization_factor == null ? true : (s.parallelization_factor >= 1 && s.parallelization_factor <= 10 && floor(s.parallelization_factor) == s.parallelization_factor)])
    error_message = "event_sources[*].parallelization_factor must be a whole number between 1 and 10."
  }

  validation {
    condition     = alltrue([for s in values(var.event_sources) : s.on_failure_destination_arn == null ? true : can(regex("^arn:aws[a-z-]*:(sqs|sns):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", s.on_failure_destination_arn))])
    error_message = "event_sources[*].on_failure_destination_arn must be an SQS queue or SNS topic ARN."
  }
}

variable "async_invocation" {
  description = "Asynchronous invocation settings on the alias: retries (0-2), maximum event age (60-21600 s) and an on-failure destination (SQS queue, SNS topic, Lambda function or EventBridge bus ARN) that the role may then send to. Null keeps the AWS defaults (2 retries, 6 hours, no destination)."
  type = object({
    maximum_retry_attempts       = optional(number, 2)
    maximum_event_age_in_seconds = optional(number, 21600)
    on_failure_destination_arn   = optional(string)
  })
  default = null

  validation {
    condition     = var.async_invocation == null ? true : contains([0, 1, 2], var.async_invocation.maximum_retry_attempts)
    error_message = "async_invocation.maximum_retry_attempts must be 0, 1 or 2."
  }

  validation {
    condition     = var.async_invocation == null ? true : (var.async_invocation.maximum_event_age_in_seconds >= 60 && var.async_invocation.maximum_event_age_in_seconds <= 21600 && floor(var.async_invocation.maximum_event_age_in_seconds) == var.async_invocation.maximum_event_age_in_seconds)
    error_message = "async_invocation.maximum_event_age_in_seconds must be a whole number between 60 and 21600."
  }

  validation {
    condition     = try(var.async_invocation.on_failure_destination_arn, null) == null ? true : can(regex("^arn:aws[a-z-]*:(sqs|sns|lambda|events):[a-z0-9-]+:[0-9]{12}:", var.async_invocation.on_failure_destination_arn))
    error_message = "async_invocation.on_failure_destination_arn must be an SQS queue, SNS topic, Lambda function or EventBridge event bus ARN."
  }
}

variable "tags" {
  description = "Tags for the function, role, log group and event source mappings."
  type        = map(string)
  default     = {}
}

variable "alarms" {
  description = "CloudWatch alarms on the function, each notifying alarm_actions on ALARM and ok_actions on OK (SNS topic ARNs): the error rate (Errors / Invocations, counted only in periods with at least error_rate_min_invocations, so one failure in a quiet minute does not page), throttles, p99 duration against duration_p99_timeout_pct of the timeout, and the iterator age of each stream source. An alarm fires when datapoints_to_alarm of the last evaluation_periods periods breach."
  type = object({
    enabled                        = optional(bool, true)
    alarm_actions                  = optional(list(string), [])
    ok_actions                     = optional(list(string), [])
    period_seconds                 = optional(number, 60)
    evaluation_periods             = optional(number, 5)
    datapoints_to_alarm            = optional(number, 3)
    error_rate_threshold_pct       = optional(number, 1)
    error_rate_min_invocations     = optional(number, 10)
    throttles_threshold            = optional(number, 0)
    duration_p99_timeout_pct       = optional(number, 80)
    iterator_age_threshold_seconds = optional(number, 300)
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
    condition     = var.alarms.error_rate_threshold_pct > 0 && var.alarms.error_rate_threshold_pct < 100 && var.alarms.error_rate_min_invocations >= 1
    error_message = "alarms.error_rate_threshold_pct must be a percentage between 0 and 100 (exclusive), and error_rate_min_invocations at least 1."
  }

  validation {
    condition     = var.alarms.duration_p99_timeout_pct > 0 && var.alarms.duration_p99_timeout_pct <= 100
    error_message = "alarms.duration_p99_timeout_pct must be a percentage of the timeout between 1 and 100."
  }

  validation {
    condition     = var.alarms.throttles_threshold >= 0 && var.alarms.iterator_age_threshold_seconds >= 1
    error_message = "alarms.throttles_threshold must be 0 or more, and iterator_age_threshold_seconds at least 1."
  }

  validation {
    condition     = alltrue([for a in concat(var.alarms.alarm_actions, var.alarms.ok_actions) : can(regex("^arn:aws[a-z-]*:sns:", a))])
    error_message = "alarms actions must be SNS topic ARNs."
  }
}
