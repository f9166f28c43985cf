"""Repository-wide rules over terraform/, read with python-hcl2.

Each rule is also run against a small bad configuration, so a checker that
stopped finding anything would fail here rather than pass silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.terraform import policy
from tools.terraform.hcl import TERRAFORM_DIR, load_file, root_blocks, terraform_directories

MODULES = sorted(p for p in (TERRAFORM_DIR / "modules").iterdir() if p.is_dir())
EXPECTED_MODULES = {
    "lambda",
    "queue-with-dlq",
    "dynamo-table",
    "event-rule",
    "http-api",
    "alarm-topic",
    "user-pool",
}


def _all_blocks():
    return list(policy.all_blocks(terraform_directories()))


def _provider_version_kind(directory: Path) -> str | None:
    """floor for code others compose (modules, their examples, the stack), exact for roots."""
    top = directory.relative_to(TERRAFORM_DIR).parts[0]
    return {
        "modules": "floor",
        "stack": "floor",
        "environments": "exact",
        "bootstrap": "exact",
    }.get(top)


def _reusable_code_blocks():
    """Modules and the shared stack: code that must not carry account-specific values."""
    dirs = [
        d
        for d in terraform_directories()
        if d.parent == TERRAFORM_DIR / "modules" or d == TERRAFORM_DIR / "stack"
    ]
    return list(policy.all_blocks(dirs))


BAD_CONFIGURATION = """
variable "untyped" {}
resource "aws_sqs_queue" "orphan" {
  name = "orphan"
}
data "aws_iam_policy_document" "broad" {
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["*"]
  }
  statement {
    actions   = ["dynamodb:*"]
    resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/t"]
  }
}
resource "aws_iam_role_policy" "inline" {
  policy = jsonencode({ Statement = [{ Action = ["*"], Resource = "*" }] })
}
resource "aws_lambda_function" "fn" {
  function_name = "fn"
}
resource "aws_sns_topic" "alarms" {
  kms_master_key_id = "alias/aws/sns"
}
resource "aws_cloudwatch_metric_alarm" "silent" {
  alarm_name = "silent"
}
module "quiet_function" {
  source = "../modules/lambda"
}
resource "aws_sqs_queue" "self_tagged" {
  redrive_allow_policy = "{}"
  tags                 = merge(var.tags, { environment = "dev" })
}
locals {
  tags = { service = "other" }
}
provider "aws" {
  default_tags {
    tags = { service = "orders", environment = "prod" }
  }
}
"""


@pytest.fixture
def bad_blocks(tmp_path: Path):
    (tmp_path / "main.tf").write_text(BAD_CONFIGURATION)
    return list(root_blocks(tmp_path))


def test_the_five_core_modules_exist():
    assert {m.name for m in MODULES} >= EXPECTED_MODULES


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_has_the_standard_files_tests_and_example(module: Path):
    assert policy.module_layout_problems(module) == []


def test_every_variable_has_a_type_and_a_description():
    assert policy.variables_without_type_or_description(_all_blocks()) == []


def test_no_iam_statement_grants_a_wildcard_action():
    assert policy.wildcard_iam_actions(_all_blocks()) == []


def test_modules_and_stack_hard_code_no_account_id_or_region():
    assert policy.hard_coded_accounts_or_regions(_reusable_code_blocks()) == []


def test_every_queue_has_a_dead_letter_queue_with_max_receive_count():
    assert policy.queues_without_dead_letter(_all_blocks()) == []


def test_every_alarm_notifies_on_alarm_and_ok():
    assert policy.alarms_without_actions(_all_blocks()) == []


def test_every_topic_is_encrypted_with_a_customer_managed_key():
    assert policy.topics_without_a_customer_managed_key(_all_blocks()) == []


def test_the_stack_wires_every_module_s_alarms():
    stack = list(root_blocks(TERRAFORM_DIR / "stack"))
    assert policy.module_calls_without_alarms(stack) == []


def test_every_function_has_its_own_log_group_with_retention_and_tracing():
    assert policy.functions_without_logs_or_tracing(_all_blocks()) == []


@pytest.mark.parametrize(
    "directory", terraform_directories(), ids=lambda p: str(p.relative_to(TERRAFORM_DIR))
)
def test_modules_and_the_stack_state_a_provider_floor_and_roots_pin_one_version(directory):
    kind = _provider_version_kind(directory)
    assert kind, f"{directory}: neither a module, the stack, an environment nor the bootstrap"
    assert policy.provider_version_problems(root_blocks(directory), kind) == []


def test_the_environments_and_the_bootstrap_are_the_pinned_roots():
    kinds = {
        d.relative_to(TERRAFORM_DIR).as_posix(): _provider_version_kind(d)
        for d in terraform_directories()
    }
    assert {d for d, k in kinds.items() if k == "exact"} == {
        "bootstrap",
        "environments/dev",
        "environments/local",
        "environments/prod",
        "environments/staging",
    }
    assert {"stack", "modules/lambda", "modules/lambda/examples/basic"} <= {
        d for d, k in kinds.items() if k == "floor"
    }


@pytest.mark.parametrize(
    ("version", "floor", "exact"),
    [
        (">= 5.100", True, False),
        (">=5.100.0", True, False),
        ("5.100.0", False, True),
        ("= 5.100.0", False, True),
        ("~> 5.100", False, False),  # refuses provider 6 for every adopter
        (">= 5.100, < 6.0", False, False),
        ("5.100", False, False),
        (None, False, False),
    ],
)
def test_provider_version_checker_tells_a_floor_from_a_pin(tmp_path, version, floor, exact):
    constraint = "" if version is None else f'\n      version = "{version}"'
    (tmp_path / "versions.tf").write_text(
        "terraform {\n  required_providers {\n    aws = {\n"
        f'      source = "hashicorp/aws"{constraint}\n    }}\n  }}\n}}\n'
    )
    blocks = list(root_blocks(tmp_path))
    assert (policy.provider_version_problems(blocks, "floor") == []) is floor
    assert (policy.provider_version_problems(blocks, "exact") == []) is exact
    (tmp_path / "versions.tf").write_text('terraform {\n  required_version = ">= 1.11"\n}\n')
    assert policy.provider_version_problems(root_blocks(tmp_path), "floor")


ENVIRONMENT_ROOTS = sorted(p for p in (TERRAFORM_DIR / "environments").iterdir() if p.is_dir())


def test_every_environment_tags_every_resource_for_cost_allocation_by_default_tags():
    assert [r.name for r in ENVIRONMENT_ROOTS] == ["dev", "local", "prod", "staging"]
    assert policy.roots_without_cost_allocation_tags(ENVIRONMENT_ROOTS) == []
    assert policy.cost_allocation_tags_set_outside_providers(_all_blocks()) == []


def test_every_bootstrap_account_carries_the_cost_allocation_tags():
    """The bootstrap's provider merges managed-by into the account's tags (accounts/*.tfvars)."""
    for account in sorted((TERRAFORM_DIR / "bootstrap" / "accounts").glob("*.tfvars")):
        tags = load_file(account)["tags"]
        assert {k: tags.get(k) for k in ("service", "environment", "cost-center")} == {
            "service": "orders",
            "environment": account.stem,
            "cost-center": tags.get("cost-center") or "(missing)",
        }, account.name
    [provider] = [b for b in root_blocks(TERRAFORM_DIR / "bootstrap") if b.kind == "provider"]
    assert 'managed-by = "terraform"' in provider.body["default_tags"][0]["tags"]


def test_checkers_find_each_violation_in_a_bad_configuration(bad_blocks, tmp_path: Path):
    assert policy.variables_without_type_or_description(bad_blocks)
    wildcards = policy.wildcard_iam_actions(bad_blocks)
    assert any("dynamodb:*" in w for w in wildcards)
    assert any("'*'" in w for w in wildcards)
    assert not any("s3:*" in w for w in wildcards), "a Deny statement only narrows access"
    hard_coded = policy.hard_coded_accounts_or_regions(bad_blocks)
    assert any("account id" in h for h in hard_coded)
    assert any("region" in h for h in hard_coded)
    assert policy.queues_without_dead_letter(bad_blocks)
    missing = policy.functions_without_logs_or_tracing(bad_blocks)
    assert any("tracing_config" in m for m in missing)
    assert any("log group" in m for m in missing)
    assert policy.module_layout_problems(tmp_path)
    silent = policy.alarms_without_actions(bad_blocks)
    assert [s.split(": ", 1)[1] for s in silent] == [
        "resource aws_cloudwatch_metric_alarm.silent: no alarm_actions",
        "resource aws_cloudwatch_metric_alarm.silent: no ok_actions",
    ]
    assert "AWS managed key" in policy.topics_without_a_customer_managed_key(bad_blocks)[0]
    [quiet] = policy.module_calls_without_alarms(bad_blocks)
    assert quiet.endswith("module quiet_function: no alarms argument")
    overriding = policy.cost_allocation_tags_set_outside_providers(bad_blocks)
    assert len(overriding) == 2
    assert overriding[0].endswith(
        "resource aws_sqs_queue.self_tagged: sets the environment tag in tags"
    )
    assert overriding[1].endswith("locals : sets the service tag in tags")
    missing = policy.roots_without_cost_allocation_tags([tmp_path])
    assert [m.split(": ")[-1] for m in missing] == [
        "no cost-center in default_tags",
        "no managed-by in default_tags",
        "environment is 'prod'",
    ]
