"""The fault injection of `make loadtest ENV=local FAULTS=1` and its audit, without a stack:
the plan drawn from its seed, poison the processor really refuses, a duplicate that is the
accepted message itself, and the audit's judgement on a moto table with each fault left
unhandled in turn (every check must be able to fail)."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from moto import mock_aws

from order_processor.handler import MalformedMessage, accepted_order
from orders_core.adapters.table import OrdersTable
from orders_core.domain import (
    Notification,
    NotificationStatus,
    OrderEventType,
    OrderItem,
    confirm,
    new_order,
    reject,
    stock_to_reserve,
)
from tests.support.events import aws_sample
from tests.support.tables import create_orders_table
from tools.loadtest import fault_audit, verdict
from tools.loadtest.fault_audit import AuditInputs, Baseline, FaultAudit, audit
from tools.loadtest.faults import POISON_VARIANTS, SERVICES, FaultLog, FaultPlan, poison_body
from tools.loadtest.plan_kept import Saturation
from tools.loadtest.reconcile import Reconciliation
from tools.loadtest.thresholds import ThresholdResult, Thresholds, evaluate_thresholds

CUSTOMERS = [(f"cust-{n:06d}", "EUR") for n in range(1, 51)]
SKUS = [(f"BOOK-{n:05d}", "12.50") for n in range(1, 21)]
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


# --- the plan ---------------------------------------------------------------------------------


def test_the_same_seed_injects_the_same_faults_and_another_seed_others():
    def injected(seed: int):
        plan = FaultPlan(seed, duplicate_share=0.1, poison_share=0.05, unstocked_share=0.05)
        decide = plan.rng("orders")
        return plan.crash_schedule(120), [plan.fate(decide, CUSTOMERS, SKUS) for _ in range(500)]

    assert injected(42) == injected(42)
    assert injected(42) != injected(43)


def test_the_shares_and_the_crash_rate_are_what_the_plan_says():
    plan = FaultPlan(
        7, crash_every_s=5, duplicate_share=0.1, poison_share=0.05, unstocked_share=0.2
    )
    decide = plan.rng("orders")
    fates = [plan.fate(decide, CUSTOMERS, SKUS) for _ in range(4000)]
    share = Counter()
    for fate in fates:
        share["duplicate"] += fate.duplicate_after_s is not None
        share["poison"] += fate.poison is not None
        share["unstocked"] += fate.unstocked_sku is not None
    assert share["duplicate"] / 4000 == pytest.approx(0.1, abs=0.02)
    assert share["poison"] / 4000 == pytest.approx(0.05, abs=0.015)
    assert share["unstocked"] / 4000 == pytest.approx(0.2, abs=0.03)
    after = [f.duplicate_after_s for f in fates if f.duplicate_after_s is not None]
    assert any(a < 0.1 for a in after)  # racing the first delivery
    assert any(a >= 2 for a in after)  # once it is final
    assert {f.poison for f in fates} - {None} == set(POISON_VARIANTS)

    schedule = plan.crash_schedule(1000)
    assert len(schedule) == pytest.approx(200, rel=0.05)  # one every 5 s on average
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(schedule)]
    assert 2.5 <= min(gaps) < max(gaps) <= 7.5  # random, never bunched or far apart
    assert Counter(service for _, service in schedule) == {
        service: pytest.approx(len(schedule) / 3, abs=1) for service in SERVICES
    }  # in turns: none is spared
    assert all(0 < at < 1000 for at, _ in schedule)


def test_a_plan_out_of_range_is_refused():
    from tools.loadtest.common import LoadtestError

    with pytest.raises(LoadtestError):
        FaultPlan(1, duplicate_share=1.5)
    with pytest.raises(LoadtestError):
        FaultPlan(1, crash_every_s=0)


# --- what is injected -------------------------------------------------------------------------


@pytest.mark.parametrize("variant", POISON_VARIANTS)
def test_each_poison_variant_is_refused_by_the_processors_own_parsing(variant):
    order_id = str(uuid.uuid4())
    body = poison_body(variant, order_id, CUSTOMERS[0], SKUS[0])
    record = SQSRecord({**aws_sample("sqs_standard.json")["Records"][0], "body": body})
    with pytest.raises(MalformedMessage):
        accepted_order(record)


def test_a_refused_poison_order_would_take_stock_if_it_were_processed():
    # so that the stock ledger would show a poison order processed by mistake
    body = json.loads(poison_body(POISON_VARIANTS[2], str(uuid.uuid4()), CUSTOMERS[0], SKUS[3]))
    assert [item["sku"] for item in body["items"]] == [SKUS[3][0]]


def test_a_duplicate_rebuilt_from_the_stored_order_is_the_accepted_message_itself():
    # as the injector does it: from the table, once the processor has confirmed the order
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        create_orders_table(dynamodb, "orders")
        table = OrdersTable("orders", dynamodb)
        from tools.ops.seed import seed

        seed(dynamodb, "orders", stock={"BOOK-00001": 10})
        # prices as the load test sends them: with the currency's two places
        items = [OrderItem(sku="BOOK-00001", quantity=2, unit_price=Decimal("12.50"))]
        accepted = new_order(str(uuid.uuid4()), "cust-000001", "EUR", items, T0)
        table.add_pending(accepted)
        final = confirm(accepted, T0 + timedelta(seconds=3))
        table.confirm_reserving_stock(final, stock_to_reserve(final))
        stored = table.get_order(accepted.order_id)
    rebuilt = new_order(
        stored.order_id, stored.customer_id, stored.currency, list(stored.items), stored.created_at
    )
    assert rebuilt.model_dump_json() == accepted.model_dump_json()


# --- the judgement ----------------------------------------------------------------------------


@contextmanager
def sent_mail(mails: list[dict]) -> Iterator[str]:
    """An endpoint answering as ministack's /_ministack/ses/messages does."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"messages": {"000000000000": mails}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def mail_for(order_id: str) -> dict:
    return {"To": ["c@example.com"], "BodyText": f"Your order {order_id} is confirmed.\n"}


@pytest.fixture
def run():
    """A finished fault run on moto: one order confirmed (2 units of a SKU), one for an
    unstocked SKU rejected, both mailed once; one poison message in the orders DLQ."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        create_orders_table(dynamodb, "orders")
        table = OrdersTable("orders", dynamodb)
        from tools.ops.seed import seed

        seed(dynamodb, "orders", stock={"BOOK-00001": 100, "BOOK-00002": 100})
        stock = dict.fromkeys(["BOOK-00001", "BOOK-00002"], 100)
        baseline = Baseline(T0 - timedelta(seconds=1), stock, ["c-1", "c-2"])
        item = OrderItem(sku="BOOK-00001", quantity=2, unit_price=Decimal("12.50"))
        confirmed = confirm(new_order(str(uuid.uuid4()), "c-1", "EUR", [item], T0), T0)
        table.confirm_reserving_stock(confirmed, stock_to_reserve(confirmed))
        unstocked = OrderItem(sku="UNSTOCKED-0001", quantity=1, unit_price=Decimal("9.99"))
        rejected = reject(
            new_order(str(uuid.uuid4()), "c-2", "EUR", [unstocked], T0),
            "insufficient stock: UNSTOCKED-0001 is not stocked",
            T0,
        )
        table.store_rejected(rejected)
        outcomes = [(confirmed, OrderEventType.CONFIRMED), (rejected, OrderEventType.REJECTED)]
        for order, kind in outcomes:
            table.record(
                Notification(
                    order_id=order.order_id,
                    event_type=kind,
                    status=NotificationStatus.SENT,
                    recipient="c@example.com",
                    subject="s",
                    message_id="m",
                    recorded_at=T0,
                )
            )
        poison = str(uuid.uuid4())
        faults = FaultLog(
            FaultPlan(1),
            poison=[{"order_id": poison, "variant": POISON_VARIANTS[0]}],
            unstocked=[{"order_id": rejected.order_id, "status": 202}],
        )
        yield {
            "table": table,
            "baseline": baseline,
            "faults": faults,
            "confirmed": confirmed,
            "rejected": rejected,
            "poison": poison,
            "mails": [mail_for(confirmed.order_id), mail_for(rejected.order_id)],
            "dlq": {"orders DLQ": {poison}, "notifications DLQ": set()},
        }


def judge(run: dict) -> FaultAudit:
    with sent_mail(run["mails"]) as endpoint:
        inputs = AuditInputs(
            run["faults"],
            run["table"],
            lambda: run["dlq"],
            endpoint,
            run["baseline"],
            {run["confirmed"].order_id},  # the unstocked order's 202 went to the injector
        )
        return audit(inputs, wait_s=0)


def test_a_run_whose_faults_were_all_handled_passes_the_audit(run):
    result = judge(run)
    assert result.ok, result.lines()
    assert (result.orders, result.confirmed, result.rejected, result.units_taken) == (2, 1, 1, 2)
    assert result.without_202 == 1
    assert result.notifications == {"SENT": 2}
    assert (result.poison_in_dlq, result.unstocked_rejected) == (1, 1)


def take_again(run: dict) -> None:
    from tools.ops.seed import seed

    seed(run["table"].dynamodb, "orders", stock={"BOOK-00001": 96})  # 2 units taken twice


def mail_twice(run: dict) -> None:
    run["mails"].append(mail_for(run["confirmed"].order_id))


def never_mailed(run: dict) -> None:
    run["mails"].pop(0)


def refuse_the_address(run: dict) -> Notification:
    """SES refused the rejected order's address: REJECTED, with no mail to show for it."""
    table = run["table"]
    refused = table.notification_for(run["rejected"].order_id).model_copy(
        update={"status": NotificationStatus.REJECTED, "message_id": None, "reason": "refused"}
    )
    table.record(refused)
    run["mails"].pop(1)
    return refused


def mail_a_refused_address(run: dict) -> None:
    refuse_the_address(run)
    run["mails"].append(mail_for(run["rejected"].order_id))


def lose_the_notification(run: dict) -> None:
    from orders_core.adapters.table import notification_key

    table = run["table"]
    table.dynamodb.delete_item(TableName="orders", Key=notification_key(run["rejected"].order_id))


def lose_the_poison(run: dict) -> None:
    run["dlq"]["orders DLQ"].clear()


def store_the_poison(run: dict) -> None:
    item = OrderItem(sku="BOOK-00002", quantity=1, unit_price=Decimal("1.00"))
    run["table"].add_pending(new_order(run["poison"], "c-9", "EUR", [item], T0))


def confirm_the_unstocked(run: dict) -> None:
    run["faults"].unstocked[0]["order_id"] = run["confirmed"].order_id


@pytest.mark.parametrize(
    ("break_it", "finding"),
    [
        (take_again, "taken_twice"),
        (mail_twice, "mailed_twice"),
        (never_mailed, "sent_not_mailed"),
        (mail_a_refused_address, "not_sent_but_mailed"),
        (lose_the_notification, "notification_missing"),
        (lose_the_poison, "poison_not_in_dlq"),
        (store_the_poison, "poison_stored"),
        (confirm_the_unstocked, "unstocked_wrong"),
    ],
)
def test_each_fault_left_unhandled_fails_the_audit_and_is_named(run, break_it, finding):
    break_it(run)
    result = judge(run)
    assert not result.ok
    assert getattr(result, finding), result.lines()
    assert any(line.startswith("  ") for line in result.lines())  # the culprit is listed


def test_an_address_ses_refused_is_settled_as_rejected_with_no_mail(run):
    refuse_the_address(run)
    result = judge(run)
    assert result.ok, result.lines()
    assert result.notifications == {"SENT": 1, "REJECTED": 1}


def test_mails_are_counted_per_order_from_the_emulators_record(run):
    twice = run["confirmed"].order_id
    with sent_mail([mail_for(twice), mail_for(twice), {"BodyText": "no order here"}]) as url:
        assert fault_audit.mails_per_order(url) == Counter({twice: 2})


# --- the verdict ------------------------------------------------------------------------------


def test_faults_not_held_rank_below_lost_orders_and_above_everything_else():
    passed = ThresholdResult(10.0, 0.0, Thresholds(250, 0.1), 0)
    valid = Saturation(10, 10.0, 10, 10, "arrivals.log")
    clean = Reconciliation(10, 10, 0, 0, 0)
    lost = Reconciliation(10, 9, 0, 0, 1)
    unverified = Reconciliation(10, 9, 0, 0, 0, unverified=1)
    broken = FaultAudit(mailed_twice=["o-1"])
    assert verdict.verdict(passed, valid, clean, FaultAudit()) == verdict.EXIT_PASS
    assert verdict.verdict(passed, valid, clean, broken) == verdict.EXIT_FAULTS
    assert verdict.verdict(passed, valid, unverified, broken) == verdict.EXIT_FAULTS
    assert verdict.verdict(passed, valid, lost, broken) == verdict.EXIT_LOST


def test_each_api_crash_may_fail_one_virtual_user_and_no_more():
    report = {
        "aggregate": {
            "counters": {"vusers.created": 1000, "vusers.completed": 997},
            "summaries": {"http.response_time": {"p99": 900}},
        }
    }
    limits = Thresholds(250, 0.1)
    crashed_twice = evaluate_thresholds(
        report, limits, 21, under_faults=True, crash_allowance=2, p99_judged=False
    )
    assert crashed_twice.judged_error_rate_pct == 0.1  # one failure beyond the two crashes
    assert crashed_twice.passed  # p99 is shown, not judged; artillery's 21 is judged here
    crashed_once = evaluate_thresholds(
        report, limits, 21, under_faults=True, crash_allowance=1, p99_judged=False
    )
    assert not crashed_once.errors_ok
    assert not evaluate_thresholds(report, limits, 21).passed  # without faults: as ever


def test_a_table_that_stops_answering_leaves_the_audit_unverified_not_passed(run):
    from botocore.exceptions import EndpointConnectionError

    class Unreachable:
        def __getattr__(self, _name):
            def fail(*_args, **_kwargs):
                raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

            return fail

    run["table"] = Unreachable()
    result = judge(run)
    assert result.ok  # nothing was found wrong...
    assert "EndpointConnectionError" in result.unverified  # ...because nothing could be read
    passed = ThresholdResult(10.0, 0.0, Thresholds(250, 0.1), 0)
    valid = Saturation(10, 10.0, 10, 10, "arrivals.log")
    clean = Reconciliation(10, 10, 0, 0, 0)
    assert verdict.verdict(passed, valid, clean, result) == verdict.EXIT_UNVERIFIED
