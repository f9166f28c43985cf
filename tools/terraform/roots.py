"""Run a terraform command in every module and root under terraform/.

python -m tools.terraform.roots validate    init -backend=false + validate, in parallel
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tools.terraform.hcl import REPO_ROOT, terraform_directories

TF = REPO_ROOT / "tools" / "terraform" / "tf"


@dataclass(frozen=True)
class Result:
    directory: Path
    ok: bool
    output: str


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TF), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TF_INPUT": "0"},
    )


def validate(directory: Path) -> Result:
    init = _run(["init", "-backend=false", "-no-color"], directory)
    if init.returncode != 0:
        return Result(directory, False, init.stdout + init.stderr)
    check = _run(["validate", "-no-color"], directory)
    return Result(directory, check.returncode == 0, check.stdout + check.stderr)


def roots() -> list[Path]:
    # tests/ folders hold *.tftest.hcl helpers, not roots of their own.
    return [d for d in terraform_directories() if "tests" not in d.relative_to(REPO_ROOT).parts]


def validate_all(workers: int = 4) -> list[Result]:
    directories = roots()
    results = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for index, result in enumerate(pool.map(validate, directories), start=1):
            status = "ok" if result.ok else "FAILED"
            print(
                f"[{index}/{len(directories)}] {result.directory.relative_to(REPO_ROOT)}: {status}",
                flush=True,
            )
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["validate"])
    parser.parse_args(argv)
    failed = [r for r in validate_all() if not r.ok]
    for result in failed:
        print(f"\n--- {result.directory.relative_to(REPO_ROOT)}\n{result.output}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
