"""orders_api through its Lambda entry point, with moto for DynamoDB and SQS."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from orders_api import handler
from orders_core import wiring
from orders_core.domain import OrderStatus
from orders_core.ports import Unavailable
from tests.support.events import LambdaContext, admin_jwt, customer_jwt, http_api_event

ORDER = {
    "customer_id": "c-42",
    "currency": "EUR",
    "items": [
        {"sku": "SKU-MUG", "quantity": 2, "unit_price": "12.50"},
        {"sku": "SKU-TEA", "quantity": 1, "unit_price": 4.2},
    ],
}


def call(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, dict, dict]:
    """The request as customer c-42 (ORDER's), unless `jwt` names another caller."""
    kwargs.setdefault("jwt", customer_jwt("c-42"))
    response = handler.lambda_handler(http_api_event(method, path, body, **kwargs), LambdaContext())
    return response["statusCode"], json.loads(response["body"] or "null"), response["headers"]


def queued(platform) -> list[dict]:
    return [json.loads(r["body"]) for r in platform.orders_event()["Records"]]


def test_an_order_is_accepted_enqueued_and_recorded_pending(platform):
    status, body, headers = call("POST", "/orders", ORDER)
    assert status == 202
    order_id = body["order_id"]
    assert body == {
        "order_id": order_id,
        "status": "PENDING",
        "links": {"self": f"/orders/{order_id}"},
    }
    assert headers["Location"] == f"/orders/{order_id}"
    [message] = queued(platform)
    assert message["order_id"] == order_id
    assert message["customer_id"] == "c-42"
    assert [item["sku"] for item in message["items"]] == ["SKU-MUG", "SKU-TEA"]
    assert message["status"] == "PENDING"  # the message is the accepted order itself
    assert platform.table.get_order(order_id).status is OrderStatus.PENDING


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer_id": ""}, "customer_id"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "XXY"}, "currency"),
        ({"items": []}, "items"),
        ({"items": [{"sku": "SKU-1", "quantity": 0, "unit_price": "1"}]}, "items[0].quantity"),
        ({"items": [{"sku": "SKU-1", "quantity": 1, "unit_price": "-1"}]}, "items[0].unit_price"),
        ({"items": [{"sku": "SKU-1", "quantity": 1}]}, "items[0].unit_price"),
        ({"items": [{"sku": "SKU-1", "quantity": 1, "unit_price": "1"}] * 101}, "items"),
        ({"currency": "JPY", "items": [{"sku": "S", "quantity": 1, "unit_price": "9.5"}]}, "items"),
        ({"coupon": "FREE"}, "coupon"),
    ],
)
def test_an_invalid_order_is_refused_with_the_failing_field(platform, change, field):
    status, body, _ = call("POST", "/orders", {**ORDER, **change})
    assert status == 422
    assert body["error"] == "validation_failed"
    assert field in [problem["field"] for problem in body["fields"]], body
    assert all(problem["message"] for problem in body["fields"])
    assert queued(platform) == []


def test_a_body_that_is_not_json_is_a_bad_request(platform):
    status, body, _ = call("POST", "/orders", '{"customer_id": ')
    assert (status, body["error"]) == (400, "malformed_json")


def test_a_body_over_64_kib_is_too_large(platform):
    status, body, _ = call("POST", "/orders", {**ORDER, "padding": "x" * 65536})
    assert (status, body["error"]) == (413, "body_too_large")


def test_a_body_that_is_not_declared_json_is_an_unsupported_media_type(platform):
    status, body, _ = call(
        "POST", "/orders", json.dumps(ORDER), headers={"Content-Type": "text/plain"}
    )
    assert (status, body["error"]) == (415, "unsupported_media_type")
    assert "text/plain" in body["message"]


def test_a_body_that_is_not_utf8_is_a_bad_request_not_a_server_error(platform, log_lines):
    event = http_api_event("POST", "/orders")
    event["body"] = base64.b64encode(b"\xff\xfe{\x00}").decode()
    event["isBase64Encoded"] = True
    response = handler.lambda_handler(event, LambdaContext())
    body = json.loads(response["body"])
    assert (response["statusCode"], body["error"]) == (400, "malformed_json")
    assert_a_client_error_logged_as_such(log_lines(), 400)


def assert_a_client_error_logged_as_such(lines: list[dict], status: int) -> None:
    """A client's mistake is one INFO line with its status: no ERROR line for the 5xx alarm's
    log searches, no stack trace."""
    assert [line["level"] for line in lines] == ["INFO"], lines
    assert lines[0]["status"] == status


def test_a_compressed_body_is_an_unsupported_media_type(platform, log_lines):
    event = http_api_event("POST", "/orders", headers={"Content-Encoding": "gzip"})
    event["body"] = base64.b64encode(gzip.compress(json.dumps(ORDER).encode(), mtime=0)).decode()
    event["isBase64Encoded"] = True
    response = handler.lambda_handler(event, LambdaContext())
    body = json.loads(response["body"])
    assert (response["statusCode"], body["error"]) == (415, "unsupported_content_encoding")
    assert_a_client_error_logged_as_such(log_lines(), 415)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [("GET", "/health", 200), ("GET", "/nothing-here", 404), ("PUT", "/orders", 405)],
)
def test_a_body_is_judged_only_on_routes_that_read_one(platform, method, path, expected):
    # a stray body of another media type changes nothing where no body is read
    status, _, _ = call(method, path, "hello", headers={"Content-Type": "text/plain"})
    assert status == expected


@pytest.mark.parametrize(
    ("path", "field"),
    [("/orders/\x84", "order_id"), ("/customers/c\t1/orders", "customer_id")],
)
def test_an_id_with_characters_the_router_cannot_read_is_a_validation_error(platform, path, field):
    # the route exists, but no id has such characters: a 422 as for any malformed id, not a 405
    status, body, _ = call("GET", path)
    assert (status, body["error"]) == (422, "validation_failed")
    assert [problem["field"] for problem in body["fields"]] == [field]


def test_the_same_idempotency_key_and_body_return_the_first_answer_and_one_order(platform):
    headers = {"Idempotency-Key": "key-123"}
    first = call("POST", "/orders", ORDER, headers=headers)
    second = call("POST", "/orders", ORDER, headers=headers)
    assert first[0] == second[0] == 202
    assert first[1] == second[1]
    assert len(queued(platform)) == 1


def test_the_same_idempotency_key_with_another_body_is_refused(platform):
    headers = {"Idempotency-Key": "key-123"}
    call("POST", "/orders", ORDER, headers=headers)
    status, body, _ = call("POST", "/orders", {**ORDER, "currency": "USD"}, headers=headers)
    assert (status, body["error"]) == (422, "idempotency_key_reused")
    assert len(queued(platform)) == 1


def test_idempotency_keys_belong_to_one_customer(platform):
    headers = {"Idempotency-Key": "shared-key"}
    a = call("POST", "/orders", ORDER, headers=headers)
    b = call(
        "POST",
        "/orders",
        {**ORDER, "customer_id": "c-43"},
        headers=headers,
        jwt=customer_jwt("c-43"),
    )
    assert a[1]["order_id"] != b[1]["order_id"]
    assert len(queued(platform)) == 2


def test_an_order_that_cannot_be_enqueued_gets_503_and_leaves_nothing(platform, monkeypatch):
    platform.sqs.delete_queue(QueueUrl=platform.orders_queue_url)
    status, body, headers = call("POST", "/orders", ORDER, headers={"Idempotency-Key": "k"})
    assert (status, body["error"]) == (503, "temporarily_unavailable")
    assert headers["Retry-After"] == "1"
    scan = platform.table.dynamodb.scan(TableName=platform.table.table_name)["Items"]
    assert scan == [], "neither an order nor an idempotency record may remain"


def test_an_order_whose_pending_record_fails_is_still_accepted_and_processed(platform, monkeypatch):
    from order_processor.handler import lambda_handler as process

    platform.stock({"SKU-MUG": 10, "SKU-TEA": 10})

    def table_down(self, order):
        raise Unavailable("table unavailable (injected)")

    with monkeypatch.context() as patch:
        patch.setattr(type(platform.table), "add_pending", table_down)
        status, body, _ = call("POST", "/orders", ORDER)
    assert status == 202
    assert call("GET", f"/orders/{body['order_id']}")[0] == 404
    assert process(platform.orders_event(), LambdaContext()) == {"batchItemFailures": []}
    status, view, _ = call("GET", f"/orders/{body['order_id']}")
    assert (status, view["status"]) == (200, "CONFIRMED")


def test_an_order_can_be_read_back(platform):
    order_id = call("POST", "/orders", ORDER)[1]["order_id"]
    status, body, _ = call("GET", f"/orders/{order_id}")
    assert status == 200
    assert body["status"] == "PENDING"
    assert body["total"] == "29.20"
    assert body["items"][1] == {"sku": "SKU-TEA", "quantity": 1, "unit_price": "4.20"}


def test_an_unknown_order_is_404_and_a_malformed_id_is_422(platform):
    status, body, _ = call("GET", "/orders/00000000-0000-4000-8000-000000000000")
    assert (status, body["error"]) == (404, "order_not_found")
    status, body, _ = call("GET", "/orders/not-a-uuid")
    assert (status, body["fields"][0]["field"]) == (422, "order_id")


def test_a_customers_orders_are_listed_newest_first_in_pages(platform):
    ids = [call("POST", "/orders", ORDER)[1]["order_id"] for _ in range(3)]
    status, page, _ = call("GET", "/customers/c-42/orders", query={"limit": "2"})
    assert status == 200
    assert [o["order_id"] for o in page["orders"]] == ids[::-1][:2]
    assert page["orders"][0]["links"]["self"] == f"/orders/{ids[2]}"
    status, rest, _ = call(
        "GET", "/customers/c-42/orders", query={"limit": "2", "cursor": page["next_cursor"]}
    )
    assert [o["order_id"] for o in rest["orders"]] == [ids[0]]
    assert rest["next_cursor"] is None


def test_listing_refuses_a_bad_limit_or_cursor(platform):
    status, body, _ = call("GET", "/customers/c-42/orders", query={"limit": "101"})
    assert (status, body["fields"][0]["field"]) == (422, "limit")
    status, body, _ = call("GET", "/customers/c-42/orders", query={"cursor": "garbage"})
    assert (status, body["error"]) == (400, "invalid_cursor")


def test_unknown_routes_are_404_and_wrong_methods_405_with_allow(platform):
    status, body, _ = call("GET", "/nothing-here")
    assert (status, body["error"]) == (404, "not_found")
    status, body, headers = call("DELETE", "/orders/00000000-0000-4000-8000-000000000000")
    assert (status, body["error"]) == (405, "method_not_allowed")
    assert headers["Allow"] == "GET"


def test_an_unexpected_error_is_500_without_internals(platform, monkeypatch):
    def explode(self, order_id):
        raise RuntimeError("secret table layout leaked")

    monkeypatch.setattr(type(platform.table), "get_order", explode)
    status, body, _ = call("GET", "/orders/00000000-0000-4000-8000-000000000000")
    assert status == 500
    assert body["error"] == "internal_error"
    assert "secret" not in json.dumps(body)
    assert body["request_id"]


def test_health_answers_without_touching_aws(platform, monkeypatch):
    monkeypatch.delenv("TABLE_NAME")
    assert call("GET", "/health")[:2] == (200, {"status": "ok"})


def test_each_request_logs_one_line_with_its_request_id_and_counts_accepted_orders(
    platform, log_lines, capsys
):
    event = http_api_event("POST", "/orders", ORDER, jwt=customer_jwt("c-42"))
    handler.lambda_handler(event, LambdaContext())
    handled = [line for line in log_lines() if line.get("message") == "request handled"]
    assert len(handled) == 1
    assert handled[0]["correlation_id"] == event["requestContext"]["requestId"]
    assert handled[0]["status"] == 202
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    [emf] = [blob for blob in emitted if "OrdersAccepted" in blob]
    assert emf["OrdersAccepted"] == [1.0]
    assert ["environment"] in emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"]


# --- who calls: the token's claims ---------------------------------------------------------------


def test_an_order_is_placed_for_the_customer_the_token_names(platform):
    status, body, _ = call(
        "POST", "/orders", {**ORDER, "customer_id": "c-7"}, jwt=customer_jwt("c-7")
    )

    assert status == 202
    assert platform.table.get_order(body["order_id"]).customer_id == "c-7"


@pytest.mark.parametrize(
    ("jwt", "reason"),
    [
        (customer_jwt("c-43"), "'c-42' is not the signed-in customer ('c-43')"),
        (admin_jwt(), "this token has no customer"),
    ],
)
def test_an_order_for_a_customer_other_than_the_token_s_is_refused(platform, jwt, reason):
    status, body, _ = call("POST", "/orders", ORDER, jwt=jwt)

    assert (status, body["error"]) == (403, "customer_mismatch")
    assert reason in body["message"]
    assert queued(platform) == []


def test_another_customer_s_order_answers_404_like_a_missing_one(platform):
    order_id = call("POST", "/orders", ORDER)[1]["order_id"]

    status, body, _ = call("GET", f"/orders/{order_id}", jwt=customer_jwt("c-43"))
    missing = call("GET", "/orders/7d1f3c2a-0000-4000-8000-000000000000", jwt=customer_jwt("c-43"))

    assert (status, body["error"]) == (404, "order_not_found")
    assert (missing[0], missing[1]["error"]) == (404, "order_not_found")
    assert call("GET", f"/orders/{order_id}")[1]["customer_id"] == "c-42"  # its own customer


def test_another_customer_s_order_list_answers_404(platform):
    call("POST", "/orders", ORDER)

    status, body, _ = call("GET", "/customers/c-42/orders", jwt=customer_jwt("c-43"))

    assert (status, body["error"]) == (404, "customer_not_found")
    assert call("GET", "/customers/c-43/orders", jwt=customer_jwt("c-43"))[:2] == (
        200,
        {"orders": [], "next_cursor": None},
    )


def test_the_admin_scope_reads_any_customer_s_orders(platform):
    order_id = call("POST", "/orders", ORDER)[1]["order_id"]

    order = call("GET", f"/orders/{order_id}", jwt=admin_jwt())
    listing = call("GET", "/customers/c-42/orders", jwt=admin_jwt())

    assert (order[0], order[1]["customer_id"]) == (200, "c-42")
    assert (listing[0], [o["order_id"] for o in listing[1]["orders"]]) == (200, [order_id])
    other_scope = call("GET", f"/orders/{order_id}", jwt=admin_jwt("orders/reports"))
    assert other_scope[0] == 404  # a client-credentials token without orders/admin reads nothing


def test_the_admin_scope_is_the_one_the_stack_configures(platform, monkeypatch):
    order_id = call("POST", "/orders", ORDER)[1]["order_id"]
    monkeypatch.setenv("ADMIN_SCOPE", "shop/back-office")
    wiring.install(None)  # settings are read once per execution environment

    assert call("GET", f"/orders/{order_id}", jwt=admin_jwt("shop/back-office"))[0] == 200
    assert call("GET", f"/orders/{order_id}", jwt=admin_jwt("orders/admin"))[0] == 404


def test_an_id_token_is_refused_even_though_the_gateway_let_it_through(platform):
    status, body, _ = call("GET", "/customers/c-42/orders", jwt=customer_jwt("c-42", "id"))

    assert (status, body["error"]) == (401, "access_token_required")
    assert "make token" in body["message"]


def test_a_request_without_the_authorizer_s_claims_is_unauthenticated(platform):
    status, body, _ = call("POST", "/orders", ORDER, jwt=None)

    assert (status, body["error"]) == (401, "unauthenticated")
    assert queued(platform) == []
    assert call("GET", "/health", jwt=None)[0] == 200
