"""What an order takes in API requests, from the load test's model of clients, and the
traffic make cost assumes without RPS/HOURS."""

from __future__ import annotations

import json

import pytest

from tools.cost import measured, traffic


def _config(requests_per_vuser: float) -> dict:
    post = {"post": {"url": "/orders"}}
    return {
        "config": {
            "environments": {
                "staging": {
                    "loadtest": {"requests_per_vuser": requests_per_vuser, "target_rps": 1000},
                    "phases": [{"duration": 120, "arrivalRate": 0, "rampTo": 625}],
                },
            }
        },
        "scenarios": [
            {"weight": 5, "flow": [post, {"loop": [{"get": {"url": "/orders/{{ id }}"}}]}]},
            {"weight": 4, "flow": [{"get": {"url": "/customers/{{ c }}/orders?limit=10"}}]},
            {"weight": 1, "flow": [post, post]},
        ],
    }


def test_the_mix_is_the_load_test_s_scenarios_per_order():
    """Per 10 virtual users: 6 orders (5 creates, 1 retry), 1 replayed POST, 4 lists; of the
    16 requests measured, the 5 left are the creates' reads until final."""
    mix = traffic.mix(_config(1.6))
    assert mix.per_order == pytest.approx(
        {"post_new": 1, "post_replay": 1 / 6, "get_order": 5 / 6, "list_orders": 4 / 6}
    )
    assert mix.requests_per_order == pytest.approx(16 / 6)


def test_the_repository_s_load_test_gives_the_mix_make_cost_uses():
    assert traffic.mix().requests_per_order == pytest.approx(16 / 6)


def test_an_environment_that_only_runs_load_tests_costs_one_a_day():
    load = traffic.default_traffic("staging", _config(1.6))
    assert (load.rps, load.hours_per_day) == (1000, 120 / 3600)
    assert load.requests == pytest.approx(1000 * 120 * 730 / 24)


def test_prod_and_dev_use_their_planning_figures_and_say_so():
    assert traffic.default_traffic("prod").source.startswith("planning figure")
    assert traffic.default_traffic("dev").rps == 1
    with pytest.raises(ValueError, match="pass RPS= and HOURS="):
        traffic.default_traffic("qa", _config(1.6))


def test_durations_are_the_latest_bench_here_else_the_published_ones(tmp_path):
    published = measured.durations(tmp_path / "missing.json")
    assert published.ms == measured.BENCH_PUBLISHED["warm_sdk_p50_ms"]
    assert "docs/benchmarks.md" in published.source
    bench = tmp_path / "functions.json"
    bench.write_text(json.dumps([{"function": "orders_api", "warm_sdk_p50_ms": 3.5}]))
    latest = measured.durations(bench)
    assert latest.ms == {"orders_api": 3.5}
    assert latest.source.startswith("make bench on this machine")
