"""The session's end: recorded calls judged, a call not allowed fails the session."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.tools.iam.test_check import CALLS, ROLE, snapshot
from tools.iam import pytest_plugin
from tools.iam.calls import ENV_DIR, CallLog


class Reporter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_sep(self, _sep: str, title: str) -> None:
        self.lines.append(title)

    def write_line(self, line: str, **_: object) -> None:
        self.lines.append(line)


def session_with(reporter: Reporter) -> SimpleNamespace:
    plugins = SimpleNamespace(get_plugin=lambda _name: reporter)
    return SimpleNamespace(config=SimpleNamespace(pluginmanager=plugins), exitstatus=0)


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    root = tmp_path / "iam"
    directory = root / "session-1-999999999"
    monkeypatch.setattr(pytest_plugin, "ROOT", root)
    monkeypatch.setattr(pytest_plugin, "LATEST", root / "latest")
    monkeypatch.setenv(ENV_DIR, str(directory))
    CallLog(directory / "calls" / "unit.jsonl").write(CALLS)
    return directory


def deploy(directory, document_edit=None) -> None:
    deployed = snapshot()
    if document_edit:
        document_edit(deployed["roles"][ROLE][0]["document"])
    (directory / "deployed").mkdir(parents=True, exist_ok=True)
    (directory / "deployed" / "dev.json").write_text(json.dumps(deployed))


def test_a_call_the_deployed_policies_do_not_allow_fails_the_session(recorded):
    deploy(recorded, lambda document: document["Statement"].pop())  # the queue statement
    reporter = Reporter()
    session = session_with(reporter)
    pytest_plugin.pytest_sessionfinish(session, 0)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert any("DENIED      sqs.SendMessage (unit)" in line for line in reporter.lines)
    assert (recorded.parent / "latest").resolve() == recorded


def test_calls_the_policies_allow_leave_the_session_passing(recorded):
    deploy(recorded)
    session = session_with(Reporter())
    pytest_plugin.pytest_sessionfinish(session, 0)
    assert session.exitstatus == 0


def test_a_session_that_applied_nothing_judges_nothing_and_keeps_the_last_record(recorded):
    session = session_with(Reporter())
    pytest_plugin.pytest_sessionfinish(session, 0)
    assert session.exitstatus == 0
    assert not recorded.exists()
