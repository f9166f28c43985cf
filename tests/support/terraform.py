"""Run the terraform CLI from tests, through tools/terraform/tf (offline provider mirror)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TF = REPO_ROOT / "tools" / "terraform" / "tf"
MODULES_DIR = REPO_ROOT / "terraform" / "modules"
# Terraform override files (*_override.tf) for what an emulator cannot do. They are merged into
# copies of the configuration the tests make, never into terraform/ (docs/emulators.md).
OVERRIDES_DIR = Path(__file__).resolve().parent / "overrides"
# What moto cannot do: module -> {directory of the module's copy: override file}.
MOTO_OVERRIDES = {
    "queue-with-dlq": {".": "moto_queue_with_dlq_override.tf"},
    "lambda": {"examples/basic": "moto_lambda_example_override.tf"},
}


class TerraformError(RuntimeError):
    pass


def run_terraform(
    args: list[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "TF_INPUT": "0", **(env or {})}
    proc = subprocess.run(
        [str(TF), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise TerraformError(
            f"terraform {' '.join(args)} failed in {cwd} ({proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


@dataclass
class TerraformRoot:
    """A root module in a working directory, with its own state."""

    directory: Path
    env: dict[str, str] = field(default_factory=dict)

    def init(self, *extra: str) -> None:
        run_terraform(["init", "-no-color", *extra], self.directory, self.env)

    def apply(self, variables: Mapping[str, str] | None = None) -> None:
        run_terraform(
            ["apply", "-auto-approve", "-no-color", "-parallelism=20", *_var_args(variables)],
            self.directory,
            self.env,
        )

    def plan_exit_code(self, variables: Mapping[str, str] | None = None) -> int:
        """0 = no changes, 2 = changes (terraform plan -detailed-exitcode)."""
        proc = run_terraform(
            ["plan", "-detailed-exitcode", "-no-color", *_var_args(variables)],
            self.directory,
            self.env,
            check=False,
        )
        if proc.returncode not in (0, 2):
            raise TerraformError(f"plan failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        return proc.returncode

    def destroy(self, variables: Mapping[str, str] | None = None) -> None:
        run_terraform(
            ["destroy", "-auto-approve", "-no-color", "-parallelism=20", *_var_args(variables)],
            self.directory,
            self.env,
        )

    def outputs(self) -> dict[str, object]:
        proc = run_terraform(["output", "-json", "-no-color"], self.directory, self.env)
        return {name: value["value"] for name, value in json.loads(proc.stdout).items()}


def _var_args(variables: Mapping[str, str] | None) -> list[str]:
    return [arg for k, v in (variables or {}).items() for arg in ("-var", f"{k}={v}")]


def place_overrides(root: Path, overrides: Mapping[str, str]) -> None:
    """Copy each override file of tests/support/overrides into its directory under ROOT."""
    for directory, name in overrides.items():
        target = root / directory
        if not target.is_dir():
            raise FileNotFoundError(f"{name} belongs in {target}, which does not exist")
        shutil.copyfile(OVERRIDES_DIR / name, target / name)


def copy_module_tree(module_name: str, destination: Path) -> Path:
    """Copy terraform/modules/<name> so its examples' relative sources still resolve, with the
    module's moto overrides (MOTO_OVERRIDES) in the copy: the apply tests run on moto.

    Returns the copied module directory. Working data of earlier runs is left out.
    """
    target = destination / "modules" / module_name
    shutil.copytree(
        MODULES_DIR / module_name,
        target,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
    )
    place_overrides(target, MOTO_OVERRIDES.get(module_name, {}))
    return target


@contextmanager
def applied_example(
    module_name: str,
    example: str,
    tmp_path: Path,
    env: Mapping[str, str],
    variables: Mapping[str, str] | None = None,
) -> Iterator[tuple[TerraformRoot, dict[str, object]]]:
    """Apply a module's example to the emulator, yield (root, outputs), then destroy it."""
    module_dir = copy_module_tree(module_name, tmp_path)
    root = TerraformRoot(module_dir / "examples" / example, dict(env))
    root.init()
    root.apply(variables)
    try:
        yield root, root.outputs()
    finally:
        root.destroy(variables)
