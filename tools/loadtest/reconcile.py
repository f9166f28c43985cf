"""Reconciliation: how every order the API accepted (answered 202) ended.

An accepted order must end final (CONFIRMED or REJECTED) or sit in a dead-letter queue. One
read and found still PENDING after the wait, or not found at all, is *lost*. One that could
not be read (the API or the table did not answer, or the time budget ran out) is
*unverified*: nothing shows it lost, nothing shows it safe, and the verdict says so apart.

Statuses are read where it is cheapest and most direct:

1. the orders table, the source of truth: BatchGetItem, 100 orders a call, several calls at
   once, when the target names its table and the caller's credentials may read it;
2. otherwise, and for whatever the table could not answer, GET /orders/{id} on the API over
   keep-alive connections, many at once, within a time budget proportional to the number of
   orders to read.

Orders seen final during the run (orders.log) are not read again: a final status never
changes. The order logs of several load generators (one per machine of a distributed run)
are merged, so one reconciliation covers them all.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from tools.loadtest.common import FINAL_STATUSES, log

MISSING = "MISSING"  # read, and the order does not exist
UNREADABLE = "UNREADABLE"  # could not be read
DLQ_PEEK_VISIBILITY_S = 30  # DLQ messages read for reconciliation reappear after this

# reader(order_ids) -> {order_id: status}: CONFIRMED, REJECTED, PENDING, MISSING or UNREADABLE;
# an id it leaves out counts as UNREADABLE.
StatusReader = Callable[[Sequence[str]], Mapping[str, str]]
# dlq_lookup() -> {dlq name: order ids of the messages in it}
DlqLookup = Callable[[], Mapping[str, set[str]]]


@dataclass
class Reconciliation:
    accepted: int
    confirmed: int
    rejected: int
    in_dlq: int
    lost: int
    unverified: int = 0
    lost_ids: list[str] = field(default_factory=list)
    unverified_ids: list[str] = field(default_factory=list)
    lost_statuses: dict[str, int] = field(default_factory=dict)  # what the lost were read as
    dlq_orders: dict[str, int] = field(default_factory=dict)  # this run's orders per DLQ
    source: str = ""  # where the statuses were read
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.unverified == 0

    def line(self) -> str:
        dlqs = "".join(f", {name} holds {n}" for name, n in sorted(self.dlq_orders.items()))
        why = ", ".join(f"{s} {n}" for s, n in sorted(self.lost_statuses.items()))
        return (
            f"accepted {self.accepted}: confirmed {self.confirmed}, rejected {self.rejected}, "
            f"in DLQ {self.in_dlq}, lost {self.lost}, unverified {self.unverified}{dlqs}"
            + (f" (lost as: {why})" if why else "")
        )


def read_orders(paths: Path | Iterable[Path]) -> tuple[list[str], dict[str, str]]:
    """(distinct accepted order ids in first-seen order, {id: final status seen}) from
    orders.log files: "<id>" per 202 (a retry repeats one), "<id> <STATUS>" when a
    read-back saw the order final. Several files (one per load generator) are merged."""
    ids: dict[str, None] = {}
    final: dict[str, str] = {}
    for path in [paths] if isinstance(paths, Path) else paths:
        if not path.is_file():
            continue
        with path.open() as lines:
            for line in lines:
                parts = line.split()
                if len(parts) == 1:
                    ids.setdefault(parts[0], None)
                elif len(parts) == 2 and parts[1] in FINAL_STATUSES:
                    final[parts[0]] = parts[1]
    return list(ids), {i: s for i, s in final.items() if i in ids}


def reconcile(
    order_ids: Iterable[str],
    reader: StatusReader,
    dlq_lookup: DlqLookup | None = None,
    seen_final: Mapping[str, str] | None = None,
    wait_s: float = 0.0,
    interval_s: float = 1.0,
    source: str = "",
) -> Reconciliation:
    """How the accepted orders ended. The orders not yet known final are read, again every
    `interval_s` until each is final or in a DLQ, or `wait_s` has passed."""
    started = time.monotonic()
    ids = list(dict.fromkeys(order_ids))
    run_ids = set(ids)
    statuses: dict[str, str] = {i: s for i, s in (seen_final or {}).items() if i in run_ids}
    deadline = started + wait_s
    in_dlqs: dict[str, set[str]] = {}
    sweep = 0
    while True:
        todo = [i for i in ids if statuses.get(i) not in FINAL_STATUSES]
        if todo:
            sweep += 1
            sweep_started = time.monotonic()
            got = reader(todo)
            statuses.update({i: got.get(i, UNREADABLE) for i in todo})
            counts = Counter(statuses[i] for i in todo)
            log(
                f"sweep {sweep}: {len(todo)} orders read in "
                f"{time.monotonic() - sweep_started:.1f} s: "
                + ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
            )
            todo = [i for i in ids if statuses.get(i) not in FINAL_STATUSES]
        if dlq_lookup is not None and (todo or not in_dlqs):  # always read them once
            in_dlqs = {name: set(found) for name, found in dlq_lookup().items()}
        dead = set().union(*in_dlqs.values()) if in_dlqs else set()
        remaining = [i for i in todo if i not in dead]
        if not remaining or time.monotonic() + interval_s > deadline:
            break
        time.sleep(interval_s)
    unverified = [i for i in remaining if statuses.get(i, UNREADABLE) == UNREADABLE]
    lost = [i for i in remaining if statuses.get(i, UNREADABLE) != UNREADABLE]
    return Reconciliation(
        accepted=len(ids),
        confirmed=sum(1 for i in ids if statuses.get(i) == "CONFIRMED"),
        rejected=sum(1 for i in ids if statuses.get(i) == "REJECTED"),
        in_dlq=len(todo) - len(remaining),
        lost=len(lost),
        unverified=len(unverified),
        lost_ids=lost,
        unverified_ids=unverified,
        lost_statuses=dict(Counter(statuses[i] for i in lost)),
        dlq_orders={name: len(found & run_ids) for name, found in in_dlqs.items()},
        source=source,
        seconds=round(time.monotonic() - started, 1),
    )


# --- readers ---------------------------------------------------------------------------------


class _Progress:
    """A line every `every_s` while a long read runs: what is done, at what rate."""

    def __init__(self, what: str, total: int, every_s: float = 10.0) -> None:
        self.what, self.total, self.every_s = what, total, every_s
        self.done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = time.monotonic()

    def add(self, n: int) -> None:
        with self._lock:
            self.done += n

    def _report(self) -> None:
        while not self._stop.wait(self.every_s):
            elapsed = time.monotonic() - self._started
            log(
                f"  {self.what}: {self.done}/{self.total} read in {elapsed:.0f} s "
                f"({self.done / elapsed:.0f}/s)"
            )

    @contextmanager
    def running(self) -> Iterator[_Progress]:
        ticker = threading.Thread(target=self._report, daemon=True)
        ticker.start()
        try:
            yield self
        finally:
            self._stop.set()
            ticker.join()


class TableStatusReader:
    """Statuses from the orders table, 100 orders per BatchGetItem, `workers` calls at once.

    A failure that concerns every call (no credentials, access denied, no such table) turns
    the reader off for the rest of the run, with one line saying why; a failed call leaves
    its orders UNREADABLE for the next reader to try."""

    def __init__(self, table: Any, workers: int = 16) -> None:
        self.table = table  # an orders_core OrdersTable: the adapter owns the key layout
        self.workers = workers
        self.disabled: str | None = None

    @property
    def source(self) -> str:
        return f"table {self.table.table_name} (BatchGetItem)"

    def _chunk(self, ids: Sequence[str], progress: _Progress) -> dict[str, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        from orders_core.ports import Unavailable

        if self.disabled:
            return {}
        try:
            found = self.table.order_statuses(ids)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in {"AccessDeniedException", "ResourceNotFoundException",
                        "UnrecognizedClientException", "ExpiredTokenException"}:  # fmt: skip
                self._disable(f"{code}: {error}")
            return {}
        except BotoCoreError as error:  # no credentials, endpoint unreachable
            self._disable(f"{error.__class__.__name__}: {error}")
            return {}
        except Unavailable:
            return {}
        progress.add(len(ids))
        return {i: str(found[i]) if i in found else MISSING for i in ids}

    def _disable(self, why: str) -> None:
        if not self.disabled:
            self.disabled = why
            log(f"cannot read {self.source}; reading through the API instead ({why[:300]})")

    def __call__(self, order_ids: Sequence[str]) -> dict[str, str]:
        from orders_core.adapters.table import BATCH_GET_LIMIT

        chunks = [
            order_ids[i : i + BATCH_GET_LIMIT] for i in range(0, len(order_ids), BATCH_GET_LIMIT)
        ]
        statuses: dict[str, str] = {}
        with (
            _Progress(self.source, len(order_ids)).running() as progress,
            ThreadPoolExecutor(max_workers=self.workers) as pool,
        ):
            for got in pool.map(lambda chunk: self._chunk(chunk, progress), chunks):
                statuses.update(got)
        return statuses


class HttpStatusReader:
    """GET /orders/{id} over keep-alive connections, `workers` at once, with the admin token
    when `token` gives one (another customer's order answers 404 like a missing one).

    Each call gets a time budget of `min_budget_s` plus `seconds_per_order` for every order
    to read; what is not read by then comes back UNREADABLE. After `give_up_after` failures
    in a row (transport errors, 5xx) the API is taken as down and nothing more is asked."""

    def __init__(
        self,
        base_url: str,
        workers: int = 32,
        timeout_s: float = 5.0,
        min_budget_s: float = 30.0,
        seconds_per_order: float = 0.01,
        give_up_after: int = 200,
        token: Callable[[], str] | None = None,
    ) -> None:
        url = urlsplit(base_url.rstrip("/"))
        self.token = token  # the admin token (orders/admin reads every customer's orders)
        self.scheme, self.netloc, self.prefix = url.scheme, url.netloc, url.path
        self.workers = workers
        self.timeout_s = timeout_s
        self.min_budget_s = min_budget_s
        self.seconds_per_order = seconds_per_order
        self.give_up_after = give_up_after

    @property
    def source(self) -> str:
        return "the API (GET /orders/{id})"

    def budget_s(self, orders: int) -> float:
        return self.min_budget_s + orders * self.seconds_per_order

    def _connect(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.netloc, timeout=self.timeout_s)
        return http.client.HTTPConnection(self.netloc, timeout=self.timeout_s)

    def __call__(self, order_ids: Sequence[str]) -> dict[str, str]:
        deadline = time.monotonic() + self.budget_s(len(order_ids))
        local = threading.local()
        connections: list[http.client.HTTPConnection] = []
        lock = threading.Lock()
        failures_in_a_row = [0]

        def connection() -> http.client.HTTPConnection:
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = self._connect()
                with lock:
                    connections.append(conn)
            return conn

        def failed(ok: bool) -> None:
            with lock:
                failures_in_a_row[0] = 0 if ok else failures_in_a_row[0] + 1

        def status(order_id: str) -> str:
            path = f"{self.prefix}/orders/{quote(order_id, safe='')}"
            for _ in range(2):  # a dropped keep-alive connection is reopened once
                if time.monotonic() >= deadline or failures_in_a_row[0] >= self.give_up_after:
                    return UNREADABLE
                conn = connection()
                try:
                    headers = {"Accept": "application/json"}
                    if self.token is not None:
                        headers["Authorization"] = f"Bearer {self.token()}"
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    local.conn = None
                    failed(False)
                    continue
                if response.status == 404:
                    failed(True)
                    return MISSING
                if response.status >= 500:
                    failed(False)
                    continue
                failed(True)
                if response.status != 200:
                    return UNREADABLE
                try:
                    return str(json.loads(body).get("status", UNREADABLE))
                except (ValueError, AttributeError):
                    return UNREADABLE
            return UNREADABLE

        progress = _Progress(self.source, len(order_ids))

        def tracked(order_id: str) -> str:
            result = status(order_id)
            progress.add(1)
            return result

        try:
            with progress.running(), ThreadPoolExecutor(max_workers=self.workers) as pool:
                results = dict(zip(order_ids, pool.map(tracked, order_ids), strict=True))
        finally:
            for conn in connections:
                conn.close()
        if failures_in_a_row[0] >= self.give_up_after:
            log(f"the API failed {self.give_up_after} reads in a row; stopped reading it")
        return results


class FallbackReader:
    """Each reader in turn, on what the ones before could not read."""

    def __init__(self, readers: Sequence[Any]) -> None:
        self.readers = list(readers)

    @property
    def source(self) -> str:
        return ", then ".join(r.source for r in self.readers if not getattr(r, "disabled", None))

    def __call__(self, order_ids: Sequence[str]) -> dict[str, str]:
        statuses: dict[str, str] = {}
        todo = list(order_ids)
        for reader in self.readers:
            if not todo:
                break
            got = reader(todo)
            statuses.update(got)
            todo = [i for i in todo if got.get(i, UNREADABLE) == UNREADABLE]
        return statuses


# --- dead-letter queues -------------------------------------------------------------------------


def order_id_of(message: Mapping[str, Any]) -> str | None:
    """The order a queue message is about: the `order_id` attribute (orders queue),
    or `order_id` in the JSON body or in its EventBridge `detail` (notifications)."""
    attribute = (message.get("MessageAttributes") or {}).get("order_id") or {}
    if attribute.get("StringValue"):
        return str(attribute["StringValue"])
    try:
        body = json.loads(message.get("Body") or "")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    detail = body.get("detail") if isinstance(body.get("detail"), dict) else {}
    found = body.get("order_id") or detail.get("order_id")
    return str(found) if found else None


class DlqReader:
    """Order ids of the messages in the dead-letter queues. Each read receives with
    a visibility timeout of DLQ_PEEK_VISIBILITY_S and deletes nothing: the
    messages stay and reappear; ids seen once are remembered."""

    def __init__(self, make_client: Callable[[], Any], urls: Mapping[str, str]) -> None:
        self.make_client = make_client
        self.urls = dict(urls)
        self.seen: dict[str, set[str]] = {name: set() for name in self.urls}
        self._client: Any = None

    def __call__(self, max_receives: int = 500) -> dict[str, set[str]]:
        try:
            self._client = self._client or self.make_client()
            for name, url in self.urls.items():
                for _ in range(max_receives):
                    messages = self._client.receive_message(
                        QueueUrl=url,
                        MaxNumberOfMessages=10,
                        VisibilityTimeout=DLQ_PEEK_VISIBILITY_S,
                        WaitTimeSeconds=0,
                        MessageAttributeNames=["All"],
                    ).get("Messages", [])
                    if not messages:
                        break
                    self.seen[name].update(filter(None, map(order_id_of, messages)))
        except Exception as exc:  # no credentials, no queue...: report, reconcile without
            log(f"cannot read the DLQs ({exc.__class__.__name__}: {exc})")
        return self.seen
