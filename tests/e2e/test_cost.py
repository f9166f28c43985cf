"""make cost on the local stack: the settings are read from the running stack's state, priced,
and every resource of that state carries the cost-allocation tags of the provider's default
tags."""

from __future__ import annotations

import functools
import re

import pytest

from tests.terraform.policy import COST_ALLOCATION_TAGS
from tools.cost import __main__ as cost
from tools.cost import configuration
from tools.local.stack import host_architecture

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def test_the_local_settings_come_from_the_running_stack_s_state(local_stack):
    cfg = configuration.read("local", say=print, local_stack=local_stack.stack)
    assert cfg.source == "the state of the running local stack (terraform show -json)"
    # terraform/environments/local sets timeouts and concurrency; memory is the stack's default
    assert {s: (f.memory_mb, f.timeout_s) for s, f in cfg.functions.items()} == {
        "orders_api": (512, 10),
        "order_processor": (512, 6),
        "notifier": (256, 6),
    }
    assert {f.architecture for f in cfg.functions.values()} == {host_architecture()}
    assert not any(f.tracing or f.provisioned or f.snap_start for f in cfg.functions.values())
    assert set(cfg.log_retention_days.values()) == {7}
    assert (cfg.table_billing_mode, cfg.table_pitr) == ("PAY_PER_REQUEST", True)
    assert (cfg.metric_alarms, cfg.composite_alarms, cfg.kms_keys) == (0, 0, 0)  # alarms off
    assert (cfg.dashboards, cfg.budget_usd) == (1, 1.0)


def test_make_cost_prices_the_local_stack_and_every_resource_carries_the_cost_tags(
    local_stack, monkeypatch, capsys
):
    read = functools.partial(configuration.read, local_stack=local_stack.stack)
    monkeypatch.setattr(configuration, "read", read)
    assert cost.main(["--env", "local", "--rps", "8", "--hours", "2"]) == 0
    out = capsys.readouterr().out
    assert "settings  the state of the running local stack" in out
    assert "8 req/s x 2 h/day (given) = 1.8 M API requests = 657.0 k orders a month" in out
    total = float(re.search(r"^  total\s+([\d,.]+)$", out, re.M).group(1).replace(",", ""))
    per_1000 = re.search(r"^  per 1,000 orders\s+([\d.]+)$", out, re.M)
    assert total > 0
    assert float(per_1000.group(1)) == pytest.approx(total / 657, rel=0.01)

    state = configuration._local_stack_state(local_stack.stack)
    taggable = untagged = 0
    for resource in configuration.resources_of(state):
        tags = resource.values.get("tags_all")
        if tags is None:
            continue
        taggable += 1
        if any(not tags.get(key) for key in COST_ALLOCATION_TAGS) or tags["environment"] != "local":
            untagged += 1
    assert taggable >= 15
    assert untagged == 0
