"""The summary page and the chart series, from synthetic reports."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from tests.tools.loadtest import helpers
from tools.loadtest import charts, plan_kept, profiles, reconcile, summary, thresholds


def tiny_png(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return path


def outcome(
    limits: thresholds.Thresholds | None = None,
    exit_code: int = 1,
    reconciliation: reconcile.Reconciliation | None = None,
) -> summary.RunOutcome:
    limits = limits or thresholds.Thresholds(10, 0.1)
    report = helpers.steady(30, 10)
    phases = [{"name": "hold 20 req/s", "duration": 30, "arrivalRate": 10}]
    return summary.RunOutcome(
        report=report,
        run={
            "env": "local",
            "started": "20260101T000000Z",
            "target": "http://127.0.0.1:9",
            "phases": phases,
        },
        thresholds=thresholds.evaluate_thresholds(report, limits, 0),
        saturation=plan_kept.check_saturation(report, profiles.plan_of(phases)),
        phases=plan_kept.phase_rates(report, phases, per_vuser=2.0),
        reconciliation=reconciliation
        or reconcile.Reconciliation(10, 7, 2, 0, 1, lost_ids=["x"], source="the API"),
        exit_code=exit_code,
    )


def page(tmp_path: Path, **options) -> str:
    return summary.render_summary(outcome(**options), [tiny_png(tmp_path / "latency.png")])


def test_summary_is_self_contained(tmp_path: Path) -> None:
    html = page(tmp_path)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html
    assert "url(" not in html
    # the only URL on the page is the target it names; images are inline
    assert re.findall(r"https?://[^\s'\"<]+", html) == ["http://127.0.0.1:9"]
    assert re.findall(r"src='([^']{0,22})", html) == ["data:image/png;base64,"]


def test_summary_shows_thresholds_phases_reconciliation_and_endpoints(tmp_path: Path) -> None:
    html = page(tmp_path)  # p99 12 ms over a 10 ms limit
    assert "THRESHOLDS FAILED (exit 1)" in html
    assert re.search(
        r"p99 response time \(ms\)</td><td>10</td><td>12</td><td class=\"fail\">", html
    )
    assert "<td>hold 20 req/s</td><td>30</td><td>20 req/s</td><td>20</td><td>20</td>" in html
    assert "<td class='fail'>1</td><td>0</td>" in html  # one lost order, none unverified
    assert "<td>POST /orders</td><td>300</td><td>202: 300</td>" in html
    passing = page(tmp_path, limits=thresholds.Thresholds(50, 0.1), exit_code=0)
    assert "PASSED (exit 0)" in passing
    assert 'class="fail"' not in passing.split("<h2>Saturation")[0]
    unverified = page(
        tmp_path, exit_code=5, reconciliation=reconcile.Reconciliation(10, 7, 2, 0, 0, 1)
    )
    assert "ORDERS UNVERIFIED (exit 5)" in unverified
    assert "<td>0</td><td class='fail'>1</td>" in unverified


def test_terminal_lines_give_each_phase_against_its_plan_then_the_whole_run() -> None:
    lines = outcome().lines()
    assert lines[0] == "load:       hold 20 req/s (30 s): 20.0 req/s answered, planned 20 req/s"
    assert lines[1].startswith("whole run:  20.0 req/s answered, 20.0 sent on average")
    assert any(line.startswith("reconciliation: accepted 10: ") for line in lines)
    assert "  lost: x" in lines


def test_result_json_carries_phases_with_their_planned_rate() -> None:
    result = outcome().result({"duration_s": 30, "vusers": 300})
    assert result["phases"][0]["planned_rps"] == 20
    assert result["phases"][0]["answered_rps"] == 20
    assert result["reconciliation"]["lost_ids"] == ["x"]
    assert result["run"]["achieved_rps"] == 20


def test_series_follow_the_intermediate_periods() -> None:
    series = charts.series_of(helpers.steady(30, 10))
    assert series["t"] == [10.0, 20.0, 30.0]
    assert series["req_per_s"] == series["sent_per_s"] == [20, 20, 20]
    assert series["p99"] == [20.0, 20.0, 20.0]
    assert series["errors"] == [0, 0, 0]
    empty = charts.series_of({"aggregate": {}, "intermediate": []})
    assert empty["t"] == []
