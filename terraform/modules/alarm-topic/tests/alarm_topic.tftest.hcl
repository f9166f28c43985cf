# Plan-only tests with a mocked AWS provider.
mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", key_id = "1234abcd-12ab-34cd-56ef-1234567890ab" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:orders-prod-alarms" }
  }
}

variables {
  name = "orders-prod-alarms"
}

run "the_topic_is_encrypted_with_its_own_rotating_key_that_cloudwatch_may_use" {
  command = plan

  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == aws_kms_key.this.arn && aws_kms_key.this.enable_key_rotation
    error_message = "the topic uses the module's customer managed key, with rotation on"
  }
  assert {
    condition     = aws_kms_alias.this.name == "alias/orders-prod-alarms" && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "the key has an alias of the topic's name and a 30-day deletion window"
  }
  assert {
    condition     = one([for s in jsondecode(aws_kms_key.this.policy).Statement : s if s.Sid == "PublishersEncryptForTheTopic"]).Principal.Service == ["cloudwatch.amazonaws.com"]
    error_message = "the key policy lets CloudWatch use the key"
  }
  assert {
    condition     = one([for s in jsondecode(aws_kms_key.this.policy).Statement : s if s.Sid == "PublishersEncryptForTheTopic"]).Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "only on behalf of this account"
  }
  assert {
    condition     = !contains(flatten([for s in jsondecode(aws_kms_key.this.policy).Statement : s.Action if s.Sid == "AccountAdministersTheKey"]), "kms:Decrypt")
    error_message = "administering the key grants no use of it"
  }
  assert {
    condition     = length(aws_sns_topic_subscription.this) == 0
    error_message = "no subscription unless asked"
  }
}

run "the_topic_accepts_cloudwatch_alarms_of_this_account_over_tls_only" {
  command = plan

  assert {
    condition     = one([for s in jsondecode(aws_sns_topic_policy.this.policy).Statement : s if s.Sid == "PublishCloudwatch"]).Condition.ArnLike["aws:SourceArn"] == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*"
    error_message = "CloudWatch may publish for this account's alarms in this region"
  }
  assert {
    condition     = one([for s in jsondecode(aws_sns_topic_policy.this.policy).Statement : s if s.Sid == "DenyPublishingWithoutTls"]).Effect == "Deny"
    error_message = "publishing without TLS is denied"
  }
}

run "subscriptions_mail_everything_and_page_only_named_alarms" {
  command = plan

  variables {
    subscriptions = [
      { protocol = "email", endpoint = "oncall@example.com" },
      { protocol = "https", endpoint = "https://events.pagerduty.com/integration/abc/enqueue", alarm_names = ["orders-prod-unhealthy"] },
    ]
  }

  assert {
    condition     = aws_sns_topic_subscription.this["email oncall@example.com"].filter_policy == null
    error_message = "the mail subscription receives every alarm"
  }
  assert {
    condition     = jsondecode(aws_sns_topic_subscription.this["https https://events.pagerduty.com/integration/abc/enqueue"].filter_policy) == { AlarmName = ["orders-prod-unhealthy"] } && aws_sns_topic_subscription.this["https https://events.pagerduty.com/integration/abc/enqueue"].filter_policy_scope == "MessageBody"
    error_message = "the pager receives only the named alarm, filtered on the notification body"
  }
}

run "more_publishers_can_use_the_topic_and_its_key" {
  command = plan

  variables {
    publishers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
  }

  assert {
    condition     = toset(flatten([one([for s in jsondecode(aws_kms_key.this.policy).Statement : s if s.Sid == "PublishersEncryptForTheTopic"]).Principal.Service])) == toset(["cloudwatch.amazonaws.com", "budgets.amazonaws.com"])
    error_message = "both services may use the key"
  }
  assert {
    condition     = length([for s in jsondecode(aws_sns_topic_policy.this.policy).Statement : s if s.Sid == "PublishBudgets"]) == 1
    error_message = "Budgets may publish"
  }
}

run "rejects_an_email_subscription_that_is_no_address" {
  command = plan
  variables {
    subscriptions = [{ protocol = "email", endpoint = "oncall" }]
  }
  expect_failures = [var.subscriptions]
}

run "rejects_a_plain_http_endpoint" {
  command = plan
  variables {
    subscriptions = [{ protocol = "https", endpoint = "http://pager.example.com/hook" }]
  }
  expect_failures = [var.subscriptions]
}

run "rejects_an_unknown_protocol" {
  command = plan
  variables {
    subscriptions = [{ protocol = "slack", endpoint = "#oncall" }]
  }
  expect_failures = [var.subscriptions]
}

run "rejects_an_empty_alarm_filter" {
  command = plan
  variables {
    subscriptions = [{ protocol = "email", endpoint = "a@example.com", alarm_names = [] }]
  }
  expect_failures = [var.subscriptions]
}

run "rejects_a_publisher_that_is_not_a_service" {
  command = plan
  variables {
    publishers = ["arn:aws:iam::123456789012:root"]
  }
  expect_failures = [var.publishers]
}

run "rejects_a_deletion_window_kms_does_not_have" {
  command = plan
  variables {
    kms_key_deletion_window_days = 3
  }
  expect_failures = [var.kms_key_deletion_window_days]
}
