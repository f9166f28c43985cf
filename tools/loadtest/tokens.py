"""The load test signs in: every customer of loadtest/data/customers.csv gets its access token
once, before the run, and the reconciliation reads with the admin client's orders/admin token.

The tokens go to one JSON file, {customer id: access token}, which processor.cjs reads when a
virtual user starts (re-reading it when it changes, at most once a second per worker): no
request signs in. A run that outlives the tokens (the access-token lifetime is the stack's
`user_pool.access_token_validity_minutes`, 60 by default) keeps them fresh: a thread renews
every token with its refresh token (no password) once the earliest comes within
REFRESH_MARGIN of its expiry, and replaces the file in one rename, so a reader sees the old
tokens or the new ones, never half a file.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.loadtest.common import log
from tools.ops import identity

TOKENS_ENV = "LOADTEST_TOKENS_FILE"  # where processor.cjs reads the tokens


def refresh_margin(lifetime_s: float) -> float:
    """Renew this long before the earliest expiry: a fifth of the lifetime, at most 5 minutes
    (a 60-minute token is renewed after 55; Cognito's shortest, 5 minutes, after 4)."""
    return min(300.0, lifetime_s / 5)


@dataclass
class SignIn:
    """How the run gets tokens from the environment's user pool."""

    cognito: Any  # a cognito-idp client
    customer_client_id: str
    password: str
    admin: Callable[[], identity.Tokens]  # a fresh client-credentials token

    def customers(self, usernames: Sequence[str]) -> dict[str, identity.Tokens]:
        return identity.sign_in_all(
            self.cognito, self.customer_client_id, list(usernames), self.password
        )

    def renew(self, tokens: Mapping[str, identity.Tokens]) -> dict[str, identity.Tokens]:
        def one(item: tuple[str, identity.Tokens]) -> tuple[str, identity.Tokens]:
            name, held = item
            if not held.refresh_token:
                return name, identity.sign_in(
                    self.cognito, self.customer_client_id, name, self.password
                )
            return name, identity.refresh(self.cognito, self.customer_client_id, held.refresh_token)

        with ThreadPoolExecutor(identity.SIGN_IN_WORKERS) as pool:
            return dict(pool.map(one, tokens.items()))


class AdminToken:
    """The admin token, fetched on first use and again a minute before it expires."""

    def __init__(self, fetch: Callable[[], identity.Tokens]) -> None:
        self._fetch = fetch
        self._held: identity.Tokens | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._held is None or self._held.expires_at - time.time() < 60:
                self._held = self._fetch()
            return self._held.access_token


class TokenFile:
    """The customers' tokens in `path`, kept fresh while the run lasts (`with` it)."""

    def __init__(
        self,
        path: Path,
        sign_in: SignIn,
        customers: Sequence[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.sign_in = sign_in
        self.customers = list(customers)
        self.clock = clock
        self.tokens: dict[str, identity.Tokens] = {}
        self.renewals = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lifetime_s = 0.0

    def _write(self) -> None:
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps({name: t.access_token for name, t in self.tokens.items()}))
        os.chmod(scratch, 0o600)  # bearer tokens: readable by this user only
        os.replace(scratch, self.path)

    def sign_in_all(self) -> None:
        started = time.perf_counter()
        self.tokens = self.sign_in.customers(self.customers)
        self._lifetime_s = min(t.expires_at for t in self.tokens.values()) - self.clock()
        self._write()
        log(
            f"signed in {len(self.tokens)} customers in {time.perf_counter() - started:.1f} s; "
            f"tokens valid {self._lifetime_s / 60:.0f} min, renewed "
            f"{refresh_margin(self._lifetime_s):.0f} s before they expire"
        )

    def access_token(self, customer_id: str) -> str:
        """The customer's current token (the run's own calls beside artillery's)."""
        return self.tokens[customer_id].access_token

    def renew_due(self) -> bool:
        """Renew every token if the earliest is within the margin of its expiry."""
        earliest = min(t.expires_at for t in self.tokens.values())
        if earliest - self.clock() > refresh_margin(self._lifetime_s):
            return False
        started = time.perf_counter()
        self.tokens = self.sign_in.renew(self.tokens)
        self._write()
        self.renewals += 1
        log(f"renewed {len(self.tokens)} tokens in {time.perf_counter() - started:.1f} s")
        return True

    def _loop(self) -> None:
        while not self._stop.wait(5.0):
            try:
                self.renew_due()
            except Exception as error:  # the run goes on; its requests will show 401s
                log(f"token renewal failed: {error.__class__.__name__}: {error}")

    def __enter__(self) -> TokenFile:
        self.sign_in_all()
        self._thread = threading.Thread(target=self._loop, name="token-renewal", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
