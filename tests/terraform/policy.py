"""Policy checks over Terraform HCL. Each returns the violations it finds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tools.terraform.hcl import Block, expression, root_blocks

STANDARD_MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
_WILDCARD_ACTION = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9]*\*[A-Za-z0-9*]*)$")
_ACTION_IN_JSON = re.compile(r'"?Action"?\s*[=:]\s*(\[[^\]]*\]|"[^"]*")')
_ACCOUNT_ID = re.compile(r"(?<![\d.])\d{12}(?![\d.])")
_VERSION_FLOOR = re.compile(r"^>=\s*\d+(\.\d+){0,2}$")
_VERSION_EXACT = re.compile(r"^(=\s*)?\d+\.\d+\.\d+$")
_REGION = re.compile(
    r"\b(us|eu|ap|sa|ca|me|af|il|mx)-(north|south|east|west|central|northeast|northwest"
    r"|southeast|southwest|gov-east|gov-west)-\d\b"
)


def all_blocks(directories: Iterable[Path]) -> Iterator[Block]:
    for directory in directories:
        yield from root_blocks(directory)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def variables_without_type_or_description(blocks: Iterable[Block]) -> list[str]:
    return [
        f"{b.address}: missing {', '.join(k for k in ('type', 'description') if not b.body.get(k))}"
        for b in blocks
        if b.kind == "variable" and not (b.body.get("type") and b.body.get("description"))
    ]


def wildcard_iam_actions(blocks: Iterable[Block]) -> list[str]:
    """Allowed IAM actions like "*" or "s3:*": in policy documents, jsonencode()d policies, locals.

    A wildcard in a Deny statement of a policy document only narrows access, so it is allowed
    (the TLS-only bucket policy denies "s3:*").
    """
    found = []
    for block in blocks:
        body = block.body
        if block.kind == "data" and block.labels[0] == "aws_iam_policy_document":
            statements = body.get("statement", [])
            for statement in statements:
                if str(statement.get("effect", "Allow")) == "Deny":
                    continue
                found += [
                    f"{block.address}: wildcard action {a!r}"
                    for a in statement.get("actions", [])
                    if isinstance(a, str) and _WILDCARD_ACTION.match(a)
                ]
            body = {k: v for k, v in body.items() if k != "statement"}
        for text in _strings(body):
            candidates = []
            if _WILDCARD_ACTION.match(text) and ":" in text:
                candidates.append(text)
            for match in _ACTION_IN_JSON.finditer(text):
                candidates += [
                    a for a in re.findall(r'"([^"]+)"', match.group(1)) if _WILDCARD_ACTION.match(a)
                ]
            found += [f"{block.address}: wildcard action {c!r}" for c in candidates]
    return found


def hard_coded_accounts_or_regions(blocks: Iterable[Block]) -> list[str]:
    found = []
    for block in blocks:
        for text in _strings(block.body):
            for pattern, what in ((_ACCOUNT_ID, "account id"), (_REGION, "region")):
                match = pattern.search(text)
                if match:
                    found.append(f"{block.address}: hard-coded {what} {match.group(0)!r}")
    return found


def queues_without_dead_letter(blocks: Iterable[Block]) -> list[str]:
    """Every queue redrives to a DLQ with maxReceiveCount, or is itself a DLQ (redrive-allow)."""
    found = []
    for block in blocks:
        if block.kind != "resource" or block.labels[0] != "aws_sqs_queue":
            continue
        redrive = json.dumps(block.body.get("redrive_policy", ""))
        is_dead_letter_queue = "redrive_allow_policy" in block.body
        if not is_dead_letter_queue and "maxReceiveCount" not in redrive:
            found.append(f"{block.address}: no redrive_policy with maxReceiveCount")
    return found


def functions_without_logs_or_tracing(blocks: Iterable[Block]) -> list[str]:
    blocks = list(blocks)
    log_groups = {
        b.labels[1]: b
        for b in blocks
        if b.kind == "resource" and b.labels[0] == "aws_cloudwatch_log_group"
    }
    found = []
    for block in blocks:
        if block.kind != "resource" or block.labels[0] != "aws_lambda_function":
            continue
        if not block.body.get("tracing_config"):
            found.append(f"{block.address}: no tracing_config")
        logging = block.body.get("logging_config") or [{}]
        target = expression(logging[0].get("log_group", ""))
        match = re.search(r"aws_cloudwatch_log_group\.(\w+)\.name", target)
        group = log_groups.get(match.group(1)) if match else None
        if group is None:
            found.append(f"{block.address}: logging_config.log_group is not a log group of its own")
        elif not group.body.get("retention_in_days"):
            found.append(f"{group.address}: no retention_in_days")
    return found


ALARMED_MODULES = ("lambda", "queue-with-dlq", "dynamo-table", "event-rule", "http-api")


def alarms_without_actions(blocks: Iterable[Block]) -> list[str]:
    """Every alarm notifies someone on ALARM and on OK."""
    return [
        f"{b.address}: no {field}"
        for b in blocks
        if b.kind == "resource"
        and b.labels[0] in ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm")
        for field in ("alarm_actions", "ok_actions")
        if not b.body.get(field)
    ]


def topics_without_a_customer_managed_key(blocks: Iterable[Block]) -> list[str]:
    """CloudWatch cannot publish to a topic encrypted with the AWS managed key alias/aws/sns."""
    found = []
    for block in blocks:
        if block.kind != "resource" or block.labels[0] != "aws_sns_topic":
            continue
        key = expression(block.body.get("kms_master_key_id", ""))
        if not key:
            found.append(f"{block.address}: not encrypted")
        elif key.startswith("alias/aws/"):
            found.append(f"{block.address}: encrypted with the AWS managed key {key}")
    return found


def module_calls_without_alarms(blocks: Iterable[Block]) -> list[str]:
    """A module with alarms is called with them wired (its actions), never left to defaults."""
    return [
        f"{b.address}: no alarms argument"
        for b in blocks
        if b.kind == "module"
        and expression(b.body.get("source", ""))
        .rstrip("/")
        .endswith(tuple(f"modules/{m}" for m in ALARMED_MODULES))
        and not b.body.get("alarms")
    ]


def module_layout_problems(module_dir: Path) -> list[str]:
    found = [
        f"{module_dir.name}: missing {f}"
        for f in STANDARD_MODULE_FILES
        if not (module_dir / f).is_file()
    ]
    if not list((module_dir / "tests").glob("*.tftest.hcl")):
        found.append(f"{module_dir.name}: no tests/*.tftest.hcl")
    if not [p for p in (module_dir / "examples").glob("*/main.tf")]:
        found.append(f"{module_dir.name}: no examples/<name>/main.tf")
    return found


def provider_version_problems(blocks: Iterable[Block], expected: str) -> list[str]:
    """Each required provider states one version constraint of the EXPECTED kind.

    "floor" (modules, their examples, the stack): a single `>=`, no ceiling, so that adopters
    decide when to take a major version. "exact" (roots): one version, since lock files are
    not committed and the pin alone keeps every plan on the provider that was tested.
    """
    pattern = {"floor": _VERSION_FLOOR, "exact": _VERSION_EXACT}[expected]
    found, seen = [], False
    for block in blocks:
        if block.kind != "terraform":
            continue
        for entry in block.body.get("required_providers", []):
            for name, requirement in entry.items():
                seen = True
                version = requirement.get("version") if isinstance(requirement, dict) else None
                if not isinstance(version, str) or not pattern.match(version.strip()):
                    found.append(
                        f"{block.address}: provider {name} version {version!r} is not "
                        f"{'a >= floor' if expected == 'floor' else 'one exact version'}"
                    )
    if not seen:
        found.append("no required_providers: the provider version is not stated")
    return found


COST_ALLOCATION_TAGS = ("service", "environment", "cost-center", "managed-by")
_COST_TAG_KEY = re.compile(
    r'(?:^|[{,\s])"?(' + "|".join(map(re.escape, COST_ALLOCATION_TAGS)) + r')"?\s*='
)


def _local_values(blocks: Iterable[Block]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for block in blocks:
        if block.kind == "locals":
            found.update(block.body)
    return found


def _resolved(value: Any, local_values: dict[str, Any]) -> Any:
    """A literal, or the value of the `local.<name>` it names."""
    match = re.fullmatch(r"local\.(\w+)", expression(value))
    return local_values.get(match.group(1)) if match else value


def roots_without_cost_allocation_tags(roots: Iterable[Path]) -> list[str]:
    """Every environment root's AWS provider puts service, environment (the root's own name),
    cost-center and managed-by on every resource through its default tags."""
    found = []
    for root in roots:
        blocks = list(root_blocks(root))
        local_values = _local_values(blocks)
        providers = [b for b in blocks if b.kind == "provider" and b.labels == ("aws",)]
        if not providers:
            found.append(f"{root.name}: no aws provider")
        for provider in providers:
            default = (provider.body.get("default_tags") or [{}])[0].get("tags") or {}
            tags = {k: _resolved(v, local_values) for k, v in default.items()}
            for key in COST_ALLOCATION_TAGS:
                if not tags.get(key):
                    found.append(f"{provider.address}: no {key} in default_tags")
            if tags.get("environment") not in (None, root.name):
                found.append(f"{provider.address}: environment is {tags['environment']!r}")
    return found


def cost_allocation_tags_set_outside_providers(blocks: Iterable[Block]) -> list[str]:
    """A resource's own tag wins over the provider's default tag of the same key: only the
    providers' default_tags may set the cost-allocation tags."""
    found = []
    for block in blocks:
        if block.kind == "provider":
            continue
        for key, value in block.body.items():
            if "tags" not in key:
                continue
            texts = [f"{k} =" for k in value] if isinstance(value, dict) else list(_strings(value))
            for text in texts:
                match = _COST_TAG_KEY.search(text)
                if match:
                    found.append(f"{block.address}: sets the {match.group(1)} tag in {key}")
    return found


PUBLIC_ROUTES = frozenset({"GET /health"})


def routes_open_without_a_token(plan: dict[str, Any]) -> list[str]:
    """Routes of a plan (`terraform show -json`) that API Gateway lets through without a valid
    JWT: authorization other than JWT, or JWT without an authorizer. Only PUBLIC_ROUTES may be."""
    found = []
    routes = [c for c in plan.get("resource_changes", []) if c["type"] == "aws_apigatewayv2_route"]
    if not routes:
        return ["the plan has no API routes"]
    for change in routes:
        after, unknown = change["change"]["after"] or {}, change["change"]["after_unknown"] or {}
        key = after.get("route_key")
        if key in PUBLIC_ROUTES:
            continue
        has_authorizer = bool(after.get("authorizer_id")) or unknown.get("authorizer_id") is True
        if after.get("authorization_type") != "JWT" or not has_authorizer:
            found.append(f"{change['address']} ({key}): {after.get('authorization_type')}")
    return found
