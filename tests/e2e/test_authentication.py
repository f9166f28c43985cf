"""Sign-in on the local stack: the HTTP API's JWT authorizer in front of every route but
/health, tokens of the environment's user pool, and who sees which orders.

ministack validates the tokens as API Gateway does (issuer, audience, signature, expiry, the
route's scopes); what it does not check is in docs/emulators.md.
"""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from tests.support.local_stack import ADMIN
from tools.ops import identity

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

PROTECTED = [
    ("POST", "/orders"),
    ("GET", "/orders/7d1f3c2a-0000-4000-8000-000000000000"),
    ("GET", "/customers/cust-000001/orders"),
    ("GET", "/no/such/route"),
]


def order(customer: str, sku: str = "SMOKE-0001") -> dict:
    return {
        "customer_id": customer,
        "currency": "EUR",
        "items": [{"sku": sku, "quantity": 1, "unit_price": "1.00"}],
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_without_a_token_every_route_but_health_answers_401(local_stack, method, path):
    body = order("cust-000001") if method == "POST" else None
    assert local_stack.request(method, path, body, caller=None).status == 401


def test_health_is_open(local_stack):
    answer = local_stack.request("GET", "/health", caller=None)
    assert (answer.status, answer.body) == (200, {"status": "ok"})


def test_a_token_of_another_user_pool_answers_401(local_stack):
    """Same emulator, same key store, a pool the authorizer does not name as issuer."""
    cognito = local_stack.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"other-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    password = identity.LOCAL_CUSTOMER_PASSWORD
    identity.create_customers(cognito, pool, {"cust-000001": "a@example.com"}, password)
    foreign = identity.sign_in(cognito, client, "cust-000001", password).access_token

    answer = local_stack.request(
        "GET", "/customers/cust-000001/orders", headers=bearer(foreign), caller=None
    )

    assert answer.status == 401
    assert jwt.decode(foreign, options={"verify_signature": False})["username"] == "cust-000001"


def _resigned(local_stack, token: str, **changes) -> str:
    """The token with `changes` to its claims, signed with the pool's own access-token key
    (the emulator keeps it in its state directory): only the changed claims differ."""
    pool = local_stack.platform["user_pool"]["id"]
    [key_file] = local_stack.stack.state_dir.rglob(f"{pool}-access.pem")
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.encode(claims, key_file.read_text(), algorithm="RS256", headers={"kid": kid})


def test_an_expired_token_answers_401_and_the_same_token_unexpired_is_let_through(local_stack):
    token = local_stack.token("cust-000001")
    path = "/customers/cust-000001/orders"

    expired = _resigned(local_stack, token, exp=int(time.time()) - 60)
    still_valid = _resigned(local_stack, token, exp=int(time.time()) + 600)

    assert local_stack.request("GET", path, headers=bearer(expired), caller=None).status == 401
    assert local_stack.request("GET", path, headers=bearer(still_valid), caller=None).status == 200


def test_customer_a_cannot_see_customer_b_s_orders(local_stack):
    a, b = f"cust-auth-a-{uuid.uuid4().hex[:6]}", f"cust-auth-b-{uuid.uuid4().hex[:6]}"
    placed = local_stack.request("POST", "/orders", order(a), caller=a)
    assert placed.status == 202, placed
    order_id = placed.body["order_id"]

    assert local_stack.request("GET", f"/orders/{order_id}", caller=a).status == 200
    theirs = local_stack.request("GET", f"/orders/{order_id}", caller=b)
    assert (theirs.status, theirs.body["error"]) == (404, "order_not_found")
    listing = local_stack.request("GET", f"/customers/{a}/orders", caller=b)
    assert (listing.status, listing.body["error"]) == (404, "customer_not_found")
    own = local_stack.request("GET", f"/customers/{a}/orders", caller=a)
    assert [o["order_id"] for o in own.body["orders"]] == [order_id]
    # The admin scope (client credentials) reads any customer's orders.
    assert local_stack.request("GET", f"/orders/{order_id}", caller=ADMIN).status == 200


def test_an_order_for_another_customer_is_refused(local_stack):
    answer = local_stack.request("POST", "/orders", order("cust-000002"), caller="cust-000003")

    assert (answer.status, answer.body["error"]) == (403, "customer_mismatch")


def test_the_gateway_refuses_orders_from_admin_tokens_and_any_id_token(local_stack):
    """POST /orders requires a customer's sign-in scope; an ID token carries no scope at all."""
    admin = local_stack.request("POST", "/orders", order("cust-000001"), caller=ADMIN)
    assert admin.status == 403

    cognito, pool = local_stack.client("cognito-idp"), local_stack.platform["user_pool"]
    signed_in = cognito.initiate_auth(
        ClientId=pool["customer_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "cust-000001", "PASSWORD": identity.LOCAL_CUSTOMER_PASSWORD},
    )["AuthenticationResult"]
    id_token = bearer(signed_in["IdToken"])
    for method, path in PROTECTED[1:3]:
        assert local_stack.request(method, path, headers=id_token, caller=None).status == 403
