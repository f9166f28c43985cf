"""Accepted orders go onto the orders queue (SQS), which feeds the order processor."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orders_core.domain import Order
from orders_core.ports import Unavailable


class SqsOrderQueue:
    """Implements OrderQueue."""

    def __init__(self, queue_url: str, sqs: Any) -> None:
        self.queue_url = queue_url
        self.sqs = sqs

    def submit(self, order: Order) -> str:
        try:
            response = self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=order.model_dump_json(),
                MessageAttributes={
                    "order_id": {"DataType": "String", "StringValue": order.order_id}
                },
            )
        except (BotoCoreError, ClientError) as error:
            raise Unavailable(f"could not enqueue order {order.order_id}: {error}") from error
        return response["MessageId"]
