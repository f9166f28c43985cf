"""Stock and customer profiles in an environment's orders table, in the adapter's own layout
(orders_core.adapters.table: `stock_item`, `customer_item`), 25 items a call.

    python -m tools.ops.seed --env staging [--rate R --duration S --ramp S]   (make seed ENV=...)

A load test orders the SKUs and customers of loadtest/generate_data.py. Without their stock every
order is REJECTED and the main write path (the stock transaction) never runs under load; so
this gives every SKU the most units the profile to be run could take from it (each of its
virtual users ordering that SKU at the largest quantity a line asks), and every customer an
address of the SES mailbox simulator, `success+<customer id>@simulator.amazonses.com`: SES
accepts it even in the sandbox, counts it against the sending rate but not the daily quota,
and no mailbox or sender reputation is touched. Never an invented or a real address.

Seeding twice writes the same items: it is idempotent, and resets the stock a run took. prod
is refused unless the load test's opt-in (LOADTEST_ALLOW_PROD=yes) is set. In an AWS account
the items are written as the environment's deploy role (the role `make apply` uses), which may
write SKU and customer items of the table and nothing else of it.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orders_core.adapters.table import customer_item, stock_item

BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem call
REPO_ROOT = Path(__file__).resolve().parents[2]
LOADTEST_DIR = REPO_ROOT / "loadtest"
SIMULATOR_DOMAIN = "simulator.amazonses.com"


def put_items(dynamodb: Any, table: str, items: Iterable[Mapping[str, Any]]) -> int:
    """Write every item; what DynamoDB leaves unprocessed is written again after a pause."""
    items = list(items)
    for start in range(0, len(items), BATCH_WRITE_LIMIT):
        chunk = items[start : start + BATCH_WRITE_LIMIT]
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        pause = 0.05
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
    return len(items)


def seed(
    dynamodb: Any,
    table: str,
    stock: Mapping[str, int] | None = None,
    customers: Mapping[str, str] | None = None,
) -> int:
    """Set the stock of each SKU and the address of each customer; returns the items written."""
    return put_items(
        dynamodb,
        table,
        [stock_item(sku, units) for sku, units in (stock or {}).items()]
        + [customer_item(customer, email) for customer, email in (customers or {}).items()],
    )


# --- the load test's data ----------------------------------------------------------------------


def simulator_address(customer_id: str) -> str:
    """The mailbox simulator's success address, labelled with the customer (SES accepts
    `success+<label>@simulator.amazonses.com` and treats it as `success@`)."""
    return f"success+{customer_id}@{SIMULATOR_DOMAIN}"


def load_test_population() -> tuple[list[str], list[str]]:
    """(SKUs, customer ids) a load test orders: loadtest/data, written by generate_data.py from
    its fixed seed, as every run writes them."""
    sys.path.insert(0, str(LOADTEST_DIR))
    import generate_data

    paths = generate_data.generate()
    return (
        [row["sku"] for row in _csv(paths["skus"])],
        [row["customer_id"] for row in _csv(paths["customers"])],
    )


def seed_load_test(
    dynamodb: Any, table: str, units_per_sku: int, extra_skus: Sequence[str] = ()
) -> int:
    """Every SKU of the load test with `units_per_sku`, every customer with a mailbox-simulator
    address; returns the items written."""
    skus, customers = load_test_population()
    return seed(
        dynamodb,
        table,
        stock=dict.fromkeys([*skus, *extra_skus], units_per_sku),
        customers={customer: simulator_address(customer) for customer in customers},
    )


@dataclass(frozen=True)
class StockPlan:
    units_per_sku: int
    virtual_users: float
    max_quantity: int
    phases: list[dict[str, Any]]

    def line(self) -> str:
        return (
            f"{self.units_per_sku:,} units per SKU: the profile's {self.virtual_users:,.0f} "
            f"virtual users each ordering that SKU at the largest quantity a line asks "
            f"({self.max_quantity})"
        )


def stock_plan(
    env: str, rate: float | None = None, duration: float | None = None, ramp: float | None = None
) -> StockPlan:
    """Units per SKU that the profile to be run cannot exhaust: no order is rejected for stock,
    so every order runs the stock transaction to its end."""
    from tools.loadtest.profiles import load_config, plan_of, profile, run_phases

    prof = profile(load_config(), env)
    phases = run_phases(prof, rate, duration, ramp)
    users = plan_of(phases).vusers
    # An unjudged warm-up ramps up to the first rate before the run (local profile).
    warmup_s = float((prof.get("loadtest") or {}).get("warmup_s", 0))
    if warmup_s and phases:
        first_rate = float(phases[0].get("arrivalRate") or phases[0].get("rampTo") or 0)
        users += warmup_s * (1 + first_rate) / 2
    max_quantity = int((prof.get("variables") or {}).get("max_quantity", 0))
    if max_quantity < 1:
        raise ValueError("artillery.yml config.variables.max_quantity is missing")
    return StockPlan(math.ceil(users) * max_quantity, users, max_quantity, phases)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# --- make seed ENV=<env> -----------------------------------------------------------------------


class SeedRefused(RuntimeError):
    """The environment may not or cannot be seeded; the message says what to do."""


def _opt_in(env: str) -> str | None:
    """The variable that opts ENV in to load tests (LOADTEST_ALLOW_PROD for prod), if any."""
    from tools.loadtest.common import LoadtestError
    from tools.loadtest.profiles import load_config, profile

    try:
        return (profile(load_config(), env).get("loadtest") or {}).get("opt_in_variable")
    except LoadtestError:  # no profile of its own (dev)
        return None


@dataclass(frozen=True)
class Target:
    client: Callable[[str], Any]  # boto3 client by service name
    platform: dict[str, Any]  # the stack's outputs
    where: str


def target(env: str) -> Target:
    """The environment to seed: the local stack with the emulator's credentials, or an AWS
    environment as its deploy role."""
    from tools.ops.environment import EnvironmentUnreadable, outputs

    opt_in = _opt_in(env) if env != "local" else None
    if opt_in and os.environ.get(opt_in) != "yes":
        raise SeedRefused(f"{env} is opt-in: set {opt_in}=yes to seed it for a load test")
    try:
        platform = outputs(env)["platform"]
    except EnvironmentUnreadable as error:
        raise SeedRefused(str(error)) from None
    if env == "local":
        from tools.local import ministack
        from tools.local.stack import Stack

        return Target(Stack(port=ministack.port()).client, platform, "the local stack")
    from tools.release import artifacts

    try:
        session = artifacts.session_for(env)
        role = artifacts.deploy_role_arn(env)
    except Exception as error:  # no credentials, a role that may not be assumed...
        raise SeedRefused(
            f"cannot act as {env}'s deploy role: {error}\n"
            "Seeding writes as the role `make apply` uses: run it with the same credentials."
        ) from None

    def client(service: str) -> Any:
        return session.client(service, region_name=platform["region"])

    return Target(client, platform, f"as {role}")


def seed_customer_accounts(env: str, found: Target, extra: Mapping[str, str] | None = None) -> int:
    """A Cognito user for every load-test customer (and `extra`, id -> address), with the
    environment's customer password (tools/ops/identity.py); returns the users created."""
    from tools.ops import identity

    _, customers = load_test_population()
    accounts = {customer: simulator_address(customer) for customer in customers}
    password = identity.customer_password(env, found.platform, found.client("ssm"), create=True)
    return identity.create_customers(
        found.client("cognito-idp"),
        found.platform["user_pool"]["id"],
        {**accounts, **(extra or {})},
        password,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.ops.seed",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, help="local, dev, staging or prod")
    parser.add_argument(
        "--profile", help="the artillery.yml environment to be run (default: --env's)"
    )
    parser.add_argument("--rate", type=float, help="the run's req/s, as make loadtest RATE=")
    parser.add_argument("--duration", type=float, help="the run's hold, s (DURATION=)")
    parser.add_argument("--ramp", type=float, help="the run's ramp, s (RAMP=)")
    args = parser.parse_args(argv)
    from tools.loadtest.common import LoadtestError

    try:
        plan = stock_plan(args.profile or args.env, args.rate, args.duration, args.ramp)
        found = target(args.env)
    except LoadtestError as error:  # no such profile
        print(f"seed: {error}; name the run's with PROFILE=<env>", file=sys.stderr)
        return 2
    except SeedRefused as error:
        print(f"seed: {error}", file=sys.stderr)
        return 2
    table = found.platform["table_name"]
    print(f"==> seeding {table} ({found.where})", flush=True)
    print(f"    {plan.line()}", flush=True)
    started = time.perf_counter()
    written = seed_load_test(found.client("dynamodb"), table, plan.units_per_sku)
    print(
        f"==> {written} items written in {time.perf_counter() - started:.1f} s: stock for every "
        f"SKU of loadtest/data/skus.csv, and a profile with a mailbox-simulator address "
        f"(success+<id>@{SIMULATOR_DOMAIN}) for every customer of customers.csv. Seeding again "
        "writes the same items (and resets the stock a run took).",
        flush=True,
    )
    pool = found.platform["user_pool"]["id"]
    print(f"==> a Cognito user for every customer, in user pool {pool}", flush=True)
    started = time.perf_counter()
    from tools.ops import identity

    try:
        created = seed_customer_accounts(args.env, found)
    except identity.IdentityError as error:
        print(f"seed: {error}", file=sys.stderr)
        return 2
    where = (
        f"the local password {identity.LOCAL_CUSTOMER_PASSWORD!r}"
        if args.env == "local"
        else f"the password in SSM {identity.password_parameter(found.platform)} (SecureString)"
    )
    print(
        f"==> {created} users created in {time.perf_counter() - started:.1f} s (the others "
        f"existed); every customer signs in with {where}: `make token ENV={args.env} "
        "USER=<customer id>`"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
