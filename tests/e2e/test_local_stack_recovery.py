"""`make up` run again recovers a broken local stack. These run after the other end-to-end
tests of the session (same worker, file order) and leave the stack up for the load test."""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def _refresh(local_stack, result) -> None:
    local_stack.outputs = result
    local_stack.api_url = result["api_url"]
    local_stack.tokens.clear()  # a rebuilt stack has a new user pool


def test_up_again_puts_back_what_a_half_applied_stack_lacks(local_stack):
    lambda_client = local_stack.client("lambda")
    processor = local_stack.platform["function_names"]["order_processor"]
    [mapping] = lambda_client.list_event_source_mappings(FunctionName=processor)[
        "EventSourceMappings"
    ]
    lambda_client.delete_event_source_mapping(UUID=mapping["UUID"])
    _refresh(local_stack, local_stack.stack.up())
    assert lambda_client.list_event_source_mappings(FunctionName=processor)["EventSourceMappings"]
    assert local_stack.stack.plan_is_empty()


def test_up_again_replaces_a_dead_emulator_and_rebuilds_the_stack(local_stack):
    local_stack.record_calls()  # the emulator's call log dies with it
    pid = int((local_stack.stack.state_dir / "pid").read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    _refresh(local_stack, local_stack.stack.up())
    assert local_stack.request("GET", "/health").status == 200
    assert local_stack.stack.plan_is_empty()
