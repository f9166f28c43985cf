"""The Lambda target the artifacts are built for: architectures, Python versions, where
Lambda puts each artifact's files, and what its Python runtime already provides."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    pip: str  # pip's --platform tag
    uv: str  # uv's --python-platform: the same glibc 2.17 baseline


ARCHES = {
    "arm64": Platform(pip="manylinux2014_aarch64", uv="aarch64-manylinux2014"),
    "x86_64": Platform(pip="manylinux2014_x86_64", uv="x86_64-manylinux2014"),
}
PYTHONS = ("3.12", "3.13")

# Provided by the Lambda Python runtime; never shipped. Shipping a second copy of boto3 and
# botocore costs ~20 MB unzipped and cold-start time, and our code only needs the client API
# every runtime version has.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)

# The artifact kinds, and where Lambda unpacks each: the file names compiled into bytecode.
LAMBDA_ROOTS = {"function": "/var/task", "layer": "/opt"}
LAYER = "layer"  # the one layer artifact's name


def canonical(name: str) -> str:
    """A distribution name as PEP 503 normalises it (python_dateutil -> python-dateutil)."""
    return re.sub(r"[-_.]+", "-", name).lower()
