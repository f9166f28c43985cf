"""Sign-in for an environment's user pool (terraform/modules/user-pool, composed by the stack):
Cognito users for the load-test customers, their password, and tokens.

A customer is a Cognito user named by its customer id: the API reads the customer from the
access token's `username` claim (docs/services.md says why not `sub` or a custom attribute).
Every seeded customer signs in with one password:

- local: LOCAL_CUSTOMER_PASSWORD, fixed and documented (the emulator holds nothing real);
- an AWS environment: a random password made by the first `make seed`, kept as a SecureString
  in SSM Parameter Store at /<prefix>-<env>/loadtest/customer-password (read it with
  `aws ssm get-parameter --with-decryption`); `make seed` sets it on every seeded user.

Admin tools (the load test's reconciliation) get an `orders/admin` token by client credentials:
the admin client's secret is read from Cognito (DescribeUserPoolClient), never from outputs.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import string
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

# Meets the pool's policy (12+ characters, lower, upper, digit, symbol). Local only.
LOCAL_CUSTOMER_PASSWORD = "Local-customer-pw-1"  # noqa: S105 - the emulator's documented password
# Calls in flight at once: Cognito's quotas (50-120 requests/s per category) allow more.
SIGN_IN_WORKERS = 8


class IdentityError(RuntimeError):
    """A sign-in or token request failed; the message says what to do."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_at: float  # epoch seconds
    refresh_token: str | None = None


def password_parameter(platform: Mapping[str, Any]) -> str:
    return f"/{platform['name']}/loadtest/customer-password"


def _new_password() -> str:
    """24 random characters with every class the pool's policy requires."""
    alphabet = string.ascii_letters + string.digits + "-_.!"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(24))
        classes = (str.islower, str.isupper, str.isdigit, lambda c: c in "-_.!")
        if all(any(test(c) for c in candidate) for test in classes):
            return candidate


def customer_password(env: str, platform: Mapping[str, Any], ssm: Any, create: bool) -> str:
    """The seeded customers' password: LOCAL_CUSTOMER_PASSWORD locally; in AWS the SecureString
    parameter, made (by `make seed`, create=True) when missing."""
    if env == "local":
        return LOCAL_CUSTOMER_PASSWORD
    name = password_parameter(platform)
    try:
        return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        if not create:
            raise IdentityError(
                f"{name} does not exist: run `make seed ENV={env}` first (it creates the "
                "load-test customers and their password)"
            ) from None
    # Another seed may make it first: then its password is the one.
    with contextlib.suppress(ssm.exceptions.ParameterAlreadyExists):
        ssm.put_parameter(
            Name=name,
            Value=_new_password(),
            Type="SecureString",
            Description="Password of the load-test customers of the user pool (make seed)",
            Overwrite=False,
        )
    return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


def create_customers(
    cognito: Any, pool_id: str, customers: Mapping[str, str], password: str
) -> int:
    """A user named by each customer id, with its address (verified: it is the one the notifier
    mails) and `password` as its permanent password. Existing users keep their attributes and
    get the password again, so seeding twice converges. Returns the users created."""

    def one(customer_id: str, email: str) -> bool:
        try:
            cognito.admin_create_user(
                UserPoolId=pool_id,
                Username=customer_id,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",  # no invitation mail: the seeding sets the password
            )
            created = True
        except cognito.exceptions.UsernameExistsException:
            created = False
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=customer_id, Password=password, Permanent=True
        )
        return created

    with ThreadPoolExecutor(SIGN_IN_WORKERS) as pool:
        return sum(pool.map(lambda item: one(*item), customers.items()))


def _tokens(result: Mapping[str, Any], refresh_token: str | None = None) -> Tokens:
    auth = result["AuthenticationResult"]
    return Tokens(
        access_token=auth["AccessToken"],
        expires_at=time.time() + int(auth["ExpiresIn"]),
        refresh_token=auth.get("RefreshToken", refresh_token),
    )


def sign_in(cognito: Any, client_id: str, username: str, password: str) -> Tokens:
    """A customer's access and refresh tokens, through the customer client (no secret)."""
    try:
        result = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    # A pool that hides which users exist (the module's) answers NotAuthorized for both.
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException):
        raise IdentityError(
            f"{username} cannot sign in with the seeded customers' password: is it a seeded "
            "customer (loadtest/data/customers.csv)? Run `make seed ENV=<env>` again."
        ) from None
    if "AuthenticationResult" not in result:
        raise IdentityError(f"{username}: Cognito asks for {result.get('ChallengeName')}")
    return _tokens(result)


def refresh(cognito: Any, client_id: str, refresh_token: str) -> Tokens:
    """New access tokens from a refresh token, without the password."""
    result = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )
    return _tokens(result, refresh_token)


def sign_in_all(
    cognito: Any,
    client_id: str,
    usernames: list[str],
    password: str,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Tokens]:
    """Tokens for every user, a few sign-ins at a time."""
    done: dict[str, Tokens] = {}
    lock = threading.Lock()

    def one(username: str) -> None:
        tokens = sign_in(cognito, client_id, username, password)
        with lock:
            done[username] = tokens
            if progress:
                progress(len(done), len(usernames))

    with ThreadPoolExecutor(SIGN_IN_WORKERS) as pool:
        list(pool.map(one, usernames))
    return {name: done[name] for name in usernames}


def admin_token(
    cognito: Any, platform: Mapping[str, Any], token_endpoint: str, timeout: float = 10
) -> Tokens:
    """An access token of the admin client (client credentials) carrying the admin scope."""
    pool = platform["user_pool"]
    client = cognito.describe_user_pool_client(
        UserPoolId=pool["id"], ClientId=pool["admin_client_id"]
    )["UserPoolClient"]
    basic = base64.b64encode(f"{client['ClientId']}:{client['ClientSecret']}".encode()).decode()
    body = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "scope": pool["admin_scope"]}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the pool's https endpoint, or loopback
        token_endpoint,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise IdentityError(
            f"the token endpoint {token_endpoint} answered {error.code}: "
            f"{error.read().decode(errors='replace')[:300]}"
        ) from None
    return Tokens(answer["access_token"], time.time() + int(answer["expires_in"]))
