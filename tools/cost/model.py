"""The monthly cost of an environment: its settings x the measured usage of an order x the
traffic, priced with the region's public on-demand prices.

Every line says what it counts and which figure it uses: a setting of the configuration, a
measurement (tools/cost/data/measured.json, `make bench`), the traffic, or a rule of AWS's
pricing. What the model leaves out is in NOT_COUNTED.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.cost.configuration import Configuration, Function
from tools.cost.measured import Durations
from tools.cost.prices import PriceBook
from tools.cost.traffic import HOURS_PER_MONTH, Mix, Traffic

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GB = 1024**3
DYNAMODB_ITEM_OVERHEAD = 100  # bytes DynamoDB adds to every item it stores, table and index
# X-Ray's default sampling rule: the first request each second, then 5 % of the others.
XRAY_RESERVOIR_PER_S, XRAY_RATE = 1.0, 0.05
# Typical lengths of the access log's $context variables (a request id is a 36-byte UUID...).
ACCESS_LOG_VALUES = {
    "requestId": 36,
    "requestTime": 26,
    "identity.sourceIp": 13,
    "httpMethod": 4,
    "routeKey": 20,
    "status": 3,
    "protocol": 8,
    "responseLength": 3,
    "responseLatency": 2,
    "integrationLatency": 2,
    "integrationErrorMessage": 1,
}
API_KINDS = ("post_new", "post_replay", "get_order", "list_orders")
NOT_COUNTED = (
    "cold starts: Lambda bills each initialisation (300-600 ms, docs/benchmarks.md), as often "
    "as AWS starts new execution environments",
    "network time inside each invocation: the durations are `make bench`'s, with AWS answered "
    "in-process; on AWS every DynamoDB, SQS and EventBridge call adds its round trip",
    "the event source mappings' empty long polls of idle queues, SnapStart restores, KMS "
    "requests, SNS alarm notifications, X-Ray reads, data transfer, and AWS Budgets (free "
    "without budget actions)",
)


@dataclass(frozen=True)
class Line:
    component: str
    what: str
    usd: float
    figure: str


@dataclass(frozen=True)
class BreakEven:
    function: str
    instances: int
    memory_mb: int
    break_even_utilisation: float  # above it, provisioned instances cost less than on demand
    utilisation: float  # this traffic's average use of the instances
    provisioned_usd: float  # the instances and the invocations they serve
    on_demand_usd: float  # the same invocations on demand


@dataclass
class Estimate:
    configuration: Configuration
    traffic: Traffic
    mix: Mix
    prices: PriceBook
    durations: Durations
    free_tier: bool
    orders: float
    lines: list[Line] = field(default_factory=list)
    break_even: list[BreakEven] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def per_1000_orders(self) -> float:
        return self.total / self.orders * 1000 if self.orders else float("nan")


def billed_ms(ms: float) -> int:
    """Lambda bills each invocation's duration rounded up to the millisecond."""
    return max(1, math.ceil(ms))


def records_per_batch(function: Function, per_second: float) -> float:
    """Records per invocation of a queue consumer: as many as arrive between polls, at most
    the batch size (no batching window is configured, so a batch does not wait to fill)."""
    return min(float(function.batch_size or 1), max(1.0, per_second))


def xray_traces(invocations_per_s: float, seconds: float) -> float:
    sampled = min(invocations_per_s, XRAY_RESERVOIR_PER_S) + XRAY_RATE * max(
        0.0, invocations_per_s - XRAY_RESERVOIR_PER_S
    )
    return sampled * seconds


def access_log_bytes(log_format: str | None) -> int:
    """One access log line: the format with typical values in place of its variables."""
    if not log_format:
        return 0
    line = log_format
    for name, size in sorted(ACCESS_LOG_VALUES.items(), key=lambda kv: -len(kv[0])):
        line = line.replace(f"$context.{name}", "x" * size)
    return len(line.encode()) + 1


def _fmt(count: float) -> str:
    for limit, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if count >= limit:
            return f"{count / limit:.1f}{suffix}"
    return f"{count:.0f}"


class _Builder:
    def __init__(self, estimate: Estimate, measured: Mapping[str, Any]) -> None:
        self.e = estimate
        self.m = measured
        self.requests = measured["requests"]

    def price(self, key: str, quantity: float) -> float:
        return self.e.prices[key].cost(quantity, self.e.free_tier)

    def add(self, component: str, what: str, usd: float, figure: str) -> None:
        self.e.lines.append(Line(component, what, usd, figure))

    def per_order(self, value: str, kinds: tuple[str, ...] = API_KINDS) -> float:
        """A measured figure of the API's requests, per order, weighted by the mix."""
        return sum(self.e.mix.per_order[kind] * self.requests[kind][value] for kind in kinds)

    def calls_per_order(self, call: str) -> float:
        api = sum(
            self.e.mix.per_order[kind] * self.requests[kind]["calls"].get(call, 0)
            for kind in API_KINDS
        )
        return api + sum(self.requests[k]["calls"].get(call, 0) for k in ("process", "notify"))


def estimate(
    configuration: Configuration,
    traffic: Traffic,
    mix: Mix,
    prices: PriceBook,
    durations: Durations,
    measured: Mapping[str, Any],
    free_tier: bool = False,
) -> Estimate:
    orders = traffic.requests / mix.requests_per_order
    result = Estimate(configuration, traffic, mix, prices, durations, free_tier, orders)
    b = _Builder(result, measured)
    cfg = configuration
    seconds = traffic.active_seconds
    requests = traffic.requests
    orders_per_s = traffic.rps / mix.requests_per_order
    api, processor, notifier = (
        cfg.function(s) for s in ("orders_api", "order_processor", "notifier")
    )
    arch = api.architecture
    batch = {
        "order_processor": records_per_batch(processor, orders_per_s),
        "notifier": records_per_batch(notifier, orders_per_s),
    }
    invocations = {
        "orders_api": requests,
        "order_processor": orders / batch["order_processor"],
        "notifier": orders / batch["notifier"],
    }
    invocation_ms = {
        "orders_api": durations.ms["orders_api"],
        "order_processor": durations.ms["order_processor"] * batch["order_processor"],
        "notifier": durations.ms["notifier"] * batch["notifier"],
    }
    traffic_figure = f"{traffic.rps:g} req/s x {traffic.hours_per_day:g} h/day"

    # --- API Gateway -----------------------------------------------------------------------
    if cfg.api_protocol != "HTTP":
        raise ValueError(f"{cfg.env}: only an HTTP API is priced here, not {cfg.api_protocol}")
    b.add(
        "API Gateway",
        f"HTTP API, {_fmt(requests)} requests",
        b.price("apigateway.http.requests", requests),
        f"traffic ({traffic_figure})",
    )

    # --- Lambda ----------------------------------------------------------------------------
    all_invocations = sum(invocations.values())
    b.add(
        "Lambda requests",
        ", ".join(f"{s} {_fmt(n)}" for s, n in invocations.items()),
        b.price(f"lambda.requests.{arch}", all_invocations),
        "API requests; batches of "
        + ", ".join(f"{batch[s]:.3g} ({s})" for s in batch)
        + " records (min(batch size, orders/s))",
    )
    for service, count in invocations.items():
        function = cfg.function(service)
        ms = billed_ms(invocation_ms[service])
        gb_seconds = count * ms / 1000 * function.memory_gb
        on_pc = 0.0
        if function.provisioned:
            concurrency = count / seconds * ms / 1000 if seconds else 0.0
            on_pc = min(1.0, function.provisioned / concurrency) if concurrency else 1.0
            standing = function.provisioned * function.memory_gb * SECONDS_PER_MONTH
            pc_usd = b.price(f"lambda.provisioned.gb_second.{function.architecture}", standing)
            b.add(
                "Lambda provisioned concurrency",
                f"{service}: {function.provisioned} x {function.memory_mb} MB, all month",
                pc_usd,
                "provisioned_concurrent_executions (configuration)",
            )
            b.add(
                "Lambda duration",
                f"{service}: {_fmt(gb_seconds * on_pc)} GB-s on provisioned instances",
                b.price(
                    f"lambda.provisioned_duration.gb_second.{function.architecture}",
                    gb_seconds * on_pc,
                ),
                f"{ms} ms billed per invocation: {durations.source}",
            )
            result.break_even.append(
                _break_even(b, function, count, ms, pc_usd, gb_seconds * on_pc)
            )
        if on_pc < 1:
            b.add(
                "Lambda duration",
                f"{service}: {_fmt(gb_seconds * (1 - on_pc))} GB-s, {function.memory_mb} MB "
                f"{function.architecture}",
                b.price(f"lambda.gb_second.{function.architecture}", gb_seconds * (1 - on_pc)),
                f"{ms} ms billed per invocation: {durations.source}",
            )
        if function.snap_start:
            cached = function.memory_gb * SECONDS_PER_MONTH
            b.add(
                "Lambda SnapStart",
                f"{service}: the snapshot of {function.memory_mb} MB cached all month",
                b.price("lambda.snapstart.cache.gb_second", cached),
                "snap_start (configuration); restores not counted",
            )

    # --- DynamoDB --------------------------------------------------------------------------
    if cfg.table_billing_mode != "PAY_PER_REQUEST":
        raise ValueError(
            f"{cfg.env}: the table is {cfg.table_billing_mode}; only on demand is priced"
        )
    wru = b.per_order("dynamodb_write_units") + sum(
        b.requests[k]["dynamodb_write_units"] for k in ("process", "notify")
    )
    rru = b.per_order("dynamodb_read_units") + sum(
        b.requests[k]["dynamodb_read_units"] for k in ("process", "notify")
    )
    measured_by = "measured per order (tools/cost/data/measured.json)"
    b.add(
        "DynamoDB writes",
        f"{wru:.2f} write request units per order",
        b.price("dynamodb.write_request_units", wru * orders),
        measured_by,
    )
    b.add(
        "DynamoDB reads",
        f"{rru:.2f} read request units per order",
        b.price("dynamodb.read_request_units", rru * orders),
        measured_by,
    )
    sizes = measured["bytes"]
    kept = (
        sizes["order_item"] + sizes["notification_item"] + 2 * DYNAMODB_ITEM_OVERHEAD
    ) + cfg.table_indexes * (sizes["order_item"] + DYNAMODB_ITEM_OVERHEAD)
    stored_gb = orders * kept / GB
    orders_a_day = orders / (HOURS_PER_MONTH / 24)
    idempotency_gb = (
        sum(
            orders_a_day * ttl_days * (size + DYNAMODB_ITEM_OVERHEAD)
            for ttl_days, size in _idempotency(cfg, sizes)
        )
        / GB
    )
    b.add(
        "DynamoDB storage",
        f"{stored_gb + idempotency_gb:.2f} GB after a month (orders and notifications "
        "accumulate; idempotency records expire)",
        b.price("dynamodb.storage.gb_month", stored_gb + idempotency_gb),
        "measured item sizes + 100 B each, the index's copies, idempotency TTLs (configuration)",
    )
    if cfg.table_pitr:
        b.add(
            "DynamoDB backups",
            f"point-in-time recovery of {stored_gb + idempotency_gb:.2f} GB",
            b.price("dynamodb.pitr.gb_month", stored_gb + idempotency_gb),
            "point_in_time_recovery (configuration)",
        )

    # --- SQS ------------------------------------------------------------------------------
    sends = b.calls_per_order("sqs.SendMessage") + 1  # + EventBridge's delivery to the queue
    polls = sum(2 / batch[s] for s in batch)  # a receive and a batch delete per batch
    b.add(
        "SQS",
        f"{sends + polls:.2f} requests per order ({len(cfg.queues)} queues)",
        b.price("sqs.requests", (sends + polls) * orders),
        "measured sends, the rule's delivery, a receive and a delete per batch",
    )

    # --- EventBridge ----------------------------------------------------------------------
    events = b.calls_per_order("eventbridge.PutEvents")
    b.add(
        "EventBridge",
        f"{events:g} custom event per order",
        b.price("events.custom_events", events * orders),
        "measured PutEvents (each event under 64 KB)",
    )
    if cfg.event_archive_days:
        archived_gb = events * orders * sizes["order_event"] / GB
        b.add(
            "EventBridge",
            f"archive: {archived_gb:.2f} GB of events a month, kept {cfg.event_archive_days} days",
            b.price("events.archive.gb", archived_gb),
            "event archive retention (configuration), measured event size",
        )

    # --- CloudWatch -----------------------------------------------------------------------
    log_bytes = {
        "orders_api": requests * b.per_order("log_bytes") / b.e.mix.requests_per_order,
        "order_processor": orders * b.requests["process"]["log_bytes"],
        "notifier": orders * b.requests["notify"]["log_bytes"],
        "access log": requests * access_log_bytes(cfg.access_log_format),
    }
    ingest_gb = sum(log_bytes.values()) / GB
    b.add(
        "CloudWatch logs",
        f"{ingest_gb:.2f} GB ingested ("
        + ", ".join(f"{k} {v / GB:.2f}" for k, v in log_bytes.items())
        + ")",
        b.price("logs.ingest.gb", ingest_gb),
        "measured bytes per invocation; the access log format with typical values",
    )
    retention = max(cfg.log_retention_days.values(), default=0)
    stored_logs_gb = ingest_gb * min(retention, 365 * 10) / (HOURS_PER_MONTH / 24)
    b.add(
        "CloudWatch logs",
        f"{stored_logs_gb:.2f} GB stored ({retention} days kept)",
        b.price("logs.storage.gb_month", stored_logs_gb),
        "log_retention_days (configuration); uncompressed, so an upper bound",
    )
    metrics = sum(
        len(cfg.functions) if "function_name" in name else 1 for name in measured["custom_metrics"]
    )
    b.add(
        "CloudWatch metrics",
        f"{metrics} custom metrics (EMF)",
        b.price("cloudwatch.metrics", metrics),
        "measured metric names and dimensions",
    )
    b.add(
        "CloudWatch alarms",
        f"{cfg.metric_alarms} metric alarms watching {cfg.alarm_metrics} metrics, "
        f"{cfg.composite_alarms} composite",
        b.price("cloudwatch.alarm_metrics", cfg.alarm_metrics)
        + b.price("cloudwatch.composite_alarms", cfg.composite_alarms),
        "the alarms of the configuration",
    )
    b.add(
        "CloudWatch dashboard",
        f"{cfg.dashboards} dashboard",
        b.price("cloudwatch.dashboards", cfg.dashboards),
        "the configuration",
    )

    # --- X-Ray, SES, KMS ------------------------------------------------------------------
    traces = sum(
        xray_traces(invocations[s] / seconds if seconds else 0.0, seconds)
        for s in invocations
        if cfg.function(s).tracing
    )
    b.add(
        "X-Ray",
        f"{_fmt(traces)} traces recorded",
        b.price("xray.traces_recorded", traces),
        "active tracing (configuration), the default sampling rule (1/s + 5 %)",
    )
    mails = b.requests["notify"]["calls"].get("sesv2.SendEmail", 0) * orders
    b.add(
        "SES",
        f"{_fmt(mails)} e-mails",
        b.price("ses.outbound_messages", mails),
        "measured SendEmail per order",
    )
    b.add(
        "KMS",
        f"{cfg.kms_keys} customer managed key",
        b.price("kms.keys", cfg.kms_keys),
        "the configuration (the alarm topic's key)",
    )
    return result


def _idempotency(cfg: Configuration, sizes: Mapping[str, Any]) -> list[tuple[float, int]]:
    """(days kept, bytes) of the idempotency records an order leaves: one per function that
    uses idempotency, kept for its IDEMPOTENCY_TTL_SECONDS."""
    found = []
    for service, size in sizes["idempotency_items"].items():
        ttl = cfg.function(service).idempotency_ttl_s
        found.append((ttl / 86400, size))
    return found


def _break_even(
    b: _Builder,
    function: Function,
    invocations: float,
    ms: int,
    pc_usd: float,
    gb_seconds_on_pc: float,
) -> BreakEven:
    """Provisioned instances cost their standing price plus a lower duration price; on demand
    costs the full duration price. Per instance-second at utilisation u they cost the same
    when pc + u x pc_duration = u x on_demand, so u = pc / (on_demand - pc_duration)."""
    arch = function.architecture
    pc = b.e.prices[f"lambda.provisioned.gb_second.{arch}"].first_rate
    pc_duration = b.e.prices[f"lambda.provisioned_duration.gb_second.{arch}"].first_rate
    on_demand = b.e.prices[f"lambda.gb_second.{arch}"].first_rate
    capacity = function.provisioned * SECONDS_PER_MONTH
    busy = invocations * ms / 1000
    return BreakEven(
        function=function.service,
        instances=function.provisioned,
        memory_mb=function.memory_mb,
        break_even_utilisation=pc / (on_demand - pc_duration),
        utilisation=busy / capacity if capacity else 0.0,
        provisioned_usd=pc_usd + gb_seconds_on_pc * pc_duration,
        on_demand_usd=gb_seconds_on_pc * on_demand,
    )
