"""An in-memory stand-in for the orders API, for the load-test tests.

It implements the HTTP contract of services/orders_api closely enough for the
artillery scenarios and the reconciliation step:

    POST /orders                         202 {order_id, status: PENDING, links}
                                         (Idempotency-Key required; a repeated
                                         key answers the same order)
    GET  /orders/{order_id}              200 {order_id, status, ...} | 404
    GET  /customers/{id}/orders?limit=N  200 {orders: [...], next_cursor}
    GET  /health                         200 {status: ok}

An order becomes final `confirm_after` seconds after its creation: REJECTED
when it asks for more than `max_quantity` units of one SKU, else CONFIRMED.
`lose_every=N` makes every Nth order stay PENDING forever (a lost message), and
`store.read_failure = HTTPStatus...` makes every read of an order answer that status, for
tests of the reconciliation and the expectations; `response_delay` slows every answer. It
binds 127.0.0.1 only.

    python -m tests.tools.loadtest.fake_orders_api [--port 8080] [--confirm-after 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

ORDER_PATH = re.compile(r"^/orders/(?P<order_id>[A-Za-z0-9-]+)$")
CUSTOMER_ORDERS_PATH = re.compile(r"^/customers/(?P<customer_id>[A-Za-z0-9_-]+)/orders$")
CURRENCIES = {"EUR", "USD", "GBP"}


class StoredOrder(NamedTuple):
    """An order as the stand-in keeps it: strings, numbers and flags only, so that the
    garbage collector stops tracking it. A staging profile stores ~135,000 orders; kept as
    nested dicts and lists they made every full collection longer, and the stand-in's own
    pauses showed in the run's p99."""

    order_id: str
    customer_id: str
    currency: str
    items_json: str
    created_at: float
    lost: bool
    rejected: bool


class OrderStore:
    def __init__(
        self, confirm_after: float, max_quantity: int, lose_every: int, response_delay: float
    ) -> None:
        self.confirm_after = confirm_after
        self.response_delay = response_delay
        self.max_quantity = max_quantity
        self.lose_every = lose_every
        # A status (503, 404...) every GET /orders/{id} answers instead of the order.
        self.read_failure: HTTPStatus | None = None
        self._lock = threading.Lock()
        self._orders: dict[str, StoredOrder] = {}
        self._by_key: dict[str, str] = {}
        self._by_customer: dict[str, list[str]] = {}

    def create(self, key: str, body: dict[str, Any]) -> StoredOrder:
        with self._lock:
            if key in self._by_key:
                return self._orders[self._by_key[key]]
            order = StoredOrder(
                order_id=str(uuid.uuid4()),
                customer_id=body["customer_id"],
                currency=body["currency"],
                items_json=json.dumps(body["items"]),
                created_at=time.time(),
                lost=self.lose_every > 0 and (len(self._orders) + 1) % self.lose_every == 0,
                rejected=any(item["quantity"] > self.max_quantity for item in body["items"]),
            )
            self._orders[order.order_id] = order
            self._by_key[key] = order.order_id
            self._by_customer.setdefault(order.customer_id, []).append(order.order_id)
            return order

    def status(self, order: StoredOrder) -> str:
        if order.lost or time.time() - order.created_at < self.confirm_after:
            return "PENDING"
        return "REJECTED" if order.rejected else "CONFIRMED"

    def view(self, order: StoredOrder) -> dict[str, Any]:
        return {
            "order_id": order.order_id,
            "customer_id": order.customer_id,
            "status": self.status(order),
            "currency": order.currency,
            "items": json.loads(order.items_json),
        }

    def get(self, order_id: str) -> dict[str, Any] | None:
        with self._lock:
            order = self._orders.get(order_id)
        return None if order is None else self.view(order)

    def for_customer(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            ids = list(self._by_customer.get(customer_id, ()))[-limit:]
            orders = [self._orders[i] for i in reversed(ids)]
        return [self.view(o) for o in orders]

    def __len__(self) -> int:
        with self._lock:
            return len(self._orders)


def _positive_decimal(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    try:
        return Decimal(str(value)) > 0
    except InvalidOperation:
        return False


def _valid_order(body: Any) -> str | None:
    """An error message, or None when the body follows the contract."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not isinstance(body.get("customer_id"), str) or not body["customer_id"]:
        return "customer_id is required"
    if body.get("currency") not in CURRENCIES:
        return "currency must be one of " + ", ".join(sorted(CURRENCIES))
    items = body.get("items")
    if not isinstance(items, list) or not items:
        return "items must be a non-empty list"
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            return "each item needs a sku"
        quantity, price = item.get("quantity"), item.get("unit_price")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            return "quantity must be a positive integer"
        if not _positive_decimal(price):
            return 'unit_price must be a positive decimal (a string like "12.50", or a number)'
    return None


def answer(
    store: OrderStore, method: str, target: str, headers: dict[str, str], body: bytes
) -> tuple[HTTPStatus, dict[str, Any]]:
    """The API's answer to one request: its status and JSON body."""
    url = urlsplit(target)
    if method == "GET":
        if url.path == "/health":
            return HTTPStatus.OK, {"status": "ok"}
        if m := ORDER_PATH.match(url.path):
            if store.read_failure is not None:
                return store.read_failure, {"message": "the read failed, as asked"}
            order = store.get(m["order_id"])
            if order is None:
                return HTTPStatus.NOT_FOUND, {"message": "order not found"}
            return HTTPStatus.OK, order
        if m := CUSTOMER_ORDERS_PATH.match(url.path):
            try:
                limit = int(parse_qs(url.query).get("limit", ["20"])[0])
            except ValueError:
                limit = 0
            if not 1 <= limit <= 100:
                return HTTPStatus.BAD_REQUEST, {"message": "limit must be 1..100"}
            return HTTPStatus.OK, {
                "orders": store.for_customer(m["customer_id"], limit),
                "next_cursor": None,
            }
        return HTTPStatus.NOT_FOUND, {"message": "not found"}
    if method == "POST" and url.path == "/orders":
        key = headers.get("idempotency-key")
        if not key:
            return HTTPStatus.BAD_REQUEST, {"message": "Idempotency-Key is required"}
        try:
            order_body = json.loads(body)
        except ValueError:
            return HTTPStatus.BAD_REQUEST, {"message": "body is not JSON"}
        if error := _valid_order(order_body):
            return HTTPStatus.UNPROCESSABLE_ENTITY, {"message": error}
        order = store.create(key, order_body)
        return HTTPStatus.ACCEPTED, {
            "order_id": order.order_id,
            "status": "PENDING",
            "links": {"self": f"/orders/{order.order_id}"},
        }
    return HTTPStatus.NOT_FOUND, {"message": "not found"}


class FakeOrdersServer:
    """HTTP/1.1 with keep-alive on asyncio, in one thread. artillery opens a connection per
    virtual user and keeps it a few seconds (~3,000 open at 1,000 req/s): a thread per
    connection collapses under that, an event loop does not."""

    def __init__(self, port: int = 0, **store_options: Any) -> None:
        self.store = OrderStore(
            confirm_after=store_options.get("confirm_after", 0.2),
            max_quantity=store_options.get("max_quantity", 2),
            lose_every=store_options.get("lose_every", 0),
            response_delay=store_options.get("response_delay", 0.0),
        )
        self.connections = 0  # TCP connections accepted
        self.requests = 0  # requests answered
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", port, backlog=4096)
        )

    @property
    def url(self) -> str:
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        self._loop.run_forever()

    def shutdown(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def close(self) -> None:
        self._server.close()
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while request_line := await reader.readline():
                method, target, version = request_line.decode("latin-1").split()
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                if self.store.response_delay:
                    await asyncio.sleep(self.store.response_delay)
                status, payload = answer(self.store, method, target, headers, body)
                self.requests += 1
                data = json.dumps(payload).encode()
                keep_alive = version == "HTTP/1.1" and headers.get("connection") != "close"
                writer.write(
                    f"HTTP/1.1 {status.value} {status.phrase}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                    f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # a client that went away or sent garbage: drop the connection
        finally:
            writer.close()


@contextmanager
def running(port: int = 0, **store_options: Any) -> Iterator[FakeOrdersServer]:
    """Serve in a background thread; shut down on exit."""
    server = FakeOrdersServer(port, **store_options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="In-memory orders API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--confirm-after", type=float, default=0.2)
    parser.add_argument("--lose-every", type=int, default=0)
    args = parser.parse_args(argv)
    server = FakeOrdersServer(
        args.port, confirm_after=args.confirm_after, lose_every=args.lose_every
    )
    print(f"serving {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
