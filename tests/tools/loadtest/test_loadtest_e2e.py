"""Short artillery runs: against the real local stack (the shared `local_stack`
fixture), and against an in-memory stand-in of the API for what the real stack
cannot be made to show on demand (lost orders, failed expectations, a saturated
load generator). Every run lasts a few seconds at a few requests per second and
targets 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from http import HTTPStatus
from pathlib import Path

import pytest

from tools.loadtest import cli, common, install, target, verdict

pytestmark = pytest.mark.e2e


def run(tmp_path: Path, where: target.Target, *extra: str) -> tuple[int, dict]:
    run_dir = tmp_path / "run"
    code = cli.main(["--env", "local", "--run-dir", str(run_dir), *extra], target=where)
    result = json.loads((run_dir / "result.json").read_text())
    assert result["exit_code"] == code
    return code, result


# --- the real local stack ------------------------------------------------------------------


@pytest.mark.xdist_group("local_stack")
def test_a_short_local_stack_run_passes_thresholds_and_reconciliation(tmp_path, local_stack):
    stack = target.local_target(local_stack.stack)  # its Terraform outputs
    assert stack.url == local_stack.api_url
    assert set(stack.dlq_urls) == {"orders DLQ", "notifications DLQ"}
    assert stack.table_name == local_stack.platform["table_name"]

    # Latency is the benchmarks' to measure, not a shared 2-core test machine's: the limit
    # here only keeps the verdict judging one (an impossible one fails, below).
    code, result = run(
        tmp_path, stack, "--rate", "8", "--duration", "5", "--warmup", "5",
        "--reconcile-wait", "30", "--p99", "5000",
    )  # fmt: skip

    assert code == verdict.EXIT_PASS, result
    assert result["thresholds"]["passed"]
    assert result["saturation"]["valid"]
    assert result["saturation"]["source"] == "arrivals.log"
    rec = result["reconciliation"]
    assert rec["accepted"] > 0
    assert rec["confirmed"] + rec["rejected"] + rec["in_dlq"] == rec["accepted"]
    assert rec["lost"] == rec["unverified"] == 0
    assert rec["source"].startswith(
        "table orders-local-orders (BatchGetItem)"
    )  # the source of truth
    assert set(rec["dlq_orders"]) == {"orders DLQ", "notifications DLQ"}  # both were read
    assert [p["name"] for p in result["phases"]] == ["hold 8 req/s"]
    # cold starts counted from the functions' logs (the emulator makes no metric of them);
    # the stack is shared, so whether any fell inside this run's window is not known here
    cold = result["cold_starts"]
    assert set(cold["per_function"]) == set(local_stack.platform["function_names"])
    assert cold["source"] == "the ColdStart records in the functions' logs"
    run_dir = tmp_path / "run"
    report = json.loads((run_dir / "report.json").read_text())
    counters = report["aggregate"]["counters"]
    assert counters["vusers.failed"] == 0
    assert counters["plugins.metrics-by-endpoint.POST /orders.codes.202"] > 0
    assert counters["plugins.metrics-by-endpoint.GET /orders/{order_id}.codes.200"] > 0
    assert (run_dir / "warmup" / "report.json").is_file()  # the warm-up ran, apart
    page = (run_dir / "summary.html").read_text()
    assert "PASSED (exit 0)" in page
    assert "<script" not in page.lower()
    for chart in ("throughput.png", "latency.png", "errors.png"):
        assert (run_dir / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("src='data:image/png;base64,") == 3


@pytest.mark.xdist_group("local_stack")
def test_faults_at_load_lose_no_order_and_do_nothing_twice(tmp_path, local_stack):
    # A few seconds of load with every kind of fault, denser than `FAULTS=1` injects them.
    code, result = run(
        tmp_path, target.local_target(local_stack.stack),
        "--rate", "8", "--duration", "8", "--warmup", "5", "--no-charts",
        "--faults", "--fault-seed", "20261202", "--crash-every", "1",
        "--duplicate-share", "0.3", "--poison-share", "0.15", "--unstocked-share", "0.15",
    )  # fmt: skip

    faults, rec = result["faults"], result["reconciliation"]
    checked = faults["audit"]
    killed = Counter(crash["service"] for crash in faults["crashes"] if crash["killed"])
    assert killed["orders_api"] >= 1, faults["crashes"]
    assert killed["order_processor"] + killed["notifier"] >= 1, faults["crashes"]
    assert [d for d in faults["duplicates"] if d["sent"]]
    assert faults["poison"]
    assert faults["unstocked"]
    # what the system made of them
    assert rec["lost"] == rec["unverified"] == 0, rec
    assert checked["taken_twice"] == checked["not_taken"] == {}, checked
    assert checked["units_taken"] > 0
    assert checked["mailed_twice"] == checked["sent_not_mailed"] == [], checked
    assert checked["not_sent_but_mailed"] == [], checked
    assert checked["notification_missing"] == [], checked
    assert checked["poison_in_dlq"] == len(faults["poison"]), checked
    assert checked["poison_stored"] == [], checked
    assert checked["unstocked_rejected"] == len(
        [u for u in faults["unstocked"] if u["status"] == 202]
    )
    # Nothing lost, nothing twice; the thresholds are the measured FAULTS=1 run's to judge (on
    # a quiet machine): beside the suite's other workers, the worker restart that follows a
    # crash may outlast a request's 10 s timeout.
    assert code in (verdict.EXIT_PASS, verdict.EXIT_THRESHOLDS), result["thresholds"]
    run_dir = tmp_path / "run"
    records = [json.loads(line) for line in (run_dir / "faults.jsonl").read_text().splitlines()]
    assert len(records) == sum(
        len(faults[k]) for k in ("crashes", "duplicates", "poison", "unstocked")
    )
    assert "Faults held: <span class='pass'>yes</span>" in (run_dir / "summary.html").read_text()


@pytest.mark.xdist_group("local_stack")
def test_an_impossible_threshold_fails_the_run(tmp_path, local_stack):
    code, result = run(
        tmp_path, target.local_target(local_stack.stack),
        "--rate", "5", "--duration", "2", "--warmup", "0", "--p99", "0",
        "--no-reconcile", "--no-charts",
    )  # fmt: skip
    assert code == verdict.EXIT_THRESHOLDS
    assert result["thresholds"]["p99_ms"] > 0
    # the ensure plugin itself failed the artillery run, not only our re-check
    assert result["thresholds"]["artillery_exit"] == 1
    assert "fail: http.response_time.p99 <= 0" in (tmp_path / "run" / "artillery.log").read_text()


# --- the stand-in: failures on demand --------------------------------------------------------


def fake_run(tmp_path: Path, api, *extra: str) -> tuple[int, dict]:
    base = ["--rate", "8", "--duration", "2", "--warmup", "0", "--no-charts"]
    return run(tmp_path, target.Target(api.url), *base, *extra)


def test_lost_orders_fail_the_run(tmp_path, fake_api):
    api = fake_api(confirm_after=0.1, lose_every=2)
    code, result = fake_run(tmp_path, api, "--reconcile-wait", "2")
    assert code == verdict.EXIT_LOST, result
    rec = result["reconciliation"]
    assert rec["lost"] == len(api.store) // 2 > 0, rec
    assert rec["lost"] == len(rec["lost_ids"])
    assert rec["lost_statuses"] == {"PENDING": rec["lost"]}
    assert rec["unverified"] == 0


def test_orders_that_cannot_be_read_are_unverified_not_lost_and_can_be_reconciled_later(
    tmp_path, fake_api, capsys
):
    # orders settle only after the run: no read-back sees one final, all are left to read
    api = fake_api(confirm_after=3600)
    code, result = fake_run(tmp_path, api, "--no-reconcile")
    assert code == verdict.EXIT_PASS, result
    api.store.confirm_after = 0
    run_dir = str(tmp_path / "run")
    again = ["reconcile", run_dir, "--env", "local", "--target", api.url]
    api.store.read_failure = HTTPStatus.SERVICE_UNAVAILABLE  # nothing can be verified
    assert cli.main([*again, "--reconcile-wait", "1"]) == verdict.EXIT_UNVERIFIED
    out = capsys.readouterr().out
    assert f"lost 0, unverified {len(api.store)}" in out, out
    assert "exit 5 (ORDERS UNVERIFIED)" in out
    api.store.read_failure = None  # the API is back: the same orders reconcile
    assert cli.main(again) == verdict.EXIT_PASS
    assert f"accepted {len(api.store)}: confirmed " in capsys.readouterr().out


def test_failed_expectations_count_as_errors(tmp_path, fake_api):
    api = fake_api()
    # every read-back of an order answers 404: the expect plugin must fail those users
    api.store.read_failure = HTTPStatus.NOT_FOUND
    code, result = fake_run(tmp_path, api, "--no-reconcile")
    assert code == verdict.EXIT_THRESHOLDS
    assert result["thresholds"]["error_rate_pct"] > 0.1


def test_a_saturated_load_generator_makes_the_run_invalid(tmp_path, fake_api, monkeypatch):
    # 400 ms of blocked event loop per virtual user, 5 users/s: the plan needs 2 s of
    # CPU per second, so artillery falls behind and stretches the phase, silently
    monkeypatch.setenv("LOADTEST_STALL_MS", "400")
    api = fake_api()
    code, result = fake_run(tmp_path, api, "--no-reconcile")
    assert code == verdict.EXIT_INVALID, result
    saturation = result["saturation"]
    assert saturation["actual_duration_s"] > 2 * 1.1
    assert "saturated" in saturation["reasons"][0]


def test_prod_is_refused_by_the_runner_and_by_every_virtual_user(tmp_path, fake_api, monkeypatch):
    api = fake_api()
    monkeypatch.delenv(common.PROD_OPT_IN, raising=False)
    assert cli.main(["--env", "prod", "--target", api.url, "--dry-run"]) == 2
    # artillery run directly, bypassing the runner: the processor refuses
    install.ensure_installed()
    report = tmp_path / "prod.json"
    proc = subprocess.run(
        [
            str(install.NODE_BIN),
            str(install.ARTILLERY_RUN),
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
        cwd=common.LOADTEST_DIR,
        env=install.artillery_env(),
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
    code = cli.main(["--env", "local", "--target", "http://192.0.2.10:8080", "--dry-run"])
    assert code == verdict.EXIT_REFUSED
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
    args = ["--env", "staging", "--target", "https://api.invalid", "--distributed", "fargate"]
    args += ["--count", "4", "--region", "eu-west-1", "--run-dir", str(tmp_path / "d")]
    code = cli.main(args)
    out, err = capsys.readouterr()
    assert code == verdict.EXIT_REFUSED
    assert "needs AWS credentials" in err
    assert " run-fargate --count 4 --region eu-west-1 --max-duration " in out
    overrides = json.loads(out.split("--overrides ")[1].split(" -o ")[0].strip("'"))
    assert overrides["config"]["phases"][1]["arrivalRate"] == 156.25  # 625 / 4 workers
    assert not (tmp_path / "d" / "report.json").exists()
    code = cli.main(
        ["--env", "local", "--target", "http://127.0.0.1:1", "--distributed", "lambda", "--dry-run"]
    )
    assert code == verdict.EXIT_REFUSED
