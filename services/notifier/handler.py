"""Notifier: OrderConfirmed / OrderRejected (EventBridge rule -> SQS) -> one e-mail per order.

The notifications queue receives whole EventBridge events. Each order is mailed at most once,
even when its event arrives twice or an attempt dies mid-send: powertools idempotency keyed by
the order id holds concurrent deliveries apart, and the notification record, claimed before the
send (orders_core.workflows.notify_customer), keeps a retry from mailing again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.event_bridge_event import EventBridgeEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from orders_core import wiring
from orders_core.domain import Notification, NotificationStatus, OrderEvent
from orders_core.entrypoint import EventSource, lambda_entrypoint
from orders_core.idempotency import Idempotent
from orders_core.observability import logger, metrics
from orders_core.workflows import notify_customer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

_STATUS_METRICS = {
    NotificationStatus.SENT: "NotificationsSent",
    # An address SES refused: recorded, never retried; a rising count means bad addresses.
    NotificationStatus.REJECTED: "NotificationsRejected",
    # An attempt died mid-send: the mail left once or not at all (see the ERROR line).
    NotificationStatus.UNCERTAIN: "NotificationsUncertain",
}


class MalformedEvent(ValueError):
    """A record that is not an order event; it fails until it reaches the DLQ."""


def notify(event: OrderEvent) -> dict[str, Any]:
    current = wiring.current()
    notification = notify_customer(
        event, current.orders, current.mailer, current.orders, lambda: datetime.now(UTC)
    )
    return notification.model_dump(mode="json")


notify_once = Idempotent(notify, argument="event", key="order_id")


def order_event(record: SQSRecord) -> OrderEvent:
    try:
        envelope = EventBridgeEvent(json.loads(record.body))
        return OrderEvent.model_validate(envelope.detail)
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        logger.error(
            "malformed order event",
            extra={"message_id": record.message_id, "error": str(error)[:500]},
        )
        raise MalformedEvent(f"message {record.message_id} is not an order event") from None


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> str:
    logger.set_correlation_id(record.message_id)
    event = order_event(record)
    try:
        notification = Notification.model_validate(notify_once(lambda_context, event=event))
    except Exception:
        logger.exception(
            "notification failed; the message will be retried",
            extra={"message_id": record.message_id, "order_id": event.order_id},
        )
        raise
    if notification.status in _STATUS_METRICS:
        metrics.add_metric(
            name=_STATUS_METRICS[notification.status], unit=MetricUnit.Count, value=1
        )
    if notification.status is NotificationStatus.UNCERTAIN:
        logger.error(
            "an earlier attempt died while it mailed the customer: the mail left once or not at "
            "all, and is not sent again; check SES's sending records for this recipient",
            extra={"order_id": event.order_id, "customer_id": event.customer_id},
        )
    logger.info(
        "customer notified",
        extra={
            "order_id": event.order_id,
            "event_type": event.event_type,
            "status": notification.status,
            "message_id": notification.message_id,
            "reason": notification.reason,
        },
    )
    return notification.status


@lambda_entrypoint(EventSource.SQS)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Sends are paced to this environment's share of the SES rate, within this invocation's time.
    wiring.current().mailer.begin_invocation(context.get_remaining_time_in_millis)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failures = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="BatchItemFailures", unit=MetricUnit.Count, value=failures)
    logger.set_correlation_id(None)
    logger.info("batch processed", extra={"records": len(event["Records"]), "failed": failures})
    return response
