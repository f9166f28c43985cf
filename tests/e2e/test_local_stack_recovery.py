"""`make up` run again recovers a broken local stack. These run after the other end-to-end
tests of the session (same worker, file order) and leave the stack up for the load test."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import pytest

from tools.local.stack import REPO_ROOT, copy_sources

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


def _refresh(local_stack, result) -> None:
    local_stack.outputs = result
    local_stack.api_url = result["api_url"]
    local_stack.tokens.clear()  # a rebuilt stack has a new user pool


def test_up_again_after_a_code_change_serves_the_new_code(local_stack, tmp_path):
    """The emulator has no CodeDeploy, so locally Terraform itself moves the live alias to each
    version it publishes: `make up` after a code change serves the change, and after the change
    is undone it serves the old code again."""
    source = copy_sources(tmp_path / "source")
    models = source / "services" / "orders_api" / "models.py"
    models.write_text(
        models.read_text().replace('status: str = "ok"', 'status: str = "ok, changed"')
    )
    lambda_client = local_stack.client("lambda")
    api = local_stack.platform["function_names"]["orders_api"]
    before = lambda_client.get_alias(FunctionName=api, Name="live")["FunctionVersion"]
    stack = local_stack.stack
    try:
        stack.source_dir = source
        _refresh(local_stack, stack.up(smoke=False))
        changed = lambda_client.get_alias(FunctionName=api, Name="live")["FunctionVersion"]
        assert int(changed) > int(before)
        assert local_stack.request("GET", "/health").body == {"status": "ok, changed"}
    finally:
        stack.source_dir = REPO_ROOT
        _refresh(local_stack, stack.up(smoke=False))
    assert local_stack.request("GET", "/health").body == {"status": "ok"}
    assert int(lambda_client.get_alias(FunctionName=api, Name="live")["FunctionVersion"]) > int(
        changed
    )
    # Nothing left to change. (Not plan_is_empty(): after a code change ministack answers the
    # published version with the CodeSha256 the function had before, so the stack's
    # function_code_sha256 output differs once more: docs/emulators.md.)
    plan = tmp_path / "after.tfplan"
    stack.terraform("plan", "-lock=false", "-no-color", f"-out={plan}", capture=True)
    shown = json.loads(stack.terraform("show", "-json", str(plan), capture=True).stdout)
    assert [
        c["address"] for c in shown["resource_changes"] if c["change"]["actions"] != ["no-op"]
    ] == []


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
