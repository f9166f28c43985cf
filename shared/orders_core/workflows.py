"""What each function does, as plain Python over the ports: no AWS, no powertools.

The handlers wire real adapters in; the unit tests wire fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from orders_core import smoke
from orders_core.domain import (
    Caller,
    Notification,
    NotificationStatus,
    Order,
    OrderEvent,
    compose_notification,
    confirm,
    event_for,
    reject,
    rejection_reason,
    stock_to_reserve,
)
from orders_core.ports import (
    CustomerDirectory,
    DeploymentHooks,
    DeploymentTarget,
    EventPublisher,
    Mailer,
    MailNotSent,
    NotificationLog,
    OrderPage,
    OrderQueue,
    OrderRepository,
    RecipientRejected,
    ReservationResult,
    Unavailable,
    VersionInvoker,
)

Clock = Callable[[], datetime]


def place_order(
    order: Order, caller: Caller, queue: OrderQueue, orders: OrderRepository
) -> str | None:
    """Accept an order the caller places for its own customer (NotYourCustomer otherwise):
    enqueue it, then record it as PENDING. Returns why the PENDING record could not be stored,
    or None (the order is accepted either way).

    The message on the queue is the order's source of truth: once SQS has it, the order is
    processed or ends in the dead-letter queue. So a failure to enqueue is the caller's error
    (Unavailable, and nothing is stored), while a failure to store the PENDING copy afterwards
    only delays what GET /orders/{id} shows: the processor writes the order either way."""
    caller.check_places_for(order.customer_id)
    queue.submit(order)
    try:
        orders.add_pending(order)
    except Unavailable as error:
        return str(error)
    return None


def find_order(order_id: str, caller: Caller, orders: OrderRepository) -> Order | None:
    """The order, if it exists and the caller may read it. Another customer's order is None,
    exactly as a missing one, so that nobody learns which ids exist."""
    order = orders.get_order(order_id)
    if order is None or not caller.may_read(order.customer_id):
        return None
    return order


def customer_orders(
    customer_id: str, caller: Caller, orders: OrderRepository, limit: int, cursor: str | None
) -> OrderPage | None:
    """A page of the customer's orders, newest first; None when the caller may not read them."""
    if not caller.may_read(customer_id):
        return None
    return orders.list_customer_orders(customer_id, limit, cursor)


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Processed:
    order: Order
    outcome: Outcome


def process_order(
    pending: Order,
    orders: OrderRepository,
    publisher: EventPublisher,
    now: Clock,
) -> Processed:
    """Reserve stock and confirm, or reject; then announce the outcome on the bus.

    Safe to run twice for the same message: the conditional writes let an order leave PENDING
    once (whether or not the API stored its PENDING record), a repeated delivery reserves
    nothing, and the event is published until it is marked as announced (consumers see it at
    least once). The common path is one transaction, one PutEvents and one update."""
    confirmed = confirm(pending, now())
    reservation = orders.confirm_reserving_stock(confirmed, stock_to_reserve(pending))
    if reservation.result is ReservationResult.RESERVED:
        final, outcome = confirmed, Outcome.CONFIRMED
    elif reservation.result is ReservationResult.OUT_OF_STOCK:
        rejected = reject(pending, rejection_reason(reservation.shortages), now())
        if orders.store_rejected(rejected):
            final, outcome = rejected, Outcome.REJECTED
        else:
            final, outcome = _stored_final(orders, pending.order_id), Outcome.DUPLICATE
    else:
        final, outcome = _stored_final(orders, pending.order_id), Outcome.DUPLICATE
    _announce(final, orders, publisher, now, only_if_unannounced=outcome is Outcome.DUPLICATE)
    return Processed(final, outcome)


def _stored_final(orders: OrderRepository, order_id: str) -> Order:
    order = orders.get_order(order_id)
    if order is None or not order.is_final:
        # A condition failed on a final order that is not there any more: let SQS retry.
        raise Unavailable(f"order {order_id} changed while it was processed; retry")
    return order


def _announce(
    order: Order,
    orders: OrderRepository,
    publisher: EventPublisher,
    now: Clock,
    only_if_unannounced: bool,
) -> None:
    if only_if_unannounced and orders.is_announced(order.order_id):
        return
    publisher.publish([event_for(order)])
    orders.mark_announced(order.order_id, now())


def notify_customer(
    event: OrderEvent,
    directory: CustomerDirectory,
    mailer: Mailer,
    notifications: NotificationLog,
    now: Clock,
) -> Notification:
    """Tell the customer how the order ended, at most once, and record what was sent.

    SES takes no idempotency key, so the record is claimed (SENDING) before the mail goes out
    and completed after: SENT, or REJECTED with SES's reason when it refused the address for
    good (not tried again). A delivery that finds the record sends nothing. One that finds a
    claim its attempt never completed (that attempt died, or timed out, while it sent) cannot
    know whether SES took the mail: it records the notification UNCERTAIN rather than mail the
    customer twice. The claim is held for the send alone: the mailer's paced wait comes before
    it (a throttled send's retries within the invocation do hold it). A mail SES did not take
    for now (throttled beyond those retries, or refused this request) was not sent: its claim
    is released and the error raised, so the queue's next delivery claims and sends it.
    Concurrent deliveries of one event never meet here: the notifier's idempotency holds the
    second until the first has finished or its time is up."""
    message = compose_notification(event)
    recipient = directory.email_of(event.customer_id)
    claim = Notification(
        order_id=event.order_id,
        event_type=event.event_type,
        status=NotificationStatus.SENDING if recipient else NotificationStatus.SKIPPED_NO_ADDRESS,
        recipient=recipient,
        subject=message.subject,
        recorded_at=now(),
    )
    if recipient:
        # Any paced wait comes before the claim: a worker that dies waiting leaves no claim.
        mailer.wait_for_turn()
    existing = notifications.claim(claim)
    if existing is not None:
        if existing.status is not NotificationStatus.SENDING:
            return existing  # a repeated delivery: already told, or known not to be
        uncertain = existing.model_copy(
            update={"status": NotificationStatus.UNCERTAIN, "recorded_at": now()}
        )
        notifications.record(uncertain)
        return uncertain
    if not recipient:
        return claim
    try:
        message_id = mailer.send(recipient, message)
    except MailNotSent:
        notifications.release(claim)
        raise
    except RecipientRejected as refusal:
        outcome = {"status": NotificationStatus.REJECTED, "reason": str(refusal)}
    else:
        outcome = {"status": NotificationStatus.SENT, "message_id": message_id}
    done = claim.model_copy(update={**outcome, "recorded_at": now()})
    notifications.record(done)
    return done


@dataclass(frozen=True)
class SmokeResult:
    check: str
    problem: str | None  # None: passed


@dataclass(frozen=True)
class SmokeReport:
    target: DeploymentTarget | None
    results: tuple[SmokeResult, ...]
    error: str | None = None  # why the checks could not run at all

    @property
    def succeeded(self) -> bool:
        return self.error is None and all(r.problem is None for r in self.results)


def smoke_test_deployment(
    deployment_id: str,
    execution_id: str,
    hooks: DeploymentHooks,
    invoker: VersionInvoker,
    check_kinds: Mapping[str, str],
) -> SmokeReport:
    """CodeDeploy's BeforeAllowTraffic hook: invoke the version the deployment shifts to with
    the synthetic requests of its kind (orders_core.smoke) and report Succeeded only if every
    one was answered as expected. Whatever goes wrong, a verdict is reported: a hook that
    never answers holds the deployment for an hour."""
    target = None
    results: list[SmokeResult] = []
    error = None
    try:
        target = hooks.target_of(deployment_id)
        kind = check_kinds.get(target.function_name)
        if kind is None:
            error = (
                f"no smoke checks are configured for {target.function_name} "
                f"(SMOKE_CHECKS names {', '.join(sorted(check_kinds)) or 'no function'})"
            )
        else:
            for check in smoke.checks_for(kind):
                answer = invoker.invoke(target.function_name, target.version, check.event)
                results.append(SmokeResult(check.name, check.problem(answer)))
    except Exception as failure:  # any failure is a Failed verdict, and reported
        error = f"{type(failure).__name__}: {failure}"
    report = SmokeReport(target, tuple(results), error)
    hooks.report(deployment_id, execution_id, report.succeeded)
    return report
