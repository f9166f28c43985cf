"""The manifest a build writes (dist/<arch>/manifest.json), the size budgets it enforces and
the size report it prints.

Top level: schema_version, arch, python, runtime ("python3.12"), budgets, artifacts. Each
artifact: kind ("function" | "layer"), path (relative to the manifest), sha256 (hex),
base64_sha256 (= Lambda's CodeSha256 = Terraform's source_code_hash), size, unzipped_size,
entries, input_digest, inputs (repo-relative files and "pip:name==version"), arch, python,
runtime, and for functions handler ("<name>.handler.lambda_handler"). Keys are sorted and
the file is only rewritten when its content changes.

Budgets: a function zip may be at most 5 MiB zipped (its dependencies live in the layer:
anything bigger is a mistake), and every function plus the layer must stay within Lambda's
250 MB unzipped limit.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from tools.release.files import sha256_file
from tools.release.target import LAYER
from tools.release.zips import ZipResult

SCHEMA_VERSION = 1
FUNCTION_BUDGET_BYTES = 5 * 1024 * 1024  # zipped, per function
LAMBDA_UNZIPPED_LIMIT_BYTES = 262_144_000  # function + all its layers, unzipped (AWS quota)


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def b64_of_hex(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return manifest if manifest.get("schema_version") == SCHEMA_VERSION else {}


def render_manifest(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def up_to_date(entry: dict[str, Any] | None, arch_dir: Path, input_digest: str) -> bool:
    if not entry or entry.get("input_digest") != input_digest:
        return False
    path = arch_dir / str(entry.get("path", ""))
    return (
        path.is_file()
        and path.stat().st_size == entry.get("size")
        and sha256_file(path) == entry.get("sha256")
    )


def artifact_entry(
    name: str,
    kind: str,
    result: ZipResult,
    input_digest: str,
    inputs: list[str],
    arch: str,
    python: str,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": kind,
        "path": result.path.name,
        "sha256": result.sha256,
        "base64_sha256": b64_of_hex(result.sha256),
        "size": result.size,
        "unzipped_size": result.unzipped_size,
        "entries": result.entries,
        "input_digest": input_digest,
        "inputs": sorted(inputs),
        "arch": arch,
        "python": python,
        "runtime": f"python{python}",
    }
    if kind == "function":
        entry["handler"] = f"{name}.handler.lambda_handler"
    return entry


def manifest_document(
    arch: str,
    python: str,
    function_budget: int,
    unzipped_limit: int,
    artifacts: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "arch": arch,
        "python": python,
        "runtime": f"python{python}",
        "budgets": {
            "function_zipped_bytes": function_budget,
            "lambda_unzipped_bytes": unzipped_limit,
        },
        "artifacts": artifacts,
    }


def check_budgets(
    artifacts: dict[str, dict[str, Any]], function_budget: int, unzipped_limit: int
) -> list[str]:
    problems = []
    layer_unzipped = artifacts.get(LAYER, {}).get("unzipped_size", 0)
    for name, entry in sorted(artifacts.items()):
        if entry["kind"] != "function":
            continue
        if entry["size"] > function_budget:
            problems.append(
                f"{name}: zipped {human(entry['size'])} exceeds the function budget of "
                f"{human(function_budget)} (third-party code belongs in the layer)"
            )
        total = entry["unzipped_size"] + layer_unzipped
        if total > unzipped_limit:
            problems.append(
                f"{name}: function + layer unzipped {human(total)} exceeds Lambda's "
                f"{human(unzipped_limit)} limit"
            )
    if not any(e["kind"] == "function" for e in artifacts.values()) and (
        layer_unzipped > unzipped_limit
    ):
        problems.append(
            f"layer: unzipped {human(layer_unzipped)} exceeds Lambda's "
            f"{human(unzipped_limit)} limit"
        )
    return problems


def size_report(artifacts: dict[str, dict[str, Any]]) -> str:
    rows = [("artifact", "zipped", "unzipped", "entries", "sha256")]
    for name, entry in sorted(artifacts.items(), key=lambda item: (item[0] != LAYER, item[0])):
        rows.append(
            (
                name,
                human(entry["size"]),
                human(entry["unzipped_size"]),
                str(entry["entries"]),
                entry["sha256"][:16],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )
