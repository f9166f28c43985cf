"""The workflows over in-memory fakes: the invariants of accepting and processing an order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders_core.domain import (
    Caller,
    NotificationStatus,
    NotYourCustomer,
    OrderEventType,
    OrderItem,
    OrderStatus,
    confirm,
    event_for,
    new_order,
)
from orders_core.ports import MailNotSent, RecipientRejected, Unavailable
from orders_core.workflows import (
    Outcome,
    customer_orders,
    find_order,
    notify_customer,
    place_order,
    process_order,
)
from tests.unit.fakes import (
    InMemoryCustomers,
    InMemoryNotifications,
    InMemoryOrders,
    RecordingMailer,
    RecordingPublisher,
    RecordingQueue,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


CUSTOMER_CALLER = Caller(customer_id="c-9")


def clock() -> datetime:
    return T0


def accepted(order_id: str = "0b7e9a4c-3c1d-4b8e-9f2a-1d6c5e4b3a21", **quantities: int):
    items = [
        OrderItem(sku=sku.replace("_", "-"), quantity=q, unit_price=Decimal("2.00"))
        for sku, q in (quantities or {"SKU_A": 1}).items()
    ]
    return new_order(order_id, "c-9", "EUR", items, T0)


@pytest.fixture
def orders() -> InMemoryOrders:
    return InMemoryOrders(stock={"SKU-A": 5, "SKU-B": 1})


def test_placing_an_order_enqueues_it_then_records_it_pending(orders):
    queue = RecordingQueue()
    assert place_order(accepted(), CUSTOMER_CALLER, queue, orders) is None
    assert queue.submitted == [accepted()]
    assert orders.get_order(accepted().order_id).status is OrderStatus.PENDING


def test_an_order_that_cannot_be_enqueued_is_refused_and_leaves_nothing_behind(orders):
    with pytest.raises(Unavailable):
        place_order(accepted(), CUSTOMER_CALLER, RecordingQueue(fail=True), orders)
    assert orders.orders == {}


def test_an_order_whose_pending_record_fails_after_enqueueing_is_still_processed(orders):
    # The failure between the two steps: SQS has the order, the table does not.
    queue = RecordingQueue()
    orders.fail_add_pending = True
    order = accepted(SKU_A=2)
    assert "injected" in place_order(order, CUSTOMER_CALLER, queue, orders)
    assert orders.get_order(order.order_id) is None

    orders.fail_add_pending = False
    publisher = RecordingPublisher()
    processed = process_order(queue.submitted[0], orders, publisher, clock)
    assert processed.outcome is Outcome.CONFIRMED
    assert orders.get_order(order.order_id).status is OrderStatus.CONFIRMED
    assert orders.available("SKU-A") == 3
    assert [e.event_type for e in publisher.published] == [OrderEventType.CONFIRMED]


def test_processing_reserves_stock_confirms_and_announces(orders):
    publisher = RecordingPublisher()
    processed = process_order(accepted(SKU_A=2, SKU_B=1), orders, publisher, clock)
    assert processed.outcome is Outcome.CONFIRMED
    assert (orders.available("SKU-A"), orders.available("SKU-B")) == (3, 0)
    assert publisher.published == [event_for(processed.order)]
    assert orders.is_announced(processed.order.order_id)


def test_not_enough_stock_rejects_with_the_reason_and_reserves_nothing(orders):
    publisher = RecordingPublisher()
    processed = process_order(accepted(SKU_A=2, SKU_B=4), orders, publisher, clock)
    assert processed.outcome is Outcome.REJECTED
    assert processed.order.reason == "insufficient stock: SKU-B (requested 4, available 1)"
    assert (orders.available("SKU-A"), orders.available("SKU-B")) == (5, 1)
    assert [e.event_type for e in publisher.published] == [OrderEventType.REJECTED]


def test_a_duplicate_delivery_reserves_nothing_and_announces_nothing_again(orders):
    publisher = RecordingPublisher()
    first = process_order(accepted(SKU_A=2), orders, publisher, clock)
    again = process_order(accepted(SKU_A=2), orders, publisher, clock)
    assert again.outcome is Outcome.DUPLICATE
    assert again.order == first.order
    assert orders.available("SKU-A") == 3
    assert len(publisher.published) == 1


def test_an_outcome_not_yet_announced_is_announced_on_redelivery(orders):
    publisher = RecordingPublisher(failures_left=1)
    with pytest.raises(Unavailable):
        process_order(accepted(SKU_A=1), orders, publisher, clock)
    # The order is final but nobody was told: the retried message must tell them, once.
    assert orders.orders[accepted().order_id].status is OrderStatus.CONFIRMED
    processed = process_order(accepted(SKU_A=1), orders, publisher, clock)
    assert processed.outcome is Outcome.DUPLICATE
    assert orders.available("SKU-A") == 4
    assert [e.event_type for e in publisher.published] == [OrderEventType.CONFIRMED]


def test_a_pending_record_is_finalized_in_place(orders):
    place_order(accepted(SKU_A=1), CUSTOMER_CALLER, RecordingQueue(), orders)
    processed = process_order(accepted(SKU_A=1), orders, RecordingPublisher(), clock)
    assert processed.order.created_at == T0
    assert processed.order.status is OrderStatus.CONFIRMED


def test_notifying_sends_to_the_customer_and_records_it():
    customers = InMemoryCustomers({"c-9": "c9@example.com"})
    mailer, log = RecordingMailer(), InMemoryNotifications()
    order = confirm(accepted(), T0)
    notification = notify_customer(event_for(order), customers, mailer, log, clock)
    assert notification.status is NotificationStatus.SENT
    assert notification.message_id == "ses-1"
    assert mailer.sent[0][0] == "c9@example.com"
    assert log.notification_for(order.order_id) == notification


def test_a_customer_without_an_address_is_recorded_as_skipped_not_retried():
    mailer, log = RecordingMailer(), InMemoryNotifications()
    event = event_for(confirm(accepted(), T0))
    notification = notify_customer(event, InMemoryCustomers(), mailer, log, clock)
    assert notification.status is NotificationStatus.SKIPPED_NO_ADDRESS
    assert mailer.sent == []
    assert log.notification_for(event.order_id).status is NotificationStatus.SKIPPED_NO_ADDRESS


# --- who may do what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "reason"),
    [
        (Caller(customer_id="c-10"), r"is not the signed-in customer \('c-10'\)"),
        (Caller(customer_id=None, is_admin=True), "this token has no customer"),
    ],
)
def test_an_order_for_another_customer_is_refused_before_anything_is_written(
    orders, caller, reason
):
    queue = RecordingQueue()
    with pytest.raises(NotYourCustomer, match=reason):
        place_order(accepted(), caller, queue, orders)
    assert queue.submitted == []
    assert orders.get_order(accepted().order_id) is None


def test_a_customer_finds_its_own_order_and_another_customer_s_is_as_missing(orders):
    place_order(accepted(), CUSTOMER_CALLER, RecordingQueue(), orders)
    order_id = accepted().order_id

    assert find_order(order_id, CUSTOMER_CALLER, orders).customer_id == "c-9"
    assert find_order(order_id, Caller(customer_id="c-10"), orders) is None
    assert find_order("no-such-order", CUSTOMER_CALLER, orders) is None


def test_the_admin_scope_reads_every_customer_s_orders(orders):
    place_order(accepted(), CUSTOMER_CALLER, RecordingQueue(), orders)
    admin = Caller(customer_id=None, is_admin=True)

    assert find_order(accepted().order_id, admin, orders).customer_id == "c-9"
    page = customer_orders("c-9", admin, orders, limit=10, cursor=None)
    assert [o.order_id for o in page.orders] == [accepted().order_id]


def test_a_customer_lists_its_own_orders_and_no_one_else_s(orders):
    place_order(accepted(), CUSTOMER_CALLER, RecordingQueue(), orders)

    assert len(customer_orders("c-9", CUSTOMER_CALLER, orders, 10, None).orders) == 1
    assert customer_orders("c-9", Caller(customer_id="c-10"), orders, 10, None) is None
    assert customer_orders("c-9", Caller(customer_id=None), orders, 10, None) is None


class WorkerDied(BaseException):
    """The process running the attempt is gone: no except clause of the code runs, as after a
    SIGKILL or a Lambda timeout."""


class DyingMailer(RecordingMailer):
    """Dies on its first send: before SES took the mail, or after (SES has it)."""

    def __init__(self, after_sending: bool) -> None:
        super().__init__()
        self.after_sending = after_sending
        self.died = False

    def send(self, recipient, message):
        if not self.died:
            self.died = True
            if self.after_sending:
                super().send(recipient, message)
            raise WorkerDied
        return super().send(recipient, message)


@pytest.mark.parametrize("after_sending", [False, True], ids=["before-ses", "after-ses"])
def test_an_attempt_that_died_while_mailing_is_never_mailed_again_and_recorded_uncertain(
    after_sending,
):
    customers = InMemoryCustomers({"c-9": "c9@example.com"})
    mailer, log = DyingMailer(after_sending), InMemoryNotifications()
    event = event_for(confirm(accepted(), T0))
    with pytest.raises(WorkerDied):
        notify_customer(event, customers, mailer, log, clock)
    assert log.notification_for(event.order_id).status is NotificationStatus.SENDING

    for _ in range(2):  # the redelivery, and any after it
        again = notify_customer(event, customers, mailer, log, clock)
        assert again.status is NotificationStatus.UNCERTAIN
        assert again.recipient == "c9@example.com"
    assert len(mailer.sent) == int(after_sending)  # at most once, whichever side it died on


def test_a_worker_that_dies_in_its_paced_wait_leaves_no_claim_and_the_retry_mails_once():
    class DyingWhileWaiting(RecordingMailer):
        def wait_for_turn(self):
            super().wait_for_turn()
            if self.turns == 1:
                raise WorkerDied

    customers = InMemoryCustomers({"c-9": "c9@example.com"})
    mailer, log = DyingWhileWaiting(), InMemoryNotifications()
    event = event_for(confirm(accepted(), T0))
    with pytest.raises(WorkerDied):
        notify_customer(event, customers, mailer, log, clock)
    assert log.notification_for(event.order_id) is None  # nothing claimed while it waited
    assert notify_customer(event, customers, mailer, log, clock).status is NotificationStatus.SENT
    assert len(mailer.sent) == 1


def test_a_mail_the_service_did_not_take_is_released_and_sent_on_the_retry():
    class RefusingOnce(RecordingMailer):
        refused = False

        def send(self, recipient, message):
            if not self.refused:
                self.refused = True
                raise MailNotSent("throttled")
            return super().send(recipient, message)

    customers = InMemoryCustomers({"c-9": "c9@example.com"})
    mailer, log = RefusingOnce(), InMemoryNotifications()
    event = event_for(confirm(accepted(), T0))
    with pytest.raises(MailNotSent):
        notify_customer(event, customers, mailer, log, clock)
    assert log.notification_for(event.order_id) is None  # nothing was sent: no claim is left
    assert notify_customer(event, customers, mailer, log, clock).status is NotificationStatus.SENT
    assert len(mailer.sent) == 1


def test_a_refused_recipient_completes_its_claim_as_rejected_and_is_never_mailed_again():
    class Refusing(RecordingMailer):
        def send(self, recipient, message):
            self.sent.append((recipient, message))
            raise RecipientRejected("MessageRejected: Email address is not verified")

    customers = InMemoryCustomers({"c-9": "c9@example.com"})
    mailer, log = Refusing(), InMemoryNotifications()
    event = event_for(confirm(accepted(), T0))
    rejected = notify_customer(event, customers, mailer, log, clock)
    assert (rejected.status, rejected.recipient) == (NotificationStatus.REJECTED, "c9@example.com")
    assert "not verified" in rejected.reason
    assert log.notification_for(event.order_id) == rejected  # the claim is no longer SENDING
    assert notify_customer(event, customers, mailer, log, clock) == rejected  # redelivered
    assert len(mailer.sent) == 1


def test_a_repeated_delivery_after_the_mail_was_sent_sends_nothing():
    customers = InMemoryCustomers({"c-9": "c9@example.com"})
    mailer, log = RecordingMailer(), InMemoryNotifications()
    event = event_for(confirm(accepted(), T0))
    first = notify_customer(event, customers, mailer, log, clock)
    assert notify_customer(event, customers, mailer, log, clock) == first
    assert len(mailer.sent) == 1
