"""The pinned Node and artillery in loadtest/node_modules: installed when missing or stale,
verified before every run (earlier artillery 2.0.x releases phone home even with telemetry
disabled, so nothing but the pinned version runs)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from tools.loadtest.common import LOADTEST_DIR, RUNS_DIR, LoadtestError, log

LOCKFILE = LOADTEST_DIR / "package-lock.json"
NODE_MODULES = LOADTEST_DIR / "node_modules"
NODE_BIN = NODE_MODULES / "node" / "bin" / "node"
ARTILLERY_RUN = NODE_MODULES / "artillery" / "bin" / "run"
INSTALL_STAMP = NODE_MODULES / ".installed-lock-sha256"
ARTILLERY_VERSION = "2.0.34"
MIN_NODE = (22, 18)


def artillery_env(run_dir: Path | None = None, tokens: Path | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "ARTILLERY_DISABLE_TELEMETRY": "true",
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    for name in ("LOADTEST_RUN_DIR", "LOADTEST_TOKENS_FILE"):
        env.pop(name, None)
    if run_dir is not None:
        env["LOADTEST_RUN_DIR"] = str(run_dir)
    if tokens is not None:
        env["LOADTEST_TOKENS_FILE"] = str(tokens)  # processor.cjs: the customers' tokens
    return env


def lock_digest() -> str:
    return hashlib.sha256(LOCKFILE.read_bytes()).hexdigest()


def installed_versions() -> tuple[str, tuple[int, ...]]:
    """(artillery version, node version) of what node_modules holds."""
    version = json.loads((NODE_MODULES / "artillery" / "package.json").read_text())["version"]
    out = subprocess.run(
        [str(NODE_BIN), "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    node = tuple(int(p) for p in out.lstrip("v").split("."))
    return version, node


def ensure_installed(npm: str = "npm") -> None:
    """npm ci when node_modules is missing or older than the lockfile; verify pins.
    Serialised by a lock file, so parallel test workers install once."""
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    with (RUNS_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install(npm)


def _install(npm: str) -> None:
    stale = not INSTALL_STAMP.is_file() or INSTALL_STAMP.read_text().strip() != lock_digest()
    if stale or not NODE_BIN.is_file() or not ARTILLERY_RUN.is_file():
        if shutil.which(npm) is None:
            raise LoadtestError("npm not found: install Node.js/npm (any version) first")
        log("npm ci in loadtest/ (artillery and Node 22 from the npm registry)")
        started = time.monotonic()
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=LOADTEST_DIR,
            env=artillery_env(),
            check=False,
            timeout=900,
        )
        if proc.returncode != 0:
            raise LoadtestError(f"npm ci failed (exit {proc.returncode})")
        INSTALL_STAMP.write_text(lock_digest() + "\n")
        log(f"npm ci took {time.monotonic() - started:.0f} s")
    version, node = installed_versions()
    if version != ARTILLERY_VERSION:
        raise LoadtestError(
            f"node_modules has artillery {version}, not {ARTILLERY_VERSION}; refusing to run it"
        )
    if node[:2] < MIN_NODE:
        raise LoadtestError(f"{NODE_BIN} is Node {node}; artillery needs >= {MIN_NODE}")
