"""Who asks: the customer a token was issued to, or a back-office tool with the admin scope.

The API reads the caller from the token the gateway has already verified; what each caller may
do with orders is decided here, not at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass


class NotYourCustomer(PermissionError):
    """The caller asked to act for a customer other than its own; the message says which."""


@dataclass(frozen=True)
class Caller:
    """customer_id: the signed-in customer (None for a client-credentials token, which has no
    customer). is_admin: the token carries the admin scope, which reads any customer's orders."""

    customer_id: str | None
    is_admin: bool = False

    def may_read(self, customer_id: str) -> bool:
        """A customer reads its own orders; the admin scope reads everyone's."""
        return self.is_admin or (self.customer_id is not None and self.customer_id == customer_id)

    def check_places_for(self, customer_id: str) -> None:
        """Orders are placed by customers, each for itself only (the admin scope reads, it does
        not order on anyone's behalf)."""
        if self.customer_id is None:
            raise NotYourCustomer(
                "orders are placed with a customer's token; this token has no customer"
            )
        if customer_id != self.customer_id:
            raise NotYourCustomer(
                f"customer_id {customer_id!r} is not the signed-in customer "
                f"({self.customer_id!r}): a customer places orders for itself only"
            )
