"""The SES adapter against SES v2's own answers (botocore's Stubber, and botocore's own
exceptions for what happens below HTTP): pacing to the account's rate, throttling as "try later"
with a growing pause, a refused address as a permanent answer, and a request never resent when
SES may have taken it."""

from __future__ import annotations

import itertools
import random
from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from orders_core.adapters import mail
from orders_core.adapters.mail import SendPacer, SendThrottled, SesMailer
from orders_core.domain import NotificationMessage
from orders_core.ports import MailNotSent, RecipientRejected, Unavailable
from tests.unit.conftest import REGION

SENDER = "orders@example.com"
MESSAGE = NotificationMessage(subject="Order 1 confirmed", body="Thank you.")
SIMULATOR = "success+cust-000001@simulator.amazonses.com"


class FakeClock:
    """time.monotonic and time.sleep for a test: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds


def mailer(clock: FakeClock, per_second: float | None = None) -> tuple[SesMailer, Stubber]:
    sesv2 = boto3.client("sesv2", region_name=REGION)
    adapter = SesMailer(
        SENDER,
        sesv2,
        per_second,
        clock=clock,
        sleep=clock.sleep,
        jitter=random.Random(3),  # noqa: S311
    )
    return adapter, Stubber(sesv2)


def sent(stub: Stubber, message_id: str = "m-1") -> None:
    stub.add_response("send_email", {"MessageId": message_id})


def refused(stub: Stubber, code: str, message: str) -> None:
    stub.add_client_error("send_email", service_error_code=code, service_message=message)


ENDPOINT = "https://email.eu-west-1.amazonaws.com"
THROTTLED = ClientError(
    {"Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."}},
    "SendEmail",
)


class ScriptedSes:
    """An SES v2 client whose send_email answers in turn: a message id, or the exception given
    (botocore's own: a Stubber cannot fail below HTTP, where an answer gets lost)."""

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def send_email(self, **request: Any) -> dict[str, str]:
        self.calls.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"MessageId": answer}


def test_the_pacer_spaces_sends_by_its_interval_starting_one_interval_into_each_invocation():
    clock = FakeClock()
    pacer = SendPacer(0.5, clock, clock.sleep)
    sends = []
    for _invocation in range(2):
        pacer.begin()
        for _ in range(3):
            pacer.take_turn(deadline=None)
            sends.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert sends[0] == 1002.0  # one interval after the first invocation began
    assert gaps == [2.0] * 5  # 0.5 a second, also across the two invocations


def test_a_paced_mailer_never_sends_faster_than_its_share_of_the_rate():
    clock = FakeClock()
    adapter, stub = mailer(clock, per_second=0.5)
    times = []
    with stub:
        for n in range(10):
            sent(stub, f"m-{n}")
        adapter.begin_invocation(lambda: 60_000)
        for _ in range(10):
            adapter.send(SIMULATOR, MESSAGE)
            times.append(clock.now)
        stub.assert_no_pending_responses()
    # In any window, at most one send per 2 s: 10 sends span 18 s after the first.
    assert times[-1] - times[0] == pytest.approx(18.0)
    assert min(b - a for a, b in itertools.pairwise(times)) == pytest.approx(2.0)


def test_a_send_that_would_start_after_the_invocations_time_is_left_for_later_without_waiting():
    clock = FakeClock()
    adapter, stub = mailer(clock, per_second=0.5)
    with stub:
        sent(stub)
        adapter.begin_invocation(lambda: 5_000)  # 5 s left; sends stop 2 s before the end
        adapter.send(SIMULATOR, MESSAGE)  # at +2 s
        with pytest.raises(SendThrottled, match="after this invocation's time"):
            adapter.send(SIMULATOR, MESSAGE)  # due at +4 s, past +3 s
        stub.assert_no_pending_responses()
    assert clock.now == pytest.approx(1002.0)  # it did not wait for a slot it could not use


def test_a_turn_waited_for_before_the_claim_is_the_sends_and_the_pace_counts_from_the_send():
    clock = FakeClock()
    adapter, stub = mailer(clock, per_second=0.5)
    with stub:
        sent(stub, "m-1")
        sent(stub, "m-2")
        adapter.begin_invocation(lambda: 60_000)
        adapter.wait_for_turn()  # the notifier waits here, before it claims
        clock.now += 0.3  # the claim's write
        adapter.wait_for_turn()  # held already: no second wait
        adapter.send(SIMULATOR, MESSAGE)  # nor here
        first = clock.now
        adapter.send(SIMULATOR, MESSAGE)
        stub.assert_no_pending_responses()
    assert clock.now - first == pytest.approx(2.0)  # a whole interval after the first send
    assert clock.slept == [pytest.approx(2.0), pytest.approx(2.0)]


def test_a_turn_held_at_the_end_of_an_invocation_does_not_skip_the_next_ones_pause():
    clock = FakeClock()
    adapter, stub = mailer(clock, per_second=0.5)
    with stub:
        sent(stub)
        adapter.begin_invocation(lambda: 60_000)
        adapter.wait_for_turn()  # a repeated delivery: nothing sent with this turn
        adapter.begin_invocation(lambda: 60_000)
        started = clock.now
        adapter.send(SIMULATOR, MESSAGE)
    assert clock.now - started == pytest.approx(2.0)


def test_ses_throttling_is_waited_out_with_a_growing_pause_and_the_pace_slows():
    clock = FakeClock()
    adapter, stub = mailer(clock, per_second=10)
    with stub:
        refused(stub, "TooManyRequestsException", "Maximum sending rate exceeded.")
        refused(stub, "LimitExceededException", "Maximum sending rate exceeded.")
        sent(stub, "m-ok")
        adapter.begin_invocation(lambda: 60_000)
        assert adapter.send(SIMULATOR, MESSAGE) == "m-ok"
        stub.assert_no_pending_responses()
    pauses = [s for s in clock.slept if s > 0.1 + 1e-9]  # beyond the 0.1 s pace
    assert len(pauses) == 2
    assert 0.5 <= pauses[0] <= 1.0
    assert 1.0 <= pauses[1] <= 2.0


def test_persistent_throttling_is_try_later_not_a_refusal():
    clock = FakeClock()
    adapter, stub = mailer(clock)
    with stub:
        for _ in range(mail.THROTTLED_ATTEMPTS):
            refused(stub, "TooManyRequestsException", "Maximum sending rate exceeded.")
        with pytest.raises(SendThrottled, match="throttled") as raised:
            adapter.send(SIMULATOR, MESSAGE)
        stub.assert_no_pending_responses()
    assert isinstance(raised.value, MailNotSent)  # nothing sent: its claim is released
    assert not isinstance(raised.value, RecipientRejected)


def test_throttling_with_no_time_left_for_the_pause_gives_up_at_once():
    clock = FakeClock()
    adapter, stub = mailer(clock)
    with stub:
        refused(stub, "TooManyRequestsException", "Maximum sending rate exceeded.")
        adapter.begin_invocation(lambda: 2_500)  # 0.5 s before sends stop: no room for a pause
        with pytest.raises(SendThrottled):
            adapter.send(SIMULATOR, MESSAGE)
        stub.assert_no_pending_responses()
    assert clock.slept == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in "
            "region EU-WEST-1: someone@example.org",
        ),
        ("BadRequestException", "Missing final '@domain'"),
    ],
)
def test_an_address_ses_refuses_is_a_permanent_answer(code, message):
    clock = FakeClock()
    adapter, stub = mailer(clock)
    with stub:
        refused(stub, code, message)
        with pytest.raises(RecipientRejected, match=code):
            adapter.send("someone@example.org", MESSAGE)
        stub.assert_no_pending_responses()


def test_a_refusal_that_names_our_own_sender_is_configuration_so_try_later():
    clock = FakeClock()
    adapter, stub = mailer(clock)
    with stub:
        refused(
            stub,
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in "
            f"region EU-WEST-1: {SENDER}",
        )
        with pytest.raises(MailNotSent) as raised:
            adapter.send(SIMULATOR, MESSAGE)
    assert not isinstance(raised.value, RecipientRejected)


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url=ENDPOINT),
        ConnectTimeoutError(endpoint_url=ENDPOINT),
        ClientError({"Error": {"Code": "InternalFailure", "Message": "..."}}, "SendEmail"),
    ],
    ids=["not-reached", "connect-timeout", "ses-answered-an-error"],
)
def test_a_request_ses_never_took_is_mail_not_sent_so_its_claim_may_be_released(error):
    ses = ScriptedSes(error)
    with pytest.raises(MailNotSent):
        SesMailer(SENDER, ses).send(SIMULATOR, MESSAGE)
    assert len(ses.calls) == 1


@pytest.mark.parametrize(
    "error",
    [ReadTimeoutError(endpoint_url=ENDPOINT), ConnectionClosedError(endpoint_url=ENDPOINT)],
    ids=["read-timeout", "connection-closed"],
)
def test_a_request_whose_answer_was_lost_is_never_resent_nor_called_not_sent(error):
    clock = FakeClock()
    ses = ScriptedSes(THROTTLED, error, "m-would-be-a-second-mail")
    adapter = SesMailer(SENDER, ses, clock=clock, sleep=clock.sleep, jitter=random.Random(3))  # noqa: S311
    with pytest.raises(Unavailable) as raised:  # SES may have the mail
        adapter.send(SIMULATOR, MESSAGE)
    assert not isinstance(raised.value, MailNotSent)  # so its claim is kept, never released
    assert len(ses.calls) == 2  # the throttled request was retried; the lost one was not


def test_an_unpaced_mailer_sends_at_once():
    clock = FakeClock()
    adapter, stub = mailer(clock)
    with stub:
        sent(stub)
        sent(stub)
        adapter.send(SIMULATOR, MESSAGE)
        adapter.send(SIMULATOR, MESSAGE)
    assert clock.slept == []


def test_the_rate_setting_must_be_positive():
    from orders_core.settings import ConfigurationError, Settings

    assert Settings.from_env({"MAIL_SENDS_PER_SECOND": "0.5"}).mail_sends_per_second == 0.5
    assert Settings.from_env({}).mail_sends_per_second is None
    for bad in ("0", "-1", "fast", "inf", "nan"):
        with pytest.raises(ConfigurationError, match="MAIL_SENDS_PER_SECOND"):
            Settings.from_env({"MAIL_SENDS_PER_SECOND": bad})
