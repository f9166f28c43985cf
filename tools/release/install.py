"""Installing the locked third-party dependencies for the Lambda target.

pip installs exactly the lock's pins (--no-deps --require-hashes) as wheels for the target
platform and Python version (--platform/--python-version/--only-binary=:all:), so what it
installs does not depend on the build machine. The install is cached under
<out>/.cache/deps/<key>, so a shared/ change re-zips without re-installing. What pip adds that
is not code or records build paths (bin/ scripts, tests, __pycache__ and .pyc, dist-info
RECORD/INSTALLER/REQUESTED/direct_url.json) is dropped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.release.errors import BuildError
from tools.release.files import builder_digest
from tools.release.lock import locked_requirements
from tools.release.target import ARCHES, RUNTIME_PROVIDED, canonical

DIST_INFO_NOISE = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


def pip_command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        *args,
        "--disable-pip-version-check",
        "--no-input",
    ]


def run_pip(args: list[str], what: str) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        noise = "is ignored: it is neither"
        stderr = "\n".join(line for line in proc.stderr.splitlines() if noise not in line)
        raise BuildError(f"pip failed to {what} (exit {proc.returncode}):\n{stderr[-4000:]}")


def clean_installed_tree(directory: Path) -> None:
    """Drop what pip adds that is not code or contains build paths."""
    shutil.rmtree(directory / "bin", ignore_errors=True)
    for top in ("tests", "test"):
        shutil.rmtree(directory / top, ignore_errors=True)
    for path in sorted(directory.rglob("*"), reverse=True):
        if path.is_dir() and path.name == "__pycache__":
            shutil.rmtree(path)
        elif path.is_file() and (
            path.suffix in (".pyc", ".pyo")
            or (path.parent.name.endswith(".dist-info") and path.name in DIST_INFO_NOISE)
        ):
            path.unlink()
    for dist_info in directory.glob("*.dist-info"):
        name = canonical(dist_info.name.rsplit("-", 1)[0])
        if name in RUNTIME_PROVIDED:
            raise BuildError(f"{name} is provided by the Lambda runtime but was installed")


def installed_dependencies(
    lock_text: str, arch: str, python: str, cache_dir: Path
) -> tuple[Path | None, bool]:
    """The directory holding the lock's packages for the target (cached); (dir, from_cache)."""
    if not locked_requirements(lock_text):
        return None, True
    key = hashlib.sha256(
        "\n".join([lock_text, arch, python, builder_digest()]).encode()
    ).hexdigest()[:24]
    target = cache_dir / "deps" / f"cp{python.replace('.', '')}-{arch}-{key}"
    if (target / ".complete").exists():
        return target, True
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".install-", dir=target.parent) as work:
        lock_file = Path(work) / "requirements.txt"
        lock_file.write_text(lock_text)
        staging = Path(work) / "site"
        run_pip(
            pip_command(
                "install",
                "--quiet",
                "--no-deps",
                "--require-hashes",
                "--no-compile",
                "--only-binary=:all:",
                "--platform",
                ARCHES[arch].pip,
                "--implementation",
                "cp",
                "--python-version",
                python,
                "--target",
                str(staging),
                "-r",
                str(lock_file),
            ),
            f"install the locked layer dependencies for {arch}/cp{python}",
        )
        clean_installed_tree(staging)
        (staging / ".complete").write_text("")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    for older in target.parent.glob(f"cp{python.replace('.', '')}-{arch}-*"):
        if older != target:  # an earlier lock's install: keep one per target
            shutil.rmtree(older, ignore_errors=True)
    return target, False
