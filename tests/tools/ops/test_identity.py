"""tools/ops/identity.py and `make token`: Cognito users for the load-test customers, their
password, sign-in and refresh, against moto's cognito-idp and SSM (the local stack signs in
through ministack: tests/e2e/test_authentication.py)."""

from __future__ import annotations

import boto3
import jwt
import pytest
from moto import mock_aws

from tools.ops import identity, seed, token

REGION = "eu-west-1"
PLATFORM = {"name": "orders-staging"}


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


@pytest.fixture
def pool(aws):
    """A pool shaped like the user-pool module's: the password policy and the customer client."""
    cognito = aws("cognito-idp")
    pool_id = cognito.create_user_pool(
        PoolName="orders-staging-customers",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="orders-staging-customers-customers",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return cognito, pool_id, client_id


def claims(access_token: str) -> dict:
    return jwt.decode(access_token, options={"verify_signature": False})


def test_the_first_seed_makes_a_random_password_in_ssm_and_later_calls_read_the_same(aws):
    ssm = aws("ssm")

    made = identity.customer_password("staging", PLATFORM, ssm, create=True)
    again = identity.customer_password("staging", PLATFORM, ssm, create=True)
    read = identity.customer_password("staging", PLATFORM, ssm, create=False)

    assert made == again == read
    assert len(made) == 24
    assert made != identity.LOCAL_CUSTOMER_PASSWORD
    stored = ssm.get_parameter(Name="/orders-staging/loadtest/customer-password")["Parameter"]
    assert stored["Type"] == "SecureString"


def test_a_token_before_any_seed_says_to_seed_first(aws):
    with pytest.raises(identity.IdentityError, match=r"run `make seed ENV=staging` first"):
        identity.customer_password("staging", PLATFORM, aws("ssm"), create=False)


def test_locally_the_password_is_the_documented_one_and_ssm_is_not_asked():
    assert identity.customer_password("local", PLATFORM, ssm=None, create=True) == (
        identity.LOCAL_CUSTOMER_PASSWORD
    )


def test_new_passwords_meet_the_pool_s_policy():
    for _ in range(50):
        password = identity._new_password()
        assert len(password) == 24
        for required in (str.islower, str.isupper, str.isdigit, lambda c: c in "-_.!"):
            assert any(required(c) for c in password), password


def test_each_customer_becomes_a_user_named_by_its_id_who_signs_in_as_that_customer(pool):
    cognito, pool_id, client_id = pool
    customers = {
        "cust-000001": "success+cust-000001@simulator.amazonses.com",
        "cust-000002": "success+cust-000002@simulator.amazonses.com",
    }

    created = identity.create_customers(cognito, pool_id, customers, "Seeded-password-1")

    assert created == 2
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="cust-000001")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email"] == customers["cust-000001"]
    assert attributes["email_verified"] == "true"
    assert user["UserStatus"] == "CONFIRMED"  # a permanent password: no change asked at sign-in
    tokens = identity.sign_in(cognito, client_id, "cust-000002", "Seeded-password-1")
    assert claims(tokens.access_token)["username"] == "cust-000002"
    assert claims(tokens.access_token)["token_use"] == "access"  # noqa: S105 - a claim
    assert tokens.refresh_token


def test_seeding_again_creates_nobody_and_sets_the_password_again(pool):
    cognito, pool_id, client_id = pool
    customers = {"cust-000001": "success+cust-000001@simulator.amazonses.com"}
    identity.create_customers(cognito, pool_id, customers, "First-password-1")

    created = identity.create_customers(cognito, pool_id, customers, "Second-password-2")

    assert created == 0
    with pytest.raises(identity.IdentityError, match="cannot sign in"):
        identity.sign_in(cognito, client_id, "cust-000001", "First-password-1")
    assert identity.sign_in(cognito, client_id, "cust-000001", "Second-password-2").access_token


def test_a_refresh_token_renews_the_access_token_without_the_password(pool):
    cognito, pool_id, client_id = pool
    identity.create_customers(cognito, pool_id, {"cust-000003": "a@example.com"}, "Seeded-pw-123")
    first = identity.sign_in(cognito, client_id, "cust-000003", "Seeded-pw-123")

    renewed = identity.refresh(cognito, client_id, first.refresh_token)

    assert claims(renewed.access_token)["username"] == "cust-000003"
    assert renewed.refresh_token == first.refresh_token
    assert renewed.expires_at >= first.expires_at


def test_signing_in_many_customers_returns_a_token_for_each_in_order(pool):
    cognito, pool_id, client_id = pool
    names = [f"cust-{n:06d}" for n in range(1, 21)]
    identity.create_customers(
        cognito, pool_id, dict.fromkeys(names, "a@example.com"), "Pw-abc-12345"
    )
    seen = []

    tokens = identity.sign_in_all(
        cognito, client_id, names, "Pw-abc-12345", progress=lambda done, _total: seen.append(done)
    )

    assert list(tokens) == names
    assert [claims(t.access_token)["username"] for t in tokens.values()] == names
    assert sorted(seen) == list(range(1, 21))


def test_make_token_prints_only_the_customer_s_access_token(pool, monkeypatch, capsys):
    cognito, pool_id, client_id = pool
    identity.create_customers(
        cognito, pool_id, {"cust-000001": "a@example.com"}, identity.LOCAL_CUSTOMER_PASSWORD
    )
    platform = {"name": "orders-local", "user_pool": {"customer_client_id": client_id}}
    found = seed.Target(lambda service: boto3.client(service, region_name=REGION), platform, "")
    monkeypatch.setattr(token, "target", lambda _env: found)

    assert token.main(["--env", "local", "--user", "cust-000001"]) == 0

    printed = capsys.readouterr().out.strip()
    assert claims(printed)["username"] == "cust-000001"
    assert token.main(["--env", "local", "--user", "nobody"]) == 2
    assert "cannot sign in" in capsys.readouterr().err


def test_make_token_without_a_user_says_how_to_name_one(capsys):
    assert token.main(["--env", "local"]) == 2
    assert "USER=cust-000001" in capsys.readouterr().err
