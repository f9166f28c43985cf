terraform {
  required_version = ">= 1.11"

  # A floor, not a ceiling: the roots that use this pin the exact version.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100"
    }
  }
}
