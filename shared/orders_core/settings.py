"""Configuration of a function, read once from its environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class ConfigurationError(RuntimeError):
    """The function's environment lacks a setting it needs; the message names it."""


@dataclass(frozen=True)
class Settings:
    environment: str
    table_name: str | None
    orders_queue_url: str | None
    event_bus_name: str | None
    event_source: str
    notification_sender: str | None
    idempotency_ttl_seconds: int
    # The pre-traffic hook: which smoke checks each function it may test takes, by name.
    smoke_checks: Mapping[str, str] = field(default_factory=dict)
    # The notifier's share of the environment's SES sending rate, per execution environment;
    # None sends unpaced (tests, tools).
    mail_sends_per_second: float | None = None
    # The scope of the user pool's resource server that reads any customer's orders.
    admin_scope: str = "orders/admin"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        ttl = env.get("IDEMPOTENCY_TTL_SECONDS", "86400")
        if not ttl.isdigit() or int(ttl) < 60:
            raise ConfigurationError(f"IDEMPOTENCY_TTL_SECONDS={ttl!r}: give whole seconds, >= 60")
        return cls(
            mail_sends_per_second=_positive_number(env, "MAIL_SENDS_PER_SECOND"),
            environment=env.get("ENVIRONMENT", "local"),
            table_name=env.get("TABLE_NAME"),
            orders_queue_url=env.get("ORDERS_QUEUE_URL"),
            event_bus_name=env.get("EVENT_BUS_NAME"),
            event_source=env.get("EVENT_SOURCE", "orders"),
            notification_sender=env.get("NOTIFICATION_SENDER"),
            idempotency_ttl_seconds=int(ttl),
            smoke_checks=_smoke_checks(env.get("SMOKE_CHECKS", "{}")),
            admin_scope=env.get("ADMIN_SCOPE", "orders/admin"),
        )

    def require(self, name: str) -> str:
        """A setting this function cannot work without."""
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(
                f"{name.upper()} is not set in the function's environment; "
                "the platform stack (terraform/stack) sets it for every function that needs it"
            )
        return value


def _smoke_checks(text: str) -> dict[str, str]:
    try:
        checks = json.loads(text)
    except ValueError:
        checks = None
    if not isinstance(checks, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in checks.items()
    ):
        raise ConfigurationError(
            f"SMOKE_CHECKS={text[:200]!r}: give a JSON object of function name to check kind"
        )
    return checks


def _positive_number(env: Mapping[str, str], name: str) -> float | None:
    text = env.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ConfigurationError(f"{name}={text!r}: give a positive number")
    return value
