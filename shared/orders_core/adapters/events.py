"""OrderConfirmed / OrderRejected events onto the EventBridge bus."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orders_core.domain import OrderEvent
from orders_core.ports import Unavailable

MAX_ENTRIES_PER_CALL = 10  # PutEvents limit


class EventBridgePublisher:
    """Implements EventPublisher.

    PutEvents can accept a call yet fail some of its entries (FailedEntryCount): those entries,
    and only those, are sent again with a growing pause before giving up."""

    def __init__(
        self,
        bus_name: str,
        source: str,
        events_client: Any,
        attempts: int = 4,
        first_pause_s: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bus_name = bus_name
        self.source = source
        self.events = events_client
        self.attempts = attempts
        self.first_pause_s = first_pause_s
        self.sleep = sleep

    def _entry(self, event: OrderEvent) -> dict[str, str]:
        return {
            "EventBusName": self.bus_name,
            "Source": self.source,
            "DetailType": event.event_type.value,
            "Detail": event.model_dump_json(),
        }

    def publish(self, events: Sequence[OrderEvent]) -> None:
        pending = [self._entry(event) for event in events]
        for attempt in range(1, self.attempts + 1):
            failed: list[tuple[dict[str, str], str]] = []
            for start in range(0, len(pending), MAX_ENTRIES_PER_CALL):
                chunk = pending[start : start + MAX_ENTRIES_PER_CALL]
                try:
                    response = self.events.put_events(Entries=chunk)
                except (BotoCoreError, ClientError) as error:
                    failed += [(entry, str(error)) for entry in chunk]
                    continue
                if response.get("FailedEntryCount", 0):
                    failed += [
                        (entry, result.get("ErrorCode", "unknown"))
                        for entry, result in zip(chunk, response["Entries"], strict=True)
                        if "ErrorCode" in result
                    ]
            if not failed:
                return
            if attempt == self.attempts:
                codes = sorted({code for _, code in failed})
                raise Unavailable(
                    f"{len(failed)} of {len(events)} events not accepted by bus {self.bus_name} "
                    f"after {self.attempts} attempts: {', '.join(codes)}"
                )
            pending = [entry for entry, _ in failed]
            self.sleep(self.first_pause_s * 2 ** (attempt - 1))
