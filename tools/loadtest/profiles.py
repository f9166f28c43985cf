"""artillery.yml's environments (profiles): their phases, and what those phases plan."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.loadtest.common import CONFIG_FILE, LoadtestError


def load_config(path: Path = CONFIG_FILE) -> dict[str, Any]:
    import yaml  # PyYAML: a dev dependency (pulled in by moto)

    return yaml.safe_load(path.read_text())


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of dicts; lists and scalars replace (the base config has no lists
    that an environment also sets, so this equals artillery's lodash merge)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def profile(config: Mapping[str, Any], env: str) -> dict[str, Any]:
    """config with environments[env] merged in, as artillery does for -e."""
    base = dict(config["config"])
    environments = base.pop("environments", {}) or {}
    if env not in environments:
        raise LoadtestError(
            f"unknown environment {env!r}; artillery.yml has {sorted(environments)}"
        )
    return _merge(base, environments[env])


@dataclass(frozen=True)
class Plan:
    duration_s: float
    vusers: float


def phase_vusers(phase: Mapping[str, Any]) -> float:
    """Virtual users one phase plans to start."""
    if "pause" in phase:
        return 0.0
    if "arrivalCount" in phase:
        return float(phase["arrivalCount"])
    start = float(phase.get("arrivalRate", 0))
    end = float(phase.get("rampTo", start))
    return (start + end) / 2 * float(phase["duration"])


def phase_duration(phase: Mapping[str, Any]) -> float:
    return float(phase["pause"] if "pause" in phase else phase["duration"])


def plan_of(phases: Sequence[Mapping[str, Any]]) -> Plan:
    """Planned arrival span and virtual users of artillery phases."""
    return Plan(sum(phase_duration(p) for p in phases), sum(phase_vusers(p) for p in phases))


def requests_per_vuser(prof: Mapping[str, Any]) -> float:
    return float((prof.get("loadtest") or {}).get("requests_per_vuser", 1))


def run_phases(
    prof: Mapping[str, Any],
    rate: float | None,
    duration: float | None,
    ramp: float | None = None,
) -> list[dict[str, Any]]:
    """The profile's phases, or phases from the command line: --rate (req/s) held for
    --duration (s), after a ramp from 0 over --ramp seconds when given."""
    phases = [dict(p) for p in prof.get("phases") or []]
    if rate is None and duration is None and not ramp:
        return phases
    per_vuser = requests_per_vuser(prof)
    if rate is not None:
        arrivals = max(1, round(rate / per_vuser))
    else:
        arrivals = max(int(p.get("arrivalRate", 0) or p.get("rampTo", 0)) for p in phases) or 1
    if duration is None:
        duration = plan_of(phases).duration_s
    rps = arrivals * per_vuser  # whole users a second: 1500 req/s is planned as 1500.8
    hold = {
        "name": f"hold {rps:.0f} req/s",
        "duration": max(1, int(duration)),
        "arrivalRate": arrivals,
    }
    if not ramp:
        return [hold]
    ramp_phase = {
        "name": f"ramp to {rps:.0f} req/s",
        "duration": max(1, int(ramp)),
        "arrivalRate": 0,
        "rampTo": arrivals,
    }
    return [ramp_phase, hold]


def warmup_phases(phases: Sequence[Mapping[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """An unjudged ramp from 1 user/s to the run's first rate."""
    first = next((p for p in phases if "duration" in p), {})
    peak = max(1, int(first.get("arrivalRate") or first.get("rampTo") or 1))
    return [{"name": "warm-up", "duration": int(seconds), "arrivalRate": 1, "rampTo": peak}]


def scale_phases(phases: Sequence[Mapping[str, Any]], count: int) -> list[dict[str, Any]]:
    """Per-worker phases of a distributed run: every worker runs the whole script."""
    scaled = []
    for phase in phases:
        p = dict(phase)
        for key in ("arrivalRate", "rampTo", "arrivalCount", "maxVusers"):
            if key in p:
                p[key] = round(float(p[key]) / count, 2)
        scaled.append(p)
    return scaled
