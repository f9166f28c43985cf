bucket         = "acme-platform-222222222222-tfstate"
key            = "staging/platform.tfstate"
region         = "eu-west-1"
encrypt        = true
use_lockfile   = true
dynamodb_table = "acme-platform-tfstate-lock"
assume_role = {
  role_arn     = "arn:aws:iam::222222222222:role/acme-platform-deploy-staging"
  session_name = "platform-state-staging"
}
