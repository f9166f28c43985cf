"""Charts of a run (PNG, offline): the series per report period, rendered by chart_script.py
with matplotlib, from this venv or a small one of its own made on demand."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tools.loadtest.common import LOADTEST_DIR, REPO_ROOT, RUNS_DIR, log

CHART_VENV = REPO_ROOT / ".local" / "venvs" / "loadtest"
CHART_REQUIREMENTS = LOADTEST_DIR / "requirements-charts.txt"
CHART_SCRIPT = Path(__file__).with_name("chart_script.py")


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
    return _chart_script([str(run_dir / "series.json"), str(run_dir)], run_dir)


def render_overlay(runs: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    """The runs' series on shared axes (make loadtest-compare)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for index, series in enumerate(runs):
        path = out_dir / f"series-{index}.json"
        path.write_text(json.dumps(series))
        files.append(str(path))
    return _chart_script(["--overlay", *files, str(out_dir)], out_dir)


def _chart_script(args: Sequence[str], out_dir: Path) -> list[Path]:
    python = chart_python()
    if python is None:
        return []
    proc = subprocess.run(
        [str(python), str(CHART_SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        log(f"chart rendering failed: {proc.stderr.strip()[-500:]}")
        return []
    return [out_dir / name for name in proc.stdout.split()]
