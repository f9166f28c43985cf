# A Cognito user pool for an API's customers, with the two app clients an HTTP API's JWT
# authorizer accepts: customers sign in for themselves (no client secret, no scopes of the
# API's resource server), admin tools get client-credentials tokens carrying the resource
# server's scopes (e.g. orders/admin) from the pool's token endpoint.

data "aws_region" "current" {}

locals {
  issuer_url = "https://${aws_cognito_user_pool.this.endpoint}"
  # Where tokens are minted for OAuth grants (client credentials); the pool's domain serves it.
  token_endpoint = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.current.name}.amazoncognito.com/oauth2/token"
  scope_identifiers = {
    for name in keys(var.scopes) : name => "${aws_cognito_resource_server.this.identifier}/${name}"
  }
}

resource "aws_cognito_user_pool" "this" {
  name                = var.name
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration   = var.mfa_configuration

  # Users are named by whoever creates them (the seeding uses the customer id); email is an
  # attribute, verified before it is used for recovery or changed.
  auto_verified_attributes = ["email"]

  username_configuration {
    case_sensitive = false
  }

  admin_create_user_config {
    allow_admin_create_user_only = !var.self_sign_up_enabled
  }

  password_policy {
    minimum_length                   = var.password_policy.minimum_length
    require_lowercase                = var.password_policy.require_lowercase
    require_uppercase                = var.password_policy.require_uppercase
    require_numbers                  = var.password_policy.require_numbers
    require_symbols                  = var.password_policy.require_symbols
    temporary_password_validity_days = var.password_policy.temporary_password_validity_days
  }

  dynamic "software_token_mfa_configuration" {
    for_each = var.mfa_configuration == "OFF" ? [] : [true]
    content {
      enabled = true
    }
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  # A changed address is not used until the user confirms it: nobody takes over an account
  # by writing someone else's address into it.
  user_attribute_update_settings {
    attributes_require_verification_before_update = ["email"]
  }

  tags = var.tags
}

resource "aws_cognito_user_pool_domain" "this" {
  domain       = var.domain_prefix
  user_pool_id = aws_cognito_user_pool.this.id
}

resource "aws_cognito_resource_server" "this" {
  user_pool_id = aws_cognito_user_pool.this.id
  identifier   = var.resource_server_identifier
  name         = var.resource_server_identifier

  dynamic "scope" {
    for_each = var.scopes
    content {
      scope_name        = scope.key
      scope_description = scope.value
    }
  }
}

resource "aws_cognito_user_pool_client" "customers" {
  name         = "${var.name}-customers"
  user_pool_id = aws_cognito_user_pool.this.id

  # Runs where a secret cannot be kept (browsers, phones, scripts).
  generate_secret     = false
  explicit_auth_flows = var.customer_auth_flows

  access_token_validity  = var.access_token_validity_minutes
  id_token_validity      = var.id_token_validity_minutes
  refresh_token_validity = var.refresh_token_validity_days
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  # A wrong username answers like a wrong password: sign-in does not reveal who has an account.
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
}

resource "aws_cognito_user_pool_client" "admin" {
  name         = "${var.name}-admin"
  user_pool_id = aws_cognito_user_pool.this.id

  # Back-office tools authenticate as themselves, with a secret, and receive the scopes.
  generate_secret                      = true
  allowed_oauth_flows                  = ["client_credentials"]
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_scopes                 = [for name in var.admin_client_scopes : local.scope_identifiers[name]]
  # Only the refresh flow, which client credentials never use: no user signs in through it
  # (Cognito would otherwise allow SRP and custom sign-ins by default).
  explicit_auth_flows = ["ALLOW_REFRESH_TOKEN_AUTH"]

  access_token_validity  = var.access_token_validity_minutes
  refresh_token_validity = 60
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "minutes"
  }

  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
}
