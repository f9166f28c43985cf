"""Recorded AWS API calls: what a function or Terraform asked of AWS, as JSON lines.

A call names its caller (`principal`: a role ARN, or `function:<service package>` for a
function seen in the unit tests, resolved to its deployed role later), the botocore service
and operation, the request parameters that identify resources, and the region and account.

Recorders write calls to `<dir>/<name>.jsonl`, one object a line; `read_calls` reads a
directory of them back.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ENV_DIR = "IAM_CALLS_DIR"  # where the test session's recorders write (tools/iam/pytest_plugin.py)


@dataclass(frozen=True)
class Call:
    principal: str
    service: str  # botocore's service name: dynamodb, sesv2, logs, apigatewayv2, ...
    operation: str  # botocore's operation name: PutItem, SendEmail, ...
    params: Mapping[str, Any]
    region: str
    account: str
    source: str  # where it was seen: unit, e2e, terraform <step>
    # Values of the caller's settings when the call was made (TABLE_NAME=...), so that calls
    # seen against a test's own resources can be judged against a deployment's.
    settings: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)

    @classmethod
    def from_json(cls, line: str) -> Call:
        return cls(**json.loads(line))


class CallLog:
    """Appends calls to one JSON-lines file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, calls: list[Call] | Call) -> None:
        batch = [calls] if isinstance(calls, Call) else calls
        if not batch:
            return
        with self._lock, self.path.open("a") as out:
            out.writelines(call.to_json() + "\n" for call in batch)


def read_calls(directory: Path) -> Iterator[Call]:
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                yield Call.from_json(line)


def session_log(name: str) -> CallLog | None:
    """The call log `name` of the running test session, or None outside one."""
    directory = os.environ.get(ENV_DIR)
    return CallLog(Path(directory) / "calls" / f"{name}.jsonl") if directory else None
