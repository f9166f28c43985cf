"""Reconciliation: every 202-accepted order ends final or in a DLQ."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from tools import loadtest


def fixed(statuses: dict[str, str]):
    return lambda ids: {i: statuses.get(i, "MISSING") for i in ids}


def test_reconciliation_flags_a_lost_order() -> None:
    result = loadtest.reconcile(
        ["a", "b", "c", "d"],
        fixed({"a": "CONFIRMED", "b": "REJECTED", "c": "CONFIRMED", "d": "PENDING"}),
    )
    assert (result.accepted, result.confirmed, result.rejected) == (4, 2, 1)
    assert (result.in_dlq, result.lost) == (0, 1)
    assert result.not_final == ["d"]
    assert not result.ok
    assert result.line().endswith("lost 1 (not final: PENDING 1)")


def test_an_order_the_api_does_not_know_is_lost() -> None:
    result = loadtest.reconcile(["a", "b"], fixed({"a": "CONFIRMED"}))
    assert result.lost == 1


def test_new_orders_dlq_messages_cover_orders_that_are_not_final() -> None:
    check = fixed({"a": "CONFIRMED", "b": "PENDING", "c": "PENDING"})
    assert loadtest.reconcile(["a", "b", "c"], check, orders_dlq_new=2).ok
    partly = loadtest.reconcile(["a", "b", "c"], check, orders_dlq_new=1)
    assert (partly.in_dlq, partly.lost) == (1, 1)
    # a DLQ holding more than the pending orders covers only those
    assert loadtest.reconcile(["a", "b", "c"], check, orders_dlq_new=9).in_dlq == 2


def test_notification_dlq_messages_never_excuse_a_lost_order() -> None:
    result = loadtest.reconcile(
        ["a", "b"], fixed({"a": "CONFIRMED", "b": "PENDING"}), notifications_dlq_new=5
    )
    assert result.lost == 1
    assert "notifications DLQ +5" in result.line()


def test_order_ids_are_read_once_each(tmp_path) -> None:
    log = tmp_path / "orders.log"
    log.write_text("a\nb\na\n\nc\n")
    assert loadtest.read_order_ids(log) == ["a", "b", "c"]
    assert loadtest.read_order_ids(tmp_path / "absent.log") == []


def _create(url: str, quantity: int = 1) -> str:
    body = {
        "customer_id": "c-1",
        "currency": "EUR",
        "items": [{"sku": "S-1", "quantity": quantity, "unit_price": 2.5}],
    }
    req = urllib.request.Request(  # noqa: S310 - loopback http
        f"{url}/orders",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - loopback http
        assert resp.status == 202
        return json.loads(resp.read())["order_id"]


def test_http_checker_waits_until_orders_are_final(fake_api) -> None:
    api = fake_api(confirm_after=0.5)
    ids = [_create(api.url), _create(api.url, quantity=5)]
    statuses = loadtest.HttpOrderChecker(api.url, wait_s=10, interval_s=0.2)(ids)
    assert statuses == {ids[0]: "CONFIRMED", ids[1]: "REJECTED"}


def test_http_checker_gives_up_on_an_order_that_never_settles(fake_api) -> None:
    api = fake_api(confirm_after=0.1, lose_every=2)
    ids = [_create(api.url), _create(api.url)]
    result = loadtest.reconcile(ids, loadtest.HttpOrderChecker(api.url, wait_s=1, interval_s=0.2))
    assert (result.confirmed, result.lost, result.not_final) == (1, 1, [ids[1]])


def test_http_checker_reports_unknown_ids_as_missing(fake_api) -> None:
    api = fake_api()
    statuses = loadtest.HttpOrderChecker(api.url, wait_s=0.3, interval_s=0.1)(["nope"])
    assert statuses == {"nope": "MISSING"}


def test_dlq_depth_counts_messages_with_boto3(emulator_env, monkeypatch: pytest.MonkeyPatch):
    for key, value in emulator_env.items():
        monkeypatch.setenv(key, value)
    import boto3

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"orders-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    assert loadtest.dlq_depths({"orders DLQ": url, "absent": None}) == {"orders DLQ": 0}
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    assert loadtest.dlq_depth(url) == 3
    bad = loadtest.dlq_depths({"orders DLQ": url + "-does-not-exist"})
    assert bad == {"orders DLQ": None}
