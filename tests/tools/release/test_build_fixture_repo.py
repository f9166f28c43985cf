"""tools.release.build on a small generated repository: layout, determinism, incremental
builds, budgets.

These need no network (the fixture has no third-party dependencies), except the test that
changes the dependency pins, which resolves one small wheel.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.tools.release.support import (
    REPO_ROOT,
    artifact_zip,
    bytecode_problems,
    make_fixture_repo,
    manifest,
    names_in,
    run_build,
    run_isolated,
    sha256,
    snapshot,
    target_python,
    unpack,
    write,
)
from tools.release.build import FUNCTION_BUDGET_BYTES, LAMBDA_UNZIPPED_LIMIT_BYTES
from tools.release.files import BUILDER_MODULES
from tools.release.lock import parse_lock

ARCH = "x86_64"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_fixture_repo(tmp_path / "repo")


@pytest.fixture
def built(repo: Path, tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    run_build(repo, out, "--arch", ARCH)
    return out


def test_one_zip_per_service_with_a_handler_and_one_layer(built: Path):
    artifacts = manifest(built, ARCH)["artifacts"]
    assert set(artifacts) == {"layer", "svc_a", "svc_b"}  # not_a_service has no handler.py
    assert {p.name for p in (built / ARCH).glob("*.zip")} == {a["path"] for a in artifacts.values()}


def test_function_zip_holds_its_handler_at_the_handler_setting_path_and_nothing_else(built: Path):
    entry = manifest(built, ARCH)["artifacts"]["svc_a"]
    assert entry["handler"] == "svc_a.handler.lambda_handler"
    module_path = entry["handler"].rsplit(".", 1)[0].replace(".", "/") + ".py"
    names = names_in(built / ARCH / entry["path"])
    assert module_path in names
    assert names == [
        "svc_a/",
        "svc_a/__init__.py",
        "svc_a/__pycache__/",
        "svc_a/__pycache__/__init__.cpython-312.pyc",
        "svc_a/__pycache__/handler.cpython-312.pyc",
        "svc_a/__pycache__/models.cpython-312.pyc",
        "svc_a/handler.py",
        "svc_a/models.py",
        "svc_a/schemas/",
        "svc_a/schemas/order.json",
    ]
    # Compiled by the build, not the stale bytecode the source tree had lying around.
    assert bytecode_problems(built / ARCH / entry["path"], "/var/task") == []


def test_layer_holds_shared_packages_under_python_without_tests_or_caches(built: Path):
    names = names_in(artifact_zip(built, ARCH, "layer"))
    assert names == [
        "python/",
        "python/fixture_core/",
        "python/fixture_core/__init__.py",
        "python/fixture_core/__pycache__/",
        "python/fixture_core/__pycache__/__init__.cpython-312.pyc",
        "python/fixture_core/__pycache__/domain.cpython-312.pyc",
        "python/fixture_core/domain.py",
        "python/fixture_core/events/",
        "python/fixture_core/events/__init__.py",
        "python/fixture_core/events/__pycache__/",
        "python/fixture_core/events/__pycache__/__init__.cpython-312.pyc",
        "python/fixture_core/events/__pycache__/publisher.cpython-312.pyc",
        "python/fixture_core/events/publisher.py",
    ]
    assert bytecode_problems(artifact_zip(built, ARCH, "layer"), "/opt") == []


def test_zip_entries_are_sorted_with_fixed_timestamps_and_permissions(built: Path):
    for entry in manifest(built, ARCH)["artifacts"].values():
        with zipfile.ZipFile(built / ARCH / entry["path"]) as archive:
            infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            mode = info.external_attr >> 16
            assert mode == (0o40755 if info.is_dir() else 0o100644), info.filename
            if not info.is_dir():
                assert info.compress_type == zipfile.ZIP_DEFLATED


def test_manifest_matches_the_files(built: Path):
    data = manifest(built, ARCH)
    assert (data["arch"], data["python"], data["runtime"]) == (ARCH, "3.12", "python3.12")
    for name, entry in data["artifacts"].items():
        path = built / ARCH / entry["path"]
        digest = hashlib.sha256(path.read_bytes()).digest()
        assert entry["sha256"] == digest.hex()
        assert entry["base64_sha256"] == base64.b64encode(digest).decode()
        assert entry["path"] == f"{name}-{digest.hex()[:16]}.zip"
        assert entry["size"] == path.stat().st_size
        with zipfile.ZipFile(path) as archive:
            assert entry["unzipped_size"] == sum(i.file_size for i in archive.infolist())
            assert entry["entries"] == len(archive.infolist())
        assert (entry["arch"], entry["python"]) == (ARCH, "3.12")
    assert data["artifacts"]["svc_b"]["inputs"] == [
        "services/svc_b/__init__.py",
        "services/svc_b/handler.py",
        "services/svc_b/models.py",
    ]
    assert "shared/fixture_core/domain.py" in data["artifacts"]["layer"]["inputs"]
    assert "tools/release/locks/layer-cp312-x86_64.txt" in data["artifacts"]["layer"]["inputs"]


def test_builds_of_the_same_sources_in_different_places_are_byte_identical(
    repo: Path, built: Path, tmp_path: Path
):
    elsewhere = shutil.copytree(repo, tmp_path / "somewhere" / "else" / "repo")
    other_out = tmp_path / "other-dist"
    run_build(elsewhere, other_out, "--arch", ARCH)
    ours = manifest(built, ARCH)
    theirs = manifest(other_out, ARCH)
    assert ours == theirs
    for entry in ours["artifacts"].values():
        assert (built / ARCH / entry["path"]).read_bytes() == (
            other_out / ARCH / entry["path"]
        ).read_bytes()
    assert (built / ARCH / "manifest.json").read_bytes() == (
        other_out / ARCH / "manifest.json"
    ).read_bytes()


def test_no_op_rebuild_writes_nothing_and_is_fast(repo: Path, built: Path):
    before = snapshot(built)
    result = run_build(repo, built, "--arch", ARCH)
    assert snapshot(built) == before
    assert "nothing to do" in result.stdout
    assert result.stdout.count("up to date") == 3
    assert result.seconds < 5, f"no-op build took {result.seconds:.1f}s"


def test_changing_one_service_rebuilds_only_that_zip(repo: Path, built: Path):
    before = manifest(built, ARCH)["artifacts"]
    untouched = {n: (built / ARCH / before[n]["path"]).stat().st_mtime_ns for n in before}
    write(repo / "services" / "svc_b" / "models.py", "NAME = 'svc_b changed'\n")

    result = run_build(repo, built, "--arch", ARCH)

    after = manifest(built, ARCH)["artifacts"]
    assert "building svc_b" in result.stdout
    assert result.stdout.count("up to date") == 2
    assert after["svc_b"]["sha256"] != before["svc_b"]["sha256"]
    assert not (built / ARCH / before["svc_b"]["path"]).exists()  # replaced, not piled up
    for name in ("layer", "svc_a"):
        assert after[name] == before[name]
        assert (built / ARCH / after[name]["path"]).stat().st_mtime_ns == untouched[name]


def test_changing_shared_rebuilds_only_the_layer(repo: Path, built: Path):
    before = manifest(built, ARCH)["artifacts"]
    write(repo / "shared" / "fixture_core" / "domain.py", "def greet(name):\n    return name\n")

    result = run_build(repo, built, "--arch", ARCH)

    after = manifest(built, ARCH)["artifacts"]
    assert "building layer" in result.stdout
    assert after["layer"]["sha256"] != before["layer"]["sha256"]
    assert after["svc_a"] == before["svc_a"]
    assert after["svc_b"] == before["svc_b"]


def test_a_deleted_or_tampered_artifact_is_rebuilt(repo: Path, built: Path):
    svc_a = artifact_zip(built, ARCH, "svc_a")
    good = svc_a.read_bytes()
    svc_a.write_bytes(b"corrupt")
    run_build(repo, built, "--arch", ARCH)
    assert svc_a.read_bytes() == good
    svc_a.unlink()
    result = run_build(repo, built, "--arch", ARCH)
    assert "building svc_a" in result.stdout
    assert svc_a.read_bytes() == good


def test_a_removed_service_leaves_the_manifest_and_dist(repo: Path, built: Path):
    old = artifact_zip(built, ARCH, "svc_b")
    shutil.rmtree(repo / "services" / "svc_b")
    run_build(repo, built, "--arch", ARCH)
    assert set(manifest(built, ARCH)["artifacts"]) == {"layer", "svc_a"}
    assert not old.exists()


def test_architectures_build_side_by_side_and_are_recorded(repo: Path, built: Path):
    run_build(repo, built, "--arch", "arm64")
    arm = manifest(built, "arm64")
    assert arm["arch"] == "arm64"
    assert all(e["arch"] == "arm64" for e in arm["artifacts"].values())
    assert manifest(built, ARCH)["arch"] == ARCH
    # Same sources, same bytes; different target, different input digest.
    x86 = manifest(built, ARCH)["artifacts"]
    assert arm["artifacts"]["svc_a"]["sha256"] == x86["svc_a"]["sha256"]
    assert arm["artifacts"]["svc_a"]["input_digest"] != x86["svc_a"]["input_digest"]


def test_source_date_epoch_sets_the_zip_timestamps(repo: Path, tmp_path: Path):
    out = tmp_path / "dated"
    run_build(repo, out, "--arch", ARCH, env={"SOURCE_DATE_EPOCH": "1700000000"})
    with zipfile.ZipFile(artifact_zip(out, ARCH, "svc_a")) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_function_over_budget_fails_the_build_with_a_clear_message(repo: Path, tmp_path: Path):
    out = tmp_path / "dist"
    write(repo / "services" / "svc_a" / "blob.txt", "".join(f"{i:08x}" for i in range(2000)))
    result = run_build(repo, out, "--arch", ARCH, "--function-budget", "4096", check=False)
    assert result.returncode == 3
    assert "svc_a: zipped" in result.stderr
    assert "exceeds the function budget of 4.0 KiB" in result.stderr
    assert "svc_b" not in result.stderr
    assert not (out / ARCH / "manifest.json").exists()


def test_layer_beyond_the_unzipped_limit_fails_the_build(repo: Path, tmp_path: Path):
    out = tmp_path / "dist"
    write(repo / "shared" / "fixture_core" / "big.py", "# " + "x" * 20_000 + "\n")
    result = run_build(repo, out, "--arch", ARCH, "--unzipped-limit", "16384", check=False)
    assert result.returncode == 3
    assert "exceeds Lambda's 16.0 KiB limit" in result.stderr


def test_default_budgets_are_documented_values():
    assert FUNCTION_BUDGET_BYTES == 5 * 1024 * 1024
    assert LAMBDA_UNZIPPED_LIMIT_BYTES == 262_144_000


def test_the_builder_digest_covers_every_module_the_build_runs():
    """Every artifact's input digest includes the builder's code, so that a changed build step
    rebuilds: a module the build imports but the digest leaves out would not."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tools.release.build\n"
            "print(*sorted(m for m in sys.modules if m.startswith('tools.release.')))",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {f"{name.removeprefix('tools.release.')}.py" for name in proc.stdout.split()}
    assert imported == set(BUILDER_MODULES)


def test_frozen_build_refuses_a_missing_lock(repo: Path, tmp_path: Path):
    result = run_build(repo, tmp_path / "dist", "--arch", ARCH, "--frozen", check=False)
    assert result.returncode == 2
    assert "tools/release/locks/layer-cp312-x86_64.txt is stale or missing" in result.stderr


def test_layer_and_handlers_import_in_a_clean_target_interpreter(built: Path, tmp_path: Path):
    python = target_python("3.12")
    if python is None:
        pytest.skip("no Python 3.12 interpreter on this machine to play the Lambda runtime")
    layer = unpack(artifact_zip(built, ARCH, "layer"), tmp_path / "opt")
    for name in ("svc_a", "svc_b"):
        task = unpack(artifact_zip(built, ARCH, name), tmp_path / f"task-{name}")
        proc = run_isolated(
            python,
            [task, layer / "python"],
            "import importlib, sys\n"
            "import fixture_core.events.publisher\n"
            f"handler = importlib.import_module('{name}.handler')\n"
            "print(handler.lambda_handler({}, None))\n"
            "print(fixture_core.__file__)\n",
        )
        assert proc.returncode == 0, proc.stderr
        result, core_file = proc.stdout.splitlines()
        assert result == f"hello {name}"
        assert core_file.startswith(str(layer / "python"))


def test_the_layer_alone_misses_what_only_the_fixture_checkout_has(built: Path, tmp_path: Path):
    """The import test above is meaningful: a module left out of the layer fails to import."""
    python = target_python("3.12")
    if python is None:
        pytest.skip("no Python 3.12 interpreter on this machine to play the Lambda runtime")
    task = unpack(artifact_zip(built, ARCH, "svc_a"), tmp_path / "task")
    proc = run_isolated(python, [task], "import svc_a.handler\n")
    assert proc.returncode != 0
    assert "No module named 'fixture_core'" in proc.stderr


def test_changing_the_dependency_pins_rebuilds_only_the_layer(repo: Path, built: Path):
    before = manifest(built, ARCH)["artifacts"]
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "dependencies = []",
            'dependencies = ["typing-extensions==4.16.0", "six==1.17.0"]',
        )
    )

    result = run_build(repo, built, "--arch", ARCH)

    after = manifest(built, ARCH)["artifacts"]
    assert "building layer" in result.stdout
    assert after["svc_a"] == before["svc_a"]
    assert after["svc_b"] == before["svc_b"]
    names = names_in(built / ARCH / after["layer"]["path"])
    assert "python/typing_extensions.py" in names
    assert "python/six.py" not in names  # provided by the Lambda runtime
    assert "pip:typing-extensions==4.16.0" in after["layer"]["inputs"]
    lock = (repo / "tools" / "release" / "locks" / "layer-cp312-x86_64.txt").read_text()
    pinned = {p.name: p for p in parse_lock(lock)}
    assert set(pinned) == {"typing-extensions"}
    assert pinned["typing-extensions"].version == "4.16.0"
    assert pinned["typing-extensions"].hashes
    assert sha256(built / ARCH / after["layer"]["path"]) == after["layer"]["sha256"]


def test_a_build_run_by_another_python_version_is_byte_identical(
    repo: Path, built: Path, tmp_path: Path
):
    other = target_python("3.13")
    if other is None:
        pytest.skip("no Python 3.13 interpreter here to run the builder with")
    out = tmp_path / "built-by-3.13"
    proc = subprocess.run(
        [
            other,
            "-m",
            "tools.release.build",
            "--root",
            str(repo),
            "--out",
            str(out),
            "--arch",
            ARCH,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / ARCH / "manifest.json").read_bytes() == (
        built / ARCH / "manifest.json"
    ).read_bytes()
    for entry in manifest(built, ARCH)["artifacts"].values():
        assert sha256(out / ARCH / entry["path"]) == entry["sha256"]
