# A function that CodeDeploy deploys: each new version Terraform publishes is shifted to by a
# canary (10 % for 5 minutes), after a pre-traffic hook function has tested it, and rolled
# back by itself when the hook fails or an alarm fires: the function's own and one passed in.
# Both zips are built outside Terraform; pass their paths and base64 SHA-256.

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
  description = "Prefix of the example's resource names."
  type        = string
  default     = "example-canary"
}

variable "filename" {
  description = "Path of the prebuilt zip, used for the function and for the hook."
  type        = string
}

variable "source_code_hash" {
  description = "Base64-encoded SHA-256 of the zip."
  type        = string
}

variable "deployment_config" {
  description = "CodeDeploy configuration of the function's deployments (see the module's deployment variable)."
  type        = string
  default     = "Canary10Percent5Minutes"
}

module "pre_traffic_hook" {
  source = "../../"

  function_name = "${var.name}-pre-traffic-hook"
  description   = "Tests a new version of ${var.name}-api before CodeDeploy shifts traffic to it."
  handler       = "app.handler"
  package = {
    filename         = var.filename
    source_code_hash = var.source_code_hash
  }
  runtime = "python3.12"
  alarms  = { enabled = false }
}

module "function" {
  source = "../../"

  function_name = "${var.name}-api"
  description   = "Deployed by CodeDeploy, 10 % first."
  handler       = "app.handler"
  package = {
    filename         = var.filename
    source_code_hash = var.source_code_hash
  }
  runtime = "python3.12"

  deployment = {
    config               = var.deployment_config
    alarm_names          = ["${var.name}-unhealthy"]
    pre_traffic_hook_arn = module.pre_traffic_hook.function_arn
  }
}

output "function_name" {
  description = "Function name."
  value       = module.function.function_name
}

output "function_version" {
  description = "Version the last apply published (and the alias points at until CodeDeploy moves it)."
  value       = module.function.function_version
}

output "deployment" {
  description = "CodeDeploy application, group, configuration, alarms and hook of the function."
  value       = module.function.deployment
}

output "hook_function_arn" {
  description = "ARN of the pre-traffic hook function."
  value       = module.pre_traffic_hook.function_arn
}
