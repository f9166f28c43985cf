"""The artillery config and the package pins, checked without running load."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tools.loadtest import common, install, profiles, target, thresholds

CONFIG = profiles.load_config()


def test_config_loads_the_ensure_expect_and_metrics_by_endpoint_plugins() -> None:
    plugins = CONFIG["config"]["plugins"]
    # Without plugins.ensure artillery never evaluates the thresholds.
    assert "ensure" in plugins
    # Without reportFailuresAsErrors failed expectations exit 21, not as errors.
    assert plugins["expect"]["reportFailuresAsErrors"] is True
    assert plugins["metrics-by-endpoint"]["useOnlyRequestNames"] is True


@pytest.mark.parametrize("env", ["local", "staging", "prod"])
def test_every_environment_has_phases_and_p99_and_error_rate_thresholds(env: str) -> None:
    prof = profiles.profile(CONFIG, env)
    limits = thresholds.thresholds_of(prof)
    assert limits.p99_ms > 0
    assert limits.max_error_rate_pct >= 0
    plan = profiles.plan_of(prof["phases"])
    assert plan.duration_s > 0
    assert plan.vusers > 0


def test_staging_ramps_to_1000_rps_over_2_minutes_then_holds_5_minutes() -> None:
    prof = profiles.profile(CONFIG, "staging")
    per_vuser = prof["loadtest"]["requests_per_vuser"]
    ramp, hold = prof["phases"]
    assert (ramp["duration"], ramp["arrivalRate"]) == (120, 0)
    assert ramp["rampTo"] * per_vuser == 1000
    assert hold["duration"] == 300
    assert hold["arrivalRate"] * per_vuser == 1000
    assert thresholds.thresholds_of(prof) == thresholds.Thresholds(500, 0.1)
    assert "target" not in prof  # it comes from Terraform, never a default


def test_local_targets_loopback_only_and_has_modest_defaults() -> None:
    prof = profiles.profile(CONFIG, "local")
    assert prof["loadtest"]["loopback_only"] is True
    assert "target" not in prof  # the running local stack's URL is passed with -t
    assert profiles.plan_of(prof["phases"]).duration_s <= 60
    assert 0 < prof["loadtest"]["warmup_s"] <= 30


def test_every_scenario_checks_status_codes_with_expect() -> None:
    scenarios = CONFIG["scenarios"]
    assert sum(s["weight"] for s in scenarios) > 0
    requests = [
        step[method]
        for s in scenarios
        for item in s["flow"]
        for step in item.get("loop", [item])
        for method in ("get", "post")
        if method in step
    ]
    assert len(requests) >= 5
    for req in requests:
        assert any("statusCode" in e for e in req["expect"]), req["name"]
        assert req["name"]  # per-endpoint metrics are keyed by name
    creates = [r for r in requests if r["url"] == "/orders"]
    assert all(r["headers"]["Idempotency-Key"] == "{{ idempotency_key }}" for r in creates)


def test_threshold_conditions_round_trip_through_the_parser() -> None:
    limits = thresholds.Thresholds(123.5, 0.25)
    assert thresholds.thresholds_of({"ensure": {"conditions": limits.conditions()}}) == limits


def test_thresholds_parser_rejects_a_profile_without_error_rate() -> None:
    prof = {"ensure": {"conditions": [{"expression": "http.response_time.p99 <= 5"}]}}
    with pytest.raises(common.LoadtestError):
        thresholds.thresholds_of(prof)


def test_artillery_and_node_are_pinned_exactly_in_package_json_and_lockfile() -> None:
    package = json.loads((common.LOADTEST_DIR / "package.json").read_text())
    assert package["devDependencies"]["artillery"] == "2.0.34"
    node_pin = package["devDependencies"]["node"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", node_pin)
    assert tuple(int(x) for x in node_pin.split("."))[:2] >= install.MIN_NODE
    lock = json.loads(install.LOCKFILE.read_text())["packages"]
    assert lock["node_modules/artillery"]["version"] == "2.0.34"
    assert lock["node_modules/node"]["version"] == node_pin
    # no other copy of artillery (2.0.21 and older send telemetry) anywhere
    for path, meta in lock.items():
        if path.endswith("node_modules/artillery"):
            assert meta["version"] == "2.0.34", path


def test_rate_and_duration_replace_the_phases_with_one_held_rate() -> None:
    prof = profiles.profile(CONFIG, "local")
    phases = profiles.run_phases(prof, rate=400, duration=60)
    assert phases == [{"name": "hold 400 req/s", "duration": 60, "arrivalRate": 250}]  # / 1.6
    assert profiles.run_phases(prof, None, None) == prof["phases"]
    assert profiles.plan_of(profiles.run_phases(prof, None, 10)).duration_s == 10


def test_a_ramp_from_zero_comes_before_the_held_rate_when_asked() -> None:
    prof = profiles.profile(CONFIG, "staging")
    phases = profiles.run_phases(prof, rate=1000, duration=20, ramp=10)
    assert phases == [
        {"name": "ramp to 1000 req/s", "duration": 10, "arrivalRate": 0, "rampTo": 625},
        {"name": "hold 1000 req/s", "duration": 20, "arrivalRate": 625},
    ]
    assert profiles.plan_of(phases) == profiles.Plan(30, 3125 + 12500)


def test_warmup_ramps_to_the_rate_of_the_run() -> None:
    phases = [{"name": "steady", "duration": 60, "arrivalRate": 250}]
    assert profiles.warmup_phases(phases, 10) == [
        {"name": "warm-up", "duration": 10, "arrivalRate": 1, "rampTo": 250}
    ]


def test_plan_counts_ramps_constant_rates_and_pauses() -> None:
    plan = profiles.plan_of(
        [
            {"duration": 120, "arrivalRate": 0, "rampTo": 500},
            {"pause": 5},
            {"duration": 300, "arrivalRate": 500},
            {"duration": 10, "arrivalCount": 7},
        ]
    )
    assert plan == profiles.Plan(435, 30_000 + 150_000 + 7)


def test_distributed_phases_are_split_across_workers() -> None:
    phases = [
        {"duration": 120, "arrivalRate": 0, "rampTo": 500},
        {"duration": 300, "arrivalRate": 500},
    ]
    scaled = profiles.scale_phases(phases, 4)
    assert scaled[1]["arrivalRate"] == 125
    assert scaled[0]["rampTo"] == 125
    assert profiles.plan_of(scaled).vusers * 4 == profiles.plan_of(phases).vusers


@pytest.mark.e2e
def test_artillery_own_validator_accepts_every_environment() -> None:
    """artillery 2.0.34 has no `validate` command; run its script validator
    (the one `artillery run` applies) on the config merged for each environment."""
    install.ensure_installed()
    help_text = subprocess.run(
        [str(install.NODE_BIN), str(install.ARTILLERY_RUN), "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=install.artillery_env(),
    ).stdout
    assert "validate" not in help_text.split("COMMANDS", 1)[1]
    script = """
      const fs = require('node:fs');
      const { pathToFileURL } = require('node:url');
      const yaml = require('js-yaml');
      const file = 'node_modules/artillery/dist/lib/util/validate-script.js';
      (async () => {
        const validate = (await import(pathToFileURL(file).href)).default;
        const doc = yaml.safeLoad(fs.readFileSync('artillery.yml', 'utf8'));
        const out = {};
        for (const env of Object.keys(doc.config.environments)) {
          const merged = JSON.parse(JSON.stringify(doc));
          Object.assign(merged.config, merged.config.environments[env]);
          out[env] = validate(merged) || 'ok';
        }
        out.broken = validate({config: doc.config, scenarios: [{flow: 'nope'}]}) || 'ok';
        console.log(JSON.stringify(out));
      })();
    """
    proc = subprocess.run(
        [str(install.NODE_BIN), "-e", script],
        cwd=common.LOADTEST_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result = json.loads(proc.stdout)
    assert result.pop("broken") != "ok"  # the validator does reject a bad script
    assert result == {"local": "ok", "staging": "ok", "prod": "ok"}


def test_target_comes_from_the_environment_terraform_outputs(monkeypatch) -> None:
    from tools.release import deploy

    def outputs(env: str) -> dict:
        if env != "staging":
            raise deploy.DeployError(f"unknown ENV={env!r}")
        return {
            "api_endpoint": "https://abc.execute-api.test",
            "orders_dlq_url": "https://q",
            "platform": {"table_name": "orders-staging-orders", "region": "eu-west-1"},
        }

    monkeypatch.setattr(deploy, "outputs", outputs)
    found = target.terraform_target("staging")
    assert found.url == "https://abc.execute-api.test"
    assert found.dlq_urls == {"orders DLQ": "https://q"}
    assert found.table_name == "orders-staging-orders"
    assert found.aws is not None
    assert found.aws("dynamodb").meta.region_name == "eu-west-1"  # the environment's region
    with pytest.raises(common.LoadtestError, match="--target"):
        target.terraform_target("nowhere")
    monkeypatch.setattr(deploy, "outputs", lambda _env: {})  # never applied
    with pytest.raises(common.LoadtestError, match="no api_endpoint"):
        target.terraform_target("staging")


def test_local_target_needs_a_running_local_stack(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EMULATOR_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("EMULATOR_PORT", "1")
    with pytest.raises(common.LoadtestError, match="make up"):
        target.local_target()


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://127.9.9.9/x", True),
        ("http://localhost:4566/_aws/execute-api/abc", True),
        ("http://abc.execute-api.localhost:4566", False),  # resolved by DNS, not by rule
        ("http://[::1]:80", True),
        ("http://10.0.0.5:8080", False),
        ("https://abc.execute-api.eu-west-1.amazonaws.com", False),
        ("http://127.0.0.1.example.com", False),
    ],
)
def test_loopback_detection(url: str, loopback: bool) -> None:
    assert target.is_loopback(url) is loopback
