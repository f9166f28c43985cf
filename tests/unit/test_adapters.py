"""The AWS adapters against moto: conditional writes, transactions, paging, partial failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber

from orders_core.adapters.events import EventBridgePublisher
from orders_core.adapters.queue import SqsOrderQueue
from orders_core.domain import (
    Notification,
    NotificationStatus,
    Order,
    OrderEventType,
    OrderItem,
    OrderStatus,
    confirm,
    event_for,
    new_order,
    reject,
    stock_to_reserve,
)
from orders_core.ports import InvalidCursor, ReservationResult, Unavailable
from tests.unit.conftest import REGION

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def order(n: int = 1, customer: str = "c-1", at: datetime = T0, **quantities: int):
    items = [
        OrderItem(sku=sku.replace("_", "-"), quantity=q, unit_price=Decimal("1.25"))
        for sku, q in (quantities or {"SKU_A": 1}).items()
    ]
    return new_order(f"00000000-0000-4000-8000-{n:012d}", customer, "EUR", items, at)


def test_a_pending_order_is_stored_once_and_read_back_whole(platform):
    table = platform.table
    pending = order(SKU_A=2, SKU_B=1)
    assert table.add_pending(pending) is True
    assert table.add_pending(pending) is False
    assert table.get_order(pending.order_id) == pending
    assert table.get_order("00000000-0000-4000-8000-999999999999") is None


def test_confirming_takes_stock_for_every_sku_in_one_transaction(platform):
    table = platform.table
    platform.stock({"SKU-A": 3, "SKU-B": 3})
    pending = order(SKU_A=2, SKU_B=3)
    outcome = table.confirm_reserving_stock(confirm(pending, T0), stock_to_reserve(pending))
    assert outcome.result is ReservationResult.RESERVED
    assert (table.available("SKU-A"), table.available("SKU-B")) == (1, 0)
    assert table.get_order(pending.order_id).status is OrderStatus.CONFIRMED


def test_one_short_sku_cancels_the_whole_reservation_and_says_what_was_there(platform):
    table = platform.table
    platform.stock({"SKU-A": 3, "SKU-B": 1})
    pending = order(SKU_A=2, SKU_B=2, SKU_C=1)
    outcome = table.confirm_reserving_stock(confirm(pending, T0), stock_to_reserve(pending))
    assert outcome.result is ReservationResult.OUT_OF_STOCK
    shortages = {s.sku: (s.requested, s.available) for s in outcome.shortages}
    assert shortages == {"SKU-B": (2, 1), "SKU-C": (1, None)}
    assert (table.available("SKU-A"), table.available("SKU-B")) == (3, 1)
    assert table.get_order(pending.order_id) is None


def test_a_final_order_is_never_finalized_again(platform):
    table = platform.table
    platform.stock({"SKU-A": 10})
    pending = order(SKU_A=1)
    table.confirm_reserving_stock(confirm(pending, T0), {"SKU-A": 1})
    again = table.confirm_reserving_stock(confirm(pending, T0), {"SKU-A": 1})
    assert again.result is ReservationResult.ALREADY_FINAL
    assert table.store_rejected(reject(pending, "late", T0)) is False
    assert table.available("SKU-A") == 9
    assert table.get_order(pending.order_id).status is OrderStatus.CONFIRMED


def test_a_rejection_replaces_a_pending_order(platform):
    table = platform.table
    pending = order()
    table.add_pending(pending)
    assert table.store_rejected(reject(pending, "insufficient stock", T0)) is True
    stored = table.get_order(pending.order_id)
    assert (stored.status, stored.reason) == (OrderStatus.REJECTED, "insufficient stock")


def test_announcement_is_remembered(platform):
    table = platform.table
    pending = order()
    table.add_pending(pending)
    assert table.is_announced(pending.order_id) is False
    table.mark_announced(pending.order_id, T0)
    assert table.is_announced(pending.order_id) is True


def test_a_notification_is_claimed_once_and_only_a_claim_still_sending_is_released(platform):
    table = platform.table
    claim = Notification(
        order_id=order().order_id,
        event_type=OrderEventType.CONFIRMED,
        status=NotificationStatus.SENDING,
        recipient="c1@example.com",
        subject="Order 00000000 confirmed",
        recorded_at=T0,
    )
    assert table.claim(claim) is None
    assert table.claim(claim.model_copy(update={"recorded_at": T0 + timedelta(1)})) == claim
    table.release(claim)
    assert table.notification_for(claim.order_id) is None
    sent = claim.model_copy(update={"status": NotificationStatus.SENT, "message_id": "m-1"})
    assert table.claim(claim) is None
    table.record(sent)
    table.release(claim)  # the mail went out: nothing to release
    assert table.notification_for(claim.order_id) == sent
    assert table.claim(claim) == sent


def test_a_customers_orders_come_newest_first_in_pages(platform):
    table = platform.table
    for n in range(5):
        table.add_pending(order(n, at=T0 + timedelta(minutes=n)))
    table.add_pending(order(99, customer="someone-else"))
    first = table.list_customer_orders("c-1", limit=2, cursor=None)
    assert [o.order_id[-1] for o in first.orders] == ["4", "3"]
    second = table.list_customer_orders("c-1", limit=2, cursor=first.next_cursor)
    third = table.list_customer_orders("c-1", limit=2, cursor=second.next_cursor)
    assert [o.order_id[-1] for o in second.orders + third.orders] == ["2", "1", "0"]
    with pytest.raises(InvalidCursor, match="another customer"):
        table.list_customer_orders("someone-else", limit=2, cursor=first.next_cursor)
    with pytest.raises(InvalidCursor):
        table.list_customer_orders("c-1", limit=2, cursor="bm90LWpzb24")


def test_the_queue_adapter_sends_the_order_and_reports_a_missing_queue(platform):
    pending = order()
    SqsOrderQueue(platform.orders_queue_url, platform.sqs).submit(pending)
    event = platform.orders_event()
    assert Order.model_validate_json(event["Records"][0]["body"]) == pending
    missing = platform.orders_queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    with pytest.raises(Unavailable, match="could not enqueue"):
        SqsOrderQueue(missing, platform.sqs).submit(pending)


def _put_events_stub(responses: list[dict]) -> tuple[object, Stubber]:
    client = boto3.client("events", region_name=REGION)
    stubber = Stubber(client)
    for response in responses:
        stubber.add_response("put_events", response)
    return client, stubber


def test_the_publisher_resends_only_the_entries_eventbridge_failed():
    events = [event_for(confirm(order(n), T0)) for n in range(3)]
    client, stubber = _put_events_stub(
        [
            {
                "FailedEntryCount": 1,
                "Entries": [
                    {"EventId": "a"},
                    {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"},
                    {"EventId": "c"},
                ],
            },
            {"FailedEntryCount": 0, "Entries": [{"EventId": "b"}]},
        ]
    )
    pauses: list[float] = []
    with stubber:
        EventBridgePublisher("bus", "orders", client, sleep=pauses.append).publish(events)
        stubber.assert_no_pending_responses()
    assert len(pauses) == 1


def test_the_publisher_gives_up_after_its_attempts_with_the_error_codes():
    failing = {
        "FailedEntryCount": 1,
        "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}],
    }
    client, stubber = _put_events_stub([failing] * 3)
    with stubber, pytest.raises(Unavailable, match=r"1 of 1 events not accepted.*InternalFailure"):
        EventBridgePublisher("bus", "orders", client, attempts=3, sleep=lambda _: None).publish(
            [event_for(confirm(order(), T0))]
        )


def test_published_events_reach_the_bus_rule(platform):
    confirmed = confirm(order(), T0)
    events = boto3.client("events", region_name=REGION)
    EventBridgePublisher("orders-test-bus", "orders", events).publish([event_for(confirmed)])
    [delivered] = platform.published_events()
    assert delivered["detail-type"] == OrderEventType.CONFIRMED
    assert delivered["source"] == "orders"
    assert delivered["detail"]["order_id"] == confirmed.order_id
    assert delivered["detail"]["total"] == "1.25"


def test_prices_come_back_in_the_currencys_form_whatever_dynamodb_normalized(platform):
    pending = order(SKU_A=2)
    pending = pending.model_copy(
        update={"items": [OrderItem(sku="SKU-A", quantity=2, unit_price=Decimal("12.5"))]}
    )
    platform.table.add_pending(pending)
    stored = platform.table.get_order(pending.order_id)
    assert str(stored.items[0].unit_price) == "12.50"
    assert str(stored.total) == "25.00"


def test_order_statuses_are_read_in_bulk_and_unprocessed_keys_asked_again(monkeypatch):
    from orders_core.adapters import table as table_module
    from orders_core.adapters.table import OrdersTable, order_key

    monkeypatch.setattr(table_module.time, "sleep", lambda _s: None)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = OrdersTable("orders", dynamodb)
    a, b, c = (order(n).order_id for n in (1, 2, 3))

    def item(order_id: str, status: str) -> dict:
        return {"order_id": {"S": order_id}, "status": {"S": status}}

    def request(*ids: str) -> dict:
        return {
            "RequestItems": {
                "orders": {
                    "Keys": [order_key(i) for i in ids],
                    "ConsistentRead": True,
                    "ProjectionExpression": "order_id, #status",
                    "ExpressionAttributeNames": {"#status": "status"},
                }
            }
        }

    with Stubber(dynamodb) as stub:
        # throttled: DynamoDB answers one order and leaves the other two unprocessed
        stub.add_response(
            "batch_get_item",
            {
                "Responses": {"orders": [item(a, "CONFIRMED")]},
                "UnprocessedKeys": {"orders": {"Keys": [order_key(b), order_key(c)]}},
            },
            request(a, b, c),
        )
        stub.add_response(
            "batch_get_item", {"Responses": {"orders": [item(b, "PENDING")]}}, request(b, c)
        )
        assert table.order_statuses([a, b, c, a]) == {
            a: OrderStatus.CONFIRMED,
            b: OrderStatus.PENDING,  # c: not in the table
        }
        stub.assert_no_pending_responses()

    with Stubber(dynamodb) as stub:
        for _ in range(table_module.BATCH_GET_ATTEMPTS):
            stub.add_response(
                "batch_get_item",
                {
                    "Responses": {"orders": []},
                    "UnprocessedKeys": {"orders": {"Keys": [order_key(a)]}},
                },
            )
        with pytest.raises(Unavailable, match="1 order keys left unprocessed"):
            table.order_statuses([a])
    with pytest.raises(ValueError, match="at most 100"):
        table.order_statuses([order(n).order_id for n in range(101)])


def test_the_sdk_never_resends_a_mail_and_retries_everything_else(monkeypatch):
    from orders_core.clients import new_client

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    assert new_client("sesv2").meta.config.retries["total_max_attempts"] == 1
    assert new_client("dynamodb").meta.config.retries["total_max_attempts"] == 4


# --- hot SKUs: a reservation that collided with another transaction is tried again ------------


def _cancelled(stub: Stubber, *codes: str) -> None:
    stub.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message=f"Transaction cancelled, please refer cancellation reasons [{codes}]",
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


class _Pauses:
    def __init__(self) -> None:
        self.taken: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def test_a_reservation_that_collided_on_a_hot_sku_is_tried_again_after_a_jittered_pause():
    import random

    from orders_core.adapters import table as table_module
    from orders_core.adapters.table import OrdersTable

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    pauses = _Pauses()
    table = OrdersTable("orders", dynamodb, sleep=pauses, jitter=random.Random(7))  # noqa: S311
    pending = order(SKU_A=2)
    with Stubber(dynamodb) as stub:
        _cancelled(stub, "None", "TransactionConflict")
        _cancelled(stub, "None", "TransactionConflict")
        stub.add_response("transact_write_items", {})
        outcome = table.confirm_reserving_stock(confirm(pending, T0), stock_to_reserve(pending))
        stub.assert_no_pending_responses()
    assert outcome.result is ReservationResult.RESERVED
    # one pause before each retry, drawn below a ceiling that doubles
    first, max_pause = table_module.RESERVATION_FIRST_PAUSE_S, table_module.RESERVATION_MAX_PAUSE_S
    assert len(pauses.taken) == 2
    for n, pause in enumerate(pauses.taken, start=1):
        assert 0 <= pause <= min(max_pause, first * 2**n)
    assert pauses.taken[0] != pauses.taken[1]


def test_jitter_is_drawn_from_the_os_per_table_not_shared_or_fixed():
    from orders_core.adapters.table import OrdersTable

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    one, two = OrdersTable("orders", dynamodb), OrdersTable("orders", dynamodb)
    assert one._jitter is None  # nothing drawn before it is needed
    assert [one.jitter.random() for _ in range(3)] != [two.jitter.random() for _ in range(3)]


def test_a_reservation_still_colliding_after_its_attempts_is_left_to_the_queue_to_retry():
    from orders_core.adapters import table as table_module
    from orders_core.adapters.table import OrdersTable, TransientCancellation

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    pauses = _Pauses()
    table = OrdersTable("orders", dynamodb, sleep=pauses)
    pending = order(SKU_A=1)
    with Stubber(dynamodb) as stub:
        for _ in range(table_module.RESERVATION_ATTEMPTS):
            _cancelled(stub, "None", "TransactionConflict")
        with pytest.raises(TransientCancellation, match="TransactionConflict") as raised:
            table.confirm_reserving_stock(confirm(pending, T0), stock_to_reserve(pending))
        stub.assert_no_pending_responses()
    assert isinstance(raised.value, Unavailable)  # the record fails; SQS delivers it again
    assert len(pauses.taken) == table_module.RESERVATION_ATTEMPTS - 1


def test_a_real_shortage_is_not_retried(platform):
    pauses = _Pauses()
    platform.table.sleep = pauses
    platform.stock({"SKU-A": 1})
    pending = order(SKU_A=2)
    outcome = platform.table.confirm_reserving_stock(
        confirm(pending, T0), stock_to_reserve(pending)
    )
    assert outcome.result is ReservationResult.OUT_OF_STOCK
    assert pauses.taken == []
