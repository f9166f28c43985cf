"""File primitives every build step uses: content digests, atomic writes, and the digest of
the builder's own code (part of every input digest, so a changed builder rebuilds)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

# The modules of the build itself (tests check this covers whatever tools.release.build
# imports): a change to any of them changes what the build makes.
BUILDER_MODULES = (
    "build.py",
    "bytecode.py",
    "errors.py",
    "files.py",
    "install.py",
    "lock.py",
    "manifest.py",
    "sources.py",
    "target.py",
    "zips.py",
)

_BUILDER_DIGEST: str | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def builder_digest() -> str:
    global _BUILDER_DIGEST
    if _BUILDER_DIGEST is None:
        package = Path(__file__).resolve().parent
        digest = hashlib.sha256()
        for name in BUILDER_MODULES:
            digest.update(f"{name} {sha256_file(package / name)}\0".encode())
        _BUILDER_DIGEST = digest.hexdigest()
    return _BUILDER_DIGEST
