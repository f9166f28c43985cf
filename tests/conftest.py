from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.emulator import aws_env, moto_server


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One moto server per test process, shared by every apply test in it."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with moto_server(log) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def emulator_env(moto_endpoint: str) -> dict[str, str]:
    return aws_env(moto_endpoint)
