# Merged into the copies of terraform/environments/{dev,staging,prod} that tests/environments
# deploys to ministack (tests/support/accounts.py); no root carries it.
#
# ministack's DescribeAlarms answers without period, statistic, dimensions and actions, so every
# plan would show the alarms as changed; and ministack has no CodeDeploy, so Terraform moves the
# aliases as it does locally. The alarms and deployments as committed are checked in a plan of
# the root without this file instead
# (test_every_alarm_and_deployment_of_staging_and_prod_is_planned_as_committed).
module "platform" {
  alarms_enabled = false
  deployment     = null
}
