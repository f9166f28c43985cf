"""`terraform test` for every module, validate for every root, generated docs current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.terraform import run_terraform
from tools.docs import terraform_tables
from tools.terraform import roots
from tools.terraform.hcl import TERRAFORM_DIR

MODULES = sorted(p for p in (TERRAFORM_DIR / "modules").iterdir() if p.is_dir())
pytestmark = pytest.mark.terraform


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_terraform_test_suite_passes(module: Path):
    run_terraform(["init", "-backend=false", "-no-color"], module)
    proc = run_terraform(["test", "-no-color"], module, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    summary = re.search(r"Success! (\d+) passed, 0 failed", output)
    assert summary, output[-3000:]
    assert int(summary.group(1)) > 0


@pytest.mark.parametrize("root", roots.roots(), ids=lambda p: str(p.relative_to(TERRAFORM_DIR)))
def test_terraform_root_validates(root: Path):
    result = roots.validate(root)
    assert result.ok, result.output


def test_module_readme_tables_match_their_hcl(capsys):
    assert terraform_tables.main(["--check"]) == 0, capsys.readouterr().err
