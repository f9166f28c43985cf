"""make deploy / make rollback (tools/release/canary.py) against CodeDeploy's real API shapes.

Every AWS call goes through botocore's Stubber on real clients: a request or an answer that
does not fit the service's model fails the test, and each test states exactly which calls
happen, in which order per service. (moto models CodeDeploy deployments only as far as
`Created`; nothing there ever shifts, stops or rolls back.) The clock advances only when the
tool sleeps between polls.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from tools.release import canary
from tools.release.canary import Aws, Target, Terminal

REGION = "eu-west-1"
HOOK = "orders-staging-pre-traffic-hook"


def target(service: str, version: str = "7", alarms: tuple[str, ...] = ()) -> Target:
    name = f"orders-staging-{service.replace('_', '-')}"
    return Target(
        service=service,
        function_name=name,
        alias_name="live",
        function_version=version,
        application_name=name,
        deployment_group_name="live",
        deployment_config_name="CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        alarm_names=alarms or (f"{name}-error-rate", "orders-staging-unhealthy"),
        pre_traffic_hook=HOOK,
    )


API = target("orders_api")
PROCESSOR = target("order_processor", version="4")
NOTIFIER = target("notifier", version="3")


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)


class Script:
    """What AWS will answer, call by call, per service."""

    def __init__(self) -> None:
        self.aws = Aws(
            boto3.client("codedeploy", region_name=REGION),
            boto3.client("lambda", region_name=REGION),
            boto3.client("cloudwatch", region_name=REGION),
        )
        self.codedeploy = Stubber(self.aws.codedeploy)
        self.lambda_ = Stubber(self.aws.lambda_)
        self.cloudwatch = Stubber(self.aws.cloudwatch)
        self.listed_targets: set[str] = set()

    def __enter__(self) -> Script:
        for stub in (self.codedeploy, self.lambda_, self.cloudwatch):
            stub.activate()
        return self

    def __exit__(self, *exc) -> None:
        for stub in (self.codedeploy, self.lambda_, self.cloudwatch):
            stub.deactivate()

    def assert_all_answered(self) -> None:
        for stub in (self.codedeploy, self.lambda_, self.cloudwatch):
            stub.assert_no_pending_responses()

    def alias(self, t: Target, version: str, shifted: float | None = None, to: str = "") -> None:
        answer = {
            "AliasArn": f"arn:aws:lambda:{REGION}:123456789012:function:{t.function_name}:live",
            "Name": "live",
            "FunctionVersion": version,
        }
        if shifted is not None:
            answer["RoutingConfig"] = {"AdditionalVersionWeights": {to: shifted}}
        self.lambda_.add_response(
            "get_alias", answer, {"FunctionName": t.function_name, "Name": "live"}
        )

    def active(self, t: Target, running: dict | None) -> None:
        self.codedeploy.add_response(
            "list_deployments",
            {"deployments": [running["deploymentId"]] if running else []},
            {
                "applicationName": t.application_name,
                "deploymentGroupName": "live",
                "includeOnlyStatuses": canary.ACTIVE_STATUSES,
            },
        )
        if running:
            self.codedeploy.add_response(
                "get_deployment",
                {"deploymentInfo": running},
                {"deploymentId": running["deploymentId"]},
            )

    def history(self, t: Target, succeeded: list[str]) -> None:
        self.codedeploy.add_response(
            "list_deployments",
            {"deployments": succeeded},
            {
                "applicationName": t.application_name,
                "deploymentGroupName": "live",
                "includeOnlyStatuses": ["Succeeded"],
            },
        )

    def create(
        self, t: Target, current: str, version: str, deployment_id: str, config: str = ""
    ) -> None:
        content = json.dumps(
            {
                "Hooks": [{"BeforeAllowTraffic": HOOK}],
                "Resources": [
                    {
                        t.function_name: {
                            "Properties": {
                                "Alias": "live",
                                "CurrentVersion": current,
                                "Name": t.function_name,
                                "TargetVersion": version,
                            },
                            "Type": "AWS::Lambda::Function",
                        }
                    }
                ],
                "version": 0.0,
            },
            sort_keys=True,
        )
        expected = {
            "applicationName": t.application_name,
            "deploymentGroupName": "live",
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {
                    "content": content,
                    "sha256": hashlib.sha256(content.encode()).hexdigest(),
                },
            },
            "description": f"{t.function_name}:live {current} -> {version}",
        }
        if config:
            expected["deploymentConfigName"] = config
        self.codedeploy.add_response("create_deployment", {"deploymentId": deployment_id}, expected)

    def poll(
        self,
        t: Target,
        deployment_id: str,
        status: str,
        hook: str,
        alias: tuple,
        alarms: dict[str, str] | None = None,
        error: dict | None = None,
        rollback: str = "",
    ) -> None:
        """One round of follow(): the deployment, its hook, the alias, the alarms."""
        info = {"deploymentId": deployment_id, "status": status, "computePlatform": "Lambda"}
        if error:
            info["errorInformation"] = error
        if rollback:
            info["rollbackInfo"] = {"rollbackMessage": rollback}
        self.codedeploy.add_response(
            "get_deployment", {"deploymentInfo": info}, {"deploymentId": deployment_id}
        )
        target_id = f"{t.function_name}:live"
        if deployment_id not in self.listed_targets:
            self.listed_targets.add(deployment_id)
            self.codedeploy.add_response(
                "list_deployment_targets",
                {"targetIds": [target_id]},
                {"deploymentId": deployment_id},
            )
        self.codedeploy.add_response(
            "get_deployment_target",
            {
                "deploymentTarget": {
                    "deploymentTargetType": "LambdaTarget",
                    "lambdaTarget": {
                        "deploymentId": deployment_id,
                        "targetId": target_id,
                        "status": "InProgress",
                        "lifecycleEvents": [
                            {"lifecycleEventName": "BeforeAllowTraffic", "status": hook}
                        ],
                    },
                }
            },
            {"deploymentId": deployment_id, "targetId": target_id},
        )
        self.alias(t, *alias)
        states = {name: "OK" for name in t.alarm_names} | (alarms or {})
        self.cloudwatch.add_response(
            "describe_alarms",
            {
                "MetricAlarms": [
                    {"AlarmName": n, "StateValue": s}
                    for n, s in states.items()
                    if not n.endswith("unhealthy")
                ],
                "CompositeAlarms": [
                    {"AlarmName": n, "StateValue": s}
                    for n, s in states.items()
                    if n.endswith("unhealthy")
                ],
            },
            {
                "AlarmNames": list(t.alarm_names),
                "AlarmTypes": ["CompositeAlarm", "MetricAlarm"],
            },
        )


@pytest.fixture
def script():
    with Script() as s:
        yield s
        s.assert_all_answered()


@pytest.fixture
def term():
    clock = Clock()
    return Terminal(out=io.StringIO(), sleep=clock.sleep, now=clock.now, poll_seconds=15)


def printed(term: Terminal) -> list[str]:
    return term.out.getvalue().splitlines()


def test_a_new_version_is_shifted_followed_and_reported_done(script, term):
    script.alias(API, "6")
    script.active(API, None)
    script.create(API, "6", "7", "d-OK")
    script.poll(API, "d-OK", "InProgress", "InProgress", ("6",))
    script.poll(API, "d-OK", "InProgress", "Succeeded", ("6", 0.1, "7"))
    script.poll(API, "d-OK", "InProgress", "Succeeded", ("6", 0.1, "7"))  # unchanged: not printed
    script.poll(API, "d-OK", "InProgress", "Succeeded", ("6", 0.5, "7"))
    script.poll(API, "d-OK", "Succeeded", "Succeeded", ("7",))
    script.alias(API, "7")

    assert canary.deploy_all(script.aws, term, [API]) == canary.EXIT_DONE

    assert printed(term) == [
        "[1/1] orders_api (orders-staging-orders-api): version 6 -> 7 by "
        "CodeDeployDefault.LambdaLinear10PercentEvery1Minute, deployment d-OK",
        "  [orders_api 00:00] InProgress  100 % on version 6  alarms: 2 OK  hook: InProgress",
        "  [orders_api 00:15] InProgress  10 % on version 7, 90 % on 6  alarms: 2 OK  "
        "hook: Succeeded",
        "  [orders_api 00:45] InProgress  50 % on version 7, 50 % on 6  alarms: 2 OK  "
        "hook: Succeeded",
        "  [orders_api 01:00] Succeeded   100 % on version 7  alarms: 2 OK  hook: Succeeded",
        "orders_api: done, live serves version 7",
        "all 1 functions serve their newest version",
    ]


def test_an_alarm_stops_the_deployment_which_rolls_back_and_says_which_alarm(script, term):
    error_rate = "orders-staging-orders-api-error-rate"
    script.alias(API, "6")
    script.active(API, None)
    script.create(API, "6", "7", "d-ALARM")
    script.poll(API, "d-ALARM", "InProgress", "Succeeded", ("6", 0.1, "7"))
    script.poll(
        API,
        "d-ALARM",
        "Stopped",
        "Succeeded",
        ("6",),
        alarms={error_rate: "ALARM", "orders-staging-unhealthy": "ALARM"},
        error={
            "code": "ALARM_ACTIVE",
            "message": "One or more alarms have been activated according to the Amazon "
            f"CloudWatch metrics you selected. Activated alarms: <{error_rate}>",
        },
        rollback="Automatic rollback triggered by alarm",
    )
    script.alias(API, "6")

    assert canary.deploy_all(script.aws, term, [API]) == canary.EXIT_ROLLED_BACK

    lines = printed(term)
    assert lines[-2].startswith(
        "  [orders_api 00:15] Stopped     100 % on version 6  alarms: ALARM "
        f"{error_rate}, orders-staging-unhealthy"
    )
    assert lines[-1].startswith("orders_api: rolled back (ALARM_ACTIVE: One or more alarms")
    assert f"alarm {error_rate}, orders-staging-unhealthy" in lines[-1]
    assert lines[-1].endswith("live serves version 6")


def test_a_failed_hook_rolls_back_before_any_traffic_and_names_the_hook(script, term):
    script.alias(API, "6")
    script.active(API, None)
    script.create(API, "6", "7", "d-HOOK")
    script.poll(
        API,
        "d-HOOK",
        "Failed",
        "Failed",
        ("6",),
        error={
            "code": "HOOK_EXECUTION_FAILURE",
            "message": "lifecycle event BeforeAllowTraffic failed",
        },
    )
    script.alias(API, "6")

    assert canary.deploy_all(script.aws, term, [API]) == canary.EXIT_ROLLED_BACK

    verdict = printed(term)[-1]
    assert verdict.startswith("orders_api: rolled back (HOOK_EXECUTION_FAILURE")
    assert f"pre-traffic hook {HOOK} failed (its log group /aws/lambda/{HOOK}" in verdict
    assert verdict.endswith("live serves version 6")


def test_a_deployment_already_running_is_left_alone_and_nothing_is_started(script, term):
    script.alias(API, "6", 0.1, "7")
    script.active(API, {"deploymentId": "d-RUNNING", "status": "InProgress"})

    assert canary.deploy_all(script.aws, term, [API]) == canary.EXIT_BUSY

    assert printed(term) == [
        "[1/1] orders_api (orders-staging-orders-api): deployment d-RUNNING is already "
        "InProgress; nothing was started. Wait for it, or stop it with "
        "`make rollback ENV=<env> FUNCTION=orders_api`"
    ]


def test_a_function_without_a_new_version_is_not_deployed(script, term):
    script.alias(NOTIFIER, "3")
    script.alias(API, "7")

    assert canary.deploy_all(script.aws, term, [NOTIFIER, API]) == canary.EXIT_DONE

    assert printed(term) == [
        "[1/2] notifier (orders-staging-notifier): live serves version 3, the newest; "
        "nothing to deploy",
        "[2/2] orders_api (orders-staging-orders-api): live serves version 7, the newest; "
        "nothing to deploy",
        "all 2 functions serve their newest version",
    ]


def test_a_consumer_that_rolls_back_stops_its_producers_from_deploying(script, term):
    script.alias(NOTIFIER, "3")  # nothing new
    script.alias(PROCESSOR, "3")
    script.active(PROCESSOR, None)
    script.create(PROCESSOR, "3", "4", "d-PROC")
    script.poll(
        PROCESSOR,
        "d-PROC",
        "Failed",
        "Failed",
        ("3",),
        error={"code": "HOOK_EXECUTION_FAILURE", "message": "hook failed"},
    )
    script.alias(PROCESSOR, "3")
    # Nothing is asked about the API: its new version is never deployed.

    code = canary.deploy_all(script.aws, term, [NOTIFIER, PROCESSOR, API])

    assert code == canary.EXIT_ROLLED_BACK
    assert printed(term)[-1] == "not deployed (they come after it): orders_api"


def test_a_deployment_that_outlives_the_timeout_says_how_to_stop_it(script, term):
    term.timeout_seconds = 10
    script.alias(API, "6")
    script.active(API, None)
    script.create(API, "6", "7", "d-SLOW")
    script.poll(API, "d-SLOW", "InProgress", "Succeeded", ("6", 0.1, "7"))
    script.poll(API, "d-SLOW", "InProgress", "Succeeded", ("6", 0.1, "7"))

    with pytest.raises(TimeoutError, match="make rollback ENV=<env> FUNCTION=orders_api"):
        canary.deploy_all(script.aws, term, [API])


def test_rollback_stops_a_running_deployment_with_rollback(script, term):
    running_spec = canary.appspec(API, "6", "7")
    script.active(
        API,
        {
            "deploymentId": "d-RUNNING",
            "status": "InProgress",
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": running_spec},
            },
        },
    )
    script.codedeploy.add_response(
        "stop_deployment",
        {"status": "Pending", "statusMessage": "stopping"},
        {"deploymentId": "d-RUNNING", "autoRollbackEnabled": True},
    )
    script.poll(API, "d-RUNNING", "Stopped", "Succeeded", ("6",))
    script.alias(API, "6")

    assert canary.rollback(script.aws, term, API, None) == canary.EXIT_DONE

    assert printed(term)[0] == (
        "orders_api: stopping deployment d-RUNNING (InProgress) with rollback"
    )
    assert printed(term)[-1] == "orders_api: deployment Stopped; live serves version 6"


def test_rollback_returns_live_to_the_version_before_the_last_deployment(script, term):
    script.active(API, None)
    script.alias(API, "7")
    script.history(API, ["d-OLD", "d-LAST"])

    def succeeded(deployment_id: str, current: str, version: str, day: int) -> dict:
        return {
            "deploymentId": deployment_id,
            "status": "Succeeded",
            "createTime": datetime(2026, 12, day, tzinfo=UTC),
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": canary.appspec(API, current, version)},
            },
        }

    script.codedeploy.add_response(
        "batch_get_deployments",
        {"deploymentsInfo": [succeeded("d-OLD", "4", "6", 1), succeeded("d-LAST", "6", "7", 2)]},
        {"deploymentIds": ["d-OLD", "d-LAST"]},
    )
    script.create(API, "7", "6", "d-BACK", config=canary.ALL_AT_ONCE)
    script.poll(API, "d-BACK", "Succeeded", "Succeeded", ("6",))
    script.alias(API, "6")

    assert canary.rollback(script.aws, term, API, None) == canary.EXIT_DONE

    assert printed(term)[0] == (
        "orders_api: returning live from version 7 to 6 (all at once, hook first), "
        "deployment d-BACK"
    )
    assert printed(term)[-1] == "orders_api: done, live serves version 6"


def test_rollback_without_history_asks_for_the_version(script, term):
    script.active(API, None)
    script.alias(API, "7")
    script.history(API, [])

    with pytest.raises(canary.CanaryError, match="VERSION=<n>"):
        canary.rollback(script.aws, term, API, None)


def test_deploy_of_prod_needs_its_confirmation(capsys):
    assert canary.main(["deploy", "--env", "prod"]) == canary.EXIT_USAGE
    assert "make deploy ENV=prod CONFIRM=prod" in capsys.readouterr().err


def test_rollback_needs_a_function(capsys):
    assert canary.main(["rollback", "--env", "staging"]) == canary.EXIT_USAGE
    assert "make rollback ENV=staging FUNCTION=<service>" in capsys.readouterr().err
