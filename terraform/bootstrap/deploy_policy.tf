# What a deploy role may do: exactly the actions Terraform needs for the
# platform stack, on resources named after the stack and environment. Services
# whose create calls cannot be scoped by name (event source mappings, HTTP API
# ids) are scoped by the environment tag instead.

locals {
  arn = { for service in ["lambda", "sqs", "dynamodb", "events", "logs", "cloudwatch", "sns", "ses", "apigateway"] :
    service => "arn:${local.partition}:${service}:${var.region}:${var.account_id}"
  }
}

data "aws_iam_policy_document" "deploy" {
  for_each = toset(var.environments)

  statement {
    sid     = "StateObjects"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${aws_s3_bucket.this["state"].arn}/${each.key}/*",
    ]
  }

  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketVersioning"]
    resources = [aws_s3_bucket.this["state"].arn]
  }

  statement {
    sid       = "StateLock"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
    resources = [aws_dynamodb_table.lock.arn]
  }

  statement {
    sid       = "Artifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.this["artifacts"].arn, "${aws_s3_bucket.this["artifacts"].arn}/*"]
  }

  statement {
    sid = "Functions"
    actions = [
      "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
      "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion",
      "lambda:ListVersionsByFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:TagResource",
      "lambda:UntagResource", "lambda:ListTags", "lambda:CreateAlias", "lambda:UpdateAlias",
      "lambda:DeleteAlias", "lambda:GetAlias", "lambda:PutFunctionConcurrency",
      "lambda:DeleteFunctionConcurrency", "lambda:GetFunctionConcurrency",
      "lambda:PutProvisionedConcurrencyConfig", "lambda:GetProvisionedConcurrencyConfig",
      "lambda:DeleteProvisionedConcurrencyConfig", "lambda:PutFunctionEventInvokeConfig",
      "lambda:GetFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig",
      "lambda:DeleteFunctionEventInvokeConfig", "lambda:AddPermission", "lambda:RemovePermission",
      "lambda:GetPolicy", "lambda:GetRuntimeManagementConfig",
    ]
    resources = [
      "${local.arn.lambda}:function:${var.stack_name_prefix}-${each.key}-*",
    ]
  }

  statement {
    sid = "Layers"
    actions = [
      "lambda:PublishLayerVersion", "lambda:DeleteLayerVersion", "lambda:GetLayerVersion",
      "lambda:ListLayerVersions",
    ]
    resources = [
      "${local.arn.lambda}:layer:${var.stack_name_prefix}-${each.key}-*",
    ]
  }

  statement {
    sid = "EventSourceMappings"
    actions = [
      "lambda:CreateEventSourceMapping", "lambda:GetEventSourceMapping",
      "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping",
      "lambda:ListEventSourceMappings",
    ]
    resources = ["${local.arn.lambda}:event-source-mapping:*"]
    condition {
      test     = "StringLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn.lambda}:function:${var.stack_name_prefix}-${each.key}-*"]
    }
  }

  statement {
    sid = "Queues"
    actions = [
      "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes",
      "sqs:GetQueueUrl", "sqs:ListQueueTags", "sqs:TagQueue", "sqs:UntagQueue",
      "sqs:ListDeadLetterSourceQueues", "sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks",
    ]
    resources = ["${local.arn.sqs}:${var.stack_name_prefix}-${each.key}-*"]
  }

  statement {
    sid = "Tables"
    actions = [
      "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable",
      "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
      "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive", "dynamodb:TagResource",
      "dynamodb:UntagResource", "dynamodb:ListTagsOfResource", "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]
    resources = ["${local.arn.dynamodb}:table/${var.stack_name_prefix}-${each.key}-*"]
  }

  statement {
    sid = "Events"
    actions = [
      "events:CreateEventBus", "events:DeleteEventBus", "events:DescribeEventBus",
      "events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets",
      "events:RemoveTargets", "events:ListTargetsByRule", "events:TagResource",
      "events:UntagResource", "events:ListTagsForResource", "events:CreateArchive",
      "events:DeleteArchive", "events:DescribeArchive", "events:UpdateArchive",
    ]
    resources = [
      "${local.arn.events}:event-bus/${var.stack_name_prefix}-${each.key}-*",
      "${local.arn.events}:rule/${var.stack_name_prefix}-${each.key}-*",
      "${local.arn.events}:rule/${var.stack_name_prefix}-${each.key}-*/*",
      "${local.arn.events}:archive/${var.stack_name_prefix}-${each.key}-*",
    ]
  }

  statement {
    sid = "Logs"
    actions = [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy", "logs:TagResource", "logs:UntagResource",
      "logs:ListTagsForResource", "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
    ]
    resources = [
      "${local.arn.logs}:log-group:/aws/lambda/${var.stack_name_prefix}-${each.key}-*",
      "${local.arn.logs}:log-group:/aws/vendedlogs/${var.stack_name_prefix}-${each.key}-*",
    ]
  }

  statement {
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.arn.logs}:log-group:*"]
  }

  statement {
    sid = "Alarms"
    actions = [
      "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
      "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
    ]
    resources = ["${local.arn.cloudwatch}:alarm:${var.stack_name_prefix}-${each.key}-*"]
  }

  statement {
    sid = "AlarmTopics"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
      "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource",
    ]
    resources = ["${local.arn.sns}:${var.stack_name_prefix}-${each.key}-*"]
  }

  statement {
    sid = "HttpApis"
    actions = [
      "apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE",
    ]
    resources = [
      "arn:${local.partition}:apigateway:${var.region}::/apis",
      "arn:${local.partition}:apigateway:${var.region}::/apis/*",
      "arn:${local.partition}:apigateway:${var.region}::/tags/*",
    ]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/platform:environment"
      values   = [each.key]
    }
  }

  statement {
    sid = "ExecutionRoles"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies", "iam:PutRolePolicy", "iam:GetRolePolicy",
      "iam:DeleteRolePolicy", "iam:ListInstanceProfilesForRole",
    ]
    resources = ["arn:${local.partition}:iam::${var.account_id}:role/${var.stack_name_prefix}-${each.key}-*"]
  }

  statement {
    sid       = "PassExecutionRoles"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${var.account_id}:role/${var.stack_name_prefix}-${each.key}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com", "events.amazonaws.com"]
    }
  }

  statement {
    sid       = "Identity"
    actions   = ["sts:GetCallerIdentity"]
    resources = ["*"]
  }
}
