"""The API's edge models and their mapping to and from the domain's one `Order`.

GET /orders/{order_id} answers the domain `Order` itself; the others are what the contract
needs besides: the request that creates an order, the 202 that accepts it, a list entry, and
the error body. Mapping between them and `Order` happens here and nowhere else.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from orders_core.domain import (
    MAX_ITEMS,
    Order,
    OrderContents,
    OrderItem,
    OrderStatus,
    new_order,
)
from orders_core.domain.models import Currency, CustomerId, Model, Total


class CreateOrderRequest(OrderContents):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "c-1001",
                    "currency": "EUR",
                    "items": [{"sku": "SKU-RED-MUG", "quantity": 2, "unit_price": "12.50"}],
                }
            ]
        },
    )

    customer_id: CustomerId = Field(description="Who places the order.")
    # Declared before items: the item rules need the currency's decimal places.
    currency: Currency = Field(description="ISO 4217 code, e.g. EUR.")
    items: list[OrderItem] = Field(min_length=1, max_length=MAX_ITEMS)

    def to_order(self, order_id: str, at: datetime) -> Order:
        return new_order(order_id, self.customer_id, self.currency, self.items, at)


def links_to(order_id: str) -> dict[str, str]:
    return {"self": f"/orders/{order_id}"}


class OrderAccepted(Model):
    order_id: str
    status: OrderStatus = OrderStatus.PENDING
    links: dict[str, str]

    @classmethod
    def of(cls, order: Order) -> OrderAccepted:
        return cls(order_id=order.order_id, status=order.status, links=links_to(order.order_id))


class OrderSummary(Model):
    order_id: str
    status: OrderStatus
    total: Total
    currency: str
    item_count: int
    created_at: datetime
    links: dict[str, str]

    @classmethod
    def of(cls, order: Order) -> OrderSummary:
        return cls(
            order_id=order.order_id,
            status=order.status,
            total=order.total,
            currency=order.currency,
            item_count=len(order.items),
            created_at=order.created_at,
            links=links_to(order.order_id),
        )


class CustomerOrders(Model):
    orders: list[OrderSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class FieldProblem(Model):
    field: str
    message: str


class ErrorBody(Model):
    error: str = Field(description="Machine-readable error code.")
    message: str = Field(description="What went wrong and what to do about it.")
    fields: list[FieldProblem] | None = Field(
        default=None, description="The failing fields, for validation errors."
    )
    request_id: str | None = None


class GatewayErrorBody(Model):
    """What API Gateway answers itself, in front of the function (a refused token)."""

    message: str = Field(description='"Unauthorized" or "Forbidden".')


class Health(Model):
    status: str = "ok"
