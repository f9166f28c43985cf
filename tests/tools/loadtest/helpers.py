"""Synthetic artillery reports for tests that must not run artillery."""

from __future__ import annotations

from typing import Any

T0 = 1_800_000_000_000  # ms


def period(start_s: float, width_s: float, created: int, requests: int, p99: float) -> dict:
    first = T0 + int(start_s * 1000)
    last = first + int(width_s * 1000)
    return {
        "period": str(T0 + int(start_s // 10 * 10_000)),
        "firstCounterAt": first,
        "lastCounterAt": last,
        "firstMetricAt": first,
        "lastMetricAt": last,
        "counters": {
            "vusers.created": created,
            "vusers.completed": created,
            "http.requests": requests,
            "http.responses": requests,
        },
        "rates": {"http.request_rate": round(requests / width_s)},
        "summaries": {
            "http.response_time": {"median": p99 / 4, "p95": p99 / 2, "p99": p99, "count": requests}
        },
    }


def report(periods: list[dict[str, Any]], failed: int = 0) -> dict[str, Any]:
    created = sum(p["counters"]["vusers.created"] for p in periods)
    requests = sum(p["counters"]["http.requests"] for p in periods)
    counters: dict[str, Any] = {
        "vusers.created": created,
        "vusers.completed": created - failed,
        "vusers.failed": failed,
        "http.requests": requests,
        "http.responses": requests,
        "http.codes.200": requests,
        "plugins.metrics-by-endpoint.POST /orders.codes.202": requests // 2,
    }
    if failed:
        counters["errors.ECONNREFUSED"] = failed
    return {
        "aggregate": {
            "period": T0,
            "firstMetricAt": min(p["firstMetricAt"] for p in periods),
            "lastMetricAt": max(p["lastMetricAt"] for p in periods),
            "firstCounterAt": min(p["firstCounterAt"] for p in periods),
            "lastCounterAt": max(p["lastCounterAt"] for p in periods),
            "counters": counters,
            "rates": {},
            "summaries": {
                "http.response_time": {"median": 3, "p95": 8, "p99": 12, "count": requests},
                "plugins.metrics-by-endpoint.response_time.POST /orders": {
                    "median": 4,
                    "p95": 9,
                    "p99": 14,
                    "max": 20,
                    "count": requests // 2,
                },
            },
        },
        "intermediate": periods,
    }


def steady(duration_s: int, rate: int, stretch: float = 1.0) -> dict[str, Any]:
    """A report of `rate` users/s planned for `duration_s`, the arrivals spread
    over duration_s * stretch seconds (a saturated generator stretches them)."""
    span = duration_s * stretch
    total = duration_s * rate
    n = max(1, round(span / 10 + 0.4999))
    width = span / n
    per = [total // n + (1 if i < total % n else 0) for i in range(n)]
    return report([period(i * width, width, c, 2 * c, 20.0) for i, c in enumerate(per)])
