# The dev account: `make plan ENV=bootstrap-dev`, then `make apply ENV=bootstrap-dev`.
# Applied by an administrator of the organisation (the role AWS Organizations creates in
# every member account), once, before terraform/environments/dev.
region          = "eu-west-1"
account_id      = "111111111111"
assume_role_arn = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
name_prefix     = "acme-platform"

environments         = ["dev"]
notification_senders = { dev = "orders@dev.example.com" }

# The tooling account's CI role deploys; nothing else may assume the deploy role.
trusted_principal_arns = ["arn:aws:iam::999999999999:role/acme-platform-ci"]

# Promotion dev -> staging -> prod: who reads this account's artifacts, and whose it reads.
artifact_reader_account_ids  = ["222222222222"]
promotion_source_account_ids = []

# Cost-allocation tags, as the environments' providers set them (cost-center: your code).
tags = {
  "platform:account" = "dev"
  service            = "orders"
  environment        = "dev"
  cost-center        = "platform-engineering"
}
