# Merged into the copies of terraform/environments/{dev,staging,prod} that tests/environments
# deploys to ministack (tests/support/accounts.py); no root carries it.
#
# ministack's DescribeAlarms answers without period, statistic, dimensions and actions, so every
# plan would show the alarms as changed. prod's alarms are checked in a plan of the root without
# this file instead (test_prod_alarms_notify_the_alarm_topic).
module "platform" {
  alarms_enabled = false
}
