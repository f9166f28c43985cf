"""Request and response bodies of the orders API."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from orders_core.domain import MAX_LINES, Order, OrderLine, OrderStatus, line_problems
from orders_core.domain.models import Currency, CustomerId, Model, Total


class CreateOrderRequest(Model):
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
    # Declared before items: the item checks need to know the currency's decimal places.
    currency: Currency = Field(description="ISO 4217 code, e.g. EUR.")
    items: list[OrderLine] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("items")
    @classmethod
    def _fit_the_currency_and_one_transaction(
        cls, items: list[OrderLine], info: ValidationInfo
    ) -> list[OrderLine]:
        problems = line_problems(info.data.get("currency", ""), items)
        if problems:
            raise ValueError("; ".join(problems))
        return items


def links_to(order_id: str) -> dict[str, str]:
    return {"self": f"/orders/{order_id}"}


class OrderAccepted(Model):
    order_id: str
    status: OrderStatus = OrderStatus.PENDING
    links: dict[str, str]


class OrderView(Model):
    order_id: str
    customer_id: str
    status: OrderStatus
    reason: str | None
    currency: str
    items: list[OrderLine]
    total: Total
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: Order) -> OrderView:
        return cls(
            order_id=order.order_id,
            customer_id=order.customer_id,
            status=order.status,
            reason=order.reason,
            currency=order.currency,
            items=order.lines,
            total=order.total,
            created_at=order.created_at,
            updated_at=order.updated_at,
        )


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
            item_count=len(order.lines),
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


class Health(Model):
    status: str = "ok"
