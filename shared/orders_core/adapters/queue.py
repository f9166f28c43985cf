"""Accepted orders go onto the orders queue (SQS), which feeds the order processor."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orders_core.clients import client
from orders_core.domain import OrderSubmission
from orders_core.ports import Unavailable


class SqsOrderQueue:
    """Implements OrderQueue."""

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self.queue_url = queue_url
        self._client = sqs

    def submit(self, submission: OrderSubmission) -> str:
        sqs = self._client or client("sqs")
        try:
            response = sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=submission.model_dump_json(),
                MessageAttributes={
                    "order_id": {"DataType": "String", "StringValue": submission.order_id}
                },
            )
        except (BotoCoreError, ClientError) as error:
            raise Unavailable(f"could not enqueue order {submission.order_id}: {error}") from error
        return response["MessageId"]
