"""Customer notifications through Amazon SES (API v2)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from orders_core.domain import NotificationMessage
from orders_core.ports import MailRefused, Unavailable

# SES never saw the request: the message certainly did not leave.
_NOT_SENT = (ClientError, EndpointConnectionError, ConnectTimeoutError)


class SesMailer:
    """Implements Mailer, sending from one verified SES identity."""

    def __init__(self, sender: str, sesv2: Any) -> None:
        self.sender = sender
        self.sesv2 = sesv2

    def send(self, recipient: str, message: NotificationMessage) -> str:
        try:
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
        except _NOT_SENT as error:
            raise MailRefused(f"SES did not take the message for {recipient}: {error}") from error
        except BotoCoreError as error:  # a read timeout: SES may have sent it
            raise Unavailable(f"no answer from SES for {recipient}: {error}") from error
        return response["MessageId"]
