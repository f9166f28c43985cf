"""Print an access token of the environment's user pool, for curl and scripts.

    python -m tools.ops.token --env local --user cust-000001    (make token ENV=local USER=...)
    python -m tools.ops.token --env staging --admin             (make token ENV=staging ADMIN=1)

A customer's token acts for that customer only (the API reads the customer from it); --admin
prints a client-credentials token with the orders/admin scope, which reads any customer's
orders. Only the token goes to stdout: `TOKEN=$(make -s token ENV=local USER=cust-000001)`.
The customer signs in with the seeded customers' password (tools/ops/identity.py: fixed
locally, SSM Parameter Store in AWS, read as the environment's deploy role).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tools.ops import identity
from tools.ops.seed import SeedRefused, target


def token_endpoint(env: str, platform: dict) -> str:
    """The pool's OAuth token endpoint; the emulator serves it at its own root."""
    if env == "local":
        from tools.local import ministack

        return f"{ministack.status().endpoint}/oauth2/token"
    return platform["user_pool"]["token_endpoint"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.ops.token",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, help="local, dev, staging or prod")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--user", help="a seeded customer id, e.g. cust-000001")
    who.add_argument(
        "--admin", action="store_true", help="a client-credentials token with orders/admin"
    )
    args = parser.parse_args(argv)
    if not args.admin and not args.user:
        print(
            "token: name a seeded customer, `make token ENV=<env> USER=cust-000001`, "
            "or ask for an admin token, `make token ENV=<env> ADMIN=1`",
            file=sys.stderr,
        )
        return 2
    try:
        found = target(args.env)
        cognito = found.client("cognito-idp")
        if args.admin:
            tokens = identity.admin_token(
                cognito, found.platform, token_endpoint(args.env, found.platform)
            )
        else:
            password = identity.customer_password(
                args.env, found.platform, found.client("ssm"), create=False
            )
            tokens = identity.sign_in(
                cognito, found.platform["user_pool"]["customer_client_id"], args.user, password
            )
    except (SeedRefused, identity.IdentityError) as error:
        print(f"token: {error}", file=sys.stderr)
        return 2
    print(tokens.access_token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
