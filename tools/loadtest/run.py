"""Running artillery: priming and warming the local stack, the run itself (bounded in time,
in its own process group), and the command of a distributed run."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tools.loadtest.common import CONFIG_FILE, FINAL_STATUSES, LOADTEST_DIR
from tools.loadtest.install import ARTILLERY_RUN, NODE_BIN, artillery_env


def call(method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None):
    """One JSON request: (status, parsed body, None for an error answer)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the run's own http(s) target
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def prime(
    url: str,
    orders_log: Path,
    pool: int = 4,
    timeout_s: float = 60.0,
    tokens: Mapping[str, str] | None = None,
) -> str:
    """Start the emulator's function processes calmly, before any load: one order
    created (with an Idempotency-Key) and read until final, and a customer's list, one
    request at a time (the first API, processor and notifier process); then `pool`
    orders created at once (as many API processes, each past its first idempotent
    create). A fresh emulator otherwise starts a dozen processes at once under load,
    ~1 s of its own CPU each, and requests time out. `tokens` (customer -> access token) signs
    the requests as the customer. Returns what happened."""
    started = time.monotonic()
    sys.path.insert(0, str(LOADTEST_DIR))
    from generate_data import DEFAULT_OUT

    customer = (DEFAULT_OUT / "customers.csv").read_text().splitlines()[1].split(",")
    sku = (DEFAULT_OUT / "skus.csv").read_text().splitlines()[1].split(",")
    body = {
        "customer_id": customer[0],
        "currency": customer[1],
        "items": [{"sku": sku[0], "quantity": 1, "unit_price": sku[1]}],
    }
    orders_log.parent.mkdir(parents=True, exist_ok=True)
    signed = {"Authorization": f"Bearer {tokens[customer[0]]}"} if tokens else {}

    def create(_: int = 0) -> str:
        status, accepted = call(
            "POST", f"{url}/orders", body, {"Idempotency-Key": str(uuid.uuid4()), **signed}
        )
        if status != 202:
            raise ValueError(f"POST /orders answered {status}")
        with orders_log.open("a") as log_file:
            log_file.write(f"{accepted['order_id']}\n")
        return accepted["order_id"]

    try:
        order_id = create()
        while True:
            status, order = call("GET", f"{url}/orders/{order_id}", headers=signed)
            if status == 200 and order["status"] in FINAL_STATUSES:
                break
            if time.monotonic() - started > timeout_s:
                return f"order {order_id} not final after {timeout_s:g} s"
            time.sleep(0.2)
        call("GET", f"{url}/customers/{quote(customer[0], safe='')}/orders?limit=10", None, signed)
        with ThreadPoolExecutor(max_workers=pool) as executor:
            list(executor.map(create, range(pool)))
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"failed: {error.__class__.__name__}: {error}"
    return f"every path answered, {pool} at once, in {time.monotonic() - started:.1f} s"


def run_artillery(
    cmd: Sequence[str],
    run_dir: Path,
    timeout_s: float,
    echo: bool = True,
    tokens: Path | None = None,
) -> tuple[int, bool]:
    """Run artillery in its own process group, saving (and echoing) its output;
    killed after `timeout_s`; its virtual users read their tokens from `tokens`. Returns
    (exit code, timed out)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    timed_out = threading.Event()
    with (run_dir / "artillery.log").open("w") as log_file:
        proc = subprocess.Popen(
            list(cmd),
            cwd=LOADTEST_DIR,
            env=artillery_env(run_dir, tokens),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if echo:
                    sys.stdout.write(line)
                log_file.write(line)
            rc = proc.wait()
        finally:
            timer.cancel()
    return rc, timed_out.is_set()


def artillery_args(env: str, target: str, overrides: Mapping[str, Any], report: Path) -> list[str]:
    return [
        "-e",
        env,
        "-t",
        target,
        "--overrides",
        json.dumps(overrides),
        "-o",
        str(report),
        str(CONFIG_FILE.relative_to(LOADTEST_DIR)),
    ]


def distributed_command(
    kind: str,
    env: str,
    target: str,
    count: int,
    region: str,
    overrides: Mapping[str, Any],
    report: Path,
    max_duration_s: int,
) -> list[str]:
    cmd = [str(NODE_BIN), str(ARTILLERY_RUN), f"run-{kind}", "--count", str(count)]
    cmd += ["--region", region]
    if kind == "fargate":
        cmd += ["--max-duration", f"{max_duration_s}s"]
    else:
        cmd += ["--architecture", "arm64"]
    return cmd + artillery_args(env, target, overrides, report)


def aws_credentials_available() -> bool:
    try:
        import boto3
    except ImportError:
        return False
    return boto3.Session().get_credentials() is not None
