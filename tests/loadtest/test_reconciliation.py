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
    assert result.line().endswith("lost 1 (lost as: PENDING 1)")


def test_an_order_the_api_does_not_know_is_lost() -> None:
    result = loadtest.reconcile(["a", "b"], fixed({"a": "CONFIRMED"}))
    assert result.lost == 1
    assert result.not_final_statuses == {"MISSING": 1}


def test_orders_in_a_dead_letter_queue_are_not_lost() -> None:
    check = fixed({"a": "CONFIRMED", "b": "PENDING", "c": "PENDING"})
    dlqs = {"orders DLQ": {"b", "someone-else"}, "notifications DLQ": {"a"}}
    result = loadtest.reconcile(["a", "b", "c"], check, lambda: dlqs)
    assert (result.in_dlq, result.lost, result.not_final) == (1, 1, ["c"])
    # counted per queue, only this run's orders
    assert result.dlq_orders == {"orders DLQ": 1, "notifications DLQ": 1}
    assert loadtest.reconcile(["a", "b"], check, lambda: dlqs).ok
    # read once even when every order is final: the count of failed notifications
    final = loadtest.reconcile(["a"], check, lambda: dlqs)
    assert final.dlq_orders == {"orders DLQ": 0, "notifications DLQ": 1}


def test_orders_seen_final_during_the_run_are_not_read_again() -> None:
    asked: list[list[str]] = []

    def checker(ids):
        asked.append(list(ids))
        return dict.fromkeys(ids, "CONFIRMED")

    result = loadtest.reconcile(["a", "b", "c"], checker, seen_final={"a": "REJECTED"})
    assert asked == [["b", "c"]]
    assert (result.confirmed, result.rejected, result.lost) == (2, 1, 0)


def test_reconciliation_waits_for_orders_to_settle_then_gives_up() -> None:
    reads = {"n": 0}

    def settling(ids):
        reads["n"] += 1
        return dict.fromkeys(ids, "CONFIRMED" if reads["n"] >= 3 else "PENDING")

    settled = loadtest.reconcile(["a"], settling, wait_s=5, interval_s=0.01)
    assert settled.ok
    assert reads["n"] == 3
    never = loadtest.reconcile(["a"], fixed({"a": "PENDING"}), wait_s=0.05, interval_s=0.01)
    assert never.lost == 1


def test_order_ids_and_final_statuses_are_read_from_the_orders_log(tmp_path) -> None:
    log = tmp_path / "orders.log"
    log.write_text("a\nb\na\n\nc\na CONFIRMED\nc REJECTED\nz CONFIRMED\nb PENDING\n")
    assert loadtest.read_orders(log) == (["a", "b", "c"], {"a": "CONFIRMED", "c": "REJECTED"})
    assert loadtest.read_orders(tmp_path / "absent.log") == ([], {})


def test_the_order_of_a_dead_letter_message_is_found_in_any_of_its_shapes() -> None:
    attribute = {"MessageAttributes": {"order_id": {"StringValue": "o-1"}}, "Body": "{}"}
    order_message = {"Body": json.dumps({"order_id": "o-2", "lines": []})}
    event = {"Body": json.dumps({"detail-type": "OrderConfirmed", "detail": {"order_id": "o-3"}})}
    assert [loadtest.order_id_of(m) for m in (attribute, order_message, event)] == [
        "o-1",
        "o-2",
        "o-3",
    ]
    assert loadtest.order_id_of({"Body": "not json"}) is None
    assert loadtest.order_id_of({"Body": "[1]"}) is None


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


def test_http_checker_reads_statuses_and_reports_unknown_ids_as_missing(fake_api) -> None:
    api = fake_api(confirm_after=0.0)
    ids = [_create(api.url), _create(api.url, quantity=5)]
    statuses = loadtest.HttpOrderChecker(api.url)([*ids, "nope"])
    assert statuses == {ids[0]: "CONFIRMED", ids[1]: "REJECTED", "nope": "MISSING"}


def test_http_checker_sweeps_stay_within_their_time_budget(fake_api) -> None:
    api = fake_api(response_delay=0.3)
    checker = loadtest.HttpOrderChecker(api.url, budget_s=0.5, workers=1)
    statuses = checker([_create(api.url) for _ in range(3)])
    assert "UNKNOWN" in statuses.values()  # not all read: the budget ran out first


@pytest.mark.e2e
@pytest.mark.xdist_group("local_stack")
def test_dlq_reader_finds_the_orders_in_the_queues_and_leaves_them_there(local_stack) -> None:
    sqs = local_stack.client("sqs")
    url = sqs.create_queue(QueueName=f"loadtest-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    try:
        for n in range(12):
            sqs.send_message(
                QueueUrl=url,
                MessageBody=json.dumps({"order_id": f"o-{n}"}),
                MessageAttributes={"order_id": {"DataType": "String", "StringValue": f"o-{n}"}},
            )
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"detail": {"order_id": "o-x"}}))
        reader = loadtest.DlqReader(lambda: sqs, {"orders DLQ": url})
        assert reader() == {"orders DLQ": {f"o-{n}" for n in range(12)} | {"o-x"}}
        assert reader()["orders DLQ"] == {f"o-{n}" for n in range(12)} | {"o-x"}  # remembered
        depth = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        assert int(depth["ApproximateNumberOfMessagesNotVisible"]) == 13  # read, not deleted
        broken = loadtest.DlqReader(lambda: sqs, {"orders DLQ": url + "-missing"})
        assert broken() == {"orders DLQ": set()}
    finally:
        sqs.delete_queue(QueueUrl=url)
