variable "name" {
  description = "Name of the user pool; its app clients are <name>-customers and <name>-admin."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,120}$", var.name))
    error_message = "name must be 1-120 letters, digits, hyphens or underscores (room for the clients' suffixes in Cognito's 128)."
  }
}

variable "domain_prefix" {
  description = "Prefix of the pool's Cognito domain, https://<prefix>.auth.<region>.amazoncognito.com: the token endpoint where admin tools exchange their client credentials for a token. Unique in the region across all AWS accounts, so include something of yours (e.g. <name>-<account id>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) && !can(regex("aws|amazon|cognito", var.domain_prefix))
    error_message = "domain_prefix must be 1-63 lowercase letters, digits or inner hyphens, and must not contain aws, amazon or cognito (Cognito reserves them)."
  }
}

variable "password_policy" {
  description = "What a password must hold: minimum_length (8-99), the character classes it requires, and how many days a temporary password set by an administrator stays usable (1-365)."
  type = object({
    minimum_length                   = optional(number, 12)
    require_lowercase                = optional(bool, true)
    require_uppercase                = optional(bool, true)
    require_numbers                  = optional(bool, true)
    require_symbols                  = optional(bool, true)
    temporary_password_validity_days = optional(number, 3)
  })
  default = {}

  validation {
    condition     = var.password_policy.minimum_length >= 8 && var.password_policy.minimum_length <= 99 && floor(var.password_policy.minimum_length) == var.password_policy.minimum_length
    error_message = "password_policy.minimum_length must be a whole number from 8 to 99 (Cognito allows 6; this module refuses less than 8)."
  }

  validation {
    condition     = var.password_policy.temporary_password_validity_days >= 1 && var.password_policy.temporary_password_validity_days <= 365 && floor(var.password_policy.temporary_password_validity_days) == var.password_policy.temporary_password_validity_days
    error_message = "password_policy.temporary_password_validity_days must be a whole number of days from 1 to 365."
  }
}

variable "self_sign_up_enabled" {
  description = "Whether anyone may create their own account through SignUp. Off: only administrators (and tooling with AdminCreateUser, such as the seeding) create users."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Whether Cognito refuses to delete the pool (and with it every user's account) until this is turned off. Leave it on wherever users are real; the stack turns it off in dev and local only."
  type        = bool
  default     = true
}

variable "mfa_configuration" {
  description = "Multi-factor sign-in: OFF, OPTIONAL (a user may enrol an authenticator app) or ON (every user must). The module offers authenticator apps (TOTP) only; SMS needs an IAM role and a sending budget."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be OFF, OPTIONAL or ON."
  }
}

variable "access_token_validity_minutes" {
  description = "Minutes an access token (what the API's JWT authorizer accepts) is valid, for both clients (5-1440). A stolen token works until then: API Gateway does not check revocation."
  type        = number
  default     = 60

  validation {
    condition     = var.access_token_validity_minutes >= 5 && var.access_token_validity_minutes <= 1440 && floor(var.access_token_validity_minutes) == var.access_token_validity_minutes
    error_message = "access_token_validity_minutes must be a whole number from 5 to 1440 (Cognito's limits: 5 minutes to 1 day)."
  }
}

variable "id_token_validity_minutes" {
  description = "Minutes a customer's ID token is valid (5-1440)."
  type        = number
  default     = 60

  validation {
    condition     = var.id_token_validity_minutes >= 5 && var.id_token_validity_minutes <= 1440 && floor(var.id_token_validity_minutes) == var.id_token_validity_minutes
    error_message = "id_token_validity_minutes must be a whole number from 5 to 1440 (Cognito's limits: 5 minutes to 1 day)."
  }
}

variable "refresh_token_validity_days" {
  description = "Days a customer's refresh token can renew access and ID tokens without the password (1-3650); after that the customer signs in again."
  type        = number
  default     = 30

  validation {
    condition     = var.refresh_token_validity_days >= 1 && var.refresh_token_validity_days <= 3650 && floor(var.refresh_token_validity_days) == var.refresh_token_validity_days
    error_message = "refresh_token_validity_days must be a whole number from 1 to 3650 (Cognito's limit is 10 years)."
  }
}

variable "customer_auth_flows" {
  description = "How customers sign in through the customer client (no secret: it runs on devices and in scripts). SRP keeps the password off the wire; ALLOW_USER_PASSWORD_AUTH sends it over TLS (simple clients, make token); ALLOW_ADMIN_USER_PASSWORD_AUTH lets tooling with IAM credentials sign users in (the load test). ALLOW_REFRESH_TOKEN_AUTH is always needed to renew tokens."
  type        = list(string)
  default     = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

  validation {
    condition     = length(var.customer_auth_flows) > 0 && alltrue([for f in var.customer_auth_flows : contains(["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], f)])
    error_message = "customer_auth_flows may hold ALLOW_USER_SRP_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_ADMIN_USER_PASSWORD_AUTH and ALLOW_REFRESH_TOKEN_AUTH (custom challenges are not offered)."
  }

  validation {
    condition     = contains(var.customer_auth_flows, "ALLOW_REFRESH_TOKEN_AUTH") && length(var.customer_auth_flows) > 1
    error_message = "customer_auth_flows must include ALLOW_REFRESH_TOKEN_AUTH (clients renew tokens without the password) and at least one way to sign in."
  }
}

variable "resource_server_identifier" {
  description = "Identifier of the API's resource server: the prefix of its scopes (<identifier>/<scope>)."
  type        = string
  default     = "orders"

  validation {
    condition     = can(regex("^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,256}$", var.resource_server_identifier))
    error_message = "resource_server_identifier must be 1-256 printable characters without spaces, quotes or backslashes."
  }
}

variable "scopes" {
  description = "The resource server's scopes by name, with what each allows. Customers get none of them: a customer token acts for its own customer only."
  type        = map(string)
  default = {
    admin = "Read any customer's orders (back-office tools, the load test's reconciliation)."
  }

  validation {
    condition     = length(var.scopes) > 0 && alltrue([for name, description in var.scopes : can(regex("^[\\x21\\x23-\\x2E\\x30-\\x5B\\x5D-\\x7E]{1,256}$", name)) && length(description) >= 1 && length(description) <= 256])
    error_message = "scopes needs at least one; names are 1-256 printable characters without spaces, slashes, quotes or backslashes, descriptions 1-256 characters."
  }
}

variable "admin_client_scopes" {
  description = "Names of the scopes (keys of scopes) the admin client's client-credentials tokens carry."
  type        = list(string)
  default     = ["admin"]

  validation {
    condition     = length(var.admin_client_scopes) > 0 && alltrue([for s in var.admin_client_scopes : contains(keys(var.scopes), s)])
    error_message = "admin_client_scopes must name at least one scope, each a key of scopes."
  }
}

variable "tags" {
  description = "Tags for the user pool."
  type        = map(string)
  default     = {}
}
