"""What goes into each artifact, and the input digest that decides whether it is rebuilt.

One function artifact per services/<name>/handler.py (the package directory <name>/ at the
zip root) and one layer: python/<package>/ for every package in shared/ plus the locked
third-party dependencies. Tests, caches, dotfiles and the build machine's stray bytecode are
never inputs. An artifact's input digest covers its files (paths and contents), the lock,
the target arch and Python version, SOURCE_DATE_EPOCH, the manifest schema and the builder's
own code.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tools.release.errors import BuildError
from tools.release.files import builder_digest, sha256_file
from tools.release.lock import locked_requirements
from tools.release.manifest import SCHEMA_VERSION
from tools.release.target import LAYER
from tools.release.zips import zip_date_time

EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test", ".pytest_cache", ".mypy_cache"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
EXCLUDED_FILE_RE = re.compile(r"^(test_.*\.py|.*_test\.py|conftest\.py)$")


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
            f"builder {builder_digest()}",
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
