"""The state lock Terraform names when it cannot acquire it.

The local emulator sometimes performs a request and loses its answer under load; when that
request is the lock's conditional PutItem, the SDK's retry finds the lock the first attempt
stored, and Terraform reports its own lock as held by someone else. A lock created after the
command started, by this user, can only be that command's own: it is safe to release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class HeldLock:
    lock_id: str
    path: str  # <bucket>/<key> of the state
    who: str
    created: float  # epoch seconds

    @property
    def bucket(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def key(self) -> str:
        return self.path.split("/", 1)[1]


def held_lock(output: str) -> HeldLock | None:
    """The lock an "Error acquiring the state lock" message names, or None."""
    if "Error acquiring the state lock" not in output:
        return None
    fields = {
        label: re.search(rf"(?m)^\W*{label}:[ \t]+(\S+(?: \S+)?)", output)
        for label in ("ID", "Path", "Who", "Created")
    }
    if not all(fields[label] for label in ("ID", "Path", "Created")):
        return None
    created = datetime.fromisoformat(fields["Created"].group(1)[:26]).replace(tzinfo=UTC)
    return HeldLock(
        lock_id=fields["ID"].group(1).split()[0],
        path=fields["Path"].group(1).split()[0],
        who=fields["Who"].group(1).split()[0] if fields["Who"] else "",
        created=created.timestamp(),
    )
