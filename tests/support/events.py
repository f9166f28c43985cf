"""Lambda events for tests, derived from AWS's published sample shapes (tests/events/)."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"


@cache
def _sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


def aws_sample(name: str) -> dict[str, Any]:
    """A copy of one of AWS's published sample events in tests/events (e.g. "sns.json")."""
    return copy.deepcopy(_sample(name))


def http_api_event(
    method: str,
    path: str,
    body: str | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    route_key: str = "$default",
    jwt: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) request, as the sample in tests/events; `jwt` is
    what a JWT authorizer passes on (customer_jwt, admin_jwt), None for a route without one."""
    event = copy.deepcopy(_sample("apigw_http_v2.json"))
    text = json.dumps(body) if isinstance(body, dict) else body
    event["routeKey"] = route_key
    event["rawPath"] = path
    event["rawQueryString"] = urlencode(query or {})
    event["queryStringParameters"] = dict(query) if query else None
    event["headers"] = {
        "content-type": "application/json",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    event["cookies"] = []
    event["pathParameters"] = None
    event["stageVariables"] = None
    event["body"] = text
    event["isBase64Encoded"] = False
    context = event["requestContext"]
    context["http"]["method"] = method
    context["http"]["path"] = path
    context["routeKey"] = route_key
    context["requestId"] = str(uuid.uuid4())
    if jwt is not None:
        context["authorizer"] = {"jwt": jwt}
    return event


USER_POOL_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example12"
SIGN_IN_SCOPE = "aws.cognito.signin.user.admin"


def customer_jwt(customer_id: str, token_use: str = "access") -> dict[str, Any]:  # noqa: S107
    """The authorizer context of a customer's Cognito access token (claims as strings, as API
    Gateway passes them): a user named by its customer id, signed in through the customer
    client."""
    return {
        "claims": {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, customer_id)),
            "iss": USER_POOL_ISSUER,
            "client_id": "customerclient",
            "token_use": token_use,
            "scope": SIGN_IN_SCOPE,
            "username": customer_id,
            "auth_time": "1764662400",
            "iat": "1764662400",
            "exp": "1764666000",
            "jti": str(uuid.uuid4()),
        },
        "scopes": [SIGN_IN_SCOPE],
    }


def admin_jwt(scope: str = "orders/admin") -> dict[str, Any]:
    """The authorizer context of the admin client's client-credentials token: no user."""
    return {
        "claims": {
            "sub": "adminclient",
            "iss": USER_POOL_ISSUER,
            "client_id": "adminclient",
            "token_use": "access",
            "scope": scope,
            "iat": "1764662400",
            "exp": "1764666000",
            "jti": str(uuid.uuid4()),
        },
        "scopes": [scope],
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS event as Lambda's event source mapping builds it from received messages.

    `messages` are ReceiveMessage results (asked with MessageSystemAttributeNames=All)."""
    records = []
    for message in messages:
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324 - what SQS reports
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that powertools reads."""

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    remaining_ms: int = 30_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
