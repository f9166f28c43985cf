# The staging account: `make plan ENV=bootstrap-staging`, then `make apply ENV=bootstrap-staging`.
# Applied by an administrator of the organisation (the role AWS Organizations creates in
# every member account), once, before terraform/environments/staging.
region          = "eu-west-1"
account_id      = "222222222222"
assume_role_arn = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
name_prefix     = "acme-platform"

environments         = ["staging"]
notification_senders = { staging = "orders@staging.example.com" }

# The tooling account's CI role deploys; nothing else may assume the deploy role.
trusted_principal_arns = ["arn:aws:iam::999999999999:role/acme-platform-ci"]

# Promotion dev -> staging -> prod: who reads this account's artifacts, and whose it reads.
artifact_reader_account_ids  = ["333333333333"]
promotion_source_account_ids = ["111111111111"]

# Cost-allocation tags, as the environments' providers set them (cost-center: your code).
tags = {
  "platform:account" = "staging"
  service            = "orders"
  environment        = "staging"
  cost-center        = "platform-engineering"
}
