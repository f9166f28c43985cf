bucket         = "acme-platform-111111111111-tfstate"
key            = "dev/platform.tfstate"
region         = "eu-west-1"
encrypt        = true
use_lockfile   = true
dynamodb_table = "acme-platform-tfstate-lock"
assume_role = {
  role_arn     = "arn:aws:iam::111111111111:role/acme-platform-deploy-dev"
  session_name = "platform-state-dev"
}
