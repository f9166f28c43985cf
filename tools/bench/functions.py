"""Benchmark the functions as deployed: cold init against its floor, and warm overhead.

    python -m tools.bench.functions [--runs 5] [--warm 2000]

For each function, from the x86_64 build (this machine's CPU) unpacked as Lambda unpacks it
(function zip + layer on the path, boto3 standing in for the runtime's own), in fresh
interpreters with no site-packages and AWS answered in-process by canned responses:

  init   import the handler module + serve a first invocation (clients are created then);
         once with tracing off (the local emulator) and once on (as deployed to AWS, where
         the X-Ray SDK and its botocore patch load)
  floor  a fresh interpreter that only imports boto3 and creates the clients the function
         uses: what no Python function calling those services can go below
  libs   a fresh interpreter that imports every library module the function loaded (in its
         order, none of our code) and creates its clients: what the libraries alone cost,
         with the garbage collector paused when the function's init paused it
         (orders_core.coldstart), so that init - libs is what our own code costs
  floor, collector paused
         the floor given the same pause: how much of the distance to the floor the pause
         itself closes
  warm   per-invocation time of the handler after the first call, p50/p99 over --warm calls

Medians of --runs fresh processes, interleaved so that machine noise hits all columns alike.
Target: init <= 1.35 x floor; warm p99 <= 2 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tools.local import ministack
from tools.release import build

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = REPO_ROOT / ".local" / "bench"
RUNTIME_DIR = BENCH_DIR / f"runtime-boto3-{ministack.BOTO3_VERSION}"
CHILD = Path(__file__).with_name("bench_child.py")
HTTP_SAMPLE = REPO_ROOT / "tests" / "events" / "apigw_http_v2.json"
INIT_TARGET = 1.35
OWN_PACKAGES = ("orders_core",)  # the layer's own code; each function adds its own package
WARM_P99_TARGET_MS = 2.0


@dataclass(frozen=True)
class Function:
    name: str
    clients: tuple[str, ...]
    first_request: str


def _api_event() -> dict:
    event = json.loads(HTTP_SAMPLE.read_text())
    body = {
        "customer_id": "c-1",
        "currency": "EUR",
        "items": [{"sku": "SKU-1", "quantity": 2, "unit_price": "9.99"}],
    }
    event.update(
        rawPath="/orders",
        rawQueryString="",
        queryStringParameters=None,
        pathParameters=None,
        cookies=[],
        headers={"content-type": "application/json", "idempotency-key": "{{uuid}}"},
        body=json.dumps(body),
    )
    event["requestContext"]["http"].update(method="POST", path="/orders")
    event["requestContext"]["requestId"] = "{{uuid}}"
    # What the JWT authorizer passes on for customer c-1's access token: the order is placed.
    event["requestContext"]["authorizer"] = {
        "jwt": {
            "claims": {"username": "c-1", "token_use": "access"},
            "scopes": ["aws.cognito.signin.user.admin"],
        }
    }
    return event


def _sqs_event(body: dict) -> dict:
    return {
        "Records": [
            {
                "messageId": "{{uuid}}",
                "receiptHandle": "handle",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders",
                "awsRegion": "eu-west-1",
            }
        ]
    }


def _events(name: str) -> list[dict]:
    item = {"sku": "SKU-1", "quantity": 1, "unit_price": "9.99"}
    if name == "orders_api":
        return [_api_event()]
    if name == "order_processor":
        accepted = {
            "order_id": "{{uuid}}",
            "customer_id": "c-1",
            "currency": "EUR",
            "items": [item],
            "status": "PENDING",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
        return [_sqs_event(accepted)]
    detail = {
        "event_type": "OrderConfirmed",
        "order_id": "{{uuid}}",
        "customer_id": "c-1",
        "status": "CONFIRMED",
        "reason": None,
        "total": "9.99",
        "currency": "EUR",
        "occurred_at": "2026-01-01T00:00:00Z",
    }
    envelope = {
        "version": "0",
        "id": "{{uuid}}",
        "detail-type": "OrderConfirmed",
        "source": "orders",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }
    return [_sqs_event(envelope)]


FUNCTIONS = (
    Function("orders_api", ("dynamodb", "sqs"), "POST /orders with an Idempotency-Key"),
    Function("order_processor", ("dynamodb", "events"), "a batch of 1 order"),
    Function("notifier", ("dynamodb", "sesv2"), "a batch of 1 event"),
)


def _runtime() -> Path:
    if not (RUNTIME_DIR / ".complete").exists():
        print(
            f"installing boto3=={ministack.BOTO3_VERSION} as the runtime stand-in ...", flush=True
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--target",
                str(RUNTIME_DIR),
                f"boto3=={ministack.BOTO3_VERSION}",
            ],
            check=True,
        )
        (RUNTIME_DIR / ".complete").touch()
    return RUNTIME_DIR


def _unpacked(manifest_dir: Path, entry: dict) -> Path:
    target = BENCH_DIR / "unpacked" / entry["sha256"][:16]
    if not (target / ".complete").exists():
        with zipfile.ZipFile(manifest_dir / entry["path"]) as archive:
            archive.extractall(target)
        (target / ".complete").touch()
    return target


def _child(spec: dict, env: dict[str, str]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    try:
        proc = subprocess.run(
            # -B: Lambda's code and layer directories are read-only, so no bytecode is cached
            # between cold starts; every module the build ships as source is compiled each time.
            [sys.executable, "-I", "-S", "-B", str(CHILD), handle.name],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            cwd=BENCH_DIR,
        )
    finally:
        os.unlink(handle.name)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _env(name: str, tracing: bool) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": f"bench-{name}",
        "LAMBDA_TASK_ROOT": str(BENCH_DIR),  # the X-Ray SDK behaves as inside Lambda
        "ENVIRONMENT": "bench",
        "TABLE_NAME": "orders",
        "ORDERS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
        "EVENT_BUS_NAME": "orders",
        "NOTIFICATION_SENDER": "orders@example.com",
        "POWERTOOLS_SERVICE_NAME": name,
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
        # Without a daemon the X-Ray emitter's UDP packets go to loopback and are dropped.
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warm", type=int, default=2000)
    args = parser.parse_args(argv)

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    result = build.build(REPO_ROOT, REPO_ROOT / "dist", "x86_64", "3.12")
    manifest_dir = result.manifest_path.parent
    artifacts = result.manifest["artifacts"]
    layer = _unpacked(manifest_dir, artifacts[build.LAYER]) / "python"
    runtime = _runtime()

    rows = []
    for fn in FUNCTIONS:
        code = _unpacked(manifest_dir, artifacts[fn.name])
        path = [str(code), str(layer), str(runtime)]
        base = {"path": path, "silence_output": True}
        function_spec = {
            **base,
            "kind": "function",
            "handler_module": f"{fn.name}.handler",
            "events": _events(fn.name),
            "warm_invocations": 0,
        }
        samples: dict[str, list[float]] = {
            "floor": [],
            "floor_paused": [],
            "libraries": [],
            "off": [],
            "on": [],
        }
        floor_spec = {**base, "kind": "floor", "clients": list(fn.clients)}
        libraries_spec: dict = {}
        for run in range(args.runs):
            print(f"  {fn.name}: run {run + 1}/{args.runs}", flush=True)
            samples["floor"].append(_child(floor_spec, _env(fn.name, False))["total_ms"])
            samples["floor_paused"].append(
                _child({**floor_spec, "pause_collector": True}, _env(fn.name, False))["total_ms"]
            )
            untraced = _child(function_spec, _env(fn.name, False))
            samples["off"].append(untraced["total_ms"])
            libraries_spec = libraries_spec or {
                **base,
                "kind": "libraries",
                "pause_collector": untraced["collector_paused_for_init"],
                "clients": list(fn.clients),
                "modules": untraced["modules"],
                "own_packages": [fn.name, *OWN_PACKAGES],
            }
            samples["libraries"].append(_child(libraries_spec, _env(fn.name, False))["total_ms"])
            samples["on"].append(_child(function_spec, _env(fn.name, True))["total_ms"])
        warm, warm_sdk = (
            _child(
                {**function_spec, "warm_invocations": args.warm, "stub": level},
                _env(fn.name, False),
            )["warm_ms"]
            for level in ("client", "http")
        )
        floor_ms = statistics.median(samples["floor"])
        rows.append(
            {
                "function": fn.name,
                "first_request": fn.first_request,
                "clients": list(fn.clients),
                "floor_ms": floor_ms,
                "floor_paused_ms": statistics.median(samples["floor_paused"]),
                "libraries_ms": statistics.median(samples["libraries"]),
                "init_ms": statistics.median(samples["off"]),
                "init_traced_ms": statistics.median(samples["on"]),
                "warm_p50_ms": percentile(warm, 0.50),
                "warm_p99_ms": percentile(warm, 0.99),
                "warm_sdk_p50_ms": percentile(warm_sdk, 0.50),
                "warm_sdk_p99_ms": percentile(warm_sdk, 0.99),
            }
        )
    print(f"Cold init (ms, median of {args.runs} fresh processes each)")
    print(
        f"{'function':<16} {'floor':>6} {'libs':>6} {'ratio':>6} {'init':>6} {'ratio':>6}"
        f" {'ours':>6} {'traced':>7} {'ratio':>6}"
    )
    for row in rows:
        floor_ms = row["floor_ms"]
        print(
            f"{row['function']:<16} {floor_ms:6.0f} {row['libraries_ms']:6.0f}"
            f" {row['libraries_ms'] / floor_ms:5.2f}x {row['init_ms']:6.0f}"
            f" {row['init_ms'] / floor_ms:5.2f}x {row['init_ms'] - row['libraries_ms']:6.0f}"
            f" {row['init_traced_ms']:7.0f} {row['init_traced_ms'] / floor_ms:5.2f}x"
        )
    print("\nAgainst a floor that pauses the garbage collector too (ms)")
    print(f"{'function':<16} {'floor':>6} {'init':>6} {'ratio':>6} {'traced':>7} {'ratio':>6}")
    for row in rows:
        floor_ms = row["floor_paused_ms"]
        print(
            f"{row['function']:<16} {floor_ms:6.0f} {row['init_ms']:6.0f}"
            f" {row['init_ms'] / floor_ms:5.2f}x {row['init_traced_ms']:7.0f}"
            f" {row['init_traced_ms'] / floor_ms:5.2f}x"
        )
    print(f"\nWarm overhead per invocation (ms, over {args.warm} calls)")
    print(f"{'function':<16} {'p50':>6} {'p99':>6} {'+SDK p50':>9} {'+SDK p99':>9}")
    for row in rows:
        print(
            f"{row['function']:<16} {row['warm_p50_ms']:6.2f} {row['warm_p99_ms']:6.2f}"
            f" {row['warm_sdk_p50_ms']:9.2f} {row['warm_sdk_p99_ms']:9.2f}"
        )
    print(
        f"\ntargets: init <= {INIT_TARGET}x floor, warm p99 <= {WARM_P99_TARGET_MS} ms.\n"
        "floor: boto3 + the function's clients. libs: every library module the function loads\n"
        "(boto3, powertools, pydantic...) + its clients, none of our code, with the collector\n"
        "paused as the functions pause it for init. ours: init - libs.\n"
        "traced: tracing on, as deployed to AWS. warm: AWS answered at the client method (our\n"
        "code + powertools). +SDK: answered at the HTTP layer (botocore serializes, signs and\n"
        "parses every call, as it does in Lambda)."
    )
    out = BENCH_DIR / "functions.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"figures: {out.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
