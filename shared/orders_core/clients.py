"""How the functions' AWS clients are configured: short timeouts, standard retries."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.client import BaseClient

# SES takes no idempotency key: the SDK resending a mail whose answer was lost (a read timeout)
# could mail the customer twice, and its throttling retries would ignore the notifier's pacing.
# So the SDK never retries SES; SesMailer retries only what SES answered with a throttle (a mail
# it did not take), paced and within the invocation's time, and the queue retries the rest.
NOT_RETRIED_BY_THE_SDK = frozenset({"sesv2"})


# botocore's limit on the user-agent app id.
APP_ID_MAX = 50


def new_client(service: str) -> BaseClient:
    import boto3
    from botocore.config import Config

    # Fail fast inside a short function timeout; the caller decides what a failure means.
    # (botocore's `max_attempts` counts retries: 3 is four attempts in all.)
    retries = 0 if service in NOT_RETRIED_BY_THE_SDK else 3
    # The function's name as the user-agent app id: CloudTrail's userAgent then says which
    # function made a request (on AWS, and on the emulator for tools/iam).
    config = Config(
        retries={"mode": "standard", "max_attempts": retries},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
        user_agent_appid=(os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "")[:APP_ID_MAX] or None,
    )
    return boto3.client(service, config=config)
