"""Helpers for the build tests: run tools.release.build, make fixture repositories, read zips."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]

# pip pointed at nothing and uv offline: a build that tries to download fails instead.
OFFLINE = {
    "PIP_NO_INDEX": "1",
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    "PIP_EXTRA_INDEX_URL": "",
    "PIP_FIND_LINKS": "",
    "UV_OFFLINE": "1",
}


@dataclass
class Build:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_build(
    root: Path, out: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> Build:
    command = [
        sys.executable,
        "-m",
        "tools.release.build",
        "--root",
        str(root),
        "--out",
        str(out),
        *args,
    ]
    started = time.perf_counter()
    proc = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    result = Build(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - started)
    if check and proc.returncode != 0:
        raise AssertionError(f"build failed ({proc.returncode}):\n{result.output}")
    return result


def manifest(out: Path, arch: str) -> dict:
    return json.loads((out / arch / "manifest.json").read_text())


def artifact_zip(out: Path, arch: str, name: str) -> Path:
    return out / arch / manifest(out, arch)["artifacts"][name]["path"]


def names_in(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under `directory` with its mtime_ns and size."""
    state = {}
    for path in sorted(directory.rglob("*")):
        stat = path.stat()
        state[path.relative_to(directory).as_posix()] = (stat.st_mtime_ns, stat.st_size)
    state["."] = (directory.stat().st_mtime_ns, 0)
    return state


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_fixture_repo(root: Path, dependencies: list[str] | None = None) -> Path:
    """A small repository shaped like ours, with the clutter a build must leave out."""
    deps = ", ".join(json.dumps(d) for d in dependencies or [])
    write(
        root / "pyproject.toml",
        f'[project]\nname = "fixture"\nversion = "0"\ndependencies = [{deps}]\n',
    )
    core = root / "shared" / "fixture_core"
    write(core / "__init__.py", '"""Fixture shared package."""\n')
    write(core / "domain.py", "def greet(name):\n    return f'hello {name}'\n")
    write(core / "events" / "__init__.py", "")
    write(core / "events" / "publisher.py", "from fixture_core.domain import greet\nTOPIC = 1\n")
    write(core / "__pycache__" / "domain.cpython-312.pyc", "not code")
    write(core / "tests" / "test_domain.py", "def test_x():\n    pass\n")
    for name in ("svc_a", "svc_b"):
        service = root / "services" / name
        write(service / "__init__.py", "")
        write(
            service / "handler.py",
            "from fixture_core.domain import greet\n"
            f"from {name}.models import NAME\n\n\n"
            "def lambda_handler(event, context):\n    return greet(NAME)\n",
        )
        write(service / "models.py", f"NAME = {name!r}\n")
        write(service / "__pycache__" / "handler.cpython-312.pyc", "stale bytecode")
        write(service / "stale.pyc", "stale bytecode")
        write(service / "tests" / "test_handler.py", "def test_x():\n    pass\n")
        write(service / "tests" / "helpers.py", "HELPER = 1\n")
        write(service / "test_local.py", "def test_x():\n    pass\n")
        write(service / "conftest.py", "")
        write(service / ".DS_Store", "junk")
    write(root / "services" / "svc_a" / "schemas" / "order.json", '{"type": "object"}\n')
    # Modes a checkout may have; the zips must not carry them.
    (root / "services" / "svc_a" / "handler.py").chmod(0o755)
    (root / "services" / "svc_a" / "models.py").chmod(0o600)
    (root / "services" / "svc_a" / "schemas").chmod(0o700)
    write(root / "services" / "not_a_service" / "README.md", "no handler.py: not built\n")
    return root


def copy_repo_sources(destination: Path) -> Path:
    """pyproject, lock files, shared/ and services/ of this repository, in `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "pyproject.toml", destination / "pyproject.toml")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in ("shared", "services", "tools/release/locks"):
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
    return destination


def target_python(version: str = "3.12") -> str | None:
    """A real interpreter of the Lambda target's Python version on this machine, if any."""
    candidates = [os.environ.get(f"BUILD_TEST_PYTHON{version.replace('.', '')}", "")]
    candidates += sorted(
        glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}"))
    )
    candidates += [shutil.which(f"python{version}") or ""]
    for candidate in filter(None, candidates):
        try:
            proc = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if proc.returncode == 0 and proc.stdout.strip() == version:
            return candidate
    return None


def runtime_provided_dir(destination: Path, names: frozenset[str]) -> Path:
    """Stand-in for what the Lambda runtime provides (boto3 & co): links into this venv."""
    from importlib import metadata

    destination.mkdir(parents=True, exist_ok=True)
    for name in sorted(names):
        files = metadata.distribution(name).files or []
        tops = {
            f.parts[0]
            for f in files
            if ".dist-info" not in f.parts[0] and f.parts[0] not in ("..", "bin", "__pycache__")
        }
        for top in tops:
            source = Path(str(metadata.distribution(name).locate_file(top)))
            link = destination / top
            if source.exists() and not link.exists():
                link.symlink_to(source)
    return destination


def unpack(zip_path: Path, destination: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(destination)
    return destination


def run_isolated(python: str, path: list[Path], code: str, env: dict[str, str] | None = None):
    """Run `code` in a clean interpreter (-I -S: no site-packages, no PYTHON* variables)
    whose sys.path starts with `path`, like /var/task and /opt/python on Lambda."""
    prelude = (
        "import sys\n"
        f"sys.path[:0] = {[str(p) for p in path]!r}\n"
        "sys.path[:] = [p for p in sys.path if p and 'site-packages' not in p]\n"
    )
    return subprocess.run(
        [python, "-I", "-S", "-c", prelude + code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), **(env or {})},
        check=False,
    )


def bytecode_problems(archive_path: Path, lambda_root: str, tag: str = "cpython-312") -> list[str]:
    """What is wrong with the bytecode in a zip: every .pyc must sit in __pycache__ next to its
    shipped .py, be an unchecked-hash pyc (PEP 552: no timestamp, not checked against the
    source, so it is both reproducible and used as is) and name its file as Lambda sees it."""
    import marshal

    problems = []
    with zipfile.ZipFile(archive_path) as archive:
        names = set(archive.namelist())
        for name in sorted(n for n in names if n.endswith((".pyc", ".pyo"))):
            folder, _, filename = name.rpartition("/")
            stem, _, suffix = filename.partition(".")
            source = f"{folder.removesuffix('/__pycache__')}/{stem}.py"
            if not folder.endswith("__pycache__") or suffix != f"{tag}.pyc":
                problems.append(f"{name}: not {tag} bytecode in a __pycache__ directory")
                continue
            if source not in names:
                problems.append(f"{name}: no {source} beside it")
                continue
            data = archive.read(name)
            flags = int.from_bytes(data[4:8], "little")
            if flags != 0b01:
                problems.append(f"{name}: flags {flags:#b}, not an unchecked-hash pyc")
                continue
            code = marshal.loads(data[16:])  # noqa: S302 - bytecode we just built
            if code.co_filename != f"{lambda_root}/{source}":
                problems.append(f"{name}: compiled as {code.co_filename}")
    return problems
