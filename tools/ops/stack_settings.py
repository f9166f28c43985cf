"""What an environment sets the platform to: the values terraform/environments/<env> gives
terraform/stack, over the stack's own defaults (the optional() defaults inside its object
variables too), as Terraform would resolve them. Read from the configuration, so that a plan
can be checked before anything is applied; values the root computes (from its release file,
say) are not settings a capacity plan needs, and are left out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.terraform.hcl import TERRAFORM_DIR, root_blocks

# name = optional(type, default) inside an object({...}) type expression
_OPTIONAL = re.compile(r"(\w+)\s*=\s*optional\(\s*\w+\s*,\s*([^(),]+?)\s*\)")


class SettingsError(RuntimeError):
    """The environment's configuration cannot be read; the message says why."""


@dataclass(frozen=True)
class StackSettings:
    env: str
    region: str
    values: dict[str, Any]  # every stack variable with a literal value
    notifications_queue_retention_s: float

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def _literal(value: Any) -> bool:
    return not (isinstance(value, str) and "${" in value)


def _parse_default(text: str) -> Any:
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    try:
        number = float(text)
    except ValueError:
        return text.strip('"')
    return int(number) if number.is_integer() else number


def object_defaults(type_expression: str) -> dict[str, Any]:
    """The optional() defaults of an object type: {"memory_size": 512, ...}."""
    return {name: _parse_default(default) for name, default in _OPTIONAL.findall(type_expression)}


def _variables(directory: Path) -> dict[str, dict[str, Any]]:
    return {b.labels[0]: b.body for b in root_blocks(directory) if b.kind == "variable"}


def _resolve(variable: dict[str, Any], given: Any) -> Any:
    default = variable.get("default")
    kind = str(variable.get("type", ""))
    if "object(" in kind and "list(" not in kind and "map(" not in kind:
        merged = {**object_defaults(kind), **(default or {})}
        if isinstance(given, dict):
            merged.update({k: v for k, v in given.items() if _literal(v)})
        return merged
    if given is not None and _literal(given):
        return given
    return default


def read(env: str, terraform_dir: Path = TERRAFORM_DIR) -> StackSettings:
    root = terraform_dir / "environments" / env
    if not (root / "main.tf").is_file():
        known = sorted(p.name for p in (terraform_dir / "environments").iterdir() if p.is_dir())
        raise SettingsError(f"no environment {env!r}; terraform/environments has {known}")
    blocks = list(root_blocks(root))
    platform = next(
        (b.body for b in blocks if b.kind == "module" and b.labels == ("platform",)), None
    )
    if platform is None:
        raise SettingsError(f'terraform/environments/{env} has no module "platform"')
    local_values: dict[str, Any] = {}
    for block in blocks:
        if block.kind == "locals":
            local_values.update(block.body)
    region = local_values.get("region")
    if not isinstance(region, str) or not _literal(region):
        raise SettingsError(f"terraform/environments/{env} sets no literal local.region")
    stack = terraform_dir / "stack"
    values = {
        name: _resolve(variable, platform.get(name)) for name, variable in _variables(stack).items()
    }
    return StackSettings(
        env=env,
        region=region,
        values=values,
        notifications_queue_retention_s=float(
            _module_input(stack, "notifications_queue", "message_retention_seconds")
        ),
    )


def _module_input(stack: Path, module: str, name: str) -> Any:
    """What the stack's module call gives `name`, or the module's default."""
    call = next(b.body for b in root_blocks(stack) if b.kind == "module" and b.labels == (module,))
    if name in call and _literal(call[name]):
        return call[name]
    source = (stack / str(call["source"])).resolve()
    return _variables(source)[name].get("default")
