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

  # The bootstrap creates the state bucket, so its own state cannot start there: it is a local
  # file whose path is given at init (tools/release/deploy.py: .local/bootstrap/<account>.tfstate).
  # README "Bootstrap" says where to keep it.
  backend "local" {}
}
