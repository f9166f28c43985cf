"""Render the load-test charts (PNG) from a series file written by tools.loadtest.

    python tools/loadtest/chart_script.py <series.json> <out-dir>
    python tools/loadtest/chart_script.py --overlay <a.json> <b.json> <out-dir>

Standalone on purpose: it needs only matplotlib (Agg backend, no network, no
fonts beyond matplotlib's bundled ones), so tools.loadtest can run it with the
interpreter of the small chart venv (.local/venvs/loadtest) when the project's
own venv has no matplotlib. Writes throughput.png, latency.png and errors.png
and prints their names; with --overlay, the runs' series on shared axes
(compare-throughput.png, compare-latency.png, compare-errors.png).

series.json: {"t": [seconds since start], "req_per_s": [...] (answered),
"sent_per_s": [...], "p50": [...],
"p95": [...], "p99": [...], "errors": [...], "title": "..."}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend is chosen above

CHARTS = {
    "throughput.png": (
        "Request rate",
        "req/s",
        (("req_per_s", "answered"), ("sent_per_s", "sent")),
    ),
    "latency.png": (
        "Response time",
        "ms",
        (("p50", "p50"), ("p95", "p95"), ("p99", "p99")),
    ),
    "errors.png": ("Errors (error events per period)", "count", (("errors", "errors"),)),
}


def render(series: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    t = series["t"]
    written = []
    for name, (title, unit, lines) in CHARTS.items():
        fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
        for key, label in lines:
            values = series.get(key) or []
            xs = [x for x, v in zip(t, values, strict=False) if v is not None]
            ys = [v for v in values if v is not None]
            ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.5, label=label)
        ax.set_title(f"{title} - {series.get('title', '')}".rstrip(" -"), fontsize=10)
        ax.set_xlabel("seconds since start")
        if len(lines) > 1:
            ax.legend(fontsize=8)
        written.append(_save(fig, ax, unit, out / name))
    return written


def _save(fig, ax, unit: str, path: Path) -> Path:
    """Axes from zero, a light grid, then the PNG."""
    ax.set_ylabel(unit)
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.grid(visible=True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# Two runs on one chart (make loadtest-compare): (file, title, unit, (series key, label)...)
OVERLAYS = (
    ("compare-throughput.png", "Answered request rate", "req/s", (("req_per_s", "answered"),)),
    ("compare-latency.png", "Response time", "ms", (("p50", "p50"), ("p99", "p99"))),
    ("compare-errors.png", "Errors per period", "count", (("errors", "errors"),)),
)


def render_overlay(runs: list[dict], out: Path) -> list[Path]:
    """Each run's series on the same axes, one colour per run, time from each run's start."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, title, unit, lines in OVERLAYS:
        fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
        for index, series in enumerate(runs):
            colour = f"C{index}"
            for (key, label), style in zip(lines, ("-", "--"), strict=False):
                values = series.get(key) or []
                xs = [x for x, v in zip(series["t"], values, strict=False) if v is not None]
                ys = [v for v in values if v is not None]
                ax.plot(xs, ys, style, color=colour, marker="o", markersize=3, linewidth=1.5,
                        label=f"{series.get('title', index)} {label}")  # fmt: skip
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("seconds since the run's start")
        ax.legend(fontsize=7)
        written.append(_save(fig, ax, unit, out / name))
    return written


def main(argv: list[str]) -> int:
    if len(argv) >= 4 and argv[0] == "--overlay":
        runs = [json.loads(Path(arg).read_text()) for arg in argv[1:-1]]
        for path in render_overlay(runs, Path(argv[-1])):
            print(path.name)
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    series = json.loads(Path(argv[0]).read_text())
    for path in render(series, Path(argv[1])):
        print(path.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
