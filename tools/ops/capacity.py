"""make capacity ENV=<env> RPS=<n>: the load each part of the platform meets at that request
rate, against the setting or AWS quota that bounds it, with the headroom of each. Exit 1 names
the first bottleneck (in the order a request travels) and the setting or quota to change.

    python -m tools.ops.capacity --env staging --rps 1000 [--duration S] [--ramp S]
                                 [--run DIR|last] [--no-aws]

What it plans from:

- the environment's settings: terraform/environments/<env> over terraform/stack's defaults
  (tools.ops.stack_settings), as they would be applied;
- the load: the artillery profile's mix (scenario weights, requests per virtual user, lines
  and SKUs per order) and its ramp and hold, at RPS;
- per-request figures (capacity_figures.json): the AWS calls and DynamoDB units each kind of
  request costs, measured through the handlers by tests/tools/ops/test_capacity_figures.py;
  the functions' warm overhead (make bench); an estimate of each AWS call's latency within a
  region, which a load run's measured latencies replace (--run);
- quotas: quotas.json (a new account's documented defaults, dated, with sources) or, with
  credentials for the environment's account, the account's own (tools.ops.quotas).

Concurrency is Little's law, arrivals times duration, plus three standard deviations of
Poisson arrivals (the peaks a steady rate still has). A line is tight from 80 % of its limit
and a bottleneck above 100 %.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.ops.quotas import Quotas, defaults, read_account
from tools.ops.stack_settings import SettingsError, StackSettings, read

FIGURES_FILE = Path(__file__).with_name("capacity_figures.json")
TIGHT = 0.8
TRANSACTION_UNITS_PER_ITEM = 2  # a transactional write costs two write units per item
RESERVATION_ATTEMPTS = 4  # orders_core.adapters.table.RESERVATION_ATTEMPTS
API_KINDS = (
    "POST /orders",
    "POST /orders (retry)",
    "GET /orders/{order_id}",
    "GET /customers/{customer_id}/orders",
)


def figures(path: Path = FIGURES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def peak(mean: float) -> float:
    """The busiest moment of a steady Poisson stream: mean plus three standard deviations."""
    return mean + 3 * math.sqrt(mean) if mean > 0 else 0.0


# --- the load -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    rps: float
    requests_per_vuser: float
    per_vuser: dict[str, float]  # requests of each kind per virtual user
    orders_per_vuser: float
    lines_per_order: float
    skus: int
    phases: list[dict[str, Any]]

    @property
    def users_per_s(self) -> float:
        return self.rps / self.requests_per_vuser

    def rate(self, kind: str) -> float:
        return self.users_per_s * self.per_vuser.get(kind, 0.0)

    @property
    def orders_per_s(self) -> float:
        return self.users_per_s * self.orders_per_vuser

    @property
    def ramp_s(self) -> float:
        return sum(float(p["duration"]) for p in self.phases if "rampTo" in p)

    @property
    def duration_s(self) -> float:
        from tools.loadtest.profiles import plan_of

        return plan_of(self.phases).duration_s

    @property
    def orders_in_run(self) -> float:
        from tools.loadtest.profiles import plan_of

        return plan_of(self.phases).vusers * self.orders_per_vuser


def request_mix(
    config: Mapping[str, Any], requests_per_vuser: float
) -> tuple[dict[str, float], float]:
    """(requests of each kind per virtual user, orders per virtual user) from the scenarios'
    weights. Requests inside a read-back loop take what the measured requests per user leave
    over the requests every scenario makes once."""
    scenarios = config["scenarios"]
    total = sum(float(s.get("weight", 1)) for s in scenarios)
    once: dict[str, float] = {}
    looped: dict[str, float] = {}
    orders = 0.0
    for scenario in scenarios:
        share = float(scenario.get("weight", 1)) / total
        for step in scenario["flow"]:
            if step.get("function") == "newOrder":
                orders += share
            for method in ("get", "post", "put", "delete"):
                if method in step:
                    once[step[method]["name"]] = once.get(step[method]["name"], 0) + share
            for inner in step.get("loop") or []:
                for method in ("get", "post"):
                    if method in inner:
                        looped[inner[method]["name"]] = looped.get(inner[method]["name"], 0) + share
    left = max(0.0, requests_per_vuser - sum(once.values()))
    weight = sum(looped.values())
    mix = dict(once)
    for kind, share in looped.items():
        mix[kind] = mix.get(kind, 0) + left * share / weight
    return mix, orders


def workload(
    profile_env: str, rps: float, duration: float | None = None, ramp: float | None = None
) -> Workload:
    """The profile's mix at `rps`, with its own ramp and hold unless given."""
    from tools.loadtest.profiles import load_config, profile, requests_per_vuser, run_phases
    from tools.ops.seed import load_test_population

    config = load_config()
    prof = profile(config, profile_env)
    own = prof.get("phases") or []
    own_ramp = sum(float(p["duration"]) for p in own if "rampTo" in p)
    own_hold = sum(float(p["duration"]) for p in own if "rampTo" not in p)
    per_vuser = requests_per_vuser(prof)
    mix, orders = request_mix(config, per_vuser)
    variables = prof.get("variables") or {}
    return Workload(
        rps=rps,
        requests_per_vuser=per_vuser,
        per_vuser=mix,
        orders_per_vuser=orders,
        lines_per_order=(1 + int(variables["max_lines"])) / 2,
        skus=len(load_test_population()[0]),
        phases=run_phases(
            prof,
            rps,
            duration if duration is not None else own_hold or 300,
            ramp if ramp is not None else own_ramp,
        ),
    )


# --- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    part: str
    load: float
    limit: float
    unit: str
    bound_by: str  # the setting or quota
    change: str  # what to change when this is the bottleneck
    detail: str = ""

    @property
    def used(self) -> float:
        if self.limit <= 0:
            return math.inf if self.load > 0 else 0.0
        return self.load / self.limit

    @property
    def status(self) -> str:
        if self.used > 1:
            return "OVER"
        return "tight" if self.used >= TIGHT else "ok"


@dataclass(frozen=True)
class Durations:
    """Milliseconds per request of each kind, and where each figure comes from."""

    ms: dict[str, float]
    source: dict[str, str]


def durations(
    figures_doc: Mapping[str, Any], measured: Mapping[str, float] | None = None
) -> Durations:
    overhead = figures_doc["warm_overhead_ms"]
    latency = figures_doc["aws_call_ms"]
    ms, source = {}, {}
    for kind, entry in figures_doc["per_request"].items():
        if measured and kind in measured:
            ms[kind], source[kind] = measured[kind], "the run's mean response time"
            continue
        calls = sum(
            count * float(latency.get(call, latency[call.split(":")[0]]))
            for call, count in entry["calls"].items()
        )
        ms[kind] = float(overhead[entry["function"]]) + calls
        source[kind] = "warm overhead (make bench) + estimated AWS call latency"
    return Durations(ms, source)


def _units(figures_doc: Mapping[str, Any], kind: str, name: str, lines: float) -> float:
    entry = figures_doc["per_request"][kind]
    units = float(entry.get(name, 0))
    if kind == "order" and name == "table_wru":
        # The figure is for an order of `lines` lines; a transaction writes one item per line.
        recorded = float(figures_doc["order_lines"])
        units += TRANSACTION_UNITS_PER_ITEM * (lines - recorded)
    return units


def plan(
    settings: StackSettings,
    load: Workload,
    figures_doc: Mapping[str, Any],
    quotas: Quotas,
    measured: Mapping[str, float] | None = None,
) -> tuple[list[Line], Durations]:
    """Every line of the plan, in the order a request travels."""
    d = durations(figures_doc, measured)
    api, processor, notifier = (
        settings["api_function"],
        settings["processor_function"],
        settings["notifier_function"],
    )
    throttling, ses_rate = settings["api_throttling"], float(settings["ses_send_rate"])
    env_file = f"terraform/environments/{settings.env}/main.tf"
    orders = load.orders_per_s
    ramp = load.ramp_s
    lines: list[Line] = []

    # --- the API: synchronous, so its peaks must fit (a request over the limit is refused) ----
    lines.append(
        Line(
            "API stage throttling",
            load.rps,
            float(throttling["rate_limit"]),
            "req/s",
            "api_throttling.rate_limit",
            f"raise api_throttling.rate_limit in {env_file}",
            f"burst {throttling['burst_limit']:,}",
        )
    )
    api_quota = quotas["apigateway_account_rps"]
    lines.append(
        Line(
            "API Gateway, account and region",
            load.rps,
            api_quota.value,
            "req/s",
            api_quota.label,
            "ask AWS for more (Service Quotas apigateway L-8A5B8E43)",
        )
    )
    api_mean = sum(load.rate(k) * d.ms[k] / 1000 for k in API_KINDS)
    api_peak = peak(api_mean)
    account = quotas["lambda_concurrency"]
    reserved = int(api["reserved_concurrency"])
    provisioned = int(api["provisioned_concurrency"])
    mix = ", ".join(f"{k} {load.rate(k):,.0f}/s x {d.ms[k]:.1f} ms" for k in API_KINDS)
    if reserved >= 0:
        api_limit = min(float(reserved), account.value - quotas["lambda_unreserved_minimum"].value)
        api_bound, api_change = (
            "api_function.reserved_concurrency",
            f"raise api_function.reserved_concurrency in {env_file}",
        )
    else:
        api_limit, api_bound = account.value, account.label
        api_change = "ask AWS for more Lambda concurrency (Service Quotas lambda L-B99A9384)"
    lines.append(
        Line(
            "orders_api concurrency",
            api_peak,
            api_limit,
            "environments",
            api_bound,
            api_change,
            f"Little's law, mean {api_mean:.1f} + 3 sd: {mix}"
            + (f"; {provisioned} provisioned" if provisioned else ""),
        )
    )
    step = ramp < 10  # no ramp: the whole rate arrives at once
    lines.append(
        Line(
            "orders_api scaling during the ramp",
            api_peak if step else api_peak * 10 / ramp,
            quotas["lambda_scaling_per_10s"].value,
            "environments / 10 s",
            quotas["lambda_scaling_per_10s"].label,
            "ramp up more slowly (RAMP=), or keep environments warm (api_function."
            "provisioned_concurrency)",
            f"{load.rps if step else load.rps * 10 / ramp:,.0f} req/s more every 10 s, of "
            f"{quotas['lambda_scaling_rps_per_10s'].value:,.0f}"
            + (", all at once" if step else f", over a {ramp:g} s ramp"),
        )
    )

    # --- the processor: fed by a queue, so what counts is keeping up (peaks wait in it) -----
    processor_mean = orders * d.ms["order"] / 1000
    processor_max = float(processor["maximum_concurrency"])
    lines.append(
        Line(
            "order_processor concurrency",
            processor_mean,
            processor_max,
            "environments",
            "processor_function.maximum_concurrency",
            f"raise processor_function.maximum_concurrency in {env_file}",
            f"{orders:,.0f} orders/s x {d.ms['order']:.1f} ms; peaks wait in the orders queue",
        )
    )
    pollers = min(
        1000.0,
        quotas["sqs_pollers_at_start"].value + quotas["sqs_pollers_per_minute"].value * ramp / 60,
    )
    lines.append(
        Line(
            "order_processor scaling during the ramp",
            processor_mean,
            pollers,
            "batches at once",
            quotas["sqs_pollers_per_minute"].label,
            "ramp up more slowly (RAMP=): an SQS event source adds 300 batches a minute",
            "5 batches at first" + ("" if step else f", +300 a minute over the {ramp:g} s ramp"),
        )
    )

    # --- the notifier: paced to SES, so when outcomes come faster it runs at its maximum ---
    notifier_concurrency = int(notifier["maximum_concurrency"])
    share = ses_rate / notifier_concurrency
    mails = min(orders, ses_rate)
    seconds_per_mail = max(d.ms["notification"] / 1000, 1 / share)
    notifier_busy = min(float(notifier_concurrency), peak(orders * seconds_per_mail))
    processor_busy = min(processor_max, peak(processor_mean))
    lines.append(
        Line(
            "Lambda concurrency, account and region",
            max(api_peak, provisioned) + processor_busy + notifier_busy,
            account.value,
            "environments",
            account.label,
            "ask AWS for more Lambda concurrency (Service Quotas lambda L-B99A9384): a new "
            "account starts below 1,000",
            f"orders_api {max(api_peak, provisioned):.0f} + order_processor "
            f"{processor_busy:.0f} + notifier {notifier_busy:.0f}",
        )
    )

    # --- the table --------------------------------------------------------------------------
    def per_second(name: str) -> float:
        total = sum(load.rate(k) * _units(figures_doc, k, name, 0) for k in API_KINDS)
        total += orders * _units(figures_doc, "order", name, load.lines_per_order)
        return total + mails * _units(figures_doc, "notification", name, 0)

    for part, key, write, read_units in (
        ("orders table", "dynamodb_new_table_wru", "table_wru", "table_rru"),
        ("index by-customer", "dynamodb_index_wru", "index_wru", "index_rru"),
    ):
        quota = quotas[key]
        wru, rru = per_second(write), per_second(read_units)
        lines.append(
            Line(
                f"{part}: write units at once",
                wru + rru / 3,
                quota.value,
                "write units/s",
                quota.label,
                "warm it before the run (a first run at half the rate: on-demand then "
                "serves twice that peak at once), or give it warm throughput",
                f"{wru:,.0f} write + {rru:,.0f} read units/s (3 reads count as 1 write)",
            )
        )
    per_sku = orders * load.lines_per_order / load.skus
    hottest = peak(per_sku)
    partition = quotas["dynamodb_partition_wcu"]
    lines.append(
        Line(
            "hottest stock item: write units",
            TRANSACTION_UNITS_PER_ITEM * hottest,
            partition.value,
            "write units/s",
            partition.label,
            "spread the demand: more SKUs, or a hot SKU's stock split over several items",
            f"{per_sku:.2f} reservations/s per SKU on average over {load.skus} SKUs, "
            f"{hottest:.1f} at the busiest, 2 write units each (transactional)",
        )
    )
    transaction_s = float(figures_doc["aws_call_ms"]["dynamodb:TransactWriteItems"]) / 1000
    conflict = 1 - math.exp(-per_sku * transaction_s)
    lines.append(
        Line(
            "hottest stock item: transactions at once",
            hottest * transaction_s,
            1.0,
            "transactions",
            "one transaction on an item at a time",
            "spread the demand over more SKUs; conflicts below that are retried "
            "(orders_core.adapters.table)",
            f"~{conflict:.1%} of reservations meet another on an item and are retried with "
            f"jitter; {conflict**RESERVATION_ATTEMPTS * load.orders_in_run:,.2f} orders of "
            f"the run would use up {RESERVATION_ATTEMPTS} attempts and wait for the queue",
        )
    )

    # --- events and mail ------------------------------------------------------------------
    put_events = orders * figures_doc["per_request"]["order"]["calls"].get("events:PutEvents", 0)
    events_quota = quotas["eventbridge_putevents_tps"]
    lines.append(
        Line(
            "EventBridge PutEvents, account and region",
            put_events,
            events_quota.value,
            "requests/s",
            events_quota.label,
            "ask AWS for more (Service Quotas events L-9B653E91)",
        )
    )
    ses_quota = quotas["ses_max_send_rate"]
    lines.append(
        Line(
            "SES sending rate",
            ses_rate,
            ses_quota.value,
            "messages/s",
            ses_quota.label,
            f"set ses_send_rate in {env_file} to at most what SES grants (GetSendQuota), or "
            "ask AWS for more (production access)",
            f"the notifier sends at most ses_send_rate: {notifier_concurrency} environments "
            f"at {share:g}/s each, while {orders:,.0f} outcomes/s arrive",
        )
    )
    lines.append(
        Line(
            "notifier batch at its pace",
            float(notifier["batch_size"]) / share,
            TIGHT * float(notifier["timeout"]),
            "s",
            "80 % of notifier_function.timeout",
            "lower notifier_function.batch_size or maximum_concurrency, or raise its timeout "
            "(terraform/stack validates the same)",
        )
    )
    in_run = load.orders_in_run
    drained = in_run / ses_rate
    retention = settings.notifications_queue_retention_s
    lines.append(
        Line(
            "notifications queue: oldest message",
            max(0.0, drained - load.duration_s) / 3600,
            retention / 3600,
            "hours",
            "the queue's message retention",
            "raise ses_send_rate (SES production access), or run fewer orders",
            f"{in_run:,.0f} mails at {ses_rate:g}/s: the last is sent "
            f"{drained / 3600:,.1f} h after the run starts",
        )
    )
    daily = quotas["ses_max_24h_send"]
    lines.append(
        Line(
            "SES 24-hour quota",
            0.0,
            daily.value,
            "messages counted",
            daily.label,
            "seed the customers with make seed: mailbox-simulator mail is not counted",
            f"{min(in_run, ses_rate * 86400):,.0f} mails in 24 h, all to the mailbox "
            "simulator (make seed), which the quota does not count",
        )
    )
    return lines, d


# --- what a run uses (to price it) ----------------------------------------------------------


def volumes(
    settings: StackSettings, load: Workload, d: Durations, figures_doc: Mapping[str, Any]
) -> list[str]:
    """What the whole run uses, in the units AWS bills: a basis for its cost."""
    from tools.loadtest.profiles import plan_of

    users = plan_of(load.phases).vusers
    requests = users * load.requests_per_vuser
    orders = load.orders_in_run
    per_user = {k: v for k, v in load.per_vuser.items() if k in API_KINDS}
    gb = {
        name: float(settings[f"{name}_function"]["memory_size"]) / 1024
        for name in ("api", "processor", "notifier")
    }
    api_s = sum(users * share * d.ms[kind] / 1000 for kind, share in per_user.items())
    ses_rate = float(settings["ses_send_rate"])
    share = ses_rate / float(settings["notifier_function"]["maximum_concurrency"])
    notifier_s = orders * max(d.ms["notification"] / 1000, 1 / share)  # pacing waits are billed

    def units(name: str) -> float:
        total = sum(
            users * share_ * _units(figures_doc, k, name, 0) for k, share_ in per_user.items()
        )
        total += orders * _units(figures_doc, "order", name, load.lines_per_order)
        return total + orders * _units(figures_doc, "notification", name, 0)

    write = units("table_wru") + units("index_wru")
    read = units("table_rru") + units("index_rru")
    return [
        f"  the run uses: {requests:,.0f} API requests and as many orders_api invocations; "
        f"Lambda {api_s * gb['api'] + orders * d.ms['order'] / 1000 * gb['processor']:,.0f} "
        f"GB-s for the API and the processor, {notifier_s * gb['notifier']:,.0f} GB-s for the "
        f"notifier (its pacing waits are billed time); DynamoDB {write:,.0f} write and "
        f"{read:,.0f} read request units; {orders:,.0f} PutEvents; {orders:,.0f} SES messages "
        "(no cost command yet: price these with the AWS pricing pages of the region)"
    ]


# --- the report -----------------------------------------------------------------------------


def _number(value: float) -> str:
    if value == math.inf:
        return "inf"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"


def table(lines: Sequence[Line]) -> list[str]:
    rows = [("part", "load", "limit", "unit", "used", "headroom", "", "bounded by")]
    for line in lines:
        used = line.used
        rows.append(
            (
                line.part,
                _number(line.load),
                _number(line.limit),
                line.unit,
                "inf" if used == math.inf else f"{used:.0%}",
                "none" if used >= 1 else f"{1 - used:.0%}",
                "" if line.status == "ok" else line.status,
                line.bound_by,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    out = []
    for row in rows:
        cells = [
            row[i].ljust(widths[i]) if i in (0, 3, 6) else row[i].rjust(widths[i])
            for i in range(len(widths))
        ]
        out.append("  " + "  ".join(cells) + "  " + row[-1])
    return out


def bottleneck(lines: Sequence[Line]) -> Line | None:
    return next((line for line in lines if line.used > 1), None)


def report(
    settings: StackSettings,
    load: Workload,
    lines: Sequence[Line],
    d: Durations,
    quotas: Quotas,
    figures_doc: Mapping[str, Any],
) -> tuple[list[str], int]:
    out = [
        f"capacity: {settings.env} at {load.rps:,.0f} req/s "
        f"({load.users_per_s:,.1f} users/s, {load.orders_per_s:,.1f} orders/s; "
        f"{load.ramp_s:g} s ramp, {load.duration_s - load.ramp_s:g} s hold, "
        f"{load.orders_in_run:,.0f} orders in the run)",
        f"  settings: terraform/environments/{settings.env} over terraform/stack "
        f"({settings.region})",
    ]
    live = sorted(key for key, quota in quotas.values.items() if quota.live)
    out.append(
        f"  quotas:   tools/ops/quotas.json as of {quotas.as_of}"
        + (f"; read from the account: {', '.join(live)}" if live else "")
    )
    out += [f"            {note}" for note in quotas.notes]
    per_order = {
        fn: sum(sum(figures_doc["per_request"][k]["calls"].values()) * w for k, w in kinds)
        for fn, kinds in (
            ("orders_api", [("POST /orders", 1.0)]),
            ("order_processor", [("order", 1.0)]),
            ("notifier", [("notification", 1.0)]),
        )
    }
    out.append(
        "  per order: "
        + ", ".join(f"{fn} {calls:g} AWS calls" for fn, calls in per_order.items())
        + " (tools/ops/capacity_figures.json)"
    )
    sources = sorted(set(d.source.values()))
    out.append(
        "  durations (ms): "
        + ", ".join(f"{kind} {ms:.1f}" for kind, ms in d.ms.items())
        + f"; from {' and '.join(sources)}"
    )
    out += volumes(settings, load, d, figures_doc)
    out.append("")
    out += table(lines)
    out.append("")
    out += [f"  {line.part}: {line.detail}" for line in lines if line.detail]
    out.append("  sources:")
    sources = {quota.name: quota.source for quota in quotas.values.values()}
    out += [f"    {name}: {source}" for name, source in sorted(sources.items())]
    first = bottleneck(lines)
    tight = [line.part for line in lines if line.status == "tight"]
    if first is None:
        out.append(
            "verdict: pass" + (f"; tight (>= {TIGHT:.0%}): {', '.join(tight)}" if tight else "")
        )
        return out, 0
    out.append(
        f"verdict: FAIL: the first bottleneck is {first.part}: {_number(first.load)} "
        f"{first.unit} against {_number(first.limit)} ({first.bound_by}). "
        f"Change: {first.change}."
    )
    return out, 1


# --- measured latencies of a load run -------------------------------------------------------


def run_latencies(run_dir: Path) -> dict[str, float]:
    """Each API endpoint's mean response time in a load run (report.json): an upper bound of
    the function's duration, since it includes the network and API Gateway."""
    report_file = run_dir / "report.json"
    if not report_file.is_file():
        raise SettingsError(f"{run_dir} has no report.json: give a load run's directory")
    summaries = json.loads(report_file.read_text())["aggregate"].get("summaries", {})
    prefix = "plugins.metrics-by-endpoint.response_time."
    return {
        key[len(prefix) :]: float(summary["mean"])
        for key, summary in summaries.items()
        if key.startswith(prefix) and key[len(prefix) :] in API_KINDS and "mean" in summary
    }


def last_run(env: str) -> Path:
    from tools.loadtest.common import RUNS_DIR

    for run in sorted(RUNS_DIR.glob("*/result.json"), reverse=True):
        if json.loads(run.read_text()).get("run", {}).get("env") == env:
            return run.parent
    raise SettingsError(f"no load run of {env} in {RUNS_DIR}; run make loadtest ENV={env} first")


# --- make capacity --------------------------------------------------------------------------


def account_quotas(env: str, settings: StackSettings, use_aws: bool) -> Quotas:
    quotas = defaults(settings.region)
    if not use_aws:
        quotas.notes.append("--no-aws: a new account's defaults")
        return quotas
    import boto3

    if boto3.session.Session().get_credentials() is None:
        quotas.notes.append("no AWS credentials: a new account's defaults shown")
        return quotas
    from tools.ops.environment import EnvironmentUnreadable, outputs
    from tools.release import artifacts

    try:
        session = artifacts.session_for(env)
    except Exception as error:
        quotas.notes.append(f"cannot act as {env}'s deploy role ({error}): defaults shown")
        return quotas
    try:
        table_name = outputs(env)["platform"]["table_name"]
    except (EnvironmentUnreadable, KeyError) as error:
        quotas.notes.append(f"the table is not known ({error}): its warm throughput not read")
        table_name = None

    def client(service: str) -> Any:
        return session.client(service, region_name=settings.region)

    return read_account(quotas, client, table_name, "by-customer")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.ops.capacity",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, help="local, dev, staging or prod")
    parser.add_argument("--rps", type=float, required=True, help="requests per second to plan")
    parser.add_argument("--duration", type=float, help="seconds of the hold (default: profile's)")
    parser.add_argument("--ramp", type=float, help="seconds of the ramp (default: profile's)")
    parser.add_argument("--profile", help="the artillery.yml environment whose mix and shape")
    parser.add_argument("--run", help="a load run's directory (or `last`): its latencies")
    parser.add_argument("--no-aws", action="store_true", help="do not read the account's quotas")
    args = parser.parse_args(argv)
    if args.rps <= 0:
        parser.error("--rps must be positive")
    from tools.loadtest.common import LoadtestError

    if args.env == "local":
        print(
            "capacity: the local stack has no AWS quotas; what it sustains is measured "
            "(docs/benchmarks.md, make loadtest ENV=local). Plan an AWS environment.",
            file=sys.stderr,
        )
        return 2
    try:
        settings = read(args.env)
        load = workload(args.profile or _profile_of(args.env), args.rps, args.duration, args.ramp)
        measured = None
        if args.run:
            run_dir = last_run(args.env) if args.run == "last" else Path(args.run)
            measured = run_latencies(run_dir)
            print(f"==> latencies of the load run {run_dir}")
        quotas = account_quotas(args.env, settings, not args.no_aws)
    except (SettingsError, LoadtestError) as error:
        print(f"capacity: {error}", file=sys.stderr)
        return 2
    figures_doc = figures()
    lines, d = plan(settings, load, figures_doc, quotas, measured)
    out, code = report(settings, load, lines, d, quotas, figures_doc)
    print("\n".join(out))
    return code


def _profile_of(env: str) -> str:
    from tools.loadtest.common import LoadtestError
    from tools.loadtest.profiles import load_config, profile

    try:
        profile(load_config(), env)
    except LoadtestError:
        return "staging"  # the mix is the same in every profile; dev has none of its own
    return env


if __name__ == "__main__":
    raise SystemExit(main())
