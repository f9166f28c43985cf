"""The AWS calls, DynamoDB capacity units, log bytes and metrics of one order, measured through
the real handlers on moto: the figures `make cost` multiplies (tools/cost/data/measured.json).

A botocore hook on every client the functions' wiring makes records each call. DynamoDB's
capacity units are worked out from the size of every item read or written, by DynamoDB's
documented rules (moto reports a constant). The order is the load test's mean: two distinct
SKUs (loadtest/processor.cjs picks 1-3). `make cost-measure` rewrites the file; this test fails
while the file is stale, so a change to the functions' AWS usage changes the cost model too.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.logging import logger as powertools_logger
from aws_lambda_powertools.metrics import base as powertools_metrics
from aws_lambda_powertools.metrics.provider import cold_start as powertools_cold_start
from aws_lambda_powertools.tracing import tracer as powertools_tracer

from notifier.handler import lambda_handler as notify
from order_processor.handler import lambda_handler as process
from orders_api import handler as api
from orders_core import wiring
from orders_core.adapters.table import CUSTOMER_INDEX
from orders_core.clients import new_client
from orders_core.domain import OrderItem, new_order
from orders_core.observability import logger
from orders_core.settings import Settings
from tests.support.events import LambdaContext, customer_jwt, http_api_event
from tests.unit.conftest import REGION, TABLE
from tools.cost.measured import MEASURED_FILE, item_size

CUSTOMER = "cust-000007"
ORDER = {
    "customer_id": CUSTOMER,
    "currency": "EUR",
    "items": [
        {"sku": "LOAD-0001", "quantity": 2, "unit_price": "12.50"},
        {"sku": "LOAD-0002", "quantity": 1, "unit_price": "4.20"},
    ],
}
LIST_LIMIT = 10  # loadtest/artillery.yml lists with ?limit=10
INDEX_KEYS = ("gsi1pk", "gsi1sk")
WRITE_UNIT, READ_UNIT = 1024, 4096


class Meter:
    """Every AWS call of the wiring's clients, with DynamoDB capacity units."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.wru = 0.0
        self.rru = 0.0
        self.reader = boto3.client("dynamodb", region_name=REGION)  # not metered

    def client(self, service: str) -> Any:
        client = new_client(service)
        client.meta.events.register("before-parameter-build.*.*", self._params)
        client.meta.events.register("after-call.*.*", self._record)
        return client

    @staticmethod
    def _params(params: dict, context: dict, **_: Any) -> None:
        context["metered_params"] = params

    def _record(self, parsed: dict, model: Any, context: dict, event_name: str, **_: Any) -> None:
        service = event_name.split(".")[1]
        self.calls[f"{service}.{model.name}"] += 1
        if service == "dynamodb":
            self._capacity(model.name, context.get("metered_params", {}), parsed)

    def _stored(self, key: dict) -> dict:
        return self.reader.get_item(TableName=TABLE, Key=key).get("Item") or key

    def _write(self, item: dict, factor: float) -> None:
        units = math.ceil(item_size(item) / WRITE_UNIT)
        self.wru += factor * units
        if all(k in item for k in INDEX_KEYS):  # the by-customer index (ALL) is written too
            self.wru += units

    def _capacity(self, operation: str, params: dict, parsed: dict) -> None:
        if operation == "PutItem":
            self._write(params["Item"], 1)
        elif operation == "UpdateItem":
            self._write(self._stored(params["Key"]), 1)
        elif operation == "TransactWriteItems":
            for action in params["TransactItems"]:
                if "Put" in action:
                    self._write(action["Put"]["Item"], 2)
                else:
                    kind = next(iter(action))
                    self._write(self._stored(action[kind]["Key"]), 2)
        elif operation == "GetItem":
            size = item_size(parsed.get("Item") or {})
            factor = 1 if params.get("ConsistentRead") else 0.5
            self.rru += factor * max(1, math.ceil(size / READ_UNIT))
        elif operation == "Query":
            size = sum(item_size(item) for item in parsed.get("Items", []))
            self.rru += 0.5 * max(1, math.ceil(size / READ_UNIT))
        else:
            raise AssertionError(f"no capacity rule for DynamoDB {operation}: add one")


COLD_START_FLAGS = (powertools_cold_start, powertools_metrics, powertools_logger, powertools_tracer)


@pytest.fixture
def metered(platform, monkeypatch) -> Callable[[str, Callable[[], Any]], dict]:
    """measure(kind, invoke): the calls, capacity units, log bytes and metrics of one
    invocation, as a measured.json entry."""
    meter = Meter()
    metrics: set[str] = set()
    # One wiring per function, as each runs in execution environments of its own.
    wirings: dict[str, wiring.Wiring] = {}

    def measure(function: str, invoke: Callable[[], Any]) -> dict:
        # Powertools keeps "cold" in process-wide flags that any earlier test in this worker
        # may have cleared: each function's first invocation here is its environment's first.
        cold = function not in wirings
        for module in COLD_START_FLAGS:
            monkeypatch.setattr(module, "is_cold_start", cold)
        wiring.install(
            wirings.setdefault(function, wiring.Wiring(Settings.from_env(), meter.client))
        )
        meter.calls.clear()
        meter.wru = meter.rru = 0.0
        out = io.StringIO()
        previous = logger.registered_handler.setStream(out)
        try:
            with contextlib.redirect_stdout(out):  # powertools prints EMF metrics to stdout
                invoke()
        finally:
            logger.registered_handler.setStream(previous)
        lines = out.getvalue().splitlines()
        per_invocation = []
        for line in lines:
            document = json.loads(line)
            names = set()
            for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
                names.update(m["Name"] for m in directive["Metrics"])
                for dimensions in directive["Dimensions"]:
                    labels = ",".join(dimensions)
                    metrics.update(
                        f"{directive['Namespace']}/{m['Name']}[{labels}]"
                        for m in directive["Metrics"]
                    )
            if names != {"ColdStart"}:  # paid once per execution environment, not per order
                per_invocation.append(line)
        return {
            "function": function,
            "calls": dict(sorted(meter.calls.items())),
            "dynamodb_write_units": meter.wru,
            "dynamodb_read_units": meter.rru,
            "log_bytes": sum(len(line.encode()) + 1 for line in per_invocation),
        }

    measure.metrics = metrics  # type: ignore[attr-defined]
    return measure


def _api(method: str, path: str, body: Any = None, **kwargs: Any) -> dict:
    kwargs.setdefault("jwt", customer_jwt(CUSTOMER))
    response = api.lambda_handler(http_api_event(method, path, body, **kwargs), LambdaContext())
    assert response["statusCode"] < 300, response
    return json.loads(response["body"])


def _take(platform, url: str, arn: str) -> list[dict]:
    """The queue's messages as the records of one SQS event, deleted from the queue (what the
    event source mapping does once a batch succeeded)."""
    records = platform.receive_event(url, arn)["Records"]
    for record in records:
        platform.sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
    return records


def measure_one_order(platform, measure) -> dict[str, Any]:
    """One order's life, request kind by request kind, as the load test's clients make it."""
    platform.stock({"LOAD-0001": 100, "LOAD-0002": 100})
    platform.customer(CUSTOMER, f"{CUSTOMER}@example.com")
    # The customer's earlier orders fill the page a list reads.
    for n in range(LIST_LIMIT):
        platform.table.add_pending(
            new_order(
                f"30000000-0000-4000-8000-{n:012d}",
                CUSTOMER,
                "EUR",
                [OrderItem(sku="LOAD-0001", quantity=1, unit_price=Decimal("12.50"))],
                datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n),
            )
        )
    key = {"Idempotency-Key": "6f1d2b1e-4c7a-4e0b-9f55-0a4f6b1d3c21"}
    requests: dict[str, Any] = {}
    accepted: dict[str, Any] = {}

    def post() -> None:
        accepted.update(_api("POST", "/orders", ORDER, headers=key))

    requests["post_new"] = measure("orders_api", post)
    requests["post_replay"] = measure("orders_api", post)
    order_id = accepted["order_id"]
    [message] = _take(platform, platform.orders_queue_url, platform.orders_queue_arn)

    def process_batch() -> None:
        assert process({"Records": [message]}, LambdaContext())["batchItemFailures"] == []

    requests["process"] = measure("order_processor", process_batch)
    [event] = _take(platform, platform.notifications_queue_url, platform.notifications_queue_arn)

    def notify_batch() -> None:
        assert notify({"Records": [event]}, LambdaContext())["batchItemFailures"] == []

    requests["notify"] = measure("notifier", notify_batch)
    # An order the stock cannot cover: rejected, which records the reason and a metric of its own.
    short = new_order(
        "40000000-0000-4000-8000-000000000001",
        CUSTOMER,
        "EUR",
        [OrderItem(sku="LOAD-0001", quantity=1000, unit_price=Decimal("12.50"))],
        datetime(2026, 11, 2, tzinfo=UTC),
    )
    platform.send_order_message(short.model_dump_json())
    [rejected] = _take(platform, platform.orders_queue_url, platform.orders_queue_arn)

    def reject_batch() -> None:
        assert process({"Records": [rejected]}, LambdaContext())["batchItemFailures"] == []

    requests["process_rejected"] = measure("order_processor", reject_batch)
    requests["get_order"] = measure("orders_api", lambda: _api("GET", f"/orders/{order_id}"))
    requests["list_orders"] = measure(
        "orders_api",
        lambda: _api("GET", f"/customers/{CUSTOMER}/orders", query={"limit": str(LIST_LIMIT)}),
    )
    table = boto3.client("dynamodb", region_name=REGION)

    def stored(pk: str, sk: str) -> int:
        return item_size(
            table.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
        )

    idempotency = [
        item for item in table.scan(TableName=TABLE)["Items"] if item["sk"]["S"] == "IDEMPOTENCY"
    ]
    sizes = {
        "order_message": len(message["body"].encode()),
        "order_event": len(event["body"].encode()),
        "order_item": stored(f"ORDER#{order_id}", "ORDER"),
        "notification_item": stored(f"ORDER#{order_id}", "NOTIFICATION"),
        # by the function that keeps them: pk is <function>.<service>.handler.<fn>#<hash>
        "idempotency_items": {
            item["pk"]["S"].split(".")[1]: item_size(item) for item in idempotency
        },
    }
    assert CUSTOMER_INDEX == "by-customer"
    return {
        "measured_by": "tests/unit/test_calls_per_order.py (make cost-measure)",
        "order": "2 distinct SKUs, the load test's mean (loadtest/processor.cjs picks 1-3)",
        "list_page": LIST_LIMIT,
        "requests": requests,
        "bytes": sizes,
        "custom_metrics": sorted(measure.metrics),
    }


def test_the_measured_calls_per_order_are_what_the_functions_do(platform, metered):
    measured = measure_one_order(platform, metered)
    text = json.dumps(measured, indent=2, sort_keys=True) + "\n"
    if os.environ.get("COST_MEASURE_WRITE") == "1":
        MEASURED_FILE.write_text(text)
    assert MEASURED_FILE.exists(), "run `make cost-measure` to write tools/cost/data/measured.json"
    assert json.loads(MEASURED_FILE.read_text()) == json.loads(text), (
        "the functions' AWS usage changed: run `make cost-measure` and commit "
        "tools/cost/data/measured.json"
    )


def test_an_order_makes_the_calls_its_workflows_name(platform, metered):
    """The meter sees what the code does (a check of the meter itself, by the access patterns
    in shared/README.md)."""
    requests = measure_one_order(platform, metered)["requests"]
    assert requests["post_new"]["calls"]["sqs.SendMessage"] == 1
    assert requests["post_replay"]["calls"].get("sqs.SendMessage", 0) == 0
    assert requests["process"]["calls"]["dynamodb.TransactWriteItems"] == 1
    assert requests["process"]["calls"]["eventbridge.PutEvents"] == 1
    assert requests["notify"]["calls"]["sesv2.SendEmail"] == 1
    assert requests["get_order"]["calls"] == {"dynamodb.GetItem": 1}
    assert requests["list_orders"]["calls"] == {"dynamodb.Query": 1}
    # a transaction of the order and two SKUs, each under 1 KB: 2 units per item, plus the index
    assert requests["process"]["dynamodb_write_units"] >= 2 * 3 + 1


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"pk": {"S": "ORDER#1"}}, 2 + 7),
        ({"n": {"N": "12.50"}}, 1 + 3),  # 3 significant digits: 2 bytes + 1
        ({"flag": {"BOOL": True}, "none": {"NULL": True}}, 4 + 1 + 4 + 1),
        ({"m": {"M": {"a": {"S": "xy"}}}}, 1 + 3 + 1 + 2 + 1),
        ({"l": {"L": [{"S": "ab"}, {"N": "7"}]}}, 1 + 3 + (2 + 1) + (2 + 1)),
    ],
)
def test_item_sizes_follow_dynamodb_s_rules(item, size):
    assert item_size(item) == size
