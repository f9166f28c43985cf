"""The entry point every function's handler is: one decorator for what each of them needs.

    @lambda_entrypoint(EventSource.SQS)
    def lambda_handler(event, context): ...

In order, outermost first: the garbage collector paused for init is resumed after the first
invocation (orders_core.coldstart); the logger carries the invocation's context and
correlation id; the invocation is traced; metrics are flushed (with the cold-start metric);
and the event must be of the kind the function is wired to, or the invocation fails with an
error that names what was expected and what arrived (not a bare KeyError deep inside).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from orders_core import coldstart
from orders_core.observability import logger, metrics, tracer

Handler = Callable[[dict[str, Any], Any], Any]


class EventSource(StrEnum):
    HTTP_API = "an API Gateway HTTP API request (payload format 2.0)"
    SQS = "an SQS batch (Records with eventSource aws:sqs)"
    CODEDEPLOY_HOOK = "a CodeDeploy lifecycle hook (DeploymentId, LifecycleEventHookExecutionId)"


class WrongEventSource(ValueError):
    """The function was invoked with an event of another kind than it is wired to take."""


_CORRELATION = {EventSource.HTTP_API: correlation_paths.API_GATEWAY_HTTP}


def describe(event: Any) -> str:
    """What kind of event this looks like, for the error message."""
    if not isinstance(event, Mapping):
        return f"a {type(event).__name__}, not an event object"
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        source = records[0].get("eventSource") or records[0].get("EventSource") or "unknown"
        return f"a batch of records from {source}"
    if isinstance(event.get("requestContext"), Mapping):
        version = event.get("version", "1.0")
        return f"an API Gateway request (payload format {version})"
    if "detail-type" in event:
        return f"an EventBridge event ({event['detail-type']})"
    return "an event with keys " + ", ".join(sorted(map(str, event))[:8])


def is_a(source: EventSource, event: Any) -> bool:
    if not isinstance(event, Mapping):
        return False
    if source is EventSource.HTTP_API:
        context = event.get("requestContext")
        return event.get("version") == "2.0" and isinstance(context, Mapping) and "http" in context
    if source is EventSource.CODEDEPLOY_HOOK:
        return all(
            isinstance(event.get(key), str) and event[key]
            for key in ("DeploymentId", "LifecycleEventHookExecutionId")
        )
    records = event.get("Records")
    return isinstance(records, list) and all(
        isinstance(r, Mapping) and r.get("eventSource") == "aws:sqs" for r in records
    )


def lambda_entrypoint(source: EventSource) -> Callable[[Handler], Handler]:
    """Make `handler` a function's Lambda entry point for events of `source`."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def checked(event: dict[str, Any], context: Any) -> Any:
            if not is_a(source, event):
                raise WrongEventSource(
                    f"this function takes {source.value}; it was invoked with {describe(event)}"
                )
            return handler(event, context)

        wrapped = metrics.log_metrics(checked, capture_cold_start_metric=True)
        wrapped = tracer.capture_lambda_handler(wrapped, capture_response=False)
        wrapped = logger.inject_lambda_context(
            wrapped, correlation_id_path=_CORRELATION.get(source)
        )
        entry = coldstart.resumes_collector(wrapped)
        entry.event_source = source  # type: ignore[attr-defined]  # what tests invoke it with
        return entry

    return decorate
