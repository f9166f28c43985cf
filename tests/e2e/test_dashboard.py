"""The environment's dashboard, as the local stack holds it: valid dashboard JSON, drawn from
the stack's inventory, and every metric a widget names is one the stack emits: what AWS
publishes for its resources, or an EMF metric its functions logged while serving orders."""

from __future__ import annotations

import json
import time
import uuid

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

# What AWS publishes for the kinds of resources the stack has (namespace -> metric names), from
# each service's CloudWatch documentation; the dimensions are checked against the stack itself.
AWS_METRICS = {
    "AWS/ApiGateway": {"Count", "4xx", "5xx", "Latency", "IntegrationLatency", "DataProcessed"},
    "AWS/Lambda": {
        "Invocations",
        "Errors",
        "Throttles",
        "Duration",
        "ConcurrentExecutions",
        "IteratorAge",
    },
    "AWS/SQS": {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "NumberOfMessagesSent",
        "NumberOfMessagesReceived",
        "NumberOfMessagesDeleted",
    },
    "AWS/DynamoDB": {
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
        "SystemErrors",
        "ThrottledRequests",
    },
    "AWS/Events": {"Invocations", "FailedInvocations", "InvocationsSentToDlq", "TriggeredRules"},
}


def aws_metrics(platform: dict) -> set[tuple[str, str, frozenset]]:
    """(namespace, name, dimensions) of what AWS publishes for the stack's resources."""

    def each(namespace: str, dimensions: list[dict[str, str]]) -> set:
        return {
            (namespace, metric, frozenset(dims.items()))
            for metric in AWS_METRICS[namespace]
            for dims in dimensions
        }

    queues = [
        platform[f"{queue}_{kind}_url"].rsplit("/", 1)[1]
        for queue in ("orders", "notifications")
        for kind in ("queue", "dlq")
    ]
    rule = {"RuleName": platform["outcomes_rule_name"], "EventBusName": platform["event_bus_name"]}
    return (
        each("AWS/ApiGateway", [{"ApiId": platform["api_id"], "Stage": "$default"}])
        | each("AWS/Lambda", [{"FunctionName": f} for f in platform["function_names"].values()])
        | each("AWS/SQS", [{"QueueName": q} for q in queues])
        | each("AWS/DynamoDB", [{"TableName": platform["table_name"]}])
        | each("AWS/Events", [rule])
    )


def emf_metrics_in_the_logs(local_stack) -> set[tuple[str, str, frozenset]]:
    """(namespace, name, dimensions) of every EMF metric the functions logged on the stack."""
    logs = local_stack.client("logs")
    found = set()
    for function in local_stack.platform["function_names"].values():
        paginator = logs.get_paginator("filter_log_events")
        for page in paginator.paginate(logGroupName=f"/aws/lambda/{function}", startTime=0):
            for event in page["events"]:
                try:
                    blob = json.loads(event["message"])
                except ValueError:
                    continue
                if not isinstance(blob, dict) or "_aws" not in blob:
                    continue
                for directive in blob["_aws"]["CloudWatchMetrics"]:
                    for dimension_set in directive["Dimensions"]:
                        dims = frozenset((d, str(blob[d])) for d in dimension_set)
                        for metric in directive["Metrics"]:
                            found.add((directive["Namespace"], metric["Name"], dims))
    return found


@pytest.fixture(scope="module")
def traffic(local_stack):
    """An order confirmed and one rejected, through the API, until both are notified: every
    business metric is then emitted at least once."""
    sku = f"E2E-DASH-{uuid.uuid4().hex[:8]}".upper()
    local_stack.set_stock(sku, 1)
    ids = []
    for quantity in (1, 5):  # the second finds no stock left
        body = {
            "customer_id": "cust-000045",
            "currency": "EUR",
            "items": [{"sku": sku, "quantity": quantity, "unit_price": "2.00"}],
        }
        accepted = local_stack.request("POST", "/orders", body)
        assert accepted.status == 202, accepted
        ids.append(accepted.body["order_id"])
    assert [local_stack.wait_for_final(i)["status"] for i in ids] == ["CONFIRMED", "REJECTED"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        mailed = {i for i in ids for m in local_stack.sent_mail() if i in m["BodyText"]}
        if mailed == set(ids):
            return ids
        time.sleep(0.5)
    raise AssertionError("the orders were not both notified")


def named_metrics(body: dict) -> list[tuple[str, str, frozenset]]:
    found = []
    for widget in body["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            fields = [f for f in metric if not isinstance(f, dict)]
            namespace, name, *dims = fields
            found.append((namespace, name, frozenset(zip(dims[::2], dims[1::2], strict=True))))
    return found


def test_every_metric_on_the_dashboard_is_one_the_stack_emits(local_stack, traffic):
    platform = local_stack.platform
    cloudwatch = local_stack.client("cloudwatch")
    body = json.loads(
        cloudwatch.get_dashboard(DashboardName=platform["dashboard_name"])["DashboardBody"]
    )

    emitted = aws_metrics(platform) | emf_metrics_in_the_logs(local_stack)
    named = named_metrics(body)
    unknown = set(named) - emitted
    assert not unknown, f"widgets name metrics nothing emits: {sorted(map(str, unknown))}"
    # drawn from the inventory: every function, every queue and its DLQ, the business metrics
    drawn = {
        (ns, name, dict(dims).get("FunctionName") or dict(dims).get("QueueName"))
        for ns, name, dims in named
    }
    for function in platform["function_names"].values():
        assert ("AWS/Lambda", "Errors", function) in drawn
    for url_key in ("orders_queue_url", "orders_dlq_url", "notifications_dlq_url"):
        queue = platform[url_key].rsplit("/", 1)[1]
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue) in drawn
    for business in ("OrdersAccepted", "OrdersConfirmed", "OrdersRejected", "NotificationsSent"):
        assert any(ns == "OrdersPlatform" and name == business for ns, name, _ in named)


def test_the_dashboard_body_is_laid_out_as_cloudwatch_takes_it(local_stack):
    body = json.loads(
        local_stack.client("cloudwatch").get_dashboard(
            DashboardName=local_stack.platform["dashboard_name"]
        )["DashboardBody"]
    )
    cells = set()
    for widget in body["widgets"]:
        assert widget["type"] in {"metric", "alarm"}
        assert widget["x"] >= 0
        assert widget["x"] + widget["width"] <= 24  # the grid is 24 wide
        assert widget["properties"]["title"]
        for x in range(widget["x"], widget["x"] + widget["width"]):
            for y in range(widget["y"], widget["y"] + widget["height"]):
                assert (x, y) not in cells, "widgets overlap"
                cells.add((x, y))
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "eu-west-1"
            assert widget["properties"]["metrics"]
