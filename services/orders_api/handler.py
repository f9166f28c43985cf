"""HTTP API of the orders platform (API Gateway HTTP API, payload 2.0).

    POST /orders                          accept an order (202), optionally with an Idempotency-Key
    GET  /orders/{order_id}               one order
    GET  /customers/{customer_id}/orders  a customer's orders, newest first, paged
    GET  /health                          liveness, touches nothing else

Parsing and validation are powertools' (pydantic models in models.py); the work is
orders_core.workflows; this module maps both onto HTTP.
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from orders_api.models import (
    CreateOrderRequest,
    CustomerOrders,
    ErrorBody,
    FieldProblem,
    Health,
    OrderAccepted,
    OrderSummary,
    OrderView,
    links_to,
)
from orders_core import coldstart
from orders_core.adapters.queue import SqsOrderQueue
from orders_core.adapters.table import OrdersTable, idempotency_store
from orders_core.domain import OrderSubmission
from orders_core.domain.models import CustomerId, Model, OrderId
from orders_core.observability import logger, metrics, tracer
from orders_core.ports import InvalidCursor, Unavailable
from orders_core.settings import settings
from orders_core.workflows import place_order

TITLE = "Orders API"
VERSION = "1.0.0"
MAX_BODY_BYTES = 64 * 1024
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


class ApiError(Exception):
    def __init__(self, status: HTTPStatus, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def _error_responses(*statuses: HTTPStatus) -> dict[int, dict[str, Any]]:
    return {
        status.value: {
            "description": status.phrase,
            "content": {"application/json": {"model": ErrorBody}},
        }
        for status in statuses
    }


# --- wiring: adapters are built on first use, once per execution environment ----------------


@cache
def _orders() -> OrdersTable:
    return OrdersTable(settings().require("table_name"))


@cache
def _queue() -> SqsOrderQueue:
    return SqsOrderQueue(settings().require("orders_queue_url"))


class PlaceOrderCommand(Model):
    idempotency_key: str
    request: CreateOrderRequest


@cache
def _idempotent_place_order():
    # Imported here: only requests that carry an Idempotency-Key pay for it.
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        # The key is scoped to the customer; the body must match to replay the first answer.
        event_key_jmespath="[request.customer_id, idempotency_key]",
        payload_validation_jmespath="request",
        expires_after_seconds=settings().idempotency_ttl_seconds,
        raise_on_no_idempotency_key=True,
    )
    store = idempotency_store(settings().require("table_name"))

    @idempotent_function(data_keyword_argument="command", config=config, persistence_store=store)
    def place_once(command: PlaceOrderCommand) -> dict[str, Any]:
        return _place(command.request)

    return config, place_once


# --- routes ---------------------------------------------------------------------------------


def _place(request: CreateOrderRequest) -> dict[str, Any]:
    submission = OrderSubmission(
        order_id=str(uuid.uuid4()),
        customer_id=request.customer_id,
        currency=request.currency,
        lines=request.items,
        submitted_at=datetime.now(UTC),
    )
    placed = place_order(submission, _queue(), _orders())
    if placed.pending_record_error:
        logger.warning(
            "order enqueued; its PENDING record was not stored and appears once processed",
            extra={"order_id": submission.order_id, "reason": placed.pending_record_error},
        )
    metrics.add_metric(name="OrdersAccepted", unit=MetricUnit.Count, value=1)
    tracer.put_annotation(key="order_id", value=submission.order_id)
    logger.info("order accepted", extra={"order_id": submission.order_id})
    accepted = OrderAccepted(order_id=submission.order_id, links=links_to(submission.order_id))
    return accepted.model_dump(mode="json")


def _place_idempotently(request: CreateOrderRequest, key: str) -> dict[str, Any]:
    config, place_once = _idempotent_place_order()
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    config.register_lambda_context(app.lambda_context)
    try:
        return place_once(command=PlaceOrderCommand(idempotency_key=key, request=request))
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
    "becomes CONFIRMED (stock reserved) or REJECTED (with the reason).",
    responses={
        202: {
            "description": "Accepted",
            "content": {"application/json": {"model": OrderAccepted}},
        },
        **_error_responses(
            HTTPStatus.BAD_REQUEST,
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
        _place(order) if idempotency_key is None else _place_idempotently(order, idempotency_key)
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
    responses={
        200: {"description": "The order", "content": {"application/json": {"model": OrderView}}},
        **_error_responses(HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY),
    },
    tags=["orders"],
)
def get_order(
    order_id: Annotated[OrderId, Path(description="The id POST /orders returned.")],
) -> OrderView:
    order = _orders().get_order(order_id)
    if order is None:
        raise ApiError(HTTPStatus.NOT_FOUND, "order_not_found", f"no order {order_id}")
    return OrderView.of(order)


@app.get(
    "/customers/<customer_id>/orders",
    summary="List a customer's orders, newest first",
    responses={
        200: {
            "description": "One page of orders",
            "content": {"application/json": {"model": CustomerOrders}},
        },
        **_error_responses(HTTPStatus.BAD_REQUEST, HTTPStatus.UNPROCESSABLE_ENTITY),
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
        page = _orders().list_customer_orders(customer_id, limit, cursor)
    except InvalidCursor as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, "invalid_cursor", str(error)) from None
    return CustomerOrders(
        orders=[OrderSummary.of(order) for order in page.orders], next_cursor=page.next_cursor
    )


@app.get("/health", summary="Liveness", tags=["operations"])
def health() -> Health:
    return Health()


# --- errors ---------------------------------------------------------------------------------


def _request_id() -> str | None:
    return app.current_event.request_context.request_id if app.current_event else None


def _error(
    status: HTTPStatus,
    error: str,
    message: str,
    fields: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = ErrorBody(error=error, message=message, fields=fields, request_id=_request_id())
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", exclude_none=True),
        headers=headers,
    )


def _field_name(location: tuple[Any, ...]) -> str:
    parts = (
        list(location[1:])
        if location and location[0] in ("body", "query", "path", "header")
        else list(location)
    )
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response:
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return _error(
            HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not valid JSON"
        )
    fields = [
        FieldProblem(
            field=_field_name(tuple(problem.get("loc", ()))),
            message=str(problem.get("msg", "invalid")).removeprefix("Value error, "),
        )
        for problem in problems
    ]
    return _error(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "validation_failed",
        "the request is not valid; see fields",
        fields=fields,
    )


@app.exception_handler(ApiError)
def _api_error(error: ApiError) -> Response:
    return _error(error.status, error.error, error.message)


@app.exception_handler(Unavailable)
def _unavailable(error: Unavailable) -> Response:
    logger.error("dependency unavailable", extra={"reason": str(error)})
    return _error(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the order could not be accepted right now and nothing was stored; retry later",
        headers={"Retry-After": "1"},
    )


@app.exception_handler(Exception)
def _unexpected(_: Exception) -> Response:
    logger.exception("unhandled error")
    return _error(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "internal_error",
        "something went wrong on our side; quote the request_id when reporting it",
    )


@cache
def _route_patterns() -> list[tuple[re.Pattern[str], list[str]]]:
    schema = app.get_openapi_schema(title=TITLE, version=VERSION)
    patterns = []
    for template, item in (schema.paths or {}).items():
        regex = "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}/]+\})", template)
        )
        methods = [m.upper() for m in ("get", "put", "post", "delete", "patch") if getattr(item, m)]
        patterns.append((re.compile(f"^{regex}$"), methods))
    return patterns


@app.not_found
def _no_route(_: NotFoundError) -> Response:
    event = app.current_event
    path, method = event.path, event.http_method
    allowed = sorted(
        {m for pattern, methods in _route_patterns() if pattern.match(path) for m in methods}
    )
    if allowed:
        return _error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "method_not_allowed",
            f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    return _error(HTTPStatus.NOT_FOUND, "not_found", f"no route for {method} {path}")


# --- entry point ----------------------------------------------------------------------------


def _unreadable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """413 and 415 come before routing and validation: size and media type are transport matters."""
    body = event.get("body") or ""
    if not body:
        return None
    size = len(base64.b64decode(body)) if event.get("isBase64Encoded") else len(body.encode())
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if size > MAX_BODY_BYTES:
        status, error, message = (
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "body_too_large",
            f"the request body is {size} bytes; the limit is {MAX_BODY_BYTES} bytes",
        )
    else:
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type == "application/json" or media_type.endswith("+json"):
            return None
        status, error, message = (
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            f"send the body as application/json (got {media_type or 'no Content-Type'})",
        )
    request_id = (event.get("requestContext") or {}).get("requestId")
    body_out = ErrorBody(error=error, message=message, request_id=request_id)
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": body_out.model_dump_json(exclude_none=True),
        "isBase64Encoded": False,
    }


@coldstart.resumes_collector
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = _unreadable_body(event) or app.resolve(event, context)
    http = (event.get("requestContext") or {}).get("http") or {}
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
