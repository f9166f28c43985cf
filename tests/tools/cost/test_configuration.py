"""make cost reads each environment's settings from Terraform's own plan of its root: what the
root sets, the stack's defaults for what it leaves out, the modules' resources as they come out.
(The local environment's settings from the running stack's state: tests/e2e/test_cost.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.cost import configuration
from tools.cost.configuration import ConfigurationError
from tools.terraform.hcl import TERRAFORM_DIR

# What each root says (terraform/environments/<env>/main.tf, release.json) or, where it says
# nothing, the stack's default (terraform/stack/variables.tf): memory MB per function, the API's
# provisioned instances and SnapStart, log retention days, PITR, archive days, budget USD.
EXPECTED = {
    "dev": {
        "memory": {"orders_api": 256, "order_processor": 256, "notifier": 256},
        "provisioned": 0,
        "snap_start": False,
        "retention": 7,
        "pitr": False,
        "archive": 0,
        "budget": 100.0,
    },
    "staging": {
        "memory": {"orders_api": 1024, "order_processor": 512, "notifier": 256},
        "provisioned": 0,
        "snap_start": True,
        "retention": 30,
        "pitr": True,
        "archive": 0,
        "budget": 900.0,
    },
    "prod": {
        "memory": {"orders_api": 1024, "order_processor": 512, "notifier": 256},
        "provisioned": 10,
        "snap_start": False,
        "retention": 90,
        "pitr": True,
        "archive": 14,
        "budget": 2000.0,
    },
}


@pytest.mark.terraform
@pytest.mark.parametrize("env", sorted(EXPECTED))
def test_the_settings_are_terraform_s_plan_of_the_environment_s_root(env, monkeypatch):
    monkeypatch.setattr(configuration, "_saved_plan", lambda _env: None)  # no `make plan` here
    said: list[str] = []
    cfg = configuration.read(env, say=said.append)
    expected = EXPECTED[env]
    assert said == [
        f"==> planning terraform/environments/{env} offline (terraform test, mocked provider)"
    ]
    assert cfg.source.startswith(f"Terraform's plan of terraform/environments/{env}, made offline")
    assert cfg.region == "eu-west-1"
    arch = json.loads((TERRAFORM_DIR / "environments" / env / "release.json").read_text())["arch"]
    assert {s: f.memory_mb for s, f in cfg.functions.items()} == expected["memory"]
    assert {f.architecture for f in cfg.functions.values()} == {arch}
    api = cfg.function("orders_api")
    assert (api.provisioned, api.snap_start) == (expected["provisioned"], expected["snap_start"])
    assert all(f.tracing for f in cfg.functions.values())
    assert (cfg.function("order_processor").batch_size, cfg.function("notifier").batch_size) == (
        10,
        10,
    )
    assert (api.idempotency_ttl_s, cfg.function("notifier").idempotency_ttl_s) == (86400, 604800)
    assert set(cfg.log_retention_days.values()) == {expected["retention"]}
    assert len(cfg.log_retention_days) == 4  # three functions and the API's access log
    assert (cfg.table_billing_mode, cfg.table_pitr, cfg.table_indexes) == (
        "PAY_PER_REQUEST",
        expected["pitr"],
        1,
    )
    assert cfg.queues == sorted(
        f"orders-{env}-{q}" for q in ("orders", "orders-dlq", "notifications", "notifications-dlq")
    )
    assert (cfg.api_protocol, cfg.event_archive_days) == ("HTTP", expected["archive"])
    assert "$context.requestId" in (cfg.access_log_format or "")
    assert cfg.budget_usd == expected["budget"]
    # alarms on in every AWS environment: the topic's key, a composite, the dashboard
    assert (cfg.kms_keys, cfg.composite_alarms, cfg.dashboards) == (1, 1, 1)
    assert cfg.metric_alarms > 0
    assert cfg.alarm_metrics >= cfg.metric_alarms  # a metric-math alarm watches several


def test_a_plan_and_a_state_give_the_same_resources():
    after = {"function_name": "f", "memory_size": 512}
    plan = {
        "resource_changes": [
            {
                "address": "module.platform.module.orders_api.aws_lambda_function.this",
                "mode": "managed",
                "type": "aws_lambda_function",
                "change": {"actions": ["create"], "after": after},
            },
            {
                "address": "module.platform.data.aws_region.current",
                "mode": "data",
                "type": "aws_region",
                "change": {"actions": ["read"], "after": {}},
            },
            {
                "address": "aws_sqs_queue.gone",
                "mode": "managed",
                "type": "aws_sqs_queue",
                "change": {"actions": ["delete"], "after": None},
            },
        ]
    }
    state = {
        "values": {
            "root_module": {
                "child_modules": [
                    {
                        "child_modules": [
                            {
                                "resources": [
                                    {
                                        "address": "module.platform.module.orders_api."
                                        "aws_lambda_function.this",
                                        "mode": "managed",
                                        "type": "aws_lambda_function",
                                        "values": after,
                                    }
                                ]
                            }
                        ]
                    }
                ]
            }
        }
    }
    assert configuration.resources_of(plan) == configuration.resources_of(state)
    [resource] = configuration.resources_of(plan)
    assert resource.module == "orders_api"


def test_an_unknown_environment_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="valid: dev, local, prod, staging"):
        configuration.read("qa")


def test_a_root_that_terraform_cannot_plan_says_why(tmp_path: Path, monkeypatch):
    from tools.terraform import offline_plan

    def refuses(*_args, **_kwargs):
        raise offline_plan.OfflinePlanError("terraform could not plan environments/dev:\nboom")

    monkeypatch.setattr(configuration, "_saved_plan", lambda _env: None)
    monkeypatch.setattr(configuration.offline_plan, "plan", refuses)
    with pytest.raises(ConfigurationError, match="could not plan environments/dev:\nboom"):
        configuration.read("dev", say=lambda _line: None)
