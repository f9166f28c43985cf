from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.loadtest.fake_orders_api import FakeOrdersServer, running


@pytest.fixture
def fake_api() -> Iterator[Callable[..., FakeOrdersServer]]:
    """Start stand-ins for the orders API on 127.0.0.1 (stopped after the test).

    fake_api() -> a server whose orders settle after 0.2 s;
    fake_api(lose_every=2, response_delay=0.01, ...) -> see fake_orders_api.
    """
    with ExitStack() as stack:

        def start(**options: Any) -> FakeOrdersServer:
            return stack.enter_context(running(**options))

        yield start
