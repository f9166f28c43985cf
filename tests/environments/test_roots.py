"""The committed environment roots, bootstrap accounts and release files agree with each other,
and the make targets refuse what they must before reaching any account (no emulator needed)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tools.release.build import discover_services
from tools.terraform.hcl import REPO_ROOT, TERRAFORM_DIR, load_file, root_blocks

ENVS = ("dev", "staging", "prod")
ENV_DIR = TERRAFORM_DIR / "environments"
BOOTSTRAP = TERRAFORM_DIR / "bootstrap"
ARTIFACTS = {*discover_services(REPO_ROOT), "layer"}  # a zip per service, and the layer


def _blocks(env: str) -> dict[tuple[str, ...], dict]:
    """main.tf's blocks (outputs.tf is compared as a whole)."""
    return {(b.kind, *b.labels): b.body for b in root_blocks(ENV_DIR / env) if b.kind != "output"}


def _locals(env: str) -> dict:
    return _blocks(env)[("locals",)]


def _account(env: str) -> str:
    return _locals(env)["account_id"]


def _backend(env: str) -> dict:
    return load_file(ENV_DIR / env / "backend.hcl")


def _tfvars(env: str) -> dict:
    return load_file(BOOTSTRAP / "accounts" / f"{env}.tfvars")


def _normalised(value, env: str) -> str:
    """A block's text with the environment's name and account id replaced by placeholders."""
    return (
        json.dumps(value, sort_keys=True)
        .replace(_account(env), "<account>")
        .replace(f'"{env}"', '"<env>"')
    )


@pytest.mark.parametrize("env", ENVS)
def test_committed_release_file_pins_four_consistent_artifacts_in_the_accounts_bucket(env):
    release = json.loads((ENV_DIR / env / "release.json").read_text())
    assert release["bucket"] == f"acme-platform-{_account(env)}-artifacts"
    assert release["arch"] == "arm64"  # what AWS runs; the emulator tests never commit
    assert re.fullmatch(r"python3\.1[23]", release["runtime"])
    assert set(release["artifacts"]) == ARTIFACTS
    for name, entry in release["artifacts"].items():
        assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
        assert entry["base64_sha256"] == base64.b64encode(bytes.fromhex(entry["sha256"])).decode()
        assert entry["s3_key"] == f"artifacts/{name}/{entry['sha256']}.zip"
    assert release["source"]


def test_environment_roots_differ_only_in_values():
    first = _blocks("dev")
    assert set(first) == {
        ("terraform",),
        ("variable", "deploy_role_arn"),
        ("locals",),
        ("provider", "aws"),
        ("module", "platform"),
    }
    outputs = (ENV_DIR / "dev" / "outputs.tf").read_text()
    for env in ENVS:
        blocks = _blocks(env)
        assert set(blocks) == set(first)
        assert (ENV_DIR / env / "outputs.tf").read_text() == outputs
        module = blocks[("module", "platform")]
        assert module["source"] == "../../stack"
        for kind in [("terraform",), ("variable", "deploy_role_arn")]:
            assert _normalised(blocks[kind], env) == _normalised(first[kind], "dev"), kind
        assert _normalised(blocks[("provider", "aws")], env) == _normalised(
            first[("provider", "aws")], "dev"
        )
        wiring = {k: module[k] for k in ("environment", "artifacts", "lambda_architecture")}
        assert _normalised(wiring, env) == _normalised(
            {k: first[("module", "platform")][k] for k in wiring}, "dev"
        )
        assert _locals(env)["environment"] == env


@pytest.mark.parametrize("env", ENVS)
def test_backend_keeps_state_in_the_environments_account_with_both_locks(env):
    backend, account = _backend(env), _account(env)
    assert backend["bucket"] == f"acme-platform-{account}-tfstate"
    assert backend["key"] == f"{env}/platform.tfstate"
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True
    assert backend["dynamodb_table"] == "acme-platform-tfstate-lock"
    role = backend["assume_role"]
    assert role["role_arn"] == f"arn:aws:iam::{account}:role/acme-platform-deploy-{env}"
    provider = _blocks(env)[("provider", "aws")]
    assert provider["allowed_account_ids"] == ["${local.account_id}"]


@pytest.mark.parametrize("env", ENVS)
def test_bootstrap_account_matches_its_environment_and_the_promotion_chain(env):
    tfvars = _tfvars(env)
    assert tfvars["account_id"] == _account(env)
    assert tfvars["environments"] == [env]
    assert tfvars["name_prefix"] == "acme-platform"
    sender = _blocks(env)[("module", "platform")]["notification_sender"]
    assert tfvars["notification_senders"] == {env: sender}
    assert all(":role/" in arn for arn in tfvars["trusted_principal_arns"])
    index = ENVS.index(env)
    readers = [_account(ENVS[index + 1])] if index + 1 < len(ENVS) else []
    sources = [_account(ENVS[index - 1])] if index > 0 else []
    assert tfvars["artifact_reader_account_ids"] == readers
    assert tfvars["promotion_source_account_ids"] == sources


# Switches that existed only for the emulators; the tests override their copies instead
# (tests/support/overrides, docs/emulators.md).
EMULATOR_SWITCHES = {"alarms_enabled", "artifact_bucket_requires_tls", "restrict_dlq_sources"}


def test_production_roots_and_modules_have_no_switch_for_an_emulator():
    """Alarms on, TLS-only buckets and DLQs that only their queue may use are not choices an
    account's deploy can turn off: the roots, the bootstrap and the modules declare none."""
    modules = TERRAFORM_DIR / "modules"
    directories = [ENV_DIR / env for env in ENVS] + [BOOTSTRAP, TERRAFORM_DIR / "stack"]
    directories += [d for d in modules.iterdir() if d.is_dir()] + list(modules.glob("*/examples/*"))
    for directory in directories:
        declared = {b.labels[0] for b in root_blocks(directory) if b.kind == "variable"}
        if directory.name == "stack":
            declared.discard("alarms_enabled")  # the local root sets it for ministack
        assert declared.isdisjoint(EMULATOR_SWITCHES), directory
    assert not list(TERRAFORM_DIR.rglob("*override.tf")), "override files are the tests' only"
    stack = {(b.kind, *b.labels): b.body for b in root_blocks(TERRAFORM_DIR / "stack")}
    assert stack[("variable", "alarms_enabled")]["default"] is True
    for env in ENVS:
        blocks = _blocks(env)
        assert "alarms_enabled" not in blocks[("module", "platform")]
        assert blocks[("variable", "deploy_role_arn")]["default"] is None


# --- make targets: refusals before any account is reached ---------------------------------------


@pytest.fixture
def make(tmp_path: Path):
    checksum = subprocess.run(
        ["cksum", "pyproject.toml"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()[0]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DEPLOY_", "TF_VAR_"))
        and k not in ("CONFIRM", "ENV", "FROM", "TO", "MANIFEST")
    }
    # Anything that did try to reach AWS would meet a closed port, not an account.
    env |= {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "000000000000",
        "AWS_SECRET_ACCESS_KEY": "none",
        "AWS_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "DEPLOY_WORK_DIR": str(tmp_path / "work"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "-s", "-o", f".venv/.installed-{checksum}", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("plan", "ENV=nope"),
            "valid: dev, staging, prod, bootstrap-dev, bootstrap-staging, bootstrap-prod",
        ),
        (("init", "ENV=local"), "local is the emulator's"),
        (("apply", "ENV=prod"), "prod is protected: apply it needs CONFIRM=prod"),
        (("apply", "ENV=prod", "CONFIRM=yes"), "prod is protected"),
        (("destroy", "ENV=prod"), "prod is protected: destroy it needs CONFIRM=prod"),
        (("apply", "ENV=bootstrap-prod"), "needs CONFIRM=bootstrap-prod"),
        (("apply", "ENV=dev"), "no saved plan for dev: run `make plan ENV=dev` first"),
        (("promote", "FROM=dev", "TO=prod"), "cannot promote dev to prod"),
        (("promote", "FROM=staging"), "usage: make promote FROM=staging TO=prod"),
        (("publish", "ENV=staging"), "builds enter at dev"),
    ],
)
def test_make_target_refuses(make, args, message):
    proc = make(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr, proc.stderr


def test_make_envs_lists_environments_then_bootstraps(make):
    proc = make("envs")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "dev",
        "staging",
        "prod",
        "bootstrap-dev",
        "bootstrap-staging",
        "bootstrap-prod",
    ]


# A Terraform lock error as the emulator runs produce it (tests/support/accounts.py releases
# such a lock only when the step that failed created it).
LOCK_ERROR = """Acquiring state lock. This may take a few moments...
╷
│ Error: Error acquiring the state lock
│
│ Error message: operation error DynamoDB: PutItem, https response error
│ StatusCode: 400, RequestID: 9fda5916-b4b0-4ab4-a26d-51e82806a002,
│ ConditionalCheckFailedException: The conditional request failed
│ Lock Info:
│   ID:        3e3f1e9e-9196-3a93-288d-7d1ae4a39dde
│   Path:      acme-platform-222222222222-tfstate/staging/platform.tfstate
│   Operation: OperationTypePlan
│   Who:       root@vm
│   Version:   1.11.4
│   Created:   2026-11-25 10:40:38.412367124 +0000 UTC
│   Info:
╵
"""


def test_the_harness_reads_the_lock_a_lock_error_names():
    from datetime import UTC, datetime

    from tests.support.accounts import lock_in_error

    lock_id, bucket, key, created = lock_in_error(LOCK_ERROR)
    assert (lock_id, bucket, key) == (
        "3e3f1e9e-9196-3a93-288d-7d1ae4a39dde",
        "acme-platform-222222222222-tfstate",
        "staging/platform.tfstate",
    )
    assert created == datetime(2026, 11, 25, 10, 40, 38, 412367, tzinfo=UTC).timestamp()
    assert lock_in_error("Error: AWS account ID not allowed: 222222222222") is None


# From a failed `make apply ENV=dev` (2026-11-25): the emulator created the notifier's alias,
# its answer was lost, and the SDK's retry was refused.
ALIAS_ERROR = (
    "module.platform.module.notifier.aws_lambda_function.this: Creating...\n"
    "module.platform.module.notifier.aws_lambda_function.this: "
    "Creation complete after 5s [id=orders-dev-notifier]\n"
    "module.platform.module.orders_api.aws_lambda_function.this: "
    "Creation complete after 5s [id=orders-dev-orders-api]\n"
    "module.platform.module.notifier.aws_lambda_alias.this: Creating...\n"
    "Releasing state lock. This may take a few moments...\n"
    "╷\n"
    "│ Error: creating Lambda Alias (live): operation error Lambda: CreateAlias, https response "
    "error StatusCode: 409, RequestID: 8b35552c-174c-42a9-b2bd-606c049be7b4, "
    "ResourceConflictException: Alias already exists: live\n"
    "│ \n"
    "│   with module.platform.module.notifier.aws_lambda_alias.this,\n"
    '│   on ../../modules/lambda/main.tf line 216, in resource "aws_lambda_alias" "this":\n'
    '│  216: resource "aws_lambda_alias" "this" {\n'
    "╵\n"
)


def test_the_harness_finds_the_alias_an_apply_created_but_was_refused_on_retry():
    from tests.support.accounts import orphaned_alias

    assert orphaned_alias(ALIAS_ERROR) == ("orders-dev-notifier", "live")


def test_the_harness_leaves_an_alias_on_a_function_the_apply_did_not_create():
    from tests.support.accounts import orphaned_alias

    existing_function = "\n".join(
        line for line in ALIAS_ERROR.splitlines() if "notifier.aws_lambda_function" not in line
    )
    assert orphaned_alias(existing_function) is None
    assert orphaned_alias(LOCK_ERROR) is None


def function_on_moto(tmp_path, moto_endpoint, env: str, name: str):
    """(the harness, a Lambda client of ENV's account) with function `name` in that account."""
    import io
    import zipfile

    from tests.support.accounts import ACCOUNTS, Accounts

    accounts = Accounts(tmp_path, port=int(moto_endpoint.rsplit(":", 1)[1]))
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    role = accounts.client("iam", ACCOUNTS[env]).create_role(
        RoleName=f"{name}-test", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    lam = accounts.client("lambda", ACCOUNTS[env])
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    return accounts, lam


def test_the_harness_deletes_the_orphaned_alias_and_records_the_repair(tmp_path, moto_endpoint):
    from tests.support.accounts import Step

    accounts, lam = function_on_moto(tmp_path, moto_endpoint, "dev", "orders-dev-notifier")
    lam.create_alias(FunctionName="orders-dev-notifier", Name="live", FunctionVersion="$LATEST")
    failed = Step("dev: apply", ["make", "apply", "ENV=dev"], 1, ALIAS_ERROR, 1.0)

    assert accounts._repair_lost_answer(failed)

    assert lam.list_aliases(FunctionName="orders-dev-notifier")["Aliases"] == []
    assert accounts.repairs == [
        {
            "step": "dev: apply",
            "repair": "deleted alias live of orders-dev-notifier, created by the step",
        }
    ]


# From a failed `make apply ENV=staging` (2026-12-02): the emulator added the permission, its
# answer was lost, and every retry was refused as a duplicate statement.
PERMISSION_ERROR = (
    'module.platform.module.http_api.aws_lambda_permission.route["GET /customers/{customer_id}'
    '/orders"]: Creating...\n'
    'module.platform.module.http_api.aws_lambda_permission.route["POST /orders"]: '
    "Creation complete after 5m0s [id=apigw-POST__orders-63e3c364]\n"
    "╷\n"
    "│ Error: adding Lambda Permission (orders-staging-orders-api/apigw-GET__customers__"
    "customer_id__orders-66346511): operation error Lambda: AddPermission, https response error "
    "StatusCode: 409, RequestID: acdffffe-6921-4893-85fc-bf3a7724018e, "
    "ResourceConflictException: The statement id (apigw-GET__customers__customer_id__orders-"
    "66346511) provided already exists. Please provide a new statement id, or remove the "
    "existing statement.\n"
    "│ \n"
    '│   with module.platform.module.http_api.aws_lambda_permission.route["GET /customers/'
    '{customer_id}/orders"],\n'
    '│   on ../../modules/http-api/main.tf line 118, in resource "aws_lambda_permission" '
    '"route":\n'
    "╵\n"
)


def test_the_harness_finds_the_permission_an_apply_added_but_was_refused_on_retry():
    from tests.support.accounts import orphaned_permission

    assert orphaned_permission(PERMISSION_ERROR) == (
        "orders-staging-orders-api",
        "apigw-GET__customers__customer_id__orders-66346511",
    )
    # a permission this apply was not creating is someone else's: left alone
    not_creating = PERMISSION_ERROR.replace("Creating...", "Refreshing state...")
    assert orphaned_permission(not_creating) is None
    assert orphaned_permission(ALIAS_ERROR) is None


def test_the_harness_removes_the_orphaned_permission_and_records_the_repair(
    tmp_path, moto_endpoint
):
    from tests.support.accounts import Step

    accounts, lam = function_on_moto(
        tmp_path, moto_endpoint, "staging", "orders-staging-orders-api"
    )
    statement = "apigw-GET__customers__customer_id__orders-66346511"
    lam.add_permission(
        FunctionName="orders-staging-orders-api",
        StatementId=statement,
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
    )
    failed = Step("staging: apply", ["make", "apply", "ENV=staging"], 1, PERMISSION_ERROR, 1.0)

    assert accounts._repair_lost_answer(failed)

    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName="orders-staging-orders-api")
    assert accounts.repairs == [
        {
            "step": "staging: apply",
            "repair": f"removed permission {statement} of orders-staging-orders-api, "
            "added by the step",
        }
    ]


def test_an_apply_repaired_mid_way_is_planned_again_before_it_is_applied_again(tmp_path):
    from tests.support.accounts import Accounts, Step

    accounts = Accounts(tmp_path, port=1)
    ran: list[list[str]] = []
    outputs = iter([PERMISSION_ERROR, "planned", "applied"])

    def run_once(name, args, extra_env, timeout):
        ran.append(list(args))
        return Step(name, list(args), 0 if len(ran) > 1 else 1, next(outputs), 1.0)

    accounts._run_once = run_once
    accounts._repair_lost_answer = lambda _step: True
    accounts.run("staging: apply", ["make", "apply", "ENV=staging", "CONFIRM=staging"])
    assert ran == [
        ["make", "apply", "ENV=staging", "CONFIRM=staging"],
        ["make", "plan", "ENV=staging"],  # the partial apply made the saved plan stale
        ["make", "apply", "ENV=staging", "CONFIRM=staging"],
    ]
