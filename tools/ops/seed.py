"""Stock and customer profiles in an environment's orders table, in the adapter's own layout
(orders_core.adapters.table: `stock_item`, `customer_item`), 25 items a call."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from orders_core.adapters.table import customer_item, stock_item

BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem call


def put_items(dynamodb: Any, table: str, items: Iterable[Mapping[str, Any]]) -> int:
    """Write every item; what DynamoDB leaves unprocessed is written again after a pause."""
    items = list(items)
    for start in range(0, len(items), BATCH_WRITE_LIMIT):
        chunk = items[start : start + BATCH_WRITE_LIMIT]
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        pause = 0.05
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
    return len(items)


def seed(
    dynamodb: Any,
    table: str,
    stock: Mapping[str, int] | None = None,
    customers: Mapping[str, str] | None = None,
) -> int:
    """Set the stock of each SKU and the address of each customer; returns the items written."""
    return put_items(
        dynamodb,
        table,
        [stock_item(sku, units) for sku, units in (stock or {}).items()]
        + [customer_item(customer, email) for customer, email in (customers or {}).items()],
    )
