"""The saturation check: a run that fell behind its plan is INVALID."""

from __future__ import annotations

from tests.loadtest import helpers
from tools import loadtest

PLAN = loadtest.Plan(duration_s=60, vusers=600)


def test_saturation_flags_a_report_whose_arrivals_stretched_past_the_plan() -> None:
    result = loadtest.check_saturation(helpers.steady(60, 10, stretch=1.5), PLAN)
    assert not result.valid
    assert result.source == "report periods"
    assert result.actual_duration_s == 90
    assert "saturated" in result.reasons[0]


def test_saturation_accepts_a_report_that_kept_the_plan() -> None:
    result = loadtest.check_saturation(helpers.steady(60, 10), PLAN)
    assert result.valid, result.reasons
    assert result.actual_vusers == 600


def test_saturation_flags_a_run_that_created_too_few_users() -> None:
    report = helpers.steady(60, 10)
    report["aggregate"]["counters"]["vusers.created"] = 500  # 17 % short
    result = loadtest.check_saturation(report, PLAN)
    assert not result.valid
    assert "500 virtual users created of 600" in result.reasons[0]


def test_saturation_uses_arrival_timestamps_when_the_run_wrote_them() -> None:
    report = helpers.steady(3, 5)
    plan = loadtest.Plan(3, 15)
    t0 = helpers.T0
    on_time = [t0 + i * 200 for i in range(15)]  # 2.8 s
    late = [t0 + i * 250 for i in range(15)]  # 3.5 s > 3.3 s
    assert loadtest.check_saturation(report, plan, on_time).valid
    result = loadtest.check_saturation(report, plan, late)
    assert result.source == "arrivals.log"
    assert not result.valid


def test_a_report_without_created_users_is_invalid() -> None:
    report = helpers.steady(60, 10)
    for p in report["intermediate"]:
        p["counters"]["vusers.created"] = 0
    report["aggregate"]["counters"]["vusers.created"] = 0
    assert not loadtest.check_saturation(report, PLAN).valid


def test_verdict_prefers_lost_orders_then_invalid_then_thresholds() -> None:
    limits = loadtest.Thresholds(100, 0.1)
    good = loadtest.ThresholdResult(50, 0.0, limits, 0)
    bad = loadtest.ThresholdResult(150, 0.0, limits, 1)
    valid = loadtest.check_saturation(helpers.steady(60, 10), PLAN)
    invalid = loadtest.check_saturation(helpers.steady(60, 10, stretch=1.5), PLAN)
    ok = loadtest.Reconciliation(3, 2, 1, 0, 0, [])
    lost = loadtest.Reconciliation(3, 2, 0, 0, 1, ["x"])
    assert loadtest.verdict(good, valid, ok) == loadtest.EXIT_PASS == 0
    assert loadtest.verdict(good, valid, None) == 0
    assert loadtest.verdict(bad, valid, ok) == loadtest.EXIT_THRESHOLDS == 1
    assert loadtest.verdict(bad, invalid, ok) == loadtest.EXIT_INVALID == 3
    assert loadtest.verdict(bad, invalid, lost) == loadtest.EXIT_LOST == 4


def test_thresholds_fail_on_p99_error_rate_or_artillery_exit() -> None:
    limits = loadtest.Thresholds(10, 0.1)
    report = helpers.steady(60, 10)  # p99 12 ms in the aggregate
    assert not loadtest.evaluate_thresholds(report, limits, 0).passed
    relaxed = loadtest.Thresholds(12, 0.1)
    assert loadtest.evaluate_thresholds(report, relaxed, 0).passed
    assert not loadtest.evaluate_thresholds(report, relaxed, 1).passed
    failing = helpers.report(report["intermediate"], failed=6)  # 1 % of 600
    result = loadtest.evaluate_thresholds(failing, relaxed, 0)
    assert result.error_rate_pct == 1.0
    assert not result.passed
