"""Concurrent orders on the same SKUs, through the real API and processor of the local stack.

Every order takes from the same two stock items, more than there is: the stock must end
exactly where the confirmed orders put it (nothing reserved twice, nothing lost), and every
order must end CONFIRMED or REJECTED for stock, none failing into the dead-letter queue.

ministack runs transactions one at a time, so it never cancels one for a conflict: the retry
of a TransactionConflict is proven against DynamoDB's own error shape in
tests/unit/test_adapters.py, and only AWS shows conflicts for real (docs/emulators.md).
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from orders_core.adapters.table import OrdersTable

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

ORDERS = 30
HOT_A_STOCK = 25  # demand is 60: about half the orders must be rejected
HOT_B_STOCK = ORDERS  # every order takes one: only the A shortage rejects


def test_concurrent_orders_on_the_same_skus_never_reserve_twice_and_never_fail(local_stack):
    tag = uuid.uuid4().hex[:8].upper()
    hot_a, hot_b = f"HOT-A-{tag}", f"HOT-B-{tag}"
    local_stack.set_stock(hot_a, HOT_A_STOCK)
    local_stack.set_stock(hot_b, HOT_B_STOCK)
    quantities = [1 + n % 3 for n in range(ORDERS)]

    def place(quantity: int) -> tuple[int, str, int]:
        body = {
            "customer_id": f"cust-hot-{tag}",
            "currency": "EUR",
            "items": [
                {"sku": hot_a, "quantity": quantity, "unit_price": "2.00"},
                {"sku": hot_b, "quantity": 1, "unit_price": "1.00"},
            ],
        }
        answer = local_stack.request("POST", "/orders", body)
        return answer.status, (answer.body or {}).get("order_id", ""), quantity

    with ThreadPoolExecutor(max_workers=10) as pool:
        placed = list(pool.map(place, quantities))
    assert [status for status, _, _ in placed] == [202] * ORDERS, placed

    finals = {order_id: local_stack.wait_for_final(order_id, 120) for _, order_id, _ in placed}
    confirmed = [q for _, order_id, q in placed if finals[order_id]["status"] == "CONFIRMED"]
    rejected = [finals[i] for _, i, _ in placed if finals[i]["status"] == "REJECTED"]
    assert len(confirmed) + len(rejected) == ORDERS
    assert all(r["reason"].startswith(f"insufficient stock: {hot_a}") for r in rejected), rejected

    table = OrdersTable(local_stack.platform["table_name"], local_stack.client("dynamodb"))
    left_a, left_b = table.available(hot_a), table.available(hot_b)
    assert left_a is not None
    assert left_a >= 0
    assert sum(confirmed) + left_a == HOT_A_STOCK  # every unit taken once, none twice
    assert len(confirmed) + left_b == HOT_B_STOCK
    assert rejected, "demand exceeds the stock: some orders must be rejected"
    # A rejected order asked for more than was left when it was processed; at the end at most
    # that much is left, or a smaller order after it would have taken the rest.
    assert left_a < max(quantities)

    sqs = local_stack.client("sqs")
    dead = sqs.receive_message(
        QueueUrl=local_stack.platform["orders_dlq_url"],
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
    ).get("Messages", [])
    ours = {order_id for _, order_id, _ in placed}
    assert not [m for m in dead if json.loads(m["Body"]).get("order_id") in ours]
