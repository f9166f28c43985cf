"""Fuzz the orders API from its OpenAPI document: schemathesis against a running stack.

    python -m tools.fuzz [--url URL] [--max-examples N] [--max-time S] [--seed N]
                         [--workers N] [--run-dir DIR]

Every operation of the committed docs/api/orders.openapi.json gets schemathesis's phases: the
document's examples, the edges of every constraint (coverage), property-based fuzzing with
valid and invalid data, and stateful sequences along the links it infers (POST /orders, then
GET the order it answered). Every check runs: no server error; status codes, content types,
bodies and headers as documented; invalid data refused, valid data accepted
(tools/fuzz/schemathesis.toml says what valid data the document cannot tell from invalid);
405 with Allow for the methods a path does not take.

The target is the local stack `make up` started, or --url, on loopback only (the fuzz sends
hostile input). Every request is signed in as one customer: the local stack's smoke-check
customer, or --customer with --token (`make token`) for --url. The document cannot say that a
body's or a path's customer id must be the signed-in one, so schemathesis.toml fixes both to
it; the answers for another customer's ids (403, 404) and for no token (401) are
tests/e2e/test_authentication.py's.

Bounded by --max-examples (per operation and phase) and --max-time, which schemathesis fills
by repeating the fuzzing and stateful phases. The seed is printed first: the same seed
against the same code generates the same cases.

Writes .local/fuzz/<UTC timestamp>/: failures.txt (every failure with the curl command that
reproduces it, its bearer token included), junit.xml and report.json (schemathesis's own);
the directory is readable by this user only, and the token good until it expires.

Exit 0 no failure, 1 failures found (or schemathesis could not run), 2 refused (no stack, a
target off this machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = REPO_ROOT / "docs" / "api" / "orders.openapi.json"
CONFIG = Path(__file__).with_name("schemathesis.toml")
RUNS_DIR = REPO_ROOT / ".local" / "fuzz"

EXIT_CLEAN, EXIT_FAILURES, EXIT_REFUSED = 0, 1, 2


class FuzzRefused(RuntimeError):
    """Nothing to fuzz, or a target this tool must not send hostile input to."""


@dataclass(frozen=True)
class SignedIn:
    """Who the fuzz's requests are from: a customer id and its access token."""

    customer_id: str
    access_token: str

    def environment(self) -> dict[str, str]:
        """What schemathesis.toml reads (its ${...} placeholders)."""
        return {"FUZZ_CUSTOMER_ID": self.customer_id, "FUZZ_ACCESS_TOKEN": self.access_token}


@dataclass(frozen=True)
class Failure:
    operation: str  # "POST /orders", or "Stateful tests"
    report: str  # schemathesis's account of it, with the curl command that reproduces it


@dataclass(frozen=True)
class FuzzRun:
    exit_code: int
    seed: int
    run_dir: Path
    failures: list[Failure]
    test_cases: int
    summary: str

    @property
    def failures_file(self) -> Path:
        return self.run_dir / "failures.txt"


def command(
    url: str, run_dir: Path, seed: int, max_examples: int, max_time: float | None, workers: int
) -> list[str]:
    """The `st run` command line of one fuzz run."""
    cmd = [
        str(Path(sys.executable).with_name("st")),
        "--config-file", str(CONFIG),
        "run", str(DOCUMENT),
        "--url", url,
        "--checks", "all",
        "--max-examples", str(max_examples),
        "--seed", str(seed),
        "--workers", str(workers),
        "--request-timeout", "15",
        "--report", "junit,json",
        "--report-junit-path", str(run_dir / "junit.xml"),
        "--report-json-path", str(run_dir / "report.json"),
        # A reproducing curl needs the Idempotency-Key and the token (the run dir is 0700).
        "--output-sanitize", "false",
        "--no-color",
    ]  # fmt: skip
    if max_time:
        cmd += ["--max-time", f"{max_time:g}"]
    return cmd


def read_failures(junit: Path) -> list[Failure]:
    """Every failure of a run, from schemathesis's JUnit report (each carries its curl)."""
    if not junit.is_file():
        return []
    failures = []
    # schemathesis's own report of this run, not input from elsewhere
    for case in ElementTree.parse(junit).getroot().iter("testcase"):  # noqa: S314
        for element in [*case.findall("failure"), *case.findall("error")]:
            failures.append(Failure(case.get("name", "?"), (element.text or "").strip()))
    return failures


def write_failures(path: Path, failures: Sequence[Failure], seed: int) -> None:
    lines = [f"{len(failures)} failure(s); schemathesis seed {seed}", ""]
    for failure in failures:
        lines += [f"=== {failure.operation}", failure.report, ""]
    path.write_text("\n".join(lines))


def run(
    url: str,
    run_dir: Path,
    caller: SignedIn,
    seed: int | None = None,
    max_examples: int = 100,
    max_time: float | None = None,
    workers: int = 2,
    timeout_s: float | None = None,
    echo: bool = True,
) -> FuzzRun:
    """One schemathesis run against `url`; its output is echoed and kept in fuzz.log."""
    from tools.loadtest.target import is_loopback

    if not is_loopback(url):
        raise FuzzRefused(f"the fuzz targets loopback only (127.0.0.1/localhost): {url}")
    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o700)  # its reports carry the caller's bearer token
    print(f"==> fuzz: seed {seed}, {url}, run dir {run_dir}", flush=True)
    cmd = command(url, run_dir, seed, max_examples, max_time, workers)
    limit = timeout_s or (max_time or 0) + 600
    with (run_dir / "fuzz.log").open("w") as log:
        # cwd: schemathesis keeps its replay database (`st replay <id>`) beside the reports.
        proc = subprocess.Popen(
            cmd,
            cwd=run_dir,
            env={**os.environ, **caller.environment()},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                log.write(line)
                if echo:
                    sys.stdout.write(line)
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    failures = read_failures(run_dir / "junit.xml")
    write_failures(run_dir / "failures.txt", failures, seed)
    report = _json(run_dir / "report.json")
    generated = int((report.get("test_cases") or {}).get("generated") or 0)
    errors = report.get("errors") or []
    summary = (
        f"{generated} test cases, {len(failures)} failure(s)"
        + "".join(f", error: {e['title']} x{e['count']}" for e in errors)
        + f", schemathesis exit {code}"
    )
    exit_code = EXIT_CLEAN if code == 0 and not failures and generated else EXIT_FAILURES
    return FuzzRun(exit_code, seed, run_dir, failures, generated, summary)


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def local_api() -> tuple[str, SignedIn]:
    """The API of the stack `make up` started (EMULATOR_PORT, EMULATOR_STATE_DIR), and its
    smoke-check customer signed in."""
    from tools.local.stack import SMOKE_CUSTOMER, StackError, running_stack

    try:
        stack = running_stack()
    except StackError as error:
        raise FuzzRefused(str(error)) from None
    try:
        outputs = stack.outputs()
        token = stack.sign_in(outputs, SMOKE_CUSTOMER)
    except (StackError, KeyError) as error:
        raise FuzzRefused(f"the local stack is not fully up ({error}); run `make up`") from None
    return stack.api_url(outputs), SignedIn(SMOKE_CUSTOMER, token)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", help="the API's base URL (default: the `make up` stack's)")
    parser.add_argument("--customer", help="with --url: the customer id the token is of")
    parser.add_argument("--token", help="with --url: that customer's access token (make token)")
    parser.add_argument(
        "--max-examples", type=int, default=100, help="cases per operation and phase (100)"
    )
    parser.add_argument(
        "--max-time", type=float, default=120.0, help="seconds to fill with fuzzing (120; 0: none)"
    )
    parser.add_argument("--seed", type=int, help="replay a run (default: a random one)")
    parser.add_argument("--workers", type=int, default=2, help="concurrent requests (2)")
    parser.add_argument("--run-dir", type=Path, help="default: .local/fuzz/<timestamp>")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        if args.url:
            if not (args.customer and args.token):
                raise FuzzRefused(
                    "--url needs --customer and --token (make -s token ENV=<env> USER=<id>)"
                )
            url, caller = args.url, SignedIn(args.customer, args.token)
        else:
            url, caller = local_api()
        result = run(
            url.rstrip("/"),
            (args.run_dir or RUNS_DIR / started).resolve(),
            caller,
            seed=args.seed,
            max_examples=args.max_examples,
            max_time=args.max_time or None,
            workers=args.workers,
        )
    except FuzzRefused as error:
        print(f"fuzz: {error}", file=sys.stderr)
        return EXIT_REFUSED
    print()
    print(f"fuzz: {result.summary}")
    if result.failures:
        print(f"fuzz: failures, each with a curl that reproduces it: {result.failures_file}")
    print(f"fuzz: replay this run with --seed {result.seed}")
    return result.exit_code
