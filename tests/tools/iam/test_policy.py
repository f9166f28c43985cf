"""IAM's evaluation rules, as tools/iam applies them to one request."""

from __future__ import annotations

import pytest

from tools.iam.policy import Decision, Request, evaluate, parse_policy, wildcard_match

ROLE = "arn:aws:iam::111111111111:role/orders-dev-orders-api-role"
TABLE = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders-dev-orders"


def policy(*statements: dict) -> list:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, "test-policy")


def allow(actions, resources, **extra) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def request(action: str, resource: str, **context: list[str]) -> Request:
    return Request(
        ROLE, action, resource, {k.replace("__", ":"): tuple(v) for k, v in context.items()}
    )


def test_an_allow_on_the_exact_action_and_resource_allows():
    verdict = evaluate(request("dynamodb:PutItem", TABLE), policy(allow("dynamodb:PutItem", TABLE)))
    assert verdict.decision is Decision.ALLOWED
    assert verdict.matched[0].label == "test-policy#statement 0"


def test_no_matching_statement_is_iams_implicit_deny():
    verdict = evaluate(
        request("dynamodb:DeleteItem", TABLE), policy(allow("dynamodb:PutItem", TABLE))
    )
    assert verdict.decision is Decision.NOT_ALLOWED


def test_an_explicit_deny_wins_over_any_allow():
    statements = policy(
        allow("dynamodb:*", "*"),
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE},
    )
    verdict = evaluate(request("dynamodb:DeleteItem", TABLE), statements)
    assert verdict.decision is Decision.DENIED
    assert verdict.matched[0].sid == "NoDeletes"
    assert evaluate(request("dynamodb:PutItem", TABLE), statements).allowed


def test_a_deny_in_the_resource_policy_wins_over_the_identity_allow():
    queue = "arn:aws:sqs:eu-west-1:111111111111:orders-dev-orders"
    queue_policy = parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": queue,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ]
        },
        "queue policy",
    )
    identity = policy(allow("sqs:SendMessage", queue))
    over_tls = request("sqs:SendMessage", queue, aws__SecureTransport=["true"])
    plain = request("sqs:SendMessage", queue, aws__SecureTransport=["false"])
    assert evaluate(over_tls, identity, queue_policy).allowed
    assert evaluate(plain, identity, queue_policy).decision is Decision.DENIED


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (
            "arn:aws:lambda:eu-west-1:1:function:orders-dev-*",
            "arn:aws:lambda:eu-west-1:1:function:orders-dev-api",
            True,
        ),
        (
            "arn:aws:lambda:eu-west-1:1:function:orders-dev-*",
            "arn:aws:lambda:eu-west-1:1:function:orders-dev-api:live",
            True,
        ),
        (
            "arn:aws:lambda:eu-west-1:1:function:orders-dev-*",
            "arn:aws:lambda:eu-west-1:1:function:orders-prod-api",
            False,
        ),
        (
            "arn:aws:lambda:eu-west-1:1:function:orders-dev-*",
            "arn:aws:lambda:eu-west-2:1:function:orders-dev-api",
            False,
        ),
        ("arn:aws:sqs:eu-west-1:1:orders-dev-?", "arn:aws:sqs:eu-west-1:1:orders-dev-a", True),
        ("arn:aws:sqs:eu-west-1:1:orders-dev-?", "arn:aws:sqs:eu-west-1:1:orders-dev-ab", False),
        ("arn:aws:s3:::bucket/dev/*", "arn:aws:s3:::bucket/dev/platform.tfstate", True),
        ("arn:aws:s3:::bucket/dev/*", "arn:aws:s3:::bucket/prod/platform.tfstate", False),
        ("arn:aws:s3:::bucket/dev/*", "arn:aws:s3:::bucket", False),
        (
            "arn:aws:dynamodb:eu-west-1:1:table/t",
            "arn:aws:dynamodb:eu-west-1:1:table/t/index/i",
            False,
        ),
        ("arn:aws:dynamodb:eu-west-1:1:table/[t]", "arn:aws:dynamodb:eu-west-1:1:table/t", False),
    ],
)
def test_a_wildcard_arn_matches_only_what_it_should(pattern, value, matches):
    assert wildcard_match(pattern, value) is matches
    verdict = evaluate(
        request("lambda:GetFunction", value), policy(allow("lambda:GetFunction", pattern))
    )
    assert verdict.allowed is matches


def test_actions_match_case_insensitively_with_wildcards_and_resources_do_not():
    statements = policy(allow("DynamoDB:Get*", TABLE))
    assert evaluate(request("dynamodb:GetItem", TABLE), statements).allowed
    assert not evaluate(request("dynamodb:PutItem", TABLE), statements).allowed
    assert not evaluate(request("dynamodb:GetItem", TABLE.upper()), statements).allowed


def test_an_action_without_resource_level_permissions_needs_a_star_resource():
    listing = request("lambda:ListEventSourceMappings", "*")
    assert evaluate(listing, policy(allow("lambda:ListEventSourceMappings", "*"))).allowed
    scoped = policy(
        allow("lambda:ListEventSourceMappings", "arn:aws:lambda:eu-west-1:1:function:*")
    )
    assert not evaluate(listing, scoped).allowed


def test_not_action_and_not_resource_are_honoured():
    everything_but_deletes = policy(
        {"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": TABLE}
    )
    assert evaluate(request("dynamodb:PutItem", TABLE), everything_but_deletes).allowed
    assert not evaluate(request("dynamodb:DeleteItem", TABLE), everything_but_deletes).allowed

    deny_outside = policy(
        allow("dynamodb:*", "*"),
        {"Effect": "Deny", "Action": "dynamodb:*", "NotResource": [TABLE, f"{TABLE}/index/*"]},
    )
    assert evaluate(request("dynamodb:Query", f"{TABLE}/index/by-customer"), deny_outside).allowed
    other = "arn:aws:dynamodb:eu-west-1:111111111111:table/other"
    assert evaluate(request("dynamodb:Query", other), deny_outside).decision is Decision.DENIED


def test_a_leading_keys_condition_is_evaluated_against_the_items_partition_key():
    statements = policy(
        allow(
            "dynamodb:GetItem",
            TABLE,
            Condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ORDER#*", "SKU#*"]}},
        )
    )
    order = request("dynamodb:GetItem", TABLE, dynamodb__LeadingKeys=["ORDER#1"])
    customer = request("dynamodb:GetItem", TABLE, dynamodb__LeadingKeys=["CUSTOMER#1"])
    assert evaluate(order, statements).allowed
    assert evaluate(customer, statements).decision is Decision.NOT_ALLOWED


def test_a_condition_on_a_key_the_request_does_not_carry_is_not_judged():
    statements = policy(
        allow(
            "apigateway:GET",
            "arn:aws:apigateway:eu-west-1::/apis/*",
            Condition={"StringEquals": {"aws:ResourceTag/platform:environment": "dev"}},
        )
    )
    verdict = evaluate(
        request("apigateway:GET", "arn:aws:apigateway:eu-west-1::/apis/a1"), statements
    )
    assert verdict.decision is Decision.NOT_JUDGED
    assert verdict.unjudged == (
        "test-policy#statement 0: StringEquals aws:ResourceTag/platform:environment",
    )


def key_policy(principal: dict, action: str) -> list:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    return parse_policy({"Statement": [statement]}, "key policy")


def test_identity_policies_count_for_a_kms_key_only_when_its_policy_delegates_to_the_account():
    key = "arn:aws:kms:eu-west-1:111111111111:key/k-1"
    identity = policy(allow("kms:DescribeKey", key))
    delegating = key_policy({"AWS": "arn:aws:iam::111111111111:root"}, "kms:*")
    closed = key_policy({"Service": "cloudwatch.amazonaws.com"}, "kms:Decrypt")
    describe = request("kms:DescribeKey", key)
    assert evaluate(describe, identity, delegating, resource_policy_must_delegate=True).allowed
    closed_verdict = evaluate(describe, identity, closed, resource_policy_must_delegate=True)
    assert closed_verdict.decision is Decision.NOT_ALLOWED
