"""make dlq / make redrive: finding an environment's DLQs, reading them without changing them,
and moving their messages back, by SQS's move task or by receive -> send -> delete.

The receive -> send -> delete path runs against moto's SQS in process; the move task, which no
emulator has, against botocore's Stubber with the real API's shapes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tools.ops import dead_letters
from tools.ops.dead_letters import DeadLetterError, DeadLetterQueue

REGION = "eu-west-1"


def _arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(dead_letters, "RECEIVE_WAIT_S", 0)  # moto answers at once
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


@pytest.fixture
def platform(aws) -> dict[str, str]:
    """The stack's queue outputs: orders and notifications, each with its DLQ."""
    sqs = aws("sqs")
    outputs = {}
    for name in ("orders", "notifications"):
        dlq = sqs.create_queue(QueueName=f"orders-test-{name}-dlq")["QueueUrl"]
        source = sqs.create_queue(
            QueueName=f"orders-test-{name}",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": _arn(sqs, dlq), "maxReceiveCount": "3"}
                )
            },
        )["QueueUrl"]
        outputs |= {f"{name}_queue_url": source, f"{name}_dlq_url": dlq}
    return outputs | {"table_name": "orders-test", "region": REGION}


@pytest.fixture
def orders_dlq(aws, platform) -> DeadLetterQueue:
    return dead_letters.choose(dead_letters.dead_letter_queues(platform, aws("sqs")), "orders")


def _order(order_id: str) -> str:
    return json.dumps({"order_id": order_id, "customer_id": "cust-1", "status": "PENDING"})


def _park(sqs: Any, queue: DeadLetterQueue, bodies: list[str]) -> None:
    for body in bodies:
        sqs.send_message(
            QueueUrl=queue.url,
            MessageBody=body,
            MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
        )


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message of a queue, received and deleted."""
    found = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        found += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def _fallback(queue, sqs, **options):
    """redrive() on an endpoint that answers StartMessageMoveTask as ministack does."""
    said: list[str] = []
    result = dead_letters.move_by_receiving(
        sqs,
        queue,
        options.get("limit"),
        options.get("order_id"),
        options.get("dry_run", False),
        said.append,
    )
    return result, said


# --- finding the DLQs ------------------------------------------------------------------------


def test_each_dlq_is_paired_with_the_queue_whose_redrive_policy_names_it(aws, platform):
    queues = dead_letters.dead_letter_queues(platform, aws("sqs"))
    assert [(q.name, q.queue_name, q.source_name) for q in queues] == [
        ("notifications", "orders-test-notifications-dlq", "orders-test-notifications"),
        ("orders", "orders-test-orders-dlq", "orders-test-orders"),
    ]
    assert dead_letters.choose(queues, "orders-test-orders-dlq").name == "orders"


def test_a_dlq_no_queue_redrives_to_is_refused_with_what_to_check(aws, platform):
    orphan = aws("sqs").create_queue(QueueName="orders-test-orphan-dlq")["QueueUrl"]
    with pytest.raises(DeadLetterError, match="RedrivePolicy"):
        dead_letters.dead_letter_queues({**platform, "orphan_dlq_url": orphan}, aws("sqs"))


def test_an_unknown_queue_name_lists_the_valid_ones(aws, platform):
    queues = dead_letters.dead_letter_queues(platform, aws("sqs"))
    with pytest.raises(DeadLetterError, match="one of: notifications, orders"):
        dead_letters.choose(queues, "payments")


@pytest.mark.parametrize(
    ("body", "order_id"),
    [
        (_order("o-1"), "o-1"),
        (json.dumps({"detail-type": "OrderConfirmed", "detail": {"order_id": "o-2"}}), "o-2"),
        ('{"not": "an order"}', None),
        ("not json", None),
        ("[1, 2]", None),
    ],
)
def test_the_order_of_a_message_is_read_from_an_order_or_an_event(body, order_id):
    assert dead_letters.order_id_of(body) == order_id


# --- list --------------------------------------------------------------------------------------


def test_listing_reads_a_sample_with_order_ids_and_deletes_nothing(aws, orders_dlq):
    sqs = aws("sqs")
    _park(sqs, orders_dlq, [_order(f"o-{n}") for n in range(4)])
    now = datetime.now(UTC)
    found = dead_letters.inspect(orders_dlq, aws, sample_size=3, now=now)
    assert found.visible == 4
    sampled = {letter.order_id for letter in found.sample}
    assert len(sampled) == 3
    assert sampled <= {"o-0", "o-1", "o-2", "o-3"}
    assert all(letter.receive_count == 0 for letter in found.sample)  # parked, never received
    assert _depth(sqs, orders_dlq.url) == 4, "listing deleted a message"
    text = dead_letters.format_inspection(found, now, "dev")
    assert "orders DLQ orders-test-orders-dlq (source orders-test-orders" in text
    assert "  depth 4\n" in text
    assert "sample: 3 message(s), read without deleting" in text
    assert "make redrive ENV=dev QUEUE=orders" in text


def test_the_oldest_age_is_cloudwatch_s_when_it_has_one_else_the_oldest_sampled(orders_dlq):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    sampled = [
        dead_letters.DeadLetter("m1", "o-1", 4, datetime(2026, 12, 1, 11, 0, tzinfo=UTC), "{}"),
        dead_letters.DeadLetter("m2", "o-2", 4, datetime(2026, 12, 1, 11, 30, tzinfo=UTC), "{}"),
    ]
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    with Stubber(cloudwatch) as stub:
        stub.add_response("get_metric_statistics", {"Datapoints": []})
        assert dead_letters.oldest_age(cloudwatch, orders_dlq, sampled, now)[0] == 3600
        stub.add_response(
            "get_metric_statistics",
            {
                "Datapoints": [
                    {"Timestamp": datetime(2026, 12, 1, 11, 58, tzinfo=UTC), "Maximum": 7000.0},
                    {"Timestamp": datetime(2026, 12, 1, 11, 59, tzinfo=UTC), "Maximum": 7060.0},
                ]
            },
        )
        age, source = dead_letters.oldest_age(cloudwatch, orders_dlq, sampled, now)
    assert (age, source) == (7060.0, "in the DLQ: CloudWatch ApproximateAgeOfOldestMessage")


def test_the_failure_is_the_last_error_the_consumer_logged_for_the_message(aws):
    logs = aws("logs")
    logs.create_log_group(logGroupName="/aws/lambda/orders-test-order-processor")
    logs.create_log_stream(
        logGroupName="/aws/lambda/orders-test-order-processor", logStreamName="s"
    )
    start = int(time.time() * 1000)
    lines = [
        {"level": "INFO", "message": "batch processed", "message_id": "m-1"},
        {
            "level": "ERROR",
            "message": "malformed order message",
            "message_id": "m-1",
            "errors": [{"loc": ["items"], "msg": "Field required"}],
        },
        {"level": "ERROR", "message": "malformed order message", "message_id": "m-2"},
    ]
    logs.put_log_events(
        logGroupName="/aws/lambda/orders-test-order-processor",
        logStreamName="s",
        logEvents=[
            {"timestamp": start + n, "message": json.dumps(line)} for n, line in enumerate(lines)
        ],
    )
    groups = ["/aws/lambda/missing", "/aws/lambda/orders-test-order-processor"]
    assert (
        dead_letters.logged_failure(logs, groups, "m-1", start - 1000)
        == "malformed order message: items: Field required"
    )
    assert dead_letters.logged_failure(logs, groups, "m-3", start - 1000) is None


def test_an_event_the_rule_could_not_deliver_is_explained_by_eventbridge_s_attributes(
    aws, platform
):
    sqs = aws("sqs")
    notifications = dead_letters.choose(
        dead_letters.dead_letter_queues(platform, sqs), "orders-test-notifications"
    )

    def string(value: str) -> dict[str, str]:
        return {"DataType": "String", "StringValue": value}

    # What EventBridge puts in a target's DLQ: the event, and why it gave up, as attributes.
    sqs.send_message(
        QueueUrl=notifications.url,
        MessageBody=json.dumps({"detail-type": "OrderConfirmed", "detail": {"order_id": "o-9"}}),
        MessageAttributes={
            "ERROR_CODE": string("SQS.AccessDeniedException"),
            "ERROR_MESSAGE": string("Access to the resource is denied."),
            "RULE_ARN": string(
                "arn:aws:events:eu-west-1:123456789012:rule/bus/orders-test-order-outcomes"
            ),
            "TARGET_ARN": string(notifications.source_arn),
        },
    )
    found = dead_letters.inspect(notifications, aws, sample_size=5, now=datetime.now(UTC))
    (letter,) = found.sample
    assert (letter.order_id, letter.failure) == (
        "o-9",
        "EventBridge could not deliver it (orders-test-order-outcomes): "
        "SQS.AccessDeniedException: Access to the resource is denied.",
    )
    assert dead_letters.delivery_failure({"MessageAttributes": {}}) is None


def test_an_exception_is_described_by_its_last_line():
    entry = {
        "message": "order processing failed; the message will be retried",
        "exception": (
            'Traceback (most recent call last):\n  File "x"\nUnavailable: table throttled\n'
        ),
        "exception_name": "Unavailable",
    }
    assert dead_letters.describe_failure(entry) == (
        "order processing failed; the message will be retried: Unavailable: table throttled"
    )


# --- redrive: receive -> send -> delete --------------------------------------------------------


def test_every_message_moves_to_the_source_with_its_body_and_attributes(aws, orders_dlq):
    sqs = aws("sqs")
    bodies = [_order(f"o-{n}") for n in range(23)]
    _park(sqs, orders_dlq, bodies)
    result, said = _fallback(orders_dlq, sqs)
    assert result.moved == 23
    assert _depth(sqs, orders_dlq.url) == 0
    moved = _drain(sqs, orders_dlq.source_url)
    assert sorted(m["Body"] for m in moved) == sorted(bodies)
    assert {m["MessageAttributes"]["origin"]["StringValue"] for m in moved} == {"test"}
    assert said[0] == "orders-test-orders-dlq: ~23 message(s) -> orders-test-orders"


def test_limit_moves_that_many_and_leaves_the_rest_visible(aws, orders_dlq):
    sqs = aws("sqs")
    _park(sqs, orders_dlq, [_order(f"o-{n}") for n in range(15)])
    result, _ = _fallback(orders_dlq, sqs, limit=12)
    assert result.moved == 12
    assert len(_drain(sqs, orders_dlq.source_url)) == 12
    assert len(_drain(sqs, orders_dlq.url)) == 3


def test_an_order_id_moves_only_that_order_s_messages_and_the_rest_are_visible_at_once(
    aws, orders_dlq
):
    sqs = aws("sqs")
    _park(sqs, orders_dlq, [_order("o-1"), _order("o-2"), _order("o-1"), "not json"])
    result, _ = _fallback(orders_dlq, sqs, order_id="o-1")
    assert (result.moved, result.skipped) == (2, 2)
    assert [json.loads(m["Body"])["order_id"] for m in _drain(sqs, orders_dlq.source_url)] == [
        "o-1",
        "o-1",
    ]
    left = sqs.get_queue_attributes(
        QueueUrl=orders_dlq.url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert left == {
        "ApproximateNumberOfMessages": "2",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_a_dry_run_says_what_would_move_and_moves_nothing(aws, orders_dlq):
    sqs = aws("sqs")
    _park(sqs, orders_dlq, [_order("o-1"), _order("o-2")])
    result, said = _fallback(orders_dlq, sqs, dry_run=True)
    assert (result.moved, result.would_move) == (0, 2)
    assert sorted(line.split("(order ")[1] for line in said if "would move" in line) == [
        "o-1)",
        "o-2)",
    ]
    assert _depth(sqs, orders_dlq.source_url) == 0
    assert len(_drain(sqs, orders_dlq.url)) == 2, "a dry run hid or lost messages"
    assert "dry run: would move 2" in dead_letters.format_redrive(orders_dlq, result)


def test_messages_a_listing_hid_are_waited_for_and_moved(aws, orders_dlq, monkeypatch):
    """`make dlq` then `make redrive`: the listed sample is still hidden when the redrive starts."""
    monkeypatch.setattr(dead_letters, "HIDDEN_POLL_S", 0.2)
    monkeypatch.setattr(dead_letters, "PEEK_VISIBILITY_S", 1)
    sqs = aws("sqs")
    _park(sqs, orders_dlq, [_order("o-1"), _order("o-2")])
    assert len(dead_letters.peek(sqs, orders_dlq.url, 1)) == 1
    result, said = _fallback(orders_dlq, sqs)
    assert result.moved == 2
    assert (
        said[0] == "orders-test-orders-dlq: ~2 message(s) (1 hidden for now) -> orders-test-orders"
    )
    assert any("1 message(s) not received yet, hidden by another reader" in line for line in said)


class _FirstReceivesFindNothing:
    """An SQS client whose first receives come back empty, as when a message another reader
    hid turns visible just after them."""

    def __init__(self, sqs: Any, empty_receives: int) -> None:
        self._sqs, self._empty = sqs, empty_receives

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def receive_message(self, **request: Any) -> dict[str, Any]:
        if self._empty:
            self._empty -= 1
            return {}
        return self._sqs.receive_message(**request)


def test_a_message_that_turns_visible_after_two_empty_receives_is_still_moved(
    aws, orders_dlq, monkeypatch
):
    monkeypatch.setattr(dead_letters, "HIDDEN_POLL_S", 0)
    sqs = aws("sqs")
    _park(sqs, orders_dlq, [_order("o-1")])
    result, _said = _fallback(orders_dlq, _FirstReceivesFindNothing(sqs, 2))
    assert result.moved == 1
    assert _depth(sqs, orders_dlq.url) == 0


class _RefusesOneCopy:
    """An SQS client whose SendMessageBatch refuses the copy of one body, recording the order
    of the calls that move messages."""

    def __init__(self, sqs: Any, refused_body: str) -> None:
        self._sqs, self._refused, self.calls = sqs, refused_body, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self.calls.append(("send", [e["MessageBody"] for e in Entries]))
        keep = [e for e in Entries if e["MessageBody"] != self._refused]
        answer = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=keep)
        refused = [e["Id"] for e in Entries if e["MessageBody"] == self._refused]
        return {
            **answer,
            "Failed": [
                {"Id": i, "Code": "InternalError", "Message": "try again", "SenderFault": False}
                for i in refused
            ],
        }

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self.calls.append(("delete", len(Entries)))
        return self._sqs.delete_message_batch(QueueUrl=QueueUrl, Entries=Entries)


def test_a_message_is_deleted_only_after_its_copy_is_on_the_source(aws, orders_dlq):
    sqs = aws("sqs")
    _park(sqs, orders_dlq, [_order("o-1"), _order("o-2"), _order("o-3")])
    refusing = _RefusesOneCopy(sqs, _order("o-2"))
    result, said = _fallback(orders_dlq, refusing)
    assert (result.moved, result.not_sent) == (2, 1)
    assert [kind for kind, _ in refusing.calls] == ["send", "delete"]
    assert refusing.calls[1] == ("delete", 2)
    assert any("it stays in the DLQ" in line for line in said)
    on_source = sorted(
        json.loads(m["Body"])["order_id"] for m in _drain(sqs, orders_dlq.source_url)
    )
    assert on_source == ["o-1", "o-3"]
    assert _depth(sqs, orders_dlq.url) == 1  # the refused one, hidden for the move's timeout


class _FailsOneDelete:
    """An SQS client whose DeleteMessageBatch fails for the first entry it is given."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        first, *rest = Entries
        answer = self._sqs.delete_message_batch(QueueUrl=QueueUrl, Entries=rest) if rest else {}
        failed = {"Id": first["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True}
        return {"Successful": answer.get("Successful", []), "Failed": [failed]}


def test_a_copy_whose_original_cannot_be_deleted_is_kept_in_both_and_counted(aws, orders_dlq):
    sqs = aws("sqs")
    _park(sqs, orders_dlq, [_order("o-1"), _order("o-2")])
    result, said = _fallback(orders_dlq, _FailsOneDelete(sqs))
    assert (result.moved, result.delivered_twice) == (2, 1)
    assert any("it will be delivered twice" in line for line in said)
    assert len(_drain(sqs, orders_dlq.source_url)) == 2, "both copies are on the source"
    assert _depth(sqs, orders_dlq.url) == 1, "the original that was not deleted is still there"
    assert "1 copied but not deleted (delivered twice)" in dead_letters.format_redrive(
        orders_dlq, result
    )


# --- redrive: SQS's message move task ---------------------------------------------------------

QUEUE = DeadLetterQueue(
    "orders",
    "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-dev-orders-dlq",
    "arn:aws:sqs:eu-west-1:111111111111:orders-dev-orders-dlq",
    "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-dev-orders",
    "arn:aws:sqs:eu-west-1:111111111111:orders-dev-orders",
)
DEPTH = {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def _task(status: str, moved: int, **extra: Any) -> dict[str, Any]:
    return {
        "Results": [
            {
                "Status": status,
                "SourceArn": QUEUE.arn,
                "DestinationArn": QUEUE.source_arn,
                "ApproximateNumberOfMessagesMoved": moved,
                "ApproximateNumberOfMessagesToMove": 250,
                "StartedTimestamp": 1764590400000,
                **extra,
            }
        ]
    }


@pytest.fixture
def stubbed_sqs(monkeypatch) -> Iterator[tuple[Any, Stubber]]:
    monkeypatch.setattr(dead_letters.time, "sleep", lambda _s: None)
    sqs = boto3.client("sqs", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")  # noqa: S106
    with Stubber(sqs) as stub:
        yield sqs, stub
        stub.assert_no_pending_responses()


def test_moving_everything_uses_sqs_s_move_task_and_reports_its_progress(stubbed_sqs):
    sqs, stub = stubbed_sqs
    stub.add_response(
        "start_message_move_task",
        {"TaskHandle": "handle-1"},
        {"SourceArn": QUEUE.arn, "DestinationArn": QUEUE.source_arn},
    )
    stub.add_response("list_message_move_tasks", _task("RUNNING", 40, TaskHandle="handle-1"))
    stub.add_response("list_message_move_tasks", _task("RUNNING", 180, TaskHandle="handle-1"))
    stub.add_response("list_message_move_tasks", _task("COMPLETED", 250))
    stub.add_response("get_queue_attributes", {"Attributes": DEPTH})
    said: list[str] = []
    result = dead_letters.redrive(QUEUE, sqs, say=said.append)
    assert (result.how, result.moved, result.left) == ("SQS message move task", 250, 0)
    assert said == [
        "SQS message move task started (handle-1)",
        "  running: moved 40 of ~250",
        "  running: moved 180 of ~250",
        "  completed: moved 250 of ~250",
    ]


def test_a_failed_move_task_says_why_and_that_what_moved_stays_moved(stubbed_sqs):
    sqs, stub = stubbed_sqs
    stub.add_response("start_message_move_task", {"TaskHandle": "handle-2"})
    stub.add_response(
        "list_message_move_tasks",
        _task("FAILED", 12, FailureReason="AWS.SimpleQueueService.NonExistentQueue"),
    )
    with pytest.raises(DeadLetterError, match=r"FAILED after moving 12: AWS\.Simple.*stays moved"):
        dead_letters.redrive(QUEUE, sqs, say=lambda _line: None)


def test_an_endpoint_without_move_tasks_falls_back_to_receive_send_delete(stubbed_sqs):
    sqs, stub = stubbed_sqs
    # ministack's answer, measured: 400 InvalidAction "The action StartMessageMoveTask is not
    # valid for this endpoint."
    stub.add_client_error(
        "start_message_move_task",
        service_error_code="InvalidAction",
        service_message="The action StartMessageMoveTask is not valid for this endpoint.",
        http_status_code=400,
    )
    stub.add_response("get_queue_attributes", {"Attributes": DEPTH})
    stub.add_response("receive_message", {})
    stub.add_response("receive_message", {})
    stub.add_response("get_queue_attributes", {"Attributes": DEPTH})
    stub.add_response("get_queue_attributes", {"Attributes": DEPTH})
    said: list[str] = []
    result = dead_letters.redrive(QUEUE, sqs, say=said.append)
    assert result.how == "receive -> send -> delete"
    assert said[0].startswith("this endpoint has no SQS message move task (InvalidAction)")


def test_a_refusal_that_is_not_a_missing_operation_is_not_hidden_by_the_fallback(stubbed_sqs):
    from botocore.exceptions import ClientError

    sqs, stub = stubbed_sqs
    stub.add_client_error(
        "start_message_move_task", service_error_code="AccessDenied", http_status_code=403
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        dead_letters.redrive(QUEUE, sqs, say=lambda _line: None)


@pytest.mark.parametrize("options", [{"limit": 5}, {"order_id": "o-1"}, {"dry_run": True}], ids=str)
def test_a_limit_an_order_or_a_dry_run_never_starts_a_move_task(stubbed_sqs, options):
    sqs, stub = stubbed_sqs  # a start_message_move_task call would find no stubbed answer
    stub.add_response("get_queue_attributes", {"Attributes": DEPTH})
    stub.add_response("receive_message", {})
    stub.add_response("receive_message", {})
    stub.add_response("get_queue_attributes", {"Attributes": DEPTH})
    stub.add_response("get_queue_attributes", {"Attributes": DEPTH})
    assert dead_letters.redrive(QUEUE, sqs, say=lambda _line: None, **options).moved == 0


def test_a_limit_below_one_is_refused():
    with pytest.raises(DeadLetterError, match="LIMIT must be at least 1"):
        dead_letters.redrive(QUEUE, None, limit=0)
