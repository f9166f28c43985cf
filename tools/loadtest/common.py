"""Paths, the refusal error and the progress line that every step of a run shares."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOADTEST_DIR = REPO_ROOT / "loadtest"
CONFIG_FILE = LOADTEST_DIR / "artillery.yml"
RUNS_DIR = REPO_ROOT / ".local" / "loadtest"

FINAL_STATUSES = frozenset({"CONFIRMED", "REJECTED"})
PROD_OPT_IN = "LOADTEST_ALLOW_PROD"


class LoadtestError(RuntimeError):
    """A refusal or setup problem: exit 2 with the message."""


def log(message: str) -> None:
    print(f"==> {message}", flush=True)
