"""The path from a failure to a notification, on the local stack: a poison order in the orders
DLQ alarms, the alarm topic delivers, and so does the composite alarm that pages.

The local root keeps its alarms off (ministack cannot describe them back, so every plan would
show a difference); this drill applies it with them on, and off again when it is done. The
emulator publishes no SQS metrics: the drill publishes the DLQ's depth as SQS does every
minute on AWS, read from the queue itself. Everything after that is the emulator's own: it
evaluates the alarm on the new data, moves it and its composite to ALARM, and delivers their
actions through the encrypted topic to a subscribed queue.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def _notifications(sqs, inbox_url: str, wanted: set[str], timeout_s: float = 30) -> dict:
    """ALARM notifications received in the inbox, by alarm name, until all wanted are in."""
    seen: dict[str, dict] = {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not wanted <= set(seen):
        for message in sqs.receive_message(
            QueueUrl=inbox_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            envelope = json.loads(message["Body"])
            alarm = json.loads(envelope["Message"])
            if alarm["NewStateValue"] == "ALARM":
                seen[alarm["AlarmName"]] = {**alarm, "Subject": envelope.get("Subject", "")}
    return seen


def test_a_poison_order_alarms_and_the_notification_reaches_a_subscriber(
    local_stack, poisoned_orders_dlq
):
    stack = local_stack.stack
    stack.terraform("apply", "-auto-approve", "-no-color", "-var=alarms_enabled=true", capture=True)
    sqs, sns = local_stack.client("sqs"), local_stack.client("sns")
    inbox_url = sqs.create_queue(QueueName=f"alarm-inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    try:
        platform = stack.outputs()["platform"]
        topic = platform["alarm_topic_arn"]
        dlq_alarm = platform["alarm_names"]["orders_queue_dlq_not_empty"]
        composite = platform["composite_alarm_name"]
        assert (dlq_alarm, composite) == (
            "orders-local-orders-dlq-not-empty",
            "orders-local-unhealthy",
        )

        # on-call's inbox: a queue subscribed to the alarm topic
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sqs.set_queue_attributes(
            QueueUrl=inbox_url,
            Attributes={
                "Policy": json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": inbox_arn,
                                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                            }
                        ]
                    }
                )
            },
        )
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)

        dlq_url = platform["orders_dlq_url"]
        depth = int(
            sqs.get_queue_attributes(
                QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
        assert depth >= 1, "the poison order is in the DLQ"
        # What SQS publishes every minute on AWS; the emulator publishes no SQS metrics.
        local_stack.client("cloudwatch").put_metric_data(
            Namespace="AWS/SQS",
            MetricData=[
                {
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [{"Name": "QueueName", "Value": dlq_url.rsplit("/", 1)[1]}],
                    "Value": depth,
                }
            ],
        )

        received = _notifications(sqs, inbox_url, {dlq_alarm, composite})
        assert dlq_alarm in received, f"no notification of {dlq_alarm}: {sorted(received)}"
        assert "failed 3 times" in received[dlq_alarm]["AlarmDescription"]
        assert composite in received, f"the composite did not page: {sorted(received)}"
        assert "in local is unhealthy" in received[composite]["AlarmDescription"]
    finally:
        sqs.delete_queue(QueueUrl=inbox_url)
        # alarms off again, as the local root has them: the other tests' plans stay empty
        stack.terraform("apply", "-auto-approve", "-no-color", capture=True)
