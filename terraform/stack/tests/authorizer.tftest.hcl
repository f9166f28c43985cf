# Who may call the API (main.tf, local.api_routes), planned with a mocked AWS provider:
# override_during = plan gives the pool, its clients and the authorizer known values to compare.
mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "222222222222" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      id       = "eu-west-1_Pool12345"
      endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool12345"
    }
  }
  mock_resource "aws_apigatewayv2_authorizer" {
    defaults = { id = "auth123" }
  }
}

override_resource {
  target          = module.user_pool.aws_cognito_user_pool_client.customers
  override_during = plan
  values          = { id = "customerclient" }
}

override_resource {
  target          = module.user_pool.aws_cognito_user_pool_client.admin
  override_during = plan
  values          = { id = "adminclient" }
}

variables {
  environment         = "staging"
  notification_sender = "orders@example.com"
  monthly_budget_usd  = 800
  artifacts = {
    for name in ["orders_api", "order_processor", "notifier", "pre_traffic_hook", "layer"] : name => {
      s3_bucket        = "artifacts"
      s3_key           = "artifacts/${name}.zip"
      source_code_hash = "lSyBCdUna4Up6YC+AydMJ7Irc63YDGp2LvFlIpMcvSU="
    }
  }
}

run "every_route_but_health_needs_a_token_of_the_environment_s_pool" {
  command = plan

  assert {
    condition     = output.api_route_authorization["GET /health"].type == "NONE" && output.api_route_authorization["GET /health"].authorizer_id == null
    error_message = "GET /health must stay open (load balancers and smoke checks call it without a token)"
  }

  assert {
    condition = alltrue([for key, route in output.api_route_authorization :
    route.type == "JWT" && route.authorizer_id == "auth123" if key != "GET /health"])
    error_message = "every route but GET /health must use the JWT authorizer"
  }

  assert {
    condition     = length(output.api_route_authorization) == 5
    error_message = "the API has POST /orders, GET /orders/{order_id}, GET /customers/{customer_id}/orders, GET /health and $default"
  }

  assert {
    condition     = output.user_pool.issuer_url == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool12345"
    error_message = "the authorizer's issuer must be the environment's pool"
  }

  assert {
    condition     = module.http_api.jwt_authorizer.issuer == output.user_pool.issuer_url && module.http_api.jwt_authorizer.audience == tolist(["adminclient", "customerclient"])
    error_message = "the authorizer must accept the pool's customer and admin clients, and no other audience"
  }
}

run "customers_place_orders_and_reads_take_a_customer_or_the_admin_scope" {
  command = plan

  assert {
    condition     = output.api_route_authorization["POST /orders"].scopes == tolist(["aws.cognito.signin.user.admin"])
    error_message = "POST /orders must require a customer's sign-in scope: an admin token has no customer to order for"
  }

  assert {
    condition = alltrue([for key in ["GET /orders/{order_id}", "GET /customers/{customer_id}/orders", "$default"] :
    output.api_route_authorization[key].scopes == tolist(["aws.cognito.signin.user.admin", "orders/admin"])])
    error_message = "reads must take a customer's token or one with orders/admin (the API decides which orders each sees)"
  }

  assert {
    condition     = output.user_pool.admin_scope == "orders/admin"
    error_message = "the admin scope must be orders/admin"
  }
}

run "the_pool_is_protected_from_deletion_outside_dev_and_local" {
  command = plan

  assert {
    condition     = output.user_pool.id == "eu-west-1_Pool12345" && module.user_pool.deletion_protection == "ACTIVE"
    error_message = "staging's pool must refuse deletion by default"
  }
}

run "staging_cannot_turn_the_pool_s_deletion_protection_off" {
  command = plan

  variables {
    user_pool = { deletion_protection = false }
  }

  expect_failures = [var.user_pool]
}

run "dev_may_turn_the_pool_s_deletion_protection_off" {
  command = plan

  variables {
    environment = "dev"
    user_pool = {
      deletion_protection           = false
      self_sign_up_enabled          = true
      access_token_validity_minutes = 15
    }
  }

  assert {
    condition     = module.user_pool.deletion_protection == "INACTIVE"
    error_message = "dev's pool follows user_pool.deletion_protection"
  }
}
