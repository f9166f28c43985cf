variable "name" {
  description = "Name of the table."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, underscore, hyphen or dot."
  }
}

variable "hash_key" {
  description = "Partition key of the table: attribute name and type (S string, N number, B binary)."
  type = object({
    name = string
    type = string
  })

  validation {
    condition     = contains(["S", "N", "B"], var.hash_key.type)
    error_message = "hash_key.type must be S, N or B."
  }

  validation {
    condition     = length(var.hash_key.name) >= 1 && length(var.hash_key.name) <= 255
    error_message = "hash_key.name must be 1-255 characters."
  }
}

variable "range_key" {
  description = "Sort key of the table (name and type S, N or B), or null for a table with a partition key only."
  type = object({
    name = string
    type = string
  })
  default = null

  validation {
    condition     = var.range_key == null || contains(["S", "N", "B"], try(var.range_key.type, ""))
    error_message = "range_key.type must be S, N or B."
  }

  validation {
    condition     = var.range_key == null || (length(try(var.range_key.name, "")) >= 1 && length(try(var.range_key.name, "")) <= 255 && try(var.range_key.name, "") != var.hash_key.name)
    error_message = "range_key.name must be 1-255 characters and differ from hash_key.name."
  }
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on demand, no capacity planning) or PROVISIONED (then capacity is required)."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "capacity" {
  description = "PROVISIONED only: read and write capacity units of the table, also used by every global secondary index. Must be null with PAY_PER_REQUEST."
  type = object({
    read  = number
    write = number
  })
  default = null

  validation {
    condition     = (var.capacity != null) == (var.billing_mode == "PROVISIONED")
    error_message = "capacity must be set when billing_mode is PROVISIONED and null when it is PAY_PER_REQUEST."
  }

  validation {
    condition     = var.capacity == null || (try(var.capacity.read, 0) >= 1 && try(var.capacity.write, 0) >= 1 && floor(try(var.capacity.read, 0)) == try(var.capacity.read, 0) && floor(try(var.capacity.write, 0)) == try(var.capacity.write, 0))
    error_message = "capacity.read and capacity.write must be whole numbers of at least 1."
  }
}

variable "autoscaling" {
  description = "PROVISIONED only: target-tracking autoscaling of read and write capacity for the table and every global secondary index, between min and max units, aiming at target_utilization percent. Null = fixed capacity."
  type = object({
    min_read           = number
    max_read           = number
    min_write          = number
    max_write          = number
    target_utilization = optional(number, 70)
  })
  default = null

  validation {
    condition     = var.autoscaling == null || var.billing_mode == "PROVISIONED"
    error_message = "autoscaling is only valid with billing_mode = PROVISIONED (PAY_PER_REQUEST scales on its own)."
  }

  validation {
    condition = var.autoscaling == null || (
      try(var.autoscaling.min_read, 0) >= 1 && try(var.autoscaling.min_write, 0) >= 1 &&
      try(var.autoscaling.min_read, 0) <= try(var.autoscaling.max_read, 0) &&
      try(var.autoscaling.min_write, 0) <= try(var.autoscaling.max_write, 0)
    )
    error_message = "autoscaling min_read and min_write must be at least 1 and not above max_read and max_write."
  }

  validation {
    condition     = var.autoscaling == null || (try(var.autoscaling.target_utilization, 0) >= 20 && try(var.autoscaling.target_utilization, 0) <= 90)
    error_message = "autoscaling.target_utilization must be between 20 and 90 (percent)."
  }
}

variable "global_secondary_indexes" {
  description = "Global secondary indexes. Their key attributes are added to the table's attribute definitions. projection_type is ALL, KEYS_ONLY or INCLUDE (INCLUDE needs non_key_attributes). With PROVISIONED they use the table's capacity and autoscaling."
  type = list(object({
    name = string
    hash_key = object({
      name = string
      type = string
    })
    range_key = optional(object({
      name = string
      type = string
    }))
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
  }))
  default = []

  validation {
    condition     = alltrue([for i in var.global_secondary_indexes : can(regex("^[A-Za-z0-9_.-]{3,255}$", i.name))])
    error_message = "global_secondary_indexes[*].name must be 3-255 characters of letters, digits, underscore, hyphen or dot."
  }

  validation {
    condition     = length(var.global_secondary_indexes) <= 20 && length(distinct([for i in var.global_secondary_indexes : i.name])) == length(var.global_secondary_indexes)
    error_message = "global_secondary_indexes must have unique names, at most 20 of them."
  }

  validation {
    condition     = alltrue([for i in var.global_secondary_indexes : contains(["S", "N", "B"], i.hash_key.type) && (i.range_key == null || contains(["S", "N", "B"], try(i.range_key.type, "")))])
    error_message = "global_secondary_indexes key types must be S, N or B."
  }

  validation {
    condition     = alltrue([for i in var.global_secondary_indexes : contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type) && ((i.projection_type == "INCLUDE") == (length(i.non_key_attributes) > 0))])
    error_message = "global_secondary_indexes[*].projection_type must be ALL, KEYS_ONLY or INCLUDE; non_key_attributes are required with INCLUDE and allowed only with it."
  }

  validation {
    condition = alltrue(flatten([
      for i in var.global_secondary_indexes : [
        for k in concat([i.hash_key], i.range_key == null ? [] : [i.range_key]) : [
          for o in concat(
            [var.hash_key], var.range_key == null ? [] : [var.range_key],
            flatten([for j in var.global_secondary_indexes : concat([j.hash_key], j.range_key == null ? [] : [j.range_key])]),
          ) : o.type == k.type if o.name == k.name
        ]
      ]
    ]))
    error_message = "global_secondary_indexes: an attribute used as a key must have the same type everywhere (table keys and every index)."
  }
}

variable "local_secondary_indexes" {
  description = "Local secondary indexes: the table's partition key with another sort key (the table needs a range_key). projection_type is ALL, KEYS_ONLY or INCLUDE (INCLUDE needs non_key_attributes). Only possible when the table is created."
  type = list(object({
    name = string
    range_key = object({
      name = string
      type = string
    })
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
  }))
  default = []

  validation {
    condition     = length(var.local_secondary_indexes) == 0 || var.range_key != null
    error_message = "local_secondary_indexes need a table range_key (a composite primary key)."
  }

  validation {
    condition     = alltrue([for i in var.local_secondary_indexes : can(regex("^[A-Za-z0-9_.-]{3,255}$", i.name))])
    error_message = "local_secondary_indexes[*].name must be 3-255 characters of letters, digits, underscore, hyphen or dot."
  }

  validation {
    condition     = length(var.local_secondary_indexes) <= 5 && length(distinct(concat([for i in var.local_secondary_indexes : i.name], [for i in var.global_secondary_indexes : i.name]))) == length(var.local_secondary_indexes) + length(var.global_secondary_indexes)
    error_message = "local_secondary_indexes must have unique names, shared with no global secondary index, at most 5 of them."
  }

  validation {
    condition     = alltrue([for i in var.local_secondary_indexes : contains(["S", "N", "B"], i.range_key.type)])
    error_message = "local_secondary_indexes[*].range_key.type must be S, N or B."
  }

  validation {
    condition     = alltrue([for i in var.local_secondary_indexes : contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type) && ((i.projection_type == "INCLUDE") == (length(i.non_key_attributes) > 0))])
    error_message = "local_secondary_indexes[*].projection_type must be ALL, KEYS_ONLY or INCLUDE; non_key_attributes are required with INCLUDE and allowed only with it."
  }

  validation {
    condition = alltrue(flatten([
      for i in var.local_secondary_indexes : [
        for o in concat(
          [var.hash_key], var.range_key == null ? [] : [var.range_key],
          flatten([for j in var.global_secondary_indexes : concat([j.hash_key], j.range_key == null ? [] : [j.range_key])]),
          [for j in var.local_secondary_indexes : j.range_key],
        ) : o.type == i.range_key.type if o.name == i.range_key.name
      ]
    ]))
    error_message = "local_secondary_indexes: an attribute used as a key must have the same type everywhere (table keys and every index)."
  }
}

variable "ttl_attribute_name" {
  description = "Attribute holding the expiry time (epoch seconds) for DynamoDB TTL. Null = TTL off."
  type        = string
  default     = null

  validation {
    condition     = var.ttl_attribute_name == null || can(regex("^.{1,255}$", var.ttl_attribute_name))
    error_message = "ttl_attribute_name must be 1-255 characters, or null to turn TTL off."
  }
}

variable "point_in_time_recovery" {
  description = "Continuous backups with point-in-time restore (35 days). On by default."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for server-side encryption. Null uses the AWS managed key (aws/dynamodb). Encryption is always on."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), or null for the AWS managed key."
  }
}

variable "stream_view_type" {
  description = "DynamoDB stream content: NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY. Null = no stream."
  type        = string
  default     = null

  validation {
    condition     = var.stream_view_type == null || contains(["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"], coalesce(var.stream_view_type, "-"))
    error_message = "stream_view_type must be NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY, or null for no stream."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable while on. On by default; turn it off only for dev/local tables that are torn down."
  type        = bool
  default     = true
}

variable "table_class" {
  description = "STANDARD, or STANDARD_INFREQUENT_ACCESS for tables where storage dominates the cost."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "STANDARD_INFREQUENT_ACCESS"], var.table_class)
    error_message = "table_class must be STANDARD or STANDARD_INFREQUENT_ACCESS."
  }
}

variable "alarms" {
  description = "CloudWatch alarms on the table, each notifying alarm_actions on ALARM and ok_actions on OK (SNS topic ARNs): throttled reads and writes (on the table and on each global secondary index) above throttled_requests_threshold, and DynamoDB system errors (HTTP 500s) above system_errors_threshold on the operations listed. An alarm fires when datapoints_to_alarm of the last evaluation_periods periods breach."
  type = object({
    enabled                      = optional(bool, true)
    alarm_actions                = optional(list(string), [])
    ok_actions                   = optional(list(string), [])
    period_seconds               = optional(number, 60)
    evaluation_periods           = optional(number, 5)
    datapoints_to_alarm          = optional(number, 2)
    throttled_requests_threshold = optional(number, 0)
    system_errors_threshold      = optional(number, 0)
    system_error_operations      = optional(list(string), ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems"])
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
    condition     = var.alarms.throttled_requests_threshold >= 0 && var.alarms.system_errors_threshold >= 0
    error_message = "alarms thresholds must be 0 or more."
  }

  # One alarm may read at most 10 metrics; SystemErrors is published per operation.
  validation {
    condition     = length(var.alarms.system_error_operations) >= 1 && length(var.alarms.system_error_operations) <= 10 && alltrue([for o in var.alarms.system_error_operations : can(regex("^[A-Z][A-Za-z]+$", o))])
    error_message = "alarms.system_error_operations must name 1 to 10 DynamoDB operations (GetItem, PutItem, Query, TransactWriteItems...)."
  }

  validation {
    condition     = alltrue([for a in concat(var.alarms.alarm_actions, var.alarms.ok_actions) : can(regex("^arn:aws[a-z-]*:sns:", a))])
    error_message = "alarms actions must be SNS topic ARNs."
  }
}

variable "tags" {
  description = "Tags for the table and the autoscaling targets."
  type        = map(string)
  default     = {}
}
