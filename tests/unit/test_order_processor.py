"""order_processor through its Lambda entry point: SQS batches in moto, events via a rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from order_processor.handler import lambda_handler as process
from orders_core.adapters.table import OrdersTable
from orders_core.domain import Order, OrderItem, OrderStatus, confirm, new_order
from orders_core.ports import Unavailable
from tests.support.events import LambdaContext


def accepted(n: int, **quantities: int) -> Order:
    items = [
        OrderItem(sku=sku.replace("_", "-"), quantity=q, unit_price=Decimal("3.00"))
        for sku, q in quantities.items()
    ]
    return new_order(
        f"10000000-0000-4000-8000-{n:012d}", "c-7", "EUR", items, datetime(2026, 6, 1, tzinfo=UTC)
    )


@pytest.fixture
def stocked(platform):
    platform.stock({"SKU-A": 10, "SKU-B": 1})
    return platform


def send(platform, *orders: Order) -> dict[str, str]:
    """Message id per order id."""
    return {o.order_id: platform.send_order_message(o.model_dump_json()) for o in orders}


def deliver(platform) -> dict:
    return platform.deliver(process, platform.orders_queue_url, platform.orders_queue_arn)


def test_a_mixed_batch_fails_exactly_the_malformed_and_the_failing_records(stocked, monkeypatch):
    good, short, flaky = accepted(1, SKU_A=2), accepted(2, SKU_B=5), accepted(3, SKU_A=1)
    ids = send(stocked, good, short)
    malformed_id = stocked.send_order_message('{"order_id": "not an order"}')
    ids |= send(stocked, flaky)

    real = OrdersTable.confirm_reserving_stock

    def flaky_table(self, confirmed, reserve):
        if confirmed.order_id == flaky.order_id:
            raise Unavailable("throttled (injected)")
        return real(self, confirmed, reserve)

    monkeypatch.setattr(OrdersTable, "confirm_reserving_stock", flaky_table)
    response = deliver(stocked)

    assert response["received"] == 4
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        [malformed_id, ids[flaky.order_id]]
    )
    table = stocked.table
    assert table.get_order(good.order_id).status is OrderStatus.CONFIRMED
    rejected = table.get_order(short.order_id)
    assert rejected.status is OrderStatus.REJECTED
    assert rejected.reason == "insufficient stock: SKU-B (requested 5, available 1)"
    assert table.get_order(flaky.order_id) is None
    assert table.available("SKU-A") == 8
    assert table.available("SKU-B") == 1

    events = stocked.published_events()
    assert sorted((e["detail-type"], e["detail"]["order_id"]) for e in events) == sorted(
        [("OrderConfirmed", good.order_id), ("OrderRejected", short.order_id)]
    )
    assert {e["source"] for e in events} == {"orders"}


def _throttled(*_):
    raise Unavailable("throttled (injected)")


def test_a_record_that_failed_transiently_succeeds_when_retried(stocked, monkeypatch):
    order = accepted(4, SKU_A=1)
    send(stocked, order)
    with monkeypatch.context() as patch:
        patch.setattr(OrdersTable, "confirm_reserving_stock", _throttled)
        assert len(deliver(stocked)["batchItemFailures"]) == 1
    assert deliver(stocked)["batchItemFailures"] == []
    assert stocked.table.get_order(order.order_id).status is OrderStatus.CONFIRMED


def test_a_duplicate_delivery_changes_nothing_and_publishes_nothing(stocked):
    order = accepted(5, SKU_A=3)
    send(stocked, order)
    deliver(stocked)
    send(stocked, order)
    response = deliver(stocked)
    assert (response["received"], response["batchItemFailures"]) == (1, [])
    assert stocked.table.available("SKU-A") == 7
    assert len(stocked.published_events()) == 1


def test_a_poison_message_lands_in_the_dlq_after_three_receives(stocked):
    poison = stocked.send_order_message("this is not json")
    good = accepted(6, SKU_A=1)
    send(stocked, good)
    for _ in range(3):
        response = deliver(stocked)
        assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [poison]
    assert deliver(stocked)["received"] == 0
    dlq = stocked.sqs.receive_message(QueueUrl=stocked.orders_dlq_url, WaitTimeSeconds=0)
    assert [m["MessageId"] for m in dlq["Messages"]] == [poison]
    assert stocked.table.get_order(good.order_id).status is OrderStatus.CONFIRMED


def test_a_malformed_message_is_logged_with_its_message_id(stocked, log_lines):
    malformed = stocked.send_order_message(json.dumps({"order_id": 42}))
    deliver(stocked)
    [error] = [line for line in log_lines() if line.get("message") == "malformed order message"]
    assert error["level"] == "ERROR"
    assert error["message_id"] == malformed
    assert error["correlation_id"] == malformed
    assert error["errors"]


def test_a_batch_logs_a_summary_line_and_emits_outcome_metrics(stocked, log_lines, capsys):
    send(stocked, accepted(7, SKU_A=1), accepted(8, SKU_B=9))
    deliver(stocked)
    [summary] = [line for line in log_lines() if line.get("message") == "batch processed"]
    assert (summary["records"], summary["failed"]) == (2, 0)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf[-1]["OrdersConfirmed"] == [1.0]
    assert emf[-1]["OrdersRejected"] == [1.0]
    assert emf[-1]["BatchItemFailures"] == [0.0]


@pytest.mark.parametrize(
    "breaks",
    [
        # what the API would have refused with a 422, had it come through the API
        {"currency": "JPY"},  # 3.00 has more decimal places than JPY allows
        {"total": "1.00"},  # does not add up
        {"items": []},
    ],
)
def test_a_message_the_domain_refuses_goes_to_its_dlq_and_reserves_nothing(stocked, breaks):
    message = {**accepted(9, SKU_A=1).model_dump(mode="json"), **breaks}
    failed = stocked.send_order_message(json.dumps(message))
    response = deliver(stocked)
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [failed]
    assert stocked.table.available("SKU-A") == 10


def test_a_message_of_an_order_already_final_is_refused(stocked):
    final = confirm(accepted(10, SKU_A=1), datetime(2026, 6, 1, tzinfo=UTC))
    failed = stocked.send_order_message(final.model_dump_json())
    assert [f["itemIdentifier"] for f in deliver(stocked)["batchItemFailures"]] == [failed]
    assert stocked.table.available("SKU-A") == 10


def test_an_entire_batch_failing_is_still_reported_record_by_record(stocked):
    ids = [stocked.send_order_message("nope") for _ in range(2)]
    response = process(stocked.orders_event(), LambdaContext())
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(ids)
