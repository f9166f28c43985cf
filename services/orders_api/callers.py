"""Who calls: read from the claims of the access token API Gateway's JWT authorizer verified.

The gateway has checked the signature, issuer, audience, expiry and the route's scopes; it does
not check which kind of token it is, so an ID token is refused here. A customer is the token's
`username` (users are named by their customer id; an access token carries no custom
attributes), the admin scope comes from the token's scopes.
"""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    RequestContextV2Authorizer,
)

from orders_api.errors import ApiError
from orders_core.domain import Caller

SIGN_IN = "send `Authorization: Bearer <access token>` (make token ENV=<env> USER=<customer id>)"


def caller_from(authorizer: RequestContextV2Authorizer | None, admin_scope: str) -> Caller:
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    if not claims:
        # Only a route without the authorizer gets here: every route that reads a caller has it.
        raise ApiError(HTTPStatus.UNAUTHORIZED, "unauthenticated", f"no token: {SIGN_IN}")
    if claims.get("token_use") != "access":
        raise ApiError(
            HTTPStatus.UNAUTHORIZED,
            "access_token_required",
            f"this is not an access token (token_use {claims.get('token_use')!r}): {SIGN_IN}",
        )
    scopes = set(authorizer.jwt_scopes or str(claims.get("scope", "")).split())
    return Caller(customer_id=claims.get("username") or None, is_admin=admin_scope in scopes)
