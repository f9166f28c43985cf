"""make dashboard: where an environment's dashboard is."""

from __future__ import annotations

import pytest

from tools.ops import dashboard
from tools.ops.environment import EnvironmentUnreadable


def test_the_console_url_names_the_region_and_the_dashboard():
    assert dashboard.console_url("eu-west-1", "orders-prod") == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#dashboards/dashboard/orders-prod"
    )


def test_an_aws_environment_prints_its_console_url(monkeypatch, capsys):
    platform = {"dashboard_name": "orders-staging", "region": "eu-central-1"}
    monkeypatch.setattr(dashboard, "outputs", lambda _env: {"platform": platform})
    assert dashboard.main(["--env", "staging"]) == 0
    assert capsys.readouterr().out.strip() == dashboard.console_url(
        "eu-central-1", "orders-staging"
    )


def test_an_environment_that_cannot_be_read_says_why(monkeypatch, capsys):
    def unreadable(env):
        raise EnvironmentUnreadable(f"{env} has no outputs: apply it first")

    monkeypatch.setattr(dashboard, "outputs", unreadable)
    assert dashboard.main(["--env", "dev"]) == 2
    assert "dev has no outputs: apply it first" in capsys.readouterr().err


@pytest.mark.parametrize("env", ["local"])
def test_the_local_stack_has_no_console_and_says_how_to_read_its_dashboard(
    monkeypatch, capsys, env
):
    platform = {"dashboard_name": "orders-local", "region": "eu-west-1"}
    monkeypatch.setattr(dashboard, "outputs", lambda _env: {"platform": platform})
    assert dashboard.main(["--env", env]) == 0
    out = capsys.readouterr().out
    assert "no console" in out
    assert "get-dashboard --dashboard-name orders-local" in out
