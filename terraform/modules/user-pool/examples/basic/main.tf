# A user pool for an orders API: customers sign in for themselves, back-office tools get
# orders/admin tokens by client credentials, and the issuer and audience an HTTP API's JWT
# authorizer takes.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region to create the example in."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Name of the example pool."
  type        = string
  default     = "example-orders-customers"
}

variable "deletion_protection" {
  description = "Whether the pool refuses deletion (the module's default is on; turn it off to destroy the example)."
  type        = bool
  default     = true
}

data "aws_caller_identity" "current" {}

module "user_pool" {
  source = "../../"

  name = var.name
  # Unique in the region across accounts: the account id makes it ours.
  domain_prefix       = "${var.name}-${data.aws_caller_identity.current.account_id}"
  deletion_protection = var.deletion_protection

  # A script signs customers in with their password (over TLS), as `make token` does.
  customer_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

  access_token_validity_minutes = 30

  tags = { example = "user-pool" }
}

output "user_pool_id" {
  description = "ID of the pool."
  value       = module.user_pool.user_pool_id
}

output "user_pool_arn" {
  description = "ARN of the pool."
  value       = module.user_pool.user_pool_arn
}

output "issuer_url" {
  description = "Issuer of the pool's tokens."
  value       = module.user_pool.issuer_url
}

output "jwks_url" {
  description = "The pool's public keys."
  value       = module.user_pool.jwks_url
}

output "customer_client_id" {
  description = "The customers' app client."
  value       = module.user_pool.customer_client_id
}

output "admin_client_id" {
  description = "The admin tools' app client."
  value       = module.user_pool.admin_client_id
}

output "scope_identifiers" {
  description = "The resource server's scopes."
  value       = module.user_pool.scope_identifiers
}

output "token_endpoint" {
  description = "Where the admin client exchanges its credentials for a token."
  value       = module.user_pool.token_endpoint
}

output "jwt_authorizer" {
  description = "What an http-api module's jwt_authorizer takes."
  value       = module.user_pool.jwt_authorizer
}
