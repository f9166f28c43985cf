# The prod environment. Values only; the platform itself is terraform/stack.
# Every environment root is this file with other values: backend.hcl, the account, the release
# it runs (release.json) and the sizing below.

terraform {
  required_version = ">= 1.11"

  # Exact: lock files are not committed (see .gitignore), so this pin alone keeps every plan on
  # the provider the platform was tested with. The modules and the stack state only a floor.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }

  # Settings in backend.hcl: `terraform init -backend-config=backend.hcl` (make init ENV=prod).
  backend "s3" {}
}

variable "deploy_role_arn" {
  description = "Role the provider assumes to deploy. Null (the default) is this environment's deploy role made by terraform/bootstrap; set it only for a break-glass role. Whatever it is, allowed_account_ids refuses any account but this environment's before anything is read or changed."
  type        = string
  default     = null
}

locals {
  environment = "prod"
  account_id  = "333333333333"
  region      = "eu-west-1"
  # The cost centre the environment's spend is charged to: your organisation's code.
  cost_center = "platform-engineering"
  # Pinned by `make publish` (dev) or `make promote` (staging, prod): the exact bytes to run.
  release = jsondecode(file("${path.module}/release.json"))
}

provider "aws" {
  region              = local.region
  allowed_account_ids = [local.account_id]

  assume_role {
    role_arn     = coalesce(var.deploy_role_arn, "arn:aws:iam::${local.account_id}:role/acme-platform-deploy-${local.environment}")
    session_name = "platform-${local.environment}"
  }

  # Cost-allocation tags on every resource (activate them in the Billing console to see costs
  # by them); platform:environment is what the deploy role's tag conditions name.
  default_tags {
    tags = {
      service                = "orders"
      environment            = local.environment
      cost-center            = local.cost_center
      managed-by             = "terraform"
      "platform:environment" = local.environment
    }
  }
}

module "platform" {
  source = "../../stack"

  environment = local.environment
  artifacts = {
    for name, artifact in local.release.artifacts : name => {
      s3_bucket        = local.release.bucket
      s3_key           = artifact.s3_key
      source_code_hash = artifact.base64_sha256
    }
  }
  lambda_architecture = local.release.arch
  lambda_runtime      = local.release.runtime

  notification_sender = "orders@example.com"
  log_retention_days  = 90

  # The monthly AWS Budgets budget (prod: make cost ENV=prod, ~1,350 USD at its planning figure of 10 req/s, with headroom).
  monthly_budget_usd = 2000

  # Protected: the table survives a destroy and can be restored to any second of 35 days.
  data_protection = {
    deletion_protection    = true
    point_in_time_recovery = true
  }
  # Warm API: this many execution environments are always initialised on the live alias.
  api_function = {
    memory_size             = 1024
    provisioned_concurrency = 10
  }
  processor_function = {
    maximum_concurrency = 200
  }
  api_throttling = {
    rate_limit  = 5000
    burst_limit = 3000
  }
  # What SES granted prod's account out of the sandbox (GetSendQuota's MaxSendRate): replace it
  # with your account's. `make capacity ENV=prod` fails while it is above what SES allows.
  ses_send_rate = 14
  notifier_function = {
    maximum_concurrency = 10
  }
  # Every alarm mails on-call; the pager gets only the composite "orders-prod-unhealthy".
  alarm_subscriptions = [
    { protocol = "email", endpoint = "oncall@example.com" },
    { protocol = "https", endpoint = "https://pager.example.com/REPLACE-WITH-YOUR-PAGER-INTEGRATION", pages = true },
  ]
  # Order outcome events are kept for replay.
  event_archive_retention_days = 14
}
