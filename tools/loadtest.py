"""Run the artillery load test of the orders API and judge the result.

    python -m tools.loadtest --env local [--rate 40] [--duration 30]     (after `make up`)
    python -m tools.loadtest --env staging [--p99 MS] [--max-error-rate PCT]
    python -m tools.loadtest --env staging --distributed fargate --count 4 --region eu-west-1

Steps: install the pinned Node + artillery (npm ci) when node_modules is missing
or stale; write the CSV payloads; find the target: for `local` the running
local stack (tools.localstack: the emulator on EMULATOR_PORT and its Terraform
outputs), for the others the outputs of terraform/environments/<env>, unless
--target is given; for `local`, warm the emulator up (one request at a time
per path, then an unjudged ramp); run artillery into .local/loadtest/<timestamp>/; then
  (a) saturation: the run's arrival span and created virtual users against the
      plan from the phases; more than 10 % behind makes the run INVALID;
  (b) reconciliation: every order answered 202 must end CONFIRMED or REJECTED
      (GET /orders/{id}) or sit in a dead-letter queue (read with SQS);
  (c) report: charts (PNG) and a self-contained summary.html in the run dir.

Exit codes (the worst applies: 4 > 3 > 1):
  0  passed: thresholds met, run valid, no order lost
  1  thresholds failed (p99, error rate, or artillery itself failed)
  2  refused or usage error (prod without opt-in, non-loopback target for
     local, no local stack, no AWS credentials for a distributed run, bad install)
  3  INVALID: the load generator fell behind the plan (saturated) or the run
     did not finish in time; its figures do not measure the system
  4  orders lost: 202-accepted orders neither final nor in a DLQ
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import datetime as dt
import fcntl
import hashlib
import html
import ipaddress
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
LOADTEST_DIR = REPO_ROOT / "loadtest"
CONFIG_FILE = LOADTEST_DIR / "artillery.yml"
LOCKFILE = LOADTEST_DIR / "package-lock.json"
NODE_MODULES = LOADTEST_DIR / "node_modules"
NODE_BIN = NODE_MODULES / "node" / "bin" / "node"
ARTILLERY_RUN = NODE_MODULES / "artillery" / "bin" / "run"
INSTALL_STAMP = NODE_MODULES / ".installed-lock-sha256"
RUNS_DIR = REPO_ROOT / ".local" / "loadtest"
CHART_VENV = REPO_ROOT / ".local" / "venvs" / "loadtest"
CHART_REQUIREMENTS = LOADTEST_DIR / "requirements-charts.txt"
CHART_SCRIPT = REPO_ROOT / "tools" / "loadtest_charts.py"

ARTILLERY_VERSION = "2.0.34"
MIN_NODE = (22, 18)
SATURATION_TOLERANCE = 0.10
PROD_OPT_IN = "LOADTEST_ALLOW_PROD"
FINAL_STATUSES = frozenset({"CONFIRMED", "REJECTED"})
DLQ_PEEK_VISIBILITY_S = 30  # DLQ messages read for reconciliation reappear after this

EXIT_PASS = 0
EXIT_THRESHOLDS = 1
EXIT_REFUSED = 2
EXIT_INVALID = 3
EXIT_LOST = 4

P99_CONDITION = re.compile(r"^\s*http\.response_time\.p99\s*<=\s*([0-9.]+)\s*$")
ERROR_CONDITION = re.compile(
    r"^\s*\(vusers\.created - vusers\.completed\) / vusers\.created \* 100\s*<=\s*([0-9.]+)\s*$"
)


class LoadtestError(RuntimeError):
    """A refusal or setup problem: exit 2 with the message."""


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


# --- install ----------------------------------------------------------------


def artillery_env(run_dir: Path | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "ARTILLERY_DISABLE_TELEMETRY": "true",
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    env.pop("LOADTEST_RUN_DIR", None)
    if run_dir is not None:
        env["LOADTEST_RUN_DIR"] = str(run_dir)
    return env


def lock_digest() -> str:
    return hashlib.sha256(LOCKFILE.read_bytes()).hexdigest()


def installed_versions() -> tuple[str, tuple[int, ...]]:
    """(artillery version, node version) of what node_modules holds."""
    version = json.loads((NODE_MODULES / "artillery" / "package.json").read_text())["version"]
    out = subprocess.run(
        [str(NODE_BIN), "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    node = tuple(int(p) for p in out.lstrip("v").split("."))
    return version, node


def ensure_installed(npm: str = "npm") -> None:
    """npm ci when node_modules is missing or older than the lockfile; verify pins.
    Serialised by a lock file, so parallel test workers install once."""
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    with (RUNS_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install(npm)


def _install(npm: str) -> None:
    stale = not INSTALL_STAMP.is_file() or INSTALL_STAMP.read_text().strip() != lock_digest()
    if stale or not NODE_BIN.is_file() or not ARTILLERY_RUN.is_file():
        if shutil.which(npm) is None:
            raise LoadtestError("npm not found: install Node.js/npm (any version) first")
        log("npm ci in loadtest/ (artillery and Node 22 from the npm registry)")
        started = time.monotonic()
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=LOADTEST_DIR,
            env=artillery_env(),
            check=False,
            timeout=900,
        )
        if proc.returncode != 0:
            raise LoadtestError(f"npm ci failed (exit {proc.returncode})")
        INSTALL_STAMP.write_text(lock_digest() + "\n")
        log(f"npm ci took {time.monotonic() - started:.0f} s")
    version, node = installed_versions()
    if version != ARTILLERY_VERSION:
        raise LoadtestError(
            f"node_modules has artillery {version}, not {ARTILLERY_VERSION}; refusing to run it"
        )
    if node[:2] < MIN_NODE:
        raise LoadtestError(f"{NODE_BIN} is Node {node}; artillery needs >= {MIN_NODE}")


# --- configuration and plan --------------------------------------------------


def load_config(path: Path = CONFIG_FILE) -> dict[str, Any]:
    import yaml  # PyYAML: a dev dependency (pulled in by moto)

    return yaml.safe_load(path.read_text())


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of dicts; lists and scalars replace (the base config has no lists
    that an environment also sets, so this equals artillery's lodash merge)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def profile(config: Mapping[str, Any], env: str) -> dict[str, Any]:
    """config with environments[env] merged in, as artillery does for -e."""
    base = dict(config["config"])
    environments = base.pop("environments", {}) or {}
    if env not in environments:
        raise LoadtestError(
            f"unknown environment {env!r}; artillery.yml has {sorted(environments)}"
        )
    return _merge(base, environments[env])


@dataclass(frozen=True)
class Thresholds:
    p99_ms: float
    max_error_rate_pct: float

    def conditions(self) -> list[dict[str, str]]:
        return [
            {"expression": f"http.response_time.p99 <= {self.p99_ms:g}"},
            {
                "expression": "(vusers.created - vusers.completed) / vusers.created * 100"
                f" <= {self.max_error_rate_pct:g}"
            },
        ]


def thresholds_of(prof: Mapping[str, Any]) -> Thresholds:
    """Read p99 and error-rate limits from a profile's ensure conditions."""
    p99 = err = None
    for cond in (prof.get("ensure") or {}).get("conditions") or []:
        expr = cond.get("expression", "")
        if m := P99_CONDITION.match(expr):
            p99 = float(m[1])
        elif m := ERROR_CONDITION.match(expr):
            err = float(m[1])
    if p99 is None or err is None:
        raise LoadtestError("profile lacks the p99 or error-rate ensure condition")
    return Thresholds(p99, err)


@dataclass(frozen=True)
class Plan:
    duration_s: float
    vusers: float


def plan_of(phases: Sequence[Mapping[str, Any]]) -> Plan:
    """Planned arrival span and virtual users of artillery phases."""
    duration = vusers = 0.0
    for phase in phases:
        if "pause" in phase:
            duration += float(phase["pause"])
            continue
        d = float(phase["duration"])
        duration += d
        if "arrivalCount" in phase:
            vusers += float(phase["arrivalCount"])
        elif "rampTo" in phase:
            vusers += (float(phase.get("arrivalRate", 0)) + float(phase["rampTo"])) / 2 * d
        else:
            vusers += float(phase.get("arrivalRate", 0)) * d
    return Plan(duration, vusers)


def requests_per_vuser(prof: Mapping[str, Any]) -> float:
    return float((prof.get("loadtest") or {}).get("requests_per_vuser", 1))


def run_phases(
    prof: Mapping[str, Any], rate: float | None, duration: float | None
) -> list[dict[str, Any]]:
    """The profile's phases, or one steady phase from --rate (req/s) / --duration (s)."""
    phases = [dict(p) for p in prof.get("phases") or []]
    if rate is None and duration is None:
        return phases
    if rate is not None:
        arrivals = max(1, round(rate / requests_per_vuser(prof)))
    else:
        arrivals = max(int(p.get("arrivalRate", 0)) for p in phases) or 1
    if duration is None:
        duration = plan_of(phases).duration_s
    return [{"name": "steady", "duration": max(1, int(duration)), "arrivalRate": arrivals}]


def warmup_phases(phases: Sequence[Mapping[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """An unjudged ramp from 1 user/s to the run's first rate."""
    first = next((p for p in phases if "duration" in p), {})
    peak = max(1, int(first.get("arrivalRate") or first.get("rampTo") or 1))
    return [{"name": "warm-up", "duration": int(seconds), "arrivalRate": 1, "rampTo": peak}]


def scale_phases(phases: Sequence[Mapping[str, Any]], count: int) -> list[dict[str, Any]]:
    """Per-worker phases of a distributed run: every worker runs the whole script."""
    scaled = []
    for phase in phases:
        p = dict(phase)
        for key in ("arrivalRate", "rampTo", "arrivalCount", "maxVusers"):
            if key in p:
                p[key] = round(float(p[key]) / count, 2)
        scaled.append(p)
    return scaled


# --- target -----------------------------------------------------------------


@dataclass
class Target:
    """Where the load goes, and the dead-letter queues to reconcile against.
    `sqs` makes the SQS client that reads them (None: DLQs are not read)."""

    url: str
    dlq_urls: dict[str, str] = field(default_factory=dict)
    sqs: Callable[[], Any] | None = None


def _dlqs(outputs: Mapping[str, Any]) -> dict[str, str]:
    names = {"orders DLQ": "orders_dlq_url", "notifications DLQ": "notifications_dlq_url"}
    return {name: outputs[key] for name, key in names.items() if outputs.get(key)}


def local_target(stack: Any = None) -> Target:
    """The running local stack: its API URL and DLQs from its Terraform outputs.
    Without `stack`, the one `make up` started (EMULATOR_PORT, EMULATOR_STATE_DIR)."""
    from tools import emulator
    from tools.localstack import Stack, StackError

    if stack is None:
        state = emulator.status()
        if not state.running or not state.healthy:
            raise LoadtestError(
                f"no local stack answers on port {state.port}: run `make up` first "
                "(with the same EMULATOR_PORT and EMULATOR_STATE_DIR)"
            )
        stack = Stack(port=state.port)
    try:
        outputs = stack.outputs()
    except StackError as error:
        raise LoadtestError(
            f"the local stack has no Terraform outputs; run `make up`\n{error}"
        ) from None
    return Target(
        stack.api_url(outputs),
        _dlqs(outputs),
        lambda: sqs_client(
            endpoint_url=stack.endpoint,
            region_name=emulator.region(),
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - the emulator's fixed credentials
        ),
    )


def terraform_target(env: str) -> Target:
    """From the outputs of terraform/environments/<env> (tools.deploy: its backend and
    working data, as `make plan|apply ENV=<env>` use them)."""
    from tools import deploy

    try:
        outputs = deploy.outputs(env)
    except deploy.DeployError as error:
        raise LoadtestError(f"{error}\n(or pass --target URL)") from None
    if not outputs.get("api_endpoint"):
        raise LoadtestError(f"{env} has no api_endpoint output (not applied?); or pass --target")

    return Target(outputs["api_endpoint"], _dlqs(outputs), sqs_client)  # caller's credentials


def sqs_client(**options: Any) -> Any:
    """An SQS client that gives up quickly: reconciliation must stay bounded in time,
    also when the target has fallen over under the load."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2})
    return boto3.client("sqs", config=config, **options)


def is_loopback(url: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: the only targets a local run may have."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- saturation --------------------------------------------------------------


@dataclass
class Saturation:
    planned_duration_s: float
    actual_duration_s: float | None
    planned_vusers: float
    actual_vusers: float
    source: str
    reasons: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.reasons


def arrival_span(
    report: Mapping[str, Any], arrivals_ms: Sequence[int] | None
) -> tuple[float | None, str]:
    """(seconds from the first to the last virtual user created, how it was measured)."""
    if arrivals_ms:
        return (max(arrivals_ms) - min(arrivals_ms)) / 1000, "arrivals.log"
    periods = [
        p for p in report.get("intermediate") or [] if p.get("counters", {}).get("vusers.created")
    ]
    if not periods:
        return None, "none"
    # At the granularity of the report's periods (10 s): an upper bound.
    start = min(p["firstCounterAt"] for p in periods)
    end = max(p["lastCounterAt"] for p in periods)
    return (end - start) / 1000, "report periods"


def check_saturation(
    report: Mapping[str, Any],
    plan: Plan,
    arrivals_ms: Sequence[int] | None = None,
    tolerance: float = SATURATION_TOLERANCE,
) -> Saturation:
    """Did the load generator keep the plan? A saturated artillery stretches its
    phases without a warning: the arrivals take longer than planned, or fewer start."""
    created = float(report["aggregate"]["counters"].get("vusers.created", 0))
    span, source = arrival_span(report, arrivals_ms)
    result = Saturation(plan.duration_s, span, plan.vusers, created, source)
    # report periods are ~10 s wide and include requests made after the last arrival
    slack = 10.0 if source == "report periods" else 0.0
    if span is None:
        result.reasons.append("the report shows no virtual user created")
    elif span > plan.duration_s * (1 + tolerance) + slack:
        result.reasons.append(
            f"arrivals took {span:.1f} s for a {plan.duration_s:g} s plan "
            f"(> {tolerance:.0%} over): the load generator was saturated"
        )
    if created < plan.vusers * (1 - tolerance):
        result.reasons.append(
            f"{created:.0f} virtual users created of {plan.vusers:.0f} planned "
            f"(> {tolerance:.0%} short)"
        )
    return result


def read_arrivals(path: Path) -> list[int] | None:
    return [int(x) for x in path.read_text().split()] if path.is_file() else None


# --- thresholds ---------------------------------------------------------------


@dataclass
class ThresholdResult:
    p99_ms: float | None
    error_rate_pct: float | None
    limits: Thresholds
    artillery_exit: int

    @property
    def p99_ok(self) -> bool:
        return self.p99_ms is not None and self.p99_ms <= self.limits.p99_ms

    @property
    def errors_ok(self) -> bool:
        return self.error_rate_pct is not None and (
            self.error_rate_pct <= self.limits.max_error_rate_pct
        )

    @property
    def passed(self) -> bool:
        return self.p99_ok and self.errors_ok and self.artillery_exit == 0


def evaluate_thresholds(
    report: Mapping[str, Any], limits: Thresholds, artillery_exit: int
) -> ThresholdResult:
    agg = report["aggregate"]
    p99 = (agg.get("summaries", {}).get("http.response_time") or {}).get("p99")
    counters = agg.get("counters", {})
    created = counters.get("vusers.created", 0)
    completed = counters.get("vusers.completed", 0)
    rate = (created - completed) / created * 100 if created else None
    return ThresholdResult(p99, rate, limits, artillery_exit)


# --- reconciliation ----------------------------------------------------------

# checker(order_ids) -> {order_id: status}, one sweep; statuses other than
# CONFIRMED and REJECTED (PENDING, MISSING, UNKNOWN) count as not final.
Checker = Callable[[Sequence[str]], Mapping[str, str]]
# dlq_lookup() -> {dlq name: order ids of the messages in it}
DlqLookup = Callable[[], Mapping[str, set[str]]]


@dataclass
class Reconciliation:
    accepted: int
    confirmed: int
    rejected: int
    in_dlq: int
    lost: int
    not_final: list[str]  # the lost orders
    not_final_statuses: dict[str, int] = field(default_factory=dict)
    dlq_orders: dict[str, int] = field(default_factory=dict)  # run orders per DLQ

    @property
    def ok(self) -> bool:
        return self.lost == 0

    def line(self) -> str:
        dlqs = "".join(f", {name} holds {n}" for name, n in sorted(self.dlq_orders.items()))
        why = ", ".join(f"{s} {n}" for s, n in sorted(self.not_final_statuses.items()))
        return (
            f"accepted {self.accepted}: confirmed {self.confirmed}, rejected {self.rejected}, "
            f"in DLQ {self.in_dlq}, lost {self.lost}{dlqs}" + (f" (lost as: {why})" if why else "")
        )


def read_orders(path: Path) -> tuple[list[str], dict[str, str]]:
    """(distinct accepted order ids in first-seen order, {id: final status seen})
    from an orders.log: "<id>" per 202 (a retry repeats one), "<id> <STATUS>" when
    a read-back saw the order final."""
    ids: dict[str, None] = {}
    final: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 1:
                ids.setdefault(parts[0], None)
            elif len(parts) == 2 and parts[1] in FINAL_STATUSES:
                final[parts[0]] = parts[1]
    return list(ids), {i: s for i, s in final.items() if i in ids}


def reconcile(
    order_ids: Iterable[str],
    checker: Checker,
    dlq_lookup: DlqLookup | None = None,
    seen_final: Mapping[str, str] | None = None,
    wait_s: float = 0.0,
    interval_s: float = 1.0,
) -> Reconciliation:
    """How the accepted orders ended. Orders seen final during the run are final
    (a final status never changes); the others are read until each is final or in
    a DLQ, or `wait_s` has passed. What is left is lost."""
    ids = list(dict.fromkeys(order_ids))
    statuses: dict[str, str] = {i: s for i, s in (seen_final or {}).items() if i in ids}
    deadline = time.monotonic() + wait_s
    in_dlqs: dict[str, set[str]] = {}
    while True:
        todo = [i for i in ids if statuses.get(i) not in FINAL_STATUSES]
        if todo:
            statuses.update(checker(todo))
            todo = [i for i in ids if statuses.get(i) not in FINAL_STATUSES]
        if dlq_lookup is not None and (todo or not in_dlqs):  # always read them once
            in_dlqs = {name: set(found) for name, found in dlq_lookup().items()}
        dead = set().union(*in_dlqs.values()) if in_dlqs else set()
        lost = [i for i in todo if i not in dead]
        if not lost or time.monotonic() + interval_s > deadline:
            break
        time.sleep(interval_s)
    confirmed = sum(1 for i in ids if statuses.get(i) == "CONFIRMED")
    rejected = sum(1 for i in ids if statuses.get(i) == "REJECTED")
    return Reconciliation(
        accepted=len(ids),
        confirmed=confirmed,
        rejected=rejected,
        in_dlq=len(todo) - len(lost),
        lost=len(lost),
        not_final=lost,
        not_final_statuses=dict(Counter(statuses.get(i, "MISSING") for i in lost)),
        dlq_orders={name: len(found & set(ids)) for name, found in in_dlqs.items()},
    )


class HttpOrderChecker:
    """A sweep of GET /orders/{id} over the given ids. Ids not read within `budget_s`
    of its creation come back UNKNOWN: sweeps of a struggling API stay bounded."""

    def __init__(
        self, base_url: str, budget_s: float = 120.0, workers: int = 8, timeout_s: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.deadline = time.monotonic() + budget_s
        self.workers = workers
        self.timeout_s = timeout_s

    def status(self, order_id: str, attempts: int = 2) -> str:
        """The order's status; MISSING on 404; UNKNOWN when it cannot be read
        (a transport error or 5xx is retried once)."""
        url = f"{self.base_url}/orders/{quote(order_id, safe='')}"
        for _ in range(attempts):
            if time.monotonic() >= self.deadline:
                break
            try:
                with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:  # noqa: S310
                    return str(json.loads(resp.read()).get("status", "UNKNOWN"))
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return "MISSING"
                if exc.code < 500:
                    return "UNKNOWN"
            except (OSError, ValueError):
                time.sleep(0.2)
        return "UNKNOWN"

    def __call__(self, order_ids: Sequence[str]) -> dict[str, str]:
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return dict(zip(order_ids, pool.map(self.status, order_ids), strict=True))


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


# --- report ------------------------------------------------------------------


def series_of(report: Mapping[str, Any]) -> dict[str, list]:
    """Per period (10 s in artillery 2): answered and sent req/s, latency percentiles, errors."""
    periods = sorted(report.get("intermediate") or [], key=lambda p: int(p["period"]))
    keys = ("t", "req_per_s", "sent_per_s", "p50", "p95", "p99", "errors")
    out: dict[str, list] = {k: [] for k in keys}
    if not periods:
        return out
    start = min(p.get("firstMetricAt") or int(p["period"]) for p in periods)
    for p in periods:
        counters = p.get("counters", {})
        latency = p.get("summaries", {}).get("http.response_time") or {}
        width = max((p.get("lastCounterAt", 0) - p.get("firstCounterAt", 0)) / 1000, 1.0)
        out["t"].append(round(((p.get("lastMetricAt") or int(p["period"])) - start) / 1000, 1))
        out["req_per_s"].append(round(counters.get("http.responses", 0) / width, 1))
        out["sent_per_s"].append(round(counters.get("http.requests", 0) / width, 1))
        out["p50"].append(latency.get("median", latency.get("p50")))
        out["p95"].append(latency.get("p95"))
        out["p99"].append(latency.get("p99"))
        out["errors"].append(sum(v for k, v in counters.items() if k.startswith("errors.")))
    return out


def chart_python() -> Path | None:
    """An interpreter with matplotlib: this one, or the chart venv (made on demand)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pass
    else:
        return Path(sys.executable)
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    with (RUNS_DIR / ".chart-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _chart_venv()


def _chart_venv() -> Path | None:
    python = CHART_VENV / "bin" / "python"
    stamp = CHART_VENV / ".installed-sha256"
    digest = hashlib.sha256(CHART_REQUIREMENTS.read_bytes()).hexdigest()
    if python.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return python
    log(f"creating {CHART_VENV.relative_to(REPO_ROOT)} for the charts (matplotlib)")
    try:
        shutil.rmtree(CHART_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(CHART_VENV)], check=True, timeout=120)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(CHART_REQUIREMENTS),
            ],
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        log(f"charts unavailable: could not build the chart venv ({exc})")
        return None
    stamp.write_text(digest + "\n")
    return python


def render_charts(series: Mapping[str, Any], run_dir: Path) -> list[Path]:
    (run_dir / "series.json").write_text(json.dumps(series))
    python = chart_python()
    if python is None:
        return []
    proc = subprocess.run(
        [str(python), str(CHART_SCRIPT), str(run_dir / "series.json"), str(run_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        log(f"chart rendering failed: {proc.stderr.strip()[-500:]}")
        return []
    return [run_dir / name for name in proc.stdout.split()]


def endpoint_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    agg = report["aggregate"]
    counters = agg.get("counters", {})
    prefix = "plugins.metrics-by-endpoint.response_time."
    rows = []
    for key, summary in sorted(agg.get("summaries", {}).items()):
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        mine = f"plugins.metrics-by-endpoint.{name}."
        rows.append(
            {
                "endpoint": name,
                "count": summary.get("count"),
                "codes": {
                    k.rsplit(".", 1)[-1]: v
                    for k, v in counters.items()
                    if k.startswith(mine + "codes.")
                },
                "errors": sum(v for k, v in counters.items() if k.startswith(mine + "errors.")),
                **{q: summary.get(q) for q in ("median", "p95", "p99", "max")},
            }
        )
    return rows


def _td(value: Any) -> str:
    if isinstance(value, float):
        value = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"<td>{html.escape(str(value))}</td>"


def _verdict(ok: bool) -> str:
    return '<td class="pass">pass</td>' if ok else '<td class="fail">FAIL</td>'


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(c if str(c).startswith("<td") else _td(c) for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#222;max-width:70em}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.pass{color:#0a7a2f;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.verdict{font-size:1.2em;padding:.4em .8em;display:inline-block;border:2px solid}
img{display:block;margin:.5em 0;max-width:100%}code{background:#f3f3f3;padding:0 .2em}
"""
VERDICTS = {0: "PASSED", 1: "THRESHOLDS FAILED", 3: "INVALID (saturated)", 4: "ORDERS LOST"}


def render_summary(
    report: Mapping[str, Any],
    run: Mapping[str, Any],
    thresholds: ThresholdResult,
    saturation: Saturation,
    reconciliation: Reconciliation | None,
    charts: Sequence[Path],
    exit_code: int,
) -> str:
    """A self-contained HTML page: inline CSS, charts as data: URIs, no scripts."""
    agg = report["aggregate"]
    counters = agg.get("counters", {})
    span = max((agg.get("lastMetricAt", 0) - agg.get("firstMetricAt", 0)) / 1000, 1e-9)
    limits = thresholds.limits
    na = "n/a"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Load test {html.escape(run['env'])} {html.escape(run['started'])}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Load test: {html.escape(run['env'])} &mdash; {html.escape(run['started'])}</h1>",
        f"<p class='verdict {'pass' if exit_code == 0 else 'fail'}'>"
        f"{VERDICTS.get(exit_code, f'exit {exit_code}')} (exit {exit_code})</p>",
        f"<p>Target <code>{html.escape(run['target'])}</code>; artillery {ARTILLERY_VERSION}; "
        f"phases <code>{html.escape(json.dumps(run['phases']))}</code>; "
        f"requested {html.escape(str(run.get('requested_rps') or na))} req/s; "
        f"warm-up {html.escape(str(run.get('warmup_s') or 0))} s (not judged)</p>",
        "<h2>Thresholds</h2>",
        _table(
            ["check", "limit", "measured", "result"],
            [
                [
                    "p99 response time (ms)",
                    limits.p99_ms,
                    na if thresholds.p99_ms is None else thresholds.p99_ms,
                    _verdict(thresholds.p99_ok),
                ],
                [
                    "error rate (% of virtual users failed)",
                    limits.max_error_rate_pct,
                    na if thresholds.error_rate_pct is None else thresholds.error_rate_pct,
                    _verdict(thresholds.errors_ok),
                ],
                [
                    "artillery exit code (ensure, expect)",
                    0,
                    thresholds.artillery_exit,
                    _verdict(thresholds.artillery_exit == 0),
                ],
            ],
        ),
        "<h2>Saturation check</h2>",
        _table(
            ["", "plan", "actual"],
            [
                [
                    "arrival span (s)",
                    saturation.planned_duration_s,
                    na if saturation.actual_duration_s is None else saturation.actual_duration_s,
                ],
                ["virtual users created", saturation.planned_vusers, saturation.actual_vusers],
            ],
        ),
        f"<p>Measured from {html.escape(saturation.source)}: "
        + (
            "<span class='pass'>valid</span>"
            if saturation.valid
            else "<span class='fail'>INVALID</span> &mdash; "
            + html.escape("; ".join(saturation.reasons))
        )
        + "</p>",
        "<h2>Reconciliation</h2>",
    ]
    if reconciliation is None:
        parts.append("<p>Not run.</p>")
    else:
        rec = reconciliation
        lost = _td(rec.lost) if rec.ok else f"<td class='fail'>{rec.lost}</td>"
        parts.append(
            _table(
                ["accepted (202)", "confirmed", "rejected", "in DLQ", "lost"],
                [[rec.accepted, rec.confirmed, rec.rejected, rec.in_dlq, lost]],
            )
        )
        if rec.dlq_orders:
            dlqs = ", ".join(f"{k}: {v}" for k, v in sorted(rec.dlq_orders.items()))
            parts.append(f"<p>Orders of this run in dead-letter queues: {html.escape(dlqs)}</p>")
    totals: dict[str, Any] = {
        "duration of metrics (s)": round(span, 1),
        "requests": counters.get("http.requests", 0),
        "responses": counters.get("http.responses", 0),
        "achieved mean req/s (responses)": round(counters.get("http.responses", 0) / span, 1),
        "virtual users created": counters.get("vusers.created", 0),
        "virtual users completed": counters.get("vusers.completed", 0),
        "virtual users failed": counters.get("vusers.failed", 0),
    }
    totals.update({k: v for k, v in sorted(counters.items()) if k.startswith("http.codes.")})
    totals.update({k: v for k, v in sorted(counters.items()) if k.startswith("errors.")})
    latency = agg.get("summaries", {}).get("http.response_time") or {}
    totals.update({f"response time {q} (ms)": latency.get(q) for q in ("median", "p95", "p99")})
    parts += ["<h2>Totals</h2>", _table(["metric", "value"], totals.items())]
    parts.append("<h2>Per endpoint</h2>")
    parts.append(
        _table(
            ["endpoint", "responses", "codes", "errors", "median ms", "p95 ms", "p99 ms", "max ms"],
            [
                [
                    row["endpoint"],
                    row["count"],
                    ", ".join(f"{c}: {n}" for c, n in sorted(row["codes"].items())),
                    row["errors"],
                    row["median"],
                    row["p95"],
                    row["p99"],
                    row["max"],
                ]
                for row in endpoint_rows(report)
            ],
        )
    )
    parts.append("<h2>Over time (10 s periods)</h2>")
    if not charts:
        parts.append("<p>Charts unavailable (see the run log); series in series.json.</p>")
    for chart in charts:
        data = base64.b64encode(chart.read_bytes()).decode()
        parts.append(f"<img alt='{html.escape(chart.stem)}' src='data:image/png;base64,{data}'>")
    parts.append(
        "<p>Files: report.json (artillery), series.json, orders.log, arrivals.log, "
        "artillery.log, result.json, warmup/ (the unjudged warm-up).</p></body></html>"
    )
    return "\n".join(parts)


def verdict(
    thresholds: ThresholdResult, saturation: Saturation, reconciliation: Reconciliation | None
) -> int:
    """The exit code: the worst finding wins (lost > invalid > thresholds)."""
    if reconciliation is not None and not reconciliation.ok:
        return EXIT_LOST
    if not saturation.valid:
        return EXIT_INVALID
    if not thresholds.passed:
        return EXIT_THRESHOLDS
    return EXIT_PASS


# --- running -----------------------------------------------------------------


def _call(method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the run's own http(s) target
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def prime(url: str, orders_log: Path, pool: int = 4, timeout_s: float = 60.0) -> str:
    """Start the emulator's function processes calmly, before any load: one order
    created (with an Idempotency-Key) and read until final, and a customer's list, one
    request at a time (the first API, processor and notifier process); then `pool`
    orders created at once (as many API processes, each past its first idempotent
    create). A fresh emulator otherwise starts a dozen processes at once under load,
    ~1 s of its own CPU each, and requests time out. Returns what happened."""
    started = time.monotonic()
    sys.path.insert(0, str(LOADTEST_DIR))
    from generate_data import DEFAULT_OUT

    customer = (DEFAULT_OUT / "customers.csv").read_text().splitlines()[1].split(",")
    sku = (DEFAULT_OUT / "skus.csv").read_text().splitlines()[1].split(",")
    body = {
        "customer_id": customer[0],
        "currency": customer[1],
        "items": [{"sku": sku[0], "quantity": 1, "unit_price": sku[1]}],
    }
    orders_log.parent.mkdir(parents=True, exist_ok=True)

    def create(_: int = 0) -> str:
        status, accepted = _call(
            "POST", f"{url}/orders", body, {"Idempotency-Key": str(uuid.uuid4())}
        )
        if status != 202:
            raise ValueError(f"POST /orders answered {status}")
        with orders_log.open("a") as log_file:
            log_file.write(f"{accepted['order_id']}\n")
        return accepted["order_id"]

    try:
        order_id = create()
        while True:
            status, order = _call("GET", f"{url}/orders/{order_id}")
            if status == 200 and order["status"] in FINAL_STATUSES:
                break
            if time.monotonic() - started > timeout_s:
                return f"order {order_id} not final after {timeout_s:g} s"
            time.sleep(0.2)
        _call("GET", f"{url}/customers/{quote(customer[0], safe='')}/orders?limit=10")
        with ThreadPoolExecutor(max_workers=pool) as executor:
            list(executor.map(create, range(pool)))
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"failed: {error.__class__.__name__}: {error}"
    return f"every path answered, {pool} at once, in {time.monotonic() - started:.1f} s"


def run_artillery(
    cmd: Sequence[str], run_dir: Path, timeout_s: float, echo: bool = True
) -> tuple[int, bool]:
    """Run artillery in its own process group, saving (and echoing) its output;
    killed after `timeout_s`. Returns (exit code, timed out)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    timed_out = threading.Event()
    with (run_dir / "artillery.log").open("w") as log_file:
        proc = subprocess.Popen(
            list(cmd),
            cwd=LOADTEST_DIR,
            env=artillery_env(run_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if echo:
                    sys.stdout.write(line)
                log_file.write(line)
            rc = proc.wait()
        finally:
            timer.cancel()
    return rc, timed_out.is_set()


def artillery_args(env: str, target: str, overrides: Mapping[str, Any], report: Path) -> list[str]:
    return [
        "-e",
        env,
        "-t",
        target,
        "--overrides",
        json.dumps(overrides),
        "-o",
        str(report),
        str(CONFIG_FILE.relative_to(LOADTEST_DIR)),
    ]


def distributed_command(
    kind: str,
    env: str,
    target: str,
    count: int,
    region: str,
    overrides: Mapping[str, Any],
    report: Path,
    max_duration_s: int,
) -> list[str]:
    cmd = [str(NODE_BIN), str(ARTILLERY_RUN), f"run-{kind}", "--count", str(count)]
    cmd += ["--region", region]
    if kind == "fargate":
        cmd += ["--max-duration", f"{max_duration_s}s"]
    else:
        cmd += ["--architecture", "arm64"]
    return cmd + artillery_args(env, target, overrides, report)


def aws_credentials_available() -> bool:
    try:
        import boto3
    except ImportError:
        return False
    return boto3.Session().get_credentials() is not None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tools.loadtest",
        description="Run the artillery load test; exit 0 pass, 1 thresholds, 2 refused, "
        "3 invalid (saturated), 4 lost orders.",
    )
    p.add_argument("--env", help="an environment of artillery.yml: local, staging, prod")
    p.add_argument(
        "--install-only", action="store_true", help="npm ci if needed, verify the pins, exit"
    )
    p.add_argument("--rate", type=float, help="replace the phases: steady request rate, req/s")
    p.add_argument("--duration", type=float, help="replace the phases: seconds")
    p.add_argument("--warmup", type=float, help="seconds of unjudged ramp first (0: none)")
    p.add_argument("--target", help="base URL (default: from Terraform / the local stack)")
    p.add_argument("--p99", type=float, help="p99 limit in ms (default: the profile's)")
    p.add_argument("--max-error-rate", type=float, help="percent of failed virtual users")
    p.add_argument("--reconcile-wait", type=float, default=60.0, help="seconds (default 60)")
    p.add_argument("--no-reconcile", action="store_true", help="skip the reconciliation")
    p.add_argument("--no-charts", action="store_true", help="no PNG charts in the summary")
    p.add_argument("--distributed", choices=("fargate", "lambda"))
    p.add_argument("--count", type=int, default=2, help="workers of a distributed run")
    p.add_argument("--region", default=os.environ.get("AWS_REGION", "eu-west-1"))
    p.add_argument("--dry-run", action="store_true", help="print the command and stop")
    p.add_argument("--run-dir", type=Path, help="default: .local/loadtest/<timestamp>")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None, target: Target | None = None) -> int:
    """The command line. `target` replaces the target lookup (tests pass the
    local stack they started)."""
    args = parse_args(argv)
    try:
        return _main(args, target)
    except LoadtestError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _main(args: argparse.Namespace, target: Target | None) -> int:
    if args.install_only:
        ensure_installed()
        version, node = installed_versions()
        log(f"artillery {version} on Node {'.'.join(map(str, node))} in {NODE_MODULES}")
        return EXIT_PASS
    if not args.env:
        raise LoadtestError("--env is required")
    prof = profile(load_config(), args.env)
    meta = prof.get("loadtest") or {}
    opt_in = meta.get("opt_in_variable")
    if opt_in and os.environ.get(opt_in) != "yes":
        raise LoadtestError(f"{args.env} is opt-in: set {opt_in}=yes to load-test it")
    loopback_only = bool(meta.get("loopback_only"))
    if args.distributed and loopback_only:
        raise LoadtestError(f"a distributed run cannot reach {args.env}'s loopback target")
    base = thresholds_of(prof)
    limits = Thresholds(
        base.p99_ms if args.p99 is None else args.p99,
        base.max_error_rate_pct if args.max_error_rate is None else args.max_error_rate,
    )
    phases = run_phases(prof, args.rate, args.duration)
    plan = plan_of(phases)

    if target is None:
        if args.target:
            target = Target(args.target)
        elif args.env == "local":
            target = local_target()
        else:
            target = terraform_target(args.env)
    url = target.url.rstrip("/")
    if urlsplit(url).scheme not in ("http", "https"):
        raise LoadtestError(f"target {url!r} is not an http(s) URL")
    if loopback_only and not is_loopback(url):
        raise LoadtestError(f"{args.env} targets loopback only (127.0.0.1/localhost): {url}")

    started = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = (args.run_dir or RUNS_DIR / started).resolve()
    report_path = run_dir / "report.json"
    overrides: dict[str, Any] = {"config": {"ensure": {"conditions": limits.conditions()}}}

    sys.path.insert(0, str(LOADTEST_DIR))
    from generate_data import generate

    generate()

    if args.distributed:
        overrides["config"]["phases"] = scale_phases(phases, args.count)
        max_duration = int(plan.duration_s * 1.5 + 600)
        cmd = distributed_command(
            args.distributed,
            args.env,
            url,
            args.count,
            args.region,
            overrides,
            report_path,
            max_duration,
        )
        print(shlex.join(cmd))
        if args.dry_run:
            return EXIT_PASS
        if not aws_credentials_available():
            raise LoadtestError(
                f"artillery run-{args.distributed} needs AWS credentials (none found); "
                "the command above is what would run"
            )
        ensure_installed()
        rc, _ = run_artillery(cmd, run_dir, max_duration + 900)
        return EXIT_PASS if rc == 0 else EXIT_THRESHOLDS

    overrides["config"]["phases"] = phases
    cmd = [str(NODE_BIN), str(ARTILLERY_RUN), "run"]
    cmd += artillery_args(args.env, url, overrides, report_path)
    if args.dry_run:
        print(shlex.join(cmd))
        return EXIT_PASS
    ensure_installed()

    warmup_s = float(meta.get("warmup_s", 0) if args.warmup is None else args.warmup)
    if warmup_s > 0:
        pool = min(
            32, max(4, math.ceil(plan.vusers * requests_per_vuser(prof) / plan.duration_s / 4))
        )
        log(f"priming: {prime(url, run_dir / 'warmup' / 'orders.log', pool)}")
        warm = {"config": {"phases": warmup_phases(phases, warmup_s), "ensure": {"conditions": []}}}
        log(f"warm-up: {warm['config']['phases'][0]} (not judged)")
        warm_cmd = [str(NODE_BIN), str(ARTILLERY_RUN), "run", "-q"]
        warm_cmd += artillery_args(args.env, url, warm, run_dir / "warmup" / "report.json")
        warm_rc, _ = run_artillery(warm_cmd, run_dir / "warmup", warmup_s * 2 + 60, echo=False)
        log(f"warm-up done (artillery exit {warm_rc})")

    log(
        f"artillery: {args.env} against {url}, plan {plan.duration_s:g} s, "
        f"{plan.vusers:g} virtual users; run dir {run_dir}"
    )
    timeout_s = plan.duration_s * 1.5 + 120
    rc, timed_out = run_artillery(cmd, run_dir, timeout_s)
    if not report_path.is_file():
        why = f"timed out after {timeout_s:.0f} s" if timed_out else f"exit {rc}"
        print(f"loadtest: INVALID: artillery wrote no report ({why})", file=sys.stderr)
        return EXIT_INVALID
    report = json.loads(report_path.read_text())

    saturation = check_saturation(report, plan, read_arrivals(run_dir / "arrivals.log"))
    if timed_out:
        saturation.reasons.append(f"artillery was stopped after {timeout_s:.0f} s")
    threshold_result = evaluate_thresholds(report, limits, rc)

    reconciliation = None
    if not args.no_reconcile:
        ids, seen_final = read_orders(run_dir / "orders.log")
        warm_ids, warm_final = read_orders(run_dir / "warmup" / "orders.log")
        ids, seen_final = warm_ids + ids, {**warm_final, **seen_final}
        log(
            f"reconciling {len(ids)} accepted orders ({len(seen_final)} seen final; "
            f"waiting up to {args.reconcile_wait:g} s for the rest)"
        )
        dlqs = DlqReader(target.sqs, target.dlq_urls) if target.sqs and target.dlq_urls else None
        checker = HttpOrderChecker(url, budget_s=args.reconcile_wait + 15)
        reconciliation = reconcile(ids, checker, dlqs, seen_final, wait_s=args.reconcile_wait)

    exit_code = verdict(threshold_result, saturation, reconciliation)

    series = {**series_of(report), "title": f"{args.env} {started}"}
    charts = [] if args.no_charts else render_charts(series, run_dir)
    counters = report["aggregate"].get("counters", {})
    agg = report["aggregate"]
    span = max((agg.get("lastMetricAt", 0) - agg.get("firstMetricAt", 0)) / 1000, 1e-9)
    run = {
        "env": args.env,
        "started": started,
        "target": url,
        "phases": phases,
        "warmup_s": warmup_s,
        "requested_rps": args.rate if args.rate is not None else meta.get("target_rps"),
        "sent_rps": round(counters.get("http.requests", 0) / span, 1),
        "achieved_rps": round(counters.get("http.responses", 0) / span, 1),
    }
    (run_dir / "summary.html").write_text(
        render_summary(report, run, threshold_result, saturation, reconciliation, charts, exit_code)
    )
    result = {
        "exit_code": exit_code,
        "run": run,
        "plan": asdict(plan),
        "thresholds": {
            **asdict(limits),
            "p99_ms": threshold_result.p99_ms,
            "error_rate_pct": threshold_result.error_rate_pct,
            "artillery_exit": rc,
            "passed": threshold_result.passed,
        },
        "saturation": {**asdict(saturation), "valid": saturation.valid},
        "reconciliation": None if reconciliation is None else asdict(reconciliation),
    }
    (run_dir / "result.json").write_text(json.dumps(result, indent=2))

    latency = agg.get("summaries", {}).get("http.response_time") or {}
    print()
    print(
        f"load:       {run['achieved_rps']} req/s answered, {run['sent_rps']} sent "
        f"(requested {run['requested_rps']}), "
        f"p50/p95/p99 {latency.get('median')}/{latency.get('p95')}/{latency.get('p99')} ms"
    )
    print(
        f"thresholds: p99 {threshold_result.p99_ms} ms (limit {limits.p99_ms:g}), "
        f"errors {threshold_result.error_rate_pct} % (limit {limits.max_error_rate_pct:g}), "
        f"artillery exit {rc}: {'pass' if threshold_result.passed else 'FAIL'}"
    )
    print(
        f"saturation: arrivals {saturation.actual_duration_s} s of {plan.duration_s:g} s planned, "
        f"{saturation.actual_vusers:g}/{plan.vusers:g} users: "
        + ("valid" if saturation.valid else "INVALID - " + "; ".join(saturation.reasons))
    )
    if reconciliation is not None:
        print(f"reconciliation: {reconciliation.line()}")
        for order_id in reconciliation.not_final[:10]:
            print(f"  lost: {order_id}")
    print(f"summary: {run_dir / 'summary.html'}")
    print(f"exit {exit_code} ({VERDICTS.get(exit_code, '?')})")
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
