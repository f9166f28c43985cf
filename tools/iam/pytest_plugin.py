"""The test session records what it does for tools/iam, and judges it when it ends.

At the start (in the controlling process, before pytest-xdist starts its workers, which
inherit the environment), a directory of its own under `.local/iam/` is named in
IAM_CALLS_DIR (sessions running side by side do not mix); every process then records the
calls the functions make in the handler tests (tools/iam/record.py). The end-to-end tests add
the local stack's calls and its policies as applied, the environments tests Terraform's calls
and the deploy roles (tests/support). When the session ends, the recorded calls are judged
against those policies: the tables `make iam-check` prints are shown, and a call the policies
do not allow fails the session. `.local/iam/latest` then points at the directory, for
`make iam-check` (a session that applied no deployment leaves the last one there).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tools.iam import check, record
from tools.iam.calls import ENV_DIR, CallLog
from tools.iam.policy import Decision

LATEST = check.DEFAULT_DIR  # .local/iam/latest
ROOT = LATEST.parent


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if not _is_worker(config):
        directory = ROOT / f"session-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        (directory / "calls").mkdir(parents=True)
        os.environ[ENV_DIR] = str(directory)
    name = config.workerinput["workerid"] if _is_worker(config) else "main"
    log = CallLog(Path(os.environ[ENV_DIR]) / "calls" / f"unit-{name}.jsonl")
    record.install(record.FunctionCallRecorder(log, "unit"))


def _keep_only(directory: Path) -> None:
    """`directory` becomes the latest record; records of sessions no longer running go."""
    link = ROOT / ".latest"
    link.unlink(missing_ok=True)
    link.symlink_to(directory.name)
    link.replace(LATEST)
    for other in ROOT.glob("session-*"):
        pid = other.name.rsplit("-", 1)[-1]
        if other != directory and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(other, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _is_worker(session.config):
        return
    directory = Path(os.environ[ENV_DIR])
    reports, text = check.summarize(directory)
    if not reports:
        # No deployment was applied in this session: nothing to judge its calls against, and
        # the last record that had one stays `latest` (make test's second run, `alone`).
        shutil.rmtree(directory, ignore_errors=True)
        return
    _keep_only(directory)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", "IAM: recorded calls against the policies as deployed")
        reporter.write_line(text)
    if any(r.count(Decision.NOT_ALLOWED) for r in reports) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(
                "IAM: a recorded call is not allowed by the policies as deployed (DENIED above); "
                "`make iam-check` prints this again",
                red=True,
            )
