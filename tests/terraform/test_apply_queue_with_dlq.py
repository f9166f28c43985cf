"""queue-with-dlq applied to the emulator: the attributes AWS would hold."""

from __future__ import annotations

import json

import pytest

from tests.support.emulator import aws_client
from tests.support.terraform import applied_example

pytestmark = pytest.mark.emulator


def test_queue_redrives_to_its_dlq_after_three_receives(tmp_path, emulator_env):
    # The copy goes without the DLQ's redrive-allow policy, which moto cannot answer
    # (MOTO_OVERRIDES); terraform test covers it.
    with applied_example("queue-with-dlq", "basic", tmp_path, emulator_env) as (_, out):
        sqs = aws_client("sqs", emulator_env)
        queue = sqs.get_queue_attributes(QueueUrl=out["queue_url"], AttributeNames=["All"])[
            "Attributes"
        ]
        dlq = sqs.get_queue_attributes(QueueUrl=out["dlq_url"], AttributeNames=["All"])[
            "Attributes"
        ]

        redrive = json.loads(queue["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == out["dlq_arn"]
        assert int(redrive["maxReceiveCount"]) == 3
        assert queue["VisibilityTimeout"] == "180"
        assert queue["SqsManagedSseEnabled"] == "true"

        assert dlq["MessageRetentionPeriod"] == "1209600"

        policy = json.loads(queue["Policy"])
        deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
        assert deny
        assert deny[0]["Condition"]["Bool"]["aws:SecureTransport"] == "false"

        alarms = aws_client("cloudwatch", emulator_env)
        names = {a["AlarmName"] for a in alarms.describe_alarms()["MetricAlarms"]}
        assert {"example-orders-dlq-not-empty", "example-orders-oldest-message-age"} <= names
