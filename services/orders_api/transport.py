"""What the API checks before routing, and the table of its routes those checks read.

A request to a route that reads a body (POST /orders) must send at most 64 KiB of UTF-8
JSON, uncompressed: otherwise it is answered 413, 415 or 400 before validation, which would
otherwise try to decode it. Requests to routes that take no body (GET /health) are never
judged on a body they happen to carry, and unknown paths and wrong methods get their 404 and
405 whatever they send.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from orders_api.errors import ApiError

MAX_BODY_BYTES = 64 * 1024
_METHODS = ("get", "put", "post", "delete", "patch")


class RouteTable:
    """Path patterns and methods of the app, read from its OpenAPI schema on first use.

    A template's parameter matches any segment here, while the resolver routes only segments
    of URI-safe and word characters: a path this table matches and the resolver did not route
    has a parameter no id can have (GET /orders/%C2%84)."""

    def __init__(self, schema: Callable[[], Any]) -> None:
        self._schema = schema
        self._routes: list[tuple[re.Pattern[str], dict[str, bool]]] | None = None

    def _load(self) -> list[tuple[re.Pattern[str], dict[str, bool]]]:
        if self._routes is None:
            routes = []
            for template, item in (self._schema().paths or {}).items():
                regex = "".join(
                    f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
                    for part in re.split(r"(\{[^}/]+\})", template)
                )
                methods = {
                    name.upper(): getattr(item, name).requestBody is not None
                    for name in _METHODS
                    if getattr(item, name)
                }
                routes.append((re.compile(f"^{regex}$"), methods))
            self._routes = routes
        return self._routes

    def allowed(self, path: str) -> list[str]:
        """The methods some route accepts on this path (empty: no route has the path)."""
        return sorted(
            {m for pattern, methods in self._load() if pattern.match(path) for m in methods}
        )

    def parameters(self, method: str, path: str) -> list[str]:
        """The names of the path parameters of the route for this method and path."""
        for pattern, methods in self._load():
            if method in methods and pattern.match(path):
                return list(pattern.groupindex)
        return []

    def takes_body(self, method: str, path: str) -> bool:
        return any(
            methods.get(method, False) for pattern, methods in self._load() if pattern.match(path)
        )


def body_problem(event: Mapping[str, Any], routes: RouteTable) -> ApiError | None:
    """Why the request's body cannot be read as the JSON its route takes, if it cannot."""
    http = (event.get("requestContext") or {}).get("http") or {}
    if not routes.takes_body(str(http.get("method", "")), str(event.get("rawPath", ""))):
        return None
    raw = event.get("body") or ""
    if not raw:
        return None  # validation says what is missing
    try:
        body = (
            base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
        )
    except (binascii.Error, ValueError):
        return ApiError(HTTPStatus.BAD_REQUEST, "malformed_body", "the request body is not valid")
    if len(body) > MAX_BODY_BYTES:
        return ApiError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "body_too_large",
            f"the request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES} bytes",
        )
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        return ApiError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_content_encoding",
            f"send the body uncompressed (got Content-Encoding: {encoding})",
        )
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        return ApiError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            f"send the body as application/json (got {media_type or 'no Content-Type'})",
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return ApiError(
            HTTPStatus.BAD_REQUEST,
            "malformed_json",
            "the request body is not valid JSON (not UTF-8)",
        )
    return None
