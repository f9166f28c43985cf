"""The override files the tests merge into copies of terraform/ for what an emulator cannot do
(tests/support/overrides) still merge: each names a block its configuration has, and the
configuration validates with it. Without this, a renamed block would first fail in an apply."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.accounts import EMULATOR_OVERRIDES
from tests.support.terraform import (
    MOTO_OVERRIDES,
    OVERRIDES_DIR,
    copy_module_tree,
    place_overrides,
    run_terraform,
)
from tools.terraform.hcl import TERRAFORM_DIR

pytestmark = pytest.mark.terraform

MINISTACK = sorted(EMULATOR_OVERRIDES.items())
MOTO = sorted(
    (module, directory, name)
    for module, overrides in MOTO_OVERRIDES.items()
    for directory, name in overrides.items()
)


def _validates(directory: Path) -> None:
    run_terraform(["init", "-backend=false", "-no-color"], directory)
    proc = run_terraform(["validate", "-no-color"], directory, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_override_file_is_used():
    used = {name for _, name in MINISTACK} | {name for _, _, name in MOTO}
    assert {p.name for p in OVERRIDES_DIR.glob("*.tf")} == used
    assert all(name.endswith("_override.tf") for name in used)


@pytest.mark.parametrize(("directory", "name"), MINISTACK, ids=[d for d, _ in MINISTACK])
def test_ministack_override_merges_into_the_copy_of_the_root(tmp_path, directory, name):
    copy = tmp_path / "terraform"
    shutil.copytree(
        TERRAFORM_DIR, copy, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl")
    )
    place_overrides(copy, {directory: name})
    _validates(copy / directory)


@pytest.mark.parametrize(
    ("module", "directory", "name"), MOTO, ids=[f"{m}/{d}" for m, d, _ in MOTO]
)
def test_moto_override_merges_into_the_copy_of_the_module(tmp_path, module, directory, name):
    copy = copy_module_tree(module, tmp_path)
    assert (copy / directory / name).is_file()
    _validates(copy / directory)
