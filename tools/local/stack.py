"""The local stack: the real Terraform applied to the local AWS emulator, running the real code.

    python -m tools.local.stack up      emulator -> state bucket -> build -> apply -> seed -> smoke
    python -m tools.local.stack down    stop the emulator this tool started (everything in it goes)
    python -m tools.local.stack status  what runs, and whether the API answers
    python -m tools.local.stack logs    function logs (-f to follow)
    python -m tools.local.stack clean   down, then remove local state (emulator, terraform data)

Environment: EMULATOR_PORT (default 4566), EMULATOR_* (see tools/local/ministack.py).

The emulator keeps its state in memory: `down` discards the stack, and the next `up` builds it
again from nothing. `up` on a running stack re-applies (no changes), re-seeds and re-checks.
Other tools and the end-to-end tests use `Stack.up()` with their own port and directories.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.local import ministack
from tools.ops import identity
from tools.ops.seed import Target, seed_customer_accounts, seed_load_test, simulator_address
from tools.release import build
from tools.terraform.locks import held_lock, release

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_ROOT = REPO_ROOT / "terraform" / "environments" / "local"
TF = REPO_ROOT / "tools" / "terraform" / "tf"
STATE_BUCKET = "orders-local-tfstate"
LOCK_TABLE = "orders-local-tflock"
SEED_STOCK = 1_000_000
SMOKE_SKU = "SMOKE-0001"
SMOKE_CUSTOMER = "smoke-check"
OWN_LOCK_RETRIES = 2  # a command's own lock lost by the emulator, released and run again


class StackError(RuntimeError):
    """A step failed; the message says what to do next."""


class EmulatorConflict(StackError):
    """The emulator holds an object that the Terraform state lacks.

    Seen under load: the emulator performs a create but its answer is lost, the provider
    retries, and the retry is refused with "already exists". The object then exists outside
    the state, and applying again meets the same refusal."""


CONFLICT_MARKERS = ("already exists", "ResourceConflictException", "ResourceInUseException")


def host_architecture() -> str:
    machine = platform.machine().lower()
    return "arm64" if machine in ("aarch64", "arm64") else "x86_64"


def _say(message: str) -> None:
    print(f"==> {message}", flush=True)


def copy_sources(destination: Path) -> Path:
    """A copy of what the build reads (services/, shared/, the locks, pyproject.toml), for a
    Stack with source_dir = the copy to build a changed version from."""
    for part in ("services", "shared", "tools/release/locks"):
        shutil.copytree(
            REPO_ROOT / part, destination / part, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO_ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


@dataclass
class Stack:
    """One local stack: an emulator on a port, a terraform data dir, a build output.

    `state_dir` (the emulator's files) defaults to EMULATOR_STATE_DIR or .local/emulator; the
    end-to-end tests give every stack its own port and directories."""

    port: int
    work_dir: Path = REPO_ROOT / ".local"
    dist_dir: Path = REPO_ROOT / "dist"
    # The tree whose services/ and shared/ are built (a test builds a changed copy).
    source_dir: Path = REPO_ROOT
    state_dir: Path | None = None
    say: Callable[[str], None] = _say
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tf_data_dir(self) -> Path:
        return self.work_dir / "terraform" / f"local-{self.port}"

    @property
    def aws_env(self) -> dict[str, str]:
        return {**ministack.aws_env(self.endpoint), "AWS_SESSION_TOKEN": ""}

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=ministack.region(),
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - the emulator's fixed credentials
        )

    # --- steps --------------------------------------------------------------------------------

    def _step(self, name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return action()
        finally:
            self.timings[name] = time.perf_counter() - started

    def _emulator_settings(self) -> None:
        # tools.local.ministack reads its port and directory from the environment of this process.
        os.environ["EMULATOR_PORT"] = str(self.port)
        if self.state_dir is not None:
            os.environ["EMULATOR_STATE_DIR"] = str(self.state_dir)

    def start_emulator(self) -> None:
        self._emulator_settings()
        try:
            ministack.ensure_running()
        except ministack.EmulatorError as error:
            raise StackError(str(error)) from None

    def stop_emulator(self) -> None:
        self._emulator_settings()
        ministack.stop(quiet=True)

    def bootstrap_state(self) -> None:
        """The state bucket and lock table, inside the emulator (what terraform/bootstrap makes
        in a real account: versioned, encrypted, public access blocked)."""
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=STATE_BUCKET)
        except s3.exceptions.ClientError:
            s3.create_bucket(
                Bucket=STATE_BUCKET,
                CreateBucketConfiguration={"LocationConstraint": ministack.region()},
            )
            s3.put_bucket_versioning(
                Bucket=STATE_BUCKET, VersioningConfiguration={"Status": "Enabled"}
            )
            s3.put_bucket_encryption(
                Bucket=STATE_BUCKET,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
            s3.put_public_access_block(
                Bucket=STATE_BUCKET,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
            self.say(f"state bucket {STATE_BUCKET} created")
        dynamodb = self.client("dynamodb")
        tables = dynamodb.list_tables()["TableNames"]
        if LOCK_TABLE not in tables:
            dynamodb.create_table(
                TableName=LOCK_TABLE,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                SSESpecification={"Enabled": True},
            )
            self.say(f"lock table {LOCK_TABLE} created")

    def build(self) -> dict[str, Any]:
        arch = host_architecture()
        try:
            result = build.build(self.source_dir, self.dist_dir, arch, "3.12")
        except build.BuildError as error:
            raise StackError(f"build failed: {error}") from None
        return result.manifest

    def terraform(
        self, *args: str, capture: bool = False, stderr: bool = False, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run terraform on the local root; `capture` keeps both streams, `stderr` only that."""
        env = {
            **os.environ,
            **self.aws_env,
            "TF_DATA_DIR": str(self.tf_data_dir),
            "TF_INPUT": "0",
            "TF_VAR_emulator_endpoint": self.endpoint,
            "TF_VAR_lambda_architecture": host_architecture(),
        }
        # Errors are always read, to find a lock the emulator lost the answer to; they reach
        # the terminal afterwards unless the caller keeps them.
        for attempt in range(1 + OWN_LOCK_RETRIES):
            started = time.time()
            proc = self._run_terraform(args, env, capture)
            lock = held_lock(proc.stderr) if proc.returncode != 0 else None
            if lock is None or lock.created < started - 1 or attempt == OWN_LOCK_RETRIES:
                break
            # This command's own lock: its PutItem was performed, its answer lost, and the
            # SDK's retry found it. Nobody else holds it: release it and run the command again.
            self.say(
                f"releasing state lock {lock.lock_id}: this {args[0]}'s own, its answer was lost"
            )
            release(lock, LOCK_TABLE, self.client("dynamodb"), self.client("s3"))
        if not (capture or stderr):
            sys.stderr.write(proc.stderr)
        if check and proc.returncode != 0:
            detail = f"\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}" if capture else ""
            raise StackError(
                f"terraform {args[0]} failed (exit {proc.returncode}).{detail}\n"
                "The state is kept in the emulator: fix the cause and run `make up` again to "
                "continue from where it stopped; `make clean` starts from nothing."
            )
        return proc

    def _run_terraform(
        self, args: Sequence[str], env: Mapping[str, str], capture: bool
    ) -> subprocess.CompletedProcess[str]:
        """One terraform command; its errors are always read, its output only if `capture`."""
        return subprocess.run(
            [str(TF), f"-chdir={LOCAL_ROOT}", *args],
            env=env,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE,
            check=False,
        )

    def init(self) -> None:
        endpoints = self.tf_data_dir / "endpoints.hcl"
        endpoints.parent.mkdir(parents=True, exist_ok=True)
        endpoints.write_text(
            "endpoints = {\n"
            f'  s3       = "{self.endpoint}"\n'
            f'  dynamodb = "{self.endpoint}"\n'
            f'  sts      = "{self.endpoint}"\n'
            "}\n"
        )
        self.terraform(
            "init",
            "-reconfigure",
            "-no-color",
            "-input=false",
            "-backend-config=backend.hcl",
            f"-backend-config={endpoints}",
            capture=True,
        )

    def apply(self) -> None:
        # Progress streams to the terminal; errors are kept to tell a conflict apart.
        proc = self.terraform(
            "apply", "-auto-approve", "-no-color", "-parallelism=30", stderr=True, check=False
        )
        sys.stderr.write(proc.stderr)
        if proc.returncode == 0:
            return
        if any(marker in proc.stderr for marker in CONFLICT_MARKERS):
            raise EmulatorConflict(
                f"terraform apply failed (exit {proc.returncode}): the emulator already holds an "
                "object the Terraform state does not know (a create it answered too late, "
                "under load). Its state lives in memory: `make down && make up` builds the "
                "stack again from nothing."
            )
        raise StackError(
            f"terraform apply failed (exit {proc.returncode}); its errors are above.\n"
            "The state is kept in the emulator: fix the cause and run `make up` again to "
            "continue from where it stopped; `make clean` starts from nothing."
        )

    def plan_is_empty(self) -> bool:
        proc = self.terraform(
            "plan", "-detailed-exitcode", "-no-color", "-lock=false", capture=True, check=False
        )
        if proc.returncode not in (0, 2):
            raise StackError(f"terraform plan failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        return proc.returncode == 0

    def outputs(self) -> dict[str, Any]:
        proc = self.terraform("output", "-json", "-no-color", capture=True)
        return {name: value["value"] for name, value in json.loads(proc.stdout).items()}

    def api_url(self, outputs: Mapping[str, Any] | None = None) -> str:
        api_id = (outputs or self.outputs())["api_id"]
        return f"{self.endpoint}/_aws/execute-api/{api_id}"

    def seed(self, outputs: Mapping[str, Any]) -> int:
        """Stock for every SKU of the load test data (more than any local run takes), a
        mailbox-simulator address for every customer, and a Cognito user for each with the
        local password (and one for the smoke check), as `make seed` gives an AWS environment."""
        written = seed_load_test(
            self.client("dynamodb"),
            outputs["platform"]["table_name"],
            SEED_STOCK,
            extra_skus=[SMOKE_SKU],
        )
        found = Target(self.client, outputs["platform"], "the local stack")
        seed_customer_accounts("local", found, {SMOKE_CUSTOMER: simulator_address(SMOKE_CUSTOMER)})
        return written

    def sign_in(self, outputs: Mapping[str, Any], customer: str) -> str:
        """An access token of a seeded customer (the local password)."""
        return identity.sign_in(
            self.client("cognito-idp"),
            outputs["platform"]["user_pool"]["customer_client_id"],
            customer,
            identity.LOCAL_CUSTOMER_PASSWORD,
        ).access_token

    def smoke(self, api_url: str, token: str, timeout_s: float = 60.0) -> tuple[str, float]:
        """One order accepted, then seen CONFIRMED; returns (order id, round trip seconds)."""
        body = {
            "customer_id": SMOKE_CUSTOMER,
            "currency": "EUR",
            "items": [{"sku": SMOKE_SKU, "quantity": 1, "unit_price": "1.00"}],
        }
        signed_in = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        status, accepted = http_json("POST", f"{api_url}/orders", body, headers=signed_in)
        if status != 202:
            raise StackError(f"smoke check: POST /orders answered {status}: {accepted}")
        order_id = accepted["order_id"]
        deadline = started + timeout_s
        while time.perf_counter() < deadline:
            status, order = http_json("GET", f"{api_url}/orders/{order_id}", headers=signed_in)
            if status == 200 and order["status"] != "PENDING":
                if order["status"] != "CONFIRMED":
                    raise StackError(f"smoke check: order {order_id} ended {order}")
                return order_id, time.perf_counter() - started
            time.sleep(0.1)
        raise StackError(
            f"smoke check: order {order_id} was not CONFIRMED within {timeout_s:.0f}s; "
            "see `make logs`"
        )

    def _run(self, steps: list[tuple[str, Callable[[], Any]]]) -> None:
        for index, (name, action) in enumerate(steps, start=1):
            self.say(f"[{index}/7] {name}")
            self._step(name, action)

    def up(self, smoke: bool = True) -> dict[str, Any]:
        """Bring the stack up. An apply refused by an emulator-side conflict (see
        EmulatorConflict) is retried once on a new emulator, which starts from nothing."""
        total = time.perf_counter()
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("emulator", self.start_emulator),
            ("state", self.bootstrap_state),
            ("build", self.build),
            ("init", self.init),
            ("apply", self.apply),
        ]
        try:
            self._run(steps)
        except EmulatorConflict as conflict:
            self.say(f"{conflict}\n    Doing that now, once: stopping the ministack.")
            self.stop_emulator()
            self._run(steps)
        outputs = self.outputs()
        self.say("[6/7] seed stock and customers")
        count = self._step("seed", lambda: self.seed(outputs))
        self.say(f"      {count} items")
        api_url = self.api_url(outputs)
        if smoke:
            self.say("[7/7] smoke check: one order, until CONFIRMED")
            token = self.sign_in(outputs, SMOKE_CUSTOMER)
            order_id, seconds = self._step("smoke", lambda: self.smoke(api_url, token))
            self.say(f"      order {order_id} CONFIRMED after {seconds:.2f}s")
        self.timings["total"] = time.perf_counter() - total
        return {**outputs, "api_url": api_url}


def running_stack() -> Stack:
    """The stack `make up` started (EMULATOR_PORT, EMULATOR_STATE_DIR), if its emulator answers."""
    state = ministack.status()
    if not state.running or not state.healthy:
        raise StackError(
            f"no local stack answers on port {state.port}: run `make up` first "
            "(with the same EMULATOR_PORT and EMULATOR_STATE_DIR)"
        )
    return Stack(port=state.port)


def http_json(
    method: str,
    url: str,
    body: Any = None,
    timeout: float = 10,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload or b"null")
        except ValueError:
            return error.code, payload.decode(errors="replace")


def _print_ready(result: Mapping[str, Any], stack: Stack) -> None:
    url = result["api_url"]
    example = json.dumps(
        {
            "customer_id": "cust-000001",
            "currency": "EUR",
            "items": [{"sku": SMOKE_SKU, "quantity": 1, "unit_price": "1.00"}],
        },
        separators=(",", ":"),
    )
    steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in stack.timings.items())
    print(
        f"""
The local stack is up ({steps}).

  API         {url}
              export API={url}
  sign in     export TOKEN=$(make -s token ENV=local USER=cust-000001)
  try it      curl -s -X POST "$API/orders" -H "Authorization: Bearer $TOKEN" \\
                -H 'Content-Type: application/json' -d '{example}'
  logs        make logs
  status      make status
  stop        make down     (the emulator keeps everything in memory: down discards it)
  load test   make loadtest ENV=local
""".rstrip()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local.stack", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    sub.add_parser("down")
    sub.add_parser("status")
    logs = sub.add_parser("logs")
    logs.add_argument("-f", "--follow", action="store_true")
    sub.add_parser("clean")
    args = parser.parse_args(argv)
    stack = Stack(port=ministack.port())
    try:
        if args.command == "up":
            result = stack.up()
            _print_ready(result, stack)
        elif args.command == "down":
            ministack.stop()
        elif args.command == "status":
            return _status(stack)
        elif args.command == "logs":
            return ministack.main(["logs", "--function", *(["--follow"] if args.follow else [])])
        elif args.command == "clean":
            ministack.stop(quiet=True)
            for path in (ministack.state_dir(), REPO_ROOT / ".local" / "terraform"):
                shutil.rmtree(path, ignore_errors=True)
            print("local stack state removed (.local/emulator, .local/terraform)")
    except StackError as error:
        print(f"\nlocal stack: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _status(stack: Stack) -> int:
    state = ministack.status()
    if not state.running:
        print(f"emulator: not running (port {state.port}); `make up` starts the local stack")
        return 1
    print(f"emulator: running, pid {state.pid}, {state.endpoint}, healthy={state.healthy}")
    stack.port = state.port
    try:
        url = stack.api_url()
    except StackError:
        print("stack:    not applied (no terraform outputs); run `make up`")
        return 1
    status, body = http_json("GET", f"{url}/health")
    print(f"api:      {url}  GET /health -> {status} {body}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
