"""Two load runs side by side: make loadtest-compare A=<run> B=<run>.

    python -m tools.loadtest.compare A B [--out DIR] [--no-charts]

A and B are run directories (.local/loadtest/<UTC timestamp>) or their names; `last` is the
newest run and `previous` the one before it. Each needs the result.json and report.json its
run wrote. Printed as a table (A, B, and B against A), and written as one self-contained page
(inline CSS, charts as data: URIs, no scripts) with both runs' charts on shared axes:
per-endpoint p50/p95/p99, the error rate, the rate of every phase, cold starts of each function,
and the orders confirmed, rejected, in a DLQ and lost.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.loadtest.charts import render_overlay, series_of
from tools.loadtest.common import RUNS_DIR, LoadtestError
from tools.loadtest.summary import CSS, _table, endpoint_rows
from tools.loadtest.verdict import VERDICTS

Row = tuple[str, Any, Any, str]  # measure, A, B, B against A


@dataclass(frozen=True)
class Run:
    name: str
    directory: Path
    result: dict[str, Any]
    report: dict[str, Any]

    @property
    def label(self) -> str:
        run = self.result.get("run", {})
        return f"{run.get('env', '?')} {run.get('started', self.name)}"


def _runs_by_age(runs_dir: Path) -> list[Path]:
    return sorted(p.parent for p in runs_dir.glob("*/result.json"))


def find_run(ref: str, runs_dir: Path = RUNS_DIR) -> Path:
    if ref in ("last", "previous"):
        runs = _runs_by_age(runs_dir)
        wanted = 1 if ref == "last" else 2
        if len(runs) < wanted:
            raise LoadtestError(f"fewer than {wanted} runs with a result.json in {runs_dir}")
        return runs[-wanted]
    path = Path(ref)
    return path if path.is_dir() else runs_dir / ref


def load_run(ref: str, runs_dir: Path = RUNS_DIR) -> Run:
    directory = find_run(ref, runs_dir)
    files = {}
    for name in ("result.json", "report.json"):
        path = directory / name
        if not path.is_file():
            raise LoadtestError(
                f"{directory} has no {name}: give a run directory of make loadtest "
                f"(or a name under {runs_dir}, `last` or `previous`)"
            )
        files[name] = json.loads(path.read_text())
    return Run(directory.name, directory, files["result.json"], files["report.json"])


# --- the measures ---------------------------------------------------------------------------


def _change(a: Any, b: Any, unit: str = "") -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return ""
    delta = b - a
    text = f"{delta:+,.1f}{unit}".replace(".0" + unit, unit) if unit else f"{delta:+,g}"
    if a:
        text += f" ({delta / a:+.0%})"
    return text


def _latency_rows(a: Run, b: Run) -> list[Row]:
    ends_a = {row["endpoint"]: row for row in endpoint_rows(a.report)}
    ends_b = {row["endpoint"]: row for row in endpoint_rows(b.report)}
    rows: list[Row] = []
    for endpoint in sorted(set(ends_a) | set(ends_b)):
        for key, label in (("median", "p50"), ("p95", "p95"), ("p99", "p99")):
            va = ends_a.get(endpoint, {}).get(key)
            vb = ends_b.get(endpoint, {}).get(key)
            rows.append((f"{endpoint} {label} (ms)", va, vb, _change(va, vb, " ms")))
    whole_a = a.report["aggregate"].get("summaries", {}).get("http.response_time") or {}
    whole_b = b.report["aggregate"].get("summaries", {}).get("http.response_time") or {}
    for key, label in (("median", "p50"), ("p95", "p95"), ("p99", "p99")):
        va, vb = whole_a.get(key), whole_b.get(key)
        rows.append((f"all requests {label} (ms)", va, vb, _change(va, vb, " ms")))
    return rows


def _errors(run: Run) -> tuple[Any, int]:
    counters = run.report["aggregate"].get("counters", {})
    errors = sum(v for k, v in counters.items() if k.startswith("errors."))
    return run.result.get("thresholds", {}).get("error_rate_pct"), errors


def _phase_rows(a: Run, b: Run) -> list[Row]:
    phases_a, phases_b = a.result.get("phases") or [], b.result.get("phases") or []
    rows: list[Row] = []
    for index in range(max(len(phases_a), len(phases_b))):
        pa = phases_a[index] if index < len(phases_a) else {}
        pb = phases_b[index] if index < len(phases_b) else {}
        names = dict.fromkeys(p["name"] for p in (pa, pb) if p.get("name"))
        va, vb = pa.get("answered_rps"), pb.get("answered_rps")
        rows.append(
            (f"phase {index + 1} {' / '.join(names)}: answered req/s", va, vb, _change(va, vb))
        )
    ra, rb = a.result.get("run", {}), b.result.get("run", {})
    va, vb = ra.get("achieved_rps"), rb.get("achieved_rps")
    rows.append(("whole run: answered req/s", va, vb, _change(va, vb)))
    return rows


def _cold_start_rows(a: Run, b: Run) -> list[Row]:
    ca = (a.result.get("cold_starts") or {}).get("per_function")
    cb = (b.result.get("cold_starts") or {}).get("per_function")
    functions = sorted(set(ca or {}) | set(cb or {}))
    rows: list[Row] = []
    for function in functions:
        va = None if ca is None else ca.get(function, 0)
        vb = None if cb is None else cb.get(function, 0)
        rows.append((f"cold starts: {function}", va, vb, _change(va, vb)))
    ta = None if ca is None else sum(ca.values())
    tb = None if cb is None else sum(cb.values())
    rows.append(("cold starts: all functions", ta, tb, _change(ta, tb)))
    return rows


def _order_rows(a: Run, b: Run) -> list[Row]:
    ra = a.result.get("reconciliation") or {}
    rb = b.result.get("reconciliation") or {}
    return [
        (
            f"orders {key.replace('_', ' ')}",
            ra.get(key),
            rb.get(key),
            _change(ra.get(key), rb.get(key)),
        )
        for key in ("accepted", "confirmed", "rejected", "in_dlq", "lost", "unverified")
    ]


def rows(a: Run, b: Run) -> list[tuple[str, list[Row]]]:
    """The comparison, in sections."""
    ra, rb = a.result.get("run", {}), b.result.get("run", {})
    (rate_a, errors_a), (rate_b, errors_b) = _errors(a), _errors(b)
    return [
        (
            "Runs",
            [
                ("environment", ra.get("env"), rb.get("env"), ""),
                ("started (UTC)", ra.get("started"), rb.get("started"), ""),
                ("target", ra.get("target"), rb.get("target"), ""),
                ("requested req/s", ra.get("requested_rps"), rb.get("requested_rps"), ""),
                (
                    "verdict",
                    VERDICTS.get(a.result.get("exit_code"), "?"),
                    VERDICTS.get(b.result.get("exit_code"), "?"),
                    "",
                ),
            ],
        ),
        ("Response times per endpoint", _latency_rows(a, b)),
        (
            "Errors",
            [
                ("error rate (% of virtual users failed)", rate_a, rate_b, _change(rate_a, rate_b)),
                ("error events", errors_a, errors_b, _change(errors_a, errors_b)),
            ],
        ),
        ("Rate per phase", _phase_rows(a, b)),
        ("Cold starts", _cold_start_rows(a, b)),
        ("Orders", _order_rows(a, b)),
    ]


def _shown(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.1f}".removesuffix(".0")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def terminal(a: Run, b: Run, sections: list[tuple[str, list[Row]]]) -> list[str]:
    table = [("", f"A: {a.label}", f"B: {b.label}", "B against A")]
    for title, section in sections:
        table.append((f"-- {title}", "", "", ""))
        table += [(m, _shown(va), _shown(vb), change) for m, va, vb, change in section]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    return [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in table
    ]


def page(a: Run, b: Run, sections: list[tuple[str, list[Row]]], charts: Sequence[Path]) -> str:
    """A self-contained HTML page: inline CSS, charts as data: URIs, no scripts."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Load runs compared: {html.escape(a.label)} and {html.escape(b.label)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>A: {html.escape(a.label)} &mdash; B: {html.escape(b.label)}</h1>",
        f"<p>A is <code>{html.escape(str(a.directory))}</code>, B is "
        f"<code>{html.escape(str(b.directory))}</code>. Changes are B against A.</p>",
    ]
    for title, section in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(
            _table(
                ["", "A", "B", "B against A"],
                [(m, _shown(va), _shown(vb), change) for m, va, vb, change in section],
            )
        )
    parts.append("<h2>Over time (10 s periods; A and B from their own start)</h2>")
    if not charts:
        parts.append(
            "<p>Charts unavailable (no matplotlib); the tables above hold the figures.</p>"
        )
    for chart in charts:
        data = base64.b64encode(chart.read_bytes()).decode()
        parts.append(f"<img alt='{html.escape(chart.stem)}' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def compare(a: Run, b: Run, out_dir: Path, charts: bool = True) -> tuple[list[str], Path]:
    sections = rows(a, b)
    images: list[Path] = []
    if charts:
        series = [{**series_of(run.report), "title": label} for run, label in ((a, "A"), (b, "B"))]
        images = render_overlay(series, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "compare.html"
    path.write_text(page(a, b, sections, images))
    return terminal(a, b, sections), path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.loadtest.compare",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("a", help="run A: a run directory, its name, `last` or `previous`")
    parser.add_argument("b", help="run B")
    parser.add_argument("--out", type=Path, help="default: .local/loadtest/compare-<A>-vs-<B>")
    parser.add_argument("--no-charts", action="store_true")
    args = parser.parse_args(argv)
    try:
        a, b = load_run(args.a), load_run(args.b)
    except LoadtestError as error:
        print(f"loadtest-compare: {error}", file=sys.stderr)
        return 2
    out_dir = args.out or RUNS_DIR / f"compare-{a.name}-vs-{b.name}"
    lines, path = compare(a, b, out_dir, charts=not args.no_charts)
    print("\n".join(lines))
    print(f"page: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
