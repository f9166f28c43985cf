"""Terraform's own plan of a root, without credentials, state or network.

`terraform test` runs a `command = plan` run block against a mocked AWS provider (no AWS
call, no backend) and, with `-json -verbose`, prints the plan it made in the same JSON as
`terraform show -json <plan>`: every resource the root would create, with the values its
configuration gives them (computed ones, such as ARNs, are unknown). The test file lives in a
temporary copy of terraform/, so the checkout is never written to.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tools.terraform.hcl import REPO_ROOT, TERRAFORM_DIR

TF = REPO_ROOT / "tools" / "terraform" / "tf"
TEST_DIR = "offline_plan_tests"


class OfflinePlanError(RuntimeError):
    """Terraform could not plan the root; the message carries its errors."""


def _hcl(value: Any) -> str:
    return json.dumps(value)  # JSON literals are HCL literals


def test_file(region: str, account_id: str, variables: Mapping[str, Any]) -> str:
    """A run block that only plans, with data sources answering as the real account would."""
    lines = [
        'mock_provider "aws" {',
        f'  mock_data "aws_region" {{ defaults = {{ name = {_hcl(region)} }} }}',
        '  mock_data "aws_partition" { defaults = { partition = "aws" } }',
        f'  mock_data "aws_caller_identity" {{ defaults = {{ account_id = {_hcl(account_id)} }} }}',
        '  mock_data "aws_iam_policy_document" {',
        '    defaults = { json = "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}" }',
        "  }",
        "}",
        "",
        'run "offline_plan" {',
        "  command = plan",
    ]
    if variables:
        lines.append("  variables {")
        lines += [f"    {name} = {_hcl(value)}" for name, value in variables.items()]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _messages(stdout: str) -> list[dict[str, Any]]:
    found = []
    for line in stdout.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def plan(
    root: Path,
    region: str,
    account_id: str = "123456789012",
    variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON plan of `root` (a directory under terraform/)."""
    relative = root.resolve().relative_to(TERRAFORM_DIR)
    with tempfile.TemporaryDirectory(prefix="offline-plan-") as scratch:
        copy = Path(scratch) / "terraform"
        shutil.copytree(
            TERRAFORM_DIR,
            copy,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"),
        )
        # Roots that read the build (the local root reads dist/<arch>/manifest.json).
        if (REPO_ROOT / "dist").exists():
            (Path(scratch) / "dist").symlink_to(REPO_ROOT / "dist")
        target = copy / relative
        (target / TEST_DIR).mkdir()
        (target / TEST_DIR / "plan.tftest.hcl").write_text(
            test_file(region, account_id, variables or {})
        )
        env = {**os.environ, "TF_DATA_DIR": str(Path(scratch) / "data"), "TF_INPUT": "0"}
        for args in (
            ["init", "-backend=false", "-input=false", "-no-color"],
            ["test", f"-test-directory={TEST_DIR}", "-json", "-verbose", "-no-color"],
        ):
            proc = subprocess.run(
                [str(TF), f"-chdir={target}", *args],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if args[0] == "init" and proc.returncode != 0:
                raise OfflinePlanError(
                    f"terraform init of {relative} failed:\n{proc.stderr[-3000:]}"
                )
    messages = _messages(proc.stdout)
    plans = [m["test_plan"] for m in messages if m.get("type") == "test_plan"]
    if proc.returncode != 0 or not plans:
        errors = [
            f"{m['diagnostic'].get('summary')}: {m['diagnostic'].get('detail', '')}".strip()
            for m in messages
            if m.get("type") == "diagnostic" and m["diagnostic"].get("severity") == "error"
        ]
        detail = "\n".join(dict.fromkeys(errors)) or proc.stderr[-3000:]
        raise OfflinePlanError(f"terraform could not plan {relative}:\n{detail}")
    return plans[0]
