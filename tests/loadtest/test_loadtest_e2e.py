"""Short artillery runs against the in-memory stand-in of the orders API.

The real local stack replaces the stand-in through --target once it exists.
Each run is a few seconds at a few requests per second, on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tools import loadtest

pytestmark = pytest.mark.e2e


def run(tmp_path: Path, api, *extra: str) -> tuple[int, dict]:
    run_dir = tmp_path / "run"
    code = loadtest.main(
        [
            "--env",
            "local",
            "--rate",
            "5",
            "--duration",
            "3",
            "--target",
            api.url,
            "--run-dir",
            str(run_dir),
            "--reconcile-wait",
            "10",
            *extra,
        ]
    )
    result = json.loads((run_dir / "result.json").read_text())
    assert result["exit_code"] == code
    return code, result


def test_short_local_run_passes_thresholds_saturation_and_reconciliation(tmp_path, fake_api):
    api = fake_api(confirm_after=0.2)
    code, result = run(tmp_path, api)
    assert code == 0, result
    assert result["thresholds"]["passed"]
    assert result["saturation"]["valid"]
    assert result["saturation"]["source"] == "arrivals.log"
    rec = result["reconciliation"]
    # every order the API created was captured from a 202 and came out final
    assert rec["accepted"] == len(api.store) > 0
    assert rec["confirmed"] + rec["rejected"] == rec["accepted"]
    assert rec["lost"] == 0
    run_dir = tmp_path / "run"
    report = json.loads((run_dir / "report.json").read_text())
    counters = report["aggregate"]["counters"]
    assert counters["vusers.failed"] == 0
    assert counters["plugins.metrics-by-endpoint.POST /orders.codes.202"] > 0
    page = (run_dir / "summary.html").read_text()
    assert "PASSED (exit 0)" in page
    for chart in ("throughput.png", "latency.png", "errors.png"):
        assert (run_dir / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("src='data:image/png;base64,") == 3


def test_impossible_threshold_exits_non_zero(tmp_path, fake_api):
    api = fake_api(response_delay=0.005)  # every response takes >= 5 ms
    code, result = run(tmp_path, api, "--p99", "0")
    assert code == loadtest.EXIT_THRESHOLDS
    assert result["thresholds"]["p99_ms"] >= 5
    # the ensure plugin itself failed the artillery run, not only our re-check
    assert result["thresholds"]["artillery_exit"] == 1
    assert "fail: http.response_time.p99 <= 0" in (tmp_path / "run" / "artillery.log").read_text()


def test_failed_expectations_count_as_errors(tmp_path, fake_api):
    api = fake_api()
    # answer 404 to every GET: the expect plugin must fail those virtual users
    api.RequestHandlerClass = type(
        "NotFound", (api.RequestHandlerClass,), {"do_GET": lambda self: self._send(404, {})}
    )
    code, result = run(tmp_path, api, "--no-reconcile")
    assert code == loadtest.EXIT_THRESHOLDS
    assert result["thresholds"]["error_rate_pct"] > 0.1


def test_lost_orders_fail_the_run(tmp_path, fake_api):
    api = fake_api(confirm_after=0.1, lose_every=2)
    code, result = run(tmp_path, api, "--rate", "10", "--reconcile-wait", "2")
    assert code == loadtest.EXIT_LOST, result
    rec = result["reconciliation"]
    assert rec["lost"] == len(api.store) // 2 > 0, rec
    assert rec["lost"] == len(rec["not_final"])
    assert rec["not_final_statuses"] == {"PENDING": rec["lost"]}


def test_prod_is_refused_by_the_runner_and_by_every_virtual_user(tmp_path, fake_api, monkeypatch):
    api = fake_api()
    monkeypatch.delenv(loadtest.PROD_OPT_IN, raising=False)
    assert loadtest.main(["--env", "prod", "--target", api.url, "--dry-run"]) == 2
    # artillery run directly, bypassing the runner: the processor refuses
    loadtest.ensure_installed()
    report = tmp_path / "prod.json"
    proc = subprocess.run(
        [
            str(loadtest.NODE_BIN),
            str(loadtest.ARTILLERY_RUN),
            "run",
            "-q",
            "-e",
            "prod",
            "-t",
            api.url,
            "--overrides",
            json.dumps({"config": {"phases": [{"duration": 1, "arrivalRate": 3}]}}),
            "-o",
            str(report),
            "artillery.yml",
        ],
        cwd=loadtest.LOADTEST_DIR,
        env={**loadtest.artillery_env(), "LOADTEST_RUN_DIR": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    counters = json.loads(report.read_text())["aggregate"]["counters"]
    assert counters["vusers.created"] == counters["vusers.failed"] == 3
    assert "http.requests" not in counters
    assert len(api.store) == 0
    assert proc.returncode != 0


def test_local_refuses_a_target_off_this_machine(capsys):
    code = loadtest.main(["--env", "local", "--target", "http://192.0.2.10:8080", "--dry-run"])
    assert code == loadtest.EXIT_REFUSED
    assert "loopback only" in capsys.readouterr().err


def test_distributed_run_prints_the_command_and_refuses_without_aws_credentials(
    tmp_path, monkeypatch, capsys
):
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = loadtest.main(
        [
            "--env",
            "staging",
            "--target",
            "https://api.invalid",
            "--distributed",
            "fargate",
            "--count",
            "4",
            "--region",
            "eu-west-1",
            "--run-dir",
            str(tmp_path / "d"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == loadtest.EXIT_REFUSED
    assert "needs AWS credentials" in err
    assert " run-fargate --count 4 --region eu-west-1 " in out
    overrides = json.loads(out.split("--overrides ")[1].split(" -o ")[0].strip("'"))
    assert overrides["config"]["phases"][1]["arrivalRate"] == 125  # 500 / 4 workers
    assert not (tmp_path / "d" / "report.json").exists()
    code = loadtest.main(
        ["--env", "local", "--target", "http://127.0.0.1:1", "--distributed", "lambda", "--dry-run"]
    )
    assert code == loadtest.EXIT_REFUSED
