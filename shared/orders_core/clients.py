"""AWS clients, created once per execution environment and on first use.

On first use rather than at import: under Lambda SnapStart nothing created during init (HTTP
connections, credentials) is frozen into the snapshot and shared by every restored copy.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.client import BaseClient


@cache
def client(service: str) -> BaseClient:
    import boto3
    from botocore.config import Config

    # Fail fast inside a short function timeout; the caller decides what a failure means.
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
    )
    return boto3.client(service, config=config)
