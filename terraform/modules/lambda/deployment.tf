# Safe deploys (optional, var.deployment): CodeDeploy shifts the alias to the versions Terraform
# publishes, watching alarms, and rolls back by itself on a failed pre-traffic hook or an alarm.
# Terraform only creates the application, the deployment group and its service role; a
# deployment is started by the deploy tool (make deploy, tools/release/canary.py).

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  deployed = var.deployment != null

  # CodeDeploy's predefined Lambda configurations by the short name the variable takes.
  predefined_deployment_configs = {
    for name in [
      "AllAtOnce", "Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes",
      "Canary10Percent30Minutes", "Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes",
      "Linear10PercentEvery3Minutes", "Linear10PercentEvery10Minutes",
    ] : name => "CodeDeployDefault.Lambda${name}"
  }
  custom_traffic = try(var.deployment.custom, null)
  deployment_config_name = !local.deployed ? null : (
    var.deployment.config == "Custom"
    ? try(aws_codedeploy_deployment_config.custom[0].id, null)
    : local.predefined_deployment_configs[var.deployment.config]
  )

  # The function's own alarms (alarms.tf) and those passed in, by name: what stops a deployment.
  deployment_alarm_names = !local.deployed ? [] : distinct(concat(
    var.deployment.watch_function_alarms ? values(local.alarm_names) : [],
    var.deployment.alarm_names,
  ))

  arn_prefix        = "arn:${data.aws_partition.current.partition}"
  cloudwatch_alarms = "${local.arn_prefix}:cloudwatch:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:alarm"
  pre_traffic_hook  = try(var.deployment.pre_traffic_hook_arn, null)
  codedeploy_role   = "${var.function_name}-codedeploy"
}

resource "aws_codedeploy_app" "this" {
  count = local.deployed ? 1 : 0

  name             = var.function_name
  compute_platform = "Lambda"
  tags             = var.tags
}

resource "aws_codedeploy_deployment_config" "custom" {
  count = local.custom_traffic == null ? 0 : 1

  # The traffic shape is in the name: a new shape is a new configuration (they are immutable).
  deployment_config_name = "${var.function_name}-${local.custom_traffic.type}-${local.custom_traffic.percentage}pct-${local.custom_traffic.interval_minutes}min"
  compute_platform       = "Lambda"

  traffic_routing_config {
    type = local.custom_traffic.type == "canary" ? "TimeBasedCanary" : "TimeBasedLinear"

    dynamic "time_based_canary" {
      for_each = local.custom_traffic.type == "canary" ? [local.custom_traffic] : []
      content {
        percentage = time_based_canary.value.percentage
        interval   = time_based_canary.value.interval_minutes
      }
    }

    dynamic "time_based_linear" {
      for_each = local.custom_traffic.type == "linear" ? [local.custom_traffic] : []
      content {
        percentage = time_based_linear.value.percentage
        interval   = time_based_linear.value.interval_minutes
      }
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_codedeploy_deployment_group" "this" {
  count = local.deployed ? 1 : 0

  app_name               = aws_codedeploy_app.this[0].name
  deployment_group_name  = var.alias_name
  service_role_arn       = aws_iam_role.codedeploy[0].arn
  deployment_config_name = local.deployment_config_name

  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  # A failed hook, a failed shift, a stop or an alarm returns the alias to the old version.
  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  dynamic "alarm_configuration" {
    for_each = length(local.deployment_alarm_names) > 0 ? [local.deployment_alarm_names] : []
    content {
      enabled = true
      alarms  = alarm_configuration.value
      # An alarm CodeDeploy cannot read stops the deployment rather than being ignored.
      ignore_poll_alarm_failure = false
    }
  }

  tags = var.tags
}

# The service role: what CodeDeploy needs for a Lambda deployment of this alias, and nothing
# else (AWS's AWSCodeDeployRoleForLambda grants it on every function and alarm, "*").
data "aws_iam_policy_document" "codedeploy_assume_role" {
  count = local.deployed ? 1 : 0

  statement {
    sid     = "CodeDeployAssumeRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  count = local.deployed ? 1 : 0

  name                 = local.codedeploy_role
  description          = "CodeDeploy's service role for deployments of ${var.function_name}:${var.alias_name}."
  assume_role_policy   = data.aws_iam_policy_document.codedeploy_assume_role[0].json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "codedeploy" {
  count = local.deployed ? 1 : 0

  statement {
    sid = "ShiftTheAlias"
    # GetAlias/UpdateAlias are authorised on the function; provisioned concurrency on the alias
    # (CodeDeploy waits for the new version's to be ready before shifting).
    actions = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"]
    resources = [
      aws_lambda_function.this.arn,
      "${aws_lambda_function.this.arn}:${var.alias_name}",
    ]
  }

  dynamic "statement" {
    for_each = length(local.deployment_alarm_names) > 0 ? [1] : []
    content {
      sid       = "WatchTheAlarms"
      actions   = ["cloudwatch:DescribeAlarms"]
      resources = [for name in local.deployment_alarm_names : "${local.cloudwatch_alarms}:${name}"]
    }
  }

  dynamic "statement" {
    for_each = local.pre_traffic_hook == null ? [] : [local.pre_traffic_hook]
    content {
      sid       = "RunThePreTrafficHook"
      actions   = ["lambda:InvokeFunction"]
      resources = [statement.value, "${statement.value}:*"]
    }
  }
}

resource "aws_iam_role_policy" "codedeploy" {
  count = local.deployed ? 1 : 0

  name   = "${local.codedeploy_role}-permissions"
  role   = aws_iam_role.codedeploy[0].id
  policy = data.aws_iam_policy_document.codedeploy[0].json
}
