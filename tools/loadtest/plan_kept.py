"""Did the load generator keep its plan, and what rate did each phase reach?

A saturated artillery stretches its phases without a warning: the arrivals take longer than
planned, or fewer virtual users start. Such a run is INVALID: its figures measure the
generator, not the system. Each phase's rate is reported against its own plan, so that a
ramp does not read as a hold that fell short.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.loadtest.profiles import Plan, phase_duration, phase_vusers

SATURATION_TOLERANCE = 0.10
# A phase is judged on its own only from this many planned users (fewer: rounding noise).
MIN_JUDGED_PHASE_VUSERS = 50


@dataclass
class Saturation:
    planned_duration_s: float
    actual_duration_s: float | None
    planned_vusers: float
    actual_vusers: float
    source: str
    reasons: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.reasons


def arrival_span(
    report: Mapping[str, Any], arrivals_ms: Sequence[int] | None
) -> tuple[float | None, str]:
    """(seconds from the first to the last virtual user created, how it was measured)."""
    if arrivals_ms:
        return (max(arrivals_ms) - min(arrivals_ms)) / 1000, "arrivals.log"
    periods = [
        p for p in report.get("intermediate") or [] if p.get("counters", {}).get("vusers.created")
    ]
    if not periods:
        return None, "none"
    # At the granularity of the report's periods (10 s): an upper bound.
    start = min(p["firstCounterAt"] for p in periods)
    end = max(p["lastCounterAt"] for p in periods)
    return (end - start) / 1000, "report periods"


def check_saturation(
    report: Mapping[str, Any],
    plan: Plan,
    arrivals_ms: Sequence[int] | None = None,
    tolerance: float = SATURATION_TOLERANCE,
    phases: Sequence[PhaseRate] = (),
) -> Saturation:
    """The run against its plan: the arrival span, the users created, and each phase's
    users (when the arrivals were logged)."""
    created = float(report["aggregate"]["counters"].get("vusers.created", 0))
    span, source = arrival_span(report, arrivals_ms)
    result = Saturation(plan.duration_s, span, plan.vusers, created, source)
    # report periods are ~10 s wide and include requests made after the last arrival
    slack = 10.0 if source == "report periods" else 0.0
    if span is None:
        result.reasons.append("the report shows no virtual user created")
    elif span > plan.duration_s * (1 + tolerance) + slack:
        result.reasons.append(
            f"arrivals took {span:.1f} s for a {plan.duration_s:g} s plan "
            f"(> {tolerance:.0%} over): the load generator was saturated"
        )
    if created < plan.vusers * (1 - tolerance):
        result.reasons.append(
            f"{created:.0f} virtual users created of {plan.vusers:.0f} planned "
            f"(> {tolerance:.0%} short)"
        )
    for phase in phases:
        if phase.users_started is None or phase.planned_vusers < MIN_JUDGED_PHASE_VUSERS:
            continue
        if phase.users_started < phase.planned_vusers * (1 - tolerance):
            result.reasons.append(
                f"phase {phase.name!r} started {phase.users_started} virtual users of "
                f"{phase.planned_vusers:.0f} planned (> {tolerance:.0%} short)"
            )
    return result


def read_arrivals(path: Path) -> list[int] | None:
    return [int(x) for x in path.read_text().split()] if path.is_file() else None


# --- rates per phase ------------------------------------------------------------------------


@dataclass
class PhaseRate:
    """One phase: planned request rates (start and end; equal unless it ramps) against what
    was measured in its time window."""

    name: str
    duration_s: float
    planned_vusers: float
    planned_rps_start: float
    planned_rps_end: float
    users_started: int | None  # from arrivals.log; None when the run did not log arrivals
    sent_rps: float | None
    answered_rps: float | None

    @property
    def planned_rps(self) -> float:
        """The phase's mean planned rate."""
        return (self.planned_rps_start + self.planned_rps_end) / 2

    @property
    def plan_label(self) -> str:
        if self.planned_rps_start == self.planned_rps_end:
            return f"{self.planned_rps:g} req/s"
        return (
            f"{self.planned_rps_start:g} -> {self.planned_rps_end:g} req/s "
            f"(mean {self.planned_rps:g})"
        )

    def line(self) -> str:
        answered = "n/a" if self.answered_rps is None else f"{self.answered_rps:.1f}"
        return (
            f"{self.name} ({self.duration_s:g} s): {answered} req/s answered, "
            f"planned {self.plan_label}"
        )


def _window_counts(
    periods: Sequence[Mapping[str, Any]], counter: str, start_ms: float, end_ms: float
) -> tuple[float, float]:
    """(count, seconds of data) of a counter inside [start, end): from the report periods that
    lie wholly inside the window; for a window shorter than a period, each period's count is
    spread evenly over its span and prorated by its overlap (rough where the rate changes)."""
    whole = [
        p
        for p in periods
        if start_ms <= p.get("firstCounterAt", 0) < p.get("lastCounterAt", 0) <= end_ms
    ]
    if whole:
        return (
            sum(float((p.get("counters") or {}).get(counter, 0)) for p in whole),
            sum((p["lastCounterAt"] - p["firstCounterAt"]) / 1000 for p in whole),
        )
    count = seconds = 0.0
    for p in periods:
        a, b = float(p.get("firstCounterAt", 0)), float(p.get("lastCounterAt", 0))
        value = float((p.get("counters") or {}).get(counter, 0))
        if b <= a:
            if start_ms <= a < end_ms:
                count += value
            continue
        overlap = min(b, end_ms) - max(a, start_ms)
        if overlap > 0:
            count += value * overlap / (b - a)
            seconds += overlap / 1000
    return count, seconds


def _rate_at(phase: Mapping[str, Any], start: bool) -> float:
    if "pause" in phase:
        return 0.0
    if "arrivalCount" in phase:
        return float(phase["arrivalCount"]) / phase_duration(phase)
    rate = float(phase.get("arrivalRate", 0))
    return rate if start else float(phase.get("rampTo", rate))


def phase_rates(
    report: Mapping[str, Any],
    phases: Sequence[Mapping[str, Any]],
    per_vuser: float,
    arrivals_ms: Sequence[int] | None = None,
) -> list[PhaseRate]:
    """Each phase's planned and measured rates. The phases follow each other from the first
    arrival (or the report's first counter); requests in a window come from the report's
    10 s periods, prorated, so a phase shorter than a period is measured only roughly."""
    periods = list(report.get("intermediate") or [])
    firsts = [float(p["firstCounterAt"]) for p in periods if p.get("firstCounterAt")]
    t0: float | None = min(firsts) if firsts else None
    if arrivals_ms:
        t0 = float(min(arrivals_ms))
        # A ramp from 0 starts its first user late (artillery's rate is ~0 for its first
        # second); a run that ends at a steady rate ends with its last user: anchor there.
        if _rate_at(phases[0], start=True) == 0 < _rate_at(phases[-1], start=False):
            t0 = float(max(arrivals_ms)) - sum(phase_duration(p) for p in phases) * 1000
    out: list[PhaseRate] = []
    start = t0
    for index, phase in enumerate(phases):
        duration = phase_duration(phase)
        begin = _rate_at(phase, start=True) * per_vuser
        end = _rate_at(phase, start=False) * per_vuser
        rate = PhaseRate(
            name=str(phase.get("name") or f"phase {index + 1}"),
            duration_s=duration,
            planned_vusers=phase_vusers(phase),
            planned_rps_start=round(begin, 1),
            planned_rps_end=round(end, 1),
            users_started=None,
            sent_rps=None,
            answered_rps=None,
        )
        if start is not None:
            stop = start + duration * 1000
            last = index == len(phases) - 1
            if arrivals_ms:
                rate.users_started = sum(
                    1 for t in arrivals_ms if start <= t < stop or (last and t == stop)
                )
            answered, seconds = _window_counts(periods, "http.responses", start, stop)
            sent, _ = _window_counts(periods, "http.requests", start, stop)
            if seconds > 0:
                rate.answered_rps = round(answered / seconds, 1)
                rate.sent_rps = round(sent / seconds, 1)
            start = stop
        out.append(rate)
    return out
