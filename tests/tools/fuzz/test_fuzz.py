"""`make fuzz` (tools/fuzz): schemathesis from the committed OpenAPI document.

A bounded run against the real local stack (the shared `local_stack` fixture) must find no
server error and no answer that contradicts the document; a run against the load test's
stand-in of the API, which keeps to the document loosely, shows that failures are found and
written down with a curl that reproduces each.
"""

from __future__ import annotations

import json

import pytest

from tests.tools.loadtest.fake_orders_api import running
from tools.fuzz import api
from tools.local.stack import SMOKE_CUSTOMER

# make test fuzzes with one seed, so that a red run can be replayed (`make fuzz SEED=...`);
# `make fuzz` picks a new one every time and explores further.
SUITE_SEED = 20261202


@pytest.mark.e2e
@pytest.mark.xdist_group("local_stack")
def test_the_api_answers_a_bounded_fuzz_as_its_document_says(tmp_path, local_stack):
    caller = api.SignedIn(SMOKE_CUSTOMER, local_stack.token(SMOKE_CUSTOMER))
    result = api.run(
        local_stack.api_url, tmp_path / "fuzz", caller, seed=SUITE_SEED, max_examples=40
    )
    assert result.failures == [], result.failures_file.read_text()
    assert result.exit_code == api.EXIT_CLEAN, result.summary
    report = json.loads((tmp_path / "fuzz" / "report.json").read_text())
    assert report["operations"]["tested"] == report["operations"]["total"] == 4
    assert {name for name, phase in report["phases"].items() if phase["status"] == "success"} == {
        "examples",
        "coverage",
        "fuzzing",
        "stateful",
    }
    assert report["test_cases"]["generated"] > 500


def test_each_failure_is_written_with_a_curl_that_reproduces_it(tmp_path):
    with running() as stand_in:  # answers TRACE with 404, has no error bodies...
        url = stand_in.url
        caller = api.SignedIn("cust-000001", "no-token-the-stand-in-checks")
        result = api.run(url, tmp_path / "fuzz", caller, seed=1, max_examples=5, echo=False)
    assert result.exit_code == api.EXIT_FAILURES
    assert result.failures
    written = result.failures_file.read_text()
    assert written.startswith(f"{len(result.failures)} failure(s); schemathesis seed 1")
    for failure in result.failures:
        assert "curl -X " in failure.report
        assert url in failure.report
        assert f"=== {failure.operation}\n{failure.report}" in written
    # the curls carry the caller's bearer token: only this user may read them
    assert (tmp_path / "fuzz").stat().st_mode & 0o077 == 0


def test_a_target_off_this_machine_is_refused(capsys):
    argv = ["--url", "http://192.0.2.10:8080", "--customer", "cust-000001", "--token", "t"]
    assert api.main(argv) == api.EXIT_REFUSED
    assert "loopback only" in capsys.readouterr().err


def test_a_url_without_a_signed_in_customer_is_refused_with_how_to_get_a_token(capsys):
    assert api.main(["--url", "http://127.0.0.1:8080"]) == api.EXIT_REFUSED
    assert "make -s token" in capsys.readouterr().err


def test_without_a_local_stack_it_says_to_run_make_up(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMULATOR_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("EMULATOR_PORT", "1")
    assert api.main([]) == api.EXIT_REFUSED
    assert "make up" in capsys.readouterr().err
