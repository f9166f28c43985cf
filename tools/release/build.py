"""Build the Lambda artifacts: one zip per service and one layer, deterministic and incremental.

    python -m tools.release.build [--arch arm64|x86_64] [--python 3.12] [--out dist] [--frozen]

What it makes, in <out>/<arch>/ (arm64 for AWS, x86_64 for the local emulator, which runs the
handlers on this machine's CPU):

    <name>-<sha256[:16]>.zip   one per services/<name>/handler.py: the package directory
                               <name>/ at the zip root (handler "<name>.handler.lambda_handler")
    layer-<sha256[:16]>.zip    python/<package>/ for every package in shared/, plus the
                               third-party runtime dependencies under python/
    manifest.json              per artifact: path (relative to the manifest), sha256 (hex),
                               base64_sha256 (= Lambda's CodeSha256 = Terraform's
                               source_code_hash), sizes, input digest and inputs

The manifest is per architecture (dist/arm64/manifest.json is what `make publish` uploads;
dist/x86_64/manifest.json is what the local environment deploys), so both builds live side
by side and neither overwrites the other's paths. An environment root reads it as:

    locals {
      dist     = "${path.module}/../../../dist/x86_64"   # relative: same plan in any checkout
      manifest = jsondecode(file("${local.dist}/manifest.json"))
      artifacts = {
        for name, a in local.manifest.artifacts : name => {
          filename         = "${local.dist}/${a.path}"
          source_code_hash = a.base64_sha256
        }
      }
    }

The steps, one module each in tools/release/:
- lock.py: the third-party dependencies, resolved for the Lambda target by `uv pip compile`
  into tools/release/locks/layer-cp<py>-<arch>.txt (versions and hashes), without what the
  Lambda runtime provides (boto3 & co, target.py). A lock whose dependency digest no longer
  matches pyproject.toml is re-resolved, or with --frozen the build fails.
- install.py: pip installs exactly the lock, for the target platform, with hashes; cached.
- sources.py: what goes into each artifact, and the input digest that decides whether it is
  rebuilt: an artifact whose digest matches the manifest and whose file still hashes to the
  recorded sha256 is not rebuilt; a build with nothing to do writes nothing.
- bytecode.py: unchecked-hash .pyc compiled by a target-version interpreter, shipped with the
  sources (Lambda cannot cache what it compiles).
- zips.py: deterministic zips (sorted entries, fixed timestamps and modes).
- manifest.py: the manifest, and the budgets (exit status 3 with a message, manifest not
  updated): a function zip may be at most 5 MiB zipped, and every function plus the layer
  must stay within Lambda's 250 MB unzipped limit.
This module runs them in order and is the command line.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.release.bytecode import bytecode_entries
from tools.release.errors import BudgetError, BuildError
from tools.release.files import atomic_write_bytes
from tools.release.install import installed_dependencies
from tools.release.lock import ensure_lock
from tools.release.manifest import (
    FUNCTION_BUDGET_BYTES,
    LAMBDA_UNZIPPED_LIMIT_BYTES,
    artifact_entry,
    check_budgets,
    human,
    load_manifest,
    manifest_document,
    render_manifest,
    size_report,
    up_to_date,
)
from tools.release.sources import (
    add_dependencies,
    discover_services,
    function_artifact,
    layer_artifact,
)
from tools.release.target import ARCHES, LAYER, PYTHONS
from tools.release.zips import write_zip

REPO_ROOT = Path(__file__).resolve().parents[2]

__all__ = [
    "FUNCTION_BUDGET_BYTES",
    "LAMBDA_UNZIPPED_LIMIT_BYTES",
    "LAYER",
    "REPO_ROOT",
    "BudgetError",
    "BuildError",
    "BuildResult",
    "build",
    "discover_services",
    "human",
    "main",
]


@dataclass
class BuildResult:
    manifest_path: Path
    manifest: dict[str, Any]
    built: list[str]
    skipped: list[str]


def build(
    root: Path,
    out: Path,
    arch: str,
    python: str,
    *,
    frozen: bool = False,
    cache_dir: Path | None = None,
    function_budget: int = FUNCTION_BUDGET_BYTES,
    unzipped_limit: int = LAMBDA_UNZIPPED_LIMIT_BYTES,
) -> BuildResult:
    if arch not in ARCHES:
        raise BuildError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHES)}")
    if python not in PYTHONS:
        raise BuildError(f"unsupported python {python!r}; choose one of {', '.join(PYTHONS)}")
    arch_dir = out / arch
    cache_dir = cache_dir or out / ".cache"
    manifest_path = arch_dir / "manifest.json"
    previous = load_manifest(manifest_path).get("artifacts", {})

    lock_file, lock_text = ensure_lock(root, arch, python, frozen)
    services = discover_services(root)
    if LAYER in services:
        raise BuildError(f"services/{LAYER} would clash with the layer artifact; rename it")
    plan = [layer_artifact(root, lock_file, lock_text)]
    plan += [function_artifact(root, name) for name in services]

    entries: dict[str, dict[str, Any]] = {}
    built, skipped = [], []
    for index, artifact in enumerate(plan, start=1):
        prefix = f"[{index}/{len(plan)}]"
        digest = artifact.input_digest(arch, python)
        old = previous.get(artifact.name)
        if up_to_date(old, arch_dir, digest):
            entries[artifact.name] = old
            skipped.append(artifact.name)
            print(
                f"{prefix} {artifact.name} up to date ({human(old['size'])}, "
                f"sha256 {old['sha256'][:12]}…)",
                flush=True,
            )
            continue
        print(f"{prefix} building {artifact.name} ...", end=" ", flush=True)
        started = time.perf_counter()
        note = ""
        if artifact.kind == "layer":
            deps_dir, cached = installed_dependencies(lock_text, arch, python, cache_dir)
            if deps_dir is not None:
                add_dependencies(artifact, deps_dir)
                note = " deps from cache," if cached else " deps installed,"
        bytecode = bytecode_entries(artifact.sources, artifact.kind, python, cache_dir)
        result = write_zip({**artifact.sources, **bytecode}, arch_dir, artifact.name)
        entries[artifact.name] = artifact_entry(
            artifact.name, artifact.kind, result, digest, artifact.inputs, arch, python
        )
        built.append(artifact.name)
        print(
            f"{human(result.size)} (sha256 {result.sha256[:12]}…,{note} "
            f"{time.perf_counter() - started:.1f}s)",
            flush=True,
        )

    problems = check_budgets(entries, function_budget, unzipped_limit)
    print(size_report(entries))
    if problems:
        raise BudgetError("size budget exceeded:\n  " + "\n  ".join(problems))

    manifest = manifest_document(arch, python, function_budget, unzipped_limit, entries)
    atomic_write_bytes(manifest_path, render_manifest(manifest))
    keep = {entry["path"] for entry in entries.values()}
    for stale in arch_dir.glob("*.zip"):
        if stale.name not in keep:
            stale.unlink()
    return BuildResult(manifest_path, manifest, built, skipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", choices=sorted(ARCHES), default="arm64")
    parser.add_argument("--python", choices=PYTHONS, default="3.12")
    parser.add_argument("--out", type=Path, default=Path("dist"))
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root")
    parser.add_argument("--cache-dir", type=Path, help="pip install cache (default <out>/.cache)")
    parser.add_argument(
        "--frozen", action="store_true", help="fail instead of re-resolving a stale lock file"
    )
    parser.add_argument("--function-budget", type=int, default=FUNCTION_BUDGET_BYTES)
    parser.add_argument("--unzipped-limit", type=int, default=LAMBDA_UNZIPPED_LIMIT_BYTES)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        result = build(
            args.root.resolve(),
            args.out,
            args.arch,
            args.python,
            frozen=args.frozen,
            cache_dir=args.cache_dir,
            function_budget=args.function_budget,
            unzipped_limit=args.unzipped_limit,
        )
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 3 if isinstance(error, BudgetError) else 2
    verb = f"built {', '.join(result.built)}" if result.built else "nothing to do"
    print(f"{verb}; {result.manifest_path} ({time.perf_counter() - started:.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
