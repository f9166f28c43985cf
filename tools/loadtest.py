"""Run the artillery load test of the orders API and judge the result.

    python -m tools.loadtest --env local [--rate 50] [--duration 20] [--target URL]
                             [--p99 MS] [--max-error-rate PCT]
    python -m tools.loadtest --env staging --distributed fargate --count 4 --region eu-west-1

Steps: install the pinned Node + artillery (npm ci) when node_modules is missing
or stale; regenerate the CSV payloads; resolve the target from the `api_endpoint`
output of terraform/environments/<env> unless --target is given; run artillery
into .local/loadtest/<timestamp>/; then
  (a) saturation: the run's arrival span and created virtual users against the
      plan from the phases; more than 10 % behind makes the run INVALID;
  (b) reconciliation: every order id answered 202 must end CONFIRMED or
      REJECTED, or be covered by new messages in the orders DLQ;
  (c) report: charts (PNG) and a self-contained summary.html in the run dir.

Exit codes (the worst applies: 4 > 3 > 1):
  0  passed: thresholds met, run valid, no order lost
  1  thresholds failed (p99, error rate, or artillery itself failed)
  2  refused or usage error (prod without opt-in, non-loopback target for
     local, no AWS credentials for a distributed run, bad install)
  3  INVALID: the load generator fell behind the plan (saturated) or the run
     did not finish; its figures do not measure the system
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
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
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
ENVIRONMENTS_DIR = REPO_ROOT / "terraform" / "environments"
TF = REPO_ROOT / "tools" / "tf"

ARTILLERY_VERSION = "2.0.34"
MIN_NODE = (22, 18)
SATURATION_TOLERANCE = 0.10
PROD_OPT_IN = "LOADTEST_ALLOW_PROD"
FINAL_STATUSES = frozenset({"CONFIRMED", "REJECTED"})

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
    import yaml  # PyYAML: a dev dependency (pulled in by moto today)

    return yaml.safe_load(path.read_text())


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge like lodash's _.merge for dicts; lists and scalars replace."""
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


def steady_phases(prof: Mapping[str, Any], rate: float | None, duration: float | None) -> list:
    """The profile's phases, or one steady phase from --rate (req/s) / --duration."""
    phases = list(prof.get("phases") or [])
    if rate is None and duration is None:
        return phases
    per_vuser = float((prof.get("loadtest") or {}).get("requests_per_vuser", 1))
    if rate is not None:
        arrivals = max(1, math.ceil(rate / per_vuser))
    else:
        arrivals = int(max(p.get("arrivalRate", 0) for p in phases) or 1)
    if duration is None:
        duration = plan_of(phases).duration_s
    return [{"name": "steady", "duration": int(duration), "arrivalRate": arrivals}]


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


def terraform_outputs(env: str, tf: Path = TF) -> dict[str, Any]:
    root = ENVIRONMENTS_DIR / env
    if not (root / "main.tf").is_file():
        raise LoadtestError(f"no Terraform root {root.relative_to(REPO_ROOT)}; pass --target URL")
    proc = subprocess.run(
        [str(tf), f"-chdir={root}", "output", "-json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise LoadtestError(f"terraform output failed for {env}: {proc.stderr.strip()}")
    return {k: v.get("value") for k, v in json.loads(proc.stdout or "{}").items()}


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
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


def arrival_span(report: Mapping[str, Any], arrivals_ms: Sequence[int] | None) -> tuple:
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
    """Did the load generator keep the plan? A saturated artillery stretches
    its phases: the arrivals take longer than planned, or fewer users start."""
    created = float(report["aggregate"]["counters"].get("vusers.created", 0))
    span, source = arrival_span(report, arrivals_ms)
    result = Saturation(plan.duration_s, span, plan.vusers, created, source)
    slack = 0.0
    if source == "report periods":
        # periods are ~10 s wide and include requests made after the last arrival
        slack = 10.0
    if span is None:
        result.reasons.append("the report shows no virtual user created")
    elif span > plan.duration_s * (1 + tolerance) + slack:
        result.reasons.append(
            f"arrivals took {span:.1f} s for a {plan.duration_s:.0f} s plan "
            f"(> {tolerance:.0%} over): the load generator was saturated"
        )
    if created < plan.vusers * (1 - tolerance):
        result.reasons.append(
            f"{created:.0f} virtual users created of {plan.vusers:.0f} planned "
            f"(> {tolerance:.0%} short)"
        )
    return result


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

# checker(order_ids) -> {order_id: status}; statuses other than CONFIRMED and
# REJECTED (PENDING, MISSING, UNKNOWN) count as not final.
Checker = Callable[[Sequence[str]], Mapping[str, str]]


@dataclass
class Reconciliation:
    accepted: int
    confirmed: int
    rejected: int
    in_dlq: int
    lost: int
    not_final: list[str]
    notifications_in_dlq: int | None = None
    not_final_statuses: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.lost == 0

    def line(self) -> str:
        extra = (
            ""
            if self.notifications_in_dlq is None
            else f", notifications DLQ +{self.notifications_in_dlq}"
        )
        why = ", ".join(f"{s} {n}" for s, n in sorted(self.not_final_statuses.items()))
        return (
            f"accepted {self.accepted}: confirmed {self.confirmed}, rejected {self.rejected}, "
            f"in DLQ {self.in_dlq}, lost {self.lost}{extra}"
            + (f" (not final: {why})" if why else "")
        )


def read_order_ids(path: Path) -> list[str]:
    """Distinct order ids, in first-seen order (an idempotent retry repeats one)."""
    if not path.is_file():
        return []
    seen: dict[str, None] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            seen.setdefault(line.strip(), None)
    return list(seen)


def reconcile(
    order_ids: Iterable[str],
    checker: Checker,
    orders_dlq_new: int | None = None,
    notifications_dlq_new: int | None = None,
) -> Reconciliation:
    """Count how the accepted orders ended. Orders not final are covered by the
    messages the orders DLQ gained during the run (their ids are not matched:
    reading a DLQ would change it); whatever is left is lost."""
    ids = list(dict.fromkeys(order_ids))
    statuses = checker(ids) if ids else {}
    confirmed = sum(1 for i in ids if statuses.get(i) == "CONFIRMED")
    rejected = sum(1 for i in ids if statuses.get(i) == "REJECTED")
    not_final = [i for i in ids if statuses.get(i) not in FINAL_STATUSES]
    in_dlq = min(len(not_final), max(orders_dlq_new or 0, 0))
    return Reconciliation(
        accepted=len(ids),
        confirmed=confirmed,
        rejected=rejected,
        in_dlq=in_dlq,
        lost=len(not_final) - in_dlq,
        not_final=not_final,
        notifications_in_dlq=notifications_dlq_new,
        not_final_statuses=dict(Counter(statuses.get(i, "MISSING") for i in not_final)),
    )


class HttpOrderChecker:
    """GET /orders/{id} until every order is final or `wait_s` has passed."""

    def __init__(
        self, base_url: str, wait_s: float = 60, interval_s: float = 1.0, workers: int = 16
    ):
        self.base_url = base_url.rstrip("/")
        self.wait_s = wait_s
        self.interval_s = interval_s
        self.workers = workers

    def status(self, order_id: str, attempts: int = 3) -> str:
        """The order's status; MISSING on 404; UNKNOWN when it cannot be read
        (transport errors and 5xx are retried a few times first)."""
        url = f"{self.base_url}/orders/{quote(order_id, safe='')}"
        for attempt in range(attempts):
            if attempt:
                time.sleep(0.2 * attempt)
            try:
                with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - http(s)
                    return str(json.loads(resp.read()).get("status", "UNKNOWN"))
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return "MISSING"
                if exc.code < 500:
                    return "UNKNOWN"
            except (OSError, ValueError):
                pass
        return "UNKNOWN"

    def __call__(self, order_ids: Sequence[str]) -> dict[str, str]:
        statuses = dict.fromkeys(order_ids, "UNKNOWN")
        deadline = time.monotonic() + self.wait_s
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            while True:
                todo = [i for i, s in statuses.items() if s not in FINAL_STATUSES]
                for order_id, status in zip(todo, pool.map(self.status, todo), strict=True):
                    statuses[order_id] = status
                if all(s in FINAL_STATUSES for s in statuses.values()):
                    break
                if time.monotonic() + self.interval_s > deadline:
                    break
                time.sleep(self.interval_s)
        return statuses


def dlq_depth(queue_url: str) -> int:
    """Messages in a queue (visible + in flight + delayed), via boto3."""
    import boto3  # dev dependency; honours AWS_ENDPOINT_URL for the emulator

    attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(v) for v in attrs.values())


def dlq_depths(urls: Mapping[str, str | None]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name, url in urls.items():
        if not url:
            continue
        try:
            out[name] = dlq_depth(url)
        except Exception as exc:  # no credentials, no endpoint...: report, go on
            log(f"cannot read {name} ({exc.__class__.__name__}: {exc}); counted as empty")
            out[name] = None
    return out


# --- report ------------------------------------------------------------------


def series_of(report: Mapping[str, Any]) -> dict[str, list]:
    periods = sorted(report.get("intermediate") or [], key=lambda p: int(p["period"]))
    if not periods:
        return {"t": [], "req_per_s": [], "p50": [], "p95": [], "p99": [], "errors": []}
    start = min(p.get("firstMetricAt") or int(p["period"]) for p in periods)
    out: dict[str, list] = {k: [] for k in ("t", "req_per_s", "p50", "p95", "p99", "errors")}
    for p in periods:
        counters = p.get("counters", {})
        latency = p.get("summaries", {}).get("http.response_time") or {}
        width = max((p.get("lastCounterAt", 0) - p.get("firstCounterAt", 0)) / 1000, 1.0)
        rate = (p.get("rates") or {}).get("http.request_rate")
        if rate is None:
            rate = counters.get("http.requests", 0) / width
        out["t"].append(round(((p.get("lastMetricAt") or int(p["period"])) - start) / 1000, 1))
        out["req_per_s"].append(rate)
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
    prefix = "plugins.metrics-by-endpoint.response_time."
    rows = []
    for key, summary in sorted(agg.get("summaries", {}).items()):
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        codes = {
            k.rsplit(".", 1)[-1]: v
            for k, v in agg.get("counters", {}).items()
            if k.startswith(f"plugins.metrics-by-endpoint.{name}.codes.")
        }
        errors = sum(
            v
            for k, v in agg.get("counters", {}).items()
            if k.startswith(f"plugins.metrics-by-endpoint.{name}.errors.")
        )
        rows.append(
            {
                "endpoint": name,
                "count": summary.get("count"),
                "codes": codes,
                "errors": errors,
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


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#222;max-width:70em}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.pass{color:#0a7a2f;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.verdict{font-size:1.2em;padding:.4em .8em;display:inline-block;border:2px solid}
img{display:block;margin:.5em 0;max-width:100%}code{background:#f3f3f3;padding:0 .2em}
"""


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
    verdict = {0: "PASSED", 1: "THRESHOLDS FAILED", 3: "INVALID (saturated)", 4: "ORDERS LOST"}
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Load test {html.escape(run['env'])} {html.escape(run['started'])}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Load test: {html.escape(run['env'])} &mdash; {html.escape(run['started'])}</h1>",
        f"<p class='verdict {'pass' if exit_code == 0 else 'fail'}'>"
        f"{verdict.get(exit_code, f'exit {exit_code}')} (exit {exit_code})</p>",
        f"<p>Target <code>{html.escape(run['target'])}</code>; artillery {ARTILLERY_VERSION}; "
        f"phases <code>{html.escape(json.dumps(run['phases']))}</code>; "
        f"requested {html.escape(str(run.get('requested_rps') or 'n/a'))} req/s</p>",
        "<h2>Thresholds</h2><table><tr><th>check</th><th>limit</th><th>measured</th>"
        "<th>result</th></tr>",
        "<tr><td>p99 response time (ms)</td>"
        + _td(thresholds.limits.p99_ms)
        + _td("n/a" if thresholds.p99_ms is None else thresholds.p99_ms)
        + _verdict(thresholds.p99_ok)
        + "</tr>",
        "<tr><td>error rate (% of virtual users failed)</td>"
        + _td(thresholds.limits.max_error_rate_pct)
        + _td("n/a" if thresholds.error_rate_pct is None else thresholds.error_rate_pct)
        + _verdict(thresholds.errors_ok)
        + "</tr>",
        "<tr><td>artillery exit code (ensure, expect)</td>"
        + _td(0)
        + _td(thresholds.artillery_exit)
        + _verdict(thresholds.artillery_exit == 0)
        + "</tr></table>",
        "<h2>Saturation check</h2><table><tr><th></th><th>plan</th><th>actual</th></tr>",
        "<tr><td>arrival span (s)</td>"
        + _td(saturation.planned_duration_s)
        + _td("n/a" if saturation.actual_duration_s is None else saturation.actual_duration_s)
        + "</tr><tr><td>virtual users created</td>"
        + _td(saturation.planned_vusers)
        + _td(saturation.actual_vusers)
        + "</tr></table>",
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
        parts.append(
            "<table><tr><th>accepted (202)</th><th>confirmed</th><th>rejected</th>"
            "<th>in DLQ</th><th>lost</th></tr><tr>"
            + "".join(
                _td(v)
                for v in (
                    reconciliation.accepted,
                    reconciliation.confirmed,
                    reconciliation.rejected,
                    reconciliation.in_dlq,
                )
            )
            + (
                _td(reconciliation.lost)
                if reconciliation.ok
                else f"<td class='fail'>{reconciliation.lost}</td>"
            )
            + "</tr></table>"
        )
    parts.append("<h2>Totals</h2><table><tr><th>metric</th><th>value</th></tr>")
    totals = {
        "duration of metrics (s)": round(span, 1),
        "requests": counters.get("http.requests", 0),
        "achieved mean req/s": round(counters.get("http.requests", 0) / span, 1),
        "virtual users created": counters.get("vusers.created", 0),
        "virtual users completed": counters.get("vusers.completed", 0),
        "virtual users failed": counters.get("vusers.failed", 0),
    }
    totals.update({k: v for k, v in sorted(counters.items()) if k.startswith("http.codes.")})
    totals.update({k: v for k, v in sorted(counters.items()) if k.startswith("errors.")})
    latency = agg.get("summaries", {}).get("http.response_time") or {}
    totals.update({f"response time {q} (ms)": latency.get(q) for q in ("median", "p95", "p99")})
    parts += [f"<tr><td>{html.escape(k)}</td>{_td(v)}</tr>" for k, v in totals.items()]
    parts.append("</table><h2>Per endpoint</h2><table><tr><th>endpoint</th><th>responses</th>")
    parts.append("<th>codes</th><th>errors</th><th>median ms</th><th>p95 ms</th><th>p99 ms</th>")
    parts.append("<th>max ms</th></tr>")
    for row in endpoint_rows(report):
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(row["codes"].items()))
        parts.append(
            f"<tr><td>{html.escape(row['endpoint'])}</td>"
            + "".join(
                _td(row[k] if k != "codes" else codes)
                for k in ("count", "codes", "errors", "median", "p95", "p99", "max")
            )
            + "</tr>"
        )
    parts.append("</table><h2>Over time</h2>")
    if not charts:
        parts.append("<p>Charts unavailable (see the run log); series in series.json.</p>")
    for chart in charts:
        data = base64.b64encode(chart.read_bytes()).decode()
        parts.append(f"<img alt='{html.escape(chart.stem)}' src='data:image/png;base64,{data}'>")
    parts.append(
        "<p>Files: report.json (artillery), series.json, orders.log, arrivals.log, "
        "artillery.log, result.json.</p></body></html>"
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


def run_artillery(cmd: Sequence[str], run_dir: Path, timeout_s: float) -> tuple[int, bool]:
    """Run artillery, streaming and saving its output; (exit code, timed out)."""
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
    kind: str, env: str, target: str, count: int, region: str, overrides, report: Path
) -> list[str]:
    sub = {"fargate": "run-fargate", "lambda": "run-lambda"}[kind]
    cmd = [str(NODE_BIN), str(ARTILLERY_RUN), sub, "--count", str(count), "--region", region]
    if kind == "lambda":
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
    p.add_argument("--target", help="base URL; default: Terraform output api_endpoint")
    p.add_argument("--p99", type=float, help="p99 limit in ms (default: the profile's)")
    p.add_argument("--max-error-rate", type=float, help="percent of failed virtual users")
    p.add_argument("--reconcile-wait", type=float, default=60.0, help="seconds (default 60)")
    p.add_argument("--no-reconcile", action="store_true", help="skip the reconciliation")
    p.add_argument("--distributed", choices=("fargate", "lambda"))
    p.add_argument("--count", type=int, default=2, help="workers of a distributed run")
    p.add_argument("--region", default=os.environ.get("AWS_REGION", "eu-west-1"))
    p.add_argument("--dry-run", action="store_true", help="print the command and stop")
    p.add_argument("--run-dir", type=Path, help="default: .local/loadtest/<timestamp>")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return _main(args)
    except LoadtestError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _main(args: argparse.Namespace) -> int:
    if args.install_only:
        ensure_installed()
        version, node = installed_versions()
        log(f"artillery {version} on Node {'.'.join(map(str, node))} in {NODE_MODULES}")
        return EXIT_PASS
    if not args.env:
        raise LoadtestError("--env is required")
    config = load_config()
    prof = profile(config, args.env)
    meta = prof.get("loadtest") or {}
    opt_in = meta.get("opt_in_variable")
    if opt_in and os.environ.get(opt_in) != "yes":
        raise LoadtestError(f"{args.env} is opt-in: set {opt_in}=yes to load-test it")
    base = thresholds_of(prof)
    limits = Thresholds(
        base.p99_ms if args.p99 is None else args.p99,
        base.max_error_rate_pct if args.max_error_rate is None else args.max_error_rate,
    )
    phases = steady_phases(prof, args.rate, args.duration)
    plan = plan_of(phases)

    outputs: dict[str, Any] = {}
    if args.target:
        target = args.target
    else:
        outputs = terraform_outputs(args.env)
        target = outputs.get("api_endpoint") or ""
        if not target:
            raise LoadtestError(f"{args.env} has no api_endpoint output; pass --target URL")
    target = target.rstrip("/")
    if not urlsplit(target).scheme.startswith("http"):
        raise LoadtestError(f"target {target!r} is not an http(s) URL")
    if meta.get("loopback_only") and not is_loopback(target):
        raise LoadtestError(f"{args.env} targets loopback only (127.0.0.1/localhost): {target}")

    started = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = (args.run_dir or RUNS_DIR / started).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    report_path = run_dir / "report.json"
    overrides: dict[str, Any] = {"config": {"ensure": {"conditions": limits.conditions()}}}

    sys.path.insert(0, str(LOADTEST_DIR))
    from generate_data import generate

    generate()

    if args.distributed:
        if meta.get("loopback_only"):
            raise LoadtestError(f"a distributed run cannot reach {args.env}'s loopback target")
        overrides["config"]["phases"] = scale_phases(phases, args.count)
        cmd = distributed_command(
            args.distributed, args.env, target, args.count, args.region, overrides, report_path
        )
        print(" ".join(_shell_quote(c) for c in cmd))
        if args.dry_run:
            return EXIT_PASS
        if not aws_credentials_available():
            raise LoadtestError(
                f"artillery run-{args.distributed} needs AWS credentials (none found); "
                "the command above is what would run"
            )
        ensure_installed()
        rc, _ = run_artillery(cmd, run_dir, plan.duration_s * 2 + 1800)
        return EXIT_PASS if rc == 0 else EXIT_THRESHOLDS

    overrides["config"]["phases"] = phases
    cmd = [str(NODE_BIN), str(ARTILLERY_RUN), "run"]
    cmd += artillery_args(args.env, target, overrides, report_path)
    if args.dry_run:
        print(" ".join(_shell_quote(c) for c in cmd))
        return EXIT_PASS
    ensure_installed()

    dlq_urls = {
        "orders DLQ": outputs.get("orders_dlq_url"),
        "notifications DLQ": outputs.get("notifications_dlq_url"),
    }
    dlq_before = dlq_depths(dlq_urls) if not args.no_reconcile else {}

    log(
        f"artillery: {args.env} against {target}, plan {plan.duration_s:g} s, "
        f"{plan.vusers:g} virtual users; run dir {run_dir}"
    )
    timeout_s = plan.duration_s * 1.5 + 120
    rc, timed_out = run_artillery(cmd, run_dir, timeout_s)
    if not report_path.is_file():
        why = f"timed out after {timeout_s:.0f} s" if timed_out else f"exit {rc}"
        print(f"loadtest: INVALID: artillery wrote no report ({why})", file=sys.stderr)
        return EXIT_INVALID
    report = json.loads(report_path.read_text())

    arrivals_file = run_dir / "arrivals.log"
    arrivals = (
        [int(x) for x in arrivals_file.read_text().split()] if arrivals_file.is_file() else None
    )
    saturation = check_saturation(report, plan, arrivals)
    if timed_out:
        saturation.reasons.append(f"artillery was stopped after {timeout_s:.0f} s")
    threshold_result = evaluate_thresholds(report, limits, rc)

    reconciliation = None
    if not args.no_reconcile:
        ids = read_order_ids(run_dir / "orders.log")
        log(f"reconciling {len(ids)} accepted orders (waiting up to {args.reconcile_wait:g} s)")
        dlq_after = dlq_depths(dlq_urls)

        def new(name: str) -> int | None:
            before, after = dlq_before.get(name), dlq_after.get(name)
            return None if before is None or after is None else after - before

        reconciliation = reconcile(
            ids,
            HttpOrderChecker(target, wait_s=args.reconcile_wait),
            orders_dlq_new=new("orders DLQ"),
            notifications_dlq_new=new("notifications DLQ"),
        )

    exit_code = verdict(threshold_result, saturation, reconciliation)

    charts = render_charts({**series_of(report), "title": f"{args.env} {started}"}, run_dir)
    run = {
        "env": args.env,
        "started": started,
        "target": target,
        "phases": phases,
        "requested_rps": args.rate if args.rate is not None else meta.get("target_rps"),
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

    print()
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
            print(f"  not final: {order_id}")
    print(f"summary: {run_dir / 'summary.html'}")
    print(f"exit {exit_code}")
    return exit_code


def _shell_quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


if __name__ == "__main__":
    raise SystemExit(main())
