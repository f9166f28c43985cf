# What a deploy role may do: exactly the actions Terraform needs for the platform
# stack (terraform/stack), on resources named <stack_name_prefix>-<environment>-*.
# Where AWS cannot scope a call by name (creating an HTTP API, listing event source
# mappings, CloudWatch Logs deliveries) the environment tag or "*" is used, and
# the statement says why. Deny statements guard the foundation itself.

locals {
  arn = { for service in ["lambda", "sqs", "dynamodb", "events", "logs", "cloudwatch", "sns", "ses", "codedeploy"] :
    service => "arn:${local.partition}:${service}:${var.region}:${var.account_id}"
  }
  apigateway = "arn:${local.partition}:apigateway:${var.region}::"
  stack_name = { for env in var.environments : env => "${var.stack_name_prefix}-${env}" }
  source_artifact_objects = [
    for id in var.promotion_source_account_ids : "arn:${local.partition}:s3:::${var.name_prefix}-${id}-artifacts/artifacts/*"
  ]
}

data "aws_iam_policy_document" "deploy" {
  for_each = toset(var.environments)

  # --- Terraform state of this environment only ------------------------------

  statement {
    sid     = "StateObjects"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    # <env>/platform.tfstate and its lock file <env>/platform.tfstate.tflock.
    resources = ["${aws_s3_bucket.this["state"].arn}/${each.key}/*"]
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
    # Lock and digest items of this environment's state key only.
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["${aws_s3_bucket.this["state"].id}/${each.key}/*"]
    }
  }

  # --- Build artifacts -----------------------------------------------------------

  statement {
    sid       = "ArtifactObjects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = ["${aws_s3_bucket.this["artifacts"].arn}/artifacts/*"]
  }

  statement {
    sid       = "ArtifactBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.this["artifacts"].arn]
  }

  dynamic "statement" {
    for_each = length(local.source_artifact_objects) > 0 ? [1] : []
    content {
      sid       = "PromotionSourceArtifacts"
      actions   = ["s3:GetObject"]
      resources = local.source_artifact_objects
    }
  }

  # --- Functions, layers, event source mappings ---------------------------------

  statement {
    sid = "Functions"
    actions = [
      "lambda:AddPermission", "lambda:CreateAlias", "lambda:CreateFunction", "lambda:DeleteAlias",
      "lambda:DeleteFunction", "lambda:DeleteFunctionConcurrency", "lambda:DeleteFunctionEventInvokeConfig",
      "lambda:DeleteProvisionedConcurrencyConfig", "lambda:GetAlias", "lambda:GetFunction",
      "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency", "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionEventInvokeConfig", "lambda:GetPolicy", "lambda:GetProvisionedConcurrencyConfig",
      "lambda:GetRuntimeManagementConfig", "lambda:ListTags", "lambda:ListVersionsByFunction",
      "lambda:PublishVersion", "lambda:PutFunctionConcurrency", "lambda:PutFunctionEventInvokeConfig",
      "lambda:PutProvisionedConcurrencyConfig", "lambda:RemovePermission", "lambda:TagResource",
      "lambda:UntagResource", "lambda:UpdateAlias", "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration", "lambda:UpdateFunctionEventInvokeConfig",
    ]
    # Also covers versions and aliases (<name>:<qualifier>).
    resources = ["${local.arn.lambda}:function:${local.stack_name[each.key]}-*"]
  }

  statement {
    sid = "Layers"
    actions = [
      "lambda:DeleteLayerVersion", "lambda:GetLayerVersion", "lambda:ListLayerVersions",
      "lambda:PublishLayerVersion",
    ]
    resources = ["${local.arn.lambda}:layer:${local.stack_name[each.key]}-*"]
  }

  statement {
    sid       = "CreateEventSourceMappings"
    actions   = ["lambda:CreateEventSourceMapping"]
    resources = ["*"] # the mapping's id does not exist yet: scoped by the function it invokes
    condition {
      test     = "StringLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn.lambda}:function:${local.stack_name[each.key]}-*"]
    }
  }

  statement {
    sid       = "ChangeEventSourceMappings"
    actions   = ["lambda:DeleteEventSourceMapping", "lambda:UpdateEventSourceMapping"]
    resources = ["${local.arn.lambda}:event-source-mapping:*"]
    # Mapping ids are random: scoped by the function they invoke.
    condition {
      test     = "StringLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn.lambda}:function:${local.stack_name[each.key]}-*"]
    }
  }

  statement {
    sid = "ReadAndTagEventSourceMappings"
    actions = [
      "lambda:GetEventSourceMapping", "lambda:ListTags", "lambda:TagResource", "lambda:UntagResource",
    ]
    # No condition key names the function here; reading and tagging a mapping changes nothing it does.
    resources = ["${local.arn.lambda}:event-source-mapping:*"]
  }

  statement {
    sid       = "ListEventSourceMappings"
    actions   = ["lambda:ListEventSourceMappings"]
    resources = ["*"] # a List action without resource-level permissions
  }

  statement {
    sid       = "PassExecutionRoles"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${var.account_id}:role/${local.stack_name[each.key]}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  statement {
    sid = "ExecutionRoles"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:GetRole", "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies",
      "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
    ]
    resources = ["arn:${local.partition}:iam::${var.account_id}:role/${local.stack_name[each.key]}-*"]
  }

  # --- Safe deploys: CodeDeploy (terraform apply, then make deploy / make rollback) ---

  statement {
    sid = "CodeDeployApplicationsAndGroups"
    actions = [
      # terraform: the application and deployment group of each function
      "codedeploy:CreateApplication", "codedeploy:DeleteApplication", "codedeploy:GetApplication",
      "codedeploy:CreateDeploymentGroup", "codedeploy:DeleteDeploymentGroup", "codedeploy:GetDeploymentGroup",
      "codedeploy:UpdateDeploymentGroup", "codedeploy:ListTagsForResource", "codedeploy:TagResource",
      "codedeploy:UntagResource",
      # make deploy / make rollback: start, follow and stop deployments of those groups
      "codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:GetDeploymentTarget",
      "codedeploy:ListDeployments", "codedeploy:ListDeploymentTargets", "codedeploy:BatchGetDeployments",
      "codedeploy:StopDeployment",
      # CreateDeployment registers the AppSpec given inline as a revision of the application
      "codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision",
    ]
    resources = [
      "${local.arn.codedeploy}:application:${local.stack_name[each.key]}-*",
      "${local.arn.codedeploy}:deploymentgroup:${local.stack_name[each.key]}-*/*",
    ]
  }

  statement {
    sid = "CodeDeployConfigs"
    # A deployment uses its configuration: CodeDeploy's predefined ones, or a custom one the
    # lambda module names after its function.
    actions = [
      "codedeploy:CreateDeploymentConfig", "codedeploy:DeleteDeploymentConfig", "codedeploy:GetDeploymentConfig",
    ]
    resources = [
      "${local.arn.codedeploy}:deploymentconfig:${local.stack_name[each.key]}-*",
      "${local.arn.codedeploy}:deploymentconfig:CodeDeployDefault.Lambda*",
    ]
  }

  statement {
    sid       = "PassCodeDeployServiceRoles"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${var.account_id}:role/${local.stack_name[each.key]}-*-codedeploy"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["codedeploy.amazonaws.com"]
    }
  }

  # --- Data and messaging --------------------------------------------------------

  statement {
    sid = "Tables"
    actions = [
      "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeContinuousBackups",
      "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource",
      "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:UpdateContinuousBackups",
      "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
    ]
    resources = ["${local.arn.dynamodb}:table/${local.stack_name[each.key]}-*"]
  }

  statement {
    sid = "Queues"
    actions = [
      "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
      "sqs:ListDeadLetterSourceQueues", "sqs:ListQueueTags", "sqs:SetQueueAttributes", "sqs:TagQueue",
      "sqs:UntagQueue",
    ]
    resources = ["${local.arn.sqs}:${local.stack_name[each.key]}-*"]
  }

  statement {
    sid = "Events"
    actions = [
      "events:CreateArchive", "events:CreateEventBus", "events:DeleteArchive", "events:DeleteEventBus",
      "events:DeleteRule", "events:DescribeArchive", "events:DescribeEventBus", "events:DescribeRule",
      "events:ListTagsForResource", "events:ListTargetsByRule", "events:PutRule", "events:PutTargets",
      "events:RemoveTargets", "events:TagResource", "events:UntagResource", "events:UpdateArchive",
    ]
    resources = [
      "${local.arn.events}:event-bus/${local.stack_name[each.key]}-*",
      "${local.arn.events}:rule/${local.stack_name[each.key]}-*",
      "${local.arn.events}:archive/${local.stack_name[each.key]}-*",
    ]
  }

  dynamic "statement" {
    for_each = contains(keys(var.notification_senders), each.key) ? [var.notification_senders[each.key]] : []
    content {
      sid = "SenderIdentity"
      actions = [
        "ses:CreateEmailIdentity", "ses:DeleteEmailIdentity", "ses:GetEmailIdentity",
        "ses:ListTagsForResource", "ses:TagResource", "ses:UntagResource",
      ]
      resources = ["${local.arn.ses}:identity/${statement.value}"]
    }
  }

  # --- HTTP API ------------------------------------------------------------------

  statement {
    sid       = "CreateHttpApis"
    actions   = ["apigateway:POST"]
    resources = ["${local.apigateway}/apis"]
    # An API id is random: creating one is allowed only with this environment's tag.
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/platform:environment"
      values   = [each.key]
    }
  }

  statement {
    sid       = "ManageHttpApis"
    actions   = ["apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"]
    resources = ["${local.apigateway}/apis/*", "${local.apigateway}/tags/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/platform:environment"
      values   = [each.key]
    }
  }

  # --- The API's user pool (Cognito) ---------------------------------------------------

  statement {
    sid       = "CreateUserPool"
    actions   = ["cognito-idp:CreateUserPool"]
    resources = ["*"] # a pool id is random: creating one is allowed only with this environment's tag
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/platform:environment"
      values   = [each.key]
    }
  }

  statement {
    sid = "ManageUserPool"
    # The pool, its domain, resource server and app clients are all authorised on the pool.
    actions = [
      "cognito-idp:CreateResourceServer", "cognito-idp:CreateUserPoolClient",
      "cognito-idp:CreateUserPoolDomain", "cognito-idp:DeleteResourceServer",
      "cognito-idp:DeleteUserPool", "cognito-idp:DeleteUserPoolClient",
      "cognito-idp:DeleteUserPoolDomain", "cognito-idp:DescribeResourceServer",
      "cognito-idp:DescribeUserPool", "cognito-idp:DescribeUserPoolClient",
      "cognito-idp:GetUserPoolMfaConfig", "cognito-idp:ListTagsForResource",
      "cognito-idp:SetUserPoolMfaConfig", "cognito-idp:TagResource", "cognito-idp:UntagResource",
      "cognito-idp:UpdateResourceServer", "cognito-idp:UpdateUserPool",
      "cognito-idp:UpdateUserPoolClient", "cognito-idp:UpdateUserPoolDomain",
    ]
    resources = ["arn:${local.partition}:cognito-idp:${var.region}:${var.account_id}:userpool/*"]
    # Pool ids are random: only pools carrying this environment's tag.
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/platform:environment"
      values   = [each.key]
    }
  }

  statement {
    sid       = "DescribeUserPoolDomains"
    actions   = ["cognito-idp:DescribeUserPoolDomain"]
    resources = ["*"] # no resource-level permissions: a domain is looked up by its name
  }

  # --- Logs, alarms, alarm topic ---------------------------------------------------

  statement {
    sid = "LogGroups"
    actions = [
      "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
      "logs:DisassociateKmsKey", "logs:ListTagsForResource", "logs:PutRetentionPolicy", "logs:TagResource",
      "logs:UntagResource",
    ]
    resources = [
      "${local.arn.logs}:log-group:/aws/lambda/${local.stack_name[each.key]}-*",
      "${local.arn.logs}:log-group:/aws/apigateway/${local.stack_name[each.key]}-*",
    ]
  }

  statement {
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.arn.logs}:log-group:*"]
  }

  statement {
    sid = "HttpApiAccessLogDelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
    ]
    # What API Gateway asks of the caller to deliver access logs; these have no resource-level permissions.
    resources = ["*"]
  }

  statement {
    sid = "Alarms"
    actions = [
      "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
      "cloudwatch:PutCompositeAlarm", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
    ]
    resources = ["${local.arn.cloudwatch}:alarm:${local.stack_name[each.key]}-*"]
  }

  statement {
    sid       = "Dashboard"
    actions   = ["cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard"]
    resources = ["arn:${local.partition}:cloudwatch::${var.account_id}:dashboard/${local.stack_name[each.key]}*"]
  }

  statement {
    sid       = "CreateAlarmTopicKey"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"] # a key id is random: creating one is allowed only with this environment's tag
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/platform:environment"
      values   = [each.key]
    }
  }

  statement {
    sid = "ManageAlarmTopicKey"
    actions = [
      "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
      "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
    ]
    resources = ["arn:${local.partition}:kms:${var.region}:${var.account_id}:key/*"]
    # Key ids are random: only keys carrying this environment's tag.
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/platform:environment"
      values   = [each.key]
    }
  }

  statement {
    sid     = "AlarmTopicKeyAlias"
    actions = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    # An alias call is authorised on the alias and on its key (ManageAlarmTopicKey, by tag).
    resources = ["arn:${local.partition}:kms:${var.region}:${var.account_id}:alias/${local.stack_name[each.key]}-*"]
  }

  statement {
    sid     = "DescribeAwsManagedTableKey"
    actions = ["kms:DescribeKey"]
    # The provider reads the table's encryption key by its alias (aws/dynamodb, AWS managed,
    # untagged): seen in Terraform's calls (make iam-check).
    resources = ["arn:${local.partition}:kms:${var.region}:${var.account_id}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:RequestAlias"
      values   = ["alias/aws/dynamodb"]
    }
  }

  statement {
    sid       = "ListKeyAliases"
    actions   = ["kms:ListAliases"]
    resources = ["*"] # a List action without resource-level permissions
  }

  statement {
    sid = "AlarmTopic"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetSubscriptionAttributes", "sns:GetTopicAttributes",
      "sns:ListTagsForResource", "sns:SetSubscriptionAttributes", "sns:SetTopicAttributes", "sns:Subscribe",
      "sns:TagResource", "sns:Unsubscribe", "sns:UntagResource",
    ]
    # The topic and its subscriptions (<topic arn>:<id>).
    resources = ["${local.arn.sns}:${local.stack_name[each.key]}-*"]
  }

  statement {
    sid = "Budget"
    # ModifyBudget covers creating, changing and deleting a budget and its notifications.
    actions = [
      "budgets:ListTagsForResource", "budgets:ModifyBudget", "budgets:TagResource",
      "budgets:UntagResource", "budgets:ViewBudget",
    ]
    resources = ["arn:${local.partition}:budgets::${var.account_id}:budget/${local.stack_name[each.key]}-*"]
  }

  statement {
    sid       = "Identity"
    actions   = ["sts:GetCallerIdentity"]
    resources = ["*"]
  }

  # --- Operating the environment: make seed, make capacity ---------------------------

  statement {
    sid       = "SeedLoadTestData"
    actions   = ["dynamodb:BatchWriteItem", "dynamodb:PutItem"]
    resources = ["${local.arn.dynamodb}:table/${local.stack_name[each.key]}-*"]
    # Stock and customer profiles for a load test (tools/ops/seed.py): items whose partition key
    # is a SKU or a customer, never an order, a notification or an idempotency record.
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["SKU#*", "CUSTOMER#*"]
    }
  }

  statement {
    sid = "SeedLoadTestCustomers"
    # A Cognito user for every load-test customer, with the password the load test signs in with
    # (tools/ops/seed.py); the pool's other users are never read.
    actions   = ["cognito-idp:AdminCreateUser", "cognito-idp:AdminSetUserPassword"]
    resources = ["arn:${local.partition}:cognito-idp:${var.region}:${var.account_id}:userpool/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/platform:environment"
      values   = [each.key]
    }
  }

  statement {
    sid = "LoadTestCustomerPassword"
    # The load-test customers' password, a SecureString under the AWS managed key aws/ssm (whose
    # key policy admits callers of this account through SSM: no KMS grant is needed).
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = ["arn:${local.partition}:ssm:${var.region}:${var.account_id}:parameter/${local.stack_name[each.key]}/loadtest/*"]
  }

  statement {
    sid     = "ReadCapacityQuotas"
    actions = ["servicequotas:GetServiceQuota"]
    # The quotas tools/ops/capacity.py plans against: API Gateway's account throttle, EventBridge
    # PutEvents per second.
    resources = [
      "arn:${local.partition}:servicequotas:${var.region}:${var.account_id}:apigateway/L-8A5B8E43",
      "arn:${local.partition}:servicequotas:${var.region}:${var.account_id}:events/L-9B653E91",
    ]
  }

  statement {
    sid = "ReadAccountLimits"
    # Lambda's concurrency limit as applied to this account (new accounts get less than the
    # default) and SES's sending quota and sandbox state: neither has resource-level permissions.
    actions   = ["lambda:GetAccountSettings", "ses:GetAccount"]
    resources = ["*"]
  }

  # --- Never: the foundation this bootstrap made ------------------------------------

  statement {
    sid       = "DenyChangingDeployRoles"
    effect    = "Deny"
    actions   = ["iam:*"]
    resources = ["arn:${local.partition}:iam::${var.account_id}:role/${var.name_prefix}-deploy-*"]
  }

  statement {
    sid    = "DenyChangingStateAndArtifactBuckets"
    effect = "Deny"
    actions = [
      "s3:DeleteBucket*", "s3:DeleteObjectVersion", "s3:PutBucket*", "s3:PutEncryptionConfiguration",
      "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration",
    ]
    resources = flatten([for bucket in aws_s3_bucket.this : [bucket.arn, "${bucket.arn}/*"]])
  }

  statement {
    sid       = "DenyChangingTheLockTable"
    effect    = "Deny"
    actions   = ["dynamodb:DeleteTable", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable"]
    resources = [aws_dynamodb_table.lock.arn]
  }
}
