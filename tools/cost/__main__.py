"""What an environment costs a month on AWS, component by component.

    python -m tools.cost --env prod [--rps 200] [--hours 24] [--free-tier]
    (make cost ENV=prod [RPS=200] [HOURS=24] [FREE_TIER=1])

Settings: the environment's plan or state (tools/cost/configuration.py). Usage: one order's
AWS calls, capacity units, log bytes and metrics measured through the handlers
(tools/cost/data/measured.json), the functions' durations from `make bench`, the request mix
of the load test. Prices: tools/cost/data/prices-<region>.json (`make cost-prices REGION=`).
Free tiers are off unless asked for: they belong to the account, not to one stack.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tools.cost import configuration, measured, model, prices, traffic


def _usd(value: float) -> str:
    return f"{value:,.2f}" if value >= 0.01 or value == 0 else f"{value:.4f}"


def report(result: model.Estimate) -> str:
    cfg, load = result.configuration, result.traffic
    book = result.prices
    provenance = ", ".join(f"{n} {kind}" for kind, n in sorted(book.provenance().items()))
    free = "ON, as if this were the account's only use" if result.free_tier else "off"
    lines = [
        f"{cfg.env}: monthly cost on AWS ({cfg.region}, USD)",
        f"  settings  {cfg.source}",
        f"  traffic   {load.rps:g} req/s x {load.hours_per_day:.3g} h/day ({load.source}) = "
        f"{model._fmt(load.requests)} API requests = {model._fmt(result.orders)} orders a month",
        f"  mix       {result.mix.requests_per_order:.2f} API requests per order "
        f"({result.mix.source})",
        f"  prices    tools/cost/data/prices-{book.region}.json as of {book.as_of} ({provenance}); "
        f"free tiers {free}",
        "",
        f"  {'component':<31} {'USD/month':>11}  what, and the figure it uses",
    ]
    for line in result.lines:
        lines.append(f"  {line.component:<31} {_usd(line.usd):>11}  {line.what}")
        lines.append(f"  {'':<31} {'':>11}    <- {line.figure}")
    lines += [
        f"  {'total':<31} {_usd(result.total):>11}",
        f"  {'per 1,000 orders':<31} {_usd(result.per_1000_orders):>11}",
    ]
    if cfg.budget_usd and cfg.env == "local":
        lines.append(
            f"  {'budget (monthly_budget_usd)':<31} {_usd(cfg.budget_usd):>11}  "
            "nominal: the emulator costs nothing"
        )
    elif cfg.budget_usd:
        lines.append(
            f"  {'budget (monthly_budget_usd)':<31} {_usd(cfg.budget_usd):>11}  "
            f"this estimate is {result.total / cfg.budget_usd:.0%} of it"
        )
    lines += ["", *break_even_lines(result), "", "  not counted:"]
    lines += [f"    - {item}" for item in model.NOT_COUNTED]
    return "\n".join(lines)


def break_even_lines(result: model.Estimate) -> list[str]:
    if not result.break_even:
        api = result.configuration.function("orders_api")
        arch = api.architecture
        pc = result.prices[f"lambda.provisioned.gb_second.{arch}"].first_rate
        duration = result.prices[f"lambda.provisioned_duration.gb_second.{arch}"].first_rate
        on_demand = result.prices[f"lambda.gb_second.{arch}"].first_rate
        return [
            f"  provisioned concurrency: none in {result.configuration.env}. On {arch}, "
            f"provisioned instances cost less than on demand above "
            f"{pc / (on_demand - duration):.0%} utilisation."
        ]
    lines = []
    for b in result.break_even:
        lines += [
            f"  provisioned concurrency ({b.function}: {b.instances} x {b.memory_mb} MB): cheaper "
            f"than on demand above {b.break_even_utilisation:.0%} utilisation.",
            f"    At this traffic the instances are {b.utilisation:.1%} busy: they cost "
            f"{_usd(b.provisioned_usd)} a month where the same invocations on demand cost "
            f"{_usd(b.on_demand_usd)}. What they buy is no cold start on the API's path, "
            "not a saving.",
        ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.cost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, help="local, dev, staging or prod")
    parser.add_argument("--rps", type=float, help="API requests per second while there is traffic")
    parser.add_argument("--hours", type=float, help="hours of that traffic a day (default 24)")
    parser.add_argument("--free-tier", action="store_true", help="apply the always-free allowances")
    args = parser.parse_args(argv)
    if (args.rps is not None and args.rps < 0) or (
        args.hours is not None and not 0 <= args.hours <= 24
    ):
        parser.error("RPS must be >= 0 and HOURS between 0 and 24")
    try:
        default = traffic.default_traffic(args.env)
        load = default
        if args.rps is not None or args.hours is not None:
            load = traffic.Traffic(
                args.rps if args.rps is not None else default.rps,
                args.hours if args.hours is not None else 24.0,
                "given",
            )
        cfg = configuration.read(args.env, say=lambda line: print(line, file=sys.stderr))
        result = model.estimate(
            cfg,
            load,
            traffic.mix(),
            prices.load(cfg.region),
            measured.durations(),
            measured.load(),
            free_tier=args.free_tier,
        )
    except (
        configuration.ConfigurationError,
        prices.PriceError,
        FileNotFoundError,
        ValueError,
    ) as error:
        print(f"cost: {error}", file=sys.stderr)
        return 2
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
