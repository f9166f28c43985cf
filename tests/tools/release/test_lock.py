"""The lock step: third-party dependencies resolved for the Lambda target by uv.

The tests that resolve need the package index (as `make build` does when the dependencies
change); the others run offline.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools.release.support import (
    OFFLINE,
    REPO_ROOT,
    make_fixture_repo,
    manifest,
    names_in,
    run_build,
    snapshot,
    write,
)
from tools.release.lock import (
    LockedPackage,
    dependencies_digest,
    ensure_lock,
    lock_path,
    parse_lock,
    read_dependencies,
    shipped,
)
from tools.release.target import ARCHES, RUNTIME_PROVIDED

ARCH = "x86_64"

UV_OUTPUT = """\
# dependencies-digest: 0
annotated-types==0.8.0 \\
    --hash=sha256:aa \\
    --hash=sha256:bb
    # via pydantic
pydantic==2.14.3 \\
    --hash=sha256:cc
    # via
    #   fixture (pyproject.toml)
    #   aws-lambda-powertools
old-style==1.0 --hash=sha256:dd

# The following packages were excluded from the output:
# botocore
"""


def with_dependencies(repo: Path, dependencies: list[str]) -> None:
    quoted = ", ".join(f'"{d}"' for d in dependencies)
    write(
        repo / "pyproject.toml",
        f'[project]\nname = "fixture"\nversion = "0"\ndependencies = [{quoted}]\n',
    )


def pinned(lock_text: str) -> dict[str, LockedPackage]:
    return {package.name: package for package in parse_lock(lock_text)}


def test_a_lock_reads_as_pins_with_their_hashes_and_requirers():
    assert parse_lock(UV_OUTPUT) == [
        LockedPackage("annotated-types", "0.8.0", ("sha256:aa", "sha256:bb"), ("pydantic",)),
        LockedPackage(
            "pydantic",
            "2.14.3",
            ("sha256:cc",),
            ("fixture (pyproject.toml)", "aws-lambda-powertools"),
        ),
        LockedPackage("old-style", "1.0", ("sha256:dd",), ()),
    ]


def test_what_only_left_out_packages_need_does_not_ship():
    packages = [
        LockedPackage("typing-extensions", "4", (), ("fixture (pyproject.toml)",)),
        LockedPackage("awscrt", "1", (), ("botocore",)),  # botocore[crt]: only the runtime's
        LockedPackage("crt-helper", "1", (), ("awscrt",)),
        LockedPackage("wrapt", "2", (), ("aws-xray-sdk", "botocore")),
        LockedPackage("aws-xray-sdk", "2", (), ("fixture (pyproject.toml)",)),
    ]
    assert shipped(packages, {"typing-extensions", "aws-xray-sdk"}) == {
        "typing-extensions",
        "aws-xray-sdk",
        "wrapt",
    }


def test_frozen_build_refuses_a_stale_lock_and_changes_nothing(tmp_path: Path):
    repo = make_fixture_repo(tmp_path / "repo")
    out = tmp_path / "dist"
    run_build(repo, out, "--arch", ARCH)
    lock = lock_path(repo, ARCH, "3.12")
    lock_before, dist_before = lock.read_bytes(), snapshot(out)
    with_dependencies(repo, ["typing-extensions==4.16.0"])

    result = run_build(repo, out, "--arch", ARCH, "--frozen", env=OFFLINE, check=False)

    assert result.returncode == 2
    assert (
        "tools/release/locks/layer-cp312-x86_64.txt is stale or missing "
        "(pyproject.toml dependencies changed) and --frozen was given"
    ) in result.stderr
    assert lock.read_bytes() == lock_before
    assert snapshot(out) == dist_before


def test_the_committed_locks_are_current_and_pin_every_package_with_hashes():
    """A fresh clone builds from the committed locks without resolving anything."""
    dependencies = read_dependencies(REPO_ROOT)
    for arch in ARCHES:
        text = lock_path(REPO_ROOT, arch, "3.12").read_text()
        assert f"# dependencies-digest: {dependencies_digest(dependencies)}" in text.splitlines()
        assert f"# target: cp312 {ARCHES[arch].pip}" in text.splitlines()
        packages = pinned(text)
        assert {"pydantic", "pydantic-core", "aws-lambda-powertools"} <= set(packages)
        assert not set(packages) & RUNTIME_PROVIDED
        assert all(p.hashes and p.version for p in packages.values()), arch


def test_a_stale_lock_is_re_resolved_by_the_venvs_uv_keeping_the_pins_still_allowed(
    tmp_path: Path,
):
    repo = make_fixture_repo(tmp_path / "repo")
    lock = lock_path(repo, ARCH, "3.12")
    write(
        lock,
        f"# dependencies-digest: {dependencies_digest(['typing-extensions>=4.12'])}\n"
        "typing-extensions==4.12.2 --hash=sha256:0\n",
    )
    with_dependencies(repo, ["typing-extensions>=4.12", "annotated-types==0.7.0"])
    # A uv on PATH that fails loudly if run: the build must use its own environment's uv.
    marker = tmp_path / "path-uv-ran"
    fake = write(tmp_path / "bin" / "uv", f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    fake.chmod(0o755)
    out = tmp_path / "dist"

    result = run_build(
        repo, out, "--arch", ARCH, env={"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    )

    assert "(pyproject.toml dependencies changed)" in result.stdout
    assert not marker.exists()
    text = lock.read_text()
    digest = dependencies_digest(read_dependencies(repo))
    assert f"# dependencies-digest: {digest}" in text.splitlines()
    assert "    # via fixture (pyproject.toml)" in text.splitlines()  # uv's annotation
    packages = pinned(text)
    assert {n: p.version for n, p in packages.items()} == {
        "annotated-types": "0.7.0",
        "typing-extensions": "4.12.2",  # kept: the newer dependencies still allow it
    }
    assert "sha256:0" not in packages["typing-extensions"].hashes  # the index's, not the old
    assert all(p.hashes for p in packages.values())
    layer = manifest(out, ARCH)["artifacts"]["layer"]
    assert "pip:typing-extensions==4.12.2" in layer["inputs"]
    assert "python/annotated_types/__init__.py" in names_in(out / ARCH / layer["path"])


def test_runtime_provided_packages_and_what_only_they_need_stay_out_of_the_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    repo = make_fixture_repo(tmp_path / "repo")
    # aws-xray-sdk needs botocore (runtime) and wrapt; boto3[crt] adds awscrt through botocore.
    with_dependencies(repo, ["aws-xray-sdk==2.15.0", "boto3[crt]==1.40.0"])

    _, text = ensure_lock(repo, "arm64", "3.12", frozen=False)

    assert set(pinned(text)) == {"aws-xray-sdk", "wrapt"}
    footer = text.split("# The following packages were excluded from the output:\n", 1)[1]
    left_out = {line.removeprefix("# ") for line in footer.splitlines()}
    assert left_out == {"awscrt"} | RUNTIME_PROVIDED  # resolved, then left out
    assert "wrote tools/release/locks/layer-cp312-arm64.txt" in capsys.readouterr().out


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_the_lock_has_the_hash_of_the_wheel_pip_installs_for_the_target(
    arch: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    repo = make_fixture_repo(tmp_path / "repo")
    with_dependencies(repo, ["wrapt==2.5.2"])  # one wheel per platform
    _, text = ensure_lock(repo, arch, "3.12", frozen=False)
    download = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "wrapt==2.5.2",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            ARCHES[arch].pip,
            "--implementation",
            "cp",
            "--python-version",
            "3.12",
            "--quiet",
            "-d",
            str(download),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = download.glob("wrapt-2.5.2-*.whl")
    assert ARCHES[arch].pip.split("_", 1)[1] in wheel.name
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f"sha256:{digest}" in pinned(text)["wrapt"].hashes
