# The dev environment: cheap and disposable. Values only; the platform itself is terraform/stack.
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

  # Settings in backend.hcl: `terraform init -backend-config=backend.hcl` (make init ENV=dev).
  backend "s3" {}
}

variable "deploy_role_arn" {
  description = "Role the provider assumes to deploy. Null (the default) is this environment's deploy role made by terraform/bootstrap; set it only for a break-glass role. Whatever it is, allowed_account_ids refuses any account but this environment's before anything is read or changed."
  type        = string
  default     = null
}

locals {
  environment = "dev"
  account_id  = "111111111111"
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

  notification_sender = "orders@dev.example.com"
  log_retention_days  = 7

  # The monthly AWS Budgets budget (dev: make cost ENV=dev, ~60 USD at its planning figure, with headroom).
  monthly_budget_usd = 100

  # Cheap: small functions, low limits, nothing kept that a redeploy cannot recreate.
  data_protection = {
    deletion_protection    = false
    point_in_time_recovery = false
  }
  # Test users only: the pool may be destroyed with the environment.
  user_pool = {
    deletion_protection = false
  }
  api_function = {
    memory_size = 256
  }
  processor_function = {
    memory_size         = 256
    maximum_concurrency = 2
  }
  notifier_function = {
    maximum_concurrency = 2
  }
  api_throttling = {
    rate_limit  = 50
    burst_limit = 100
  }
  # dev's alarms stay in CloudWatch (and on its dashboard); nobody is told. Its functions are
  # small and cold: a slower p99 is normal there.
  alarm_thresholds = {
    api_latency_p99_ms = 2000
  }

  # New versions reach traffic all at once, through CodeDeploy: the pre-traffic hook and the alarms
  # still stop a bad one (make deploy ENV=dev).
  deployment = { config = "AllAtOnce" }
}
