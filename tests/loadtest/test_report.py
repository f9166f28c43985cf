"""The summary page and the chart series, from synthetic reports."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from tests.loadtest import helpers
from tools import loadtest


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


def summary(tmp_path: Path, limits: loadtest.Thresholds | None = None, exit_code: int = 1) -> str:
    limits = limits or loadtest.Thresholds(10, 0.1)
    report = helpers.steady(30, 10)
    plan = loadtest.Plan(30, 300)
    return loadtest.render_summary(
        report,
        {
            "env": "local",
            "started": "20260101T000000Z",
            "target": "http://127.0.0.1:9",
            "phases": [{"duration": 30, "arrivalRate": 10}],
        },
        loadtest.evaluate_thresholds(report, limits, 0),
        loadtest.check_saturation(report, plan),
        loadtest.Reconciliation(10, 7, 2, 0, 1, ["x"]),
        [tiny_png(tmp_path / "latency.png")],
        exit_code,
    )


def test_summary_is_self_contained(tmp_path: Path) -> None:
    page = summary(tmp_path)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page
    assert "url(" not in page
    # the only URL on the page is the target it names; images are inline
    assert re.findall(r"https?://[^\s'\"<]+", page) == ["http://127.0.0.1:9"]
    assert re.findall(r"src='([^']{0,22})", page) == ["data:image/png;base64,"]


def test_summary_shows_thresholds_reconciliation_and_endpoints(tmp_path: Path) -> None:
    page = summary(tmp_path)  # p99 12 ms over a 10 ms limit
    assert "THRESHOLDS FAILED (exit 1)" in page
    assert re.search(
        r"p99 response time \(ms\)</td><td>10</td><td>12</td><td class=\"fail\">", page
    )
    assert "<td class='fail'>1</td>" in page  # one lost order
    assert "<td>POST /orders</td><td>300</td><td>202: 300</td>" in page
    passing = summary(tmp_path, loadtest.Thresholds(50, 0.1), exit_code=0)
    assert "PASSED (exit 0)" in passing
    assert 'class="fail"' not in passing.split("<h2>Saturation")[0]


def test_series_follow_the_intermediate_periods() -> None:
    series = loadtest.series_of(helpers.steady(30, 10))
    assert series["t"] == [10.0, 20.0, 30.0]
    assert series["req_per_s"] == series["sent_per_s"] == [20, 20, 20]
    assert series["p99"] == [20.0, 20.0, 20.0]
    assert series["errors"] == [0, 0, 0]
    empty = loadtest.series_of({"aggregate": {}, "intermediate": []})
    assert empty["t"] == []
