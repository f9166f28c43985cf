"""make seed: what a load test needs in the orders table, sized to the run, idempotent, and
addressed to the SES mailbox simulator only. In an AWS account it runs as the deploy role:
tests/environments seeds staging's account of the emulator that way."""

from __future__ import annotations

import pytest

from orders_core.adapters.table import OrdersTable
from tests.support.orders_table import moto_orders_table
from tools.ops import seed

REGION = "eu-west-1"


@pytest.fixture
def table():
    with moto_orders_table(REGION) as table:
        yield table


def everything(table: OrdersTable) -> list[dict]:
    pages = table.dynamodb.get_paginator("scan").paginate(TableName=table.table_name)
    return sorted((i for p in pages for i in p["Items"]), key=lambda i: i["pk"]["S"])


def test_the_staging_profile_can_never_run_a_sku_out_of_stock():
    """1,000 req/s: a 120 s ramp to 625 users/s and 300 s at 625. Each user places at most one
    order, taking at most 3 units of a SKU: so no SKU can need more than users x 3."""
    plan = seed.stock_plan("staging")
    assert plan.virtual_users == 120 * 625 / 2 + 300 * 625
    assert plan.max_quantity == 3
    assert plan.units_per_sku == 225_000 * 3


def test_the_stock_follows_the_run_to_be_made():
    short = seed.stock_plan("staging", rate=1000, duration=20, ramp=10)
    assert short.virtual_users == 10 * 625 / 2 + 20 * 625
    # local: the unjudged warm-up (20 s from 1 to 10 users/s) orders too
    local = seed.stock_plan("local", rate=16, duration=60)
    assert local.virtual_users == 60 * 10 + 20 * (1 + 10) / 2
    assert local.units_per_sku == 710 * 3


def test_seeding_stocks_every_load_test_sku_and_addresses_every_customer_to_the_simulator(table):
    skus, customers = seed.load_test_population()
    written = seed.seed_load_test(table.dynamodb, "orders", 600)
    assert written == len(skus) + len(customers) == 200 + 1000
    assert {sku: table.available(sku) for sku in skus} == dict.fromkeys(skus, 600)
    addresses = {customer: table.email_of(customer) for customer in customers}
    assert addresses["cust-000001"] == "success+cust-000001@simulator.amazonses.com"
    assert all(
        a.startswith("success+") and a.endswith("@simulator.amazonses.com")
        for a in addresses.values()
    )


def test_seeding_again_writes_the_same_items_and_puts_back_what_a_run_took(table):
    seed.seed_load_test(table.dynamodb, "orders", 600)
    before = everything(table)
    sku = seed.load_test_population()[0][0]
    seed.seed(table.dynamodb, "orders", stock={sku: 3})  # a run took most of it
    assert everything(table) != before
    seed.seed_load_test(table.dynamodb, "orders", 600)
    assert everything(table) == before


def test_prod_is_refused_without_the_load_test_opt_in(monkeypatch, capsys):
    monkeypatch.delenv("LOADTEST_ALLOW_PROD", raising=False)
    assert seed.main(["--env", "prod"]) == 2
    assert "set LOADTEST_ALLOW_PROD=yes" in capsys.readouterr().err


def test_an_environment_without_a_profile_asks_which_run_to_size_for(capsys):
    assert seed.main(["--env", "dev"]) == 2
    assert "PROFILE=" in capsys.readouterr().err


def test_an_environment_that_cannot_be_read_says_what_to_do(monkeypatch, capsys):
    from tools.ops.environment import EnvironmentUnreadable

    def unreadable(env):
        raise EnvironmentUnreadable(f"{env} has no outputs: apply it first")

    monkeypatch.setattr("tools.ops.environment.outputs", unreadable)
    assert seed.main(["--env", "staging"]) == 2
    assert "staging has no outputs: apply it first" in capsys.readouterr().err
