from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.emulator import aws_env, moto_server
from tests.support.local_stack import LocalStack, running_local_stack

# Every session records the calls it makes and judges them against the policies as deployed.
from tools.iam.pytest_plugin import pytest_configure, pytest_sessionfinish  # noqa: F401


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One moto server per test process, shared by every apply test in it."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with moto_server(log) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def emulator_env(moto_endpoint: str) -> dict[str, str]:
    return aws_env(moto_endpoint)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The whole platform on ministack, applied once per test process and shared.

    Tests that use it carry `pytest.mark.xdist_group("local_stack")`, so that under
    pytest-xdist they all run in the one worker that holds the stack."""
    with running_local_stack(tmp_path_factory.mktemp("local-stack")) as stack:
        yield stack
