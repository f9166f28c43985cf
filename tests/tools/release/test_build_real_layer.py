"""tools.release.build on this repository's own sources and dependency pins.

The third-party layer is installed for the Lambda target once per module (two clean x86_64
builds, to compare, and one arm64 build) and reused by every test here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from tests.tools.release.support import (
    OFFLINE,
    REPO_ROOT,
    bytecode_problems,
    copy_repo_sources,
    manifest,
    names_in,
    run_build,
    run_isolated,
    runtime_provided_dir,
    snapshot,
    target_python,
    unpack,
    write,
)
from tools.release.target import RUNTIME_PROVIDED, canonical

ARCH = "x86_64"  # runs on this machine, like the local emulator


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("real-build")
    root = copy_repo_sources(base / "repo")
    first, second = base / "dist-1", base / "dist-2"
    # Two clean builds, each with its own (empty) dependency cache.
    run_build(root, first, "--arch", ARCH)
    run_build(root, second, "--arch", ARCH)
    run_build(root, first, "--arch", "arm64")
    return {"root": root, "first": first, "second": second, "base": base}


def our_modules(layer_python: Path, packages: list[str]) -> list[str]:
    modules = []
    for package in packages:
        for path in sorted((layer_python / package).rglob("*.py")):
            parts = list(path.relative_to(layer_python).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules.append(".".join(parts))
    return modules


def test_two_clean_builds_are_byte_identical(real):
    one, two = real["first"] / ARCH, real["second"] / ARCH
    assert (one / "manifest.json").read_bytes() == (two / "manifest.json").read_bytes()
    zips = sorted(p.name for p in one.glob("*.zip"))
    assert zips == sorted(p.name for p in two.glob("*.zip"))
    assert any(name.startswith("layer-") for name in zips)
    for name in zips:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_manifest_matches_the_files(real):
    for arch in (ARCH, "arm64"):
        data = manifest(real["first"], arch)
        assert data["arch"] == arch
        assert "layer" in data["artifacts"]
        for entry in data["artifacts"].values():
            path = real["first"] / arch / entry["path"]
            digest = hashlib.sha256(path.read_bytes()).digest()
            assert entry["sha256"] == digest.hex()
            assert entry["base64_sha256"] == base64.b64encode(digest).decode()
            assert entry["size"] == path.stat().st_size
            with zipfile.ZipFile(path) as archive:
                assert entry["unzipped_size"] == sum(i.file_size for i in archive.infolist())
            assert entry["arch"] == arch


def test_layer_ships_locked_third_party_packages_but_not_what_the_runtime_provides(real):
    entry = manifest(real["first"], ARCH)["artifacts"]["layer"]
    names = names_in(real["first"] / ARCH / entry["path"])
    tops = {n.split("/")[1] for n in names if n.count("/") >= 2 or not n.endswith("/")} - {""}
    assert {"pydantic", "pydantic_core", "aws_lambda_powertools", "aws_xray_sdk"} <= tops
    assert not tops & {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil"}
    assert "six.py" not in tops
    shipped = {canonical(p.split("==")[0].removeprefix("pip:")) for p in entry["inputs"]}
    assert not shipped & RUNTIME_PROVIDED
    assert all(n.startswith("python/") for n in names)


def test_layer_has_only_its_own_bytecode_and_no_scripts_or_install_records(real):
    layer = real["first"] / ARCH / manifest(real["first"], ARCH)["artifacts"]["layer"]["path"]
    names = names_in(layer)
    assert bytecode_problems(layer, "/opt") == []
    assert [n for n in names if n.endswith(".pyc")], "the layer ships compiled bytecode"
    assert not [n for n in names if n.startswith("python/bin/")]
    noise = ("/RECORD", "/INSTALLER", "/REQUESTED", "/direct_url.json")
    assert not [n for n in names if ".dist-info/" in n and n.endswith(noise)]
    assert [n for n in names if n.endswith(".dist-info/METADATA")]  # importlib.metadata works


def test_no_build_paths_inside_the_artifacts(real):
    needles = [str(real["base"]).encode(), str(REPO_ROOT).encode(), sys.prefix.encode()]
    for entry in manifest(real["first"], ARCH)["artifacts"].values():
        with zipfile.ZipFile(real["first"] / ARCH / entry["path"]) as archive:
            for info in archive.infolist():
                if info.filename.endswith((".so", "/")):
                    continue
                data = archive.read(info)
                assert not [n for n in needles if n in data], info.filename


def test_layer_is_built_for_the_target_architecture(real):
    def shared_objects(arch):
        path = real["first"] / arch / manifest(real["first"], arch)["artifacts"]["layer"]["path"]
        return [n for n in names_in(path) if n.endswith(".so")]

    x86, arm = shared_objects(ARCH), shared_objects("arm64")
    assert x86
    assert arm
    assert all("x86_64-linux-gnu" in n for n in x86)
    assert all("aarch64-linux-gnu" in n for n in arm)
    with zipfile.ZipFile(
        real["first"] / "arm64" / manifest(real["first"], "arm64")["artifacts"]["layer"]["path"]
    ) as archive:
        elf = archive.read(arm[0])
    assert elf[:4] == b"\x7fELF"
    assert int.from_bytes(elf[18:20], "little") == 183


def test_no_op_rebuild_writes_nothing(real):
    before = snapshot(real["first"])
    result = run_build(real["root"], real["first"], "--arch", ARCH, env=OFFLINE)
    assert "nothing to do" in result.stdout
    assert snapshot(real["first"]) == before
    assert result.seconds < 5, f"no-op build took {result.seconds:.1f}s"


def test_a_shared_change_rebuilds_the_layer_from_the_dependency_cache(real, tmp_path):
    root = shutil.copytree(real["root"], tmp_path / "repo")
    out = shutil.copytree(real["first"], tmp_path / "dist")
    before = manifest(out, ARCH)["artifacts"]
    write(root / "shared" / "zz_extra" / "__init__.py", "VALUE = 1\n")

    # pip cannot reach any index: the layer must come from the cached install.
    result = run_build(root, out, "--arch", ARCH, env=OFFLINE)

    after = manifest(out, ARCH)["artifacts"]
    assert "building layer ..." in result.stdout
    assert "deps from cache" in result.stdout
    assert after["layer"]["sha256"] != before["layer"]["sha256"]
    assert "python/zz_extra/__init__.py" in names_in(out / ARCH / after["layer"]["path"])
    assert {n: e for n, e in after.items() if n != "layer"} == {
        n: e for n, e in before.items() if n != "layer"
    }


@pytest.fixture(scope="module")
def lambda_like(real, tmp_path_factory):
    """The x86_64 layer unpacked at an /opt-like place, plus boto3 & co as the runtime has them."""
    python = target_python("3.12")
    if python is None:
        pytest.skip("no Python 3.12 interpreter on this machine to play the Lambda runtime")
    base = tmp_path_factory.mktemp("lambda-like")
    layer = manifest(real["first"], ARCH)["artifacts"]["layer"]
    opt = unpack(real["first"] / ARCH / layer["path"], base / "opt")
    runtime = runtime_provided_dir(base / "runtime", RUNTIME_PROVIDED)
    env = {
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "build-test",
        "POWERTOOLS_METRICS_NAMESPACE": "BuildTest",
    }
    return {"python": python, "opt": opt / "python", "runtime": runtime, "base": base, "env": env}


def test_third_party_layer_imports_in_a_clean_target_interpreter(lambda_like):
    proc = run_isolated(
        lambda_like["python"],
        [lambda_like["opt"], lambda_like["runtime"]],
        "import pydantic, pydantic_core, aws_lambda_powertools\n"
        "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
        "from aws_lambda_powertools.utilities.parser import parse\n"
        "from aws_lambda_powertools.utilities.batch import BatchProcessor\n"
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
        "class M(pydantic.BaseModel):\n    n: int\n"
        "assert M(n='3').n == 3\n"
        "Tracer()\n"
        "print(pydantic.__file__)\n",
        env=lambda_like["env"],
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith(str(lambda_like["opt"]))


def test_our_modules_and_handlers_import_against_the_layer(real, lambda_like):
    data = manifest(real["first"], ARCH)["artifacts"]
    packages = sorted({i.split("/")[1] for i in data["layer"]["inputs"] if i.startswith("shared/")})
    functions = sorted(n for n, e in data.items() if e["kind"] == "function")
    if not packages and not functions:
        pytest.skip("shared/ and services/ hold no packages yet; re-run once they exist")
    modules = our_modules(lambda_like["opt"], packages)
    for name in functions or [None]:
        path = [lambda_like["opt"], lambda_like["runtime"]]
        handler_check = ""
        if name is not None:
            task = unpack(real["first"] / ARCH / data[name]["path"], lambda_like["base"] / name)
            path.insert(0, task)
            module, attribute = data[name]["handler"].rsplit(".", 1)
            handler_check = (
                f"handler = importlib.import_module({module!r})\n"
                f"assert callable(getattr(handler, {attribute!r})), 'no {attribute}'\n"
                f"assert handler.__file__.startswith({str(task)!r})\n"
            )
        proc = run_isolated(
            lambda_like["python"],
            path,
            "import importlib\n"
            f"for module in {modules!r}:\n"
            "    importlib.import_module(module)\n" + handler_check,
            env=lambda_like["env"],
        )
        assert proc.returncode == 0, f"{name}: {proc.stderr}"


def test_a_generated_service_on_the_real_dependencies_runs_against_the_layer(
    real, lambda_like, tmp_path
):
    """Meaningful before services/ and shared/ exist: a handler and a shared package that use
    pydantic and powertools are built, imported and invoked in the clean interpreter."""
    root = shutil.copytree(real["root"], tmp_path / "repo")
    out = shutil.copytree(real["first"], tmp_path / "dist")
    write(
        root / "shared" / "zz_probe_core" / "__init__.py",
        "from pydantic import BaseModel\n\n\nclass Order(BaseModel):\n    sku: str\n    qty: int\n",
    )
    write(root / "services" / "zz_probe" / "__init__.py", "")
    write(
        root / "services" / "zz_probe" / "handler.py",
        "from aws_lambda_powertools import Logger\n"
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
        "from zz_probe_core import Order\n\n"
        "app = APIGatewayHttpResolver()\nlogger = Logger()\n\n\n"
        "@app.post('/orders')\ndef create():\n"
        "    order = Order.model_validate(app.current_event.json_body)\n"
        "    return {'sku': order.sku, 'qty': order.qty}\n\n\n"
        "def lambda_handler(event, context):\n    return app.resolve(event, context)\n",
    )
    run_build(root, out, "--arch", ARCH, env=OFFLINE)
    data = manifest(out, ARCH)["artifacts"]
    opt = unpack(out / ARCH / data["layer"]["path"], tmp_path / "opt") / "python"
    task = unpack(out / ARCH / data["zz_probe"]["path"], tmp_path / "task")
    event = {
        "version": "2.0",
        "routeKey": "POST /orders",
        "rawPath": "/orders",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": "/orders", "sourceIp": "127.0.0.1"},
            "stage": "$default",
        },
        "body": '{"sku": "A-1", "qty": "2"}',
        "isBase64Encoded": False,
    }
    proc = run_isolated(
        lambda_like["python"],
        [task, opt, lambda_like["runtime"]],
        "import json, zz_probe.handler as h, zz_probe_core, pydantic\n"
        f"response = h.lambda_handler({event!r}, None)\n"
        "print(json.dumps([response['statusCode'], json.loads(response['body']), "
        "zz_probe_core.__file__, pydantic.__file__]))\n",
        env=lambda_like["env"],
    )
    assert proc.returncode == 0, proc.stderr
    status, body, core_file, pydantic_file = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (status, body) == (200, {"sku": "A-1", "qty": 2})
    assert core_file.startswith(str(opt))
    assert pydantic_file.startswith(str(opt))


def test_each_function_zip_holds_the_handler_the_stack_names(real):
    """The handler setting in terraform/stack must resolve inside that function's zip."""
    from tools.terraform.hcl import TERRAFORM_DIR, root_blocks

    handlers = {
        block.labels[0]: str(block.body["handler"])
        for block in root_blocks(TERRAFORM_DIR / "stack")
        if block.kind == "module" and "handler" in block.body
    }
    data = manifest(real["first"], ARCH)["artifacts"]
    functions = {name for name, entry in data.items() if entry["kind"] == "function"}
    assert set(handlers) == functions, (
        "every built service is a function in the stack, and only those"
    )
    for name, handler in handlers.items():
        module, attribute = handler.rsplit(".", 1)
        assert handler == data[name]["handler"]
        with zipfile.ZipFile(real["first"] / ARCH / data[name]["path"]) as archive:
            names = archive.namelist()
            source = archive.read(module.replace(".", "/") + ".py").decode()
        assert f"def {attribute}(" in source
        assert all(n == f"{name}/" or n.startswith(f"{name}/") for n in names), names
