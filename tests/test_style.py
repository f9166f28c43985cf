"""The repository is formatted and linted as `make lint` checks it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.terraform import run_terraform

REPO_ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RUFF), *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def test_python_is_ruff_clean():
    lint = _ruff("check", ".")
    assert lint.returncode == 0, lint.stdout[-4000:]
    formatted = _ruff("format", "--check", ".")
    assert formatted.returncode == 0, formatted.stdout[-4000:]


def test_terraform_is_fmt_clean():
    proc = run_terraform(
        ["fmt", "-check", "-recursive", "-list=true", "terraform", "tests/support/overrides"],
        REPO_ROOT,
        check=False,
    )
    assert proc.returncode == 0, f"terraform fmt would change:\n{proc.stdout}"
