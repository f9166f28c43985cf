"""An orders table on moto with the real table's keys (no index): for tools that read and
write its items through the adapter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from moto import mock_aws

from orders_core.adapters.table import OrdersTable


@contextmanager
def moto_orders_table(region: str = "eu-west-1", name: str = "orders") -> Iterator[OrdersTable]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=region)
        dynamodb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        yield OrdersTable(name, dynamodb)
