"""`terraform test` of the stack itself (terraform/stack/tests): the environment's budget."""

from __future__ import annotations

import re

import pytest

from tests.support.terraform import run_terraform
from tools.terraform.hcl import TERRAFORM_DIR

pytestmark = pytest.mark.terraform


def test_the_stack_s_terraform_test_suite_passes(tmp_path):
    env = {"TF_DATA_DIR": str(tmp_path / "data")}  # the stack's directory stays untouched
    stack = TERRAFORM_DIR / "stack"
    run_terraform(["init", "-backend=false", "-no-color"], stack, env=env)
    proc = run_terraform(["test", "-no-color"], stack, env=env, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    summary = re.search(r"Success! (\d+) passed, 0 failed", output)
    assert summary, output[-3000:]
    assert int(summary.group(1)) >= 3
