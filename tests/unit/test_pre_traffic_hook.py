"""pre_traffic_hook through its Lambda entry point.

CodeDeploy is botocore's Stubber on a real client (moto has no
PutLifecycleEventHookExecutionStatus): the deployment's AppSpec comes from GetDeployment and
the verdict must be sent with exactly these parameters. moto runs no function code without
Docker, so the versions under test are the real handlers, run in this process against moto's
table and queues: a real Lambda client's Invoke is answered in Invoke's shape (StatusCode,
FunctionError, a Payload stream) by running the version's handler, so the hook's calls are
recorded for tools/iam as they are made on AWS; LambdaVersionInvoker's reading of that shape
is also checked on a stubbed real Lambda client.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from botocore.stub import Stubber

from notifier.handler import lambda_handler as notifier_handler
from order_processor.handler import lambda_handler as processor_handler
from orders_api.handler import lambda_handler as api_handler
from orders_core import wiring
from orders_core.adapters.deploys import CodeDeployHooks, LambdaVersionInvoker
from orders_core.adapters.table import OrdersTable
from orders_core.entrypoint import WrongEventSource
from orders_core.ports import Unavailable
from pre_traffic_hook.handler import lambda_handler as hook
from tests.support.events import LambdaContext

# Named as the stack names them, <prefix>-<environment>-<service> (terraform/stack): tools/iam
# moves the hook's calls onto the deployment's functions and groups by that prefix.
HOOK = "orders-test-pre-traffic-hook"
API = "orders-test-orders-api"
PROCESSOR = "orders-test-order-processor"
NOTIFIER = "orders-test-notifier"
SMOKE_CHECKS = {API: "http_api", PROCESSOR: "sqs_consumer", NOTIFIER: "sqs_consumer"}
DEPLOYMENT = "d-ABCDEF123"
EXECUTION = "execution-1"
HOOK_EVENT = {"DeploymentId": DEPLOYMENT, "LifecycleEventHookExecutionId": EXECUTION}


def appspec(function: str, current: str, target: str) -> str:
    return json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    function: {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Name": function,
                            "Alias": "live",
                            "CurrentVersion": current,
                            "TargetVersion": target,
                        },
                    }
                }
            ],
            "Hooks": [{"BeforeAllowTraffic": HOOK}],
        }
    )


class InProcessLambda:
    """A real Lambda client whose Invoke of one version is answered here, in Invoke's shape,
    by running that version's handler (so the hook's calls go through botocore, as on AWS)."""

    def __init__(self, versions: dict[tuple[str, str], Callable[[dict, Any], Any]]) -> None:
        self.versions = versions
        self.calls: list[tuple[str, str, dict]] = []
        self.client = boto3.client("lambda", region_name="eu-west-1")
        self.client.meta.events.register("before-parameter-build.lambda.Invoke", self._request)
        self.client.meta.events.register("before-call.lambda.Invoke", self._answer)

    def _request(self, params: dict, context: dict, **_: Any) -> None:
        context["invoked"] = dict(params)

    def _answer(self, context: dict, **_: Any) -> tuple[AWSResponse, dict]:
        request = context["invoked"]
        assert request["InvocationType"] == "RequestResponse"
        function, version = request["FunctionName"], request["Qualifier"]
        event = json.loads(request["Payload"])
        self.calls.append((function, version, event))
        try:
            body, error = self.versions[(function, version)](event, LambdaContext()), None
        except Exception as failure:
            body = {"errorMessage": str(failure), "errorType": type(failure).__name__}
            error = "Unhandled"
        data = json.dumps(body).encode()
        answer = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(data), len(data))}
        return AWSResponse(None, 200, {}, None), answer | (
            {"FunctionError": error} if error else {}
        )


@pytest.fixture
def codedeploy():
    client = boto3.client("codedeploy", region_name="eu-west-1")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def expect_deployment(stub: Stubber, function: str, target: str = "7") -> None:
    content = appspec(function, "6", target)
    stub.add_response(
        "get_deployment",
        {
            "deploymentInfo": {
                "deploymentId": DEPLOYMENT,
                "applicationName": function,
                "deploymentGroupName": "live",
                "computePlatform": "Lambda",
                "status": "InProgress",
                "revision": {
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": content},
                },
            }
        },
        {"deploymentId": DEPLOYMENT},
    )


def expect_verdict(stub: Stubber, status: str) -> None:
    stub.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": EXECUTION},
        {"deploymentId": DEPLOYMENT, "lifecycleEventHookExecutionId": EXECUTION, "status": status},
    )


@pytest.fixture
def hook_wiring(platform, codedeploy, monkeypatch):
    """The hook's wiring: stubbed CodeDeploy, versions run in process; returns a setter."""
    monkeypatch.setenv("SMOKE_CHECKS", json.dumps(SMOKE_CHECKS))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", HOOK)
    wiring.install(None)
    client, stub = codedeploy

    def versions(found: dict[tuple[str, str], Callable]) -> tuple[Stubber, InProcessLambda]:
        lam = InProcessLambda(found)
        current = wiring.current()
        current.deploy_hooks = CodeDeployHooks(client)
        current.invoker = LambdaVersionInvoker(lam.client)
        return stub, lam

    return versions


def stored_items(platform) -> list[dict]:
    return platform.table.dynamodb.scan(TableName=platform.table.table_name)["Items"]


def test_a_healthy_api_version_passes_its_checks_and_the_hook_reports_succeeded(
    hook_wiring, platform
):
    stub, lam = hook_wiring({(API, "7"): api_handler})
    expect_deployment(stub, API, target="7")
    expect_verdict(stub, "Succeeded")

    summary = hook(HOOK_EVENT, LambdaContext())

    assert summary["status"] == "Succeeded", summary
    assert summary["checks"] == {
        "GET /health": "ok",
        "POST /orders (invalid)": "ok",
        "GET /orders/{missing}": "ok",
    }
    assert [
        (f, v, e["requestContext"]["http"]["method"], e["rawPath"]) for f, v, e in lam.calls
    ] == [
        (API, "7", "GET", "/health"),
        (API, "7", "POST", "/orders"),
        (API, "7", "GET", "/orders/00000000-0000-0000-0000-000000000000"),
    ]
    # It never creates an order: nothing in the table, nothing on the orders queue.
    assert stored_items(platform) == []
    assert platform.queue_depth(platform.orders_queue_url) == 0


def test_an_api_version_answering_5xx_makes_the_hook_report_failed(
    hook_wiring, platform, monkeypatch
):
    def table_down(self, order_id):
        raise Unavailable("the new version cannot read its table (injected)")

    monkeypatch.setattr(OrdersTable, "get_order", table_down)
    stub, _ = hook_wiring({(API, "8"): api_handler})
    expect_deployment(stub, API, target="8")
    expect_verdict(stub, "Failed")

    summary = hook(HOOK_EVENT, LambdaContext())

    assert summary["status"] == "Failed"
    assert summary["checks"]["GET /health"] == "ok"
    assert summary["checks"]["GET /orders/{missing}"].startswith("answered 503 (expected 404)")


def test_a_version_that_raises_makes_the_hook_report_failed(hook_wiring):
    def broken(event, context):
        raise ImportError("No module named 'orders_core.new_thing'")

    stub, _ = hook_wiring({(API, "9"): broken})
    expect_deployment(stub, API, target="9")
    expect_verdict(stub, "Failed")

    summary = hook(HOOK_EVENT, LambdaContext())

    assert summary["status"] == "Failed"
    assert "raised (Unhandled)" in summary["checks"]["GET /health"]
    assert "orders_core.new_thing" in summary["checks"]["GET /health"]


@pytest.mark.parametrize(
    ("function", "handler"), [(PROCESSOR, processor_handler), (NOTIFIER, notifier_handler)]
)
def test_a_healthy_consumer_version_reports_the_non_order_record_failed_and_passes(
    hook_wiring, platform, function, handler
):
    stub, _ = hook_wiring({(function, "3"): handler})
    expect_deployment(stub, function, target="3")
    expect_verdict(stub, "Succeeded")

    summary = hook(HOOK_EVENT, LambdaContext())

    assert summary == summary | {"status": "Succeeded", "function": function, "version": "3"}
    assert summary["checks"] == {"SQS batch of one non-order": "ok"}
    assert stored_items(platform) == []


def test_a_consumer_version_that_swallows_the_bad_record_fails(hook_wiring):
    stub, _ = hook_wiring({(PROCESSOR, "4"): lambda _event, _context: {"batchItemFailures": []}})
    expect_deployment(stub, PROCESSOR, target="4")
    expect_verdict(stub, "Failed")

    summary = hook(HOOK_EVENT, LambdaContext())

    assert summary["status"] == "Failed"
    assert "expected" in summary["checks"]["SQS batch of one non-order"]


def test_a_function_without_smoke_checks_is_failed_by_name(hook_wiring, monkeypatch):
    # A function of the stack (the hook may read its deployment) left out of SMOKE_CHECKS.
    monkeypatch.setenv("SMOKE_CHECKS", json.dumps({API: "http_api", PROCESSOR: "sqs_consumer"}))
    wiring.install(None)
    stub, lam = hook_wiring({})
    expect_deployment(stub, NOTIFIER)
    expect_verdict(stub, "Failed")

    summary = hook(HOOK_EVENT, LambdaContext())

    assert summary["status"] == "Failed"
    assert f"no smoke checks are configured for {NOTIFIER}" in summary["error"]
    assert lam.calls == []


def test_a_deployment_that_cannot_be_read_is_still_answered_failed(hook_wiring):
    stub, _ = hook_wiring({})
    stub.add_client_error("get_deployment", "DeploymentDoesNotExistException", "no such deployment")
    expect_verdict(stub, "Failed")

    summary = hook(HOOK_EVENT, LambdaContext())

    assert summary["status"] == "Failed"
    assert "DeploymentDoesNotExistException" in summary["error"]


def test_the_hook_refuses_an_event_that_is_not_a_lifecycle_hook():
    with pytest.raises(WrongEventSource, match="CodeDeploy lifecycle hook"):
        hook({"Records": []}, LambdaContext())


def test_the_version_invoker_reads_invokes_answer_and_error_shapes():
    client = boto3.client("lambda", region_name="eu-west-1")
    invoker = LambdaVersionInvoker(client)
    event = {"version": "2.0"}

    def payload(data: dict) -> StreamingBody:
        raw = json.dumps(data).encode()
        return StreamingBody(io.BytesIO(raw), len(raw))

    expected = {
        "FunctionName": API,
        "Qualifier": "7",
        "InvocationType": "RequestResponse",
        "Payload": json.dumps(event).encode(),
    }
    with Stubber(client) as stub:
        stub.add_response(
            "invoke", {"StatusCode": 200, "Payload": payload({"statusCode": 200})}, expected
        )
        stub.add_response(
            "invoke",
            {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": payload({"errorMessage": "boom"}),
            },
            expected,
        )
        stub.add_client_error(
            "invoke", "ResourceNotFoundException", "no version 7", expected_params=expected
        )
        assert invoker.invoke(API, "7", event).payload == {"statusCode": 200}
        failed = invoker.invoke(API, "7", event)
        assert (failed.function_error, failed.payload) == ("Unhandled", {"errorMessage": "boom"})
        with pytest.raises(Unavailable, match="could not invoke orders-test-orders-api:7"):
            invoker.invoke(API, "7", event)
