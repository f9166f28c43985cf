"""What the local stack made of the injected faults (faults.py), read once the run is over.

- **Stock, each confirmed order's units taken exactly once.** The stock of the load test's SKUs
  is read before the run and after it. Per SKU, the units taken must equal the units of the
  orders CONFIRMED since the run started: every order the table holds for the load test's
  customers from then on, answered 202 or not (an API crash after the enqueue leaves an order
  its client never heard of, and it is processed all the same). More taken than confirmed is
  an order's units taken twice; fewer, a confirmed order that took nothing.
- **Mail, each notified order mailed exactly once.** Every final order has its notification
  recorded (SENT, SKIPPED_NO_ADDRESS, REJECTED for an address SES refused, or UNCERTAIN after
  an attempt died mid-send) or its event in the notifications DLQ. SES (the emulator's record
  of the mail it took) holds exactly one mail for each SENT, none for a SKIPPED or a REJECTED,
  at most one for an UNCERTAIN: no order twice.
- **Poison**: every poison message ends in the orders DLQ, and no order with its id is stored.
- **Unstocked orders** end REJECTED, their SKU named as not stocked.

Notifications and poison settle after the orders do (a crashed batch returns after the queue's
visibility timeout; poison reaches the DLQ after three receives), so the audit reads again until
they have, or its wait is over.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.loadtest.common import log
from tools.loadtest.faults import FaultLog, load_test_data

ORDER_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
ORDERS_DLQ, NOTIFICATIONS_DLQ = "orders DLQ", "notifications DLQ"
READERS = 16  # table reads at once
READ_GRACE_S = 120.0  # for the reads after the wait

# dlqs() -> {dlq name: order ids of the messages in it} (reconcile.DlqReader)
DlqLookup = Callable[[], Mapping[str, set[str]]]


class OutOfTime(RuntimeError):
    """The audit's reads did not finish in time (the stack has stopped answering)."""


def _parallel(
    fn: Callable[[Any], Any], items: Iterable[Any], deadline: float | None = None
) -> list[Any]:
    """fn over items, READERS at once; no read starts after `deadline` (monotonic)."""

    def bounded(item: Any) -> Any:
        if deadline is not None and time.monotonic() > deadline:
            raise OutOfTime("the table did not answer the audit's reads in time")
        return fn(item)

    with ThreadPoolExecutor(max_workers=READERS) as pool:
        return list(pool.map(bounded, items))


def read_stock(
    table: Any, skus: Sequence[str], deadline: float | None = None
) -> dict[str, int | None]:
    return dict(zip(skus, _parallel(table.available, skus, deadline), strict=True))


def orders_since(
    table: Any, customers: Sequence[str], since: datetime, deadline: float | None = None
) -> dict[str, Any]:
    """Every order of these customers created at or after `since` (newest first per customer,
    through the API's own listing), by id."""

    def of(customer: str) -> list[Any]:
        found, cursor = [], None
        while True:
            page = table.list_customer_orders(customer, 100, cursor)
            recent = [order for order in page.orders if order.created_at >= since]
            found += recent
            if len(recent) < len(page.orders) or not page.next_cursor:
                return found
            cursor = page.next_cursor

    found = _parallel(of, customers, deadline)
    return {order.order_id: order for orders in found for order in orders}


def mails_per_order(emulator_endpoint: str) -> Counter[str]:
    """How many mails SES took that name each order id (ministack keeps every mail sent)."""
    url = f"{emulator_endpoint}/_ministack/ses/messages"
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        accounts = json.load(response)["messages"]
    counts: Counter[str] = Counter()
    for mails in accounts.values():
        for mail in mails:
            counts.update(set(ORDER_ID.findall(mail.get("BodyText") or "")))
    return counts


@dataclass
class FaultAudit:
    orders: int = 0  # orders of the run in the table (202 or not)
    confirmed: int = 0
    rejected: int = 0
    without_202: int = 0  # in the table, no client was answered 202 for it
    skus: int = 0
    units_taken: int = 0
    taken_twice: dict[str, int] = field(default_factory=dict)  # sku -> units taken too many
    not_taken: dict[str, int] = field(default_factory=dict)  # sku -> units confirmed, not taken
    notifications: dict[str, int] = field(default_factory=dict)  # status (or where) -> orders
    uncertain_mailed: int = 0  # UNCERTAIN notifications whose mail SES did take
    mailed_twice: list[str] = field(default_factory=list)
    sent_not_mailed: list[str] = field(default_factory=list)
    not_sent_but_mailed: list[str] = field(default_factory=list)  # SKIPPED or REJECTED
    notification_missing: list[str] = field(default_factory=list)
    poison: int = 0
    poison_in_dlq: int = 0
    poison_stored: list[str] = field(default_factory=list)
    poison_not_in_dlq: list[str] = field(default_factory=list)
    unstocked: int = 0
    unstocked_rejected: int = 0
    unstocked_wrong: list[str] = field(default_factory=list)
    unverified: str | None = None  # why the audit could not read what it needed
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Nothing found wrong (see `unverified` for whether everything could be read)."""
        return not (
            self.taken_twice
            or self.not_taken
            or self.mailed_twice
            or self.sent_not_mailed
            or self.not_sent_but_mailed
            or self.notification_missing
            or self.poison_stored
            or self.poison_not_in_dlq
            or self.unstocked_wrong
        )

    def lines(self) -> list[str]:
        if self.unverified:
            return [f"faults:     not verified: {self.unverified}"]
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.notifications.items()))
        out = [
            f"stock:      {self.skus} SKUs, {self.units_taken} units taken by {self.confirmed} "
            f"confirmed orders ({self.orders} orders in the table since the start, "
            f"{self.without_202} of them never answered 202): "
            f"{len(self.taken_twice)} SKUs taken twice, {len(self.not_taken)} short",
            f"mail:       {statuses or 'no final orders'}; UNCERTAIN mailed "
            f"{self.uncertain_mailed}; mailed twice {len(self.mailed_twice)}, SENT not mailed "
            f"{len(self.sent_not_mailed)}, notification missing {len(self.notification_missing)}",
            f"poison:     {self.poison_in_dlq}/{self.poison} in the orders DLQ, "
            f"{len(self.poison_stored)} stored; unstocked orders REJECTED "
            f"{self.unstocked_rejected}/{self.unstocked}",
        ]
        problems = {
            "taken twice": [f"{sku} +{n}" for sku, n in self.taken_twice.items()],
            "not taken": [f"{sku} -{n}" for sku, n in self.not_taken.items()],
            "mailed twice": self.mailed_twice,
            "SENT, never mailed": self.sent_not_mailed,
            "SKIPPED or REJECTED, yet mailed": self.not_sent_but_mailed,
            "notification missing": self.notification_missing,
            "poison stored": self.poison_stored,
            "poison not in the DLQ": self.poison_not_in_dlq,
            "unstocked, not REJECTED": self.unstocked_wrong,
        }
        for what, ids in problems.items():
            out += [f"  {what}: {i}" for i in ids[:10]]
        return out


@dataclass(frozen=True)
class Baseline:
    """Read before the run: when it started, the stock of the load test's SKUs, and the
    customers whose orders the audit reads."""

    since: datetime
    stock: dict[str, int | None]
    customers: list[str]

    @classmethod
    def read(cls, table: Any) -> Baseline:
        customers, skus = load_test_data()
        since = datetime.now(UTC) - timedelta(seconds=1)  # clocks read a little apart
        stock = read_stock(table, [sku for sku, _ in skus])
        return cls(since, stock, [customer for customer, _ in customers])


@dataclass(frozen=True)
class AuditInputs:
    faults: FaultLog  # what was injected
    table: Any  # the orders table (an OrdersTable)
    dlqs: DlqLookup
    emulator_endpoint: str  # for the mail SES took
    baseline: Baseline
    answered_202: set[str]  # the order ids clients were answered 202 for


def audit(inputs: AuditInputs, wait_s: float) -> FaultAudit:
    """Read what the faults left, waiting up to `wait_s` for notifications and poison to
    settle (see the module's docstring); reads still unanswered READ_GRACE_S after that leave
    the audit unverified, as does a table or endpoint that does not answer."""
    from botocore.exceptions import BotoCoreError, ClientError

    from orders_core.ports import Unavailable

    started = time.monotonic()
    faults = inputs.faults
    result = FaultAudit(poison=len(faults.poison), unstocked=len(faults.unstocked_accepted))
    try:
        _audit(result, inputs, wait_s)
    except (OutOfTime, BotoCoreError, ClientError, Unavailable, OSError, ValueError) as error:
        result.unverified = f"{error.__class__.__name__}: {error}"
        log(f"fault audit: could not read what it needs ({result.unverified})")
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _audit(result: FaultAudit, inputs: AuditInputs, wait_s: float) -> None:
    from orders_core.domain import NotificationStatus, OrderStatus, stock_to_reserve

    faults, table, dlqs, baseline = inputs.faults, inputs.table, inputs.dlqs, inputs.baseline
    since, stock_before, customers = baseline.since, baseline.stock, baseline.customers
    deadline = time.monotonic() + wait_s
    reads_end = deadline + READ_GRACE_S
    settled_notification = {
        NotificationStatus.SENT,
        NotificationStatus.SKIPPED_NO_ADDRESS,
        NotificationStatus.REJECTED,
        NotificationStatus.UNCERTAIN,
    }
    not_sent = {NotificationStatus.SKIPPED_NO_ADDRESS, NotificationStatus.REJECTED}
    poison_ids = [p["order_id"] for p in faults.poison]
    notifications: dict[str, Any] = {}
    in_dlq: Mapping[str, set[str]] = {}
    sweep = 0
    while True:
        sweep += 1
        orders = orders_since(table, customers, since, reads_end)
        final = [i for i, o in orders.items() if o.status is not OrderStatus.PENDING]
        unread = [i for i in final if getattr(notifications.get(i), "status", None)
                  not in settled_notification]  # fmt: skip
        notifications.update(
            zip(unread, _parallel(table.notification_for, unread, reads_end), strict=True)
        )
        in_dlq = dlqs()
        waiting_mail = [
            i
            for i in final
            if getattr(notifications.get(i), "status", None) not in settled_notification
            and i not in in_dlq.get(NOTIFICATIONS_DLQ, set())
        ]
        waiting_poison = [i for i in poison_ids if i not in in_dlq.get(ORDERS_DLQ, set())]
        log(
            f"fault audit, sweep {sweep}: {len(orders)} orders, {len(final)} final; waiting "
            f"for {len(waiting_mail)} notifications and {len(waiting_poison)} poison messages"
        )
        if (not waiting_mail and not waiting_poison) or time.monotonic() + 5 > deadline:
            break
        time.sleep(5)

    # The ledger: orders, stock, orders again, until no order moved in between.
    for _ in range(5):
        after = read_stock(table, list(stock_before), reads_end)
        again = orders_since(table, customers, since, reads_end)
        if {i: o.status for i, o in again.items()} == {i: o.status for i, o in orders.items()}:
            break
        orders = again
    confirmed = [o for o in orders.values() if o.status is OrderStatus.CONFIRMED]
    wanted: Counter[str] = Counter()
    for order in confirmed:
        wanted.update(stock_to_reserve(order))
    result.orders = len(orders)
    result.confirmed = len(confirmed)
    result.rejected = sum(1 for o in orders.values() if o.status is OrderStatus.REJECTED)
    result.without_202 = len(set(orders) - inputs.answered_202)
    result.skus = len(stock_before)
    for sku, before in stock_before.items():
        taken = (before or 0) - (after.get(sku) or 0)
        result.units_taken += taken
        if taken > wanted[sku]:
            result.taken_twice[sku] = taken - wanted[sku]
        elif taken < wanted[sku]:
            result.not_taken[sku] = wanted[sku] - taken

    mails = mails_per_order(inputs.emulator_endpoint)
    tally: Counter[str] = Counter()
    for order_id in (i for i, o in orders.items() if o.status is not OrderStatus.PENDING):
        notification = notifications.get(order_id)
        status = notification.status if notification else None
        mailed = mails[order_id]
        if mailed > 1:
            result.mailed_twice.append(order_id)
        if status is NotificationStatus.SENT and mailed != 1:
            result.sent_not_mailed.append(order_id)
        elif status in not_sent and mailed:
            result.not_sent_but_mailed.append(order_id)
        elif status is NotificationStatus.UNCERTAIN:
            result.uncertain_mailed += mailed
        if status in settled_notification:
            tally[str(status)] += 1
        elif order_id in in_dlq.get(NOTIFICATIONS_DLQ, set()):
            tally["event in the notifications DLQ"] += 1
        else:
            result.notification_missing.append(order_id)
            tally["missing"] += 1
    result.notifications = dict(tally)

    dead = in_dlq.get(ORDERS_DLQ, set())
    result.poison_in_dlq = sum(1 for i in poison_ids if i in dead)
    result.poison_not_in_dlq = [i for i in poison_ids if i not in dead]
    stored = _parallel(table.get_order, poison_ids, reads_end)
    result.poison_stored = [i for i, o in zip(poison_ids, stored, strict=True) if o is not None]
    for order_id in faults.unstocked_accepted:
        order = orders.get(order_id) or table.get_order(order_id)
        if (
            order is not None
            and order.status is OrderStatus.REJECTED
            and "not stocked" in (order.reason or "")
        ):
            result.unstocked_rejected += 1
        else:
            result.unstocked_wrong.append(order_id)
