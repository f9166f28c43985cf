"""The lock step: the layer's third-party dependencies, resolved for the Lambda target by uv.

tools/release/locks/layer-cp<py>-<arch>.txt pins exact versions, with hashes, of the
[project].dependencies of pyproject.toml resolved for the Lambda target, not for the build
machine: `uv pip compile --python-platform <arch>-manylinux2014 --python-version <py>
--only-binary :all: --generate-hashes`. install.py installs exactly those pins, so an
unchanged lock gives the same layer on any machine, whatever PyPI publishes meanwhile.

- uv is the one pinned in pyproject's dev extra, run by the build's own interpreter
  (`python -m uv`), never one found on PATH; uv configuration files are ignored (--no-config)
  so a lock depends on pyproject and this module only.
- What the Lambda runtime provides (target.RUNTIME_PROVIDED) is resolved but not emitted
  (--no-emit-package). uv still emits what only those packages need (botocore[crt] pulls in
  awscrt): such packages are found from uv's `# via` annotations and left out as well, by
  resolving once more with them added to --no-emit-package. Leaving them out of the lock,
  rather than pruning what pip installed, needs no map from distribution names to the
  directories they install (python-dateutil installs dateutil/).
- The header records a digest of the dependency list the lock was made from. When
  pyproject's dependencies change, the lock is re-resolved keeping the pins the new list
  still allows (uv prefers the pins found in its output file, which starts with the stale
  lock's pins), or, with --frozen, the build fails. Deleting a lock re-resolves it from
  scratch.
- uv lists the hash of every file of a pinned release (every platform's wheel and the sdist),
  not only the target's; pip installs the target's wheel and checks it against that list.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tools.release.errors import BuildError
from tools.release.files import atomic_write_bytes
from tools.release.target import ARCHES, RUNTIME_PROVIDED, canonical

# A PEP 508 requirement starts with the distribution name.
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    hashes: tuple[str, ...]  # "sha256:<hex>"
    via: tuple[str, ...]  # what requires it, as uv annotates it


def read_dependencies(root: Path) -> list[str]:
    with (root / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle).get("project", {})
    return list(project.get("dependencies", []))


def dependencies_digest(dependencies: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(dependencies)).encode()).hexdigest()


def lock_path(root: Path, arch: str, python: str) -> Path:
    return root / "tools" / "release" / "locks" / f"layer-cp{python.replace('.', '')}-{arch}.txt"


def parse_lock(text: str) -> list[LockedPackage]:
    """The pins of a lock file: `name==version` lines, each followed (uv's layout) or ended
    (the layout before uv) by `--hash=sha256:...` options, and uv's `# via` annotations."""
    entries: list[tuple[str, str, list[str], list[str]]] = []
    in_via = False
    for line in text.splitlines():
        words = line.strip().rstrip("\\").split()
        if not words:
            in_via = False
            continue
        if not line[0].isspace():
            in_via = False
            if not line.startswith("#"):
                name, _, version = words[0].partition("==")
                hashes = [w.removeprefix("--hash=") for w in words[1:] if w.startswith("--hash=")]
                entries.append((canonical(name), version, hashes, []))
            continue
        if not entries:
            continue
        _, _, hashes, via = entries[-1]
        if words[0].startswith("--hash="):
            hashes.append(words[0].removeprefix("--hash="))
        elif words[:2] == ["#", "via"]:
            in_via = len(words) == 2  # a bare "# via": one requirer per following line
            if not in_via:
                via.append(" ".join(words[2:]))
        elif in_via and words[0] == "#":
            via.append(" ".join(words[1:]))
        else:
            in_via = False
    return [LockedPackage(n, v, tuple(h), tuple(r)) for n, v, h, r in entries]


def locked_requirements(lock_text: str) -> list[str]:
    return [f"{package.name}=={package.version}" for package in parse_lock(lock_text)]


def shipped(packages: list[LockedPackage], roots: set[str]) -> set[str]:
    """Names of the packages reachable from the roots through packages that ship: a package
    whose every requirer is left out of the lock (or only needed by those) is not needed."""
    needed = {p.name for p in packages if p.name in roots}
    grew = True
    while grew:
        grew = False
        for package in packages:
            requirers = {canonical(via.split()[0]) for via in package.via}
            if package.name not in needed and requirers & needed:
                needed.add(package.name)
                grew = True
    return needed


def uv_command(*args: str) -> list[str]:
    # The venv's pinned uv: a uv on PATH may be any version, and resolve differently.
    if importlib.util.find_spec("uv") is None:
        raise BuildError(
            f"uv is not installed for {sys.executable}; `make venv` installs the version "
            "pinned in pyproject.toml"
        )
    return [sys.executable, "-m", "uv", *args]


def compile_args(arch: str, python: str, excluded: set[str], output: str) -> list[str]:
    """`uv pip compile` for the Lambda target, run from the repository root."""
    return [
        "pip",
        "compile",
        "pyproject.toml",
        "--python-platform",
        ARCHES[arch].uv,
        "--python-version",
        python,
        "--only-binary",
        ":all:",
        "--generate-hashes",
        *(arg for name in sorted(excluded) for arg in ("--no-emit-package", name)),
        "--no-config",
        "--no-header",
        "--annotation-style",
        "split",
        "--output-file",
        output,
    ]


def run_uv(args: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(uv_command(*args), cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"uv failed to {what} (exit {proc.returncode}):\n{proc.stderr[-4000:]}")


def _header(dependencies: list[str], arch: str, python: str, command: list[str] | None) -> str:
    lines = [
        "# Third-party runtime dependencies of the Lambda layer, for the Lambda target.",
        "# Generated by `python -m tools.release.build` from [project].dependencies in",
        "# pyproject.toml. Do not edit. Change the dependencies to re-resolve (pins they still",
        "# allow are kept), or delete this file to re-resolve from scratch.",
    ]
    if command is not None:
        lines.append(f"# Resolved by uv {metadata.version('uv')}, run from the repository root:")
        lines += textwrap.wrap(
            " ".join(["uv", *command]),
            width=92,
            initial_indent="#   ",
            subsequent_indent="#     ",
            break_on_hyphens=False,
            break_long_words=False,
        )
    lines += [
        f"# dependencies-digest: {dependencies_digest(dependencies)}",
        f"# target: cp{python.replace('.', '')} {ARCHES[arch].pip}",
    ]
    return "\n".join(lines) + "\n"


def resolve_lock(
    root: Path, dependencies: list[str], arch: str, python: str, previous: str | None = None
) -> str:
    """Resolve the dependencies for the Lambda target with uv and render the lock file text;
    `previous` (a stale lock) holds the pins to keep where the dependencies still allow."""
    if not dependencies:  # nothing to resolve: no uv, no network
        return _header(dependencies, arch, python, None) + "# (no third-party dependencies)\n"
    roots = {canonical(m[1]) for d in dependencies if (m := _REQUIREMENT_NAME.match(d))}
    excluded = set(RUNTIME_PROVIDED)
    shown = lock_path(root, arch, python).relative_to(root).as_posix()
    with tempfile.TemporaryDirectory(prefix="lock-") as work:
        output = Path(work) / "lock.txt"
        if previous is not None:
            # Pins only: uv would carry the stale lock's hashes over instead of the index's.
            output.write_text("".join(f"{pin}\n" for pin in locked_requirements(previous)))
        while True:
            run_uv(
                compile_args(arch, python, excluded, str(output)),
                root,
                f"resolve {', '.join(dependencies)} for {arch}/cp{python}",
            )
            body = output.read_text()
            packages = parse_lock(body)
            only_for_excluded = {p.name for p in packages} - shipped(packages, roots)
            if not only_for_excluded:
                break
            excluded |= only_for_excluded  # resolve again: the same pins, fewer emitted
    return _header(dependencies, arch, python, compile_args(arch, python, excluded, shown)) + body


def ensure_lock(root: Path, arch: str, python: str, frozen: bool) -> tuple[Path, str]:
    dependencies = read_dependencies(root)
    path = lock_path(root, arch, python)
    wanted = f"# dependencies-digest: {dependencies_digest(dependencies)}"
    previous = None
    if path.exists():
        previous = path.read_text()
        if wanted in previous.splitlines():
            return path, previous
        reason = "pyproject.toml dependencies changed"
    else:
        reason = "no lock file yet"
    if frozen:
        raise BuildError(
            f"{path.relative_to(root)} is stale or missing ({reason}) and --frozen was given; "
            "run `make build` locally and commit the lock file"
        )
    print(f"resolving third-party dependencies for {arch}/cp{python} ({reason}) ...", flush=True)
    text = resolve_lock(root, dependencies, arch, python, previous)
    atomic_write_bytes(path, text.encode())
    print(f"  wrote {path.relative_to(root)}: {', '.join(locked_requirements(text)) or '-'}")
    return path, text
