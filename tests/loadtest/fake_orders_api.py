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
`lose_every=N` makes every Nth order stay PENDING forever (a lost message),
for tests of the reconciliation; `response_delay` slows every answer. It
binds 127.0.0.1 only.

    python -m tests.loadtest.fake_orders_api [--port 8080] [--confirm-after 0.2]
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ORDER_PATH = re.compile(r"^/orders/(?P<order_id>[A-Za-z0-9-]+)$")
CUSTOMER_ORDERS_PATH = re.compile(r"^/customers/(?P<customer_id>[A-Za-z0-9_-]+)/orders$")
CURRENCIES = {"EUR", "USD", "GBP"}


class OrderStore:
    def __init__(
        self, confirm_after: float, max_quantity: int, lose_every: int, response_delay: float
    ) -> None:
        self.confirm_after = confirm_after
        self.response_delay = response_delay
        self.max_quantity = max_quantity
        self.lose_every = lose_every
        self._lock = threading.Lock()
        self._orders: dict[str, dict[str, Any]] = {}
        self._by_key: dict[str, str] = {}
        self._by_customer: dict[str, list[str]] = {}

    def create(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if key in self._by_key:
                return self._orders[self._by_key[key]]
            order_id = str(uuid.uuid4())
            order = {
                "order_id": order_id,
                "customer_id": body["customer_id"],
                "items": body["items"],
                "currency": body["currency"],
                "created_at": time.time(),
                "lost": self.lose_every > 0 and (len(self._orders) + 1) % self.lose_every == 0,
            }
            self._orders[order_id] = order
            self._by_key[key] = order_id
            self._by_customer.setdefault(body["customer_id"], []).append(order_id)
            return order

    def status(self, order: dict[str, Any]) -> str:
        if order["lost"] or time.time() - order["created_at"] < self.confirm_after:
            return "PENDING"
        if any(item["quantity"] > self.max_quantity for item in order["items"]):
            return "REJECTED"
        return "CONFIRMED"

    def view(self, order: dict[str, Any]) -> dict[str, Any]:
        return {
            "order_id": order["order_id"],
            "customer_id": order["customer_id"],
            "status": self.status(order),
            "currency": order["currency"],
            "items": order["items"],
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


class Handler(BaseHTTPRequestHandler):
    server: FakeOrdersServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: thousands of requests per test

    def _send(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        if self.server.store.response_delay:
            time.sleep(self.server.store.response_delay)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        store = self.server.store
        if url.path == "/health":
            return self._send(HTTPStatus.OK, {"status": "ok"})
        if m := ORDER_PATH.match(url.path):
            order = store.get(m["order_id"])
            if order is None:
                return self._send(HTTPStatus.NOT_FOUND, {"message": "order not found"})
            return self._send(HTTPStatus.OK, order)
        if m := CUSTOMER_ORDERS_PATH.match(url.path):
            try:
                limit = int(parse_qs(url.query).get("limit", ["20"])[0])
            except ValueError:
                limit = 0
            if not 1 <= limit <= 100:
                return self._send(HTTPStatus.BAD_REQUEST, {"message": "limit must be 1..100"})
            orders = store.for_customer(m["customer_id"], limit)
            return self._send(HTTPStatus.OK, {"orders": orders, "next_cursor": None})
        return self._send(HTTPStatus.NOT_FOUND, {"message": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if urlsplit(self.path).path != "/orders":
            return self._send(HTTPStatus.NOT_FOUND, {"message": "not found"})
        key = self.headers.get("Idempotency-Key")
        if not key:
            return self._send(HTTPStatus.BAD_REQUEST, {"message": "Idempotency-Key is required"})
        try:
            body = json.loads(raw)
        except ValueError:
            return self._send(HTTPStatus.BAD_REQUEST, {"message": "body is not JSON"})
        if error := _valid_order(body):
            return self._send(HTTPStatus.UNPROCESSABLE_ENTITY, {"message": error})
        order = self.server.store.create(key, body)
        return self._send(
            HTTPStatus.ACCEPTED,
            {
                "order_id": order["order_id"],
                "status": "PENDING",
                "links": {"self": f"/orders/{order['order_id']}"},
            },
        )


class FakeOrdersServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, port: int = 0, **store_options: Any) -> None:
        self.store = OrderStore(
            confirm_after=store_options.get("confirm_after", 0.2),
            max_quantity=store_options.get("max_quantity", 2),
            lose_every=store_options.get("lose_every", 0),
            response_delay=store_options.get("response_delay", 0.0),
        )
        super().__init__(("127.0.0.1", port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@contextmanager
def running(port: int = 0, **store_options: Any) -> Iterator[FakeOrdersServer]:
    """Serve in a background thread; shut down on exit."""
    server = FakeOrdersServer(port, **store_options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
