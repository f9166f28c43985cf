"""The environment's dashboard, as the local stack holds it: valid dashboard JSON, drawn from
the stack's inventory, and every metric a widget names is one the stack emits."""

from __future__ import annotations

import json
import re

import pytest

from tools.release.build import REPO_ROOT, discover_services

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


def emitted_metrics(platform: dict, environment: str) -> set[tuple[str, str, frozenset]]:
    """(namespace, name, dimensions) of every metric the stack's resources and code emit."""

    def each(namespace: str, dimensions: list[dict[str, str]]) -> set:
        return {
            (namespace, metric, frozenset(dims.items()))
            for metric in AWS_METRICS[namespace]
            for dims in dimensions
        }

    functions = platform["function_names"]
    queues = [
        platform[f"{queue}_{kind}_url"].rsplit("/", 1)[1]
        for queue in ("orders", "notifications")
        for kind in ("queue", "dlq")
    ]
    emitted = each("AWS/ApiGateway", [{"ApiId": platform["api_id"], "Stage": "$default"}])
    emitted |= each("AWS/Lambda", [{"FunctionName": f} for f in functions.values()])
    emitted |= each("AWS/SQS", [{"QueueName": q} for q in queues])
    emitted |= each("AWS/DynamoDB", [{"TableName": platform["table_name"]}])
    rule = {"RuleName": platform["outcomes_rule_name"], "EventBusName": platform["event_bus_name"]}
    emitted |= each("AWS/Events", [rule])
    # The functions' own EMF metrics (powertools Metrics): every add_metric in a service, with
    # the environment and the service as dimensions; powertools' ColdStart per function.
    for service in discover_services(REPO_ROOT):
        code = "\n".join(p.read_text() for p in (REPO_ROOT / "services" / service).glob("*.py"))
        service_dims = frozenset({("environment", environment), ("service", service)})
        for name in re.findall(r'add_metric\(name="(\w+)"', code):
            emitted.add(("OrdersPlatform", name, service_dims))
        cold_start_dims = frozenset({("function_name", functions[service]), ("service", service)})
        emitted.add(("OrdersPlatform", "ColdStart", cold_start_dims))
    return emitted


def named_metrics(body: dict) -> list[tuple[str, str, frozenset]]:
    found = []
    for widget in body["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            fields = [f for f in metric if not isinstance(f, dict)]
            namespace, name, *dims = fields
            found.append((namespace, name, frozenset(zip(dims[::2], dims[1::2], strict=True))))
    return found


def test_every_metric_on_the_dashboard_is_one_the_stack_emits(local_stack):
    platform = local_stack.platform
    cloudwatch = local_stack.client("cloudwatch")
    body = json.loads(
        cloudwatch.get_dashboard(DashboardName=platform["dashboard_name"])["DashboardBody"]
    )

    named = named_metrics(body)
    unknown = set(named) - emitted_metrics(platform, "local")
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
