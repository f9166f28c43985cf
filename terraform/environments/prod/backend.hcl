# State of prod, in the prod account's state bucket made by terraform/bootstrap.
# Both locks: the DynamoDB table (what older Terraform honours) and the S3 lock file
# (use_lockfile, Terraform >= 1.10); holding both is the documented migration path
# until every user of this state runs >= 1.10 and dynamodb_table can be dropped.
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
