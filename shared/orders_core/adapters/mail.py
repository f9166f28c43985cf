"""Customer notifications through Amazon SES (API v2), paced to the account's sending rate.

SES accepts at most the account's maximum send rate (GetSendQuota; 1 message a second in the
sandbox) and throttles the rest. The notifier therefore never asks for more: each execution
environment sends at most `sends_per_second` messages a second (the stack gives each its share
of the environment's SES rate, over the event source's maximum concurrency), spaced evenly and
counted from the start of each invocation, so that an invocation that takes over from another
does not send at once. What SES still throttles is tried again after a growing pause within the
invocation's time, then left to the queue ("try later"); an address SES refuses is a permanent
answer, reported as RecipientRejected and not retried.

SES takes no idempotency key, so a send is only ever repeated when SES certainly did not take
the message: it answered with a throttle (here), or an error or was never reached (MailNotSent:
the queue delivers it again). A request whose answer was lost (a read timeout) may have mailed
the customer: it raises plain Unavailable and is never resent, here or by the SDK (clients.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from orders_core.domain import NotificationMessage
from orders_core.ports import MailNotSent, RecipientRejected, Unavailable

# The request never reached SES: the message certainly did not leave.
NOT_REACHED = (EndpointConnectionError, ConnectTimeoutError)

# SES v2 SendEmail errors (and the v1 / generic throttling codes) that mean "not now".
THROTTLED = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)
# Errors about this recipient or this message: sending it again cannot succeed. In the sandbox
# an address that is not verified (and not the mailbox simulator) is refused with MessageRejected
# ("...identities failed the check...: <address>"); a malformed address with BadRequest. The
# same codes name the sender when *it* is not verified: that is this environment's configuration,
# not the customer's address, so it stays "try later" (and reaches the DLQ, to be redriven).
REFUSED = frozenset({"MessageRejected", "BadRequestException"})
# Sending stops this long before the invocation's end: time for the last call to answer.
END_MARGIN_S = 2.0
THROTTLED_ATTEMPTS = 4
FIRST_BACKOFF_S = 1.0


class SendThrottled(MailNotSent):
    """SES throttled the send, or the invocation has no time left for the next paced send:
    nothing was sent; the message is sent later, when the queue delivers it again."""


class SendPacer:
    """At most `per_second` sends a second from this execution environment, evenly spaced."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError(f"sends per second must be positive, not {per_second}")
        self.interval = 1.0 / per_second
        self.clock = clock
        self.sleep = sleep
        self._next = float("-inf")

    def begin(self) -> None:
        """A new invocation: its first send waits one interval too, since the invocation that
        held this share of the rate before may have sent just before it ended."""
        self._next = max(self._next, self.clock() + self.interval)

    def push_back(self, seconds: float) -> None:
        """No send before `seconds` from now (after a throttle)."""
        self._next = max(self._next, self.clock() + seconds)

    def next_send_in(self) -> float:
        return max(0.0, self._next - self.clock())

    def take_turn(self, deadline: float | None) -> None:
        """Wait for the next send slot and take it; SendThrottled when the slot comes after
        `deadline` (a clock() value), without waiting."""
        wait = self.next_send_in()
        if deadline is not None and self.clock() + wait > deadline:
            raise SendThrottled(
                f"the next send is due in {wait:.1f} s, after this invocation's time; "
                "the queue delivers the message again"
            )
        if wait > 0:
            self.sleep(wait)
        self._next = max(self._next, self.clock()) + self.interval


class SesMailer:
    """Implements Mailer, sending from one verified SES identity."""

    def __init__(
        self,
        sender: str,
        sesv2: Any,
        sends_per_second: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: random.Random | None = None,
    ) -> None:
        self.sender = sender
        self.sesv2 = sesv2
        self.clock = clock
        self.sleep = sleep
        self._jitter = jitter
        self.pacer = SendPacer(sends_per_second, clock, sleep) if sends_per_second else None
        self._deadline: float | None = None
        self._turn_held = False

    @property
    def jitter(self) -> random.Random:
        # Seeded from the OS on first use, never at import (SnapStart: see wiring).
        if self._jitter is None:
            self._jitter = random.Random()  # noqa: S311 - spreads retries, not a secret
        return self._jitter

    def begin_invocation(self, time_left_ms: Callable[[], int]) -> None:
        """The invocation's time: no send is started that could not finish inside it."""
        self._deadline = self.clock() + time_left_ms() / 1000 - END_MARGIN_S
        self._turn_held = False  # a turn left from the last invocation would skip its pause
        if self.pacer is not None:
            self.pacer.begin()

    def wait_for_turn(self) -> None:
        """Wait for the next paced send slot and hold it for the next send: the notifier waits
        here, before it claims the notification, so that a worker dying in a paced wait leaves
        no claim behind. SendThrottled, without waiting, when the slot is past the time left."""
        if self.pacer is None or self._turn_held:
            return
        self.pacer.take_turn(self._deadline)
        self._turn_held = True

    def send(self, recipient: str, message: NotificationMessage) -> str:
        attempt = 1
        while True:
            self.wait_for_turn()  # at once when the caller waited for it already
            self._turn_held = False
            if self.pacer is not None:
                self.pacer.push_back(self.pacer.interval)  # the next slot counts from this send
            try:
                return self._send_once(recipient, message)
            except NOT_REACHED as error:
                raise MailNotSent(f"SES was not reached for {recipient}: {error}") from error
            except BotoCoreError as error:
                # No answer (a read timeout, a dropped connection): SES may have sent it.
                raise Unavailable(f"no answer from SES for {recipient}: {error}") from error
            except ClientError as error:  # SES answered: it did not take the message
                code = error.response.get("Error", {}).get("Code", "")
                if code in REFUSED and self.sender.lower() not in _message(error).lower():
                    raise RecipientRejected(f"{code}: {_message(error)}") from error
                if code not in THROTTLED:
                    raise MailNotSent(
                        f"SES did not take the message for {recipient}: {error}"
                    ) from error
                throttled = error
            backoff = self.jitter.uniform(0.5, 1.0) * FIRST_BACKOFF_S * 2 ** (attempt - 1)
            if attempt == THROTTLED_ATTEMPTS or not self._time_for(backoff):
                raise SendThrottled(
                    f"SES throttled the message for {recipient} {attempt} times ({code}); "
                    "the queue delivers it again"
                ) from throttled
            if self.pacer is not None:
                self.pacer.push_back(backoff)  # the next turn waits it out
            else:
                self.sleep(backoff)
            attempt += 1

    def _time_for(self, backoff: float) -> bool:
        return self._deadline is None or self.clock() + backoff < self._deadline

    def _send_once(self, recipient: str, message: NotificationMessage) -> str:
        response = self.sesv2.send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [recipient]},
            Content={
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}},
                }
            },
        )
        return response["MessageId"]


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))[:300]
