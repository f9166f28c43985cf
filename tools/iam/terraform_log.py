"""Terraform's AWS calls, read from its debug log (TF_LOG=debug, TF_LOG_PATH=...).

The AWS provider and the S3 backend log every request they send as an entry

    <time> [DEBUG] provider...: HTTP Request Sent: rpc.service=DynamoDB rpc.method=PutItem
      http.url=... http.method=POST aws.region=eu-west-1 http.request.header.authorization=
      "AWS4-HMAC-SHA256 Credential=<access key>/..." ...
      http.request.body=
      | <the body>

(the fields in any order). The operation is `rpc.method`; the parameters that name the
resource come from the body (JSON, or form fields of the query protocol) and from the URL,
matched against the operation's HTTP binding in botocore's model (REST services).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tools.iam.actions import service_for_id, service_model
from tools.iam.calls import Call

_ENTRY_START = re.compile(r"^\d{4}-\d\d-\d\dT\S+ \[[A-Z]+\] ", re.M)
_FIELD = re.compile(r'([A-Za-z0-9_.@]+)=("(?:[^"\\]|\\.)*"|\S*)')
_CREDENTIAL = re.compile(r"Credential=([^/]+)/")
_ATTEMPT = re.compile(r"attempt=(\d+)")


def _entries(text: str) -> Iterator[str]:
    starts = [m.start() for m in _ENTRY_START.finditer(text)] + [len(text)]
    for start, end in itertools.pairwise(starts):
        entry = text[start:end]
        if "HTTP Request Sent:" in entry:
            yield entry


def _split(entry: str) -> tuple[dict[str, str], str]:
    """The entry's fields, and its request body."""
    body_lines, field_lines = [], []
    in_body = False
    for line in entry.splitlines():
        stripped = line.strip()
        if stripped == "http.request.body=":
            in_body = True
            continue
        if in_body and line.startswith("  | "):
            body_lines.append(line[4:])
            continue
        in_body = False
        field_lines.append(line)
    fields = {}
    for key, value in _FIELD.findall(" ".join(field_lines)):
        if value.startswith('"'):
            value = json.loads(value) if "\\" in value else value[1:-1]
        fields[key] = value
    return fields, "\n".join(body_lines)


_STRING_FIELD = re.compile(r'"([A-Za-z]+)":"((?:[^"\\]|\\.)*)"')


def _salvage(truncated: str) -> dict[str, str]:
    """The string fields of a JSON body the log cut short ("[truncated...]"), first
    occurrence of each name: enough for the names that identify a resource, which the
    provider's bodies carry early (FunctionName, QueueName, TableName...)."""
    found: dict[str, str] = {}
    for key, value in _STRING_FIELD.findall(truncated):
        found.setdefault(key, value)
    return found


def _form_params(body: str) -> dict[str, Any]:
    """Query-protocol form fields, with `X.member.N` lists folded into `X`."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        name, _, rest = key.partition(".member.")
        if rest and rest.isdigit():
            params.setdefault(name, []).append(value)
        else:
            params[key] = value
    return params


def _member_names(service: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """A REST-JSON body's top-level keys by member name (the wire has `tags` for Tags)."""
    op = service_model(service).operation_model(operation)
    members = op.input_shape.members if op.input_shape else {}
    wire = {shape.serialization.get("name", name): name for name, shape in members.items()}
    return {wire.get(key, key): value for key, value in body.items()}


def _uri_params(service: str, operation: str, url: str) -> dict[str, Any]:
    """Parameters in the URL's path and query, by the operation's HTTP binding."""
    op = service_model(service).operation_model(operation)
    members = op.input_shape.members if op.input_shape else {}
    wire = {shape.serialization.get("name", name): name for name, shape in members.items()}
    template = op.http.get("requestUri", "/").split("?")[0]
    pattern = re.sub(
        r"\\\{([A-Za-z0-9]+)(\\\+)?\\\}",
        lambda m: f"(?P<{m[1]}>.+)" if m[2] else f"(?P<{m[1]}>[^/]+)",
        re.escape(template),
    )
    parts = urlsplit(url)
    params: dict[str, Any] = {}
    match = re.fullmatch(pattern.rstrip("/") + "/?", parts.path or "/")
    if match:
        params.update({wire.get(k, k): unquote(v) for k, v in match.groupdict().items()})
    for key, value in parse_qsl(parts.query):
        if key in wire:
            params[wire[key]] = value
    return params


def masked(access_key: str) -> str:
    """An access key id as the provider logs it: its first and last four characters."""
    return f"{access_key[:4]}{'*' * (len(access_key) - 8)}{access_key[-4:]}"


def parse(text: str, principal_for_key: dict[str, str], account: str, source: str) -> list[Call]:
    """The calls in a Terraform debug log made with the access keys of `principal_for_key`
    (access key id as logged, see `masked` -> role ARN); calls signed with any other key are
    left out."""
    calls = []
    for entry in _entries(text):
        fields, body = _split(entry)
        key = _CREDENTIAL.search(fields.get("http.request.header.authorization", ""))
        principal = principal_for_key.get(key[1]) if key else None
        if principal is None or "rpc.method" not in fields or "rpc.service" not in fields:
            continue
        attempt = _ATTEMPT.search(fields.get("http.request.header.amz_sdk_request", ""))
        if attempt and attempt[1] != "1":
            continue  # a retry: the same call again (its body is not logged twice)
        service = service_for_id(fields["rpc.service"])
        operation = fields["rpc.method"]
        params: dict[str, Any] = {}
        if body.startswith("{"):
            try:
                params.update(json.loads(body))
            except ValueError:  # the provider logs at most ~1 KB of a body
                params.update(_salvage(body))
        elif "=" in body and not body.startswith("<"):
            params.update(_form_params(body))
        protocol = service_model(service).protocol
        if protocol.startswith("rest"):
            params = _member_names(service, operation, params)
            params.update(_uri_params(service, operation, fields.get("http.url", "")))
        calls.append(
            Call(
                principal=principal,
                service=service,
                operation=operation,
                params=params,
                region=fields.get("aws.region") or fields.get("tf_aws.signing_region", ""),
                account=account,
                source=source,
            )
        )
    return calls


def access_keys(text: str) -> set[str]:
    """Every access key id the log's requests were signed with, as logged (masked)."""
    return {
        m[1]
        for entry in _entries(text)
        if (m := _CREDENTIAL.search(_split(entry)[0].get("http.request.header.authorization", "")))
    }


def parse_file(
    path: Path, principal_for_key: dict[str, str], account: str, source: str
) -> list[Call]:
    return parse(path.read_text(errors="replace"), principal_for_key, account, source)
