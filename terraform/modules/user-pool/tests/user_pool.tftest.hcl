# Plan-only tests with a mocked AWS provider.
mock_provider "aws" {
  override_during = plan

  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      id       = "eu-west-1_AbCdEf123"
      arn      = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123"
      endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    }
  }
  mock_resource "aws_cognito_user_pool_client" {
    defaults = { id = "4example0client0id0abcdefg" }
  }
}

variables {
  name          = "orders-prod-customers"
  domain_prefix = "orders-prod-123456789012"
}

run "by_default_only_administrators_create_users_and_the_pool_refuses_deletion" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool.this.admin_create_user_config[0].allow_admin_create_user_only
    error_message = "no self sign-up unless self_sign_up_enabled"
  }
  assert {
    condition     = aws_cognito_user_pool.this.deletion_protection == "ACTIVE"
    error_message = "deletion protection is on by default"
  }
  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "OPTIONAL" && aws_cognito_user_pool.this.software_token_mfa_configuration[0].enabled
    error_message = "users may enrol an authenticator app"
  }
  assert {
    condition     = aws_cognito_user_pool.this.user_attribute_update_settings[0].attributes_require_verification_before_update == toset(["email"]) && [for m in aws_cognito_user_pool.this.account_recovery_setting[0].recovery_mechanism : m.name] == ["verified_email"]
    error_message = "an address is verified before it is changed or used for recovery"
  }
  assert {
    condition     = !aws_cognito_user_pool.this.username_configuration[0].case_sensitive
    error_message = "usernames are not case sensitive"
  }
}

run "passwords_are_twelve_characters_of_every_class_by_default" {
  command = plan

  assert {
    condition = { for k, v in aws_cognito_user_pool.this.password_policy[0] : k => v if k != "password_history_size" } == {
      minimum_length                   = 12
      require_lowercase                = true
      require_uppercase                = true
      require_numbers                  = true
      require_symbols                  = true
      temporary_password_validity_days = 3
    }
    error_message = "the password policy is 12 characters, every class, temporary passwords for 3 days"
  }
}

run "the_customer_client_has_no_secret_no_scopes_and_the_token_lifetimes_given" {
  command = plan

  variables {
    access_token_validity_minutes = 15
    id_token_validity_minutes     = 30
    refresh_token_validity_days   = 7
  }

  assert {
    condition     = !aws_cognito_user_pool_client.customers.generate_secret && length(aws_cognito_user_pool_client.customers.allowed_oauth_scopes) == 0 && length(aws_cognito_user_pool_client.customers.allowed_oauth_flows) == 0
    error_message = "customers sign in without a client secret and get no resource-server scope"
  }
  assert {
    condition     = aws_cognito_user_pool_client.customers.explicit_auth_flows == toset(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    error_message = "by default customers sign in by SRP only, and refresh"
  }
  assert {
    condition = (
      aws_cognito_user_pool_client.customers.access_token_validity == 15 && aws_cognito_user_pool_client.customers.id_token_validity == 30 && aws_cognito_user_pool_client.customers.refresh_token_validity == 7
      && aws_cognito_user_pool_client.customers.token_validity_units[0] == { access_token = "minutes", id_token = "minutes", refresh_token = "days" }
    )
    error_message = "token lifetimes are the values given, in minutes and days"
  }
  assert {
    condition     = aws_cognito_user_pool_client.customers.prevent_user_existence_errors == "ENABLED" && aws_cognito_user_pool_client.customers.enable_token_revocation
    error_message = "sign-in does not reveal who has an account; tokens can be revoked"
  }
  assert {
    condition     = aws_cognito_user_pool_client.admin.access_token_validity == 15
    error_message = "the admin client's tokens live as long as the customers'"
  }
}

run "the_admin_client_gets_orders_admin_by_client_credentials_only" {
  command = plan

  assert {
    condition     = aws_cognito_resource_server.this.identifier == "orders" && [for s in aws_cognito_resource_server.this.scope : s.scope_name] == ["admin"]
    error_message = "the resource server is orders with the admin scope"
  }
  assert {
    condition     = aws_cognito_user_pool_client.admin.generate_secret && aws_cognito_user_pool_client.admin.allowed_oauth_flows == toset(["client_credentials"]) && aws_cognito_user_pool_client.admin.allowed_oauth_flows_user_pool_client
    error_message = "the admin client authenticates with a secret, by client credentials"
  }
  assert {
    condition     = aws_cognito_user_pool_client.admin.allowed_oauth_scopes == toset(["orders/admin"])
    error_message = "its tokens carry orders/admin"
  }
  assert {
    condition     = aws_cognito_user_pool_client.admin.explicit_auth_flows == toset(["ALLOW_REFRESH_TOKEN_AUTH"])
    error_message = "no user signs in through the admin client"
  }
  assert {
    condition     = output.scope_identifiers == { admin = "orders/admin" }
    error_message = "the scope identifiers are <identifier>/<name>"
  }
}

run "outputs_give_the_authorizer_its_issuer_and_both_clients_as_audience" {
  command = plan

  assert {
    condition     = output.issuer_url == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123" && output.jwks_url == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json"
    error_message = "issuer and JWKS are the pool's cognito-idp URLs"
  }
  assert {
    condition     = output.jwt_authorizer == { issuer = output.issuer_url, audience = [aws_cognito_user_pool_client.customers.id, aws_cognito_user_pool_client.admin.id] }
    error_message = "the authorizer accepts both clients' tokens from this pool"
  }
  assert {
    condition     = output.token_endpoint == "https://orders-prod-123456789012.auth.eu-west-1.amazoncognito.com/oauth2/token" && aws_cognito_user_pool_domain.this.domain == "orders-prod-123456789012"
    error_message = "the token endpoint is the pool's domain"
  }
}

run "self_sign_up_deletion_protection_and_mfa_are_values" {
  command = plan

  variables {
    self_sign_up_enabled = true
    deletion_protection  = false
    mfa_configuration    = "OFF"
    password_policy      = { minimum_length = 16, require_symbols = false }
  }

  assert {
    condition     = !aws_cognito_user_pool.this.admin_create_user_config[0].allow_admin_create_user_only && aws_cognito_user_pool.this.deletion_protection == "INACTIVE"
    error_message = "self sign-up on and deletion protection off when asked"
  }
  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "OFF" && length(aws_cognito_user_pool.this.software_token_mfa_configuration) == 0
    error_message = "MFA off means no authenticator app configuration"
  }
  assert {
    condition     = aws_cognito_user_pool.this.password_policy[0].minimum_length == 16 && !aws_cognito_user_pool.this.password_policy[0].require_symbols && aws_cognito_user_pool.this.password_policy[0].require_numbers
    error_message = "a partial password policy keeps the other defaults"
  }
}

run "more_scopes_and_an_admin_client_with_some_of_them" {
  command = plan

  variables {
    scopes              = { admin = "Read any customer's orders.", refunds = "Refund orders." }
    admin_client_scopes = ["refunds"]
  }

  assert {
    condition     = aws_cognito_user_pool_client.admin.allowed_oauth_scopes == toset(["orders/refunds"])
    error_message = "the admin client gets only the scopes named"
  }
}

run "rejects_a_name_cognito_refuses" {
  command = plan
  variables {
    name = "orders prod"
  }
  expect_failures = [var.name]
}

run "rejects_a_domain_prefix_with_a_reserved_word" {
  command = plan
  variables {
    domain_prefix = "orders-aws-prod"
  }
  expect_failures = [var.domain_prefix]
}

run "rejects_a_domain_prefix_with_capitals" {
  command = plan
  variables {
    domain_prefix = "Orders-prod"
  }
  expect_failures = [var.domain_prefix]
}

run "rejects_a_password_shorter_than_eight" {
  command = plan
  variables {
    password_policy = { minimum_length = 6 }
  }
  expect_failures = [var.password_policy]
}

run "rejects_a_temporary_password_that_never_expires" {
  command = plan
  variables {
    password_policy = { temporary_password_validity_days = 0 }
  }
  expect_failures = [var.password_policy]
}

run "rejects_an_unknown_mfa_configuration" {
  command = plan
  variables {
    mfa_configuration = "REQUIRED"
  }
  expect_failures = [var.mfa_configuration]
}

run "rejects_an_access_token_shorter_than_cognito_allows" {
  command = plan
  variables {
    access_token_validity_minutes = 1
  }
  expect_failures = [var.access_token_validity_minutes]
}

run "rejects_an_id_token_longer_than_a_day" {
  command = plan
  variables {
    id_token_validity_minutes = 1441
  }
  expect_failures = [var.id_token_validity_minutes]
}

run "rejects_a_refresh_token_of_no_days" {
  command = plan
  variables {
    refresh_token_validity_days = 0
  }
  expect_failures = [var.refresh_token_validity_days]
}

run "rejects_custom_auth_for_customers" {
  command = plan
  variables {
    customer_auth_flows = ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  }
  expect_failures = [var.customer_auth_flows]
}

run "rejects_customer_flows_without_refresh" {
  command = plan
  variables {
    customer_auth_flows = ["ALLOW_USER_SRP_AUTH"]
  }
  expect_failures = [var.customer_auth_flows]
}

run "rejects_a_resource_server_identifier_with_spaces" {
  command = plan
  variables {
    resource_server_identifier = "orders api"
  }
  expect_failures = [var.resource_server_identifier]
}

run "rejects_a_scope_name_with_a_slash" {
  command = plan
  variables {
    scopes              = { "orders/admin" = "Read any customer's orders." }
    admin_client_scopes = ["orders/admin"]
  }
  expect_failures = [var.scopes]
}

run "rejects_an_admin_scope_the_resource_server_lacks" {
  command = plan
  variables {
    admin_client_scopes = ["superuser"]
  }
  expect_failures = [var.admin_client_scopes]
}
