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


def test_a_mail_ses_refuses_for_our_unverified_sender_is_retried_not_lost(
    platform, processed, monkeypatch
):
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


# --- SES's answers through the handler: a refused address, throttling, the pace ----------------


def ses_answering(platform, *answers: tuple[str, str] | str, per_second: float | None = None):
    """Install an SES client that gives `answers` in turn: a message id, or (code, message) of
    an error; returns the Stubber and the fake clock the mailer sleeps on."""
    from botocore.stub import Stubber

    from orders_core.adapters.mail import SesMailer
    from tests.unit.conftest import SENDER
    from tests.unit.test_mail import FakeClock

    sesv2 = boto3.client("sesv2", region_name=REGION)
    stub = Stubber(sesv2)
    for answer in answers:
        if isinstance(answer, str):
            stub.add_response("send_email", {"MessageId": answer})
        else:
            stub.add_client_error(
                "send_email", service_error_code=answer[0], service_message=answer[1]
            )
    clock = FakeClock()
    wiring.current().mailer = SesMailer(SENDER, sesv2, per_second, clock=clock, sleep=clock.sleep)
    stub.activate()
    return stub, clock


def record_of(platform, order_id: str) -> dict:
    [record] = [r for r in platform.notifications_event()["Records"] if order_id in r["body"]]
    return record


def test_an_address_ses_refuses_is_recorded_rejected_and_never_tried_again(platform, processed):
    from tests.support.events import LambdaContext

    record = record_of(platform, processed[0])
    refusal = (
        "MessageRejected",
        "Email address is not verified. The following identities failed the check in region "
        "EU-WEST-1: one@example.com",
    )
    stub, _ = ses_answering(platform, refusal)
    assert notify({"Records": [record]}, LambdaContext())["batchItemFailures"] == []
    stub.assert_no_pending_responses()
    notification = platform.table.notification_for(processed[0])
    assert (notification.status, notification.recipient) == (
        NotificationStatus.REJECTED,
        "one@example.com",
    )
    assert "not verified" in notification.reason
    # delivered again (SQS at least once): the recorded answer stands, SES is not asked again
    assert notify({"Records": [record]}, LambdaContext())["batchItemFailures"] == []
    stub.deactivate()


def test_ses_throttling_fails_the_record_for_the_queue_to_retry_then_it_is_sent_once(
    platform, processed
):
    from tests.support.events import LambdaContext

    record = record_of(platform, processed[0])
    throttled = ("TooManyRequestsException", "Maximum sending rate exceeded.")
    stub, clock = ses_answering(platform, *[throttled] * 4, "m-later")
    failed = notify({"Records": [record]}, LambdaContext())["batchItemFailures"]
    assert [f["itemIdentifier"] for f in failed] == [record["messageId"]]
    assert platform.table.notification_for(processed[0]) is None  # nothing recorded as done
    assert len(clock.slept) == 3  # a pause between attempts inside the invocation
    # the queue delivers it again once SES takes it: sent, recorded, once
    assert notify({"Records": [record]}, LambdaContext())["batchItemFailures"] == []
    stub.assert_no_pending_responses()
    assert platform.table.notification_for(processed[0]).message_id == "m-later"
    stub.deactivate()


def test_a_send_throttled_then_taken_in_one_invocation_is_recorded_sent_and_mailed_once(
    platform, processed
):
    record = record_of(platform, processed[0])
    throttled = ("TooManyRequestsException", "Maximum sending rate exceeded.")
    stub, _ = ses_answering(platform, throttled, throttled, "m-third")
    assert notify({"Records": [record]}, LambdaContext())["batchItemFailures"] == []
    stub.assert_no_pending_responses()  # three requests, one mail: SES took only the third
    notification = platform.table.notification_for(processed[0])
    assert (notification.status, notification.message_id) == (NotificationStatus.SENT, "m-third")
    # delivered again: the completed claim stands and SES is not asked (the stub has no answer)
    assert notify({"Records": [record]}, LambdaContext())["batchItemFailures"] == []
    stub.deactivate()


def test_a_lost_answer_after_a_throttle_is_recorded_uncertain_and_never_resent(
    platform, processed, log_lines
):
    from botocore.exceptions import ReadTimeoutError

    from tests.unit.conftest import SENDER
    from tests.unit.test_mail import ENDPOINT, THROTTLED, FakeClock, ScriptedSes

    record = record_of(platform, processed[0])
    ses = ScriptedSes(THROTTLED, ReadTimeoutError(endpoint_url=ENDPOINT), "m-second-mail")
    clock = FakeClock()
    wiring.current().mailer = SesMailer(SENDER, ses, clock=clock, sleep=clock.sleep)
    failed = notify({"Records": [record]}, LambdaContext())["batchItemFailures"]
    assert [f["itemIdentifier"] for f in failed] == [record["messageId"]]
    claim = platform.table.notification_for(processed[0])
    assert claim.status is NotificationStatus.SENDING  # SES may have the mail: claim kept

    assert notify({"Records": [record]}, LambdaContext())["batchItemFailures"] == []
    assert len(ses.calls) == 2  # the redelivery did not mail again
    notification = platform.table.notification_for(processed[0])
    assert notification.status is NotificationStatus.UNCERTAIN
    [error] = [line for line in log_lines() if "not sent again" in line["message"]]
    assert (error["level"], error["order_id"]) == ("ERROR", processed[0])


def test_a_batch_is_sent_at_the_environments_share_and_what_does_not_fit_is_left_for_later(
    platform, processed
):
    from tests.support.events import LambdaContext

    event = platform.notifications_event()
    stub, clock = ses_answering(platform, "m-1", per_second=0.5)
    started = clock.now
    response = notify(event, LambdaContext(remaining_ms=5_000))
    stub.assert_no_pending_responses()  # one send: the second was due after the time left
    assert len(response["batchItemFailures"]) == 1
    assert clock.now - started == pytest.approx(2.0)
    stub.deactivate()


def test_the_notifier_is_paced_at_the_share_its_environment_variable_gives(monkeypatch):
    monkeypatch.setenv("MAIL_SENDS_PER_SECOND", "0.5")
    wiring.install(None)
    assert wiring.current().mailer.pacer.interval == 2.0
