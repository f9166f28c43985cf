"""make dlq and make redrive on the local stack: orders parked in the orders DLQ (as after an
outage of a dependency, since fixed) are redriven and confirmed once; a malformed message
redriven with them fails again and is back in the DLQ after its receives. Nothing is lost or
duplicated either way. The emulator has no SQS message move task, so this is the receive ->
send -> delete path, chosen by the emulator's own answer."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orders_core.adapters.table import OrdersTable
from orders_core.domain import OrderItem, OrderStatus, new_order
from tools.ops import dead_letters

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def _bodies(sqs: Any, url: str) -> Counter[str]:
    """Every message body in a small queue, read and left visible."""
    seen: dict[str, str] = {}
    for _ in range(5):
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        ).get("Messages", []):
            seen[message["MessageId"]] = message["Body"]
    return Counter(seen.values())


def _depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_parked_orders_are_redriven_once_and_a_malformed_message_returns_to_the_dlq(
    local_stack, capsys, monkeypatch
):
    # The tool reads `make up`'s stack; this session's stack has Terraform data of its own.
    monkeypatch.setattr(dead_letters, "outputs", lambda _env: local_stack.outputs)
    sqs = local_stack.client("sqs")
    platform = local_stack.platform
    dlq_url, queue_url = platform["orders_dlq_url"], platform["orders_queue_url"]
    table = OrdersTable(platform["table_name"], local_stack.client("dynamodb"))
    sku = f"E2E-REDRIVE-{uuid.uuid4().hex[:8]}".upper()
    local_stack.set_stock(sku, 20)

    # Accepted by the API (PENDING recorded), then failed three times while a dependency was
    # down: what SQS leaves in the DLQ.
    orders = [
        new_order(
            str(uuid.uuid4()),
            "cust-000045",
            "EUR",
            [OrderItem(sku=sku, quantity=quantity, unit_price=Decimal("2.00"))],
            datetime.now(UTC),
        )
        for quantity in (1, 2, 3)
    ]
    malformed_id = str(uuid.uuid4())
    malformed = json.dumps({"order_id": malformed_id, "note": "not an order"})
    already_there = _bodies(sqs, dlq_url)  # e.g. another test's poison message
    assert not any(o.order_id in body for o in orders for body in already_there)
    for order in orders:
        table.add_pending(order)
        sqs.send_message(QueueUrl=dlq_url, MessageBody=order.model_dump_json())
    sqs.send_message(QueueUrl=dlq_url, MessageBody=malformed)
    parked = sum(already_there.values()) + len(orders) + 1

    # make dlq: every parked order is listed, nothing is taken away
    assert dead_letters.main(["list", "--env", "local"]) == 0
    listing = capsys.readouterr().out
    assert "orders DLQ orders-local-orders-dlq (source orders-local-orders" in listing
    assert all(f"order {o.order_id}" in listing for o in orders), listing
    assert _depth(sqs, dlq_url) == parked

    # make redrive ENV=local QUEUE=orders
    assert dead_letters.main(["redrive", "--env", "local", "--queue", "orders"]) == 0
    said = capsys.readouterr().out
    assert "no SQS message move task (InvalidAction)" in said, said
    assert f"moved {parked} from orders-local-orders-dlq to orders-local-orders" in said, said
    assert _depth(sqs, dlq_url) == 0, "the DLQ is not empty right after the redrive"

    for order in orders:
        final = local_stack.wait_for_final(order.order_id)
        assert final["status"] == OrderStatus.CONFIRMED, final
    assert table.available(sku) == 20 - 6, "stock was not taken exactly once"

    # The malformed message (and whatever poison was there before) fails again and is back
    # after the source queue's 3 receives: 3 visibility timeouts of 36 s locally.
    expected = already_there + Counter({malformed: 1})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        back = _bodies(sqs, dlq_url)
        if back == expected or sum(back.values()) > sum(expected.values()):
            break
        time.sleep(5)
    assert back == expected, f"after the redrive the DLQ holds {back}, expected {expected}"
    assert _depth(sqs, queue_url) == 0, "copies were left on the orders queue"
    assert table.available(sku) == 20 - 6, "a redelivery took stock again"

    # ... and make dlq says why, from the processor's log
    assert dead_letters.main(["list", "--env", "local"]) == 0
    listing = capsys.readouterr().out
    entry = listing[listing.index(f"order {malformed_id}") :]
    assert entry.splitlines()[1].strip().startswith("failed: malformed order message"), listing
