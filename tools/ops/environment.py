"""An environment's Terraform outputs, for the operations tools: the local stack `make up`
started (its emulator on EMULATOR_PORT), or terraform/environments/<env> through its backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class EnvironmentUnreadable(RuntimeError):
    """The environment cannot be read; the message says what to do."""


def outputs(env: str) -> dict[str, Any]:
    """The root's outputs; the stack's own are under "platform"."""
    if env == "local":
        from tools.local import ministack
        from tools.local.stack import Stack, StackError

        state = ministack.status()
        if not state.running or not state.healthy:
            raise EnvironmentUnreadable(
                f"no local stack answers on port {state.port}: run `make up` first "
                "(with the same EMULATOR_PORT and EMULATOR_STATE_DIR)"
            )
        try:
            return Stack(port=state.port).outputs()
        except StackError as error:
            raise EnvironmentUnreadable(
                f"the local stack has no outputs; run `make up`\n{error}"
            ) from None
    from tools.release import deploy

    try:
        found = deploy.outputs(env)
    except deploy.DeployError as error:
        raise EnvironmentUnreadable(str(error)) from None
    if not found.get("platform"):
        raise EnvironmentUnreadable(
            f"{env} has no outputs: apply it first (make plan/apply ENV={env})"
        )
    return found


def client_factory(env: str, platform: dict[str, Any]) -> Callable[[str], Any]:
    """make_client(service): boto3 clients for the environment's resources. local: the emulator
    `make up` started, with its fixed credentials; an AWS environment: the caller's own
    credentials (AWS_PROFILE, a CI role's session) in the stack's region."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=30)
    if env == "local":
        from tools.local import ministack

        state = ministack.status()
        options: dict[str, Any] = {
            "endpoint_url": state.endpoint,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",  # the emulator's fixed credentials
        }
    else:
        options = {}
    region = platform.get("region")

    def make_client(service: str) -> Any:
        return boto3.client(service, region_name=region, config=config, **options)

    return make_client
