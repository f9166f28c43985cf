"""Unit and handler tests: AWS is moto, in process; nothing leaves the test process.

Every test starts with a fresh composition root (orders_core.wiring), built from the
environment set here on first use; a test that wants fakes installs a wiring of its own."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orders_core import wiring
from orders_core.adapters.table import OrdersTable
from tests.support.events import sqs_event
from tests.support.tables import create_orders_table
from tools.ops.seed import seed

REGION = "eu-west-1"
TABLE = "orders-test"
BUS = "orders-test-bus"
SENDER = "orders@example.com"
EVENT_SOURCE = "orders"


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "ENVIRONMENT": "test",
        "TABLE_NAME": TABLE,
        "EVENT_BUS_NAME": BUS,
        "EVENT_SOURCE": EVENT_SOURCE,
        "NOTIFICATION_SENDER": SENDER,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "unit-tests",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    wiring.install(None)


@dataclass
class Platform:
    """The stack's AWS resources inside moto, with helpers to drive messages through them."""

    table: OrdersTable
    orders_queue_url: str
    orders_queue_arn: str
    orders_dlq_url: str
    notifications_queue_url: str
    notifications_queue_arn: str

    @property
    def sqs(self) -> Any:
        return boto3.client("sqs", region_name=REGION)

    def stock(self, units: dict[str, int]) -> None:
        """Set the units available of each SKU."""
        seed(self.table.dynamodb, TABLE, stock=units)

    def customer(self, customer_id: str, email: str) -> None:
        seed(self.table.dynamodb, TABLE, customers={customer_id: email})

    def receive_event(self, queue_url: str, queue_arn: str, max_messages: int = 10) -> dict:
        """Take up to `max_messages` messages off a queue as the SQS event Lambda would get."""
        messages = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=max_messages,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        return sqs_event(messages, queue_arn, REGION)

    def deliver(self, handler: Callable, queue_url: str, queue_arn: str) -> dict:
        """What the event source mapping does: receive a batch, invoke, delete what succeeded."""
        from tests.support.events import LambdaContext

        event = self.receive_event(queue_url, queue_arn)
        if not event["Records"]:
            return {"batchItemFailures": [], "received": 0}
        response = handler(event, LambdaContext())
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])
        return {**response, "received": len(event["Records"])}

    def queue_depth(self, queue_url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def orders_event(self) -> dict:
        return self.receive_event(self.orders_queue_url, self.orders_queue_arn)

    def notifications_event(self) -> dict:
        return self.receive_event(self.notifications_queue_url, self.notifications_queue_arn)

    def send_order_message(self, body: str) -> str:
        return self.sqs.send_message(QueueUrl=self.orders_queue_url, MessageBody=body)["MessageId"]

    def published_events(self) -> list[dict]:
        """Every event the rule delivered to the notifications queue (consumes them)."""
        bodies = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.notifications_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return bodies
            bodies += [json.loads(m["Body"]) for m in batch]
            for message in batch:
                self.sqs.delete_message(
                    QueueUrl=self.notifications_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


def _queue_with_dlq(sqs: Any, name: str) -> tuple[str, str, str]:
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn, dlq_url


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_orders_table(dynamodb, TABLE)
        sqs = boto3.client("sqs", region_name=REGION)
        orders_url, orders_arn, orders_dlq_url = _queue_with_dlq(sqs, "orders-test")
        notify_url, notify_arn, _ = _queue_with_dlq(sqs, "notifications-test")
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        events.put_rule(
            Name="order-outcomes",
            EventBusName=BUS,
            EventPattern=json.dumps(
                {"source": [EVENT_SOURCE], "detail-type": ["OrderConfirmed", "OrderRejected"]}
            ),
        )
        events.put_targets(
            Rule="order-outcomes",
            EventBusName=BUS,
            Targets=[{"Id": "notifications", "Arn": notify_arn}],
        )
        boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
        monkeypatch.setenv("ORDERS_QUEUE_URL", orders_url)
        wiring.install(None)
        yield Platform(
            table=OrdersTable(TABLE, dynamodb),
            orders_queue_url=orders_url,
            orders_queue_arn=orders_arn,
            orders_dlq_url=orders_dlq_url,
            notifications_queue_url=notify_url,
            notifications_queue_arn=notify_arn,
        )


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict]]]:
    """The JSON lines the functions' powertools Logger wrote during the test."""
    from orders_core.observability import logger

    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.registered_handler.setStream(previous)
