# The prod environment: values only. The platform itself is terraform/stack.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Settings in backend.hcl: `terraform init -backend-config=backend.hcl` (make init ENV=prod).
  backend "s3" {}
}

locals {
  environment = "prod"
  account_id  = "333333333333"
  region      = "eu-west-1"
  # Pinned by `make publish` (dev) or `make promote` (staging, prod): the exact bytes to run.
  release = jsondecode(file("${path.module}/release.json"))
}

provider "aws" {
  region              = local.region
  allowed_account_ids = [local.account_id]

  assume_role {
    role_arn     = "arn:aws:iam::${local.account_id}:role/acme-platform-deploy-${local.environment}"
    session_name = "platform-${local.environment}"
  }

  default_tags {
    tags = {
      "platform:environment" = local.environment
      "platform:managed-by"  = "terraform"
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
  notification_sender   = "orders@example.com"
  log_retention_days    = 90
  alarm_email_addresses = ["oncall@example.com"]
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
}
