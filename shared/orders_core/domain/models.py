"""The order model: what an order is, what it may contain, and the events it raises.

One model, `Order`, from the API's accepted request to the table: it is also the message on
the orders queue, so every rule on what an order may contain is checked on both sides of the
queue (the API answers 422; the processor sends a message that breaks one to its DLQ)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    computed_field,
    field_validator,
    model_validator,
)

from orders_core.domain.currency import ISO_4217_CURRENCIES

MAX_ITEMS = 100
# The processor reserves stock in one DynamoDB transaction: at most 100 actions, one of which
# is the order itself.
MAX_DISTINCT_SKUS = 99
MAX_QUANTITY = 1000
MAX_UNIT_PRICE = Decimal("1000000")


def _known_currency(code: str) -> str:
    if code not in ISO_4217_CURRENCIES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code in circulation (e.g. EUR)")
    return code


Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,63}$")]
CustomerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
OrderId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
Currency = Annotated[
    str,
    StringConstraints(min_length=3, max_length=3),
    AfterValidator(_known_currency),
    # The document lists the codes; the validator above says which one is wrong and why.
    Field(json_schema_extra={"enum": sorted(ISO_4217_CURRENCIES)}),
]

# A price as a string: a positive decimal of at most 1,000,000 and at most four decimal
# places (the most any currency has), without sign, exponent or spaces. What a price may be in
# the order's currency is then checked against its minor units (`item_problems`).
MONEY_PATTERN = (
    r"^(?:[1-9][0-9]{0,5}(?:\.[0-9]{1,4})?"
    r"|0\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9])"
    r"|1000000(?:\.0{1,4})?)$"
)
_MONEY_STRING = re.compile(MONEY_PATTERN)


def _money_string_in_the_documented_form(value: Any) -> Any:
    # Decimal() also reads "1e3", " 12.5" and "+3": the contract is the plain form only.
    if isinstance(value, str) and not _MONEY_STRING.match(value):
        raise ValueError(
            'a price is a JSON number or a decimal string like "12.50" '
            "(greater than 0, at most 1000000, at most 4 decimal places)"
        )
    return value


# Money leaves the system as a decimal string ("12.50"): JSON numbers are floats to most clients.
Money = Annotated[
    Decimal,
    Field(gt=0, le=MAX_UNIT_PRICE, allow_inf_nan=False),
    BeforeValidator(_money_string_in_the_documented_form),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": int(MAX_UNIT_PRICE)},
                {"type": "string", "pattern": MONEY_PATTERN},
            ]
        },
        mode="validation",
    ),
    PlainSerializer(lambda value: str(value), return_type=str, when_used="json"),
]
Total = Annotated[
    Decimal, PlainSerializer(lambda value: str(value), return_type=str, when_used="json")
]


class Model(BaseModel):
    """Base of every model here: pydantic builds a model's validator on first use, not at
    import, so each function pays at cold start only for the models it uses."""

    model_config = ConfigDict(defer_build=True)


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"


FinalStatus = Literal[OrderStatus.CONFIRMED, OrderStatus.REJECTED]


class OrderItem(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: Sku = Field(description="Stock keeping unit: upper-case letters, digits and hyphens.")
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True, description="Units ordered.")
    unit_price: Money = Field(description="Price of one unit in the order's currency.")

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


def item_problems(currency: str, items: list[OrderItem]) -> list[str]:
    """What is wrong with a set of items for an order in this currency (empty when valid)."""
    problems = []
    places = ISO_4217_CURRENCIES.get(currency)
    if places is not None:
        for index, item in enumerate(items):
            exponent = item.unit_price.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > places:
                problems.append(
                    f"items[{index}].unit_price {item.unit_price} has more decimal places than "
                    f"{currency} allows ({places})"
                )
    distinct = len(Counter(item.sku for item in items))
    if distinct > MAX_DISTINCT_SKUS:
        problems.append(
            f"an order may reference at most {MAX_DISTINCT_SKUS} distinct SKUs, "
            f"this one has {distinct}"
        )
    return problems


class OrderContents(Model):
    """Base of every model that carries an order's `currency` and then its `items`: the items
    must fit the currency's decimal places and one stock transaction. The domain's `Order` and
    the API's request both hold to it, so the API answers a breach with a 422 naming the field
    and the processor refuses a queue message that breaks it."""

    @field_validator("items", check_fields=False)
    @classmethod
    def _fit_the_currency_and_one_transaction(
        cls, items: list[OrderItem], info: ValidationInfo
    ) -> list[OrderItem]:
        problems = item_problems(info.data.get("currency", ""), items)
        if problems:
            raise ValueError("; ".join(problems))
        return items


class Order(OrderContents):
    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: OrderId
    customer_id: CustomerId
    # Declared before items: the item rules need the currency's decimal places.
    currency: Currency
    items: list[OrderItem] = Field(min_length=1, max_length=MAX_ITEMS)
    status: OrderStatus
    reason: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _total_is_the_sum_of_the_items(cls, data: Any) -> Any:
        """A serialized order carries its total: read back, it must still add up."""
        if isinstance(data, dict) and "total" in data:
            data = dict(data)
            stated = data.pop("total")
            try:
                items = [OrderItem.model_validate(i) for i in data.get("items") or []]
            except ValidationError:
                return data  # the items' own errors say what is wrong
            try:
                matches = Decimal(str(stated)) == sum((i.total for i in items), Decimal(0))
            except ArithmeticError:
                matches = False
            if not matches:
                raise ValueError(f"total {stated} is not the sum of the items")
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> Total:
        return sum((item.total for item in self.items), Decimal(0))

    @property
    def is_final(self) -> bool:
        return self.status is not OrderStatus.PENDING


class StockShortage(Model):
    model_config = ConfigDict(frozen=True)

    sku: str
    requested: int
    available: int | None = None  # None: the SKU is not stocked at all


class OrderEventType(StrEnum):
    CONFIRMED = "OrderConfirmed"
    REJECTED = "OrderRejected"


class OrderEvent(Model):
    """The detail of an OrderConfirmed / OrderRejected event on the bus."""

    model_config = ConfigDict(frozen=True)

    event_type: OrderEventType
    order_id: OrderId
    customer_id: CustomerId
    status: OrderStatus
    reason: str | None = None
    total: Total
    currency: Currency
    occurred_at: datetime


class NotificationStatus(StrEnum):
    """Where the customer's mail about an order stands. It is sent at most once: the record
    is claimed (SENDING) before the mail goes to SES and completed (SENT, or REJECTED when SES
    refused the address) after it."""

    SENDING = "SENDING"  # claimed; its attempt is sending, or died while it sent
    SENT = "SENT"
    SKIPPED_NO_ADDRESS = "SKIPPED_NO_ADDRESS"
    REJECTED = "REJECTED"  # the mail provider refused the address: final, not retried
    # An attempt died between its claim and SES's answer: the mail left once or not at all.
    # It is not sent again; an operator can tell from SES's sending records.
    UNCERTAIN = "UNCERTAIN"


class NotificationMessage(Model):
    model_config = ConfigDict(frozen=True)

    subject: str
    body: str


class Notification(Model):
    """The record of what the customer was told about an order."""

    model_config = ConfigDict(frozen=True)

    order_id: OrderId
    event_type: OrderEventType
    status: NotificationStatus
    recipient: str | None = None
    subject: str
    message_id: str | None = None
    reason: str | None = None  # why it was not sent, when the provider said
    recorded_at: AwareDatetime
