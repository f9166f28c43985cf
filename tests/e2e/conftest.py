"""What several end-to-end tests need of the one local stack."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orders_core.domain import OrderItem, new_order


@dataclass(frozen=True)
class PoisonedDlq:
    poison_id: str
    poison_body: str
    good_order_ids: list[str]
    dead_letter: dict[str, Any]  # the poison message as read from the orders DLQ


@pytest.fixture(scope="session")
def poisoned_orders_dlq(local_stack) -> PoisonedDlq:
    """A poison message sent to the orders queue in one batch with two good orders, once per
    session; returned when the poison is in the orders DLQ (after its 3 receives, ~1 minute
    with the local stack's 6 s timeouts)."""
    sqs = local_stack.client("sqs")
    sku = f"E2E-BATCH-{uuid.uuid4().hex[:10]}".upper()
    local_stack.set_stock(sku, 10)
    good = [str(uuid.uuid4()) for _ in range(2)]
    entries = [
        {
            "Id": f"good{n}",
            "MessageBody": new_order(
                order_id,
                "cust-000044",
                "EUR",
                [OrderItem(sku=sku, quantity=1, unit_price=Decimal("1.00"))],
                datetime.now(UTC),
            ).model_dump_json(),
        }
        for n, order_id in enumerate(good)
    ]
    poison_body = f'{{"not": "an order", "marker": "{uuid.uuid4()}"}}'
    entries.insert(1, {"Id": "poison", "MessageBody": poison_body})
    queue_url = local_stack.platform["orders_queue_url"]
    sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    poison_id = next(s["MessageId"] for s in sent["Successful"] if s["Id"] == "poison")

    dlq_url = local_stack.platform["orders_dlq_url"]
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            VisibilityTimeout=0,  # read, and leave it visible for whoever reads next
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        found = next((m for m in messages if m["Body"] == poison_body), None)
        if found is not None:
            return PoisonedDlq(poison_id, poison_body, good, found)
    raise AssertionError("the poison message never reached the orders DLQ")
