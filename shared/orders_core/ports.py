"""The interfaces between the services and AWS. Adapters implement them; unit tests fake them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from orders_core.domain import (
    Notification,
    NotificationMessage,
    Order,
    OrderEvent,
    StockShortage,
)


class Unavailable(RuntimeError):
    """A dependency could not do its part right now; the caller may retry later."""


class MailNotSent(Unavailable):
    """The mail provider did not take the message now (it throttled or refused the request,
    or was never reached): nothing was sent, so sending it again later cannot mail twice."""


class RecipientRejected(ValueError):
    """The mail provider refused the recipient (or the message to it) for good: nothing was
    sent, and sending the same message again cannot succeed, so it is recorded, not retried."""


class InvalidCursor(ValueError):
    """A pagination cursor that this service did not hand out for this query."""


class ReservationResult(StrEnum):
    RESERVED = "reserved"
    OUT_OF_STOCK = "out_of_stock"
    ALREADY_FINAL = "already_final"


@dataclass(frozen=True)
class ReservationOutcome:
    result: ReservationResult
    shortages: list[StockShortage] = field(default_factory=list)


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    next_cursor: str | None


class OrderRepository(Protocol):
    def add_pending(self, order: Order) -> bool:
        """Store a PENDING order unless the order exists already; True when stored."""
        ...

    def get_order(self, order_id: str) -> Order | None: ...

    def list_customer_orders(self, customer_id: str, limit: int, cursor: str | None) -> OrderPage:
        """Newest first; `cursor` is the `next_cursor` of the previous page."""
        ...

    def confirm_reserving_stock(
        self, confirmed: Order, reserve: Mapping[str, int]
    ) -> ReservationOutcome:
        """Take `reserve` units per SKU and store the confirmed order, all or nothing.

        Only an order that is absent or PENDING may be confirmed."""
        ...

    def store_rejected(self, rejected: Order) -> bool:
        """Store a rejected order unless it is final already; True when stored."""
        ...

    def is_announced(self, order_id: str) -> bool:
        """Whether the event for the order's final state has been published."""
        ...

    def mark_announced(self, order_id: str, at: datetime) -> None: ...


class CustomerDirectory(Protocol):
    def email_of(self, customer_id: str) -> str | None: ...


class NotificationLog(Protocol):
    def claim(self, notification: Notification) -> Notification | None:
        """Store the order's notification unless it has one; returns the one it has, or None
        when this call stored it."""
        ...

    def release(self, notification: Notification) -> None:
        """Remove a claim that is still SENDING (its mail was not sent: MailNotSent)."""
        ...

    def record(self, notification: Notification) -> None: ...

    def notification_for(self, order_id: str) -> Notification | None: ...


class OrderQueue(Protocol):
    def submit(self, order: Order) -> str:
        """Hand an accepted order on for processing; returns the message id. Raises
        Unavailable."""
        ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[OrderEvent]) -> None:
        """Publish every event or raise Unavailable."""
        ...


class Mailer(Protocol):
    def wait_for_turn(self) -> None:
        """Wait until a send may start at the provider's pace and hold that turn for the next
        send. Raises MailNotSent when no send can start in the time left."""
        ...

    def send(self, recipient: str, message: NotificationMessage) -> str:
        """Send one message; returns the provider's message id. Raises MailNotSent (not sent;
        try again later), RecipientRejected (not sent; never try again) or Unavailable (no
        answer: the message may have left)."""
        ...
