"""The recorders: the functions' calls in process, and in the emulator's CloudTrail log."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
from botocore.stub import Stubber

from tools.iam import record
from tools.iam.calls import CallLog, read_calls


def test_only_calls_made_from_a_functions_code_are_recorded(tmp_path, monkeypatch):
    services = tmp_path / "services"
    monkeypatch.setattr(record, "SERVICES", f"{services}/")
    monkeypatch.setenv("TABLE_NAME", "orders-test")
    session = boto3.session.Session(
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",  # noqa: S106
    )
    recorder = record.FunctionCallRecorder(CallLog(tmp_path / "calls" / "unit.jsonl"), "unit")
    session._session.register("before-parameter-build", recorder)
    dynamodb = session.client("dynamodb")
    stub = Stubber(dynamodb)
    stub.add_response("get_item", {}, {"TableName": "orders-test", "Key": {"pk": {"S": "ORDER#1"}}})
    stub.add_response("get_item", {}, {"TableName": "orders-test", "Key": {"pk": {"S": "ORDER#2"}}})
    handler = services / "orders_api" / "handler.py"
    code = compile(
        "def read(client):\n"
        "    client.get_item(TableName='orders-test', Key={'pk': {'S': 'ORDER#1'}})\n",
        str(handler),
        "exec",
    )
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - a function whose code lives under services/
    with stub:
        namespace["read"](dynamodb)  # the function's call
        dynamodb.get_item(TableName="orders-test", Key={"pk": {"S": "ORDER#2"}})  # the test's own
    [call] = list(read_calls(tmp_path / "calls"))
    assert (call.principal, call.service, call.operation) == (
        "function:orders_api",
        "dynamodb",
        "GetItem",
    )
    assert call.params["Key"] == {"pk": {"S": "ORDER#1"}}
    assert call.settings == {"TABLE_NAME": "orders-test", "AWS_LAMBDA_FUNCTION_NAME": "test-func"}


def event(name: str, app: str | None, when: float, **params) -> dict:
    agent = "Boto3/1.43 md/Botocore#1.43 ua/2.1" + (f" app/{app}" if app else "")
    return {
        "EventId": f"{name}-{when}",
        "EventTime": datetime.fromtimestamp(when, UTC),
        "CloudTrailEvent": json.dumps(
            {
                "eventSource": "dynamodb.amazonaws.com",
                "eventName": name,
                "userAgent": agent,
                "requestParameters": params,
                "awsRegion": "eu-west-1",
                "recipientAccountId": "000000000000",
            }
        ),
    }


def test_cloudtrail_events_are_the_calls_of_the_function_their_user_agent_names():
    events = [
        event("PutItem", "orders-local-orders-api", 1.0, TableName="t"),
        event("CreateTable", None, 2.0, TableName="t"),  # Terraform's, not a function's
        event("GetItem", "someone-else", 3.0, TableName="t"),
        event("POST.ses", "orders-local-notifier", 4.0),  # a REST call named by its method only
    ]
    calls = record.cloudtrail_calls(events, ["orders-local-orders-api", "orders-local-notifier"])
    assert [(c.principal, c.operation, c.params) for c in calls] == [
        ("function-name:orders-local-orders-api", "PutItem", {"TableName": "t"})
    ]


class PagedCloudTrail:
    """ministack's LookupEvents: newest first, at most 50, EndTime inclusive, no next token."""

    def __init__(self, events: list[dict]) -> None:
        self.events = events

    def lookup_events(self, StartTime, MaxResults, EndTime=None):
        found = [
            e
            for e in sorted(self.events, key=lambda e: e["EventTime"], reverse=True)
            if e["EventTime"].timestamp() >= StartTime
            and (EndTime is None or e["EventTime"].timestamp() <= EndTime)
        ]
        return {"Events": found[:MaxResults]}


def test_draining_cloudtrail_reads_every_event_since_a_time_past_the_50_a_call_limit():
    events = [event("GetItem", "f", 100.0 + n, TableName="t") for n in range(120)]
    drained, newest = record.drain_cloudtrail(PagedCloudTrail(events), since=110.0)
    assert [e["EventId"] for e in drained] == [e["EventId"] for e in events[10:]]
    assert newest == 219.0
