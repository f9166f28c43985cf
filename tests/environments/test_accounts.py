"""Bootstrap, environments and promotion in three accounts (dev 111111111111, staging
222222222222, prod 333333333333) of one local emulator, driven from a CI role in a tooling
account through the make targets. See scenario.py for what runs, in which order.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from tests.support.accounts import (
    ACCOUNTS,
    CI_ROLE,
    NAME_PREFIX,
    REGION,
    artifact_bucket,
    deploy_role,
    managed_resources,
    state_bucket,
)
from tests.terraform.policy import COST_ALLOCATION_TAGS
from tools.iam import check, deployed
from tools.iam.calls import Call
from tools.iam.policy import Decision

pytestmark = [pytest.mark.emulator, pytest.mark.xdist_group("accounts")]

ENVS = tuple(ACCOUNTS)
ACCOUNT_ID = re.compile(r"\b\d{12}\b")


# --- bootstrap ---------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_bootstrap_made_the_state_bucket_lock_table_and_artifact_bucket(scenario, env):
    account = ACCOUNTS[env]
    s3 = scenario.accounts.client("s3", account)
    for bucket in (state_bucket(env), artifact_bucket(env)):
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert block == dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
            True,
        )
        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert lifecycle[0]["Status"] == "Enabled"
        assert lifecycle[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    state_policy = json.loads(s3.get_bucket_policy(Bucket=state_bucket(env))["Policy"])
    [deny] = [s for s in state_policy["Statement"] if s["Sid"] == "DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    ddb = scenario.accounts.client("dynamodb", account)
    table = ddb.describe_table(TableName=f"{NAME_PREFIX}-tfstate-lock")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["DeletionProtectionEnabled"] is True
    backups = ddb.describe_continuous_backups(TableName=f"{NAME_PREFIX}-tfstate-lock")
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


@pytest.mark.parametrize("env", ENVS)
def test_the_deploy_role_is_trusted_by_the_tooling_accounts_ci_role_only(scenario, env):
    iam = scenario.accounts.client("iam", ACCOUNTS[env])
    role = iam.get_role(RoleName=f"{NAME_PREFIX}-deploy-{env}")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    principals = [s["Principal"]["AWS"] for s in trust["Statement"]]
    assert principals == [CI_ROLE]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNTS[env]}:role/{NAME_PREFIX}-deploy-{env}"


def test_artifacts_are_readable_by_the_account_promoted_into_and_no_other(scenario):
    """dev -> staging -> prod: staging reads dev's bucket, prod reads staging's; nothing else
    crosses accounts (the emulator evaluates bucket policies on cross-account requests)."""
    release = scenario.results["releases"]["staging"]
    key = release["artifacts"]["orders_api"]["s3_key"]
    client = scenario.accounts.client
    allowed = {("staging", "dev"), ("prod", "staging")}
    for reader in ENVS:
        for owner in ENVS:
            if reader == owner:
                continue
            s3 = client("s3", ACCOUNTS[reader])
            try:
                s3.get_object(Bucket=artifact_bucket(owner), Key=key)
                answer = "read"
            except s3.exceptions.ClientError as error:
                answer = error.response["Error"]["Code"]
            expected = "read" if (reader, owner) in allowed else "AccessDenied"
            assert answer == expected, (reader, owner)


@pytest.mark.parametrize("env", ENVS)
def test_a_second_bootstrap_plan_is_empty(scenario, env):
    step = scenario.results[f"bootstrap second plan {env}"]
    assert step.returncode == 0, step
    assert "(no changes)" in step.output, step


# --- environments ------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_every_resource_of_an_environment_is_in_its_own_account(scenario, env):
    state = scenario.accounts.state(env)
    resources = managed_resources(state)
    assert len(resources) > 40
    arns = [r["values"]["arn"] for r in resources if isinstance(r["values"].get("arn"), str)]
    assert len(arns) > 25
    foreign = {
        account for arn in arns for account in ACCOUNT_ID.findall(arn) if account != ACCOUNTS[env]
    }
    assert foreign == set(), arns
    # Every account id anywhere in the state is this environment's.
    assert set(ACCOUNT_ID.findall(json.dumps(state))) <= {ACCOUNTS[env]}
    functions = scenario.accounts.client("lambda", ACCOUNTS[env]).list_functions()["Functions"]
    assert sorted(f["FunctionName"] for f in functions) == [
        f"orders-{env}-notifier",
        f"orders-{env}-order-processor",
        f"orders-{env}-orders-api",
        f"orders-{env}-pre-traffic-hook",
    ]
    assert all(f["FunctionArn"].split(":")[4] == ACCOUNTS[env] for f in functions)


@pytest.mark.parametrize("env", ENVS)
def test_a_second_plan_right_after_the_first_apply_is_empty(scenario, env):
    step = scenario.results[f"second plan {env}"]
    assert step.returncode == 0, step
    assert "(no changes)" in step.output, step


def test_each_environment_has_its_own_sizing(scenario):
    client = scenario.accounts.client

    def table(env):
        ddb = client("dynamodb", ACCOUNTS[env])
        name = f"orders-{env}-orders"
        described = ddb.describe_table(TableName=name)["Table"]
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        status = backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        return described.get("DeletionProtectionEnabled", False), status

    def api(env):
        lam = client("lambda", ACCOUNTS[env])
        return lam.get_function(FunctionName=f"orders-{env}-orders-api")["Configuration"]

    assert table("dev") == (False, "DISABLED")
    assert table("staging") == (True, "ENABLED")
    assert table("prod") == (True, "ENABLED")
    assert api("dev")["MemorySize"] == 256
    assert api("staging")["SnapStart"]["ApplyOn"] == "PublishedVersions"
    assert api("prod")["MemorySize"] == 1024
    provisioned = client("lambda", ACCOUNTS["prod"]).get_provisioned_concurrency_config(
        FunctionName="orders-prod-orders-api", Qualifier="live"
    )
    assert provisioned["RequestedProvisionedConcurrentExecutions"] == 10
    for env in ("dev", "staging"):
        lam = client("lambda", ACCOUNTS[env])
        with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
            lam.get_provisioned_concurrency_config(
                FunctionName=f"orders-{env}-orders-api", Qualifier="live"
            )
    # The alarm topics and who they tell: test_every_alarm_of_staging_and_prod_notifies_...
    for env, days in (("dev", 7), ("staging", 30), ("prod", 90)):
        groups = client("logs", ACCOUNTS[env]).describe_log_groups(
            logGroupNamePrefix=f"/aws/lambda/orders-{env}-"
        )["logGroups"]
        assert {g["retentionInDays"] for g in groups} == {days}


ALARM_TYPES = {"aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"}
# What turning alarms on adds: the alarms, the topic they notify and its key, the dashboard's
# alarm widget, the budget's notifications to the topic. Nothing else may change.
ALARM_DELIVERY_TYPES = {
    *ALARM_TYPES,
    "aws_budgets_budget",
    "aws_sns_topic",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
    "aws_kms_key",
    "aws_kms_alias",
    "aws_cloudwatch_dashboard",
}


def _has_action(change: dict, field: str) -> bool:
    """A known action, or one known after apply (the topic the same plan creates)."""
    if change["after_unknown"].get(field) is True:  # a set: unknown as a whole
        return True
    after = change["after"].get(field) or []
    unknown = change["after_unknown"].get(field) or [False] * len(after)
    return len(after) > 0 and all(a or u for a, u in zip(after, unknown, strict=True))


# What turning deployments on adds, per function CodeDeploy deploys: its application, group and
# service role (with its policy), and the alias handed from Terraform to CodeDeploy.
DEPLOYMENT_TYPES = {
    "aws_codedeploy_app",
    "aws_codedeploy_deployment_group",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_lambda_alias",
}
# The alias CodeDeploy moves is a new resource, so what names its ARN (the queue mappings, the
# API's integration) is updated in place, to the same ARN, known only once it exists.
ALIAS_REFERENCE_TYPES = {"aws_lambda_event_source_mapping", "aws_apigatewayv2_integration"}
DEPLOYED_FUNCTIONS = ("notifier", "order_processor", "orders_api")
DEPLOYMENT_CONFIGS = {
    "staging": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    "prod": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_every_alarm_and_deployment_of_staging_and_prod_is_planned_as_committed(
    scenario, tmp_path, env
):
    """The emulator cannot describe alarms back and has no CodeDeploy (so the scenario applies
    with alarms and deployments off, by an override file in its copy of terraform/); the root
    as committed, as in AWS, plans them: every alarm notifies on ALARM and OK, every function
    has its three, the topic has its own key; every function but the hook gets a CodeDeploy
    application and group with the environment's configuration, rollback on failure and on
    alarm, its own alarms and the composite, a service role, and its alias handed over to
    CodeDeploy; the deploy role may manage all of it by name; and nothing else changes."""
    a = scenario.accounts
    committed = a.copy_without_overrides(tmp_path / "terraform")
    assert not list(committed.rglob("*_override.tf"))
    plan = tmp_path / "alarms.tfplan"
    a.terraform(
        f"{env}: plan as committed (alarms on)",
        env,
        "plan",
        "-lock=false",
        "-input=false",
        f"-out={plan}",
        terraform_dir=committed,
    )
    shown = a.terraform(
        f"{env}: show alarms plan", env, "show", "-json", str(plan), terraform_dir=committed
    )
    changes = json.loads(shown.output[shown.output.index("{") :])["resource_changes"]
    changed = [c for c in changes if c["change"]["actions"] != ["no-op"]]
    allowed = ALARM_DELIVERY_TYPES | DEPLOYMENT_TYPES | ALIAS_REFERENCE_TYPES
    assert {c["type"] for c in changed} <= allowed, sorted(
        c["address"] for c in changed if c["type"] not in allowed
    )
    for change in changed:
        if change["type"] in ALIAS_REFERENCE_TYPES:
            assert change["change"]["actions"] == ["update"], change["address"]
    _deployments_as_committed(scenario, env, [c for c in changed if c["type"] in DEPLOYMENT_TYPES])

    alarms = [c for c in changed if c["type"] in ALARM_TYPES]
    # 3 functions x 3, the API's 2, 2 queues x 2, the table's 3 (itself, its index, system
    # errors), the rule's 2, rejected orders, uncertain notifications, 2 consumers' batch
    # failures, the composite
    assert len(alarms) == 9 + 2 + 4 + 3 + 2 + 1 + 1 + 2 + 1
    for alarm in alarms:
        assert alarm["change"]["actions"] == ["create"], alarm["address"]
        for field in ("alarm_actions", "ok_actions"):
            assert _has_action(alarm["change"], field), f"{alarm['address']} has no {field}"

    names = {c["change"]["after"]["alarm_name"] for c in alarms}
    for function in ("orders-api", "order-processor", "notifier"):
        for kind in ("error-rate", "throttles", "duration-p99"):
            assert f"orders-{env}-{function}-{kind}" in names, f"{function} lacks its {kind} alarm"

    [topic] = [c for c in changed if c["type"] == "aws_sns_topic"]
    # encrypted with the key the same plan creates, not an AWS managed key
    assert topic["change"]["after"].get("kms_master_key_id") is None
    assert topic["change"]["after_unknown"]["kms_master_key_id"]
    [created_key] = [c for c in changed if c["type"] == "aws_kms_key"]
    assert created_key["change"]["after"]["enable_key_rotation"] is True

    [composite] = [c for c in alarms if c["type"] == "aws_cloudwatch_composite_alarm"]
    assert composite["change"]["after"]["alarm_name"] == f"orders-{env}-unhealthy"
    assert f'ALARM("orders-{env}-api-5xx-rate")' in composite["change"]["after"]["alarm_rule"]
    subscriptions = {
        (c["change"]["after"]["protocol"], c["change"]["after"]["endpoint"]): c["change"]["after"]
        for c in changed
        if c["type"] == "aws_sns_topic_subscription"
    }
    if env == "staging":
        assert set(subscriptions) == {("email", "platform-team@example.com")}
    else:
        email = subscriptions[("email", "oncall@example.com")]
        assert email["filter_policy"] is None, "on-call's mailbox receives every alarm"
        [pager] = [s for (protocol, _), s in subscriptions.items() if protocol == "https"]
        assert json.loads(pager["filter_policy"]) == {"AlarmName": ["orders-prod-unhealthy"]}


def _deployments_as_committed(scenario, env: str, changed: list[dict]) -> None:
    by_address = {c["address"]: c["change"] for c in changed}
    created = {a: c["after"] for a, c in by_address.items() if c["actions"] == ["create"]}
    for service in DEPLOYED_FUNCTIONS:
        function = f"orders-{env}-{service.replace('_', '-')}"
        module = f"module.platform.module.{service}"
        assert created[f"{module}.aws_codedeploy_app.this[0]"]["compute_platform"] == "Lambda"
        group = created[f"{module}.aws_codedeploy_deployment_group.this[0]"]
        assert group["deployment_config_name"] == DEPLOYMENT_CONFIGS[env]
        assert group["deployment_group_name"] == "live"
        [rollback] = group["auto_rollback_configuration"]
        assert rollback["enabled"] is True
        assert set(rollback["events"]) == {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
        [alarms] = group["alarm_configuration"]
        assert set(alarms["alarms"]) == {
            f"{function}-error-rate",
            f"{function}-throttles",
            f"{function}-duration-p99",
            f"orders-{env}-unhealthy",
        }
        assert created[f"{module}.aws_iam_role.codedeploy[0]"]["name"] == f"{function}-codedeploy"
        assert f"{module}.aws_iam_role_policy.codedeploy[0]" in created
        # The alias changes hands: Terraform's is replaced by the one CodeDeploy moves (an
        # environment applied before deployments were on moves it in its state instead:
        # docs/deploying.md).
        assert f"{module}.aws_lambda_alias.deployed[0]" in created
        assert by_address[f"{module}.aws_lambda_alias.this[0]"]["actions"] == ["delete"]
    assert not [a for a in by_address if ".pre_traffic_hook." in a], "the hook is not deployed"

    # The deploy role may make every call that creating, reading back, tagging, changing and
    # deleting them takes, and make deploy's and make rollback's. The emulator has no
    # CodeDeploy, so the scenario cannot record these calls: they are judged here (tools/iam)
    # against the deploy role as the bootstrap applied it.
    account, role = ACCOUNTS[env], deploy_role(env)
    groups = [
        after
        for a, after in created.items()
        if a.endswith("aws_codedeploy_deployment_group.this[0]")
    ]
    assert len(groups) == len(DEPLOYED_FUNCTIONS)
    calls = [call for group in groups for call in _codedeploy_calls(role, account, group)]
    snapshot = deployed.read_roles(
        lambda service: scenario.accounts.client(service, account), [role.rsplit("/", 1)[1]], env
    )
    judged = [check.judge(c, role, check.Deployment.from_snapshot(snapshot)) for c in calls]
    refused = [
        line for j in judged if j.decision is not Decision.ALLOWED for line in check.describe(j)
    ]
    assert refused == []


def _codedeploy_calls(role: str, account: str, group: dict) -> list[Call]:
    """The calls the deploy role makes for one function's deployment group (as planned): the
    AWS provider's for its application, group and CodeDeploy service role, and make deploy's
    and make rollback's (tools/release/canary.py)."""
    function, name = group["app_name"], group["deployment_group_name"]
    service_role = f"arn:aws:iam::{account}:role/{function}-codedeploy"
    app = {"applicationName": function}
    deployment = {**app, "deploymentGroupName": name}
    arn = f"arn:aws:codedeploy:{REGION}:{account}"
    tags = [{"Key": "service", "Value": "orders"}]
    made = [
        ("iam", "CreateRole", {"RoleName": f"{function}-codedeploy"}),
        ("iam", "PutRolePolicy", {"RoleName": f"{function}-codedeploy", "PolicyName": "p"}),
        ("iam", "GetRole", {"RoleName": f"{function}-codedeploy"}),
        ("iam", "DeleteRole", {"RoleName": f"{function}-codedeploy"}),
        ("codedeploy", "CreateApplication", {**app, "computePlatform": "Lambda", "tags": tags}),
        ("codedeploy", "GetApplication", app),
        ("codedeploy", "ListTagsForResource", {"ResourceArn": f"{arn}:application:{function}"}),
        ("codedeploy", "TagResource", {"ResourceArn": f"{arn}:application:{function}"}),
        (
            "codedeploy",
            "CreateDeploymentGroup",
            {
                **deployment,
                "serviceRoleArn": service_role,
                "deploymentConfigName": group["deployment_config_name"],
            },
        ),
        ("codedeploy", "GetDeploymentGroup", deployment),
        (
            "codedeploy",
            "UpdateDeploymentGroup",
            {**app, "currentDeploymentGroupName": name, "serviceRoleArn": service_role},
        ),
        (
            "codedeploy",
            "ListTagsForResource",
            {"ResourceArn": f"{arn}:deploymentgroup:{function}/{name}"},
        ),
        (
            "codedeploy",
            "GetDeploymentConfig",
            {"deploymentConfigName": group["deployment_config_name"]},
        ),
        ("lambda", "GetAlias", {"FunctionName": function, "Name": name}),
        ("codedeploy", "ListDeployments", deployment),
        ("codedeploy", "CreateDeployment", deployment),
        ("codedeploy", "GetDeployment", {"deploymentId": "d-1", **deployment}),
        ("codedeploy", "BatchGetDeployments", {"deploymentIds": ["d-1"], **deployment}),
        ("codedeploy", "ListDeploymentTargets", {"deploymentId": "d-1", **deployment}),
        (
            "codedeploy",
            "GetDeploymentTarget",
            {"deploymentId": "d-1", "targetId": "t", **deployment},
        ),
        ("codedeploy", "StopDeployment", {"deploymentId": "d-1", **deployment}),
        ("cloudwatch", "DescribeAlarms", {"AlarmNames": [f"{function}-error-rate"]}),
        ("codedeploy", "DeleteDeploymentGroup", deployment),
        ("codedeploy", "DeleteApplication", app),
    ]
    return [
        Call(role, service, operation, params, REGION, account, "the plan as committed")
        for service, operation, params in made
    ]


def test_credentials_for_the_wrong_account_fail_before_any_change(scenario):
    r = scenario.results
    plan, apply = r["wrong account plan"], r["wrong account apply"]
    for step in (plan, apply):
        assert step.returncode != 0, step
        assert "AWS account ID not allowed: 222222222222" in step.output, step
        assert "Creating..." not in step.output, step
        assert "Modifying..." not in step.output, step
    assert "Refreshing state" not in plan.output, plan
    assert not r["wrong account plan file"], "a refused plan must not leave a plan to apply"
    before, after = r["wrong account before"], r["wrong account after"]
    assert after == before  # dev's state: content and versions
    assert before["dev resources in staging's account"] == []
    assert after["dev locks left"] == [], "the refused runs released the state lock"


# --- promotion ---------------------------------------------------------------------------------


def test_promotion_refuses_an_environment_that_runs_nothing(scenario):
    step = scenario.results["promote from nothing"]
    assert step.returncode == 2, step
    assert "dev has nothing deployed" in step.output, step
    assert scenario.results["promote from nothing left staging's release"]


def test_promotion_refuses_hashes_that_do_not_match(scenario):
    r = scenario.results
    unapplied = r["promote unapplied"]
    assert unapplied.returncode == 2, unapplied
    assert "but its release file pins" in unapplied.output, unapplied
    assert "apply dev before promoting from it" in unapplied.output
    assert r["promote unapplied left staging's release"]

    corrupt = r["promote corrupt"]
    assert corrupt.returncode == 2, corrupt
    api = scenario.builds["B"]["artifacts"]["orders_api"]["sha256"]
    assert f"does not hash to {api}" in corrupt.output, corrupt
    assert r["promote corrupt left prod's release"]
    assert not any(api in key for key in r["promote corrupt prod objects"])


def test_publish_pins_dev_to_the_build(scenario):
    release = scenario.results["dev release after publish"]
    build = scenario.builds["B"]
    assert release["bucket"] == artifact_bucket("dev")
    assert (release["arch"], release["runtime"]) == ("arm64", build["runtime"])
    assert {n: a["sha256"] for n, a in release["artifacts"].items()} == {
        n: a["sha256"] for n, a in build["artifacts"].items()
    }


def test_promotion_copies_the_bytes_and_pins_the_release_file_to_them(scenario):
    r, a = scenario.results, scenario.accounts
    releases = r["releases"]
    built = {n: x["sha256"] for n, x in scenario.builds["B"]["artifacts"].items()}
    for env, source in (("staging", "promoted from dev"), ("prod", "promoted from staging")):
        release = releases[env]
        assert release["source"] == source
        assert release["bucket"] == artifact_bucket(env)
        assert release["artifacts"] == releases["dev"]["artifacts"]
        assert {n: x["sha256"] for n, x in release["artifacts"].items()} == built
        s3 = a.client("s3", ACCOUNTS[env])
        for entry in release["artifacts"].values():
            body = s3.get_object(Bucket=release["bucket"], Key=entry["s3_key"])["Body"].read()
            assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    for step in (r["promote dev -> staging"], r["promote staging -> prod"]):
        # A step run again after the harness repaired the emulator finds what its first attempt
        # copied already there.
        copied = "(copied|present)" if "after a repair" in step.name else "copied"
        assert re.search(rf"\[(\d+)/\1\] layer [0-9a-f]{{12}}…: {copied}", step.output), step
        assert "Plan:" in step.output, step
        assert "(changes)" in step.output, step
    assert r["prod plan file after promote"]


def test_after_promotion_prod_runs_exactly_the_code_staging_runs(scenario):
    running = scenario.results["running"]
    assert running["prod"] == running["staging"] == running["dev"]
    built = {n: x["base64_sha256"] for n, x in scenario.builds["B"]["artifacts"].items()}
    assert running["prod"] == built
    before = {n: x["base64_sha256"] for n, x in scenario.builds["A"]["artifacts"].items()}
    assert all(running["prod"][name] != before[name] for name in before), "B differs from A"


def test_a_second_apply_is_refused_by_the_lock_and_succeeds_once_the_first_finishes(scenario):
    r = scenario.results
    held = r["lock held"]
    assert held.get("s3 lock file"), "operator 1's apply was never seen holding the lock"
    # Both locks are taken: the S3 lock file and the DynamoDB lock item.
    key = f"{state_bucket('prod')}/prod/platform.tfstate"
    assert key in held["dynamodb lock items"], held
    refused = r["operator 2 apply while locked"]
    assert refused.returncode == 2, refused
    assert "Error acquiring the state lock" in refused.output, refused
    assert held["operator 1 still applying after operator 2 was refused"]
    assert r["operator 1 apply"].returncode == 0, r["operator 1 apply"]
    # Operator 2's plan predates operator 1's apply: Terraform refuses it as stale ...
    assert r["operator 2 apply stale plan"].returncode == 2
    assert "Saved plan is stale" in r["operator 2 apply stale plan"].output
    # ... and a new plan applies.
    assert "(no changes)" in r["operator 2 plan again"].output
    assert r["operator 2 apply"].returncode == 0, r["operator 2 apply"]


# --- make seed ---------------------------------------------------------------------------------


def test_make_seed_stocks_staging_for_its_profile_with_mailbox_simulator_customers(scenario):
    """As staging's deploy role, into staging's account: stock for every load-test SKU that the
    staging profile cannot exhaust (every order then runs the stock transaction to the end), a
    mailbox-simulator address for every customer; seeding again writes the same items and
    puts back the stock a run took."""
    from tools.ops.seed import load_test_population, simulator_address, stock_plan

    r = scenario.results
    assert "as arn:aws:iam::222222222222:role/acme-platform-deploy-staging" in (
        r["seed staging"].output
    )
    skus, customers = load_test_population()
    plan = stock_plan("staging")
    assert plan.units_per_sku >= plan.virtual_users * 3 >= 225_000 * 3
    seeded = r["seeded items"]
    assert {k: int(v["available"]["N"]) for k, v in seeded.items() if k.startswith("SKU#")} == {
        f"SKU#{sku}": plan.units_per_sku for sku in skus
    }
    assert {k: v["email"]["S"] for k, v in seeded.items() if k.startswith("CUSTOMER#")} == {
        f"CUSTOMER#{c}": simulator_address(c) for c in customers
    }
    assert all(
        v["email"]["S"].endswith("@simulator.amazonses.com")
        for k, v in seeded.items()
        if k.startswith("CUSTOMER#")
    )
    assert r["seeded items again"] == seeded  # the 5 units left by "a run" are back to full


def test_seeding_prod_is_refused_without_the_load_test_opt_in(scenario):
    refused = scenario.results["seed prod without the opt-in"]
    assert refused.returncode == 2, refused
    assert "LOADTEST_ALLOW_PROD=yes" in refused.output
    assert scenario.results["prod items after the refused seed"] == {}


# --- deploy roles ------------------------------------------------------------------------------


def _iam_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


def _name_scoped_allows(scenario, env: str) -> list[tuple[set[str], re.Pattern[str]]]:
    """(services, resource pattern) of every Allow statement of ENV's deploy role that names
    resources ("*" does not count)."""
    iam = scenario.accounts.client("iam", ACCOUNTS[env])
    document = iam.get_role_policy(
        RoleName=f"{NAME_PREFIX}-deploy-{env}", PolicyName=f"deploy-{env}"
    )
    policy = document["PolicyDocument"]
    if isinstance(policy, str):
        policy = json.loads(policy)
    allows = []
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        services = {action.split(":")[0] for action in actions}
        allows += [(services, _iam_pattern(r)) for r in resources if r != "*"]
    return allows


@pytest.mark.parametrize("env", ENVS)
def test_the_deploy_role_may_manage_every_resource_of_its_environment_by_name(scenario, env):
    """Each resource the stack made is matched by a name-scoped resource of the deploy role's
    policy, for an action of its service (statements on "*" do not count). The emulator does
    not enforce IAM, so this is how the policy is held to what the stack really creates."""
    allows = _name_scoped_allows(scenario, env)
    uncovered = []
    for resource in managed_resources(scenario.accounts.state(env)):
        values = resource["values"]
        arn = values.get("arn") or values.get("dashboard_arn")
        if not isinstance(arn, str):
            continue
        service = arn.split(":")[2]
        if not any(service in services and pattern.match(arn) for services, pattern in allows):
            uncovered.append(f"{resource['address']}: {arn}")
    assert uncovered == []


# --- cost allocation ------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_every_resource_of_an_environment_carries_its_cost_allocation_tags(scenario, env):
    """The provider's default tags reach every taggable resource the environment made: their
    tags_all, as the provider read them back, carry service, environment, cost-center and
    managed-by, with the environment's own name."""
    taggable = 0
    untagged = []
    for resource in managed_resources(scenario.accounts.state(env)):
        tags = resource["values"].get("tags_all")
        if tags is None:  # a resource AWS cannot tag (a policy, a mapping, an alias...)
            continue
        taggable += 1
        wrong = [key for key in COST_ALLOCATION_TAGS if not tags.get(key)]
        if tags.get("environment") != env:
            wrong.append(f"environment={tags.get('environment')!r}")
        if wrong:
            untagged.append(f"{resource['address']}: {', '.join(wrong)}")
    assert taggable >= 15
    assert untagged == []
