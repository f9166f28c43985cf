"""The traffic a cost is for: API requests per second, hours a day, and what an order takes.

The mix of requests is the load test's model of clients (loadtest/artillery.yml): its scenario
weights and the requests per virtual user it measured. The default rate of an environment is
its load-test profile's target rate; dev has no profile, so its default is an assumption,
and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.loadtest.profiles import load_config, phase_duration, profile, requests_per_vuser

HOURS_PER_MONTH = 730  # AWS's month
MIX_PROFILE = "staging"  # every profile runs the same scenarios; staging is the one defined


@dataclass(frozen=True)
class Mix:
    """API requests per order, by kind (post_new, post_replay, get_order, list_orders)."""

    per_order: dict[str, float]
    source: str

    @property
    def requests_per_order(self) -> float:
        return sum(self.per_order.values())


@dataclass(frozen=True)
class Traffic:
    rps: float
    hours_per_day: float
    source: str

    @property
    def active_seconds(self) -> float:
        """Seconds of traffic in a month."""
        return self.hours_per_day * 3600 * HOURS_PER_MONTH / 24

    @property
    def requests(self) -> float:
        return self.rps * self.active_seconds


# Planning figures, not measurements: replace them with your own forecast. Each environment's
# monthly_budget_usd is `make cost` at its figure plus headroom (docs/cost.md).
PLANNED = {
    "prod": Traffic(
        10.0,
        24.0,
        "planning figure: 10 req/s around the clock, ~10 M orders a month; the prod load test "
        "proves 200 req/s",
    ),
    "dev": Traffic(1.0, 8.0, "planning figure: 1 req/s for 8 working hours"),
}


def _steps(flow: list[Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    found = []
    for step in flow:
        if "loop" in step:
            found += [("poll", inner.get("get", {})) for inner in step["loop"] if "get" in inner]
        for verb in ("get", "post"):
            if verb in step:
                found.append((verb, step[verb]))
    return found


def mix(config: Mapping[str, Any] | None = None) -> Mix:
    """Requests per order from the load test's scenarios: every POST after a scenario's first
    replays its Idempotency-Key; GETs of /customers/ list; the polls of an order until it is
    final make up the rest of the measured requests per virtual user."""
    config = config or load_config()
    scenarios = config["scenarios"]
    weights = sum(float(s.get("weight", 1)) for s in scenarios)
    new = replays = lists = 0.0
    for scenario in scenarios:
        share = float(scenario.get("weight", 1)) / weights
        steps = _steps(scenario["flow"])
        posts = sum(1 for verb, _ in steps if verb == "post")
        new += share * min(posts, 1)
        replays += share * max(posts - 1, 0)
        lists += share * sum(
            1 for verb, step in steps if verb == "get" and "/customers/" in str(step.get("url"))
        )
    if new == 0:
        raise ValueError("loadtest/artillery.yml has no scenario that places an order")
    per_vuser = requests_per_vuser(profile(config, MIX_PROFILE))
    polls = per_vuser - new - replays - lists
    return Mix(
        {
            "post_new": 1.0,
            "post_replay": replays / new,
            "get_order": max(polls, 0.0) / new,
            "list_orders": lists / new,
        },
        f"loadtest/artillery.yml: its scenario weights, {per_vuser:g} requests per virtual user",
    )


def default_traffic(env: str, config: Mapping[str, Any] | None = None) -> Traffic:
    """What `make cost` assumes without RPS/HOURS: a planning figure where an environment
    serves users (PLANNED), its load test once a day where it only runs load tests."""
    if env in PLANNED:
        return PLANNED[env]
    config = config or load_config()
    if env not in config["config"].get("environments", {}):
        raise ValueError(f"no traffic known for {env}: pass RPS= and HOURS=")
    prof = profile(config, env)
    rate = float((prof.get("loadtest") or {}).get("target_rps", 1))
    seconds = sum(phase_duration(p) for p in prof.get("phases", []))
    return Traffic(
        rate,
        seconds / 3600,
        f"{env}'s load test once a day ({rate:g} req/s for {seconds:g} s, loadtest/artillery.yml)",
    )
