"""Benchmark tools.release.build: clean build, no-op rebuild, one-service and shared/ changes,
sizes.

    python -m tools.bench.build [--arch arm64|x86_64] [--python 3.12]

Works on a temporary copy of pyproject.toml, tools/release/locks/, shared/ and services/ (so the
checkout is never touched) with a temporary, empty output and dependency cache. Each build
is a fresh `python -m tools.release.build` process, as `make build` runs it. The clean build
includes the pip install of the layer's locked dependencies (pip's own download cache may
be warm).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.release.build import REPO_ROOT, human


def copy_sources(destination: Path) -> Path:
    destination.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "pyproject.toml", destination / "pyproject.toml")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("shared", "services", "tools/release/locks"):
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, destination / name, ignore=ignore)
    return destination


def timed_build(root: Path, out: Path, arch: str, python: str) -> tuple[float, str]:
    command = [sys.executable, "-m", "tools.release.build", "--root", str(root), "--out", str(out)]
    command += ["--arch", arch, "--python", python]
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"build failed:\n{proc.stdout}{proc.stderr}")
    return elapsed, proc.stdout


def rebuilt(stdout: str) -> str:
    names = [line.split()[2] for line in stdout.splitlines() if "] building " in line]
    return ", ".join(names) or "nothing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", choices=("arm64", "x86_64"), default="arm64")
    parser.add_argument("--python", default="3.12")
    args = parser.parse_args(argv)
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as work:
        root = copy_sources(Path(work) / "repo")
        out = Path(work) / "dist"
        seconds, stdout = timed_build(root, out, args.arch, args.python)
        rows.append(("clean build", seconds, rebuilt(stdout)))
        seconds, stdout = timed_build(root, out, args.arch, args.python)
        rows.append(("no-op rebuild", seconds, rebuilt(stdout)))
        handlers = sorted((root / "services").glob("*/handler.py"))
        if not handlers:  # nothing to time a function build on yet: a generated one
            probe_service = root / "services" / "zz_bench_service"
            probe_service.mkdir(parents=True)
            (probe_service / "__init__.py").write_text("")
            (probe_service / "handler.py").write_text(
                "def lambda_handler(event, context):\n    return event\n"
            )
            seconds, stdout = timed_build(root, out, args.arch, args.python)
            rows.append(("add generated service", seconds, rebuilt(stdout)))
            handlers = [probe_service / "handler.py"]
        if handlers:
            with handlers[0].open("a") as handle:
                handle.write("\n# bench: one-service change\n")
            seconds, stdout = timed_build(root, out, args.arch, args.python)
            rows.append(("one-service change", seconds, rebuilt(stdout)))
        probe = root / "shared" / "zz_bench_probe" / "__init__.py"
        probe.parent.mkdir(parents=True)
        probe.write_text("# bench: shared change\n")
        seconds, stdout = timed_build(root, out, args.arch, args.python)
        rows.append(("shared/ change", seconds, rebuilt(stdout) + " (deps from cache)"))
        manifest = json.loads((out / args.arch / "manifest.json").read_text())

    print(f"tools.release.build benchmark: {args.arch}, python{args.python}")
    for label, seconds, what in rows:
        print(f"  {label:<22} {seconds:6.2f} s   rebuilt: {what}")
    print("  artifact sizes (after the shared/ change):")
    for name, entry in sorted(manifest["artifacts"].items()):
        print(
            f"    {name:<18} {human(entry['size']):>10} zipped  "
            f"{human(entry['unzipped_size']):>10} unzipped  {entry['entries']:>5} entries"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
