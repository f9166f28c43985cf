"""make loadtest-compare on two recorded runs.

recorded/ holds the result.json and report.json of two real runs, `make loadtest ENV=local
WARMUP=0` twice in a row on a fresh `make up` (2026-12-02): A met the functions cold (7 cold
starts, p99 3,262 ms), B warm (1 cold start, p99 308 ms).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.tools.loadtest.test_summary import tiny_png
from tools.loadtest import charts, compare

RECORDED = Path(__file__).with_name("recorded")
COLD, WARM = "20261202T155425Z", "20261202T155502Z"
TARGET = "http://127.0.0.1:4624/_aws/execute-api/9fb9880b"


def recorded() -> tuple[compare.Run, compare.Run]:
    return compare.load_run(COLD, RECORDED), compare.load_run(WARM, RECORDED)


def section(title: str, a: compare.Run, b: compare.Run) -> dict[str, tuple]:
    """The rows of one section: measure -> (A, B, B against A)."""
    [found] = [rows for name, rows in compare.rows(a, b) if name == title]
    return {measure: (va, vb, change) for measure, va, vb, change in found}


def test_each_endpoints_percentiles_come_from_both_reports_and_are_set_against_each_other():
    a, b = recorded()
    got = section("Response times per endpoint", a, b)
    prefix = "plugins.metrics-by-endpoint.response_time."
    endpoints = [k[len(prefix) :] for k in a.report["aggregate"]["summaries"] if prefix in k]
    assert len(endpoints) == 4
    for endpoint in endpoints:
        for key, label in (("median", "p50"), ("p95", "p95"), ("p99", "p99")):
            va, vb, _ = got[f"{endpoint} {label} (ms)"]
            assert va == a.report["aggregate"]["summaries"][prefix + endpoint][key]
            assert vb == b.report["aggregate"]["summaries"][prefix + endpoint][key]
    # the cold run's slowest reads waited for new execution environments
    assert got["GET /orders/{order_id} p99 (ms)"] == (3752.7, 144, "-3,608.7 ms (-96%)")
    assert got["all requests p99 (ms)"] == (3262.4, 308, "-2,954.4 ms (-91%)")


def test_cold_starts_errors_rates_and_orders_come_from_each_runs_result():
    a, b = recorded()
    assert section("Cold starts", a, b) == {
        "cold starts: notifier": (1, 0, "-1 (-100%)"),
        "cold starts: order_processor": (0, 1, "+1"),
        "cold starts: orders_api": (6, 0, "-6 (-100%)"),
        "cold starts: all functions": (7, 1, "-6 (-86%)"),
    }
    orders = section("Orders", a, b)
    assert orders["orders confirmed"] == (92, 89, "-3 (-3%)")
    assert orders["orders rejected"] == (0, 0, "+0")
    assert orders["orders lost"] == (0, 0, "+0")
    assert section("Errors", a, b)["error rate (% of virtual users failed)"][:2] == (0.0, 0.0)
    rates = section("Rate per phase", a, b)
    assert rates["phase 1 steady: answered req/s"] == (8.2, 8.0, "-0.2 (-2%)")
    assert rates["whole run: answered req/s"][:2] == (8.0, 8.0)
    runs = section("Runs", a, b)
    assert runs["verdict"][:2] == ("THRESHOLDS FAILED", "THRESHOLDS FAILED")


def test_a_run_that_could_not_count_cold_starts_shows_not_available_not_zero():
    a, b = recorded()
    uncounted = compare.Run(b.name, b.directory, {**b.result, "cold_starts": None}, b.report)
    got = section("Cold starts", a, uncounted)
    assert got["cold starts: all functions"] == (7, None, "")
    lines = compare.terminal(a, uncounted, compare.rows(a, uncounted))
    [line] = [line for line in lines if line.startswith("cold starts: all functions")]
    assert line.split()[-2:] == ["7", "n/a"]


def test_phases_of_different_names_are_named_both_ways():
    a, b = recorded()
    renamed = [{**b.result["phases"][0], "name": "hold 16 req/s"}]
    other = compare.Run(b.name, b.directory, {**b.result, "phases": renamed}, b.report)
    assert "phase 1 steady / hold 16 req/s: answered req/s" in section("Rate per phase", a, other)


def test_the_terminal_table_has_a_and_b_in_columns_and_the_change_beside_them():
    a, b = recorded()
    lines = compare.terminal(a, b, compare.rows(a, b))
    assert re.split(r"\s{2,}", lines[0].strip()) == [
        f"A: local {COLD}",
        f"B: local {WARM}",
        "B against A",
    ]
    [p99] = [line for line in lines if line.startswith("all requests p99 (ms)")]
    assert re.split(r"\s{2,}", p99) == [
        "all requests p99 (ms)",
        "3,262.4",
        "308",
        "-2,954.4 ms (-91%)",
    ]
    assert "-- Cold starts" in lines


def test_the_page_is_self_contained_with_every_chart_inline(tmp_path):
    a, b = recorded()
    charts = [tiny_png(tmp_path / f"compare-{name}.png") for name in ("throughput", "latency")]
    page = compare.page(a, b, compare.rows(a, b), charts)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "url(" not in page
    # the only URLs are the targets the runs name; the charts are data: URIs
    assert set(re.findall(r"https?://[^\s'\"<]+", page)) == {TARGET}
    assert re.findall(r"src='([^']{0,22})", page) == ["data:image/png;base64,"] * 2
    assert "<td>-2,954.4 ms (-91%)</td>" in page


def test_both_runs_are_drawn_on_shared_axes_and_written_with_the_table(tmp_path):
    """Through the chart script (matplotlib in the chart venv), as make loadtest-compare does."""
    a, b = recorded()
    _, path = compare.compare(a, b, tmp_path / "out")
    series = [json.loads((tmp_path / "out" / f"series-{i}.json").read_text()) for i in (0, 1)]
    # each run's own periods, from its own start
    assert series == [
        {**charts.series_of(a.report), "title": "A"},
        {**charts.series_of(b.report), "title": "B"},
    ]
    assert series[0]["p99"] != series[1]["p99"]
    page = path.read_text()
    pngs = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert len(pngs) == 3, "throughput, latency and errors, each with both runs"
    for name in ("compare-throughput.png", "compare-latency.png", "compare-errors.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_last_and_previous_are_the_two_newest_runs(tmp_path):
    for name in (COLD, WARM):
        shutil.copytree(RECORDED / name, tmp_path / name)
    (tmp_path / "compare-x-vs-y").mkdir()  # a comparison's own output is not a run
    assert compare.find_run("last", tmp_path) == tmp_path / WARM
    assert compare.find_run("previous", tmp_path) == tmp_path / COLD
    shutil.rmtree(tmp_path / COLD)
    with pytest.raises(compare.LoadtestError, match="fewer than 2 runs"):
        compare.find_run("previous", tmp_path)


def test_a_directory_that_is_not_a_run_is_refused_saying_what_to_give(tmp_path, capsys):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "result.json").write_text("{}")
    assert compare.main([str(RECORDED / COLD), str(tmp_path / "half")]) == 2
    err = capsys.readouterr().err
    assert "half has no report.json" in err
    assert "give a run directory of make loadtest" in err
