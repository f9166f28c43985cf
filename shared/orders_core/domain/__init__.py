"""Orders and stock: the rules of the business, with no AWS and no I/O in them."""

from orders_core.domain.callers import Caller, NotYourCustomer
from orders_core.domain.currency import ISO_4217_CURRENCIES
from orders_core.domain.models import (
    MAX_DISTINCT_SKUS,
    MAX_ITEMS,
    FinalStatus,
    Notification,
    NotificationMessage,
    NotificationStatus,
    Order,
    OrderContents,
    OrderEvent,
    OrderEventType,
    OrderItem,
    OrderStatus,
    StockShortage,
    item_problems,
)
from orders_core.domain.orders import (
    InvalidTransition,
    compose_notification,
    confirm,
    event_for,
    new_order,
    reject,
    rejection_reason,
    stock_to_reserve,
)

__all__ = [
    "ISO_4217_CURRENCIES",
    "MAX_DISTINCT_SKUS",
    "MAX_ITEMS",
    "Caller",
    "FinalStatus",
    "InvalidTransition",
    "NotYourCustomer",
    "Notification",
    "NotificationMessage",
    "NotificationStatus",
    "Order",
    "OrderContents",
    "OrderEvent",
    "OrderEventType",
    "OrderItem",
    "OrderStatus",
    "StockShortage",
    "compose_notification",
    "confirm",
    "event_for",
    "item_problems",
    "new_order",
    "reject",
    "rejection_reason",
    "stock_to_reserve",
]
