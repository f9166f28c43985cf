"""notifier through its Lambda entry point: events arrive via the bus rule, mail goes to SES."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import boto3
import pytest

from notifier.handler import lambda_handler as notify
from order_processor.handler import lambda_handler as process
from orders_core import wiring
from orders_core.adapters.mail import SesMailer
from orders_core.adapters.table import customer_key
from orders_core.domain import NotificationStatus, OrderItem, new_order
from tests.support.events import LambdaContext
from tests.unit.conftest import REGION


def ses_sent() -> int:
    return int(boto3.client("ses", region_name=REGION).get_send_quota()["SentLast24Hours"])


@pytest.fixture
def processed(platform):
    """Two orders processed: one confirmed, one rejected; their events wait in the queue."""
    platform.stock({"SKU-A": 5})
    platform.customer("c-1", "one@example.com")
    platform.customer("c-2", "two@example.com")
    ids = []
    for n, (customer, quantity) in enumerate((("c-1", 1), ("c-2", 50)), start=1):
        order = new_order(
            f"20000000-0000-4000-8000-{n:012d}",
            customer,
            "EUR",
            [OrderItem(sku="SKU-A", quantity=quantity, unit_price=Decimal("9.99"))],
            datetime(2026, 7, 1, tzinfo=UTC),
        )
        platform.send_order_message(order.model_dump_json())
        ids.append(order.order_id)
    platform.deliver(process, platform.orders_queue_url, platform.orders_queue_arn)
    return ids


def deliver(platform) -> dict:
    return platform.deliver(
        notify, platform.notifications_queue_url, platform.notifications_queue_arn
    )


def test_each_outcome_is_mailed_to_the_customer_and_recorded(platform, processed):
    confirmed_id, rejected_id = processed
    response = deliver(platform)
    assert (response["received"], response["batchItemFailures"]) == (2, [])
    assert ses_sent() == 2
    confirmed = platform.table.notification_for(confirmed_id)
    rejected = platform.table.notification_for(rejected_id)
    assert (confirmed.status, confirmed.recipient) == (NotificationStatus.SENT, "one@example.com")
    assert confirmed.subject == "Order 20000000 confirmed"
    assert confirmed.message_id
    assert rejected.recipient == "two@example.com"
    assert "could not be fulfilled" in rejected.subject


def test_an_event_delivered_twice_sends_one_mail(platform, processed):
    [record] = [r for r in platform.notifications_event()["Records"] if processed[0] in r["body"]]
    twice = {"Records": [record, {**record, "messageId": "redelivered-copy"}]}
    assert notify(twice, LambdaContext())["batchItemFailures"] == []
    assert notify({"Records": [record]}, LambdaContext())["batchItemFailures"] == []
    assert ses_sent() == 1


def test_a_customer_without_an_address_is_recorded_and_not_retried(platform, processed):
    platform.table.dynamodb.delete_item(
        TableName=platform.table.table_name,
        Key=customer_key("c-1"),
    )
    assert deliver(platform)["batchItemFailures"] == []
    assert ses_sent() == 1
    skipped = platform.table.notification_for(processed[0])
    assert skipped.status is NotificationStatus.SKIPPED_NO_ADDRESS


def test_a_record_that_is_not_an_order_event_fails_alone(platform, processed):
    junk = platform.sqs.send_message(
        QueueUrl=platform.notifications_queue_url, MessageBody='{"detail-type": "Other"}'
    )["MessageId"]
    response = deliver(platform)
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [junk]
    assert ses_sent() == 2


def test_a_mail_that_ses_refuses_is_retried_not_lost(platform, processed, monkeypatch):
    monkeypatch.setenv("NOTIFICATION_SENDER", "unverified@example.com")
    wiring.install(None)  # a new execution environment, with the new setting
    response = deliver(platform)
    assert len(response["batchItemFailures"]) == 2
    assert platform.table.notification_for(processed[0]) is None
    assert platform.queue_depth(platform.notifications_queue_url) == 2


class WorkerDied(BaseException):
    """The worker process is gone (SIGKILL, a Lambda timeout): no except clause runs, and
    powertools leaves its idempotency record IN_PROGRESS."""


def test_an_attempt_killed_after_ses_took_the_mail_is_not_mailed_again(
    platform, processed, monkeypatch, log_lines
):
    [record] = [r for r in platform.notifications_event()["Records"] if processed[0] in r["body"]]
    send = SesMailer.send

    def send_then_die(self, recipient, message):
        send(self, recipient, message)  # SES has the mail...
        raise WorkerDied  # ...and the worker is killed before the notification is recorded

    monkeypatch.setattr(SesMailer, "send", send_then_die)
    with pytest.raises(WorkerDied):  # its time is up at once: the idempotency record expires
        notify({"Records": [record]}, LambdaContext(remaining_ms=1))
    monkeypatch.setattr(SesMailer, "send", send)
    time.sleep(0.01)

    response = notify({"Records": [record]}, LambdaContext())  # the message comes back
    assert response["batchItemFailures"] == []
    assert ses_sent() == 1
    notification = platform.table.notification_for(processed[0])
    assert notification.status is NotificationStatus.UNCERTAIN
    [error] = [line for line in log_lines() if line["level"] == "ERROR"]
    assert error["order_id"] == processed[0]
    assert "not sent again" in error["message"]
