output "user_pool_id" {
  description = "ID of the user pool (<region>_<id>)."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "ARN of the user pool: what an IAM policy names for cognito-idp admin calls on it (seeding users, signing them in)."
  value       = aws_cognito_user_pool.this.arn
}

output "issuer_url" {
  description = "The tokens' issuer (iss claim), https://cognito-idp.<region>.amazonaws.com/<pool id>: a JWT authorizer's issuer."
  value       = local.issuer_url
}

output "jwks_url" {
  description = "Where the pool publishes the public keys its tokens are signed with."
  value       = "${local.issuer_url}/.well-known/jwks.json"
}

output "customer_client_id" {
  description = "ID of the customers' app client (no secret): what customers sign in through, and an audience of the API."
  value       = aws_cognito_user_pool_client.customers.id
}

output "admin_client_id" {
  description = "ID of the admin app client (client credentials): an audience of the API."
  value       = aws_cognito_user_pool_client.admin.id
}

output "admin_client_secret" {
  description = "Secret of the admin app client, for back-office tools to exchange at token_endpoint. Keep it out of logs; Cognito also returns it to DescribeUserPoolClient for those allowed to call it."
  value       = aws_cognito_user_pool_client.admin.client_secret
  sensitive   = true
}

output "scope_identifiers" {
  description = "Each scope of the resource server by name, as tokens and routes name it (<identifier>/<name>, e.g. orders/admin)."
  value       = local.scope_identifiers
}

output "token_endpoint" {
  description = "The pool's OAuth token endpoint, where the admin client obtains client-credentials tokens."
  value       = local.token_endpoint
}

output "jwt_authorizer" {
  description = "Issuer and audience (both clients) in the shape the http-api module's jwt_authorizer takes."
  value = {
    issuer   = local.issuer_url
    audience = [aws_cognito_user_pool_client.customers.id, aws_cognito_user_pool_client.admin.id]
  }
}

output "deletion_protection" {
  description = "Whether Cognito refuses to delete the pool, as applied: ACTIVE or INACTIVE."
  value       = aws_cognito_user_pool.this.deletion_protection
}
