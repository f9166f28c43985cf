"""Run checkov over terraform/ from its own virtualenv (its pins clash with ours).

    python -m tools.terraform.checkov          install if needed, scan, exit 1 on any failed check

Checks are only ever skipped inline, next to the resource, with a reason:
    #checkov:skip=CKV_AWS_117:Functions here do not run in a VPC; see the module README
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tools.terraform.hcl import REPO_ROOT, TERRAFORM_DIR

CHECKOV_VERSION = "3.3.30"
VENV = REPO_ROOT / ".local" / "venvs" / "checkov"
CHECKOV = VENV / "bin" / "checkov"
# Keep checkov off the network: no update check, no platform mapping download.
OFFLINE_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}


def ensure_installed() -> Path:
    stamp = VENV / f".checkov-{CHECKOV_VERSION}"
    if stamp.exists():
        return CHECKOV
    print(
        f"==> installing checkov {CHECKOV_VERSION} into {VENV.relative_to(REPO_ROOT)}", flush=True
    )
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    pip = subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "--quiet", f"checkov=={CHECKOV_VERSION}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if pip.returncode != 0:
        raise RuntimeError(f"installing checkov failed:\n{pip.stdout}\n{pip.stderr}")
    stamp.touch()
    return CHECKOV


def scan(directory: Path = TERRAFORM_DIR) -> dict:
    """Run checkov and return its JSON report for the terraform framework."""
    checkov = ensure_installed()
    proc = subprocess.run(
        [
            str(checkov),
            "--directory",
            str(directory),
            "--framework",
            "terraform",
            "--skip-download",
            "--quiet",
            "--compact",
            "--output",
            "json",
            "--skip-path",
            r"\.terraform",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **OFFLINE_ENV},
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(
            f"checkov did not produce a report:\n{proc.stdout}\n{proc.stderr}"
        ) from None
    # An empty scan prints a summary without results; normalise to one shape.
    return report[0] if isinstance(report, list) else report


def failed_checks(report: dict) -> list[str]:
    return [
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:"
        f"{c['file_line_range'][0]})"
        for c in report.get("results", {}).get("failed_checks", [])
    ]


def main() -> int:
    report = scan()
    failures = failed_checks(report)
    summary = report.get("summary", {})
    print(
        f"checkov: {summary.get('passed', 0)} passed, {len(failures)} failed, "
        f"{summary.get('skipped', 0)} skipped (inline, with reasons)"
    )
    for failure in failures:
        print(f"  FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
