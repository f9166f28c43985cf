"""Properties of the order model and its life, for any valid order hypothesis can build:

- it round-trips unchanged through its queue message (SQS, as the processor reads it) and
  through the orders table (the adapter's item, as DynamoDB normalizes its numbers);
- totals are exact in every currency: not a minor unit gained or lost, never more decimal
  places than the currency has, the same figure in the event and the e-mail;
- an order leaves PENDING once: whatever the deliveries, duplicates, stock moves and bus
  failures, a final order never changes and its stock is taken exactly once.

AWS is moto, in process; the table adapter and the processor's parsing are the real code.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from moto import mock_aws

from orders_core.adapters.queue import SqsOrderQueue
from orders_core.adapters.table import OrdersTable
from orders_core.domain import (
    ISO_4217_CURRENCIES,
    MAX_DISTINCT_SKUS,
    MAX_ITEMS,
    InvalidTransition,
    Order,
    OrderItem,
    OrderStatus,
    compose_notification,
    confirm,
    event_for,
    new_order,
    reject,
    stock_to_reserve,
)
from orders_core.domain.models import MAX_QUANTITY
from orders_core.ports import ReservationResult, Unavailable
from orders_core.workflows import process_order
from tests.support.events import sqs_event
from tests.support.tables import create_orders_table
from tests.unit.fakes import RecordingPublisher
from tools.ops.seed import seed

REGION = "eu-west-1"
MAX_PRICE_UNITS = 1_000_000
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]

currencies = st.sampled_from(sorted(ISO_4217_CURRENCIES))
skus = st.from_regex(r"\A[A-Z0-9][A-Z0-9-]{0,63}\Z")
customer_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.sampled_from(ZONES)
)


def prices(places: int) -> st.SearchStrategy[Decimal]:
    """A valid unit price in a currency of `places` minor digits: with as many decimal places
    as it allows, or fewer ("12.5" in EUR)."""
    return st.integers(0, places).flatmap(
        lambda shown: st.integers(1, MAX_PRICE_UNITS * 10**shown).map(
            lambda units: Decimal(units).scaleb(-shown)
        )
    )


@st.composite
def orders(draw: st.DrawFn, status: OrderStatus = OrderStatus.PENDING) -> Order:
    currency = draw(currencies)
    places = ISO_4217_CURRENCIES[currency]
    pool = draw(st.lists(skus, min_size=1, max_size=MAX_DISTINCT_SKUS, unique=True))
    items = draw(
        st.lists(
            st.builds(
                OrderItem,
                sku=st.sampled_from(pool),
                quantity=st.integers(1, MAX_QUANTITY),
                unit_price=prices(places),
            ),
            min_size=1,
            max_size=MAX_ITEMS,
        )
    )
    order = new_order(str(uuid.uuid4()), draw(customer_ids), currency, items, draw(moments))
    if status is OrderStatus.CONFIRMED:
        return confirm(order, order.created_at + timedelta(seconds=1))
    if status is OrderStatus.REJECTED:
        return reject(order, draw(st.text(min_size=1, max_size=200)), order.created_at)
    return order


@pytest.fixture(scope="module")
def aws():
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_orders_table(dynamodb, "orders")
        queue_url = sqs.create_queue(QueueName="orders")["QueueUrl"]
        yield sqs, queue_url, OrdersTable("orders", dynamodb)


# --- round trips -------------------------------------------------------------------------------

ROUND_TRIPS = settings(max_examples=60, deadline=None)


@ROUND_TRIPS
@given(order=orders())
def test_any_valid_order_round_trips_through_its_queue_message_unchanged(aws, order):
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from order_processor.handler import accepted_order

    sqs, queue_url, _ = aws
    message_id = SqsOrderQueue(queue_url, sqs).submit(order)
    [message] = sqs.receive_message(
        QueueUrl=queue_url, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    [record] = sqs_event([message], "arn:aws:sqs:eu-west-1:000000000000:orders", REGION)["Records"]
    received = accepted_order(SQSRecord(record))  # as the processor reads it
    assert message["MessageId"] == message_id
    assert received == order
    assert received.model_dump_json() == order.model_dump_json()


@ROUND_TRIPS
@given(
    order=st.sampled_from(list(OrderStatus)).flatmap(lambda status: orders(status=status)),
)
def test_any_valid_order_round_trips_through_the_table_unchanged(aws, order):
    _, _, table = aws
    if order.status is OrderStatus.PENDING:
        table.add_pending(order)
    elif order.status is OrderStatus.REJECTED:
        assert table.store_rejected(order)
    else:
        reserve = stock_to_reserve(order)
        seed(table.dynamodb, table.table_name, stock=dict.fromkeys(reserve, MAX_QUANTITY * 100))
        outcome = table.confirm_reserving_stock(order, reserve)
        assert outcome.result is ReservationResult.RESERVED
    stored = table.get_order(order.order_id)
    assert stored == order
    # DynamoDB keeps "12.5" of "12.50": prices come back in the currency's own form
    places = ISO_4217_CURRENCIES[order.currency]
    assert all(-item.unit_price.as_tuple().exponent == places for item in stored.items)


# --- money ----------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(order=orders())
def test_totals_are_exact_to_the_minor_unit_in_every_currency(order):
    places = ISO_4217_CURRENCIES[order.currency]
    minor = 10**places
    expected_minor_units = sum(item.quantity * int(item.unit_price * minor) for item in order.items)
    assert order.total * minor == expected_minor_units  # not a minor unit gained or lost
    assert -order.total.as_tuple().exponent <= places  # never more places than the currency
    shown = order.model_dump(mode="json")["total"]
    assert Decimal(shown) == order.total
    event = event_for(confirm(order, order.created_at))
    assert event.total == order.total
    assert f"Total: {event.total} {order.currency}." in compose_notification(event).body


@settings(max_examples=200, deadline=None)
@given(order=orders(), data=st.data())
def test_a_price_with_more_decimal_places_than_its_currency_is_refused(order, data):
    places = ISO_4217_CURRENCIES[order.currency]
    extra = data.draw(st.integers(places + 1, 6))
    # a last digit that is not zero: the price really is finer than the currency
    finer = Decimal(data.draw(st.integers(1, 10**extra - 1).filter(lambda n: n % 10))).scaleb(
        -extra
    )
    message = order.model_dump(mode="json")
    message["items"][0]["unit_price"] = float(finer)  # as a JSON number: a string has ≤ 4
    message.pop("total")
    with pytest.raises(ValueError, match=f"more decimal places than {order.currency} allows"):
        Order.model_validate(message)


# --- the life of an order ---------------------------------------------------------------------

STOCKED = ["SKU-A", "SKU-B", "SKU-C"]
UNSTOCKED = "SKU-NONE"


class OrderLifecycle(RuleBasedStateMachine):
    """Accepted orders, delivered to the processor any number of times in any order, while
    stock is added and the event bus fails now and then: against the real table adapter."""

    accepted = Bundle("accepted")

    def __init__(self) -> None:
        super().__init__()
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        name = f"orders-{uuid.uuid4().hex[:8]}"
        create_orders_table(dynamodb, name)
        self.table = OrdersTable(name, dynamodb)
        self.publisher = RecordingPublisher()
        self.ticks = itertools.count()
        self.stocked: Counter[str] = Counter()  # units ever put in stock, per SKU
        self.final: dict[str, Order] = {}  # each order as first seen final

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(self.ticks))

    @initialize(stock=st.fixed_dictionaries({sku: st.integers(0, 6) for sku in STOCKED}))
    def stock_the_skus(self, stock: dict[str, int]) -> None:
        seed(self.table.dynamodb, self.table.table_name, stock=stock)
        self.stocked.update(stock)

    @rule(
        target=accepted,
        lines=st.lists(
            st.tuples(st.sampled_from([*STOCKED, UNSTOCKED]), st.integers(1, 4)),
            min_size=1,
            max_size=4,
        ),
        recorded=st.booleans(),
    )
    def accept(self, lines: list[tuple[str, int]], recorded: bool) -> Order:
        items = [OrderItem(sku=sku, quantity=n, unit_price=Decimal("1.50")) for sku, n in lines]
        order = new_order(str(uuid.uuid4()), "c-1", "EUR", items, self.now())
        if recorded:  # the API's PENDING record may be missing (its write failed)
            self.table.add_pending(order)
        return order

    @rule(message=accepted)
    def deliver(self, message: Order) -> None:
        """The message delivered (again): SQS is at least once, redrive repeats it too."""
        try:
            process_order(message, self.table, self.publisher, self.now)
        except Unavailable:
            pass  # the bus failed after the outcome was stored: the message comes again
        else:
            assert self.table.get_order(message.order_id).is_final
        stored = self.table.get_order(message.order_id)
        if stored is not None and stored.is_final:
            # a final order never changes, however often its message comes
            assert self.final.setdefault(message.order_id, stored) == stored
        self.stock_is_taken_exactly_once_per_confirmed_order()

    @rule(sku=st.sampled_from(STOCKED), units=st.integers(1, 5))
    def restock(self, sku: str, units: int) -> None:
        available = self.table.available(sku) or 0
        seed(self.table.dynamodb, self.table.table_name, stock={sku: available + units})
        self.stocked[sku] += units
        self.stock_is_taken_exactly_once_per_confirmed_order()

    @rule()
    def the_bus_fails_once(self) -> None:
        self.publisher.failures_left += 1

    @rule(message=accepted, confirming=st.booleans())
    def a_final_order_cannot_move(self, message: Order, confirming: bool) -> None:
        stored = self.table.get_order(message.order_id)
        if stored is None or not stored.is_final:
            return
        with pytest.raises(InvalidTransition):
            confirm(stored, self.now()) if confirming else reject(stored, "late", self.now())

    def teardown(self) -> None:
        # ...and neither does any other (checked once at the end: a read per order and step
        # would make this test slow).
        for order_id, first in self.final.items():
            assert self.table.get_order(order_id) == first
        self.stock_is_taken_exactly_once_per_confirmed_order()

    def stock_is_taken_exactly_once_per_confirmed_order(self) -> None:
        """Checked after every step that moves stock (an invariant would read it after every
        step, which costs more than the rest of the test)."""
        taken: Counter[str] = Counter()
        for order in self.final.values():
            if order.status is OrderStatus.CONFIRMED:
                taken.update(stock_to_reserve(order))
        for sku in STOCKED:
            assert self.table.available(sku) == self.stocked[sku] - taken[sku]
        assert self.table.available(UNSTOCKED) is None

    @invariant()
    def every_announcement_tells_the_final_outcome(self) -> None:
        for event in self.publisher.published:
            assert event.status is self.final[event.order_id].status


def test_an_order_leaves_pending_once_and_takes_its_stock_once(aws):
    run_state_machine_as_test(
        OrderLifecycle,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
