"""A local stack for end-to-end tests: its own emulator port and directories, one per session."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.iam import deployed
from tools.iam.calls import ENV_DIR, session_log
from tools.iam.record import cloudtrail_calls, drain_cloudtrail
from tools.local.ministack import free_port
from tools.local.stack import Stack
from tools.ops import identity
from tools.ops.seed import seed


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


ADMIN = "admin"  # request(caller=ADMIN): the admin client's orders/admin token
BODY_CUSTOMER = "the body's customer"  # the default caller: see LocalStack.request
DEFAULT_CUSTOMER = "cust-000001"


@dataclass
class LocalStack:
    stack: Stack
    outputs: dict[str, Any]
    api_url: str
    recorded_until: float = 0.0
    tokens: dict[str, identity.Tokens] = field(default_factory=dict)

    def token(self, caller: str) -> str:
        """An access token of `caller` (a customer id, or ADMIN), reused until a minute before
        it expires. A customer the seeding did not create becomes a user first."""
        held = self.tokens.get(caller)
        if held is not None and held.expires_at - time.time() > 60:
            return held.access_token
        cognito, pool = self.client("cognito-idp"), self.platform["user_pool"]
        if caller == ADMIN:
            endpoint = f"{self.stack.endpoint}/oauth2/token"
            fresh = identity.admin_token(cognito, self.platform, endpoint)
        else:
            password = identity.LOCAL_CUSTOMER_PASSWORD
            identity.create_customers(
                cognito, pool["id"], {caller: f"success+{caller}@simulator.amazonses.com"}, password
            )
            fresh = identity.sign_in(cognito, pool["customer_client_id"], caller, password)
        self.tokens[caller] = fresh
        return fresh.access_token

    def record_calls(self) -> None:
        """Move the functions' calls the emulator logged since the last time into the test
        session's call log (tools/iam). The emulator's log goes with it: call this before the
        emulator is stopped or replaced."""
        log = session_log("e2e-local-stack")
        if log is None:
            return
        events, self.recorded_until = drain_cloudtrail(
            self.client("cloudtrail"), self.recorded_until
        )
        log.write(cloudtrail_calls(events, self.platform["function_names"].values()))

    def record_policies(self) -> None:
        """The functions' roles and resource policies as applied, for tools/iam to judge the
        recorded calls against."""
        directory = os.environ.get(ENV_DIR)
        if directory:
            names = self.platform["function_names"].values()
            snapshot = deployed.read_functions(self.client, names, "local")
            deployed.write(snapshot, Path(directory) / "deployed")

    @property
    def platform(self) -> dict[str, Any]:
        return self.outputs["platform"]

    def client(self, service: str) -> Any:
        return self.stack.client(service)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        caller: str | None = BODY_CUSTOMER,
    ) -> Response:
        """`caller` signs the request: a customer id, ADMIN, or None for no token. By default
        the customer_id of a dict body (the order's own customer), else DEFAULT_CUSTOMER for a
        POST (only customers place orders) and ADMIN otherwise (reads any customer's orders).
        An Authorization header given in `headers` is sent as it is."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if caller == BODY_CUSTOMER:
            named = body.get("customer_id") if isinstance(body, dict) else None
            if isinstance(named, str) and named:
                caller = named
            else:
                caller = DEFAULT_CUSTOMER if method == "POST" else ADMIN
        signed = {"Authorization": f"Bearer {self.token(caller)}"} if caller else {}
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{self.api_url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **signed, **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                payload, status, got = response.read(), response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            payload, status, got = error.read(), error.code, dict(error.headers)
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        return Response(status, parsed, got)

    def wait_for_final(self, order_id: str, timeout_s: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        last: Response | None = None
        while time.monotonic() < deadline:
            last = self.request("GET", f"/orders/{order_id}")
            if last.status == 200 and last.body["status"] != "PENDING":
                return last.body
            time.sleep(0.2)
        raise AssertionError(f"order {order_id} not final after {timeout_s}s: {last}")

    def sent_mail(self) -> list[dict[str, Any]]:
        url = f"{self.stack.endpoint}/_ministack/ses/messages"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return [m for messages in json.load(response)["messages"].values() for m in messages]

    def set_stock(self, sku: str, units: int) -> None:
        seed(self.client("dynamodb"), self.platform["table_name"], stock={sku: units})


@contextmanager
def running_local_stack(work_dir: Path) -> Iterator[LocalStack]:
    """Bring a stack up from nothing on a free port; stop its emulator afterwards."""
    saved = {
        name: os.environ.get(name)
        for name in ("EMULATOR_PORT", "EMULATOR_STATE_DIR", "EMULATOR_RECORD_CALLS")
    }
    os.environ["EMULATOR_RECORD_CALLS"] = "1"  # the functions' calls, for tools/iam
    stack = Stack(
        port=free_port(),
        work_dir=work_dir / "work",
        state_dir=work_dir / "emulator",
        say=lambda message: print(f"[local stack] {message}", flush=True),
    )
    local: LocalStack | None = None
    try:
        outputs = stack.up(smoke=False)
        local = LocalStack(stack, outputs, outputs["api_url"], time.time())
        local.record_policies()
        yield local
    finally:
        if local is not None:
            local.record_calls()
        stack.stop_emulator()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
