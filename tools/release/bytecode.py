"""Bytecode shipped with the sources, deterministic.

Lambda's code and layer directories are read-only, so Python cannot cache what it compiles:
without shipped bytecode every cold start compiles every module it imports (what that costs is
in docs/benchmarks.md). The
bytecode is unchecked-hash .pyc (PEP 552, no timestamps), compiled by an interpreter of the
target Python version, with the path the file has inside Lambda (/var/task/..., /opt/python/...)
as its recorded file name, so no build path leaks in and two builds stay byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools.release.errors import BuildError
from tools.release.files import sha256_file
from tools.release.target import LAMBDA_ROOTS

_COMPILER = """
import json, py_compile, sys
for source, target, dfile in json.load(sys.stdin):
    py_compile.compile(source, cfile=target, dfile=dfile, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
"""


def target_interpreter(python: str) -> str:
    """An interpreter of the target version: bytecode is only valid for its own version."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == python:
        return sys.executable
    explicit = os.environ.get(f"BUILD_PYTHON_{python.replace('.', '_')}")
    candidates = [explicit] if explicit else []
    candidates += [shutil.which(f"python{python}")]
    candidates += sorted(
        (str(p) for p in Path.home().glob(f".pyenv/versions/{python}.*/bin/python{python}")),
        reverse=True,
    )
    for candidate in candidates:
        if candidate and _runs_version(candidate, python):
            return candidate
    raise BuildError(
        f"bytecode for the python{python} runtime needs a Python {python} interpreter; install "
        f"one or name it with BUILD_PYTHON_{python.replace('.', '_')}=/path/to/python{python}"
    )


def _runs_version(interpreter: str, python: str) -> bool:
    # A pyenv shim exists on PATH even when it cannot run that version: ask the interpreter.
    try:
        probe = subprocess.run(
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return probe.returncode == 0 and probe.stdout.strip() == python


def bytecode_entries(
    sources: dict[str, Path], kind: str, python: str, cache_dir: Path
) -> dict[str, Path]:
    """{arcname of the .pyc: compiled file} for every .py in `sources`, compiled once per
    (content, Lambda path, version) and kept in the cache."""
    tag = f"cpython-{python.replace('.', '')}"
    store = cache_dir / "bytecode" / tag
    entries: dict[str, Path] = {}
    missing: list[tuple[str, str, str]] = []
    for arcname, path in sources.items():
        if not arcname.endswith(".py"):
            continue
        folder, _, filename = arcname.rpartition("/")
        pyc_name = f"{folder}/__pycache__/{filename[:-3]}.{tag}.pyc".lstrip("/")
        lambda_path = f"{LAMBDA_ROOTS[kind]}/{arcname}"
        key = hashlib.sha256(
            sha256_file(path).encode() + b"\0" + lambda_path.encode() + b"\0" + tag.encode()
        ).hexdigest()
        compiled = store / key[:2] / f"{key}.pyc"
        if not compiled.exists():
            missing.append((str(path), str(compiled), lambda_path))
        entries[pyc_name] = compiled
    if missing:
        store.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [target_interpreter(python), "-I", "-c", _COMPILER],
            input=json.dumps(missing),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise BuildError(f"compiling bytecode failed:\n{proc.stderr[-3000:]}")
    return entries
