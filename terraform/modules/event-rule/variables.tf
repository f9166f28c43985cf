variable "name" {
  description = "Name of the rule (also of the archive and the event-bus target role prefix)."
  type        = string

  validation {
    condition     = can(regex("^[.\\-_A-Za-z0-9]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, dots, hyphens or underscores."
  }
}

variable "description" {
  description = "Description of the rule."
  type        = string
  default     = null

  validation {
    condition     = length(coalesce(var.description, " ")) <= 512
    error_message = "description must be at most 512 characters, or null."
  }
}

variable "bus" {
  description = "The event bus of the rule: an existing bus by name (\"default\" unless named), or a custom bus this module creates (create = true)."
  type = object({
    name   = optional(string, "default")
    create = optional(bool, false)
  })
  default = {}

  validation {
    condition     = can(regex("^[/.\\-_A-Za-z0-9]{1,256}$", var.bus.name))
    error_message = "bus.name must be 1-256 letters, digits, slashes, dots, hyphens or underscores (a bus name, not an ARN)."
  }

  validation {
    condition     = !(var.bus.create && (var.bus.name == "default" || startswith(var.bus.name, "aws.")))
    error_message = "bus.create = true needs a custom name: not \"default\" and not starting with \"aws.\" (partner buses are not created here)."
  }
}

variable "event_pattern" {
  description = "Event pattern (a JSON object, e.g. from jsonencode()). Exactly one of event_pattern and schedule_expression."
  type        = string
  default     = null

  validation {
    condition     = var.event_pattern == null || can(keys(jsondecode(var.event_pattern)))
    error_message = "event_pattern must be a JSON object, e.g. jsonencode({ source = [\"orders\"] })."
  }

  validation {
    condition     = (var.event_pattern == null) != (var.schedule_expression == null)
    error_message = "Set exactly one of event_pattern and schedule_expression."
  }
}

variable "schedule_expression" {
  description = "rate(<n> minute|minutes|hour|hours|day|days) or cron(<6 fields>). Only on the default bus. Exactly one of event_pattern and schedule_expression."
  type        = string
  default     = null

  validation {
    condition = var.schedule_expression == null || can(regex(
      "^(rate\\((1 (minute|hour|day)|[1-9][0-9]* (minutes|hours|days))\\)|cron\\(\\S+( \\S+){5}\\))$",
      var.schedule_expression,
    ))
    error_message = "schedule_expression must be rate(1 minute), rate(<n> minutes|hours|days) or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)."
  }

  validation {
    condition     = var.schedule_expression == null || (var.bus.name == "default" && !var.bus.create)
    error_message = "schedule_expression is only allowed on the default event bus (bus = {})."
  }
}

variable "state" {
  description = "ENABLED or DISABLED."
  type        = string
  default     = "ENABLED"

  validation {
    condition     = contains(["ENABLED", "DISABLED"], var.state)
    error_message = "state must be ENABLED or DISABLED."
  }
}

variable "archive" {
  description = "Archive of the events this rule matches, on the rule's bus, for replay. retention_days = 0 keeps them indefinitely. Needs an event_pattern."
  type = object({
    enabled        = optional(bool, false)
    retention_days = optional(number, 30)
  })
  default = {}

  validation {
    condition     = var.archive.retention_days >= 0 && floor(var.archive.retention_days) == var.archive.retention_days
    error_message = "archive.retention_days must be a whole number: 0 (keep indefinitely) or 1 and more."
  }

  validation {
    condition     = !var.archive.enabled || var.event_pattern != null
    error_message = "archive.enabled needs an event_pattern (the archive keeps the events matching it; scheduled events are not archived)."
  }

  validation {
    condition     = !var.archive.enabled || length(var.name) <= 48
    error_message = "archive.enabled needs a name of at most 48 characters (the archive is named after the rule)."
  }
}

variable "targets" {
  description = <<-EOT
    Targets keyed by target id. type is sqs, lambda or event_bus, arn the queue, function (or alias) or bus ARN.
    dead_letter_queue_arn: a standard SQS queue receiving events that could not be delivered (required unless
    allow_no_dead_letter_queue). retry_policy: 0-185 attempts, 60-86400 s (not used for event_bus targets).
    input_path or input_transformer (not both). sqs_message_group_id: required for FIFO queues.
    Lambda targets get a lambda permission (qualifier taken from an alias ARN); event_bus targets share one role.
  EOT
  type = map(object({
    type                  = string
    arn                   = string
    dead_letter_queue_arn = optional(string)
    retry_policy = optional(object({
      maximum_retry_attempts       = optional(number, 185)
      maximum_event_age_in_seconds = optional(number, 86400)
    }), {})
    input_path = optional(string)
    input_transformer = optional(object({
      input_paths    = optional(map(string), {})
      input_template = string
    }))
    sqs_message_group_id = optional(string)
  }))
  default = {}

  validation {
    condition     = length(var.targets) <= 5 && alltrue([for id, t in var.targets : can(regex("^[.\\-_A-Za-z0-9]{1,64}$", id))])
    error_message = "targets: at most 5, keyed by target ids of 1-64 letters, digits, dots, hyphens or underscores."
  }

  validation {
    condition     = alltrue([for t in var.targets : contains(["sqs", "lambda", "event_bus"], t.type)])
    error_message = "targets[*].type must be sqs, lambda or event_bus."
  }

  validation {
    condition = alltrue([for t in var.targets : can(regex(lookup({
      sqs       = "^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}(\\.fifo)?$"
      lambda    = "^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$"
      event_bus = "^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[/.\\-_A-Za-z0-9]{1,256}$"
    }, t.type, "^$"), t.arn))])
    error_message = "targets[*].arn must match its type: an SQS queue ARN for sqs, a Lambda function or alias ARN for lambda, an event bus ARN for event_bus."
  }

  validation {
    condition     = alltrue([for t in var.targets : t.dead_letter_queue_arn == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", t.dead_letter_queue_arn))])
    error_message = "targets[*].dead_letter_queue_arn must be the ARN of a standard SQS queue (EventBridge does not support FIFO dead-letter queues)."
  }

  validation {
    condition     = var.allow_no_dead_letter_queue || alltrue([for t in var.targets : t.dead_letter_queue_arn != null])
    error_message = "Every target needs a dead_letter_queue_arn, so undeliverable events are kept; set allow_no_dead_letter_queue = true to accept losing them."
  }

  validation {
    condition     = alltrue([for t in var.targets : t.input_path == null || t.input_transformer == null])
    error_message = "targets[*]: input_path and input_transformer are exclusive; set at most one."
  }

  validation {
    condition     = alltrue([for t in var.targets : t.input_path == null || can(regex("^\\$", t.input_path))])
    error_message = "targets[*].input_path must be a JSONPath starting with $, e.g. $.detail."
  }

  validation {
    condition     = alltrue([for t in var.targets : t.input_transformer == null || (try(length(t.input_transformer.input_template), 0) > 0 && length(try(t.input_transformer.input_paths, {})) <= 100)])
    error_message = "targets[*].input_transformer needs a non-empty input_template and at most 100 input_paths."
  }

  validation {
    condition = alltrue([for t in var.targets :
      t.retry_policy.maximum_retry_attempts >= 0 && t.retry_policy.maximum_retry_attempts <= 185 && floor(t.retry_policy.maximum_retry_attempts) == t.retry_policy.maximum_retry_attempts &&
      t.retry_policy.maximum_event_age_in_seconds >= 60 && t.retry_policy.maximum_event_age_in_seconds <= 86400
    ])
    error_message = "targets[*].retry_policy: maximum_retry_attempts must be a whole number 0-185 and maximum_event_age_in_seconds 60-86400."
  }

  validation {
    condition     = alltrue([for t in var.targets : (t.sqs_message_group_id != null) == (t.type == "sqs" && endswith(t.arn, ".fifo"))])
    error_message = "targets[*].sqs_message_group_id is required for FIFO queue targets (ARN ending in .fifo) and allowed only for them."
  }
}

variable "allow_no_dead_letter_queue" {
  description = "Accept targets without a dead-letter queue: events EventBridge cannot deliver after its retries are then dropped."
  type        = bool
  default     = false
}

variable "alarms" {
  description = "CloudWatch alarms on the rule's delivery, each notifying alarm_actions on ALARM and ok_actions on OK (SNS topic ARNs): invocations that failed permanently (or could not even be put in the target's dead-letter queue), and invocations sent to a target's dead-letter queue. An alarm fires when datapoints_to_alarm of the last evaluation_periods periods breach."
  type = object({
    enabled             = optional(bool, true)
    alarm_actions       = optional(list(string), [])
    ok_actions          = optional(list(string), [])
    period_seconds      = optional(number, 60)
    evaluation_periods  = optional(number, 1)
    datapoints_to_alarm = optional(number, 1)
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
    condition     = alltrue([for a in concat(var.alarms.alarm_actions, var.alarms.ok_actions) : can(regex("^arn:aws[a-z-]*:sns:", a))])
    error_message = "alarms actions must be SNS topic ARNs."
  }
}

variable "tags" {
  description = "Tags for the rule, the bus (when created) and the event-bus target role."
  type        = map(string)
  default     = {}
}
