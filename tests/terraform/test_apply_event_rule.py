"""event-rule's example applied to the emulator: rule, target, queue policy, and a delivery."""

from __future__ import annotations

import json

import pytest

from tests.support.emulator import aws_client
from tests.support.terraform import applied_example, copy_module_tree

pytestmark = pytest.mark.emulator


def _policy_source_arns(sqs, queue_url: str) -> list[str]:
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"][
            "Policy"
        ]
    )
    return [
        s["Condition"]["ArnEquals"]["aws:SourceArn"]
        for s in policy["Statement"]
        if s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "events.amazonaws.com"}
        and s["Action"] == "sqs:SendMessage"
    ]


def test_rule_delivers_order_outcomes_to_the_queue(tmp_path, emulator_env):
    # The example builds its queue with ../../../queue-with-dlq: copy it alongside (without
    # the DLQ's redrive-allow policy, which moto cannot answer: MOTO_OVERRIDES).
    copy_module_tree("queue-with-dlq", tmp_path)
    with applied_example("event-rule", "basic", tmp_path, emulator_env) as (_, out):
        events = aws_client("events", emulator_env)
        sqs = aws_client("sqs", emulator_env)

        rule = events.describe_rule(Name=out["rule_name"], EventBusName=out["bus_name"])
        assert rule["Arn"] == out["rule_arn"]
        assert rule["State"] == "ENABLED"
        assert json.loads(rule["EventPattern"]) == {
            "source": ["orders"],
            "detail-type": ["OrderConfirmed", "OrderRejected"],
        }
        assert events.describe_event_bus(Name=out["bus_name"])["Arn"] == out["bus_arn"]

        [target] = events.list_targets_by_rule(Rule=out["rule_name"], EventBusName=out["bus_name"])[
            "Targets"
        ]
        assert target["Id"] == "outcomes-queue" == out["target_ids"][0]
        assert target["Arn"] == out["queue_arn"]
        assert target["DeadLetterConfig"] == {"Arn": out["dlq_arn"]}
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": 10,
            "MaximumEventAgeInSeconds": 3600,
        }
        assert target["InputTransformer"]["InputPathsMap"] == {
            "order_id": "$.detail.order_id",
            "outcome": "$.detail-type",
        }

        # Both queues admit EventBridge for this rule only.
        assert _policy_source_arns(sqs, out["queue_url"]) == [out["rule_arn"]]
        assert _policy_source_arns(sqs, out["dlq_url"]) == [out["rule_arn"]]

        entries = [
            {"Source": "orders", "DetailType": detail_type, "Detail": json.dumps(detail)}
            for detail_type, detail in (
                ("OrderCreated", {"order_id": "o-0"}),  # not matched by the rule
                ("OrderConfirmed", {"order_id": "o-1"}),
                ("OrderRejected", {"order_id": "o-2"}),
            )
        ]
        for entry in entries:
            entry["EventBusName"] = out["bus_name"]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0

        bodies = []
        for _ in range(5):
            messages = sqs.receive_message(
                QueueUrl=out["queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            bodies += [json.loads(m["Body"]) for m in messages]
            if len(bodies) >= 2:
                break
        assert sorted(bodies, key=lambda b: b["order_id"]) == [
            {"order_id": "o-1", "outcome": "OrderConfirmed"},
            {"order_id": "o-2", "outcome": "OrderRejected"},
        ]
