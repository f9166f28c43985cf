"""Order processor: SQS batches of accepted orders -> stock reserved, order CONFIRMED or REJECTED.

Each record is one accepted `Order` (PENDING). A record that fails (malformed, an order the
domain refuses, or a dependency unavailable) is reported in batchItemFailures and only it is
retried; after the queue's maxReceiveCount it moves to the dead-letter queue, where it can be
inspected and redriven.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from orders_core import wiring
from orders_core.domain import Order, OrderStatus
from orders_core.entrypoint import EventSource, lambda_entrypoint
from orders_core.observability import logger, metrics
from orders_core.workflows import Outcome, process_order

# Every record is reported individually, even when all of them fail.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

_OUTCOME_METRICS = {Outcome.CONFIRMED: "OrdersConfirmed", Outcome.REJECTED: "OrdersRejected"}


class MalformedMessage(ValueError):
    """A record whose body is not an accepted order; it fails until it reaches the DLQ."""


def accepted_order(record: SQSRecord) -> Order:
    try:
        order = Order.model_validate_json(record.body)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
    else:
        if order.status is OrderStatus.PENDING:
            return order
        problems = [{"loc": ["status"], "msg": f"an accepted order is PENDING, not {order.status}"}]
    logger.error(
        "malformed order message",
        extra={
            "message_id": record.message_id,
            "receive_count": record.attributes.approximate_receive_count,
            "errors": problems,
        },
    )
    raise MalformedMessage(f"message {record.message_id} is not an accepted order")


def record_handler(record: SQSRecord) -> str:
    logger.set_correlation_id(record.message_id)
    order = accepted_order(record)
    current = wiring.current()
    try:
        processed = process_order(
            order, current.orders, current.publisher, lambda: datetime.now(UTC)
        )
    except Exception:
        logger.exception(
            "order processing failed; the message will be retried",
            extra={
                "message_id": record.message_id,
                "order_id": order.order_id,
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


@lambda_entrypoint(EventSource.SQS)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failures = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="BatchItemFailures", unit=MetricUnit.Count, value=failures)
    logger.set_correlation_id(None)
    logger.info("batch processed", extra={"records": len(event["Records"]), "failed": failures})
    return response
