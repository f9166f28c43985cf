variable "name" {
  description = "Name of the main queue. The dead-letter queue is named <name>-dlq. FIFO queues end in .fifo (the DLQ becomes <base>-dlq.fifo)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,75}(\\.fifo)?$", var.name))
    error_message = "name must be 1-75 letters, digits, hyphens or underscores (room for the -dlq suffix), optionally ending in .fifo."
  }
}

variable "fifo" {
  description = "Create FIFO queues (both names must end in .fifo)."
  type        = bool
  default     = false

  validation {
    condition     = var.fifo == endswith(var.name, ".fifo")
    error_message = "fifo = true needs a name ending in .fifo, and a name ending in .fifo needs fifo = true."
  }
}

variable "content_based_deduplication" {
  description = "FIFO only: deduplicate by a SHA-256 of the body instead of an explicit MessageDeduplicationId."
  type        = bool
  default     = false

  validation {
    condition     = !var.content_based_deduplication || var.fifo
    error_message = "content_based_deduplication is only valid with fifo = true."
  }
}

variable "max_receive_count" {
  description = "Receives before a message moves to the dead-letter queue."
  type        = number
  default     = 3

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number between 1 and 1000."
  }
}

variable "consumer_timeout_seconds" {
  description = "Timeout of the function that consumes the queue. The visibility timeout must be at least 6 times this (AWS guidance for Lambda event sources)."
  type        = number
  default     = 30

  validation {
    condition     = var.consumer_timeout_seconds >= 1 && var.consumer_timeout_seconds <= 900
    error_message = "consumer_timeout_seconds must be between 1 and 900 (a Lambda timeout)."
  }
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout of the main queue. Null uses 6 x consumer_timeout_seconds."
  type        = number
  default     = null

  validation {
    condition     = var.visibility_timeout_seconds == null || (coalesce(var.visibility_timeout_seconds, 0) >= 6 * var.consumer_timeout_seconds && coalesce(var.visibility_timeout_seconds, 0) <= 43200)
    error_message = "visibility_timeout_seconds must be at least 6 x consumer_timeout_seconds and at most 43200, or null."
  }
}

variable "message_retention_seconds" {
  description = "How long the main queue keeps a message (60 s to 14 days)."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long the dead-letter queue keeps a message; the maximum by default so nothing expires before it is redriven."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "receive_wait_time_seconds" {
  description = "Long polling wait of the main queue (0-20 s)."
  type        = number
  default     = 20

  validation {
    condition     = var.receive_wait_time_seconds >= 0 && var.receive_wait_time_seconds <= 20
    error_message = "receive_wait_time_seconds must be between 0 and 20."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for SSE-KMS. Null uses SQS-managed encryption (SSE-SQS)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key or alias ARN, or null."
  }
}

variable "kms_data_key_reuse_period_seconds" {
  description = "SSE-KMS only: how long SQS reuses a data key (60-86400 s)."
  type        = number
  default     = 300

  validation {
    condition     = var.kms_data_key_reuse_period_seconds >= 60 && var.kms_data_key_reuse_period_seconds <= 86400
    error_message = "kms_data_key_reuse_period_seconds must be between 60 and 86400."
  }
}

variable "allowed_senders" {
  description = "Service principals allowed to send to the main queue, each limited to one source ARN: an EventBridge rule (events.amazonaws.com) or an SNS topic (sns.amazonaws.com)."
  type = list(object({
    service    = string
    source_arn = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.allowed_senders : contains(["events.amazonaws.com", "sns.amazonaws.com"], s.service)])
    error_message = "allowed_senders[*].service must be events.amazonaws.com or sns.amazonaws.com."
  }

  validation {
    condition     = alltrue([for s in var.allowed_senders : can(regex("^arn:aws[a-z-]*:(events|sns):", s.source_arn))])
    error_message = "allowed_senders[*].source_arn must be an EventBridge rule or SNS topic ARN."
  }
}

variable "dlq_allowed_senders" {
  description = "Service principals allowed to send straight to the dead-letter queue, e.g. an EventBridge rule using it as its target DLQ."
  type = list(object({
    service    = string
    source_arn = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.dlq_allowed_senders : contains(["events.amazonaws.com", "sns.amazonaws.com"], s.service)])
    error_message = "dlq_allowed_senders[*].service must be events.amazonaws.com or sns.amazonaws.com."
  }
}

variable "alarms" {
  description = "CloudWatch alarms: any message in the DLQ, and the age of the oldest message in the main queue. Actions are SNS topic ARNs."
  type = object({
    enabled                        = optional(bool, true)
    oldest_message_age_threshold_s = optional(number, 600)
    evaluation_period_seconds      = optional(number, 60)
    alarm_actions                  = optional(list(string), [])
    ok_actions                     = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = var.alarms.oldest_message_age_threshold_s >= 60
    error_message = "alarms.oldest_message_age_threshold_s must be at least 60 seconds."
  }

  validation {
    condition     = contains([10, 30, 60, 300, 900, 3600], var.alarms.evaluation_period_seconds)
    error_message = "alarms.evaluation_period_seconds must be one of 10, 30, 60, 300, 900, 3600."
  }

  validation {
    condition     = alltrue([for a in concat(var.alarms.alarm_actions, var.alarms.ok_actions) : can(regex("^arn:aws[a-z-]*:sns:", a))])
    error_message = "alarms actions must be SNS topic ARNs."
  }
}

variable "tags" {
  description = "Tags for both queues and the alarms."
  type        = map(string)
  default     = {}
}
