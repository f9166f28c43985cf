"""Faults injected into a local load test (`make loadtest ENV=local FAULTS=1`), at random but
reproducibly: every choice is drawn from one seed, printed first.

- crashes: a function worker process of the emulator (the API, the processor, the notifier)
  killed with SIGKILL in the middle of an invocation, as a Lambda crash or timeout ends one;
- poison: messages on the orders queue that cannot be processed (malformed, or an order the
  domain refuses), which must end in the orders DLQ having changed nothing; and orders for
  SKUs that are not stocked, through the API, which must end REJECTED;
- duplicates: a share of the accepted orders' queue messages delivered twice (a copy of the
  message sent again), some at once, while the first is processed, some once it is final.

Shares are per order the API accepted during the run (as artillery logs them in orders.log):
the k-th accepted order meets the same fate in every run with the same seed. The crash times
and the function each crash hits come from the seed too. Only the emulator's own worker
processes are killed, by pid (tools.local.ministack.function_workers).

Every fault injected is a line of faults.jsonl in the run directory; the orders the injector
itself placed are in faults/orders.log, reconciled with the run's. fault_audit.py judges what
the system made of them.
"""

from __future__ import annotations

import csv
import heapq
import itertools
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tools.loadtest.common import LOADTEST_DIR, LoadtestError, log
from tools.loadtest.target import Target

SERVICES = ("orders_api", "order_processor", "notifier")
CRASH_HUNT_S = 5.0  # how long a crash waits for an invocation of its function to be in flight
POLL_GAP_S = (0.0, 0.1)  # random gaps between looks: a kill lands anywhere in an invocation
UNSTOCKED_SKU = "UNSTOCKED-{:04d}"  # no seed writes stock for these
# a faults.jsonl record's kind -> the FaultLog list that keeps it
LOG_OF = {
    "crash": "crashes",
    "duplicate": "duplicates",
    "poison": "poison",
    "unstocked": "unstocked",
}
POISON_VARIANTS = (
    "malformed: not JSON",
    "malformed: not an order",
    "refused: a total that does not add up",
    "refused: an order that is not PENDING",
)


@dataclass(frozen=True)
class Fate:
    """What the injector does after one accepted order."""

    duplicate_after_s: float | None  # its message sent again this long after the 202
    poison: str | None  # a poison message of this variant sent beside it
    unstocked_sku: str | None  # an order for this unstocked SKU placed beside it
    customer: tuple[str, str]  # whose the poison or unstocked order is
    sku: tuple[str, str]  # the stocked SKU a refused poison order names


@dataclass(frozen=True)
class FaultPlan:
    seed: int
    crash_every_s: float = 6.0  # mean gap between crashes (exponential), over all functions
    duplicate_share: float = 0.10  # of accepted orders, a copy of the queue message sent too
    poison_share: float = 0.03  # per accepted order, a poison message on the orders queue
    unstocked_share: float = 0.05  # per accepted order, an order for a SKU nobody stocks

    def __post_init__(self) -> None:
        shares = (self.duplicate_share, self.poison_share, self.unstocked_share)
        if self.crash_every_s <= 0 or not all(0 <= share <= 1 for share in shares):
            raise LoadtestError(f"fault plan out of range: {self}")

    def rng(self, stream: str) -> random.Random:
        """One generator per kind of fault, so that one kind's draws never shift another's."""
        return random.Random(f"{self.seed}:{stream}")  # noqa: S311 - reproducible, not secret

    def crash_schedule(self, duration_s: float) -> list[tuple[float, str]]:
        """(seconds after the start, service) of every crash within `duration_s`: gaps of
        0.5-1.5 times the mean (random, yet a 60 s run always gets its ~10 crashes; exponential
        gaps gave some seeds 3), the services in turns of a shuffled order, each its share."""
        rng = self.rng("crashes")
        crashes: list[tuple[float, str]] = []
        at = rng.uniform(0.5, 1.5) * self.crash_every_s
        turns: list[str] = []
        while at < duration_s:
            if not turns:
                turns = rng.sample(SERVICES, len(SERVICES))
            crashes.append((round(at, 3), turns.pop()))
            at += rng.uniform(0.5, 1.5) * self.crash_every_s
        return crashes

    def fate(
        self,
        decide: random.Random,
        customers: Sequence[tuple[str, str]],
        skus: Sequence[tuple[str, str]],
    ) -> Fate:
        """What follows the next accepted order. Every draw is made for every order, so the
        k-th accepted order meets the same fate in each run with this seed."""
        duplicate, poison, unstocked = decide.random(), decide.random(), decide.random()
        at_once, soon, later = decide.random() < 0.5, decide.uniform(0, 0.1), decide.uniform(2, 10)
        variant = decide.choice(POISON_VARIANTS)
        customer, sku = decide.choice(customers), decide.choice(skus)
        unstocked_sku = UNSTOCKED_SKU.format(decide.randrange(1, 100))
        after_s = soon if at_once else later  # racing the first delivery, or once it is final
        return Fate(
            duplicate_after_s=after_s if duplicate < self.duplicate_share else None,
            poison=variant if poison < self.poison_share else None,
            unstocked_sku=unstocked_sku if unstocked < self.unstocked_share else None,
            customer=customer,
            sku=sku,
        )

    def describe(self) -> str:
        return (
            f"seed {self.seed}: a crash every {self.crash_every_s:g} s on average (orders_api, "
            f"order_processor, notifier in turn), of the accepted orders "
            f"{self.duplicate_share:.0%} delivered twice, {self.poison_share:.0%} followed by a "
            f"poison message, {self.unstocked_share:.0%} by an order for an unstocked SKU"
        )


def load_test_data() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(customer_id, currency) and (sku, unit_price) rows of the load test's data files."""

    def rows(name: str) -> list[tuple[str, str]]:
        with (LOADTEST_DIR / "data" / name).open() as lines:
            return [(row[0], row[1]) for row in itertools.islice(csv.reader(lines), 1, None)]

    return rows("customers.csv"), rows("skus.csv")


def poison_body(
    variant: str, order_id: str, customer: tuple[str, str], sku: tuple[str, str]
) -> str:
    """A message the processor must refuse. The refused orders name a stocked SKU, so one
    processed by mistake would take stock."""
    from orders_core.domain import OrderItem, confirm, new_order

    if variant == "malformed: not JSON":
        return f'{{"order_id": "{order_id}", "items": [{{"sku": '
    if variant == "malformed: not an order":
        return json.dumps({"order_id": order_id, "hello": "world"})
    now = datetime.now(UTC)
    item = OrderItem(sku=sku[0], quantity=1, unit_price=Decimal(sku[1]))
    order = new_order(order_id, customer[0], "EUR", [item], now)
    if variant == "refused: an order that is not PENDING":
        return confirm(order, now).model_dump_json()
    if variant == "refused: a total that does not add up":
        message = order.model_dump(mode="json")
        message["total"] = str(order.total + Decimal("0.01"))
        return json.dumps(message)
    raise ValueError(f"unknown poison variant {variant!r}")


@dataclass
class FaultLog:
    """What was injected, as faults.jsonl records it."""

    plan: FaultPlan
    crashes: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    poison: list[dict[str, Any]] = field(default_factory=list)
    unstocked: list[dict[str, Any]] = field(default_factory=list)

    def killed(self) -> Counter[str]:
        return Counter(c["service"] for c in self.crashes if c.get("killed"))

    @property
    def unstocked_accepted(self) -> list[str]:
        return [u["order_id"] for u in self.unstocked if u.get("status") == 202]

    def line(self) -> str:
        killed = self.killed()
        missed = sum(1 for c in self.crashes if not c.get("killed"))
        early = sum(1 for d in self.duplicates if d.get("sent") and d["status_then"] == "PENDING")
        variants = Counter(p["variant"].split(":")[0] for p in self.poison)
        return (
            f"crashes {sum(killed.values())} ("
            + ", ".join(f"{s} {killed[s]}" for s in SERVICES)
            + (f"; {missed} found no invocation in flight" if missed else "")
            + f"), duplicates {sum(1 for d in self.duplicates if d.get('sent'))} "
            f"({early} sent while the order was still PENDING), poison {len(self.poison)} "
            f"({variants['malformed']} malformed, {variants['refused']} refused), "
            f"unstocked orders {len(self.unstocked)} ({len(self.unstocked_accepted)} accepted)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.__dict__,
            "crashes": self.crashes,
            "duplicates": self.duplicates,
            "poison": self.poison,
            "unstocked": self.unstocked,
        }


class FaultInjector:
    """Runs beside artillery: `start()` at the start of the judged phase, `stop()` at its end.

    One thread hunts invocations to crash at the scheduled times; another follows orders.log
    and sends the duplicates, poison and unstocked orders the seed assigns to each accepted
    order."""

    def __init__(
        self,
        plan: FaultPlan,
        target: Target,
        orders_log: Path,
        run_dir: Path,
        duration_s: float,
        say: Callable[[str], None] = log,
        token_for: Callable[[str], str] | None = None,
    ) -> None:
        from orders_core.adapters.queue import SqsOrderQueue
        from orders_core.adapters.table import OrdersTable

        if target.emulator is None or target.aws is None or not target.table_name:
            raise LoadtestError("faults are injected into the local stack only (ENV=local)")
        self.plan = plan
        self.emulator = target.emulator
        self.functions = target.functions
        self.api_url = target.url
        self.sqs = target.aws("sqs")
        self.table = OrdersTable(target.table_name, target.aws("dynamodb"))
        self.queue = SqsOrderQueue(self.emulator.orders_queue_url, self.sqs)
        self.orders_log = orders_log
        self.placed_log = run_dir / "faults" / "orders.log"
        self.records = run_dir / "faults.jsonl"
        self.schedule = plan.crash_schedule(duration_s)
        self.say = say
        self.token_for = token_for  # customer id -> access token; None: the API is open
        self.customers, self.skus = load_test_data()
        self.log = FaultLog(plan)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._started = 0.0
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()

    # --- running ---------------------------------------------------------------------------

    def start(self) -> None:
        self.placed_log.parent.mkdir(parents=True, exist_ok=True)
        self._started = time.monotonic()
        for target in (self._crash_on_schedule, self._follow_orders):
            thread = threading.Thread(target=target, name=f"faults-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> FaultLog:
        """Stop injecting; faults still scheduled are dropped (a duplicate due after the end
        would race the reconciliation instead of the load)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CRASH_HUNT_S + 30)
        return self.log

    def _elapsed(self) -> float:
        return round(time.monotonic() - self._started, 3)

    def _record(self, kind: str, entry: dict[str, Any]) -> None:
        entry = {"t": self._elapsed(), "kind": kind, **entry}
        with self._lock:
            getattr(self.log, LOG_OF[kind]).append(entry)
            with self.records.open("a") as out:
                out.write(json.dumps(entry) + "\n")

    # --- crashes ---------------------------------------------------------------------------

    def _crash_on_schedule(self) -> None:
        from tools.local import ministack

        rng = self.plan.rng("victims")
        for at, service in self.schedule:
            if self._stop.wait(max(0.0, at - (time.monotonic() - self._started))):
                return
            function = self.functions.get(service)
            if function is None:
                why = "the stack has no such function"
                self._record("crash", {"service": service, "killed": False, "why": why})
                continue
            deadline = time.monotonic() + CRASH_HUNT_S
            while not self._stop.is_set() and time.monotonic() < deadline:
                busy = [
                    w
                    for w in ministack.function_workers(self.emulator.pid)
                    if w.function == function and w.busy
                ]
                if busy:
                    victim = rng.choice(sorted(busy, key=lambda w: w.pid))
                    if ministack.kill_function_worker(victim, self.emulator.pid):
                        self._record(
                            "crash",
                            {"service": service, "pid": victim.pid, "killed": True},
                        )
                        break
                self._stop.wait(rng.uniform(*POLL_GAP_S))
            else:
                self._record(
                    "crash",
                    {
                        "service": service,
                        "killed": False,
                        "why": f"no invocation in flight within {CRASH_HUNT_S:g} s",
                    },
                )

    # --- what follows each accepted order --------------------------------------------------

    def _follow_orders(self) -> None:
        decide = self.plan.rng("orders")
        seen: set[str] = set()
        offset = 0
        pending = b""
        while not self._stop.wait(0.05):
            if self.orders_log.is_file():
                with self.orders_log.open("rb") as lines:
                    lines.seek(offset)
                    chunk = lines.read()
                offset += len(chunk)
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    parts = raw.decode().split()
                    if len(parts) == 1 and parts[0] not in seen:  # a 202 (a retry repeats one)
                        seen.add(parts[0])
                        self._assign(parts[0], decide)
            while self._due and self._due[0][0] <= time.monotonic():
                _, _, action = heapq.heappop(self._due)
                try:
                    action()
                except Exception as error:  # one failed injection must not end the others
                    self.say(f"faults: an injection failed: {error.__class__.__name__}: {error}")

    def _later(self, delay_s: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._due, (time.monotonic() + delay_s, next(self._sequence), action))

    def _assign(self, order_id: str, decide: random.Random) -> None:
        seen_at = self._elapsed()
        fate = self.plan.fate(decide, self.customers, self.skus)
        if fate.duplicate_after_s is not None:
            self._later(fate.duplicate_after_s, lambda: self._duplicate(order_id, seen_at, 0))
        if fate.poison is not None:
            self._poison(fate.poison, fate.customer, fate.sku)
        if fate.unstocked_sku is not None:
            self._unstocked(fate.customer, fate.unstocked_sku)

    def _duplicate(self, order_id: str, seen_at: float, attempt: int) -> None:
        """Send the accepted order's message again: rebuilt from the order as stored (the
        accepted order is a pure function of its id, customer, currency, items and creation
        time) and sent by the API's own queue adapter. The copy is the same order, and the same
        bytes when its prices carry the currency's decimal places, as the load test's do."""
        from orders_core.domain import new_order

        stored = self.table.get_order(order_id)
        if stored is None:  # the PENDING record is not there yet (or its write failed)
            if attempt < 20:
                self._later(0.5, lambda: self._duplicate(order_id, seen_at, attempt + 1))
            else:
                self._record("duplicate", {"order_id": order_id, "sent": False})
            return
        accepted = new_order(
            stored.order_id, stored.customer_id, stored.currency, list(stored.items),
            stored.created_at,
        )  # fmt: skip
        message_id = self.queue.submit(accepted)
        self._record(
            "duplicate",
            {
                "order_id": order_id,
                "sent": True,
                "message_id": message_id,
                "status_then": str(stored.status),
                "after_s": round(self._elapsed() - seen_at, 3),
            },
        )

    def _poison(self, variant: str, customer: tuple[str, str], sku: tuple[str, str]) -> None:
        order_id = str(uuid.uuid4())
        message_id = self.sqs.send_message(
            QueueUrl=self.emulator.orders_queue_url,
            MessageBody=poison_body(variant, order_id, customer, sku),
            MessageAttributes={"order_id": {"DataType": "String", "StringValue": order_id}},
        )["MessageId"]
        self._record("poison", {"order_id": order_id, "variant": variant, "message_id": message_id})

    def _unstocked(self, customer: tuple[str, str], sku: str) -> None:
        from tools.loadtest.run import call

        body = {
            "customer_id": customer[0],
            "currency": customer[1],
            "items": [{"sku": sku, "quantity": 1, "unit_price": "9.99"}],
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        if self.token_for is not None:
            headers["Authorization"] = f"Bearer {self.token_for(customer[0])}"
        status, answer = call("POST", f"{self.api_url}/orders", body, headers)
        order_id = (answer or {}).get("order_id") if isinstance(answer, dict) else None
        if status == 202 and order_id:
            with self.placed_log.open("a") as placed:
                placed.write(f"{order_id}\n")
        self._record("unstocked", {"order_id": order_id, "sku": sku, "status": status})
