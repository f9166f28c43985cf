bucket         = "acme-platform-333333333333-tfstate"
key            = "prod/platform.tfstate"
region         = "eu-west-1"
encrypt        = true
use_lockfile   = true
dynamodb_table = "acme-platform-tfstate-lock"
assume_role = {
  role_arn     = "arn:aws:iam::333333333333:role/acme-platform-deploy-prod"
  session_name = "platform-state-prod"
}
