"""The load test's tokens (tools/loadtest/tokens.py, processor.cjs): signed in once before the
run, renewed with refresh tokens when the run outlives them, read by every virtual user from
the file, which it reads again once the runner has replaced it. Cognito is moto's."""

from __future__ import annotations

import json
import subprocess
import time

import boto3
import jwt
import pytest
from moto import mock_aws

from tools.loadtest import common, install
from tools.loadtest.tokens import AdminToken, SignIn, TokenFile, refresh_margin
from tools.ops import identity

PASSWORD = "Load-test-pw-1"  # noqa: S105 - moto's throwaway pool
CUSTOMERS = ["cust-000001", "cust-000002", "cust-000003"]


@pytest.fixture
def sign_in(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="eu-west-1")
        pool = cognito.create_user_pool(PoolName="orders-local-customers")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool,
            ClientName="customers",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        identity.create_customers(
            cognito, pool, dict.fromkeys(CUSTOMERS, "a@example.com"), PASSWORD
        )
        yield SignIn(cognito, client, PASSWORD, admin=lambda: identity.Tokens("admin", 0))


def usernames(path) -> dict[str, str]:
    return {
        name: jwt.decode(token, options={"verify_signature": False})["username"]
        for name, token in json.loads(path.read_text()).items()
    }


def test_every_customer_is_signed_in_once_into_a_file_only_its_owner_reads(sign_in, tmp_path):
    with TokenFile(tmp_path / "tokens.json", sign_in, CUSTOMERS) as tokens:
        assert usernames(tokens.path) == {c: c for c in CUSTOMERS}
        assert oct(tokens.path.stat().st_mode & 0o777) == "0o600"
        assert tokens.renew_due() is False  # fresh tokens: nothing to renew
        assert tokens.renewals == 0


def test_tokens_are_renewed_without_the_password_when_the_run_outlives_them(sign_in, tmp_path):
    now = [time.time()]
    path = tmp_path / "tokens.json"
    tokens = TokenFile(path, sign_in, CUSTOMERS, clock=lambda: now[0])
    tokens.sign_in_all()
    before = path.stat().st_ino
    lifetime = min(t.expires_at for t in tokens.tokens.values()) - now[0]
    sign_in.password = "not-the-password"  # noqa: S105 - renewal must use the refresh tokens

    now[0] += lifetime - refresh_margin(lifetime) - 10
    assert tokens.renew_due() is False
    now[0] += 20
    assert tokens.renew_due() is True

    assert tokens.renewals == 1
    assert path.stat().st_ino != before  # replaced in one rename, never rewritten in place
    assert usernames(path) == {c: c for c in CUSTOMERS}


def test_the_renewal_margin_is_a_fifth_of_the_lifetime_and_at_most_five_minutes():
    assert refresh_margin(3600) == 300
    assert refresh_margin(300) == 60


def test_the_admin_token_is_fetched_once_and_again_when_it_is_about_to_expire():
    fetched = []

    def fetch() -> identity.Tokens:
        fetched.append(1)
        return identity.Tokens(
            f"admin-{len(fetched)}", time.time() + (30 if len(fetched) == 1 else 3600)
        )

    token = AdminToken(fetch)

    assert token() == "admin-1"  # valid 30 s: under a minute left, so the next call fetches
    assert token() == "admin-2"
    assert token() == "admin-2"


@pytest.mark.e2e
def test_a_virtual_user_sends_its_customer_s_token_and_picks_up_renewed_ones(tmp_path):
    """processor.cjs startVuser, in Node as artillery runs it."""
    install.ensure_installed()
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"cust-000001": "first"}))
    script = """
      const fs = require('node:fs');
      const p = require('./processor.cjs');
      const vuser = (customer) => new Promise((resolve) => {
        const context = { vars: { customer_id: customer, $environment: 'local' } };
        p.startVuser(context, {}, (error) =>
          resolve(error ? `error: ${error.message}` : context.vars.authorization));
      });
      (async () => {
        const out = [await vuser('cust-000001'), await vuser('nobody')];
        fs.writeFileSync(process.env.NEXT, JSON.stringify({ 'cust-000001': 'second' }));
        fs.renameSync(process.env.NEXT, process.env.LOADTEST_TOKENS_FILE);
        out.push(await vuser('cust-000001'));  // checked at most once a second: still the old one
        await new Promise((r) => setTimeout(r, 1100));
        out.push(await vuser('cust-000001'));
        console.log(JSON.stringify(out));
      })();
    """
    env = {
        **install.artillery_env(None, path),
        "NEXT": str(tmp_path / "next.json"),
    }
    proc = subprocess.run(
        [str(install.NODE_BIN), "-e", script],
        cwd=common.LOADTEST_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    first, unknown, cached, renewed = json.loads(proc.stdout)
    assert first == "Bearer first"
    assert unknown.startswith("error: no token for customer nobody")
    assert cached == "Bearer first"
    assert renewed == "Bearer second"
