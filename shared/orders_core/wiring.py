"""The composition root of every function: the adapters it uses, built from its settings.

Everything here is built on first use, once per execution environment: not at import, so
that under SnapStart nothing created during init (an HTTP connection, credentials) is frozen
into the snapshot and shared by every restored copy. A function asks `current()` for what it
needs; tests `install()` a wiring of their own (fakes, or clients of an emulator) instead of
clearing caches.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from orders_core.adapters.events import EventBridgePublisher
from orders_core.adapters.mail import SesMailer
from orders_core.adapters.queue import SqsOrderQueue
from orders_core.adapters.table import OrdersTable, idempotency_store
from orders_core.clients import new_client
from orders_core.settings import Settings


class Wiring:
    """One function's adapters. Each is created the first time it is asked for; a test may
    assign its own (`wiring.orders = InMemoryOrders()`) before the function runs."""

    def __init__(self, settings: Settings, make_client: Callable[[str], Any] = new_client) -> None:
        self.settings = settings
        self._make_client = make_client
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._make_client(service)
        return self._clients[service]

    @property
    def clients_made(self) -> tuple[str, ...]:
        """The services a client was made for so far."""
        return tuple(self._clients)

    @cached_property
    def orders(self) -> OrdersTable:
        """Orders, stock, customers and notifications: the orders table."""
        return OrdersTable(self.settings.require("table_name"), self.client("dynamodb"))

    @cached_property
    def queue(self) -> SqsOrderQueue:
        return SqsOrderQueue(self.settings.require("orders_queue_url"), self.client("sqs"))

    @cached_property
    def publisher(self) -> EventBridgePublisher:
        return EventBridgePublisher(
            self.settings.require("event_bus_name"),
            self.settings.event_source,
            self.client("events"),
        )

    @cached_property
    def mailer(self) -> SesMailer:
        return SesMailer(
            self.settings.require("notification_sender"),
            self.client("sesv2"),
            sends_per_second=self.settings.mail_sends_per_second,
        )

    @cached_property
    def idempotency_store(self) -> Any:
        """powertools' persistence layer, its records in the orders table."""
        return idempotency_store(self.settings.require("table_name"), self.client("dynamodb"))


_current: Wiring | None = None


def current() -> Wiring:
    """The wiring of this execution environment, built from its environment on first use."""
    global _current
    if _current is None:
        _current = Wiring(Settings.from_env())
    return _current


def built() -> Wiring | None:
    """The current wiring if one was built already; builds nothing."""
    return _current


def install(wiring: Wiring | None) -> None:
    """Use `wiring` from now on; None builds a new one from the environment on next use."""
    global _current
    _current = wiring
