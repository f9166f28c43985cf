"""How the orders API says no: one error body ({error, message, fields?, request_id}) for
every failure, 404 for unknown paths, 405 with `Allow` for wrong methods, and a 500 that never
shows internals."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from orders_api.models import ErrorBody, FieldProblem, GatewayErrorBody
from orders_core.observability import logger
from orders_core.ports import Unavailable

if TYPE_CHECKING:
    from orders_api.transport import RouteTable


class ApiError(Exception):
    """An answer other than success, with the status, code and message the client sees."""

    def __init__(
        self,
        status: HTTPStatus,
        error: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers

    def body(self, request_id: str | None, fields: list[FieldProblem] | None = None) -> ErrorBody:
        return ErrorBody(
            error=self.error, message=self.message, fields=fields, request_id=request_id
        )

    def proxy_response(self, request_id: str | None) -> dict[str, Any]:
        """The answer as API Gateway takes it, for checks made before routing."""
        return {
            "statusCode": self.status.value,
            "headers": {"Content-Type": content_types.APPLICATION_JSON, **(self.headers or {})},
            "body": self.body(request_id).model_dump_json(exclude_none=True),
            "isBase64Encoded": False,
        }


# What the gateway answers itself, in front of the function, is not the error body.
_GATEWAY_NOTES = {
    HTTPStatus.UNAUTHORIZED: "Unauthorized. A missing, expired, foreign or forged token is "
    'answered by API Gateway itself: {"message": "Unauthorized"} (GatewayErrorBody); a token that '
    "is not an access token by the function (ErrorBody).",
    HTTPStatus.FORBIDDEN: "Forbidden. A token without the route's scope is answered by API "
    'Gateway itself: {"message": "Forbidden"} (GatewayErrorBody); a customer_id other than the '
    "token's by the function (ErrorBody).",
}


def error_responses(*statuses: HTTPStatus) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` entries for error statuses a route answers."""
    return {
        status.value: {
            "description": _GATEWAY_NOTES.get(status, status.phrase),
            "content": {
                "application/json": {
                    "model": ErrorBody | GatewayErrorBody if status in _GATEWAY_NOTES else ErrorBody
                }
            },
        }
        for status in statuses
    }


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


def register(app: APIGatewayHttpResolver, routes: RouteTable) -> None:
    """Answer every failure of `app` with the error body."""

    def request_id() -> str | None:
        return app.current_event.request_context.request_id if app.current_event else None

    def respond(error: ApiError, fields: list[FieldProblem] | None = None) -> Response:
        return Response(
            status_code=error.status.value,
            content_type=content_types.APPLICATION_JSON,
            body=error.body(request_id(), fields).model_dump(mode="json", exclude_none=True),
            headers=error.headers,
        )

    def invalid_request(error: RequestValidationError) -> Response:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return respond(
                ApiError(
                    HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not valid JSON"
                )
            )
        return invalid_fields(
            [
                FieldProblem(
                    field=_field_name(tuple(problem.get("loc", ()))),
                    message=str(problem.get("msg", "invalid")).removeprefix("Value error, "),
                )
                for problem in problems
            ]
        )

    def invalid_fields(fields: list[FieldProblem]) -> Response:
        return respond(
            ApiError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "validation_failed",
                "the request is not valid; see fields",
            ),
            fields,
        )

    def unavailable(error: Unavailable) -> Response:
        logger.error("dependency unavailable", extra={"reason": str(error)})
        return respond(
            ApiError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the order could not be accepted right now and nothing was stored; retry later",
                headers={"Retry-After": "1"},
            )
        )

    def unexpected(_: Exception) -> Response:
        logger.exception("unhandled error")
        return respond(
            ApiError(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "internal_error",
                "something went wrong on our side; quote the request_id when reporting it",
            )
        )

    def no_route(_: NotFoundError) -> Response:
        path, method = app.current_event.path, app.current_event.http_method
        malformed = routes.parameters(method, path)
        if malformed:
            # The route exists, but the resolver cannot read a parameter out of the path:
            # it holds characters that no id has. What validation says of any other bad id.
            return invalid_fields(
                [
                    FieldProblem(field=name, message="has characters that no such id contains")
                    for name in malformed
                ]
            )
        allowed = routes.allowed(path)
        if allowed:
            return respond(
                ApiError(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}",
                    headers={"Allow": ", ".join(allowed)},
                )
            )
        return respond(ApiError(HTTPStatus.NOT_FOUND, "not_found", f"no route for {method} {path}"))

    handlers: dict[type[Exception], Callable[[Any], Response]] = {
        RequestValidationError: invalid_request,
        ApiError: respond,
        Unavailable: unavailable,
        Exception: unexpected,
    }
    for exception, handler in handlers.items():
        app.exception_handler(exception)(handler)
    app.not_found(no_route)
