"""Order processor: SQS batches of accepted orders -> stock reserved, order CONFIRMED or REJECTED.

Each record is one OrderSubmission. A record that fails (malformed, or a dependency unavailable)
is reported in batchItemFailures and only it is retried; after the queue's maxReceiveCount it
moves to the dead-letter queue, where it can be inspected and redriven.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from orders_core import coldstart
from orders_core.adapters.events import EventBridgePublisher
from orders_core.adapters.table import OrdersTable
from orders_core.domain import OrderSubmission
from orders_core.observability import logger, metrics, tracer
from orders_core.settings import settings
from orders_core.workflows import Outcome, process_order

# Every record is reported individually, even when all of them fail.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

_OUTCOME_METRICS = {Outcome.CONFIRMED: "OrdersConfirmed", Outcome.REJECTED: "OrdersRejected"}


class MalformedMessage(ValueError):
    """A record whose body is not an order submission; it fails until it reaches the DLQ."""


@cache
def _orders() -> OrdersTable:
    return OrdersTable(settings().require("table_name"))


@cache
def _publisher() -> EventBridgePublisher:
    return EventBridgePublisher(settings().require("event_bus_name"), settings().event_source)


def _now() -> datetime:
    return datetime.now(UTC)


def record_handler(record: SQSRecord) -> str:
    logger.set_correlation_id(record.message_id)
    try:
        submission = OrderSubmission.model_validate_json(record.body)
    except ValidationError as error:
        logger.error(
            "malformed order message",
            extra={
                "message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "errors": error.errors(include_url=False, include_input=False),
            },
        )
        raise MalformedMessage(f"message {record.message_id} is not an order submission") from None
    try:
        processed = process_order(submission, _orders(), _publisher(), _now)
    except Exception:
        logger.exception(
            "order processing failed; the message will be retried",
            extra={
                "message_id": record.message_id,
                "order_id": submission.order_id,
                "receive_count": record.attributes.approximate_receive_count,
            },
        )
        raise
    if processed.outcome in _OUTCOME_METRICS:
        metrics.add_metric(name=_OUTCOME_METRICS[processed.outcome], unit=MetricUnit.Count, value=1)
    logger.info(
        "order processed",
        extra={
            "order_id": processed.order.order_id,
            "status": processed.order.status,
            "outcome": processed.outcome,
            "reason": processed.order.reason,
        },
    )
    return processed.outcome


@coldstart.resumes_collector
@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failures = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="BatchItemFailures", unit=MetricUnit.Count, value=failures)
    logger.set_correlation_id(None)
    logger.info(
        "batch processed",
        extra={"records": len(event.get("Records", [])), "failed": failures},
    )
    return response
