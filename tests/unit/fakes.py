"""In-memory implementations of orders_core.ports, for tests of the workflows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from orders_core.domain import (
    Notification,
    NotificationMessage,
    NotificationStatus,
    Order,
    OrderEvent,
    OrderStatus,
    StockShortage,
)
from orders_core.ports import OrderPage, ReservationOutcome, ReservationResult, Unavailable


@dataclass
class InMemoryOrders:
    """OrderRepository with the conditional semantics of the DynamoDB adapter, and stock."""

    orders: dict[str, Order] = field(default_factory=dict)
    stock: dict[str, int] = field(default_factory=dict)
    announced: dict[str, datetime] = field(default_factory=dict)
    fail_add_pending: bool = False

    def add_pending(self, order: Order) -> bool:
        if self.fail_add_pending:
            raise Unavailable("table unavailable (injected)")
        if order.order_id in self.orders:
            return False
        self.orders[order.order_id] = order
        return True

    def get_order(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def list_customer_orders(self, customer_id: str, limit: int, cursor: str | None) -> OrderPage:
        mine = sorted(
            (o for o in self.orders.values() if o.customer_id == customer_id),
            key=lambda o: (o.created_at, o.order_id),
            reverse=True,
        )
        start = int(cursor) if cursor else 0
        page = mine[start : start + limit]
        more = start + limit < len(mine)
        return OrderPage(page, str(start + limit) if more else None)

    def _finalizable(self, order_id: str) -> bool:
        current = self.orders.get(order_id)
        return current is None or current.status is OrderStatus.PENDING

    def confirm_reserving_stock(
        self, confirmed: Order, reserve: Mapping[str, int]
    ) -> ReservationOutcome:
        if not self._finalizable(confirmed.order_id):
            return ReservationOutcome(ReservationResult.ALREADY_FINAL)
        shortages = [
            StockShortage(sku=sku, requested=units, available=self.stock.get(sku))
            for sku, units in reserve.items()
            if self.stock.get(sku) is None or self.stock[sku] < units
        ]
        if shortages:
            return ReservationOutcome(ReservationResult.OUT_OF_STOCK, shortages)
        for sku, units in reserve.items():
            self.stock[sku] -= units
        self.orders[confirmed.order_id] = confirmed
        return ReservationOutcome(ReservationResult.RESERVED)

    def store_rejected(self, rejected: Order) -> bool:
        if not self._finalizable(rejected.order_id):
            return False
        self.orders[rejected.order_id] = rejected
        return True

    def is_announced(self, order_id: str) -> bool:
        return order_id in self.announced

    def mark_announced(self, order_id: str, at: datetime) -> None:
        self.announced[order_id] = at

    def available(self, sku: str) -> int | None:
        return self.stock.get(sku)


@dataclass
class RecordingQueue:
    submitted: list[Order] = field(default_factory=list)
    fail: bool = False

    def submit(self, order: Order) -> str:
        if self.fail:
            raise Unavailable("queue unavailable (injected)")
        self.submitted.append(order)
        return f"message-{len(self.submitted)}"


@dataclass
class RecordingPublisher:
    published: list[OrderEvent] = field(default_factory=list)
    failures_left: int = 0

    def publish(self, events: Sequence[OrderEvent]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise Unavailable("bus unavailable (injected)")
        self.published.extend(events)


@dataclass
class RecordingMailer:
    sent: list[tuple[str, NotificationMessage]] = field(default_factory=list)
    turns: int = 0  # paced turns waited for

    def wait_for_turn(self) -> None:
        self.turns += 1

    def send(self, recipient: str, message: NotificationMessage) -> str:
        self.sent.append((recipient, message))
        return f"ses-{len(self.sent)}"


@dataclass
class InMemoryCustomers:
    emails: dict[str, str] = field(default_factory=dict)

    def email_of(self, customer_id: str) -> str | None:
        return self.emails.get(customer_id)


@dataclass
class InMemoryNotifications:
    records: dict[str, Notification] = field(default_factory=dict)

    def claim(self, notification: Notification) -> Notification | None:
        existing = self.records.setdefault(notification.order_id, notification)
        return None if existing is notification else existing

    def release(self, notification: Notification) -> None:
        if self.records[notification.order_id].status is NotificationStatus.SENDING:
            del self.records[notification.order_id]

    def record(self, notification: Notification) -> None:
        self.records[notification.order_id] = notification

    def notification_for(self, order_id: str) -> Notification | None:
        return self.records.get(order_id)
