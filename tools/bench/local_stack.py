"""Benchmark `make up`: from nothing, again when up, and an order's round trip to CONFIRMED.

    python -m tools.bench.local_stack [--orders 20]

"From nothing" is a new emulator on a free port with an empty Terraform data directory and no
build output (the build's pip download cache and dependency install cache stay warm, as on a
developer machine after the first day; `make bench-build` times a build with cold caches).
"Warm" runs `up` again on the running stack. "Code change" runs `up` on a copy of the sources
whose API handler changed: one zip rebuilt, one version published and the alias moved by
Terraform (what an apply costs the local stack per changed function; AWS environments then
shift traffic with CodeDeploy). The round trip is POST /orders until GET shows
CONFIRMED, for --orders orders one after another. Everything happens in .local/bench-up/.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time

from tools.local.ministack import free_port
from tools.local.stack import (
    REPO_ROOT,
    SMOKE_CUSTOMER,
    SMOKE_SKU,
    Stack,
    copy_sources,
    host_architecture,
    http_json,
)

WORK = REPO_ROOT / ".local" / "bench-up"


def round_trips(api_url: str, token: str, count: int) -> list[float]:
    """Orders of the smoke-check customer, signed with its token (obtained before timing)."""
    seconds = []
    signed = {"Authorization": f"Bearer {token}"}
    for _ in range(count):
        started = time.perf_counter()
        status, accepted = http_json(
            "POST",
            f"{api_url}/orders",
            {
                "customer_id": SMOKE_CUSTOMER,
                "currency": "EUR",
                "items": [{"sku": SMOKE_SKU, "quantity": 1, "unit_price": "1.00"}],
            },
            headers=signed,
        )
        if status != 202:
            raise RuntimeError(f"POST /orders answered {status}: {accepted}")
        while True:
            status, order = http_json(
                "GET", f"{api_url}/orders/{accepted['order_id']}", headers=signed
            )
            if status == 200 and order["status"] != "PENDING":
                break
            time.sleep(0.02)
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=20)
    args = parser.parse_args(argv)

    shutil.rmtree(WORK, ignore_errors=True)
    dist = WORK / "dist"
    stack = Stack(
        port=free_port(),
        work_dir=WORK / "work",
        dist_dir=REPO_ROOT / "dist",
        state_dir=WORK / "emulator",
        say=lambda message: print(f"    {message}", flush=True),
    )
    # The local root reads dist/<arch>: start it empty, keep the dependency cache.
    arch_dir = stack.dist_dir / host_architecture()
    if arch_dir.exists():
        shutil.move(str(arch_dir), str(dist / "previous"))
    try:
        print("==> make up from nothing", flush=True)
        stack.up()
        cold = dict(stack.timings)
        print("==> make up again, with the stack running", flush=True)
        stack.timings.clear()
        result = stack.up()
        warm = dict(stack.timings)
        print("==> make up after a change to the API's code", flush=True)
        stack.source_dir = copy_sources(WORK / "changed-source")
        handler = stack.source_dir / "services" / "orders_api" / "handler.py"
        handler.write_text(handler.read_text() + "\n# changed by make bench-up\n")
        stack.timings.clear()
        result = stack.up()
        changed = dict(stack.timings)
        stack.source_dir = REPO_ROOT
        print(f"==> {args.orders} orders, one after another, POST until CONFIRMED", flush=True)
        token = stack.sign_in(result, SMOKE_CUSTOMER)
        trips = round_trips(result["api_url"], token, args.orders)
    finally:
        stack.stop_emulator()
        if (dist / "previous").exists() and not arch_dir.exists():
            shutil.move(str(dist / "previous"), str(arch_dir))

    steps = [name for name in cold if name != "total"]
    print(f"\n{'step':<10} {'cold s':>8} {'warm s':>8} {'changed s':>10}")
    for name in [*steps, "total"]:
        print(
            f"{name:<10} {cold.get(name, 0):8.1f} {warm.get(name, 0):8.1f} "
            f"{changed.get(name, 0):10.1f}"
        )
    ordered = sorted(trips)
    print(
        f"\norder round trip to CONFIRMED over {len(trips)} orders: "
        f"p50 {statistics.median(trips) * 1000:.0f} ms, "
        f"p90 {ordered[int(0.9 * (len(ordered) - 1))] * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
