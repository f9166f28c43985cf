"""user-pool applied to the emulator: the pool, its clients and scopes as Cognito holds them, and
a customer signed in through the customer client gets a token the API's authorizer would take."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from botocore.exceptions import ClientError

from tests.support.emulator import aws_client
from tests.support.terraform import TerraformRoot, applied_example, run_terraform

pytestmark = pytest.mark.emulator

# Every character class of the policy, and a random part: no password lives in the code.
RESOURCE_SERVER = "module.user_pool.aws_cognito_resource_server.this"
PASSWORD = f"Aa1!{secrets.token_urlsafe(12)}"


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_pool_is_protected_admin_only_and_issues_tokens_the_authorizer_takes(
    tmp_path, emulator_env
):
    # Applied with the module's default deletion protection; it is switched off before the
    # destroy at the end of the block, even when an assertion fails.
    variables = {"deletion_protection": "true"}
    with applied_example("user-pool", "basic", tmp_path, emulator_env, variables) as (root, out):
        try:
            _check_the_applied_pool(root, out, variables, emulator_env)
        finally:
            # moto has no DeleteResourceServer (the provider would retry it for 15 minutes);
            # deleting the pool deletes its resource servers, on AWS too.
            run_terraform(["state", "rm", RESOURCE_SERVER], root.directory, root.env)


def _check_the_applied_pool(
    root: TerraformRoot, out: dict, variables: dict[str, str], emulator_env: dict[str, str]
) -> None:
    idp = aws_client("cognito-idp", emulator_env)
    pool_id = out["user_pool_id"]
    try:
        pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        # moto stores deletion protection but does not enforce it (docs/emulators.md).
        assert pool["DeletionProtection"] == "ACTIVE"
    finally:
        variables["deletion_protection"] = "false"
        root.apply(variables)
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["DeletionProtection"] == (
        "INACTIVE"
    )

    assert pool["Arn"] == out["user_pool_arn"]
    # Stored as AWS holds it; neither emulator refuses SignUp for it (docs/emulators.md).
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 3,
    } | {k: v for k, v in pool["Policies"]["PasswordPolicy"].items() if k == "PasswordHistorySize"}
    assert pool["MfaConfiguration"] == "OPTIONAL"

    customers = idp.describe_user_pool_client(
        UserPoolId=pool_id, ClientId=out["customer_client_id"]
    )["UserPoolClient"]
    assert "ClientSecret" not in customers
    assert set(customers["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert not customers.get("AllowedOAuthScopes")
    assert (
        customers["AccessTokenValidity"],
        customers["TokenValidityUnits"]["AccessToken"],
    ) == (
        30,
        "minutes",
    )

    admin = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=out["admin_client_id"])[
        "UserPoolClient"
    ]
    assert admin["ClientSecret"]
    assert admin["AllowedOAuthFlows"] == ["client_credentials"]
    assert admin["AllowedOAuthScopes"] == ["orders/admin"] == [out["scope_identifiers"]["admin"]]
    server = idp.describe_resource_server(UserPoolId=pool_id, Identifier="orders")
    assert [s["ScopeName"] for s in server["ResourceServer"]["Scopes"]] == ["admin"]
    domain = out["token_endpoint"].removeprefix("https://").split(".")[0]
    assert idp.describe_user_pool_domain(Domain=domain)["DomainDescription"]["UserPoolId"] == (
        pool_id
    )

    # A customer the seeding would create signs in; the token is what the authorizer takes.
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
    with pytest.raises(ClientError, match="InvalidPassword"):
        idp.admin_set_user_password(
            UserPoolId=pool_id, Username="alice", Password=PASSWORD[:8], Permanent=True
        )
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True
    )
    tokens = idp.initiate_auth(
        ClientId=out["customer_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    claims = _claims(tokens["AccessToken"])
    assert claims["iss"] == out["issuer_url"] == out["jwt_authorizer"]["issuer"]
    assert claims["client_id"] in out["jwt_authorizer"]["audience"]
    assert "orders/admin" not in str(claims.get("scope", ""))
    assert out["jwks_url"] == f"{out['issuer_url']}/.well-known/jwks.json"
