"""The load test at its real rate: artillery at 1,000 req/s (the staging profile's hold) for a
short hold, against the in-memory stand-in of the API on loopback, judged end to end.

It needs the machine to itself (one artillery process at 1,000 req/s takes about a core), so
it is marked `alone`: `make test` runs it after the parallel suite, never beside it.
"""

from __future__ import annotations

import json

import pytest

from tools.loadtest import cli, verdict

pytestmark = [pytest.mark.e2e, pytest.mark.alone]


def test_a_thousand_requests_a_second_keep_their_plan_and_every_order_reconciles(
    tmp_path, fake_api, capsys
):
    api = fake_api(confirm_after=0.2)
    run_dir = tmp_path / "run"
    code = cli.main(
        ["--env", "staging", "--target", api.url, "--rate", "1000", "--ramp", "10",
         "--duration", "20", "--no-charts", "--run-dir", str(run_dir)]
    )  # fmt: skip
    out = capsys.readouterr().out
    result = json.loads((run_dir / "result.json").read_text())
    assert code == verdict.EXIT_PASS, out[-3000:]

    # the plan was kept: every planned user started, in its own phase
    assert result["saturation"]["valid"], result["saturation"]
    ramp, hold = result["phases"]
    assert (ramp["name"], hold["name"]) == ("ramp to 1000 req/s", "hold 1000 req/s")
    assert ramp["planned_rps_end"] == hold["planned_rps"] == 1000
    assert ramp["users_started"] >= 0.97 * ramp["planned_vusers"]
    assert hold["users_started"] >= 0.97 * hold["planned_vusers"] == 0.97 * 12_500
    assert hold["answered_rps"] >= 950, hold
    # rates per phase on the terminal, the hold against its own plan
    assert "load:       hold 1000 req/s (20 s): " in out
    assert "req/s answered, planned 1000 req/s" in out

    # every order the stand-in accepted was reconciled, none lost or unverified
    rec = result["reconciliation"]
    assert rec["accepted"] == len(api.store) > 5_000
    assert rec["confirmed"] + rec["rejected"] == rec["accepted"]
    assert rec["lost"] == rec["unverified"] == 0
    assert "reconciliation: accepted " in out
