"""The check in both directions: recorded calls against the policies as deployed."""

from __future__ import annotations

import copy
import json

from tools.iam import check
from tools.iam.calls import Call, CallLog
from tools.iam.policy import Decision

ACCOUNT, REGION = "111111111111", "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-dev-orders-api-role"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-dev-orders"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dev-orders"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/orders-dev-orders-api"


def statement(sid: str, actions: list[str], resources: list[str], **extra) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def snapshot() -> dict:
    """The orders API as the stack deploys it to dev: its role's policy, its environment."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            statement(
                "WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{LOG_GROUP}:*"]
            ),
            statement(
                "Access0DynamodbPutItem",
                ["dynamodb:PutItem"],
                [TABLE],
                Condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ORDER#*"]}},
            ),
            statement("Access1DynamodbQuery", ["dynamodb:Query"], [f"{TABLE}/index/by-customer"]),
            statement("Access2SqsSend", ["sqs:SendMessage"], [QUEUE]),
        ],
    }
    return {
        "name": "dev",
        "account": ACCOUNT,
        "region": REGION,
        "roles": {ROLE: [{"name": "orders-dev-orders-api-permissions", "document": policy}]},
        "functions": {
            "orders-dev-orders-api": {
                "role": ROLE,
                "environment": {
                    "POWERTOOLS_SERVICE_NAME": "orders_api",
                    "TABLE_NAME": "orders-dev-orders",
                    "ORDERS_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders-dev-orders",
                },
                "log_group": "/aws/lambda/orders-dev-orders-api",
                "sqs_sources": [],
                "tracing": "PassThrough",
            }
        },
        "resource_policies": {},
    }


# What the handler tests record: the function's calls against the test's own resources.
UNIT_SETTINGS = {
    "TABLE_NAME": "orders-test",
    "ORDERS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-test",
}


def unit_call(service: str, operation: str, **params) -> Call:
    return Call(
        "function:orders_api", service, operation, params, REGION, "", "unit", UNIT_SETTINGS
    )


CALLS = [
    unit_call("dynamodb", "PutItem", TableName="orders-test", Item={"pk": {"S": "ORDER#1"}}),
    unit_call("dynamodb", "Query", TableName="orders-test", IndexName="by-customer"),
    unit_call("sqs", "SendMessage", QueueUrl=UNIT_SETTINGS["ORDERS_QUEUE_URL"], MessageBody="{}"),
]


def test_a_known_good_policy_allows_every_recorded_call_and_leaves_no_grant_unused():
    [report] = check.check(CALLS, [snapshot()])
    assert report.role == ROLE
    # the three calls, and the log stream the Lambda service writes with the role
    assert [j.decision for j in report.judged] == [Decision.ALLOWED] * 5
    assert report.unused == []


def test_a_function_call_seen_in_the_handler_tests_is_judged_on_the_deployments_resources():
    [report] = check.check(CALLS[:1], [snapshot()])
    [verdict] = report.judged[0].verdicts
    assert verdict.request.resource == TABLE
    assert verdict.request.context["dynamodb:LeadingKeys"] == ("ORDER#1",)


def test_removing_one_statement_fails_the_call_that_needed_it_with_a_clear_message():
    broken = copy.deepcopy(snapshot())
    document = broken["roles"][ROLE][0]["document"]
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "Access1DynamodbQuery"]
    [report] = check.check(CALLS, [broken])
    [denied] = [j for j in report.judged if j.decision is Decision.NOT_ALLOWED]
    assert check.describe(denied) == [
        f"dynamodb.Query (unit) needs dynamodb:Query on {TABLE}/index/by-customer: "
        "no statement of orders-dev-orders-api-role allows it"
    ]
    assert "DENIED      dynamodb.Query (unit)" in check.render([report])


def test_a_call_outside_the_leading_keys_is_not_allowed_and_says_which_key_it_carried():
    stock = unit_call("dynamodb", "PutItem", TableName="orders-test", Item={"pk": {"S": "SKU#A"}})
    [report] = check.check([stock], [snapshot()])
    assert report.judged[0].decision is Decision.NOT_ALLOWED
    assert check.describe(report.judged[0]) == [
        f"dynamodb.PutItem (unit) needs dynamodb:PutItem on {TABLE} with "
        "dynamodb:LeadingKeys=SKU#A: no statement of orders-dev-orders-api-role allows it"
    ]


def test_idempotency_keys_made_outside_lambda_move_to_the_deployed_functions_prefix():
    record = unit_call(
        "dynamodb", "PutItem", TableName="orders-test", Item={"pk": {"S": "test-func.h#abc"}}
    )
    record = Call(
        **{
            **record.__dict__,
            "settings": {**UNIT_SETTINGS, "AWS_LAMBDA_FUNCTION_NAME": "test-func"},
        }
    )
    [report] = check.check([record], [snapshot()])
    [verdict] = report.judged[0].verdicts
    assert verdict.request.context["dynamodb:LeadingKeys"] == ("orders-dev-orders-api.h#abc",)


def test_every_grant_no_call_used_is_reported_with_its_statement():
    [report] = check.check(CALLS[:2], [snapshot()])
    policy = "orders-dev-orders-api-permissions"
    assert report.unused == [f"sqs:SendMessage on {QUEUE} ({policy}#Access2SqsSend)"]


def test_the_lambda_services_calls_for_an_sqs_source_are_judged_on_the_role():
    with_source = copy.deepcopy(snapshot())
    with_source["functions"]["orders-dev-orders-api"]["sqs_sources"] = [QUEUE]
    [report] = check.check([], [with_source])
    denied = {j.call.operation for j in report.judged if j.decision is Decision.NOT_ALLOWED}
    assert denied == {"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"}
    assert all("the Lambda service" in j.call.source for j in report.judged)


def test_make_iam_check_exits_1_on_a_denied_call_and_2_with_nothing_to_judge(tmp_path, capsys):
    assert check.main([str(tmp_path)]) == 2
    assert "nothing to judge" in capsys.readouterr().out

    broken = copy.deepcopy(snapshot())
    broken["roles"][ROLE][0]["document"]["Statement"].pop()  # the queue
    (tmp_path / "deployed").mkdir()
    (tmp_path / "deployed" / "dev.json").write_text(json.dumps(broken))
    CallLog(tmp_path / "calls" / "unit.jsonl").write(CALLS)
    assert check.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "orders-dev-orders-api-role" in out
    assert f"sqs.SendMessage (unit) needs sqs:SendMessage on {QUEUE}" in out
