"""The plan against the run: a run that fell behind is INVALID; each phase's rate is
reported against its own plan. And the verdict over all findings."""

from __future__ import annotations

from tests.tools.loadtest import helpers
from tools.loadtest import plan_kept, profiles, reconcile, thresholds, verdict

PLAN = profiles.Plan(duration_s=60, vusers=600)


def test_saturation_flags_a_report_whose_arrivals_stretched_past_the_plan() -> None:
    result = plan_kept.check_saturation(helpers.steady(60, 10, stretch=1.5), PLAN)
    assert not result.valid
    assert result.source == "report periods"
    assert result.actual_duration_s == 90
    assert "saturated" in result.reasons[0]


def test_saturation_accepts_a_report_that_kept_the_plan() -> None:
    result = plan_kept.check_saturation(helpers.steady(60, 10), PLAN)
    assert result.valid, result.reasons
    assert result.actual_vusers == 600


def test_saturation_flags_a_run_that_created_too_few_users() -> None:
    report = helpers.steady(60, 10)
    report["aggregate"]["counters"]["vusers.created"] = 500  # 17 % short
    result = plan_kept.check_saturation(report, PLAN)
    assert not result.valid
    assert "500 virtual users created of 600" in result.reasons[0]


def test_saturation_uses_arrival_timestamps_when_the_run_wrote_them() -> None:
    report = helpers.steady(3, 5)
    plan = profiles.Plan(3, 15)
    t0 = helpers.T0
    on_time = [t0 + i * 200 for i in range(15)]  # 2.8 s
    late = [t0 + i * 250 for i in range(15)]  # 3.5 s > 3.3 s
    assert plan_kept.check_saturation(report, plan, on_time).valid
    result = plan_kept.check_saturation(report, plan, late)
    assert result.source == "arrivals.log"
    assert not result.valid


def test_a_report_without_created_users_is_invalid() -> None:
    report = helpers.steady(60, 10)
    for p in report["intermediate"]:
        p["counters"]["vusers.created"] = 0
    report["aggregate"]["counters"]["vusers.created"] = 0
    assert not plan_kept.check_saturation(report, PLAN).valid


def test_verdict_prefers_lost_then_unverified_then_invalid_then_thresholds() -> None:
    limits = thresholds.Thresholds(100, 0.1)
    good = thresholds.ThresholdResult(50, 0.0, limits, 0)
    bad = thresholds.ThresholdResult(150, 0.0, limits, 1)
    valid = plan_kept.check_saturation(helpers.steady(60, 10), PLAN)
    invalid = plan_kept.check_saturation(helpers.steady(60, 10, stretch=1.5), PLAN)
    ok = reconcile.Reconciliation(3, 2, 1, 0, 0)
    lost = reconcile.Reconciliation(3, 2, 0, 0, 1, lost_ids=["x"])
    unverified = reconcile.Reconciliation(3, 2, 0, 0, 0, 1, unverified_ids=["y"])
    both = reconcile.Reconciliation(3, 1, 0, 0, 1, 1, ["x"], ["y"])
    assert verdict.verdict(good, valid, ok) == verdict.EXIT_PASS == 0
    assert verdict.verdict(good, valid, None) == 0
    assert verdict.verdict(bad, valid, ok) == verdict.EXIT_THRESHOLDS == 1
    assert verdict.verdict(bad, invalid, ok) == verdict.EXIT_INVALID == 3
    assert verdict.verdict(bad, invalid, unverified) == verdict.EXIT_UNVERIFIED == 5
    assert verdict.verdict(good, valid, unverified) == 5
    assert verdict.verdict(bad, invalid, lost) == verdict.EXIT_LOST == 4
    assert verdict.verdict(good, valid, both) == 4


RAMP_AND_HOLD = [
    {"name": "ramp", "duration": 10, "arrivalRate": 0, "rampTo": 100},
    {"name": "hold", "duration": 20, "arrivalRate": 100},
]


def ramp_then_hold_arrivals(late_hold_users: int = 0) -> list[int]:
    """Arrival timestamps as artillery makes them: its ramp from 0 starts its first user
    about a second late; the hold starts 100 users a second. `late_hold_users` of the hold's
    last users never start (a generator falling behind)."""
    t0 = helpers.T0
    ramp = [t0 + 1000 + int(i * 9000 / 500) for i in range(500)]
    hold = [t0 + 10_000 + i * 10 for i in range(2000 - late_hold_users)]
    if late_hold_users:  # still ends on time: the last user is the plan's last
        hold.append(t0 + 29_990)
    return ramp + hold


def test_each_phase_is_reported_against_its_own_plan() -> None:
    report = helpers.steady(30, 60)  # 120 req/s answered throughout
    rates = plan_kept.phase_rates(report, RAMP_AND_HOLD, 2.0, ramp_then_hold_arrivals())
    ramp, hold = rates
    assert (ramp.planned_rps_start, ramp.planned_rps_end, ramp.planned_rps) == (0, 200, 100)
    assert ramp.plan_label == "0 -> 200 req/s (mean 100)"
    assert hold.plan_label == "200 req/s"
    # anchored at the last arrival, not the late first one: each phase gets its own users
    assert (ramp.users_started, hold.users_started) == (500, 2000)
    assert hold.answered_rps == 120.0  # what the report's periods say for its window
    assert hold.line() == "hold (20 s): 120.0 req/s answered, planned 200 req/s"


def test_a_phase_that_started_too_few_users_makes_the_run_invalid() -> None:
    report = helpers.steady(30, 83)
    arrivals = ramp_then_hold_arrivals(late_hold_users=400)
    rates = plan_kept.phase_rates(report, RAMP_AND_HOLD, 2.0, arrivals)
    result = plan_kept.check_saturation(
        report, profiles.plan_of(RAMP_AND_HOLD), arrivals, phases=rates
    )
    assert not result.valid
    assert result.reasons == [
        "phase 'hold' started 1601 virtual users of 2000 planned (> 10% short)"
    ]


def test_phase_rates_without_arrivals_come_from_the_report_alone() -> None:
    report = helpers.steady(30, 10)
    [steady] = plan_kept.phase_rates(report, [{"duration": 30, "arrivalRate": 10}], 2.0)
    assert steady.name == "phase 1"
    assert steady.users_started is None
    assert steady.answered_rps == steady.sent_rps == 20.0


def test_thresholds_fail_on_p99_error_rate_or_artillery_exit() -> None:
    limits = thresholds.Thresholds(10, 0.1)
    report = helpers.steady(60, 10)  # p99 12 ms in the aggregate
    assert not thresholds.evaluate_thresholds(report, limits, 0).passed
    relaxed = thresholds.Thresholds(12, 0.1)
    assert thresholds.evaluate_thresholds(report, relaxed, 0).passed
    assert not thresholds.evaluate_thresholds(report, relaxed, 1).passed
    failing = helpers.report(report["intermediate"], failed=6)  # 1 % of 600
    result = thresholds.evaluate_thresholds(failing, relaxed, 0)
    assert result.error_rate_pct == 1.0
    assert not result.passed
