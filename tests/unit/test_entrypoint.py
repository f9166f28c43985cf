"""Every function refuses an event of another kind than it is wired to take, naming both:
AWS's own sample events of each other source, given to each function's Lambda entry point."""

from __future__ import annotations

import pytest

from notifier.handler import lambda_handler as notifier
from order_processor.handler import lambda_handler as order_processor
from orders_api.handler import lambda_handler as orders_api
from orders_core.entrypoint import EventSource, WrongEventSource
from tests.support.events import LambdaContext, aws_sample

# sample file -> what the refusal says arrived
SAMPLES = {
    "apigw_http_v2.json": "an API Gateway request (payload format 2.0)",
    "apigw_rest_v1.json": "an API Gateway request (payload format 1.0)",
    "sqs_standard.json": "a batch of records from aws:sqs",
    "dynamodb_stream.json": "a batch of records from aws:dynamodb",
    "s3_put.json": "a batch of records from aws:s3",
    "sns.json": "a batch of records from aws:sns",
    "eventbridge_scheduled.json": "an EventBridge event (Scheduled Event)",
}
TAKES = {EventSource.HTTP_API: "apigw_http_v2.json", EventSource.SQS: "sqs_standard.json"}
HANDLERS = {"orders_api": orders_api, "order_processor": order_processor, "notifier": notifier}

CASES = [
    pytest.param(handler, sample, id=f"{name}-{sample.removesuffix('.json')}")
    for name, handler in HANDLERS.items()
    for sample in SAMPLES
    if sample != TAKES[handler.event_source]
]


@pytest.mark.parametrize(("handler", "sample"), CASES)
def test_an_aws_event_of_another_kind_is_refused_naming_what_was_expected_and_what_came(
    handler, sample, monkeypatch
):
    from orders_core import wiring

    # The refusal comes before any work: nothing may be built or called.
    monkeypatch.setattr(wiring, "current", lambda: pytest.fail("the handler did work"))
    with pytest.raises(WrongEventSource) as refused:
        handler(aws_sample(sample), LambdaContext())
    assert str(refused.value) == (
        f"this function takes {handler.event_source.value}; it was invoked with {SAMPLES[sample]}"
    )


@pytest.mark.parametrize("handler", HANDLERS.values(), ids=HANDLERS)
def test_an_event_that_is_no_aws_event_at_all_is_refused(handler):
    for event in ([], "hello", {"hello": "world"}):
        with pytest.raises(WrongEventSource, match="this function takes "):
            handler(event, LambdaContext())
