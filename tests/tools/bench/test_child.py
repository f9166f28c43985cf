"""tools/bench/child.py: what its init figures count.

The child runs as `make bench` runs it (isolated interpreter, sys.path from the spec) over a
handler written here, so these tests check what is measured, never how long it took.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

CHILD = Path(__file__).resolve().parents[3] / "tools" / "bench" / "child.py"
SITE_PACKAGES = str(Path(boto3.__file__).resolve().parents[1])


def run_child(tmp_path: Path, spec: dict) -> dict:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps({"path": [str(tmp_path), SITE_PACKAGES], **spec}))
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-B", str(CHILD), str(spec_file)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_function_init_counts_the_boto3_import_its_first_invoke_needs(tmp_path: Path) -> None:
    # A handler that imports boto3 only on its first invoke, as a lazily wired one does.
    (tmp_path / "lazy_handler.py").write_text(
        "def lambda_handler(event, context):\n"
        "    import boto3\n"
        "    boto3.client('sqs').send_message(QueueUrl='q', MessageBody='b')\n"
    )
    result = run_child(
        tmp_path,
        {
            "kind": "function",
            "handler_module": "lazy_handler",
            "events": [{}],
            "stub": "client",
            "warm_invocations": 0,
        },
    )

    assert "boto3" in result["modules"], "boto3 was loaded outside the measured span"
    assert result["collector_paused_for_init"] is False
    assert result["total_ms"] == pytest.approx(result["import_ms"] + result["first_invoke_ms"])


def test_libraries_import_what_the_function_loaded_but_none_of_our_code(tmp_path: Path) -> None:
    marker = tmp_path / "our_code_ran"
    (tmp_path / "our_package").mkdir()
    (tmp_path / "our_package" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    result = run_child(
        tmp_path,
        {
            "kind": "libraries",
            "modules": ["our_package", "colorsys", "no_such_module.alias"],
            "own_packages": ["our_package"],
            "clients": ["sqs"],
        },
    )

    assert not marker.exists()
    assert result["unimportable"] == ["no_such_module.alias"]
    assert result["total_ms"] >= result["import_ms"] > 0


@pytest.mark.parametrize("pause", [True, False])
def test_floor_runs_with_the_collector_paused_only_when_asked(tmp_path: Path, pause: bool) -> None:
    result = run_child(tmp_path, {"kind": "floor", "clients": [], "pause_collector": pause})

    assert result["collector_off_at_end"] is pause


def test_function_reports_that_its_handler_paused_the_collector_for_init(tmp_path: Path) -> None:
    # So that `make bench` measures the libraries alone under the same conditions.
    (tmp_path / "pausing_handler.py").write_text(
        "import gc\ngc.disable()\n\ndef lambda_handler(event, context):\n    gc.enable()\n"
    )
    result = run_child(
        tmp_path,
        {
            "kind": "function",
            "handler_module": "pausing_handler",
            "events": [{}],
            "stub": "client",
            "warm_invocations": 0,
        },
    )

    assert result["collector_paused_for_init"] is True
    assert result["collector_off_at_end"] is False
