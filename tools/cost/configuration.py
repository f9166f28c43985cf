"""An environment's settings that cost money, read from what Terraform makes of its root.

- local: the state of the running `make up` stack (`terraform show -json`); without one, the
  offline plan below.
- dev, staging, prod: the saved plan of `make plan ENV=<env>` (`terraform show -json`) when
  there is one; otherwise Terraform's own plan of the root made offline (terraform test with a
  mocked provider, tools/terraform/offline_plan.py): the committed configuration, evaluated
  by Terraform, with no credentials, backend or state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.terraform import offline_plan
from tools.terraform.hcl import TERRAFORM_DIR, root_blocks

Say = Callable[[str], None]


class ConfigurationError(RuntimeError):
    """The environment's configuration cannot be read; the message says what to do."""


@dataclass(frozen=True)
class Resource:
    address: str
    type: str
    values: dict[str, Any]

    @property
    def module(self) -> str:
        """The innermost module of the address: orders_api in module.platform.module.orders_api."""
        modules = re.findall(r"module\.([\w-]+)", self.address)
        return modules[-1] if modules else ""


@dataclass(frozen=True)
class Function:
    service: str
    name: str
    memory_mb: int
    architecture: str
    timeout_s: int
    tracing: bool
    snap_start: bool
    provisioned: int = 0
    batch_size: int | None = None  # of its SQS event source
    idempotency_ttl_s: int = 0  # IDEMPOTENCY_TTL_SECONDS: how long its idempotency records live

    @property
    def memory_gb(self) -> float:
        return self.memory_mb / 1024


@dataclass(frozen=True)
class Configuration:
    env: str
    region: str
    source: str
    functions: dict[str, Function]
    log_retention_days: dict[str, int]  # log group -> days
    table_billing_mode: str
    table_pitr: bool
    table_indexes: int
    queues: list[str]
    encrypted_queues_kms: int  # queues encrypted with a KMS key (SSE-SQS costs nothing)
    api_protocol: str | None
    access_log_format: str | None
    alarm_metrics: int  # metrics watched by metric alarms (a metric-math alarm counts each)
    metric_alarms: int
    composite_alarms: int
    dashboards: int
    kms_keys: int
    event_archive_days: int
    budget_usd: float | None
    notes: list[str] = field(default_factory=list)

    def function(self, service: str) -> Function:
        if service not in self.functions:
            raise ConfigurationError(
                f"{self.env} has no function {service!r} (found {', '.join(self.functions)})"
            )
        return self.functions[service]


def resources_of(document: Mapping[str, Any]) -> list[Resource]:
    """Managed resources of a `terraform show -json` document: a plan (what it would leave)
    or a state."""
    if "resource_changes" in document:
        return [
            Resource(change["address"], change["type"], change["change"].get("after") or {})
            for change in document["resource_changes"]
            if change.get("mode") == "managed" and change["change"]["actions"] != ["delete"]
        ]

    def walk(module: Mapping[str, Any]) -> Iterator[Resource]:
        for resource in module.get("resources", []):
            if resource.get("mode") == "managed":
                yield Resource(resource["address"], resource["type"], resource.get("values") or {})
        for child in module.get("child_modules", []):
            yield from walk(child)

    return list(walk(document.get("values", {}).get("root_module", {})))


def _first(value: Any) -> dict[str, Any]:
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}


def _alarm_metrics(values: Mapping[str, Any]) -> int:
    queries = values.get("metric_query") or []
    if queries:
        return sum(1 for query in queries if query.get("metric"))
    return 1


def configuration(env: str, region: str, source: str, resources: list[Resource]) -> Configuration:
    of = {kind: [r for r in resources if r.type == kind] for kind in {r.type for r in resources}}

    def kind(name: str) -> list[Resource]:
        return of.get(name, [])

    provisioned = {
        r.module: int(r.values.get("provisioned_concurrent_executions") or 0)
        for r in kind("aws_lambda_provisioned_concurrency_config")
    }
    batches = {
        r.module: int(r.values.get("batch_size") or 10)
        for r in kind("aws_lambda_event_source_mapping")
    }
    functions = {}
    for r in kind("aws_lambda_function"):
        v = r.values
        functions[r.module] = Function(
            service=r.module,
            name=str(v.get("function_name")),
            memory_mb=int(v.get("memory_size") or 128),
            architecture=(v.get("architectures") or ["x86_64"])[0],
            timeout_s=int(v.get("timeout") or 3),
            tracing=_first(v.get("tracing_config")).get("mode") == "Active",
            snap_start=_first(v.get("snap_start")).get("apply_on") == "PublishedVersions",
            provisioned=provisioned.get(r.module, 0),
            batch_size=batches.get(r.module),
            idempotency_ttl_s=int(
                _first(v.get("environment")).get("variables", {}).get("IDEMPOTENCY_TTL_SECONDS", 0)
            ),
        )
    tables = kind("aws_dynamodb_table")
    if len(tables) != 1:
        raise ConfigurationError(f"{env}: expected one DynamoDB table, found {len(tables)}")
    table = tables[0].values
    stages = kind("aws_apigatewayv2_stage")
    apis = kind("aws_apigatewayv2_api")
    archives = kind("aws_cloudwatch_event_archive")
    budgets = kind("aws_budgets_budget")
    return Configuration(
        env=env,
        region=region,
        source=source,
        functions=functions,
        log_retention_days={
            str(r.values.get("name")): int(r.values.get("retention_in_days") or 0)
            for r in kind("aws_cloudwatch_log_group")
        },
        table_billing_mode=str(table.get("billing_mode") or "PROVISIONED"),
        table_pitr=bool(_first(table.get("point_in_time_recovery")).get("enabled")),
        table_indexes=len(table.get("global_secondary_index") or []),
        queues=sorted(str(r.values.get("name")) for r in kind("aws_sqs_queue")),
        encrypted_queues_kms=sum(
            1 for r in kind("aws_sqs_queue") if r.values.get("kms_master_key_id")
        ),
        api_protocol=str(apis[0].values.get("protocol_type")) if apis else None,
        access_log_format=_first(stages[0].values.get("access_log_settings")).get("format")
        if stages
        else None,
        alarm_metrics=sum(_alarm_metrics(r.values) for r in kind("aws_cloudwatch_metric_alarm")),
        metric_alarms=len(kind("aws_cloudwatch_metric_alarm")),
        composite_alarms=len(kind("aws_cloudwatch_composite_alarm")),
        dashboards=len(kind("aws_cloudwatch_dashboard")),
        kms_keys=len(kind("aws_kms_key")),
        event_archive_days=max(
            (int(r.values.get("retention_days") or 0) for r in archives), default=0
        ),
        budget_usd=float(budgets[0].values["limit_amount"]) if budgets else None,
    )


# --- where the settings come from ------------------------------------------------------------


def root_of(env: str) -> Path:
    root = TERRAFORM_DIR / "environments" / env
    if not (root / "main.tf").is_file():
        known = sorted(p.name for p in (TERRAFORM_DIR / "environments").iterdir() if p.is_dir())
        raise ConfigurationError(f"unknown ENV={env!r}; valid: {', '.join(known)}")
    return root


def root_locals(root: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for block in root_blocks(root):
        if block.kind == "locals":
            found.update(block.body)
    return found


def _local_stack_state(stack: Any = None) -> dict[str, Any] | None:
    """`terraform show -json` of a running local stack: `stack`, or the one `make up` started."""
    import json

    from tools.local import ministack
    from tools.local.stack import Stack, StackError

    if stack is None:
        state = ministack.status()
        if not (state.running and state.healthy):
            return None
        stack = Stack(port=state.port)
    try:
        shown = stack.terraform("show", "-json", "-no-color", capture=True)
    except StackError:
        return None
    document = json.loads(shown.stdout or "{}")
    return document if document.get("values") else None


def _saved_plan(env: str) -> dict[str, Any] | None:
    import json

    from tools.release import deploy

    saved = deploy.plan_file(env)
    if not saved.exists():
        return None
    try:
        shown = deploy.terraform(env, ["show", "-json", "-no-color", str(saved)], capture=True)
    except deploy.DeployError as error:
        raise ConfigurationError(f"cannot read the saved plan {saved}: {error}") from None
    return json.loads(shown.stdout)


def read(env: str, say: Say = print, local_stack: Any = None) -> Configuration:
    """The environment's settings; `local_stack` is a running tools.local.stack.Stack to read
    instead of the one `make up` started (the end-to-end tests have their own)."""
    root = root_of(env)
    local = root_locals(root)
    region = str(local.get("region") or "")
    if not region:
        raise ConfigurationError(f"{root} has no local.region")
    document, source = None, ""
    if env == "local":
        document = _local_stack_state(local_stack)
        source = "the state of the running local stack (terraform show -json)"
    else:
        document = _saved_plan(env)
        source = f"the saved plan .local/plans/{env}.tfplan (make plan ENV={env})"
    if document is None:
        say(f"==> planning terraform/environments/{env} offline (terraform test, mocked provider)")
        variables = {"emulator_endpoint": "http://127.0.0.1:4566"} if env == "local" else {}
        try:
            document = offline_plan.plan(
                root, region, str(local.get("account_id") or "123456789012"), variables
            )
        except offline_plan.OfflinePlanError as error:
            raise ConfigurationError(str(error)) from None
        source = (
            f"Terraform's plan of terraform/environments/{env}, made offline (no credentials: "
            "terraform test with a mocked provider)"
        )
        if env != "local":
            source += f"; `make plan ENV={env}` first to read the real plan"
    return configuration(env, region, source, resources_of(document))
