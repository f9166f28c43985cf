# The prod account: `make plan ENV=bootstrap-prod`, then `make apply ENV=bootstrap-prod`.
# Applied by an administrator of the organisation (the role AWS Organizations creates in
# every member account), once, before terraform/environments/prod.
region          = "eu-west-1"
account_id      = "333333333333"
assume_role_arn = "arn:aws:iam::333333333333:role/OrganizationAccountAccessRole"
name_prefix     = "acme-platform"

environments         = ["prod"]
notification_senders = { prod = "orders@example.com" }

# The tooling account's CI role deploys; nothing else may assume the deploy role.
trusted_principal_arns = ["arn:aws:iam::999999999999:role/acme-platform-ci"]

# Promotion dev -> staging -> prod: who reads this account's artifacts, and whose it reads.
artifact_reader_account_ids  = []
promotion_source_account_ids = ["222222222222"]

# Cost-allocation tags, as the environments' providers set them (cost-center: your code).
tags = {
  "platform:account" = "prod"
  service            = "orders"
  environment        = "prod"
  cost-center        = "platform-engineering"
}
