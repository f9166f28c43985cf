"""The order rules, with no AWS and no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from orders_core.domain import (
    MAX_DISTINCT_SKUS,
    InvalidTransition,
    NotificationMessage,
    Order,
    OrderEventType,
    OrderItem,
    OrderStatus,
    StockShortage,
    compose_notification,
    confirm,
    event_for,
    item_problems,
    new_order,
    reject,
    rejection_reason,
    stock_to_reserve,
)

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ORDER_ID = "6f1c2b0e-8d57-4c1a-9a43-2f0d9b7e5c11"


def item(sku: str = "SKU-1", quantity: int = 1, price: str = "10.00") -> OrderItem:
    return OrderItem(sku=sku, quantity=quantity, unit_price=Decimal(price))


def accepted(*items: OrderItem, currency: str = "EUR") -> Order:
    return new_order(ORDER_ID, "c-1", currency, list(items) or [item()], T0)


def test_an_accepted_order_is_pending_and_totals_its_items():
    order = accepted(item("A", 2, "12.50"), item("B", 1, "0.99"))
    assert order.status is OrderStatus.PENDING
    assert order.total == Decimal("25.99")
    assert order.created_at == order.updated_at == T0


def test_items_naming_the_same_sku_reserve_their_sum():
    order = accepted(item("B", 2), item("A", 1), item("B", 3))
    assert stock_to_reserve(order) == {"A": 1, "B": 5}


def test_a_pending_order_can_be_confirmed_or_rejected_once():
    order = accepted()
    confirmed = confirm(order, T0 + timedelta(seconds=1))
    assert confirmed.status is OrderStatus.CONFIRMED
    assert confirmed.updated_at == T0 + timedelta(seconds=1)
    rejected = reject(order, "insufficient stock", T0)
    assert rejected.status is OrderStatus.REJECTED
    assert rejected.reason == "insufficient stock"
    with pytest.raises(InvalidTransition, match="already CONFIRMED"):
        reject(confirmed, "too late", T0)
    with pytest.raises(InvalidTransition, match="already REJECTED"):
        confirm(rejected, T0)


def test_rejection_reason_names_each_short_sku_with_what_was_available():
    reason = rejection_reason(
        [
            StockShortage(sku="SKU-B", requested=3, available=1),
            StockShortage(sku="SKU-A", requested=1, available=None),
        ]
    )
    assert reason == ("insufficient stock: SKU-A is not stocked; SKU-B (requested 3, available 1)")


def test_only_a_final_order_has_an_event_and_it_carries_the_outcome():
    order = accepted(item("A", 2, "5.00"))
    with pytest.raises(InvalidTransition):
        event_for(order)
    event = event_for(reject(order, "insufficient stock: A is not stocked", T0))
    assert event.event_type is OrderEventType.REJECTED
    assert event.reason == "insufficient stock: A is not stocked"
    assert event.total == Decimal("10.00")
    assert event_for(confirm(order, T0)).event_type is OrderEventType.CONFIRMED


def test_money_leaves_as_decimal_strings():
    event = event_for(confirm(accepted(item("A", 3, "0.10")), T0))
    assert '"total":"0.30"' in event.model_dump_json()


@pytest.mark.parametrize(
    ("currency", "price", "places"), [("JPY", "100.5", 0), ("EUR", "1.005", 2)]
)
def test_prices_may_not_have_more_decimals_than_the_currency(currency, price, places):
    assert item_problems(currency, [item(price=price)]) == [
        f"items[0].unit_price {price} has more decimal places than {currency} allows ({places})"
    ]


def test_prices_within_the_currency_decimals_are_fine():
    assert item_problems("KWD", [item(price="1.125")]) == []
    assert item_problems("JPY", [item(price="100")]) == []


def test_an_order_fits_one_stock_transaction():
    items = [item(f"SKU-{i}") for i in range(MAX_DISTINCT_SKUS + 1)]
    assert any("at most 99 distinct SKUs" in p for p in item_problems("EUR", items))
    assert item_problems("EUR", items[:-1]) == []


def test_the_order_itself_refuses_items_that_break_the_rules():
    # the rules hold on both sides of the queue: the processor validates the same model
    with pytest.raises(ValidationError, match="more decimal places than JPY allows"):
        accepted(item(price="9.5"), currency="JPY")
    with pytest.raises(ValidationError, match="at most 99 distinct SKUs"):
        accepted(*[item(f"SKU-{i}") for i in range(MAX_DISTINCT_SKUS + 1)])
    message = accepted(item(price="9.50")).model_dump(mode="json")
    with pytest.raises(ValidationError, match="more decimal places than JPY allows"):
        Order.model_validate({**message, "currency": "JPY"})


@pytest.mark.parametrize(
    "bad",
    [
        {"sku": "lower-case", "quantity": 1, "unit_price": "1"},
        {"sku": "SKU", "quantity": 0, "unit_price": "1"},
        {"sku": "SKU", "quantity": 1001, "unit_price": "1"},
        {"sku": "SKU", "quantity": "2", "unit_price": "1"},
        {"sku": "SKU", "quantity": 1, "unit_price": "0"},
        {"sku": "SKU", "quantity": 1, "unit_price": "NaN"},
        {"sku": "SKU", "quantity": 1, "unit_price": "1", "discount": "1"},
    ],
)
def test_an_item_refuses_bad_values(bad):
    with pytest.raises(ValidationError):
        OrderItem.model_validate(bad)


def test_an_order_needs_a_known_currency_and_1_to_100_items():
    with pytest.raises(ValidationError, match="ISO 4217"):
        accepted(currency="XYZ")
    with pytest.raises(ValidationError):
        new_order(ORDER_ID, "c-1", "EUR", [], T0)
    with pytest.raises(ValidationError):
        accepted(*[item(f"S-{i}") for i in range(101)])


def test_an_order_round_trips_through_its_queue_message_unchanged():
    order = accepted(item("A", 2, "12.50"), item("B", 1, "0.99"))
    assert Order.model_validate_json(order.model_dump_json()) == order


def test_notifications_say_what_happened_to_the_order():
    order = accepted(item("A", 2, "5.00"))
    confirmed = compose_notification(event_for(confirm(order, T0)))
    assert isinstance(confirmed, NotificationMessage)
    assert confirmed.subject == "Order 6f1c2b0e confirmed"
    assert "10.00 EUR" in confirmed.body
    rejected = compose_notification(event_for(reject(order, "insufficient stock", T0)))
    assert "could not be fulfilled" in rejected.subject
    assert "insufficient stock" in rejected.body
