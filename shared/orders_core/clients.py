"""How the functions' AWS clients are configured: short timeouts, standard retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.client import BaseClient


def new_client(service: str) -> BaseClient:
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
