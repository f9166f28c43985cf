"""How the functions' AWS clients are configured: short timeouts, standard retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.client import BaseClient

# SES takes no idempotency key: the SDK resending a mail whose answer was lost (a read timeout)
# could mail the customer twice. The notifier retries what SES refused through its queue.
NOT_RETRIED_BY_THE_SDK = frozenset({"sesv2"})


def new_client(service: str) -> BaseClient:
    import boto3
    from botocore.config import Config

    # Fail fast inside a short function timeout; the caller decides what a failure means.
    # (botocore's `max_attempts` counts retries: 3 is four attempts in all.)
    retries = 0 if service in NOT_RETRIED_BY_THE_SDK else 3
    config = Config(
        retries={"mode": "standard", "max_attempts": retries},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
    )
    return boto3.client(service, config=config)
