"""The orders table: one DynamoDB table holding every entity (single-table design).

Hash key ``pk``, range key ``sk``, GSI ``by-customer`` on ``gsi1pk``/``gsi1sk``, TTL attribute
``expires_at``. The key design and every access pattern are tabled in shared/README.md.
An order's items live inside the order item (at most 100, a few KB): an order is read and
written whole. Idempotency records put the hashed key in ``pk`` and a constant in ``sk``
(powertools' ``key_attr`` and ``sort_key_attr`` swapped), so they spread over partitions like
the rest. The key layout and the item formats are this module's alone: tools and tests that
write stock or customers use `stock_item` and `customer_item`.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orders_core.domain import (
    ISO_4217_CURRENCIES,
    Notification,
    NotificationStatus,
    Order,
    OrderItem,
    OrderStatus,
    StockShortage,
)
from orders_core.ports import (
    InvalidCursor,
    OrderPage,
    ReservationOutcome,
    ReservationResult,
    Unavailable,
)

CUSTOMER_INDEX = "by-customer"
TTL_ATTRIBUTE = "expires_at"
IDEMPOTENCY_SK = "IDEMPOTENCY"
BATCH_GET_LIMIT = 100  # keys per BatchGetItem call
BATCH_GET_ATTEMPTS = 5
_FINALIZABLE = "attribute_not_exists(pk) OR #status = :pending"
_TRANSIENT_CANCELLATIONS = {
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
}
# A reservation cancelled for a transient reason (another transaction on the same stock item,
# throttling) is tried again this many times in all, after a pause drawn at random from
# [0, min(cap, first * 2^n)] ("full jitter"): orders that collided on a hot SKU spread out
# instead of colliding again in step.
RESERVATION_ATTEMPTS = 4
RESERVATION_FIRST_PAUSE_S = 0.025
RESERVATION_MAX_PAUSE_S = 0.4


class TransientCancellation(Unavailable):
    """A transaction DynamoDB cancelled for a reason that passes: a conflict with another
    transaction on one of its items, or throttling."""


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}


def notification_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "NOTIFICATION"}}


def stock_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": "STOCK"}}


def customer_key(customer_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUSTOMER#{customer_id}"}, "sk": {"S": "PROFILE"}}


def stock_item(sku: str, units: int) -> dict[str, Any]:
    """The stock record of a SKU, as the processor's reservations read and take from it."""
    return {
        **stock_key(sku),
        "type": {"S": "STOCK"},
        "sku": {"S": sku},
        "available": {"N": str(units)},
    }


def customer_item(customer_id: str, email: str) -> dict[str, Any]:
    """A customer's profile, as the notifier reads the address from it."""
    return {
        **customer_key(customer_id),
        "type": {"S": "CUSTOMER"},
        "customer_id": {"S": customer_id},
        "email": {"S": email},
    }


def _timestamp(moment: datetime) -> str:
    # Fixed width and UTC, so that string order is time order in the customer index.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _order_item(order: Order) -> dict[str, Any]:
    created = _timestamp(order.created_at)
    item: dict[str, Any] = {
        **order_key(order.order_id),
        "type": {"S": "ORDER"},
        "gsi1pk": {"S": f"CUSTOMER#{order.customer_id}"},
        "gsi1sk": {"S": f"{created}#{order.order_id}"},
        "order_id": {"S": order.order_id},
        "customer_id": {"S": order.customer_id},
        "currency": {"S": order.currency},
        "status": {"S": order.status.value},
        "created_at": {"S": created},
        "updated_at": {"S": _timestamp(order.updated_at)},
        "total": {"N": str(order.total)},
        "items": {
            "L": [
                {
                    "M": {
                        "sku": {"S": item.sku},
                        "quantity": {"N": str(item.quantity)},
                        "unit_price": {"N": str(item.unit_price)},
                    }
                }
                for item in order.items
            ]
        },
    }
    if order.reason:
        item["reason"] = {"S": order.reason}
    return item


def _order_from_item(item: Mapping[str, Any]) -> Order:
    # DynamoDB normalizes numbers ("12.50" comes back as "12.5"): restore the currency's form.
    currency = item["currency"]["S"]
    cents = Decimal(1).scaleb(-ISO_4217_CURRENCIES.get(currency, 2))
    return Order(
        order_id=item["order_id"]["S"],
        customer_id=item["customer_id"]["S"],
        currency=currency,
        status=OrderStatus(item["status"]["S"]),
        reason=item.get("reason", {}).get("S"),
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        updated_at=datetime.fromisoformat(item["updated_at"]["S"]),
        items=[
            OrderItem(
                sku=entry["M"]["sku"]["S"],
                quantity=int(entry["M"]["quantity"]["N"]),
                unit_price=Decimal(entry["M"]["unit_price"]["N"]).quantize(cents),
            )
            for entry in item["items"]["L"]
        ],
    )


def _notification_item(notification: Notification) -> dict[str, Any]:
    item: dict[str, Any] = {
        **notification_key(notification.order_id),
        "type": {"S": "NOTIFICATION"},
        "order_id": {"S": notification.order_id},
        "event_type": {"S": notification.event_type.value},
        "status": {"S": notification.status.value},
        "subject": {"S": notification.subject},
        "recorded_at": {"S": _timestamp(notification.recorded_at)},
    }
    if notification.recipient:
        item["recipient"] = {"S": notification.recipient}
    if notification.message_id:
        item["message_id"] = {"S": notification.message_id}
    if notification.reason:
        item["reason"] = {"S": notification.reason}
    return item


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def encode_cursor(last_key: Mapping[str, Any]) -> str:
    plain = {name: value["S"] for name, value in sorted(last_key.items())}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, customer_id: str) -> dict[str, Any]:
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("cursor is not one this API handed out") from None
    expected = {"pk", "sk", "gsi1pk", "gsi1sk"}
    if (
        not isinstance(plain, dict)
        or set(plain) != expected
        or not all(isinstance(v, str) for v in plain.values())
    ):
        raise InvalidCursor("cursor is not one this API handed out")
    if plain["gsi1pk"] != f"CUSTOMER#{customer_id}":
        raise InvalidCursor("cursor belongs to another customer's listing")
    return {name: {"S": value} for name, value in plain.items()}


class OrdersTable:
    """Orders, stock, customers and notifications in the orders table.

    Implements OrderRepository, CustomerDirectory and NotificationLog."""

    def __init__(
        self,
        table_name: str,
        dynamodb: Any,
        sleep: Callable[[float], None] = time.sleep,
        jitter: random.Random | None = None,
    ) -> None:
        self.table_name = table_name
        self.dynamodb = dynamodb
        self.sleep = sleep
        self._jitter = jitter

    @property
    def jitter(self) -> random.Random:
        # Seeded from the OS when first needed, in an invocation: never at import, so SnapStart
        # copies restored from one snapshot do not draw the same pauses.
        if self._jitter is None:
            self._jitter = random.Random()  # noqa: S311 - spreads retries, not a secret
        return self._jitter

    # --- orders -----------------------------------------------------------------------------

    def _put_new(self, item: dict[str, Any]) -> bool:
        """Put the item unless its key holds one already; False when it did."""
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def add_pending(self, order: Order) -> bool:
        try:
            return self._put_new(_order_item(order))
        except (ClientError, BotoCoreError) as error:
            raise Unavailable(f"could not store order {order.order_id}: {error}") from error

    def get_order(self, order_id: str) -> Order | None:
        item = self.dynamodb.get_item(
            TableName=self.table_name, Key=order_key(order_id), ConsistentRead=True
        ).get("Item")
        return _order_from_item(item) if item else None

    def order_statuses(self, order_ids: Sequence[str]) -> dict[str, OrderStatus]:
        """The status of each order found, read in bulk for operations tools (BatchGetItem,
        at most 100 ids, strongly consistent); orders not found are absent. Keys DynamoDB
        leaves unprocessed (throttling) are asked again with a growing pause; Unavailable
        when some are still unread after that."""
        if len(order_ids) > BATCH_GET_LIMIT:
            raise ValueError(f"at most {BATCH_GET_LIMIT} order ids per call")
        keys = [order_key(order_id) for order_id in dict.fromkeys(order_ids)]
        statuses: dict[str, OrderStatus] = {}
        for attempt in range(BATCH_GET_ATTEMPTS):
            if not keys:
                break
            if attempt:
                time.sleep(0.05 * 2**attempt)
            response = self.dynamodb.batch_get_item(
                RequestItems={
                    self.table_name: {
                        "Keys": keys,
                        "ConsistentRead": True,
                        "ProjectionExpression": "order_id, #status",
                        "ExpressionAttributeNames": {"#status": "status"},
                    }
                }
            )
            for item in response.get("Responses", {}).get(self.table_name, []):
                statuses[item["order_id"]["S"]] = OrderStatus(item["status"]["S"])
            keys = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        if keys:
            raise Unavailable(f"{len(keys)} order keys left unprocessed by BatchGetItem")
        return statuses

    def list_customer_orders(self, customer_id: str, limit: int, cursor: str | None) -> OrderPage:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": CUSTOMER_INDEX,
            "KeyConditionExpression": "gsi1pk = :customer",
            "ExpressionAttributeValues": {":customer": {"S": f"CUSTOMER#{customer_id}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(cursor, customer_id)
        response = self.dynamodb.query(**request)
        last_key = response.get("LastEvaluatedKey")
        return OrderPage(
            orders=[_order_from_item(item) for item in response.get("Items", [])],
            next_cursor=encode_cursor(last_key) if last_key else None,
        )

    def confirm_reserving_stock(
        self, confirmed: Order, reserve: Mapping[str, int]
    ) -> ReservationOutcome:
        skus = list(reserve)
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _order_item(confirmed),
                    "ConditionExpression": _FINALIZABLE,
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":pending": {"S": OrderStatus.PENDING.value}},
                }
            }
        ]
        actions += [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": stock_key(sku),
                    "UpdateExpression": "SET available = available - :units",
                    "ConditionExpression": "available >= :units",
                    "ExpressionAttributeValues": {":units": {"N": str(reserve[sku])}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for sku in skus
        ]
        attempt = 1
        while True:
            try:
                self.dynamodb.transact_write_items(TransactItems=actions)
                return ReservationOutcome(ReservationResult.RESERVED)
            except ClientError as error:
                if _error_code(error) != "TransactionCanceledException":
                    raise
                cancelled = error
            try:
                return self._why_cancelled(cancelled, confirmed.order_id, skus, reserve)
            except TransientCancellation:
                if attempt == RESERVATION_ATTEMPTS:
                    raise
            ceiling = min(RESERVATION_MAX_PAUSE_S, RESERVATION_FIRST_PAUSE_S * 2**attempt)
            self.sleep(self.jitter.uniform(0, ceiling))
            attempt += 1

    def _why_cancelled(
        self, error: ClientError, order_id: str, skus: list[str], reserve: Mapping[str, int]
    ) -> ReservationOutcome:
        reasons = error.response.get("CancellationReasons") or []
        codes = [reason.get("Code", "None") for reason in reasons]
        if any(code in _TRANSIENT_CANCELLATIONS for code in codes):
            raise TransientCancellation(
                f"stock reservation for order {order_id} cancelled {RESERVATION_ATTEMPTS} times "
                f"in a row: {codes}"
            )
        if len(reasons) != len(skus) + 1:
            # No per-action reasons: find out from the current state which condition failed.
            order = self.get_order(order_id)
            if order is not None and order.is_final:
                return ReservationOutcome(ReservationResult.ALREADY_FINAL)
            shortages = [
                StockShortage(sku=sku, requested=reserve[sku], available=units)
                for sku in skus
                if (units := self.available(sku)) is None or units < reserve[sku]
            ]
            if not shortages:
                raise Unavailable(f"stock reservation for order {order_id} cancelled: {codes}")
            return ReservationOutcome(ReservationResult.OUT_OF_STOCK, shortages)
        if codes[0] == "ConditionalCheckFailed":
            return ReservationOutcome(ReservationResult.ALREADY_FINAL)
        shortages = []
        for sku, reason in zip(skus, reasons[1:], strict=True):
            if reason.get("Code") != "ConditionalCheckFailed":
                continue
            old = reason.get("Item")
            available = int(old["available"]["N"]) if old and "available" in old else None
            shortages.append(StockShortage(sku=sku, requested=reserve[sku], available=available))
        return ReservationOutcome(ReservationResult.OUT_OF_STOCK, shortages)

    def store_rejected(self, rejected: Order) -> bool:
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=_order_item(rejected),
                ConditionExpression=_FINALIZABLE,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": OrderStatus.PENDING.value}},
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def is_announced(self, order_id: str) -> bool:
        item = self.dynamodb.get_item(
            TableName=self.table_name,
            Key=order_key(order_id),
            ProjectionExpression="announced_at",
            ConsistentRead=True,
        ).get("Item")
        return bool(item and "announced_at" in item)

    def mark_announced(self, order_id: str, at: datetime) -> None:
        self.dynamodb.update_item(
            TableName=self.table_name,
            Key=order_key(order_id),
            UpdateExpression="SET announced_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": {"S": _timestamp(at)}},
        )

    # --- stock ------------------------------------------------------------------------------

    def available(self, sku: str) -> int | None:
        item = self.dynamodb.get_item(
            TableName=self.table_name, Key=stock_key(sku), ConsistentRead=True
        ).get("Item")
        return int(item["available"]["N"]) if item and "available" in item else None

    # --- customers --------------------------------------------------------------------------

    def email_of(self, customer_id: str) -> str | None:
        item = self.dynamodb.get_item(TableName=self.table_name, Key=customer_key(customer_id)).get(
            "Item"
        )
        return item["email"]["S"] if item and "email" in item else None

    # --- notifications ----------------------------------------------------------------------

    def claim(self, notification: Notification) -> Notification | None:
        if self._put_new(_notification_item(notification)):
            return None
        existing = self.notification_for(notification.order_id)
        if existing is None:  # released between the two calls: the next delivery claims it
            raise Unavailable(f"the notification of {notification.order_id} moved")
        return existing

    def release(self, notification: Notification) -> None:
        try:
            self.dynamodb.delete_item(
                TableName=self.table_name,
                Key=notification_key(notification.order_id),
                ConditionExpression="#status = :sending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":sending": {"S": NotificationStatus.SENDING.value}},
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise

    def record(self, notification: Notification) -> None:
        self.dynamodb.put_item(TableName=self.table_name, Item=_notification_item(notification))

    def notification_for(self, order_id: str) -> Notification | None:
        item = self.dynamodb.get_item(
            TableName=self.table_name, Key=notification_key(order_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return Notification.model_validate(
            {
                "order_id": item["order_id"]["S"],
                "event_type": item["event_type"]["S"],
                "status": item["status"]["S"],
                "subject": item["subject"]["S"],
                "recipient": item.get("recipient", {}).get("S"),
                "message_id": item.get("message_id", {}).get("S"),
                "reason": item.get("reason", {}).get("S"),
                "recorded_at": item["recorded_at"]["S"],
            }
        )


def idempotency_store(table_name: str, dynamodb: Any) -> Any:
    """Powertools idempotency records in the orders table (see the key table above)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="sk",
        static_pk_value=IDEMPOTENCY_SK,
        sort_key_attr="pk",
        expiry_attr=TTL_ATTRIBUTE,
        boto3_client=dynamodb,
    )
