variable "name" {
  description = "Name of the SNS topic; the KMS key's alias is alias/<name>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,256}$", var.name))
    error_message = "name must be 1-256 letters, digits, hyphens or underscores (an SNS topic name, not .fifo)."
  }
}

variable "subscriptions" {
  description = "Who is told, by protocol and endpoint (an e-mail address, an https URL such as a pager's integration, an SQS queue or Lambda function ARN). With alarm_names, only those alarms' notifications reach the endpoint (an SNS filter policy on the message's AlarmName): page on the alarm that means users are hurt, mail the rest. E-mail and https endpoints must confirm the subscription AWS sends them."
  type = list(object({
    protocol    = string
    endpoint    = string
    alarm_names = optional(list(string))
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.subscriptions : contains(["email", "email-json", "https", "sqs", "lambda", "sms"], s.protocol)])
    error_message = "subscriptions[*].protocol must be email, email-json, https, sqs, lambda or sms."
  }

  validation {
    condition = alltrue([for s in var.subscriptions : (
      startswith(s.protocol, "email") ? can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint)) :
      s.protocol == "https" ? startswith(s.endpoint, "https://") :
      contains(["sqs", "lambda"], s.protocol) ? can(regex("^arn:aws[a-z-]*:${s.protocol}:", s.endpoint)) :
      can(regex("^\\+[1-9][0-9]{6,14}$", s.endpoint))
    )])
    error_message = "subscriptions[*].endpoint must match its protocol: an e-mail address, an https:// URL, an SQS queue or Lambda function ARN, or an E.164 phone number for sms."
  }

  validation {
    condition     = alltrue([for s in var.subscriptions : s.alarm_names == null ? true : length(s.alarm_names) > 0])
    error_message = "subscriptions[*].alarm_names, when given, must name at least one alarm (leave it out to receive every alarm)."
  }

  validation {
    condition     = length(distinct([for s in var.subscriptions : "${s.protocol} ${s.endpoint}"])) == length(var.subscriptions)
    error_message = "subscriptions must not repeat a protocol and endpoint."
  }
}

variable "publishers" {
  description = "AWS services that may publish to the topic, and use its key to do so, on behalf of this account only (aws:SourceAccount): CloudWatch alarms by default; add budgets.amazonaws.com or events.amazonaws.com for AWS Budgets or EventBridge notifications."
  type        = list(string)
  default     = ["cloudwatch.amazonaws.com"]

  validation {
    condition     = length(var.publishers) > 0 && alltrue([for p in var.publishers : can(regex("^[a-z0-9-]+\\.amazonaws\\.com$", p))])
    error_message = "publishers must be AWS service principals such as cloudwatch.amazonaws.com."
  }
}

variable "kms_key_deletion_window_days" {
  description = "Days a deleted topic key waits before it is gone (7-30): a mistaken destroy can still be undone that long."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30 && floor(var.kms_key_deletion_window_days) == var.kms_key_deletion_window_days
    error_message = "kms_key_deletion_window_days must be a whole number of days between 7 and 30."
  }
}

variable "tags" {
  description = "Tags for the topic and its key."
  type        = map(string)
  default     = {}
}
