from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.environments import scenario as multi_account
from tests.support.accounts import Accounts

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[multi_account.Scenario]:
    """Bootstrap, environments and promotion in three accounts of one emulator, run once.

    Tests that use it carry `pytest.mark.xdist_group("accounts")`, so that under
    pytest-xdist they all run in the one worker that holds it."""
    accounts = Accounts(tmp_path_factory.mktemp("accounts"))
    reported = 0

    def report_repairs() -> None:
        # Warnings, not prints: they reach the summary even under xdist's capture. Raised
        # during setup, pytest files them under the first test of this group; raised at
        # teardown, under whatever test that worker happened to run last.
        nonlocal reported
        for repair in accounts.repairs[reported:]:
            warnings.warn(
                f"the emulator lost an answer in {repair['step']!r}; "
                f"the harness {repair['repair']}",
                stacklevel=1,
            )
        reported = len(accounts.repairs)

    try:
        outcome = multi_account.run(accounts)
        report_repairs()
        yield outcome
        # Last, so that the tests read dev as applied: Terraform's destroy calls, for tools/iam
        # to judge against dev's deploy role as it judges the applies and updates.
        destroyed = accounts.make("dev: destroy", "destroy", "ENV=dev", expect=None)
        if destroyed.returncode != 0:
            warnings.warn(f"make destroy ENV=dev failed:\n{destroyed}", stacklevel=1)
    finally:
        accounts.stop()
        timings = {name: round(seconds, 1) for name, seconds in accounts.timings.items()}
        (accounts.base / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
        print(f"\n[accounts] step durations (s), logs in {accounts.base / 'logs'}:")
        for name, seconds in timings.items():
            print(f"[accounts]   {seconds:7.1f}  {name}")
        report_repairs()
