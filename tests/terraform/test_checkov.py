"""checkov over terraform/: zero failed checks (skips only inline, with a reason)."""

from __future__ import annotations

import pytest

from tools.terraform import checkov
from tools.terraform.hcl import TERRAFORM_DIR

pytestmark = pytest.mark.terraform


def test_checkov_finds_no_failed_check_in_terraform():
    report = checkov.scan(TERRAFORM_DIR)
    assert report.get("summary", {}).get("resource_count", 0) > 0, "checkov scanned nothing"
    assert checkov.failed_checks(report) == []


def test_every_checkov_skip_states_a_reason():
    unexplained = [
        f"{path.relative_to(TERRAFORM_DIR)}:{number}"
        for path in TERRAFORM_DIR.rglob("*.tf")
        if ".terraform" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "checkov:skip=" in line and len(line.split("checkov:skip=", 1)[1].split(":", 1)) < 2
    ]
    assert unexplained == []
