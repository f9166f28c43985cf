"""Deterministic zips: the same files give the same bytes on any machine, at any time.

Entries sorted, explicit directory entries, timestamps 1980-01-01 (or SOURCE_DATE_EPOCH),
permissions 0644 files / 0755 directories and shared objects, DEFLATE level 9. Deflate output
depends on the zlib implementation: stock zlib gives the same bytes everywhere; zlib-ng does
not.
"""

from __future__ import annotations

import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tools.release.files import sha256_file

COMPRESS_LEVEL = 9


@dataclass(frozen=True)
class ZipResult:
    path: Path
    sha256: str
    size: int
    unzipped_size: int
    entries: int


def zip_date_time() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return (1980, 1, 1, 0, 0, 0)
    stamp = time.gmtime(max(int(epoch), 315532800))  # zip cannot say anything before 1980
    return (stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, stamp.tm_sec)


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
