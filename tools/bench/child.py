"""One measurement in a fresh interpreter, run by tools.bench.functions (not imported by it).

    python -I -S tools/bench/child.py <spec.json>

The interpreter starts with no site-packages: sys.path is exactly what the spec names (the
unpacked function zip, the unpacked layer's python/ directory, and a directory standing in
for what the Lambda runtime provides, i.e. boto3). AWS calls never leave the process: a
botocore `before-send` hook answers them with canned responses. Prints one JSON line.

`"pause_collector": true` runs the floor or libraries measurement with the garbage collector
off, as the functions run their own init (orders_core.coldstart).
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
import time
import uuid

T_START = time.perf_counter()


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object):
        yield self._body


def _canned(request, **_: object):
    from botocore.awsrequest import AWSResponse

    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else target
    operation = target.rsplit(".", 1)[-1]
    body: dict = {}
    if operation == "SendMessage":
        sent = json.loads(request.body)
        body = {
            "MessageId": str(uuid.uuid4()),
            "MD5OfMessageBody": hashlib.md5(sent["MessageBody"].encode()).hexdigest(),  # noqa: S324
        }
        if sent.get("MessageAttributes"):
            body["MD5OfMessageAttributes"] = "0" * 32
    elif operation == "PutEvents":
        count = len(json.loads(request.body)["Entries"])
        body = {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}] * count}
    elif operation == "Query":
        body = {"Items": [], "Count": 0}
    elif operation == "GetItem":  # the only item a measured invocation reads: a customer's
        body = {"Item": {"email": {"S": "customer@example.com"}}}
    elif "outbound-emails" in request.url:
        body = {"MessageId": "m"}
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "r"}
    return AWSResponse(request.url, 200, headers, _Raw(json.dumps(body).encode()))


_CLIENT_ANSWERS = {
    "SendMessage": lambda _: {"MessageId": str(uuid.uuid4())},
    "PutEvents": lambda params: {
        "FailedEntryCount": 0,
        "Entries": [{"EventId": "e"}] * len(params["Entries"]),
    },
    "Query": lambda _: {"Items": [], "Count": 0},
    "GetItem": lambda _: {"Item": {"email": {"S": "customer@example.com"}}},
    "SendEmail": lambda _: {"MessageId": "m"},
}


def _stub_aws(level: str) -> None:
    """http: botocore builds, signs and parses every call, only the network is skipped.
    client: the client methods answer directly, leaving only our code and powertools."""
    import boto3

    if level == "http":
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION._session.register("before-send", _canned)
        return
    from botocore.client import BaseClient

    def answer(_client, operation_name, api_params):
        return _CLIENT_ANSWERS.get(operation_name, lambda _: {})(api_params)

    BaseClient._make_api_call = answer


class Context:
    function_name = "bench"
    function_version = "1"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def floor(clients: list[str]) -> dict:
    import boto3
    from botocore.config import Config

    imported = time.perf_counter()
    for service in clients:
        boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))
    done = time.perf_counter()
    return {"import_ms": (imported - T_START) * 1e3, "total_ms": (done - T_START) * 1e3}


def libraries(spec: dict) -> dict:
    """What the function's libraries cost without any of our code: import every module the
    function's own run loaded, in the order it loaded them, then create its clients."""
    import importlib

    own = tuple(spec["own_packages"])
    unimportable = []  # aliases such as six.moves entries exist only through their parents
    for name in spec["modules"]:
        if name.partition(".")[0] in own:
            continue
        try:
            importlib.import_module(name)
        except Exception:
            unimportable.append(name)
    imported = time.perf_counter()
    result = floor(spec["clients"])
    return {**result, "import_ms": (imported - T_START) * 1e3, "unimportable": unimportable}


def function(spec: dict) -> dict:
    import importlib

    already_loaded = set(sys.modules)
    module = importlib.import_module(spec["handler_module"])
    handler = module.lambda_handler
    imported = time.perf_counter()
    paused_for_init = not gc.isenabled()
    # The stub imports boto3 when the handler has not yet: that import is the function's own
    # cost (its first invoke would pay it), so the stub stays inside the measured span.
    _stub_aws(spec.get("stub", "http"))
    events = spec["events"]
    handler(_fresh(events[0]), Context())
    first = time.perf_counter()
    loaded = [name for name in sys.modules if name not in already_loaded]
    warm = []
    for index in range(spec["warm_invocations"]):
        event = _fresh(events[index % len(events)])
        started = time.perf_counter()
        handler(event, Context())
        warm.append((time.perf_counter() - started) * 1e3)
    return {
        "import_ms": (imported - T_START) * 1e3,
        "first_invoke_ms": (first - imported) * 1e3,
        "total_ms": (first - T_START) * 1e3,
        "warm_ms": warm,
        "modules": loaded,
        "collector_paused_for_init": paused_for_init,
    }


def _fresh(event: dict) -> dict:
    """Unique ids per invocation, as real traffic has (idempotency keys, message ids)."""
    text = json.dumps(event).replace("{{uuid}}", str(uuid.uuid4()))
    return json.loads(text)


def main() -> None:
    spec = json.loads(open(sys.argv[1]).read())  # noqa: SIM115
    if spec.get("pause_collector"):
        # As orders_core.coldstart pauses it for a function's init: the same conditions for
        # the libraries alone, or for a floor that is given the same advantage.
        gc.disable()
    sys.path[:0] = spec["path"]
    if spec.get("silence_output"):
        import io
        import os

        # Log lines cost the same in both runs of a comparison; keep them off the terminal.
        sys.stdout = io.TextIOWrapper(open(os.devnull, "wb"), write_through=True)  # noqa: SIM115
    if spec["kind"] == "floor":
        result = floor(spec["clients"])
    elif spec["kind"] == "libraries":
        result = libraries(spec)
    else:
        result = function(spec)
    result["collector_off_at_end"] = not gc.isenabled()
    sys.stdout = sys.__stdout__
    print(json.dumps(result))


if __name__ == "__main__":
    main()
