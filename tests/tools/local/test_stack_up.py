"""tools/local/stack.py: how `up` answers an apply the emulator refused with a conflict.

The steps are replaced by recorders and terraform by canned results, so these tests prove the
orchestration only; the end-to-end tests run the real thing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tools.local import stack as local_stack

ALIAS_CONFLICT = (
    "Error: creating Lambda Alias (live): operation error Lambda: CreateAlias, https response "
    "error StatusCode: 409, ResourceConflictException: Alias already exists: live\n"
)
MISSING_ROLE = "Error: creating Lambda Function: InvalidParameterValueException: no such role\n"


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

    def terraform(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        assert args[0] == "apply"
        assert kwargs == {"stderr": True, "check": False}
        self.calls.append("apply")
        code, stderr = self.apply_results.pop(0)
        return subprocess.CompletedProcess(["terraform", *args], code, None, stderr)

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
