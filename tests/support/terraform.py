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


def copy_module_tree(module_name: str, destination: Path) -> Path:
    """Copy terraform/modules/<name> so its examples' relative sources still resolve.

    Returns the copied module directory. Working data of earlier runs is left out.
    """
    target = destination / "modules" / module_name
    shutil.copytree(
        MODULES_DIR / module_name,
        target,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
    )
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
