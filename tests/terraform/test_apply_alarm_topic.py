"""alarm-topic applied to the emulator: the topic, its key and who is told, as AWS holds them."""

from __future__ import annotations

import json

import pytest

from tests.support.emulator import aws_client
from tests.support.terraform import applied_example

pytestmark = pytest.mark.emulator


def test_the_topic_is_encrypted_with_a_rotating_key_cloudwatch_may_use(tmp_path, emulator_env):
    with applied_example("alarm-topic", "basic", tmp_path, emulator_env) as (_, out):
        sns = aws_client("sns", emulator_env)
        kms = aws_client("kms", emulator_env)
        topic = sns.get_topic_attributes(TopicArn=out["topic_arn"])["Attributes"]
        assert topic["KmsMasterKeyId"] == out["kms_key_arn"]

        key_id = out["kms_key_arn"].rsplit("/", 1)[1]
        assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
        key_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
        use = next(s for s in key_policy["Statement"] if s["Sid"] == "PublishersEncryptForTheTopic")
        assert use["Principal"]["Service"] == ["cloudwatch.amazonaws.com"]
        assert set(use["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}

        topic_policy = json.loads(topic["Policy"])
        publish = next(s for s in topic_policy["Statement"] if s["Sid"] == "PublishCloudwatch")
        assert publish["Principal"]["Service"] == "cloudwatch.amazonaws.com"
        assert any(s["Effect"] == "Deny" for s in topic_policy["Statement"])

        subscriptions = {
            s["Protocol"]: s
            for s in sns.list_subscriptions_by_topic(TopicArn=out["topic_arn"])["Subscriptions"]
        }
        assert subscriptions["email"]["Endpoint"] == "oncall@example.com"
        pager = sns.get_subscription_attributes(
            SubscriptionArn=subscriptions["https"]["SubscriptionArn"]
        )["Attributes"]
        assert json.loads(pager["FilterPolicy"]) == {"AlarmName": ["example-alarms-unhealthy"]}
        assert pager["FilterPolicyScope"] == "MessageBody"

        cloudwatch = aws_client("cloudwatch", emulator_env)
        [alarm] = cloudwatch.describe_alarms(AlarmNames=[out["alarm_name"]])["MetricAlarms"]
        assert alarm["AlarmActions"] == [out["topic_arn"]] == alarm["OKActions"]
