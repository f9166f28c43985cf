"""Recorders of the calls the functions make: in process (botocore's event hook) and on the
local emulator (its CloudTrail log).

In process, `FunctionCallRecorder` is registered for botocore's `before-parameter-build`
event, which every client emits once per API call with the call's parameters. It records the
calls made while a function's handler (services/<name>/) is on the stack, and nothing else:
the tests' own setup calls are not the function's.

On ministack, CloudTrail recording (CLOUDTRAIL_RECORDING=1, tools/local/ministack.py) keeps
every request; each function's clients carry its name as the SDK's user-agent app id
(orders_core.clients), so a request names the function that made it. Nothing records in
production: the app id only labels requests, as it does in AWS CloudTrail.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tools.iam.calls import Call, CallLog

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = str(REPO_ROOT / "services") + os.sep
# The settings a function reads (orders_core.settings): how its calls name its resources.
SETTINGS = ("TABLE_NAME", "ORDERS_QUEUE_URL", "EVENT_BUS_NAME", "NOTIFICATION_SENDER")
# The function's name: powertools' idempotency keys start with it, and outside Lambda with
# this stand-in (aws_lambda_powertools.utilities.idempotency.persistence.base).
FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"
FUNCTION_NAME_OUTSIDE_LAMBDA = "test-func"


def _calling_function() -> str | None:
    """The service package (services/<name>/) whose code is on the stack, if any."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(SERVICES):
            return filename[len(SERVICES) :].split(os.sep, 1)[0]
        frame = frame.f_back
    return None


class FunctionCallRecorder:
    """botocore `before-parameter-build` handler writing the functions' calls to `log`."""

    def __init__(self, log: CallLog, source: str) -> None:
        self.log = log
        self.source = source

    def __call__(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        function = _calling_function()
        if function is None:
            return
        service = model.service_model.service_name
        self.log.write(
            Call(
                principal=f"function:{function}",
                service=service,
                operation=model.name,
                params=json.loads(json.dumps(dict(params), default=str)),
                region=os.environ.get("AWS_REGION", ""),
                account="",
                source=self.source,
                settings={
                    FUNCTION_NAME: os.environ.get(FUNCTION_NAME, FUNCTION_NAME_OUTSIDE_LAMBDA),
                    **{name: os.environ[name] for name in SETTINGS if os.environ.get(name)},
                },
            )
        )


def install(recorder: FunctionCallRecorder) -> None:
    """Record in every botocore session created from now on (boto3's default one included)."""
    from botocore.handlers import BUILTIN_HANDLERS

    BUILTIN_HANDLERS.append(("before-parameter-build", recorder))


# --- the emulator's CloudTrail log -------------------------------------------------------

_APP_ID = re.compile(r"(?:^| )app/(\S+)")
# ministack names a REST request by its method only ("POST.ses"): its operation is unknown.
# (The functions' one REST call, SES v2 SendEmail, is not in ministack's log at all; the
# handler tests record it.)
_REST_EVENT = re.compile(r"^(GET|PUT|POST|DELETE|PATCH|HEAD)\.")


def cloudtrail_calls(events: Iterable[Mapping[str, Any]], functions: Iterable[str]) -> list[Call]:
    """The calls in CloudTrail `events` (LookupEvents' Events) that `functions` made."""
    names = set(functions)
    found = []
    for event in events:
        detail = json.loads(event["CloudTrailEvent"])
        app = _APP_ID.search(detail.get("userAgent", ""))
        if app is None or app[1] not in names:
            continue
        service = detail["eventSource"].split(".", 1)[0]
        operation = detail["eventName"]
        if _REST_EVENT.match(operation):
            continue
        found.append(
            Call(
                principal=f"function-name:{app[1]}",
                service=service,
                operation=operation,
                params=detail.get("requestParameters") or {},
                region=detail.get("awsRegion", ""),
                account=detail.get("recipientAccountId", ""),
                source="e2e",
            )
        )
    return found


def drain_cloudtrail(cloudtrail: Any, since: float) -> tuple[list[dict[str, Any]], float]:
    """Every event recorded after `since` (epoch seconds), oldest first, and the time of the
    newest. ministack answers at most 50 events a call, newest first, without a next token:
    the window's end moves back past each answer until nothing older is left."""
    events: dict[str, dict[str, Any]] = {}
    end: float | None = None
    while True:
        kwargs: dict[str, Any] = {"StartTime": since, "MaxResults": 50}
        if end is not None:
            kwargs["EndTime"] = end
        page = cloudtrail.lookup_events(**kwargs)["Events"]
        fresh = [e for e in page if e["EventId"] not in events]
        if not fresh:
            break
        for event in fresh:
            events[event["EventId"]] = event
        end = min(_epoch(e["EventTime"]) for e in page)
    ordered = sorted(events.values(), key=lambda e: _epoch(e["EventTime"]))
    newest = _epoch(ordered[-1]["EventTime"]) if ordered else since
    return ordered, newest


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)
