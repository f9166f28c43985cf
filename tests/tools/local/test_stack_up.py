"""tools/local/stack.py: how `up` answers an apply the emulator refused with a conflict.

The steps are replaced by recorders and terraform by canned results, so these tests prove the
orchestration only; the end-to-end tests run the real thing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tools.local import stack as local_stack

ALIAS_CONFLICT = (
    "Error: creating Lambda Alias (live): operation error Lambda: CreateAlias, https response "
    "error StatusCode: 409, ResourceConflictException: Alias already exists: live\n"
)
MISSING_ROLE = "Error: creating Lambda Function: InvalidParameterValueException: no such role\n"


def lock_error(created: datetime) -> str:
    """What terraform prints when the lock's PutItem finds a lock (the emulator lost the answer
    to the first attempt, or someone else holds it)."""
    return (
        "Error: Error acquiring the state lock\n\n"
        "Error message: operation error DynamoDB: PutItem, https response error StatusCode: 400, "
        "ConditionalCheckFailedException: The conditional request failed\n"
        "Lock Info:\n"
        "  ID:        9fc89623-d171-5186-6baf-27ae7b632831\n"
        "  Path:      orders-local-tfstate/local/platform.tfstate\n"
        "  Operation: OperationTypeApply\n"
        "  Who:       root@vm\n"
        "  Version:   1.11.4\n"
        f"  Created:   {created.strftime('%Y-%m-%d %H:%M:%S.%f')} +0000 UTC\n"
    )


class RecordingStack(local_stack.Stack):
    def __init__(self, tmp_path: Path, apply_results: list[tuple[int, str]]) -> None:
        super().__init__(port=1, work_dir=tmp_path, say=self.calls_said)
        self.calls: list[str] = []
        self.said: list[str] = []
        self.apply_results = apply_results

    def calls_said(self, message: str) -> None:
        self.said.append(message)

    def start_emulator(self) -> None:
        self.calls.append("start")

    def stop_emulator(self) -> None:
        self.calls.append("stop")

    def bootstrap_state(self) -> None:
        self.calls.append("state")

    def build(self) -> dict:
        self.calls.append("build")
        return {}

    def init(self) -> None:
        self.calls.append("init")

    def _run_terraform(
        self, args: Sequence[str], _env: Mapping[str, str], capture: bool
    ) -> subprocess.CompletedProcess[str]:
        assert args[0] == "apply"
        self.calls.append("apply" if not capture else "apply (captured)")
        code, stderr = self.apply_results.pop(0)
        return subprocess.CompletedProcess(
            ["terraform", *args], code, "" if capture else None, stderr
        )

    def outputs(self) -> dict:
        return {"api_id": "abc", "platform": {"table_name": "orders"}}

    def seed(self, outputs: dict) -> int:
        self.calls.append(f"seed {outputs['platform']['table_name']}")
        return 0


def test_an_apply_conflict_rebuilds_the_stack_from_a_new_emulator_once(tmp_path: Path) -> None:
    stack = RecordingStack(tmp_path, [(1, ALIAS_CONFLICT), (0, "")])

    result = stack.up(smoke=False)

    assert stack.calls == [
        "start", "state", "build", "init", "apply",
        "stop",
        "start", "state", "build", "init", "apply", "seed orders",
    ]  # fmt: skip
    assert result["api_url"].endswith("/_aws/execute-api/abc")
    assert any("make down && make up" in line for line in stack.said)


def test_a_second_conflict_stops_with_what_to_do(tmp_path: Path) -> None:
    stack = RecordingStack(tmp_path, [(1, ALIAS_CONFLICT), (1, ALIAS_CONFLICT)])

    with pytest.raises(local_stack.EmulatorConflict, match="make down && make up"):
        stack.up(smoke=False)

    assert stack.calls.count("stop") == 1


def test_any_other_apply_failure_keeps_the_stack_and_says_how_to_continue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = RecordingStack(tmp_path, [(1, MISSING_ROLE)])

    with pytest.raises(local_stack.StackError, match="errors are above") as raised:
        stack.up(smoke=False)

    assert "no such role" in capsys.readouterr().err

    assert not isinstance(raised.value, local_stack.EmulatorConflict)
    assert "stop" not in stack.calls
    assert "run `make up` again" in str(raised.value)


@pytest.fixture
def released(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(lock id, lock table) of every lock the stack releases."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(
        local_stack, "release", lambda lock, table, *_clients: calls.append((lock.lock_id, table))
    )
    monkeypatch.setattr(RecordingStack, "client", lambda _self, service: service)
    return calls


def test_an_apply_that_finds_its_own_lock_releases_it_and_applies_again(
    tmp_path: Path, released
) -> None:
    # Seen on the emulator: the lock's PutItem was performed, its answer lost, the retry found it.
    own = lock_error(datetime.now(UTC) + timedelta(seconds=1))
    stack = RecordingStack(tmp_path, [(1, own), (0, "")])

    stack.up(smoke=False)

    assert stack.calls.count("apply") == 2
    assert released == [("9fc89623-d171-5186-6baf-27ae7b632831", local_stack.LOCK_TABLE)]
    assert any("this apply's own" in line for line in stack.said)


def test_a_lock_taken_before_the_apply_started_is_someone_elses_and_is_left_alone(
    tmp_path: Path, released
) -> None:
    theirs = lock_error(datetime.now(UTC) - timedelta(minutes=5))
    stack = RecordingStack(tmp_path, [(1, theirs)])

    with pytest.raises(local_stack.StackError, match="errors are above"):
        stack.up(smoke=False)

    assert released == []


def test_any_terraform_command_releases_its_own_lost_lock_a_bounded_number_of_times(
    tmp_path: Path, released
) -> None:
    # The fire drill applies through Stack.terraform directly: the same repair applies there.
    own = lock_error(datetime.now(UTC) + timedelta(seconds=1))
    stack = RecordingStack(tmp_path, [(1, own), (0, "")])
    assert stack.terraform("apply", "-auto-approve", capture=True).returncode == 0
    assert stack.calls == ["apply (captured)"] * 2

    always = RecordingStack(tmp_path, [(1, own)] * (1 + local_stack.OWN_LOCK_RETRIES))
    with pytest.raises(local_stack.StackError, match="Error acquiring the state lock"):
        always.terraform("apply", "-auto-approve", capture=True)
    assert len(always.calls) == 1 + local_stack.OWN_LOCK_RETRIES
    assert len(released) == 1 + local_stack.OWN_LOCK_RETRIES
