"""The test session records what it does for tools/iam, and judges it when it ends.

At the start (in the controlling process, before pytest-xdist starts its workers, which
inherit the environment), `.local/iam` is emptied and named in IAM_CALLS_DIR; every process
then records the calls the functions make in the handler tests (tools/iam/record.py). The
end-to-end tests add the local stack's calls and its policies as applied, the environments
tests Terraform's calls and the deploy roles (tests/support). When the session ends, the
recorded calls are judged against those policies: the tables `make iam-check` prints are
shown, and a call the policies do not allow fails the session.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tools.iam import check, record
from tools.iam.calls import ENV_DIR, CallLog
from tools.iam.policy import Decision

RECORD_DIR = check.DEFAULT_DIR


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if not _is_worker(config):
        shutil.rmtree(RECORD_DIR, ignore_errors=True)
        (RECORD_DIR / "calls").mkdir(parents=True)
        os.environ[ENV_DIR] = str(RECORD_DIR)
    name = config.workerinput["workerid"] if _is_worker(config) else "main"
    directory = Path(os.environ[ENV_DIR])
    record.install(
        record.FunctionCallRecorder(CallLog(directory / "calls" / f"unit-{name}.jsonl"), "unit")
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _is_worker(session.config):
        return
    reports, text = check.summarize(RECORD_DIR)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not reports:
        return  # no deployment was applied in this session: nothing to judge the calls against
    if reporter is not None:
        reporter.write_sep("=", "IAM: recorded calls against the policies as deployed")
        reporter.write_line(text)
    if any(r.count(Decision.NOT_ALLOWED) for r in reports) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(
                "IAM: a recorded call is not allowed by the policies as deployed (DENIED above)",
                red=True,
            )
