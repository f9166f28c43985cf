"""Powertools idempotency, the same way in every function: records in the orders table, the
time to live from the function's settings, the Lambda context registered on every call (so a
call that times out does not leave its record IN_PROGRESS until the record expires).

    notify_once = Idempotent(notify, argument="event", key="order_id")
    notify_once(context, event=event)

Built on first call, from the current wiring: powertools' idempotency module is imported
only then, so an invocation that never needs it does not pay for it at cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orders_core import wiring


class Idempotent:
    """`fn(**{argument: value})` run once per key (a JMESPath into the argument); a repeat
    returns the first result. With `payload`, a repeat whose payload differs is refused
    (IdempotencyValidationError)."""

    def __init__(
        self, fn: Callable[..., Any], *, argument: str, key: str, payload: str | None = None
    ) -> None:
        self.fn = fn
        self.argument = argument
        self.key = key
        self.payload = payload
        self._built_for: wiring.Wiring | None = None
        self._config: Any = None
        self._once: Callable[..., Any] = fn

    def __call__(self, context: Any, **arguments: Any) -> Any:
        current = wiring.current()
        if self._built_for is not current:
            self._build(current)
        self._config.register_lambda_context(context)
        return self._once(**arguments)

    def _build(self, current: wiring.Wiring) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            IdempotencyConfig,
            idempotent_function,
        )

        self._config = IdempotencyConfig(
            event_key_jmespath=self.key,
            payload_validation_jmespath=self.payload or "",
            expires_after_seconds=current.settings.idempotency_ttl_seconds,
            raise_on_no_idempotency_key=True,
        )
        self._once = idempotent_function(
            data_keyword_argument=self.argument,
            config=self._config,
            persistence_store=current.idempotency_store,
        )(self.fn)
        self._built_for = current
