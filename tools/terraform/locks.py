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
from typing import Any


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


def release(lock: HeldLock, lock_table: str, dynamodb: Any, s3: Any) -> None:
    """Release `lock` as `terraform force-unlock` would, in both places the S3 backend keeps it
    (the DynamoDB lock table and the .tflock object), touching neither unless it holds this
    lock's id. force-unlock itself fails when one of the two was never written, which is what
    a lost answer leaves."""
    from botocore.exceptions import ClientError

    try:
        dynamodb.delete_item(
            TableName=lock_table,
            Key={"LockID": {"S": lock.path}},
            ConditionExpression="contains(Info, :id)",
            ExpressionAttributeValues={":id": {"S": lock.lock_id}},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    try:
        body = s3.get_object(Bucket=lock.bucket, Key=f"{lock.key}.tflock")["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
        return
    if lock.lock_id in body.decode(errors="replace"):
        s3.delete_object(Bucket=lock.bucket, Key=f"{lock.key}.tflock")
