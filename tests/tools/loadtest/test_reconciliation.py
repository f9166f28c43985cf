"""Reconciliation: every 202-accepted order ends final or in a DLQ; what cannot be read is
unverified, not lost; statuses come from the table in bulk, or from the API as the fallback."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime
from http import HTTPStatus

import pytest

from orders_core.domain import Order, OrderItem, OrderStatus
from tests.support.orders_table import moto_orders_table
from tools.loadtest import reconcile

REGION = "eu-west-1"


def fixed(statuses: dict[str, str]):
    return lambda ids: {i: statuses.get(i, reconcile.MISSING) for i in ids}


def test_reconciliation_flags_a_lost_order() -> None:
    result = reconcile.reconcile(
        ["a", "b", "c", "d"],
        fixed({"a": "CONFIRMED", "b": "REJECTED", "c": "CONFIRMED", "d": "PENDING"}),
    )
    assert (result.accepted, result.confirmed, result.rejected) == (4, 2, 1)
    assert (result.in_dlq, result.lost, result.unverified) == (0, 1, 0)
    assert result.lost_ids == ["d"]
    assert not result.ok
    assert result.line().endswith("lost 1, unverified 0 (lost as: PENDING 1)")


def test_an_order_the_source_does_not_know_is_lost() -> None:
    result = reconcile.reconcile(["a", "b"], fixed({"a": "CONFIRMED"}))
    assert result.lost == 1
    assert result.lost_statuses == {"MISSING": 1}


def test_an_order_that_could_not_be_read_is_unverified_not_lost() -> None:
    def reader(ids):
        # "b" answered as unreadable, "c" left out (the budget ran out before it)
        return {"a": "CONFIRMED", "b": reconcile.UNREADABLE}

    result = reconcile.reconcile(["a", "b", "c"], reader)
    assert (result.confirmed, result.lost, result.unverified) == (1, 0, 2)
    assert result.unverified_ids == ["b", "c"]
    assert not result.ok


def test_orders_in_a_dead_letter_queue_are_not_lost() -> None:
    check = fixed({"a": "CONFIRMED", "b": "PENDING", "c": "PENDING"})
    dlqs = {"orders DLQ": {"b", "someone-else"}, "notifications DLQ": {"a"}}
    result = reconcile.reconcile(["a", "b", "c"], check, lambda: dlqs)
    assert (result.in_dlq, result.lost, result.lost_ids) == (1, 1, ["c"])
    # counted per queue, only this run's orders
    assert result.dlq_orders == {"orders DLQ": 1, "notifications DLQ": 1}
    assert reconcile.reconcile(["a", "b"], check, lambda: dlqs).ok
    # read once even when every order is final: the count of failed notifications
    final = reconcile.reconcile(["a"], check, lambda: dlqs)
    assert final.dlq_orders == {"orders DLQ": 0, "notifications DLQ": 1}


def test_orders_seen_final_during_the_run_are_not_read_again() -> None:
    asked: list[list[str]] = []

    def reader(ids):
        asked.append(list(ids))
        return dict.fromkeys(ids, "CONFIRMED")

    result = reconcile.reconcile(["a", "b", "c"], reader, seen_final={"a": "REJECTED"})
    assert asked == [["b", "c"]]
    assert (result.confirmed, result.rejected, result.lost) == (2, 1, 0)


def test_reconciliation_waits_for_orders_to_settle_then_gives_up() -> None:
    reads = {"n": 0}

    def settling(ids):
        reads["n"] += 1
        return dict.fromkeys(ids, "CONFIRMED" if reads["n"] >= 3 else "PENDING")

    settled = reconcile.reconcile(["a"], settling, wait_s=5, interval_s=0.01)
    assert settled.ok
    assert reads["n"] == 3
    never = reconcile.reconcile(["a"], fixed({"a": "PENDING"}), wait_s=0.05, interval_s=0.01)
    assert never.lost == 1


def test_order_logs_of_several_load_generators_merge(tmp_path) -> None:
    one, two = tmp_path / "one.log", tmp_path / "two.log"
    one.write_text("a\nb\na\n\nc\na CONFIRMED\nc REJECTED\nz CONFIRMED\nb PENDING\n")
    two.write_text("d\nb\nd CONFIRMED\n")
    assert reconcile.read_orders(one) == (["a", "b", "c"], {"a": "CONFIRMED", "c": "REJECTED"})
    assert reconcile.read_orders([one, two, tmp_path / "absent.log"]) == (
        ["a", "b", "c", "d"],
        {"a": "CONFIRMED", "c": "REJECTED", "d": "CONFIRMED"},
    )


def test_the_order_of_a_dead_letter_message_is_found_in_any_of_its_shapes() -> None:
    attribute = {"MessageAttributes": {"order_id": {"StringValue": "o-1"}}, "Body": "{}"}
    order_message = {"Body": json.dumps({"order_id": "o-2", "lines": []})}
    event = {"Body": json.dumps({"detail-type": "OrderConfirmed", "detail": {"order_id": "o-3"}})}
    assert [reconcile.order_id_of(m) for m in (attribute, order_message, event)] == [
        "o-1",
        "o-2",
        "o-3",
    ]
    assert reconcile.order_id_of({"Body": "not json"}) is None
    assert reconcile.order_id_of({"Body": "[1]"}) is None


# --- the API as the source ------------------------------------------------------------------


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


def test_http_reader_reads_statuses_and_reports_unknown_ids_as_missing(fake_api) -> None:
    api = fake_api(confirm_after=0.0)
    ids = [_create(api.url), _create(api.url, quantity=5)]
    statuses = reconcile.HttpStatusReader(api.url)([*ids, "nope"])
    assert statuses == {ids[0]: "CONFIRMED", ids[1]: "REJECTED", "nope": "MISSING"}


def test_http_reader_keeps_its_connections_alive(fake_api) -> None:
    api = fake_api(confirm_after=0.0)
    ids = [_create(api.url) for _ in range(20)]
    before = api.connections
    statuses = reconcile.HttpStatusReader(api.url, workers=4)(ids * 10)
    assert set(statuses.values()) == {"CONFIRMED"}
    assert api.connections - before <= 4  # 200 reads over at most one connection per worker


def test_http_reader_budget_grows_with_the_orders_and_bounds_a_slow_api(fake_api) -> None:
    reader = reconcile.HttpStatusReader("http://127.0.0.1:9", min_budget_s=30)
    assert reader.budget_s(0) == 30
    assert reader.budget_s(135_000) == 30 + 1350  # 10 ms an order
    api = fake_api(response_delay=0.3)
    ids = [_create(api.url) for _ in range(3)]
    slow = reconcile.HttpStatusReader(api.url, workers=1, min_budget_s=0.5, seconds_per_order=0)
    assert reconcile.UNREADABLE in slow(ids).values()  # not all read: the budget ran out


def test_http_reader_stops_asking_an_api_that_keeps_failing(fake_api) -> None:
    api = fake_api(confirm_after=0.0)
    ids = [_create(api.url) for _ in range(5)]
    api.store.read_failure = HTTPStatus.SERVICE_UNAVAILABLE
    before = api.requests
    reader = reconcile.HttpStatusReader(api.url, workers=1, give_up_after=3)
    assert set(reader(ids * 20).values()) == {reconcile.UNREADABLE}
    assert api.requests - before == 3  # then it stopped asking


# --- the table as the source ----------------------------------------------------------------


def _order(order_id: str, status: OrderStatus) -> Order:
    now = datetime.now(UTC)
    return Order(
        order_id=order_id,
        customer_id="c-1",
        currency="EUR",
        items=[OrderItem(sku="S-1", quantity=1, unit_price="2.50")],
        status=status,
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def orders_table():
    with moto_orders_table(REGION) as table:
        yield table


def test_table_reader_reads_statuses_in_batches_of_a_hundred(orders_table) -> None:
    statuses = [OrderStatus.CONFIRMED, OrderStatus.REJECTED, OrderStatus.PENDING]
    ids = [str(uuid.uuid4()) for _ in range(250)]
    for n, order_id in enumerate(ids):
        orders_table.add_pending(_order(order_id, statuses[n % 3]))
    calls = []
    orders_table.dynamodb.meta.events.register(
        "before-call.dynamodb.BatchGetItem", lambda **kw: calls.append(kw)
    )
    missing = str(uuid.uuid4())
    got = reconcile.TableStatusReader(orders_table, workers=2)([*ids, missing])
    assert len(calls) == 3  # 251 orders, 100 a call
    assert got[missing] == reconcile.MISSING
    assert [got[i] for i in ids[:3]] == ["CONFIRMED", "REJECTED", "PENDING"]
    assert len(got) == 251


def test_a_table_the_caller_may_not_read_hands_every_order_to_the_api(
    orders_table, fake_api, monkeypatch
) -> None:
    from botocore.exceptions import ClientError

    def denied(*_args, **_kwargs):
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "BatchGetItem"
        )

    monkeypatch.setattr(orders_table, "order_statuses", denied)
    api = fake_api(confirm_after=0.0)
    ids = [_create(api.url) for _ in range(3)]
    table = reconcile.TableStatusReader(orders_table)
    reader = reconcile.FallbackReader([table, reconcile.HttpStatusReader(api.url)])
    assert reader(ids) == dict.fromkeys(ids, "CONFIRMED")
    assert table.disabled.startswith("AccessDeniedException")
    assert reader.source == "the API (GET /orders/{id})"


def test_what_the_table_does_not_know_is_not_asked_of_the_api(orders_table) -> None:
    asked = []

    def api(ids):
        asked.extend(ids)
        return {}

    known = str(uuid.uuid4())
    orders_table.add_pending(_order(known, OrderStatus.CONFIRMED))
    unknown = str(uuid.uuid4())
    reader = reconcile.FallbackReader([reconcile.TableStatusReader(orders_table), api])
    assert reader([known, unknown]) == {known: "CONFIRMED", unknown: reconcile.MISSING}
    assert asked == []  # the table is the source of truth: MISSING there is an answer


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
        reader = reconcile.DlqReader(lambda: sqs, {"orders DLQ": url})
        assert reader() == {"orders DLQ": {f"o-{n}" for n in range(12)} | {"o-x"}}
        assert reader()["orders DLQ"] == {f"o-{n}" for n in range(12)} | {"o-x"}  # remembered
        depth = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        assert int(depth["ApproximateNumberOfMessagesNotVisible"]) == 13  # read, not deleted
        broken = reconcile.DlqReader(lambda: sqs, {"orders DLQ": url + "-missing"})
        assert broken() == {"orders DLQ": set()}
    finally:
        sqs.delete_queue(QueueUrl=url)
