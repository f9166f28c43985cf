# The local environment: the same platform stack as dev, staging and prod, applied to the
# local AWS emulator (ministack, started by `make up`). Values only; what the emulator lacks
# is switched off by stack variables, listed in docs/emulators.md.

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

  backend "s3" {}
}

variable "emulator_endpoint" {
  description = "URL of the local AWS emulator, e.g. http://127.0.0.1:4566 (make up passes it)."
  type        = string

  validation {
    condition     = can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]{1,5}$", var.emulator_endpoint))
    error_message = "emulator_endpoint must be http://127.0.0.1:<port> (or localhost): the local stack only talks to loopback."
  }
}

variable "lambda_architecture" {
  description = "The emulator runs the handlers on this machine's CPU: x86_64 or arm64, as the build in dist/<arch>/."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64 (the CPU of this machine)."
  }
}

variable "alarms_enabled" {
  description = "The stack's alarms, alarm topic and composite alarm. Off by default here: ministack cannot describe alarms back, so every plan would show a difference. The alarm fire drill of the end-to-end tests turns them on for its run (docs/emulators.md)."
  type        = bool
  default     = false
}

locals {
  region = "eu-west-1"
  # Relative to this root, so the same plan holds in any checkout.
  dist     = "${path.module}/../../../dist/${var.lambda_architecture}"
  manifest = jsondecode(file("${local.dist}/manifest.json"))
}

provider "aws" {
  region                      = local.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {
    apigatewayv2   = var.emulator_endpoint
    budgets        = var.emulator_endpoint
    cloudwatch     = var.emulator_endpoint
    cloudwatchlogs = var.emulator_endpoint
    cognitoidp     = var.emulator_endpoint
    dynamodb       = var.emulator_endpoint
    events         = var.emulator_endpoint
    iam            = var.emulator_endpoint
    kms            = var.emulator_endpoint
    lambda         = var.emulator_endpoint
    s3             = var.emulator_endpoint
    sesv2          = var.emulator_endpoint
    sns            = var.emulator_endpoint
    sqs            = var.emulator_endpoint
    sts            = var.emulator_endpoint
  }

  # The same cost-allocation tags as in AWS (terraform/environments/<env>/main.tf).
  default_tags {
    tags = {
      service                = "orders"
      environment            = "local"
      cost-center            = "platform-engineering"
      managed-by             = "terraform"
      "platform:environment" = "local"
    }
  }
}

module "platform" {
  source = "../../stack"

  environment = "local"
  artifacts = {
    for name, artifact in local.manifest.artifacts : name => {
      filename         = "${local.dist}/${artifact.path}"
      source_code_hash = artifact.base64_sha256
    }
  }
  lambda_architecture = var.lambda_architecture
  lambda_runtime      = local.manifest.runtime
  notification_sender = "orders@local.test"
  log_retention_days  = 7
  # Nothing here costs money; the budget is applied so that `make up` exercises what AWS gets.
  monthly_budget_usd = 1
  data_protection = {
    deletion_protection    = false
    point_in_time_recovery = true
  }
  user_pool = {
    deletion_protection = false
  }
  api_throttling = {
    rate_limit  = 10000
    burst_limit = 5000
  }
  # Timeouts short enough that the queues' visibility timeouts (6x) let a failing message
  # reach its dead-letter queue in about a minute, long enough for a batch on a busy 2-core
  # machine. Two batches in flight per consumer: the emulator starts a worker process per
  # concurrent invocation, and on 2 cores more of them only compete for the CPU.
  processor_function = {
    timeout             = 6
    maximum_concurrency = 2
  }
  notifier_function = {
    timeout             = 6
    maximum_concurrency = 2
  }
  # The emulator's SES has no sending quota; the notifier is still paced, at 25 a second each.
  ses_send_rate = 50

  # What the emulator lacks (docs/emulators.md, "The stack and the local environment"):
  tracing_enabled = false # no X-Ray daemon
  alarms_enabled  = var.alarms_enabled
}
