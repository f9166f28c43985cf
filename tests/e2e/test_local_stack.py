"""The whole platform on the local emulator, through its real HTTP API and queues.

One stack per test session (the `local_stack` fixture): ministack on a free port, the real
Terraform of terraform/environments/local applied to it, the real build running in it.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid

import pytest

from tools.local.stack import host_architecture

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def order(customer: str, sku: str, quantity: int = 1, price: str = "3.50") -> dict:
    return {
        "customer_id": customer,
        "currency": "EUR",
        "items": [{"sku": sku, "quantity": quantity, "unit_price": price}],
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_an_order_is_accepted_confirmed_and_the_customer_notified(local_stack):
    sku, customer = unique("E2E-OK").upper(), "cust-000042"
    local_stack.set_stock(sku, 5)
    accepted = local_stack.request("POST", "/orders", order(customer, sku, quantity=2))
    assert accepted.status == 202, accepted
    order_id = accepted.body["order_id"]
    assert accepted.headers["Location"] == f"/orders/{order_id}"

    final = local_stack.wait_for_final(order_id)
    assert final["status"] == "CONFIRMED"
    assert final["total"] == "7.00"

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mails = [m for m in local_stack.sent_mail() if order_id in m["BodyText"]]
        if mails:
            break
        time.sleep(0.3)
    assert [m["To"] for m in mails] == [[f"success+{customer}@simulator.amazonses.com"]]
    assert mails[0]["Subject"] == f"Order {order_id.split('-')[0]} confirmed"


def test_an_order_beyond_the_stock_is_rejected_with_the_reason(local_stack):
    sku = unique("E2E-SHORT").upper()
    local_stack.set_stock(sku, 1)
    accepted = local_stack.request("POST", "/orders", order("cust-000043", sku, quantity=3))
    final = local_stack.wait_for_final(accepted.body["order_id"])
    assert final["status"] == "REJECTED"
    assert final["reason"] == f"insufficient stock: {sku} (requested 3, available 1)"


def test_a_repeated_idempotency_key_creates_one_order(local_stack):
    customer, sku = unique("cust"), unique("E2E-IDEM").upper()
    local_stack.set_stock(sku, 10)
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = local_stack.request("POST", "/orders", order(customer, sku), headers=headers)
    again = local_stack.request("POST", "/orders", order(customer, sku), headers=headers)
    assert first.status == again.status == 202
    assert first.body == again.body
    local_stack.wait_for_final(first.body["order_id"])
    listing = local_stack.request("GET", f"/customers/{customer}/orders")
    assert [o["order_id"] for o in listing.body["orders"]] == [first.body["order_id"]]
    reused = local_stack.request("POST", "/orders", order(customer, sku, 2), headers=headers)
    assert (reused.status, reused.body["error"]) == (422, "idempotency_key_reused")


@pytest.mark.parametrize(
    ("raw", "headers", "status", "error"),
    [
        (b'{"customer_id": ', {}, 400, "malformed_json"),
        (b"\xff\xfe{\x00}", {}, 400, "malformed_json"),  # not UTF-8
        # mtime=0: the same bytes, and so the same test id, in every xdist worker's collection
        (gzip.compress(b'{"customer_id": "c-1"}', mtime=0), {"Content-Encoding": "gzip"}, 415,
         "unsupported_content_encoding"),
        (b"x" * (64 * 1024 + 1), {}, 413, "body_too_large"),
        (b"customer_id=c-1", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
         "unsupported_media_type"),
        (
            json.dumps({"customer_id": "c-1", "currency": "EUR", "items": []}).encode(),
            {},
            422,
            "validation_failed",
        ),
    ],
    ids=["truncated_json", "not_utf8", "gzip", "too_large", "form_encoded", "no_items"],
)  # fmt: skip
def test_bad_requests_get_a_4xx_with_a_reason_through_the_real_http_path(
    local_stack, raw, headers, status, error
):
    response = local_stack.request("POST", "/orders", raw=raw, headers=headers)
    assert (response.status, response.body["error"]) == (status, error), response
    assert response.body["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/health", 200), ("GET", "/no/such/route", 404), ("DELETE", "/orders", 405)],
)
def test_a_stray_body_does_not_change_the_answer_where_no_body_is_read(
    local_stack, method, path, status
):
    response = local_stack.request(
        method, path, raw=b"hello", headers={"Content-Type": "text/plain"}
    )
    assert response.status == status, response


def test_unknown_routes_are_404_and_wrong_methods_405(local_stack):
    missing = local_stack.request("GET", "/no/such/route")
    assert (missing.status, missing.body["error"]) == (404, "not_found")
    wrong = local_stack.request("PUT", "/orders")
    assert (wrong.status, wrong.headers.get("Allow")) == (405, "POST")


def test_a_poison_message_reaches_the_dlq_after_three_receives_while_its_batch_goes_through(
    local_stack, poisoned_orders_dlq
):
    for order_id in poisoned_orders_dlq.good_order_ids:
        assert local_stack.wait_for_final(order_id)["status"] == "CONFIRMED"
    found = poisoned_orders_dlq.dead_letter
    assert found["Body"] == poisoned_orders_dlq.poison_body
    assert found["MessageId"] == poisoned_orders_dlq.poison_id
    assert int(found["Attributes"]["ApproximateReceiveCount"]) >= 3


def test_a_second_plan_after_apply_shows_no_changes(local_stack):
    assert local_stack.stack.plan_is_empty()


def test_a_clean_rebuild_without_source_changes_plans_no_change(local_stack):
    arch_dir = local_stack.stack.dist_dir / host_architecture()
    for stale in [*arch_dir.glob("*.zip"), arch_dir / "manifest.json"]:
        stale.unlink()
    manifest = local_stack.stack.build()
    assert {entry["kind"] for entry in manifest["artifacts"].values()} == {"function", "layer"}
    assert local_stack.stack.plan_is_empty()


def test_what_terraform_applied_is_what_make_capacity_reads_and_it_paces_the_notifier(local_stack):
    """make capacity plans from the configuration (tools.ops.stack_settings), before any apply;
    the functions must run with those very values. The notifier's share of the SES rate is
    ses_send_rate over the most environments its event source runs at once."""
    from tools.ops.stack_settings import read

    settings = read("local")
    names = local_stack.platform["function_names"]
    lam = local_stack.client("lambda")
    config = {
        service: lam.get_function_configuration(FunctionName=name)
        for service, name in names.items()
    }
    for service, prefix in (
        ("orders_api", "api"),
        ("order_processor", "processor"),
        ("notifier", "notifier"),
    ):
        wanted = settings[f"{prefix}_function"]
        assert config[service]["MemorySize"] == wanted["memory_size"], service
        assert config[service]["Timeout"] == wanted["timeout"], service
    notifier = settings["notifier_function"]
    share = float(config["notifier"]["Environment"]["Variables"]["MAIL_SENDS_PER_SECOND"])
    assert share == settings["ses_send_rate"] / notifier["maximum_concurrency"]
    mappings = lam.list_event_source_mappings()["EventSourceMappings"]
    caps = {
        service: [
            m.get("ScalingConfig", {}).get("MaximumConcurrency")
            for m in mappings
            if f":function:{names[service]}" in m["FunctionArn"]
        ]
        for service in ("order_processor", "notifier")
    }
    assert caps == {
        "order_processor": [settings["processor_function"]["maximum_concurrency"]],
        "notifier": [notifier["maximum_concurrency"]],
    }
