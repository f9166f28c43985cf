"""What the project measures about one order, for the cost model.

- tools/cost/data/measured.json: the AWS calls, DynamoDB capacity units, log bytes, item sizes
  and custom metrics of one order through the real handlers on moto
  (tests/unit/test_calls_per_order.py; `make cost-measure` rewrites it).
- Function durations: the latest `make bench` on this machine (.local/bench/functions.json),
  else the figures published in docs/benchmarks.md (BENCH_PUBLISHED).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
MEASURED_FILE = REPO_ROOT / "tools" / "cost" / "data" / "measured.json"
BENCH_FILE = REPO_ROOT / ".local" / "bench" / "functions.json"

# docs/benchmarks.md, "Functions: cold start and warm overhead", measured 2026-12-01 with
# `python -m tools.bench.functions --runs 9`: warm +SDK p50, ms per invocation of one request
# or a batch of one record, AWS answered at the HTTP layer (botocore serializes, signs and
# parses every call; no network).
BENCH_PUBLISHED = {
    "date": "2026-12-01",
    "warm_sdk_p50_ms": {"orders_api": 2.16, "order_processor": 1.48, "notifier": 2.41},
}


def load() -> dict[str, Any]:
    if not MEASURED_FILE.exists():
        raise FileNotFoundError(
            f"{MEASURED_FILE} is missing: run `make cost-measure` (it measures one order through "
            "the handlers on moto)"
        )
    return json.loads(MEASURED_FILE.read_text())


@dataclass(frozen=True)
class Durations:
    """Warm milliseconds per invocation (one request, or one record of a batch), by function."""

    ms: dict[str, float]
    source: str


def durations(bench_file: Path = BENCH_FILE) -> Durations:
    """The latest `make bench` here, else the published figures."""
    if bench_file.exists():
        rows = json.loads(bench_file.read_text())
        when = datetime.fromtimestamp(bench_file.stat().st_mtime, UTC).date().isoformat()
        return Durations(
            {row["function"]: float(row["warm_sdk_p50_ms"]) for row in rows},
            f"make bench on this machine {when}, warm +SDK p50, no network",
        )
    return Durations(
        dict(BENCH_PUBLISHED["warm_sdk_p50_ms"]),
        f"make bench {BENCH_PUBLISHED['date']}, warm +SDK p50, no network (docs/benchmarks.md)",
    )


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0")
    if "." in text:  # zeros after the point are not significant
        digits = digits.rstrip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def _value_size(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return _number_size(str(Decimal(inner)) if "E" in inner.upper() else inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in inner)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    """Bytes of a DynamoDB item (low-level attribute values) by DynamoDB's documented rules:
    names and strings in UTF-8, a number 1 byte per 2 significant digits + 1, lists and maps 3
    bytes plus 1 per element."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())
