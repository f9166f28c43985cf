from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.tools.loadtest.fake_orders_api import FakeOrdersServer, running
from tools.loadtest import install


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """When load tests are selected, start `npm ci` (only if node_modules is missing or
    stale: about a minute on a fresh clone) in the background at once, so that it overlaps
    the local stack coming up. Every test that runs artillery calls ensure_installed()
    itself, which waits on the same file lock; a failed install is reported there."""
    if any(item.nodeid.startswith("tests/tools/loadtest/") for item in items):

        def install_in_background() -> None:
            with contextlib.suppress(Exception):
                install.ensure_installed()

        threading.Thread(target=install_in_background, name="npm-ci", daemon=True).start()


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
