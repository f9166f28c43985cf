"""The synthetic requests a new function version must answer before it gets traffic.

None of them can change anything: the API is asked for its health, given an order that fails
validation (refused before anything is written) and asked for an order id uuid4 never makes
(version nibble 0); a queue consumer is given one record that is not an order, which it must
report as a failed item (it fails before it touches the table). What each must answer is
part of the check.

The hook invokes the version itself, not through the gateway, so the API's requests carry
what API Gateway's JWT authorizer would pass on for a verified customer access token: the
claims of SMOKE_CALLER, a customer that owns no order (the API decides what a caller may see
from those claims; the gateway, which checks tokens, is not part of a version). Pure data and
rules: the pre-traffic hook invokes them (orders_core.workflows.smoke_test_deployment).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orders_core.ports import Invocation

HTTP_API = "http_api"
SQS_CONSUMER = "sqs_consumer"
KINDS = (HTTP_API, SQS_CONSUMER)

# A well-formed order id that no order has: uuid4 always sets the version nibble to 4.
MISSING_ORDER_ID = "00000000-0000-0000-0000-000000000000"
SMOKE_MESSAGE_ID = "pre-traffic-smoke-test"
SMOKE_CALLER = "pre-traffic-hook"
SIGN_IN_SCOPE = "aws.cognito.signin.user.admin"  # what a customer's access token carries


@dataclass(frozen=True)
class SmokeCheck:
    name: str
    event: Mapping[str, Any]
    judge: Callable[[Any], str | None]  # the payload -> what is wrong, or None

    def problem(self, answer: Invocation) -> str | None:
        if answer.function_error:
            return f"raised ({answer.function_error}): {_short(answer.payload)}"
        return self.judge(answer.payload)


def _short(payload: Any) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    return text[:300]


def http_request(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API request (payload format 2.0), as the stage sends it."""
    headers = {"user-agent": "pre-traffic-hook"}
    if body is not None:
        headers["content-type"] = "application/json"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pre-traffic-hook",
            },
            "requestId": f"pre-traffic-{method.lower()}-{path.strip('/').replace('/', '-')}",
            "routeKey": "$default",
            "authorizer": {
                "jwt": {
                    "claims": {
                        "token_use": "access",
                        "username": SMOKE_CALLER,
                        "client_id": SMOKE_CALLER,
                        "scope": SIGN_IN_SCOPE,
                    },
                    "scopes": [SIGN_IN_SCOPE],
                }
            },
            "stage": "$default",
            "timeEpoch": 0,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def answers_status(*expected: int) -> Callable[[Any], str | None]:
    def judge(payload: Any) -> str | None:
        status = payload.get("statusCode") if isinstance(payload, Mapping) else None
        if status in expected:
            return None
        wanted = " or ".join(map(str, expected))
        return f"answered {status} (expected {wanted}): {_short(payload)}"

    return judge


def reports_the_record_failed(payload: Any) -> str | None:
    expected = {"batchItemFailures": [{"itemIdentifier": SMOKE_MESSAGE_ID}]}
    if payload == expected:
        return None
    return f"answered {_short(payload)} (expected {json.dumps(expected)})"


def sqs_batch_of_one_non_order() -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": SMOKE_MESSAGE_ID,
                "receiptHandle": SMOKE_MESSAGE_ID,
                "body": "pre-traffic smoke test: not an order, nothing to do",
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:pre-traffic-smoke-test",
                "awsRegion": "us-east-1",
            }
        ]
    }


def checks_for(kind: str) -> tuple[SmokeCheck, ...]:
    if kind == HTTP_API:
        return (
            SmokeCheck("GET /health", http_request("GET", "/health"), answers_status(200)),
            SmokeCheck(
                "POST /orders (invalid)",
                # No items, no currency: refused by validation before anything is written.
                http_request("POST", "/orders", json.dumps({"customer_id": SMOKE_CALLER})),
                answers_status(400, 422),
            ),
            SmokeCheck(
                "GET /orders/{missing}",
                http_request("GET", f"/orders/{MISSING_ORDER_ID}"),
                answers_status(404),
            ),
        )
    if kind == SQS_CONSUMER:
        return (
            SmokeCheck(
                "SQS batch of one non-order",
                sqs_batch_of_one_non_order(),
                reports_the_record_failed,
            ),
        )
    raise ValueError(f"no smoke checks of kind {kind!r}; kinds: {', '.join(KINDS)}")
