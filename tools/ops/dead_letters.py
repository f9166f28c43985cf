"""An environment's dead-letter queues: what is in them and why, and moving it back.

    python -m tools.ops.dead_letters list --env prod [--sample 10]
    python -m tools.ops.dead_letters redrive --env prod --queue orders \
        [--limit N] [--order-id ID] [--dry-run]

(make dlq ENV=prod; make redrive ENV=prod QUEUE=orders [LIMIT=n ORDER=<id> DRY_RUN=1])

The DLQs are the stack's outputs named <name>_dlq_url; a DLQ's source is the environment's
queue whose RedrivePolicy names it, and the failures are looked up in the log groups of the
functions that consume that source (their event source mappings).

`list` reads without deleting: each sampled message is hidden for PEEK_VISIBILITY_S seconds,
then visible again; nothing else changes. `redrive` uses SQS's own message move task when it
moves everything and the endpoint has one; otherwise (a LIMIT, an order id, a dry run, or an
endpoint without move tasks, such as the emulators) it receives, sends a copy to the source
queue and deletes the original only once the copy is there. That is at-least-once: a copy
whose original could not be deleted is delivered twice, which every consumer tolerates (they
are idempotent).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from tools.ops.environment import EnvironmentUnreadable, client_factory, outputs

PEEK_VISIBILITY_S = 20  # a listed message is hidden this long, then visible again
MOVE_VISIBILITY_S = 60  # a message being moved stays hidden while its copy is sent
SQS_BATCH = 10  # messages per ReceiveMessage, SendMessageBatch, DeleteMessageBatch
RECEIVE_WAIT_S = 1  # long polling: an empty answer means an empty queue
HIDDEN_WAIT_S = PEEK_VISIBILITY_S + 10  # how long a redrive waits for messages others hide
HIDDEN_POLL_S = 1.0
LOG_PAGES = 5  # FilterLogEvents pages read per message: bounded on a busy log group
# How an endpoint answers an operation it does not have (ministack: InvalidAction).
UNSUPPORTED_CODES = frozenset(
    {"InvalidAction", "UnknownOperationException", "NotImplemented", "UnsupportedOperation"}
)
MOVE_TASK_DONE = ("COMPLETED", "CANCELLED", "FAILED")

Say = Callable[[str], None]


class DeadLetterError(RuntimeError):
    """Something the operator has to act on; the message says what."""


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str  # the stack's output <name>_dlq_url: orders, notifications
    url: str
    arn: str
    source_url: str
    source_arn: str

    @property
    def queue_name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]

    @property
    def source_name(self) -> str:
        return self.source_arn.rsplit(":", 1)[-1]


def _queue_attributes(sqs: Any, url: str, *names: str) -> dict[str, str]:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))["Attributes"]


def dead_letter_queues(platform: Mapping[str, Any], sqs: Any) -> list[DeadLetterQueue]:
    """Every DLQ the stack outputs, each with the queue whose RedrivePolicy names it."""
    sources: dict[str, tuple[str, str]] = {}
    for key, url in platform.items():
        if not key.endswith("_queue_url") or not url:
            continue
        attributes = _queue_attributes(sqs, url, "QueueArn", "RedrivePolicy")
        target = json.loads(attributes.get("RedrivePolicy") or "{}").get("deadLetterTargetArn")
        if target:
            sources[target] = (url, attributes["QueueArn"])
    found = []
    for key, url in sorted(platform.items()):
        if not key.endswith("_dlq_url") or not url:
            continue
        arn = _queue_attributes(sqs, url, "QueueArn")["QueueArn"]
        if arn not in sources:
            raise DeadLetterError(
                f"no queue of the environment names {arn} in its RedrivePolicy, so there is "
                "nowhere to redrive it to: is the stack applied as in terraform/stack?"
            )
        found.append(DeadLetterQueue(key.removesuffix("_dlq_url"), url, arn, *sources[arn]))
    if not found:
        raise DeadLetterError("the environment outputs no dead-letter queue (<name>_dlq_url)")
    return found


def choose(queues: Sequence[DeadLetterQueue], wanted: str) -> DeadLetterQueue:
    """QUEUE= may be the short name (orders) or either queue's full name."""
    for queue in queues:
        if wanted in (queue.name, queue.queue_name, queue.source_name):
            return queue
    names = ", ".join(q.name for q in queues)
    raise DeadLetterError(f"no dead-letter queue {wanted!r} here; QUEUE= one of: {names}")


def order_id_of(body: str) -> str | None:
    """The order a message is about: an order (orders queue) or an event's detail
    (notifications queue). None for a body that is neither."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    for candidate in (document, document.get("detail")):
        if isinstance(candidate, dict) and isinstance(candidate.get("order_id"), str):
            return candidate["order_id"]
    return None


# --- list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    order_id: str | None
    receive_count: int
    sent_at: datetime | None
    body: str
    failure: str | None = None


@dataclass(frozen=True)
class Inspection:
    queue: DeadLetterQueue
    visible: int
    in_flight: int
    oldest_age_s: float | None
    oldest_from: str
    consumers: list[str]
    sample: list[DeadLetter]


def _receive(sqs: Any, url: str, count: int, visibility_s: int) -> list[dict[str, Any]]:
    return sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max(1, min(SQS_BATCH, count)),
        VisibilityTimeout=visibility_s,
        WaitTimeSeconds=RECEIVE_WAIT_S,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])


def peek(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    """Up to `count` messages, each hidden for PEEK_VISIBILITY_S and then visible again."""
    found: dict[str, dict[str, Any]] = {}
    while len(found) < count:
        fresh = [
            m
            for m in _receive(sqs, url, count - len(found), PEEK_VISIBILITY_S)
            if m["MessageId"] not in found
        ]
        if not fresh:
            break
        found.update((m["MessageId"], m) for m in fresh)
    return list(found.values())


def consumer_log_groups(lambda_client: Any, source_arn: str) -> list[str]:
    """The log groups of the functions that consume a queue (its event source mappings)."""
    groups = []
    paginator = lambda_client.get_paginator("list_event_source_mappings")
    for page in paginator.paginate(EventSourceArn=source_arn):
        for mapping in page["EventSourceMappings"]:
            config = lambda_client.get_function_configuration(FunctionName=mapping["FunctionArn"])
            logging_config = config.get("LoggingConfig") or {}
            groups.append(logging_config.get("LogGroup") or f"/aws/lambda/{config['FunctionName']}")
    return groups


def describe_failure(entry: Mapping[str, Any]) -> str:
    """One line from a powertools log entry: the message, then the reason it carries."""
    text = str(entry.get("message", "failed"))
    errors = entry.get("errors")
    if isinstance(errors, list) and errors:
        reasons = [
            f"{'.'.join(str(p) for p in e.get('loc', [])) or 'body'}: {e.get('msg', '?')}"
            for e in errors[:3]
            if isinstance(e, dict)
        ]
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        return f"{text}: {'; '.join(reasons)}{more}"
    if entry.get("exception"):
        lines = [line for line in str(entry["exception"]).splitlines() if line.strip()]
        return f"{text}: {lines[-1].strip() if lines else entry.get('exception_name', '')}"
    if entry.get("error"):
        return f"{text}: {entry['error']}"
    return text


def logged_failure(logs: Any, groups: Sequence[str], message_id: str, since_ms: int) -> str | None:
    """The last error a consumer logged naming this message id, if its logs still have it."""
    for group in groups:
        events: list[dict[str, Any]] = []
        paginator = logs.get_paginator("filter_log_events")
        pages = paginator.paginate(
            logGroupName=group, filterPattern=f'"{message_id}"', startTime=since_ms
        )
        try:
            for page in islice(pages, LOG_PAGES):
                events += page.get("events", [])
        except logs.exceptions.ResourceNotFoundException:
            continue
        failures = []
        for event in sorted(events, key=lambda e: e.get("timestamp", 0)):
            try:
                entry = json.loads(event["message"])
            except ValueError:
                continue
            if isinstance(entry, dict) and str(entry.get("level", "")).upper() in (
                "ERROR",
                "CRITICAL",
            ):
                failures.append(entry)
        if failures:
            return describe_failure(failures[-1])
    return None


def delivery_failure(message: Mapping[str, Any]) -> str | None:
    """Why EventBridge parked an event it could not deliver: the rule's target DLQ gets the
    event with ERROR_CODE and ERROR_MESSAGE attributes (no consumer ever saw it)."""
    attributes = message.get("MessageAttributes") or {}

    def text(name: str) -> str:
        return str((attributes.get(name) or {}).get("StringValue") or "")

    if not (text("ERROR_CODE") or text("ERROR_MESSAGE")):
        return None
    rule = text("RULE_ARN").rsplit("/", 1)[-1] or "a rule"
    detail = ": ".join(part for part in (text("ERROR_CODE"), text("ERROR_MESSAGE")) if part)
    return f"EventBridge could not deliver it ({rule}): {detail}"


def _sent_at(message: Mapping[str, Any]) -> datetime | None:
    stamp = message.get("Attributes", {}).get("SentTimestamp")
    return datetime.fromtimestamp(int(stamp) / 1000, UTC) if stamp else None


def oldest_age(
    cloudwatch: Any, queue: DeadLetterQueue, sample: Sequence[DeadLetter], now: datetime
) -> tuple[float | None, str]:
    """SQS's own ApproximateAgeOfOldestMessage when CloudWatch has it (on a DLQ: since the
    message was moved there), else the oldest sampled SentTimestamp (since it was first sent
    to the source queue: a move to the DLQ keeps it)."""
    datapoints = cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": queue.queue_name}],
        StartTime=now - timedelta(minutes=15),
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    ).get("Datapoints", [])
    if datapoints:
        latest = max(datapoints, key=lambda point: point["Timestamp"])
        return float(latest["Maximum"]), "in the DLQ: CloudWatch ApproximateAgeOfOldestMessage"
    sent = [letter.sent_at for letter in sample if letter.sent_at]
    if not sent:
        return None, ""
    return (
        (now - min(sent)).total_seconds(),
        "since first sent: the oldest sampled SentTimestamp; CloudWatch has no "
        "ApproximateAgeOfOldestMessage",
    )


def inspect(
    queue: DeadLetterQueue, make_client: Callable[[str], Any], sample_size: int, now: datetime
) -> Inspection:
    sqs = make_client("sqs")
    depth = _queue_attributes(
        sqs, queue.url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"
    )
    consumers = consumer_log_groups(make_client("lambda"), queue.source_arn)
    logs = make_client("logs")
    sample = []
    for message in peek(sqs, queue.url, sample_size) if sample_size > 0 else []:
        sent = _sent_at(message)
        since = int(((sent or now) - timedelta(minutes=1)).timestamp() * 1000)
        sample.append(
            DeadLetter(
                message_id=message["MessageId"],
                order_id=order_id_of(message["Body"]),
                # before this read, which is a receive too
                receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
                - 1,
                sent_at=sent,
                body=message["Body"],
                failure=logged_failure(logs, consumers, message["MessageId"], since)
                or delivery_failure(message),
            )
        )
    age, source = oldest_age(make_client("cloudwatch"), queue, sample, now)
    return Inspection(
        queue,
        int(depth.get("ApproximateNumberOfMessages", 0)),
        int(depth.get("ApproximateNumberOfMessagesNotVisible", 0)),
        age,
        source,
        consumers,
        sample,
    )


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def format_inspection(found: Inspection, now: datetime, env: str = "<env>") -> str:
    queue = found.queue
    consumers = ", ".join(g.rsplit("/", 1)[-1] for g in found.consumers) or "none found"
    lines = [
        f"{queue.name} DLQ {queue.queue_name} (source {queue.source_name}, consumer {consumers})",
        f"  depth {found.visible}" + (f" (+{found.in_flight} hidden)" if found.in_flight else ""),
    ]
    if found.oldest_age_s is not None:
        lines.append(f"  oldest message {duration(found.oldest_age_s)} ({found.oldest_from})")
    if found.sample:
        lines.append(
            f"  sample: {len(found.sample)} message(s), read without deleting (visible again "
            f"in {PEEK_VISIBILITY_S}s)"
        )
    for letter in found.sample:
        age = ""
        if letter.sent_at:
            age = f", first sent {duration((now - letter.sent_at).total_seconds())} ago"
        lines.append(
            f"    {letter.message_id}  order {letter.order_id or '-'}  "
            f"received {letter.receive_count}x before{age}"
        )
        if letter.failure:
            lines.append(f"      failed: {letter.failure}")
        else:
            excerpt = letter.body if len(letter.body) <= 100 else letter.body[:97] + "..."
            lines.append(f"      no failure logged for it in the consumer's logs; body: {excerpt}")
    if found.visible or found.in_flight:
        lines.append(
            f"  redrive: make redrive ENV={env} QUEUE={queue.name} [LIMIT=n ORDER=<id> DRY_RUN=1]"
        )
    return "\n".join(lines)


# --- redrive -----------------------------------------------------------------------------


@dataclass
class Redrive:
    how: str = ""
    moved: int = 0
    would_move: int = 0  # a dry run's count
    not_sent: int = 0  # left in the DLQ: SQS refused the copy
    delivered_twice: int = 0  # copy sent, original not deleted
    skipped: int = 0  # not the order asked for
    came_back: int = 0  # copies this run moved that failed again and returned
    left: int = 0  # in the DLQ at the end, visible and hidden
    notes: list[str] = field(default_factory=list)


def _error_code(error: Exception) -> tuple[str, int]:
    response = getattr(error, "response", {}) or {}
    return (
        str(response.get("Error", {}).get("Code", "")),
        int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0),
    )


def start_move_task(sqs: Any, queue: DeadLetterQueue, say: Say) -> str | None:
    """SQS's own move task from the DLQ to its source; None when the endpoint has none."""
    from botocore.exceptions import ClientError

    try:
        return sqs.start_message_move_task(SourceArn=queue.arn, DestinationArn=queue.source_arn)[
            "TaskHandle"
        ]
    except ClientError as error:
        code, status = _error_code(error)
        if code in UNSUPPORTED_CODES or status == 501:
            say(
                f"this endpoint has no SQS message move task ({code or status}): moving by "
                "receive -> send -> delete instead"
            )
            return None
        raise


def follow_move_task(
    sqs: Any, queue: DeadLetterQueue, handle: str, say: Say, poll_s: float = 2.0
) -> Redrive:
    say(f"SQS message move task started ({handle})")
    last: tuple[Any, ...] = ()
    try:
        while True:
            results = sqs.list_message_move_tasks(SourceArn=queue.arn, MaxResults=1)["Results"]
            if not results:
                raise DeadLetterError(f"SQS lists no move task for {queue.queue_name}")
            task = results[0]
            status = task["Status"]
            moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
            total = task.get("ApproximateNumberOfMessagesToMove")
            if (status, moved) != last:
                say(f"  {status.lower()}: moved {moved}" + (f" of ~{total}" if total else ""))
                last = (status, moved)
            if status in MOVE_TASK_DONE:
                break
            time.sleep(poll_s)
    except KeyboardInterrupt:
        say(
            "stopped watching; the task goes on in SQS. Cancel it with `aws sqs "
            f"cancel-message-move-task --task-handle {handle}`"
        )
        raise
    if status != "COMPLETED":
        raise DeadLetterError(
            f"the move task ended {status} after moving {moved}: "
            f"{task.get('FailureReason') or 'no reason given'}. What it moved stays moved; "
            "`make redrive` again moves the rest."
        )
    return Redrive(how="SQS message move task", moved=moved)


def _copy_entry(index: int, message: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        entry["MessageAttributes"] = message["MessageAttributes"]
    attributes = message.get("Attributes", {})
    if "MessageGroupId" in attributes:  # a FIFO queue's order and deduplication go along
        entry["MessageGroupId"] = attributes["MessageGroupId"]
        if "MessageDeduplicationId" in attributes:
            entry["MessageDeduplicationId"] = attributes["MessageDeduplicationId"]
    return entry


def send_then_delete(
    sqs: Any, queue: DeadLetterQueue, batch: Sequence[Mapping[str, Any]], result: Redrive, say: Say
) -> list[str]:
    """Copy the batch to the source queue; delete from the DLQ exactly the messages whose
    copies SQS accepted. Returns the copies' message ids."""
    answer = sqs.send_message_batch(
        QueueUrl=queue.source_url, Entries=[_copy_entry(i, m) for i, m in enumerate(batch)]
    )
    for failed in answer.get("Failed", []):
        message = batch[int(failed["Id"])]
        result.not_sent += 1
        say(
            f"  not moved {message['MessageId']}: {failed.get('Code')} {failed.get('Message', '')}"
            f" (it stays in the DLQ, visible again in {MOVE_VISIBILITY_S}s)"
        )
    copies = {int(s["Id"]): s["MessageId"] for s in answer.get("Successful", [])}
    if copies:
        deleted = sqs.delete_message_batch(
            QueueUrl=queue.url,
            Entries=[{"Id": str(i), "ReceiptHandle": batch[i]["ReceiptHandle"]} for i in copies],
        )
        for failed in deleted.get("Failed", []):
            result.delivered_twice += 1
            say(
                f"  {batch[int(failed['Id'])]['MessageId']} was copied but not deleted "
                f"({failed.get('Code')}): it will be delivered twice (the consumers are idempotent)"
            )
    result.moved += len(copies)
    return list(copies.values())


def _restore_visibility(sqs: Any, url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """Messages looked at but not moved are visible again at once, not after the timeout."""
    for start in range(0, len(messages), SQS_BATCH):
        chunk = messages[start : start + SQS_BATCH]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )


def _not_received_yet(sqs: Any, queue: DeadLetterQueue, held_by_us: int) -> int:
    """How many messages in the DLQ this run has not received: its depth, visible and hidden,
    less the ones this run looked at and left there. Counting the visible ones too matters: a
    message another reader hid can turn visible between two empty receives and this check."""
    depth = _queue_attributes(
        sqs, queue.url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"
    )
    return max(0, sum(int(count) for count in depth.values()) - held_by_us)


def move_by_receiving(
    sqs: Any,
    queue: DeadLetterQueue,
    limit: int | None,
    order_id: str | None,
    dry_run: bool,
    say: Say,
) -> Redrive:
    """Receive -> send a copy to the source -> delete the original, a batch at a time."""
    result = Redrive(how="dry run" if dry_run else "receive -> send -> delete")
    depth = _queue_attributes(
        sqs, queue.url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"
    )
    hidden_at_start = int(depth["ApproximateNumberOfMessagesNotVisible"])
    at_start = int(depth["ApproximateNumberOfMessages"]) + hidden_at_start
    hidden_note = f" ({hidden_at_start} hidden for now)" if hidden_at_start else ""
    say(f"{queue.queue_name}: ~{at_start} message(s){hidden_note} -> {queue.source_name}")
    seen: set[str] = set()
    copies: set[str] = set()
    untouched: list[dict[str, Any]] = []
    idle = 0
    waiting_until: float | None = None
    reported = time.monotonic()
    while limit is None or result.moved + result.would_move < limit:
        room = SQS_BATCH if limit is None else limit - result.moved - result.would_move
        take, fresh = [], 0
        for message in _receive(sqs, queue.url, room, MOVE_VISIBILITY_S):
            if message["MessageId"] in seen:  # hidden too long ago in a long run: decided already
                continue
            fresh += 1
            seen.add(message["MessageId"])
            if message["MessageId"] in copies:  # one of ours failed again and is back
                result.came_back += 1
                untouched.append(message)
            elif order_id is not None and order_id_of(message["Body"]) != order_id:
                result.skipped += 1
                untouched.append(message)
            else:
                take.append(message)
        idle = 0 if fresh else idle + 1
        if idle >= 2:  # two receives in a row found nothing not looked at yet
            ours = len(untouched) + result.not_sent + result.delivered_twice
            pending = _not_received_yet(sqs, queue, ours)
            if not pending or (waiting_until is not None and time.monotonic() > waiting_until):
                break
            if waiting_until is None:
                waiting_until = time.monotonic() + HIDDEN_WAIT_S
                say(
                    f"  {pending} message(s) not received yet, hidden by another reader (`make "
                    f"dlq` hides its sample for {PEEK_VISIBILITY_S}s): waiting up to "
                    f"{HIDDEN_WAIT_S}s for them"
                )
            idle = 0
            time.sleep(HIDDEN_POLL_S)
            continue
        if dry_run:
            for message in take:
                order = order_id_of(message["Body"]) or "-"
                say(f"  would move {message['MessageId']} (order {order})")
            result.would_move += len(take)
            untouched += take
        elif take:
            copies.update(send_then_delete(sqs, queue, take, result, say))
            if time.monotonic() - reported >= 1.0:
                say(f"  moved {result.moved} of ~{at_start}")
                reported = time.monotonic()
    _restore_visibility(sqs, queue.url, untouched)
    return result


def redrive(
    queue: DeadLetterQueue,
    sqs: Any,
    limit: int | None = None,
    order_id: str | None = None,
    dry_run: bool = False,
    say: Say = print,
) -> Redrive:
    """Move the DLQ's messages (all, `limit` of them, or those of `order_id`) to its source."""
    if limit is not None and limit < 1:
        raise DeadLetterError(f"LIMIT must be at least 1, not {limit}")
    result = None
    if limit is None and order_id is None and not dry_run:
        handle = start_move_task(sqs, queue, say)
        if handle is not None:
            result = follow_move_task(sqs, queue, handle, say)
    if result is None:
        result = move_by_receiving(sqs, queue, limit, order_id, dry_run, say)
    depth = _queue_attributes(
        sqs, queue.url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"
    )
    result.left = sum(int(value) for value in depth.values())
    return result


def format_redrive(queue: DeadLetterQueue, result: Redrive) -> str:
    if result.how == "dry run":
        head = (
            f"dry run: would move {result.would_move} from {queue.queue_name} "
            f"to {queue.source_name}"
        )
    else:
        head = f"moved {result.moved} from {queue.queue_name} to {queue.source_name} ({result.how})"
    parts = [head]
    for count, what in (
        (result.not_sent, "not moved (SQS refused the copy; still in the DLQ)"),
        (result.delivered_twice, "copied but not deleted (delivered twice)"),
        (result.skipped, "left: another order"),
        (result.came_back, "came back during the run (failed again)"),
    ):
        if count:
            parts.append(f"  {count} {what}")
    parts.append(f"  the DLQ now holds {result.left} (visible and hidden)")
    return "\n".join(parts)


# --- command line ------------------------------------------------------------------------


def _queues(env: str) -> tuple[list[DeadLetterQueue], Callable[[str], Any]]:
    platform = outputs(env)["platform"]
    make_client = client_factory(env, platform)
    return dead_letter_queues(platform, make_client("sqs")), make_client


def _run(args: argparse.Namespace) -> Iterator[str]:
    queues, make_client = _queues(args.env)
    now = datetime.now(UTC)
    if args.command == "list":
        for queue in queues:
            yield format_inspection(inspect(queue, make_client, args.sample, now), now, args.env)
        return
    queue = choose(queues, args.queue)
    result = redrive(queue, make_client("sqs"), args.limit, args.order_id, args.dry_run)
    yield format_redrive(queue, result)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.ops.dead_letters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="every DLQ: depth, oldest, a sample with failures")
    listing.add_argument("--env", required=True, help="local, dev, staging or prod")
    listing.add_argument("--sample", type=int, default=10, help="messages to show per DLQ")
    moving = commands.add_parser("redrive", help="move a DLQ's messages back to its source")
    moving.add_argument("--env", required=True, help="local, dev, staging or prod")
    moving.add_argument("--queue", required=True, help="orders, notifications, or a queue name")
    moving.add_argument("--limit", type=int, help="move at most this many")
    moving.add_argument("--order-id", help="move only the messages of this order")
    moving.add_argument("--dry-run", action="store_true", help="show what would move; move nothing")
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        for block in _run(args):
            print(block, flush=True)
    except (EnvironmentUnreadable, DeadLetterError) as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 2
    except NoCredentialsError:
        print(
            f"{args.command}: no AWS credentials for {args.env}: set AWS_PROFILE (or run where "
            "the CI role's session is) and try again",
            file=sys.stderr,
        )
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"{args.command}: AWS refused: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
