"""Where the load goes, and what the reconciliation may read afterwards.

`local`: the stack `make up` started (its Terraform outputs, the emulator's credentials);
staging and prod: the outputs of terraform/environments/<env>, read with the caller's
credentials; `--target URL`: the URL alone (nothing is read but the HTTP API).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tools.loadtest.common import LoadtestError
from tools.loadtest.tokens import SignIn
from tools.ops import identity

# make_client(service) -> a boto3 client with the credentials and endpoint of the environment.
ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class LocalEmulator:
    """What only a local stack offers a load test: the emulator process whose function workers
    it may kill, its own endpoints (sent mail) and the orders queue."""

    endpoint: str
    pid: int
    orders_queue_url: str


@dataclass
class Target:
    """The API's base URL, the dead-letter queues and the orders table of its environment.
    `aws` makes the clients that read them (None: they are not read)."""

    url: str
    dlq_urls: dict[str, str] = field(default_factory=dict)
    table_name: str | None = None
    aws: ClientFactory | None = None
    functions: dict[str, str] = field(default_factory=dict)  # service -> function name
    emulated: bool = False  # the local emulator: metrics from logs are not made
    sign_in: SignIn | None = None  # None: requests carry no token (a bare --target URL)
    emulator: LocalEmulator | None = None  # the local stack's emulator, when it is running


def _dlqs(outputs: Mapping[str, Any]) -> dict[str, str]:
    names = {"orders DLQ": "orders_dlq_url", "notifications DLQ": "notifications_dlq_url"}
    return {name: outputs[key] for name, key in names.items() if outputs.get(key)}


def local_target(stack: Any = None) -> Target:
    """The running local stack: its API URL, DLQs and table from its Terraform outputs.
    Without `stack`, the one `make up` started (EMULATOR_PORT, EMULATOR_STATE_DIR)."""
    from tools.local import ministack
    from tools.local.stack import StackError, running_stack

    try:
        stack = stack or running_stack()
    except StackError as error:
        raise LoadtestError(str(error)) from None
    try:
        outputs = stack.outputs()
    except StackError as error:
        raise LoadtestError(
            f"the local stack has no Terraform outputs; run `make up`\n{error}"
        ) from None

    def make_client(service: str) -> Any:
        return aws_client(
            service,
            endpoint_url=stack.endpoint,
            region_name=ministack.region(),
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - the emulator's fixed credentials
        )

    platform = outputs.get("platform") or {}
    state = ministack.status()
    emulator = None
    if state.pid and state.port == stack.port and platform.get("orders_queue_url"):
        emulator = LocalEmulator(stack.endpoint, state.pid, platform["orders_queue_url"])
    return Target(
        stack.api_url(outputs),
        _dlqs(outputs),
        platform.get("table_name"),
        make_client,
        dict(platform.get("function_names") or {}),
        emulated=True,
        emulator=emulator,
        sign_in=_sign_in(
            platform,
            make_client,
            identity.LOCAL_CUSTOMER_PASSWORD,
            f"{stack.endpoint}/oauth2/token",  # the emulator serves the pool's token endpoint
        ),
    )


def _sign_in(
    platform: Mapping[str, Any], make_client: ClientFactory, password: str, token_endpoint: str
) -> SignIn | None:
    pool = platform.get("user_pool")
    if not pool:
        return None
    cognito = make_client("cognito-idp")
    return SignIn(
        cognito,
        pool["customer_client_id"],
        password,
        lambda: identity.admin_token(cognito, platform, token_endpoint),
    )


def terraform_target(env: str) -> Target:
    """From the outputs of terraform/environments/<env> (tools.release.deploy: its backend and
    working data, as `make plan|apply ENV=<env>` use them). The queues and the table are
    read with the caller's credentials, in the environment's region."""
    from tools.release import deploy

    try:
        outputs = deploy.outputs(env)
    except deploy.DeployError as error:
        raise LoadtestError(f"{error}\n(or pass --target URL)") from None
    if not outputs.get("api_endpoint"):
        raise LoadtestError(f"{env} has no api_endpoint output (not applied?); or pass --target")
    platform = outputs.get("platform") or {}
    region = platform.get("region")

    def make_client(service: str) -> Any:
        return aws_client(service, **({"region_name": region} if region else {}))

    sign_in = None
    if platform.get("user_pool"):
        try:
            password = identity.customer_password(env, platform, make_client("ssm"), create=False)
        except identity.IdentityError as error:
            raise LoadtestError(str(error)) from None
        sign_in = _sign_in(platform, make_client, password, platform["user_pool"]["token_endpoint"])
    return Target(
        outputs["api_endpoint"],
        _dlqs(outputs),
        platform.get("table_name"),
        make_client,
        dict(platform.get("function_names") or {}),
        sign_in=sign_in,
    )


def aws_client(service: str, **options: Any) -> Any:
    """A client that gives up quickly: reconciliation must stay bounded in time, also when
    the target has fallen over under the load. Enough connections for parallel readers."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=5,
        read_timeout=10,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=32,
    )
    return boto3.client(service, config=config, **options)


def is_loopback(url: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: the only targets a local run may have."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
