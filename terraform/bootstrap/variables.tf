variable "region" {
  description = "Region of this account's state, lock table and artifact bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "account_id" {
  description = "The AWS account this bootstrap is applied to. The provider refuses any other account."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "name_prefix" {
  description = "Prefix of every bucket, table and role created here, e.g. \"acme-platform\". Bucket names are <prefix>-<account_id>-tfstate and -artifacts."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "environments" {
  description = "Environments deployed into this account. Each gets a deploy role limited to resources named <stack_name_prefix>-<environment>-*."
  type        = list(string)

  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : can(regex("^[a-z][a-z0-9]{1,15}$", e))])
    error_message = "environments must be a non-empty list of lowercase names (2-16 letters/digits), e.g. [\"dev\"]."
  }
}

variable "stack_name_prefix" {
  description = "Name prefix the platform stack gives its resources (the stack's `name_prefix`); deploy roles may only manage resources under it."
  type        = string
  default     = "orders"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.stack_name_prefix))
    error_message = "stack_name_prefix must be 2-21 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "trusted_principal_arns" {
  description = "IAM principals (the tooling/CI account's roles) allowed to assume the deploy roles. Use role ARNs, not account roots, in production."
  type        = list(string)

  validation {
    condition     = length(var.trusted_principal_arns) > 0 && alltrue([for a in var.trusted_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", a))])
    error_message = "trusted_principal_arns must be IAM ARNs of the form arn:aws:iam::<12 digits>:role/<name> (or :root)."
  }
}

variable "artifact_reader_account_ids" {
  description = "Accounts allowed to read this account's artifact bucket, i.e. the accounts that promote builds from it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.artifact_reader_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "artifact_reader_account_ids must be 12-digit account ids."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days a superseded state file or artifact version is kept before it expires."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && var.noncurrent_version_retention_days <= 3650
    error_message = "noncurrent_version_retention_days must be between 1 and 3650."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the buckets and the lock table. Null uses SSE-S3 (AES256) and the DynamoDB-owned key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "force_destroy" {
  description = "Allow destroying non-empty buckets. Only for throwaway accounts (the local emulator); never in real ones."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource, on top of managed-by = terraform: the cost-allocation tags service, environment and cost-center, as the environments' providers set them."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["service", "environment", "cost-center"] : try(length(var.tags[key]) > 0, false)])
    error_message = "tags must carry the cost-allocation tags service, environment and cost-center."
  }
}

variable "assume_role_arn" {
  description = "Role to assume in the target account to apply this bootstrap (e.g. OrganizationAccountAccessRole). Null uses the caller's credentials."
  type        = string
  default     = null

  validation {
    condition     = var.assume_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.assume_role_arn))
    error_message = "assume_role_arn must be an IAM role ARN or null."
  }
}

variable "promotion_source_account_ids" {
  description = "Accounts whose artifact buckets (<name_prefix>-<id>-artifacts) the deploy roles here read from when a build is promoted into this account; each must list this account in its artifact_reader_account_ids."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.promotion_source_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "promotion_source_account_ids must be 12-digit account ids."
  }
}

variable "notification_senders" {
  description = "SES e-mail identity the stack creates per environment (its notification_sender); the deploy role of that environment may manage exactly this identity."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for e, a in var.notification_senders : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", a))])
    error_message = "notification_senders must map environment names to e-mail addresses."
  }
}
