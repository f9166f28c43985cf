# The dev environment: values only. The platform itself is terraform/stack.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Settings in backend.hcl: `terraform init -backend-config=backend.hcl` (make init ENV=dev).
  backend "s3" {}
}

locals {
  environment = "dev"
  account_id  = "111111111111"
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
  notification_sender = "orders@dev.example.com"
  log_retention_days  = 7
  data_protection = {
    deletion_protection    = false
    point_in_time_recovery = false
  }
  processor_function = {
    maximum_concurrency = 5
  }
}
