"""How many cold starts each function had during a run: the functions' own cold-start metric.

Every function emits powertools' `ColdStart` metric on its first invocation (orders_core.
entrypoint: namespace OrdersPlatform, dimensions function_name and service), as an embedded
metric format record in its log. In AWS, CloudWatch turns those records into the metric, read
here with GetMetricStatistics over the run's window; the local emulator keeps the log but
makes no metric of it, so there the records themselves are counted (FilterLogEvents).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NAMESPACE = "OrdersPlatform"
METRIC = "ColdStart"


@dataclass(frozen=True)
class ColdStarts:
    per_function: dict[str, int]  # service -> cold starts in the window
    source: str

    @property
    def total(self) -> int:
        return sum(self.per_function.values())

    def line(self) -> str:
        each = ", ".join(f"{name} {count}" for name, count in self.per_function.items())
        return f"{self.total} ({each}), from {self.source}"


def from_metric(
    cloudwatch: Any, functions: Mapping[str, str], start_ms: float, end_ms: float
) -> ColdStarts:
    """Sum of the ColdStart metric of each function (service -> function name) in the window,
    in whole minutes around it (the metric's resolution)."""
    start = datetime.fromtimestamp(math.floor(start_ms / 60_000) * 60, UTC)
    end = datetime.fromtimestamp(math.ceil(end_ms / 60_000) * 60, UTC)
    period = max(60, int((end - start).total_seconds()))
    counts = {}
    for service, function in functions.items():
        points = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=METRIC,
            Dimensions=[
                {"Name": "function_name", "Value": function},
                {"Name": "service", "Value": service},
            ],
            StartTime=start,
            EndTime=end,
            Period=period - period % 60,
            Statistics=["Sum"],
        )["Datapoints"]
        counts[service] = round(sum(point["Sum"] for point in points))
    return ColdStarts(counts, f"the {METRIC} metric ({NAMESPACE})")


def from_logs(
    logs: Any, functions: Mapping[str, str], start_ms: float, end_ms: float
) -> ColdStarts:
    """The ColdStart records in each function's log group (/aws/lambda/<name>) in the window."""
    counts = {}
    for service, function in functions.items():
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function}",
            filterPattern=f'"{METRIC}"',
            startTime=int(start_ms),
            endTime=int(end_ms),
        )
        counts[service] = sum(
            1 for page in pages for event in page["events"] if f'"{METRIC}"' in event["message"]
        )
    return ColdStarts(counts, f"the {METRIC} records in the functions' logs")


def count(
    make_client: Callable[[str], Any],
    functions: Mapping[str, str],
    start_ms: float,
    end_ms: float,
    emulated: bool,
) -> ColdStarts:
    if emulated:
        return from_logs(make_client("logs"), functions, start_ms, end_ms)
    return from_metric(make_client("cloudwatch"), functions, start_ms, end_ms)
