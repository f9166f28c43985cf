"""The per-request figures make capacity plans with (tools/ops/capacity_figures.json) are what
the code does: each kind of request of the load test runs through its real handler against moto,
and every AWS call it makes is counted, with the DynamoDB read and write units it costs (from
the sizes of the items read and written, as DynamoDB bills them). When the code changes its
calls, this fails and prints the new figures to put in the file."""

from __future__ import annotations

import json
import math
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orders_core import wiring
from orders_core.clients import new_client
from orders_core.settings import Settings
from tests.support.events import LambdaContext, customer_jwt, http_api_event
from tests.unit.conftest import lambda_environment, platform  # noqa: F401 - fixtures
from tools.ops import capacity

WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
ORDER_SKUS = {"SKU-A": 2, "SKU-B": 1}  # two lines: the profile's mean (1..3 lines)


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers ~1 byte per
    two digits plus one, lists and maps 3 bytes plus their elements)."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return math.ceil(len(inner.strip("-").replace(".", "")) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    return len(json.dumps(inner))


class Meter:
    """Counts the calls of every client the wiring makes, and the units they cost."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.calls: Counter[str] = Counter()
        self.units: Counter[str] = Counter()
        self._pending: list[tuple[str, dict[str, Any]]] = []

    def make_client(self, service: str) -> Any:
        client = new_client(service)
        client.meta.events.register("before-parameter-build.*.*", self._before)
        client.meta.events.register("after-call.*.*", self._after)
        return client

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1
        self._pending.append((model.name, params))

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        name, params = self._pending.pop()
        if model.service_model.service_name != "dynamodb":
            return
        if name in WRITES:
            item = params.get("Item") or self._stored(params["Key"])
            self._write(item)
        elif name == "TransactWriteItems":
            for action in params["TransactItems"]:
                ((_kind, body),) = action.items()
                item = body.get("Item") or self._stored(body["Key"])
                self._write(item, factor=2)  # transactional writes cost twice
        elif name == "GetItem":
            item = parsed.get("Item") or {}
            consistent = params.get("ConsistentRead", False)
            self.units["table_rru"] += (1 if consistent else 0.5) * max(
                1, math.ceil(item_size(item) / 4096)
            )
        elif name == "Query":
            size = sum(item_size(i) for i in parsed.get("Items", []))
            where = "index_rru" if params.get("IndexName") else "table_rru"
            self.units[where] += 0.5 * max(1, math.ceil(size / 4096))

    def _stored(self, key: dict[str, Any]) -> dict[str, Any]:
        found = self.table.dynamodb.get_item(TableName=self.table.table_name, Key=key)
        return found.get("Item") or key

    def _write(self, item: dict[str, Any], factor: int = 1) -> None:
        units = max(1, math.ceil(item_size(item) / 1024))
        self.units["table_wru"] += factor * units
        if "gsi1pk" in item:  # projected into the by-customer index (ALL attributes)
            self.units["index_wru"] += units

    def take(self) -> dict[str, Any]:
        taken = {"calls": dict(sorted(self.calls.items())), **dict(sorted(self.units.items()))}
        self.calls.clear()
        self.units.clear()
        return taken


@pytest.fixture
def measured(platform) -> dict[str, dict[str, Any]]:  # noqa: F811 - the fixture imported above
    """Every kind of request of the load test, measured once through its handler. (The queues'
    receives and deletes are the event source mapping's, made by the test's own client: they
    are not the functions' calls.)"""
    from notifier.handler import lambda_handler as notify
    from order_processor.handler import lambda_handler as process
    from orders_api.handler import lambda_handler as api

    meter = Meter(platform.table)

    def execution_environment() -> None:
        # Each function runs in environments of its own: one wiring, one idempotency config.
        wiring.install(wiring.Wiring(Settings.from_env(), make_client=meter.make_client))

    execution_environment()
    platform.stock(dict.fromkeys(ORDER_SKUS, 100))
    platform.customer("cust-000001", "success+cust-000001@simulator.amazonses.com")
    body = {
        "customer_id": "cust-000001",
        "currency": "EUR",
        "items": [
            {"sku": sku, "quantity": q, "unit_price": "12.34"} for sku, q in ORDER_SKUS.items()
        ],
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    figures: dict[str, dict[str, Any]] = {}

    def request(kind: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        event = http_api_event(method, path, jwt=customer_jwt("cust-000001"), **kwargs)
        response = api(event, LambdaContext())
        assert response["statusCode"] < 300, response
        figures[kind] = meter.take()
        return json.loads(response["body"])

    order_id = request("POST /orders", "POST", "/orders", body=body, headers=key)["order_id"]
    request("POST /orders (retry)", "POST", "/orders", body=body, headers=key)
    request("GET /orders/{order_id}", "GET", f"/orders/{order_id}")
    # the list after ten orders of the customer: a full page, as a busy customer's
    for _ in range(9):
        api(
            http_api_event("POST", "/orders", body, jwt=customer_jwt("cust-000001")),
            LambdaContext(),
        )
    meter.take()
    request(
        "GET /customers/{customer_id}/orders",
        "GET",
        "/customers/cust-000001/orders",
        query={"limit": "10"},
    )
    platform.sqs.purge_queue(QueueUrl=platform.orders_queue_url)  # one order to process
    platform.send_order_message(_order_message(body))
    meter.take()
    execution_environment()
    assert not platform.deliver(process, platform.orders_queue_url, platform.orders_queue_arn)[
        "batchItemFailures"
    ]
    figures["order"] = meter.take()
    execution_environment()
    assert not platform.deliver(
        notify, platform.notifications_queue_url, platform.notifications_queue_arn
    )["batchItemFailures"]
    figures["notification"] = meter.take()
    return figures


def _order_message(body: dict[str, Any]) -> str:
    from orders_core.domain import OrderItem, new_order

    items = [
        OrderItem(sku=i["sku"], quantity=i["quantity"], unit_price=Decimal(i["unit_price"]))
        for i in body["items"]
    ]
    order = new_order(str(uuid.uuid4()), body["customer_id"], "EUR", items, datetime.now(UTC))
    return order.model_dump_json()


def test_the_figures_file_holds_the_calls_and_units_the_code_makes(measured):
    recorded = {
        kind: {k: v for k, v in entry.items() if k != "function"}
        for kind, entry in capacity.figures()["per_request"].items()
    }
    assert measured == recorded, (
        "the code's AWS calls changed; put these in tools/ops/capacity_figures.json "
        f"(per_request) and re-run make capacity:\n{json.dumps(measured, indent=2)}"
    )


def test_order_and_idempotency_items_fit_in_one_write_unit(measured):
    # A write of up to 1 KB is one unit: the figures assume the load test's orders (1..3 lines)
    # stay below it.
    assert measured["POST /orders"]["table_wru"] == measured["POST /orders"]["calls"].get(
        "dynamodb:PutItem", 0
    ) + measured["POST /orders"]["calls"].get("dynamodb:UpdateItem", 0)
