"""HTTP API of the orders platform (API Gateway HTTP API, payload 2.0).

    POST /orders                          accept an order (202), optionally with an Idempotency-Key
    GET  /orders/{order_id}               one order
    GET  /customers/{customer_id}/orders  a customer's orders, newest first, paged
    GET  /health                          liveness, touches nothing else

Every route but /health is behind API Gateway's JWT authorizer: the caller is read from the
verified token's claims (orders_api.callers) and orders_core decides what it may see: a
customer its own orders, the admin scope everyone's; another customer's order answers 404.
Parsing and validation are powertools' (orders_api.models); the work is
orders_core.workflows over the adapters of orders_core.wiring; failures are answered by
orders_api.errors, and bodies are checked before routing by orders_api.transport.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from orders_api import errors
from orders_api.callers import caller_from
from orders_api.errors import ApiError, error_responses
from orders_api.models import (
    CreateOrderRequest,
    CustomerOrders,
    Health,
    OrderAccepted,
    OrderSummary,
)
from orders_api.transport import RouteTable, body_problem
from orders_core import wiring
from orders_core.domain import Caller, NotYourCustomer, Order
from orders_core.domain.models import CustomerId, Model, OrderId
from orders_core.entrypoint import EventSource, lambda_entrypoint
from orders_core.idempotency import Idempotent
from orders_core.observability import logger, metrics, tracer
from orders_core.ports import InvalidCursor, Unavailable
from orders_core.workflows import customer_orders, find_order, place_order

TITLE = "Orders API"
VERSION = "1.0.0"
IDEMPOTENCY_KEY = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string (a UUID is usual). The same key and body return the "
        "first response; the same key with another body is refused.",
    ),
]

app = APIGatewayHttpResolver(enable_validation=True)
SECURITY_SCHEME = "cognito"
app.configure_openapi(
    security_schemes={
        SECURITY_SCHEME: HTTPBearer(
            bearerFormat="JWT",
            description="An access token of the environment's Cognito user pool, checked by API "
            "Gateway (issuer, audience, signature, expiry, the route's scopes). A customer's token "
            "(sign-in through the customer client; scope aws.cognito.signin.user.admin) acts for "
            "that customer; a client-credentials token of the admin client with the orders/admin "
            "scope reads any customer's orders. Without a valid token: 401 from the gateway.",
        )
    }
)
SIGNED_IN = [{SECURITY_SCHEME: []}]
routes = RouteTable(lambda: app.get_openapi_schema(title=TITLE, version=VERSION))
errors.register(app, routes)


class PlaceOrderCommand(Model):
    """What an Idempotency-Key guards: the key, scoped to the customer, and the request."""

    idempotency_key: str
    request: CreateOrderRequest


def caller() -> Caller:
    return caller_from(
        app.current_event.request_context.authorizer, wiring.current().settings.admin_scope
    )


def place(request: CreateOrderRequest) -> dict[str, Any]:
    order = request.to_order(str(uuid.uuid4()), datetime.now(UTC))
    current = wiring.current()
    try:
        unrecorded = place_order(order, caller(), current.queue, current.orders)
    except NotYourCustomer as refusal:
        raise ApiError(HTTPStatus.FORBIDDEN, "customer_mismatch", str(refusal)) from None
    if unrecorded:
        logger.warning(
            "order enqueued; its PENDING record was not stored and appears once processed",
            extra={"order_id": order.order_id, "reason": unrecorded},
        )
    metrics.add_metric(name="OrdersAccepted", unit=MetricUnit.Count, value=1)
    tracer.put_annotation(key="order_id", value=order.order_id)
    logger.info("order accepted", extra={"order_id": order.order_id})
    return OrderAccepted.of(order).model_dump(mode="json")


def place_command(command: PlaceOrderCommand) -> dict[str, Any]:
    return place(command.request)


place_once = Idempotent(
    place_command,
    argument="command",
    key="[request.customer_id, idempotency_key]",
    payload="request",  # the same key with another body is refused
)


def place_idempotently(request: CreateOrderRequest, key: str) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    try:
        command = PlaceOrderCommand(idempotency_key=key, request=request)
        return place_once(app.lambda_context, command=command)
    except IdempotencyValidationError:
        raise ApiError(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a new order",
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise ApiError(
            HTTPStatus.CONFLICT,
            "idempotency_key_in_progress",
            "a request with this Idempotency-Key is still being processed; retry in a moment",
        ) from None
    except IdempotencyPersistenceLayerError as error:
        raise Unavailable(f"idempotency store: {error}") from error


@app.post(
    "/orders",
    summary="Place an order",
    description="Accepts the order for processing and answers 202 with its id. The order then "
    "becomes CONFIRMED (stock reserved) or REJECTED (with the reason). Placed with a customer's "
    "token, for that customer only: a customer_id other than the token's is refused (403).",
    security=SIGNED_IN,
    responses={
        202: {
            "description": "Accepted",
            "content": {"application/json": {"model": OrderAccepted}},
        },
        **error_responses(
            HTTPStatus.BAD_REQUEST,
            HTTPStatus.UNAUTHORIZED,
            HTTPStatus.FORBIDDEN,
            HTTPStatus.CONFLICT,
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            HTTPStatus.UNPROCESSABLE_ENTITY,
            HTTPStatus.SERVICE_UNAVAILABLE,
        ),
    },
    tags=["orders"],
)
def create_order(
    order: CreateOrderRequest, idempotency_key: IDEMPOTENCY_KEY = None
) -> Response[OrderAccepted]:
    accepted = (
        place(order) if idempotency_key is None else place_idempotently(order, idempotency_key)
    )
    return Response(
        status_code=HTTPStatus.ACCEPTED.value,
        content_type=content_types.APPLICATION_JSON,
        body=accepted,
        headers={"Location": accepted["links"]["self"]},
    )


@app.get(
    "/orders/<order_id>",
    summary="Get an order",
    description="The caller's own order, or any order with the orders/admin scope. Another "
    "customer's order answers 404, as a missing one does.",
    security=SIGNED_IN,
    responses={
        200: {"description": "The order", "content": {"application/json": {"model": Order}}},
        **error_responses(
            HTTPStatus.UNAUTHORIZED,
            HTTPStatus.FORBIDDEN,
            HTTPStatus.NOT_FOUND,
            HTTPStatus.UNPROCESSABLE_ENTITY,
        ),
    },
    tags=["orders"],
)
def get_order(
    order_id: Annotated[OrderId, Path(description="The id POST /orders returned.")],
) -> Order:
    order = find_order(order_id, caller(), wiring.current().orders)
    if order is None:
        raise ApiError(HTTPStatus.NOT_FOUND, "order_not_found", f"no order {order_id}")
    return order


@app.get(
    "/customers/<customer_id>/orders",
    summary="List a customer's orders, newest first",
    description="The caller's own orders, or any customer's with the orders/admin scope. "
    "Another customer answers 404.",
    security=SIGNED_IN,
    responses={
        200: {
            "description": "One page of orders",
            "content": {"application/json": {"model": CustomerOrders}},
        },
        **error_responses(
            HTTPStatus.BAD_REQUEST,
            HTTPStatus.UNAUTHORIZED,
            HTTPStatus.FORBIDDEN,
            HTTPStatus.NOT_FOUND,
            HTTPStatus.UNPROCESSABLE_ENTITY,
        ),
    },
    tags=["orders"],
)
def list_customer_orders(
    customer_id: Annotated[CustomerId, Path()],
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=2048, description="next_cursor of the previous page.")
    ] = None,
) -> CustomerOrders:
    try:
        page = customer_orders(customer_id, caller(), wiring.current().orders, limit, cursor)
    except InvalidCursor as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, "invalid_cursor", str(error)) from None
    if page is None:
        raise ApiError(HTTPStatus.NOT_FOUND, "customer_not_found", f"no customer {customer_id}")
    return CustomerOrders(
        orders=[OrderSummary.of(order) for order in page.orders], next_cursor=page.next_cursor
    )


@app.get("/health", summary="Liveness", tags=["operations"])
def health() -> Health:
    return Health()


@lambda_entrypoint(EventSource.HTTP_API)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    problem = body_problem(event, routes)
    if problem is None:
        response = app.resolve(event, context)
    else:
        response = problem.proxy_response(event["requestContext"].get("requestId"))
    http = event["requestContext"]["http"]
    logger.info(
        "request handled",
        extra={
            "method": http.get("method"),
            "path": event.get("rawPath"),
            "route": event.get("routeKey"),
            "status": response.get("statusCode"),
        },
    )
    return response
