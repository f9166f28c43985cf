"""The life of an order: accepted PENDING, then CONFIRMED or REJECTED exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from orders_core.domain.models import (
    NotificationMessage,
    Order,
    OrderEvent,
    OrderEventType,
    OrderItem,
    OrderStatus,
    StockShortage,
)


class InvalidTransition(ValueError):
    """An order may only leave PENDING, and only once."""


def new_order(
    order_id: str, customer_id: str, currency: str, items: list[OrderItem], at: datetime
) -> Order:
    """An accepted order: PENDING until the processor confirms or rejects it."""
    return Order(
        order_id=order_id,
        customer_id=customer_id,
        currency=currency,
        items=items,
        status=OrderStatus.PENDING,
        created_at=at,
        updated_at=at,
    )


def stock_to_reserve(order: Order) -> dict[str, int]:
    """Units to take from stock per SKU; items naming the same SKU add up."""
    wanted: Counter[str] = Counter()
    for item in order.items:
        wanted[item.sku] += item.quantity
    return dict(sorted(wanted.items()))


def _finish(order: Order, status: OrderStatus, reason: str | None, at: datetime) -> Order:
    if order.status is not OrderStatus.PENDING:
        raise InvalidTransition(f"order {order.order_id} is already {order.status}")
    return order.model_copy(update={"status": status, "reason": reason, "updated_at": at})


def confirm(order: Order, at: datetime) -> Order:
    return _finish(order, OrderStatus.CONFIRMED, None, at)


def reject(order: Order, reason: str, at: datetime) -> Order:
    return _finish(order, OrderStatus.REJECTED, reason, at)


def rejection_reason(shortages: list[StockShortage]) -> str:
    if not shortages:
        return "insufficient stock"
    parts = []
    for shortage in sorted(shortages, key=lambda s: s.sku):
        if shortage.available is None:
            parts.append(f"{shortage.sku} is not stocked")
        else:
            parts.append(
                f"{shortage.sku} (requested {shortage.requested}, available {shortage.available})"
            )
    return "insufficient stock: " + "; ".join(parts)


def event_for(order: Order) -> OrderEvent:
    if not order.is_final:
        raise InvalidTransition(f"order {order.order_id} is still PENDING: nothing to announce")
    confirmed = order.status is OrderStatus.CONFIRMED
    return OrderEvent(
        event_type=OrderEventType.CONFIRMED if confirmed else OrderEventType.REJECTED,
        order_id=order.order_id,
        customer_id=order.customer_id,
        status=order.status,
        reason=order.reason,
        total=order.total,
        currency=order.currency,
        occurred_at=order.updated_at,
    )


def compose_notification(event: OrderEvent) -> NotificationMessage:
    """What the customer is told about the outcome of an order."""
    short_id = event.order_id.split("-", 1)[0]
    if event.event_type is OrderEventType.CONFIRMED:
        return NotificationMessage(
            subject=f"Order {short_id} confirmed",
            body=(
                f"Your order {event.order_id} is confirmed.\n"
                f"Total: {event.total} {event.currency}.\n"
            ),
        )
    return NotificationMessage(
        subject=f"Order {short_id} could not be fulfilled",
        body=(
            f"We could not fulfil your order {event.order_id}: {event.reason}.\n"
            "You have not been charged.\n"
        ),
    )
