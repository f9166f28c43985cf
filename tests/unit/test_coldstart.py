"""What a function's init leaves behind: the collector paused (orders_core.coldstart), and
nothing a SnapStart snapshot must not freeze.

Every case runs in a fresh interpreter: what is checked is what a new execution environment
holds from its first import on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools.release.build import discover_services

REPO_ROOT = Path(__file__).resolve().parents[2]
# Every service: a new one is held to the same rules without being listed anywhere.
SERVICES = discover_services(REPO_ROOT)
FUNCTION_PROBE = """
import gc, json
frozen_at_start = gc.get_freeze_count()  # the interpreter's own, at startup
import {function}.handler as handler
from orders_core.entrypoint import EventSource
from tests.support.events import LambdaContext, http_api_event, sqs_event

paused_after_import = not gc.isenabled()
if handler.lambda_handler.event_source is EventSource.HTTP_API:
    event = http_api_event("GET", "/health")
elif handler.lambda_handler.event_source is EventSource.CODEDEPLOY_HOOK:
    # The hook's first invocation, with CodeDeploy and Lambda answered in process.
    from orders_core import wiring
    from orders_core.ports import DeploymentTarget, Invocation

    class Hooks:
        def target_of(self, deployment_id):
            return DeploymentTarget("orders-api", "2")

        def report(self, deployment_id, execution_id, succeeded):
            pass

    class Invoker:
        def invoke(self, function_name, version, event):
            return Invocation({{"statusCode": 200}})

    current = wiring.current()
    current.deploy_hooks, current.invoker = Hooks(), Invoker()
    event = {{"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "e-1"}}
else:
    message = {{"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": "not an order"}}
    event = sqs_event([message], "arn:aws:sqs:eu-west-1:123456789012:q", "eu-west-1")
handler.lambda_handler(event, LambdaContext())
print(json.dumps({{
    "paused_after_import": paused_after_import,
    "enabled_after_first_invocation": gc.isenabled(),
    "frozen_objects": gc.get_freeze_count() - frozen_at_start,
}}))
"""


SNAPSHOT_PROBE = """
import json, os, sys
import {function}.handler
from orders_core import wiring

def tcp_inodes():
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            inodes |= {{row.split()[9] for row in list(rows)[1:]}}
    return inodes

def socket_inodes():
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{{fd}}")
        except FileNotFoundError:  # the descriptor of the listing itself
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    return inodes

boto3 = sys.modules.get("boto3")
print(json.dumps({{
    "tcp_sockets": len(socket_inodes() & tcp_inodes()),
    "clients": len(wiring.built().clients_made) if wiring.built() else 0,
    "boto3_session": bool(boto3 and boto3.DEFAULT_SESSION),
}}))
"""


def run_fresh(code: str, in_lambda: bool, traced: bool = False) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("services", "shared", ".")),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "false" if traced else "true",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "POWERTOOLS_METRICS_NAMESPACE": "Tests",
        "TABLE_NAME": "orders",
        "ORDERS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
        "EVENT_BUS_NAME": "orders",
        "NOTIFICATION_SENDER": "orders@example.com",
    }
    if in_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "coldstart-test"
        env["LAMBDA_TASK_ROOT"] = str(REPO_ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", SERVICES)
def test_function_initialises_with_the_collector_paused_and_its_first_invocation_resumes_it(
    function: str,
) -> None:
    state = run_fresh(FUNCTION_PROBE.format(function=function), in_lambda=True)

    assert state["paused_after_import"], "the handler's imports ran with the collector on"
    assert state["enabled_after_first_invocation"], "the collector stayed off after init"
    assert state["frozen_objects"] > 10_000, "init's objects were not moved out of collection"


def test_outside_lambda_importing_and_invoking_a_handler_leaves_the_collector_alone() -> None:
    state = run_fresh(FUNCTION_PROBE.format(function="orders_api"), in_lambda=False)

    assert not state["paused_after_import"]
    assert state["enabled_after_first_invocation"]
    assert state["frozen_objects"] == 0


def test_first_invocation_that_raises_still_resumes_the_collector() -> None:
    state = run_fresh(
        """
        import gc, json
        from orders_core import coldstart

        coldstart.pause_collector()
        paused = not gc.isenabled()

        @coldstart.resumes_collector
        def handler(event, context):
            raise RuntimeError("dependency down")

        try:
            handler({}, None)
        except RuntimeError:
            pass
        print(json.dumps({"paused": paused, "enabled": gc.isenabled()}))
        """,
        in_lambda=True,
    )

    assert state == {"paused": True, "enabled": True}


def test_collector_disabled_before_init_is_left_disabled_by_the_first_invocation() -> None:
    # A runtime (or a wrapper script) that turned the collector off itself keeps it off.
    state = run_fresh(
        """
        import gc, json
        frozen_at_start = gc.get_freeze_count()
        gc.disable()
        from orders_core import coldstart

        coldstart.pause_collector()

        @coldstart.resumes_collector
        def handler(event, context):
            return "ok"

        handler({}, None)
        frozen = gc.get_freeze_count() - frozen_at_start
        print(json.dumps({"enabled": gc.isenabled(), "frozen": frozen}))
        """,
        in_lambda=True,
    )

    assert state == {"enabled": False, "frozen": 0}


@pytest.mark.parametrize("function", SERVICES)
def test_init_opens_no_connection_and_creates_no_client_for_a_snapshot_to_freeze(
    function: str,
) -> None:
    # Tracing on, as deployed: the X-Ray SDK's UDP emitter is no connection; a TCP socket,
    # a client or a session (with its credentials) would be shared by every restored copy.
    state = run_fresh(SNAPSHOT_PROBE.format(function=function), in_lambda=True, traced=True)

    assert state == {"tcp_sockets": 0, "clients": 0, "boto3_session": False}
