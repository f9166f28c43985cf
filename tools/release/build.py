"""Build the Lambda artifacts: one zip per service and one layer, deterministic and incremental.

    python -m tools.release.build [--arch arm64|x86_64] [--python 3.12] [--out dist] [--frozen]

What it makes, in <out>/<arch>/ (arm64 for AWS, x86_64 for the local emulator, which runs the
handlers on this machine's CPU):

    <name>-<sha256[:16]>.zip   one per services/<name>/handler.py: the package directory
                               <name>/ at the zip root (handler "<name>.handler.lambda_handler")
    layer-<sha256[:16]>.zip    python/<package>/ for every package in shared/, plus the
                               third-party runtime dependencies under python/
    manifest.json              per artifact: path (relative to the manifest), sha256 (hex),
                               base64_sha256 (= Lambda's CodeSha256 = Terraform's
                               source_code_hash), sizes, input digest and inputs

The manifest is per architecture (dist/arm64/manifest.json is what `make publish` uploads;
dist/x86_64/manifest.json is what the local environment deploys), so both builds live side
by side and neither overwrites the other's paths. An environment root reads it as:

    locals {
      dist     = "${path.module}/../../../dist/x86_64"   # relative: same plan in any checkout
      manifest = jsondecode(file("${local.dist}/manifest.json"))
      artifacts = {
        for name, a in local.manifest.artifacts : name => {
          filename         = "${local.dist}/${a.path}"
          source_code_hash = a.base64_sha256
        }
      }
    }

Top level: schema_version, arch, python, runtime ("python3.12"), budgets, artifacts. Each
artifact: kind ("function" | "layer"), path, sha256, base64_sha256, size, unzipped_size,
entries, input_digest, inputs (repo-relative files and "pip:name==version"), arch, python,
runtime, and for functions handler ("<name>.handler.lambda_handler"). Keys are sorted and
the file is only rewritten when its content changes.

Decisions:
- boto3 does not ship. The Lambda Python runtime provides boto3 and botocore (and their
  dependencies s3transfer, jmespath, urllib3, python-dateutil, six); shipping a second copy
  costs ~20 MB unzipped and cold-start time, and the repository/publisher code only needs the
  client API every runtime version has. The set is RUNTIME_PROVIDED below.
- Third-party dependencies come from a lock file, tools/release/locks/layer-cp<py>-<arch>.txt:
  exact versions and wheel hashes for the target platform, resolved from the
  [project].dependencies of pyproject.toml with pip's --platform/--only-binary=:all:
  (`--dry-run --report`). Runtime-provided distributions, and whatever is reachable only
  through them, are left out of the lock by walking the resolved requirement graph with the
  target's environment markers; the layer is then installed with --no-deps --require-hashes
  from exactly that list. This is more robust than installing everything and pruning
  directories (top-level names differ from distribution names: python-dateutil -> dateutil)
  and keeps the build reproducible over time: an unchanged lock gives byte-identical zips on
  any machine, whatever PyPI publishes meanwhile. The lock records a digest of the
  dependency list it was made from; when pyproject's dependencies change the lock is
  re-resolved (or, with --frozen, the build fails).
- Bytecode ships with the sources. Lambda's code and layer directories are read-only, so
  Python cannot cache what it compiles: without shipped bytecode every cold start compiles
  every module it imports (measured by `make bench`: init 2.4-2.7x the boto3 floor with
  sources only, 1.1-1.5x with bytecode). The bytecode is deterministic: unchecked-hash .pyc
  (PEP 552, no timestamps), compiled by an interpreter of the target Python version, with the
  path the file has inside Lambda (/var/task/..., /opt/python/...) as its recorded file name,
  so no build path leaks in and two builds stay byte-identical. Stray caches of the build
  machine (__pycache__ in the sources, .pyc from pip) are never shipped.
- Deterministic zips: entries sorted, explicit directory entries, timestamps 1980-01-01
  (or SOURCE_DATE_EPOCH), permissions 0644 files / 0755 directories and shared objects,
  DEFLATE level 9, no build paths (dist-info RECORD/INSTALLER/REQUESTED/direct_url.json,
  bin/ scripts, __pycache__ and .pyc are dropped). Deflate output depends on the zlib
  implementation: stock zlib gives the same bytes everywhere; zlib-ng does not.
- Incremental: each artifact's input digest covers its source files (paths and contents),
  the lock, the target arch and Python version, SOURCE_DATE_EPOCH and this script's own
  source. An artifact whose digest matches the manifest and whose file still hashes to the
  recorded sha256 is not rebuilt; a build with nothing to do writes nothing. The pip install
  of the lock is cached under <out>/.cache/deps/<key> so a shared/ change re-zips without
  re-installing.
- Budgets (exit status 3 with a message, manifest not updated): a function zip may be at
  most 5 MiB zipped (its dependencies live in the layer: anything bigger is a mistake), and
  every function plus the layer must stay within Lambda's 250 MB unzipped limit.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_VERSION = 1

ARCHES = {
    "arm64": ("manylinux2014_aarch64", "aarch64"),
    "x86_64": ("manylinux2014_x86_64", "x86_64"),
}
PYTHONS = ("3.12", "3.13")

# Provided by the Lambda Python runtime; never shipped (see the module docstring).
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)

FUNCTION_BUDGET_BYTES = 5 * 1024 * 1024  # zipped, per function
LAMBDA_UNZIPPED_LIMIT_BYTES = 262_144_000  # function + all its layers, unzipped (AWS quota)
COMPRESS_LEVEL = 9
LAYER = "layer"

EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test", ".pytest_cache", ".mypy_cache"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
EXCLUDED_FILE_RE = re.compile(r"^(test_.*\.py|.*_test\.py|conftest\.py)$")
DIST_INFO_NOISE = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


class BuildError(RuntimeError):
    """A build that must not produce a manifest; the message says why."""


class BudgetError(BuildError):
    pass


# --- small helpers -------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def b64_of_hex(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def atomic_write_bytes(path: Path, data: bytes) -> bool:
    """Write unless the file already holds exactly these bytes; True when written."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def zip_date_time() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return (1980, 1, 1, 0, 0, 0)
    stamp = time.gmtime(max(int(epoch), 315532800))  # zip cannot say anything before 1980
    return (stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, stamp.tm_sec)


def source_files(directory: Path) -> Iterator[Path]:
    """Files of a source tree that belong in an artifact, sorted; no tests, caches or dotfiles."""
    for current, dirs, files in os.walk(directory):
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in EXCLUDED_DIRS and not d.startswith(".") and not d.endswith(".egg-info")
        )
        for name in sorted(files):
            if (
                name.startswith(".")
                or name.endswith(EXCLUDED_SUFFIXES)
                or EXCLUDED_FILE_RE.match(name)
            ):
                continue
            yield Path(current, name)


# --- deterministic zips --------------------------------------------------------------------


@dataclass(frozen=True)
class ZipResult:
    path: Path
    sha256: str
    size: int
    unzipped_size: int
    entries: int


def write_zip(entries: dict[str, Path], dest_dir: Path, stem: str) -> ZipResult:
    """Zip {arcname: file} deterministically and store it as <stem>-<sha256[:16]>.zip."""
    date_time = zip_date_time()
    directories: set[str] = set()
    for arcname in entries:
        parts = arcname.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directories.add("/".join(parts[:depth]) + "/")
    names = sorted([*entries, *directories])
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".zip.tmp", dir=dest_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    unzipped = 0
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name in names:
                info = zipfile.ZipInfo(name, date_time=date_time)
                info.create_system = 3  # Unix, so external_attr carries the mode
                if name.endswith("/"):
                    info.external_attr = (0o40755 << 16) | 0x10
                    info.compress_type = zipfile.ZIP_STORED
                    archive.writestr(info, b"")
                    continue
                data = entries[name].read_bytes()
                unzipped += len(data)
                executable = ".so" in Path(name).suffixes or name.endswith(".so")
                info.external_attr = (0o100755 if executable else 0o100644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=COMPRESS_LEVEL)
        digest = sha256_file(tmp)
        final = dest_dir / f"{stem}-{digest[:16]}.zip"
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ZipResult(final, digest, final.stat().st_size, unzipped, len(names))


# --- third-party dependencies: lock, install, cache -----------------------------------------


def read_dependencies(root: Path) -> list[str]:
    with (root / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle).get("project", {})
    return list(project.get("dependencies", []))


def dependencies_digest(dependencies: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(dependencies)).encode()).hexdigest()


def lock_path(root: Path, arch: str, python: str) -> Path:
    return root / "tools" / "release" / "locks" / f"layer-cp{python.replace('.', '')}-{arch}.txt"


def target_environment(arch: str, python: str) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "posix",
        "platform_machine": ARCHES[arch][1],
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": "linux",
    }


def _packaging():
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pip always carries a copy
        from pip._vendor.packaging.requirements import Requirement
    return Requirement


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


def resolve_lock(dependencies: list[str], arch: str, python: str) -> str:
    """Resolve the dependencies for the Lambda target and render the lock file text."""
    requirement_cls = _packaging()
    environment = target_environment(arch, python)
    header = [
        "# Third-party runtime dependencies of the Lambda layer, for the Lambda target.",
        "# Generated by `python -m tools.release.build` from [project].dependencies in",
        "# pyproject.toml;",
        "# do not edit. Delete it (or change the dependencies) to re-resolve.",
        f"# dependencies-digest: {dependencies_digest(dependencies)}",
        f"# target: cp{python.replace('.', '')} {ARCHES[arch][0]}",
    ]
    roots = []
    for text in dependencies:
        requirement = requirement_cls(text)
        if requirement.marker is None or requirement.marker.evaluate({**environment, "extra": ""}):
            roots.append((canonical(requirement.name), frozenset(requirement.extras)))
    if not roots:
        return "\n".join([*header, "# (no third-party dependencies)"]) + "\n"
    with tempfile.TemporaryDirectory(prefix="lock-") as work:
        report = Path(work) / "report.json"
        run_pip(
            pip_command(
                "install",
                "--dry-run",
                "--ignore-installed",
                "--quiet",
                "--report",
                str(report),
                "--only-binary=:all:",
                "--platform",
                ARCHES[arch][0],
                "--implementation",
                "cp",
                "--python-version",
                python,
                "--target",
                str(Path(work) / "target"),
                *dependencies,
            ),
            f"resolve {', '.join(dependencies)} for {arch}/cp{python}",
        )
        resolved = json.loads(report.read_text())["install"]
    by_name = {canonical(item["metadata"]["name"]): item for item in resolved}
    kept: dict[str, Any] = {}
    excluded: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    queue = list(roots)
    while queue:
        name, extras = queue.pop()
        if name in RUNTIME_PROVIDED:
            excluded.add(name)
            continue
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        item = by_name.get(name)
        if item is None:
            raise BuildError(
                f"{name} is required on {arch}/cp{python} but pip did not resolve it "
                "(pip evaluates markers for this machine, not the target)"
            )
        kept[name] = item
        for text in item["metadata"].get("requires_dist") or []:
            requirement = requirement_cls(text)
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({**environment, "extra": extra}) for extra in (extras or {""})
            ):
                continue
            queue.append((canonical(requirement.name), frozenset(requirement.extras)))
    excluded |= set(by_name) - set(kept)
    lines = list(header)
    lines.append(
        "# resolved but not shipped (the Lambda runtime provides them): "
        + (", ".join(sorted(excluded)) or "-")
    )
    for name in sorted(kept):
        item = kept[name]
        sha = item["download_info"].get("archive_info", {}).get("hashes", {}).get("sha256")
        if not sha:
            raise BuildError(f"pip reported no sha256 for {name}; cannot lock it")
        lines.append(f"{name}=={item['metadata']['version']} --hash=sha256:{sha}")
    return "\n".join(lines) + "\n"


def locked_requirements(lock_text: str) -> list[str]:
    return [
        line.split(" ", 1)[0]
        for line in lock_text.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def ensure_lock(root: Path, arch: str, python: str, frozen: bool) -> tuple[Path, str]:
    dependencies = read_dependencies(root)
    path = lock_path(root, arch, python)
    wanted = f"# dependencies-digest: {dependencies_digest(dependencies)}"
    if path.exists():
        text = path.read_text()
        if wanted in text.splitlines():
            return path, text
        reason = "pyproject.toml dependencies changed"
    else:
        reason = "no lock file yet"
    if frozen:
        raise BuildError(
            f"{path.relative_to(root)} is stale or missing ({reason}) and --frozen was given; "
            "run `make build` locally and commit the lock file"
        )
    print(f"resolving third-party dependencies for {arch}/cp{python} ({reason}) ...", flush=True)
    text = resolve_lock(dependencies, arch, python)
    atomic_write_bytes(path, text.encode())
    print(f"  wrote {path.relative_to(root)}: {', '.join(locked_requirements(text)) or '-'}")
    return path, text


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
        "\n".join([lock_text, arch, python, _script_digest()]).encode()
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
                ARCHES[arch][0],
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


# --- bytecode ------------------------------------------------------------------------------

# Where Lambda puts each artifact's files: the names compiled into the bytecode.
LAMBDA_ROOTS = {"function": "/var/task", "layer": "/opt"}

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


# --- the artifacts -------------------------------------------------------------------------


_SCRIPT_DIGEST: str | None = None


def _script_digest() -> str:
    global _SCRIPT_DIGEST
    if _SCRIPT_DIGEST is None:
        _SCRIPT_DIGEST = sha256_file(Path(__file__))
    return _SCRIPT_DIGEST


@dataclass
class Artifact:
    name: str
    kind: str  # "function" or "layer"
    sources: dict[str, Path] = field(default_factory=dict)  # arcname -> file
    inputs: list[str] = field(default_factory=list)  # repo-relative files (and locked pins)
    extra_digest: list[str] = field(default_factory=list)  # lock text etc.

    def input_digest(self, arch: str, python: str) -> str:
        digest = hashlib.sha256()
        for part in (
            f"schema {SCHEMA_VERSION}",
            f"builder {_script_digest()}",
            f"arch {arch}",
            f"python {python}",
            f"date {zip_date_time()}",
            *self.extra_digest,
        ):
            digest.update(part.encode() + b"\0")
        for arcname, path in sorted(self.sources.items()):
            digest.update(arcname.encode() + b"\0" + sha256_file(path).encode() + b"\0")
        return digest.hexdigest()


def discover_services(root: Path) -> list[str]:
    services = root / "services"
    if not services.is_dir():
        return []
    return sorted(p.parent.name for p in services.glob("*/handler.py") if p.is_file())


def discover_shared_packages(root: Path) -> list[str]:
    shared = root / "shared"
    if not shared.is_dir():
        return []
    return sorted(p.parent.name for p in shared.glob("*/__init__.py") if p.is_file())


def function_artifact(root: Path, name: str) -> Artifact:
    package = root / "services" / name
    artifact = Artifact(name, "function")
    for path in source_files(package):
        relative = path.relative_to(package).as_posix()
        artifact.sources[f"{name}/{relative}"] = path
        artifact.inputs.append(path.relative_to(root).as_posix())
    return artifact


def layer_artifact(root: Path, lock_file: Path, lock_text: str) -> Artifact:
    artifact = Artifact(LAYER, "layer")
    for package in discover_shared_packages(root):
        base = root / "shared" / package
        for path in source_files(base):
            artifact.sources[f"python/{package}/{path.relative_to(base).as_posix()}"] = path
            artifact.inputs.append(path.relative_to(root).as_posix())
    artifact.inputs.append(lock_file.relative_to(root).as_posix())
    artifact.inputs.extend(f"pip:{pin}" for pin in locked_requirements(lock_text))
    artifact.extra_digest.append(f"lock {hashlib.sha256(lock_text.encode()).hexdigest()}")
    return artifact


def add_dependencies(artifact: Artifact, deps_dir: Path) -> None:
    for path in sorted(deps_dir.rglob("*")):
        if not path.is_file() or path.name == ".complete":
            continue
        arcname = f"python/{path.relative_to(deps_dir).as_posix()}"
        if arcname in artifact.sources:
            raise BuildError(f"{arcname} is both in shared/ and a third-party dependency")
        artifact.sources[arcname] = path


# --- manifest, budgets, report -------------------------------------------------------------


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return manifest if manifest.get("schema_version") == SCHEMA_VERSION else {}


def render_manifest(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def up_to_date(entry: dict[str, Any] | None, arch_dir: Path, input_digest: str) -> bool:
    if not entry or entry.get("input_digest") != input_digest:
        return False
    path = arch_dir / str(entry.get("path", ""))
    return (
        path.is_file()
        and path.stat().st_size == entry.get("size")
        and sha256_file(path) == entry.get("sha256")
    )


def check_budgets(
    artifacts: dict[str, dict[str, Any]], function_budget: int, unzipped_limit: int
) -> list[str]:
    problems = []
    layer_unzipped = artifacts.get(LAYER, {}).get("unzipped_size", 0)
    for name, entry in sorted(artifacts.items()):
        if entry["kind"] != "function":
            continue
        if entry["size"] > function_budget:
            problems.append(
                f"{name}: zipped {human(entry['size'])} exceeds the function budget of "
                f"{human(function_budget)} (third-party code belongs in the layer)"
            )
        total = entry["unzipped_size"] + layer_unzipped
        if total > unzipped_limit:
            problems.append(
                f"{name}: function + layer unzipped {human(total)} exceeds Lambda's "
                f"{human(unzipped_limit)} limit"
            )
    if not any(e["kind"] == "function" for e in artifacts.values()) and (
        layer_unzipped > unzipped_limit
    ):
        problems.append(
            f"layer: unzipped {human(layer_unzipped)} exceeds Lambda's "
            f"{human(unzipped_limit)} limit"
        )
    return problems


def size_report(artifacts: dict[str, dict[str, Any]]) -> str:
    rows = [("artifact", "zipped", "unzipped", "entries", "sha256")]
    for name, entry in sorted(artifacts.items(), key=lambda item: (item[0] != LAYER, item[0])):
        rows.append(
            (
                name,
                human(entry["size"]),
                human(entry["unzipped_size"]),
                str(entry["entries"]),
                entry["sha256"][:16],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


# --- the build -----------------------------------------------------------------------------


@dataclass
class BuildResult:
    manifest_path: Path
    manifest: dict[str, Any]
    built: list[str]
    skipped: list[str]


def build(
    root: Path,
    out: Path,
    arch: str,
    python: str,
    *,
    frozen: bool = False,
    cache_dir: Path | None = None,
    function_budget: int = FUNCTION_BUDGET_BYTES,
    unzipped_limit: int = LAMBDA_UNZIPPED_LIMIT_BYTES,
) -> BuildResult:
    if arch not in ARCHES:
        raise BuildError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHES)}")
    if python not in PYTHONS:
        raise BuildError(f"unsupported python {python!r}; choose one of {', '.join(PYTHONS)}")
    arch_dir = out / arch
    cache_dir = cache_dir or out / ".cache"
    manifest_path = arch_dir / "manifest.json"
    previous = load_manifest(manifest_path).get("artifacts", {})

    lock_file, lock_text = ensure_lock(root, arch, python, frozen)
    services = discover_services(root)
    if LAYER in services:
        raise BuildError(f"services/{LAYER} would clash with the layer artifact; rename it")
    plan = [layer_artifact(root, lock_file, lock_text)]
    plan += [function_artifact(root, name) for name in services]

    entries: dict[str, dict[str, Any]] = {}
    built, skipped = [], []
    for index, artifact in enumerate(plan, start=1):
        prefix = f"[{index}/{len(plan)}]"
        digest = artifact.input_digest(arch, python)
        old = previous.get(artifact.name)
        if up_to_date(old, arch_dir, digest):
            entries[artifact.name] = old
            skipped.append(artifact.name)
            print(
                f"{prefix} {artifact.name} up to date ({human(old['size'])}, "
                f"sha256 {old['sha256'][:12]}…)",
                flush=True,
            )
            continue
        print(f"{prefix} building {artifact.name} ...", end=" ", flush=True)
        started = time.perf_counter()
        note = ""
        if artifact.kind == "layer":
            deps_dir, cached = installed_dependencies(lock_text, arch, python, cache_dir)
            if deps_dir is not None:
                add_dependencies(artifact, deps_dir)
                note = " deps from cache," if cached else " deps installed,"
        bytecode = bytecode_entries(artifact.sources, artifact.kind, python, cache_dir)
        result = write_zip({**artifact.sources, **bytecode}, arch_dir, artifact.name)
        entry: dict[str, Any] = {
            "kind": artifact.kind,
            "path": result.path.name,
            "sha256": result.sha256,
            "base64_sha256": b64_of_hex(result.sha256),
            "size": result.size,
            "unzipped_size": result.unzipped_size,
            "entries": result.entries,
            "input_digest": digest,
            "inputs": sorted(artifact.inputs),
            "arch": arch,
            "python": python,
            "runtime": f"python{python}",
        }
        if artifact.kind == "function":
            entry["handler"] = f"{artifact.name}.handler.lambda_handler"
        entries[artifact.name] = entry
        built.append(artifact.name)
        print(
            f"{human(result.size)} (sha256 {result.sha256[:12]}…,{note} "
            f"{time.perf_counter() - started:.1f}s)",
            flush=True,
        )

    problems = check_budgets(entries, function_budget, unzipped_limit)
    print(size_report(entries))
    if problems:
        raise BudgetError("size budget exceeded:\n  " + "\n  ".join(problems))

    manifest = {
        "schema_version": SCHEMA_VERSION,
        "arch": arch,
        "python": python,
        "runtime": f"python{python}",
        "budgets": {
            "function_zipped_bytes": function_budget,
            "lambda_unzipped_bytes": unzipped_limit,
        },
        "artifacts": entries,
    }
    atomic_write_bytes(manifest_path, render_manifest(manifest))
    keep = {entry["path"] for entry in entries.values()}
    for stale in arch_dir.glob("*.zip"):
        if stale.name not in keep:
            stale.unlink()
    return BuildResult(manifest_path, manifest, built, skipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", choices=sorted(ARCHES), default="arm64")
    parser.add_argument("--python", choices=PYTHONS, default="3.12")
    parser.add_argument("--out", type=Path, default=Path("dist"))
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root")
    parser.add_argument("--cache-dir", type=Path, help="pip install cache (default <out>/.cache)")
    parser.add_argument(
        "--frozen", action="store_true", help="fail instead of re-resolving a stale lock file"
    )
    parser.add_argument("--function-budget", type=int, default=FUNCTION_BUDGET_BYTES)
    parser.add_argument("--unzipped-limit", type=int, default=LAMBDA_UNZIPPED_LIMIT_BYTES)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        result = build(
            args.root.resolve(),
            args.out,
            args.arch,
            args.python,
            frozen=args.frozen,
            cache_dir=args.cache_dir,
            function_budget=args.function_budget,
            unzipped_limit=args.unzipped_limit,
        )
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 3 if isinstance(error, BudgetError) else 2
    verb = f"built {', '.join(result.built)}" if result.built else "nothing to do"
    print(f"{verb}; {result.manifest_path} ({time.perf_counter() - started:.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
