"""What a run leaves: the offline summary.html (inline CSS and charts, no scripts: artillery's
own HTML report loads scripts from the internet)."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tools.loadtest.coldstarts import ColdStarts
from tools.loadtest.fault_audit import FaultAudit
from tools.loadtest.faults import FaultLog
from tools.loadtest.install import ARTILLERY_VERSION
from tools.loadtest.plan_kept import PhaseRate, Saturation
from tools.loadtest.reconcile import Reconciliation
from tools.loadtest.thresholds import ThresholdResult
from tools.loadtest.verdict import VERDICTS


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


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


@dataclass
class RunOutcome:
    """Everything a run is judged on, and its verdict."""

    report: Mapping[str, Any]  # artillery's JSON report
    run: Mapping[str, Any]  # env, started, target, phases, warmup_s, requested_rps
    thresholds: ThresholdResult
    saturation: Saturation
    phases: Sequence[PhaseRate]
    reconciliation: Reconciliation | None
    exit_code: int
    faults: FaultLog | None = None  # what was injected (--faults)
    fault_audit: FaultAudit | None = None  # what the system made of it
    cold_starts: ColdStarts | None = None  # the functions' cold starts during the run

    def whole_run_rps(self) -> tuple[float, float]:
        """(answered, sent) req/s averaged over the whole run, ramps included."""
        agg = self.report["aggregate"]
        counters = agg.get("counters", {})
        span = max((agg.get("lastMetricAt", 0) - agg.get("firstMetricAt", 0)) / 1000, 1e-9)
        return (
            round(counters.get("http.responses", 0) / span, 1),
            round(counters.get("http.requests", 0) / span, 1),
        )

    def result(self, plan: Mapping[str, Any]) -> dict[str, Any]:
        """result.json."""
        answered, sent = self.whole_run_rps()
        return {
            "exit_code": self.exit_code,
            "run": {**self.run, "achieved_rps": answered, "sent_rps": sent},
            "plan": dict(plan),
            "phases": [{**asdict(p), "planned_rps": p.planned_rps} for p in self.phases],
            "thresholds": {
                **asdict(self.thresholds.limits),
                "p99_ms": self.thresholds.p99_ms,
                "error_rate_pct": self.thresholds.error_rate_pct,
                "artillery_exit": self.thresholds.artillery_exit,
                "passed": self.thresholds.passed,
            },
            "saturation": {**asdict(self.saturation), "valid": self.saturation.valid},
            "reconciliation": None if self.reconciliation is None else asdict(self.reconciliation),
            "faults": None
            if self.faults is None
            else {
                **self.faults.as_dict(),
                "audit": None if self.fault_audit is None else asdict(self.fault_audit),
                "api_5xx": self.api_5xx(),
            },
            "cold_starts": None if self.cold_starts is None else asdict(self.cold_starts),
        }

    def api_5xx(self) -> int:
        """Answers of 500 and above: what clients saw of the API crashes."""
        counters = self.report["aggregate"].get("counters", {})
        return sum(n for k, n in counters.items() if k.startswith("http.codes.") and k[-3] == "5")

    def lines(self) -> list[str]:
        """The run in a few terminal lines."""
        latency = self.report["aggregate"].get("summaries", {}).get("http.response_time") or {}
        answered, sent = self.whole_run_rps()
        out = [f"load:       {phase.line()}" for phase in self.phases]
        out.append(
            f"whole run:  {answered} req/s answered, {sent} sent on average (ramps included), "
            f"p50/p95/p99 {latency.get('median')}/{latency.get('p95')}/{latency.get('p99')} ms"
        )
        t, limits = self.thresholds, self.thresholds.limits
        p99_limit = f"limit {limits.p99_ms:g}" if t.p99_judged else "not judged under faults"
        allowance = (
            f", {t.judged_error_rate_pct} % beyond one failed user per API crash"
            if t.crash_allowance
            else ""
        )
        out.append(
            f"thresholds: p99 {t.p99_ms} ms ({p99_limit}), "
            f"errors {_pct(t.error_rate_pct)} %{allowance} (limit {limits.max_error_rate_pct:g}), "
            f"artillery exit {t.artillery_exit}: {'pass' if t.passed else 'FAIL'}"
        )
        s = self.saturation
        out.append(
            f"saturation: arrivals {s.actual_duration_s} s of {s.planned_duration_s:g} s planned, "
            f"{s.actual_vusers:g}/{s.planned_vusers:g} users: "
            + ("valid" if s.valid else "INVALID - " + "; ".join(s.reasons))
        )
        if (rec := self.reconciliation) is not None:
            out.append(
                f"reconciliation: {rec.line()}; read from {rec.source or 'nothing'} "
                f"in {rec.seconds:g} s"
            )
            out += [f"  lost: {order_id}" for order_id in rec.lost_ids[:10]]
            out += [f"  unverified: {order_id}" for order_id in rec.unverified_ids[:10]]
        if self.faults is not None:
            out.append(
                f"faults:     seed {self.faults.plan.seed}: {self.faults.line()}; the API "
                f"answered {self.api_5xx()} requests with a 5xx"
            )
        if self.fault_audit is not None:
            out += self.fault_audit.lines()
            checked = self.fault_audit
            held = "NO" if not checked.ok else "not verified" if checked.unverified else "yes"
            out.append(f"faults held: {held} (read in {checked.seconds:g} s)")
        if self.cold_starts is not None:
            out.append(f"cold starts: {self.cold_starts.line()}")
        return out


def render_summary(outcome: RunOutcome, charts: Sequence[Path]) -> str:
    """A self-contained HTML page: inline CSS, charts as data: URIs, no scripts."""
    report, run, exit_code = outcome.report, outcome.run, outcome.exit_code
    thresholds, saturation = outcome.thresholds, outcome.saturation
    reconciliation = outcome.reconciliation
    agg = report["aggregate"]
    counters = agg.get("counters", {})
    span = max((agg.get("lastMetricAt", 0) - agg.get("firstMetricAt", 0)) / 1000, 1e-9)
    answered, _ = outcome.whole_run_rps()
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
                    _verdict(thresholds.artillery_ok),
                ],
            ],
        ),
        "<h2>Rate per phase</h2>",
        _table(
            ["phase", "seconds", "planned req/s", "sent req/s", "answered req/s", "users started"],
            [
                [
                    p.name,
                    p.duration_s,
                    p.plan_label,
                    na if p.sent_rps is None else p.sent_rps,
                    na if p.answered_rps is None else p.answered_rps,
                    f"{na if p.users_started is None else p.users_started} of "
                    f"{p.planned_vusers:.0f}",
                ]
                for p in outcome.phases
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
        lost = f"<td class='fail'>{rec.lost}</td>" if rec.lost else _td(0)
        unverified = f"<td class='fail'>{rec.unverified}</td>" if rec.unverified else _td(0)
        parts.append(
            _table(
                ["accepted (202)", "confirmed", "rejected", "in DLQ", "lost", "unverified"],
                [[rec.accepted, rec.confirmed, rec.rejected, rec.in_dlq, lost, unverified]],
            )
        )
        parts.append(
            f"<p>Statuses read from {html.escape(rec.source or 'nothing')} in {rec.seconds:g} s. "
            "Lost: read and found still PENDING, or not found. Unverified: could not be "
            "read.</p>"
        )
        if rec.dlq_orders:
            dlqs = ", ".join(f"{k}: {v}" for k, v in sorted(rec.dlq_orders.items()))
            parts.append(f"<p>Orders of this run in dead-letter queues: {html.escape(dlqs)}</p>")
    parts += _faults_html(outcome)
    if outcome.cold_starts is not None:
        parts.append(f"<p>Cold starts: {html.escape(outcome.cold_starts.line())}.</p>")
    totals: dict[str, Any] = {
        "duration of metrics (s)": round(span, 1),
        "requests": counters.get("http.requests", 0),
        "responses": counters.get("http.responses", 0),
        "mean req/s answered over the whole run": answered,
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


def _faults_html(outcome: RunOutcome) -> list[str]:
    faults, checked = outcome.faults, outcome.fault_audit
    if faults is None:
        return []
    killed = faults.killed()
    poison = unstocked = "not audited"
    if checked is not None:
        poison = f"{checked.poison_in_dlq} in the orders DLQ, {len(checked.poison_stored)} stored"
        unstocked = (
            f"{len(faults.unstocked_accepted)} accepted, {checked.unstocked_rejected} of them "
            "REJECTED"
        )
    rows = [
        [
            "worker crashes: " + ", ".join(f"{k} {v}" for k, v in sorted(killed.items())),
            sum(killed.values()),
            f"the API answered {outcome.api_5xx()} of the load's requests with a 5xx; every "
            "crashed batch was redelivered (no order lost: reconciliation)",
        ],
        [
            "duplicate deliveries",
            sum(1 for d in faults.duplicates if d.get("sent")),
            "stock and mail below",
        ],
        ["poison messages", len(faults.poison), poison],
        ["orders for unstocked SKUs", len(faults.unstocked), unstocked],
    ]
    parts = [
        "<h2>Faults</h2>",
        f"<p>{html.escape(faults.plan.describe())}. Replay: <code>make loadtest ENV=local "
        f"FAULTS=1 FAULT_SEED={faults.plan.seed}</code>.</p>",
        _table(["injected", "count", "what the system did"], rows),
    ]
    if checked is not None:
        held = "<span class='pass'>yes</span>"
        if not checked.ok or checked.unverified:
            held = "<span class='fail'>" + ("NO" if not checked.ok else "not verified") + "</span>"
        parts.append("<p>" + "<br>".join(html.escape(line) for line in checked.lines()) + "</p>")
        parts.append(f"<p>Faults held: {held}</p>")
    return parts
