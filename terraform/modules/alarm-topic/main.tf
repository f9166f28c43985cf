# An SNS topic that alarms can actually deliver to: encrypted with a customer managed key whose
# policy lets the publishing services use it. CloudWatch cannot publish to a topic encrypted
# with the AWS managed key (alias/aws/sns): its key policy admits no other service.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  topic_arn  = "arn:${data.aws_partition.current.partition}:sns:${data.aws_region.current.name}:${local.account_id}:${var.name}"
  # CloudWatch publishes for alarms of this account and region only.
  source_arns = {
    "cloudwatch.amazonaws.com" = "arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.name}:${local.account_id}:alarm:*"
  }
}

locals {
  root = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"

  key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # What administering the key takes (Terraform included), and no use of it: the
        # account's principals can manage the key but cannot decrypt the topic's messages.
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = local.root }
        Action = [
          "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
          "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
          "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
          "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
        ]
        Resource = "*" # in a key policy, "*" is this key
      },
      {
        Sid       = "PublishersEncryptForTheTopic"
        Effect    = "Allow"
        Principal = { Service = var.publishers }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })

  topic_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "AccountManagesTheTopic"
        Effect    = "Allow"
        Principal = { AWS = local.root }
        Action = [
          "sns:AddPermission", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
          "sns:Publish", "sns:RemovePermission", "sns:SetTopicAttributes", "sns:Subscribe",
        ]
        Resource = local.topic_arn
      }],
      [for publisher in var.publishers : {
        Sid       = "Publish${replace(title(replace(split(".", publisher)[0], "-", " ")), " ", "")}"
        Effect    = "Allow"
        Principal = { Service = publisher }
        Action    = "sns:Publish"
        Resource  = local.topic_arn
        Condition = merge(
          { StringEquals = { "aws:SourceAccount" = local.account_id } },
          contains(keys(local.source_arns), publisher) ? { ArnLike = { "aws:SourceArn" = local.source_arns[publisher] } } : {},
        )
      }],
      [{
        Sid       = "DenyPublishingWithoutTls"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = local.topic_arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      }],
    )
  })
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the ${var.name} alarm topic; its publishers may use it."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days
  policy                  = local.key_policy
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = local.topic_policy
}

resource "aws_sns_topic_subscription" "this" {
  for_each = { for s in var.subscriptions : "${s.protocol} ${s.endpoint}" => s }

  topic_arn           = aws_sns_topic.this.arn
  protocol            = each.value.protocol
  endpoint            = each.value.endpoint
  filter_policy       = each.value.alarm_names == null ? null : jsonencode({ AlarmName = each.value.alarm_names })
  filter_policy_scope = each.value.alarm_names == null ? null : "MessageBody"
}
