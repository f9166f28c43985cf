"""Judge recorded calls against the policies as deployed, in both directions.

    python -m tools.iam.check [DIR]      (make iam-check; DIR defaults to .local/iam/latest)

DIR holds what a test session recorded: `calls/*.jsonl` (tools/iam/calls.py) and
`deployed/*.json` (tools/iam/deployed.py). For every role it prints the calls seen, how
many were allowed, denied or not judged, and every grant of its policies that no recorded call
used. Exit status 1 when any call is not allowed, 2 when there is nothing to judge.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.iam import deployed
from tools.iam.actions import Requirement, requirements
from tools.iam.calls import Call, read_calls
from tools.iam.policy import (
    Decision,
    Request,
    Statement,
    Verdict,
    evaluate,
    parse_policy,
    wildcard_match,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO_ROOT / ".local" / "iam" / "latest"  # the last test session's record
# Every AWS SDK call is made over TLS; the policies' aws:SecureTransport conditions see "true".
KNOWN_CONTEXT = {"aws:SecureTransport": ("true",)}

# What the Lambda service does with a function's role, by the function's configuration: these
# calls are AWS's, never the function code's, so no recorder sees them.
# https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
LAMBDA_SERVICE = "the Lambda service, by the deployed configuration"


@dataclass
class Judged:
    call: Call
    role: str
    verdicts: list[Verdict]
    unresolved: list[Requirement] = field(default_factory=list)

    @property
    def decision(self) -> Decision:
        if any(v.decision in (Decision.DENIED, Decision.NOT_ALLOWED) for v in self.verdicts):
            return Decision.NOT_ALLOWED
        if self.unresolved or any(v.decision is Decision.NOT_JUDGED for v in self.verdicts):
            return Decision.NOT_JUDGED
        return Decision.ALLOWED


@dataclass
class RoleReport:
    role: str
    deployment: str
    judged: list[Judged] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    def count(self, decision: Decision) -> int:
        return sum(1 for j in self.judged if j.decision is decision)


@dataclass
class Deployment:
    name: str
    account: str
    region: str
    roles: dict[str, list[Statement]]
    functions: dict[str, dict[str, Any]]
    resource_policies: dict[str, tuple[str, list[Statement]]]

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> Deployment:
        return cls(
            name=snapshot["name"],
            account=snapshot["account"],
            region=snapshot["region"],
            roles={
                role: [s for p in policies for s in parse_policy(p["document"], p["name"])]
                for role, policies in snapshot["roles"].items()
            },
            functions=dict(snapshot["functions"]),
            resource_policies={
                arn: (
                    entry["kind"],
                    parse_policy(entry["document"], f"{entry['kind']} policy {arn}"),
                )
                for arn, entry in snapshot["resource_policies"].items()
            },
        )

    def function_for(self, call: Call) -> tuple[str, dict[str, Any]] | None:
        kind, _, name = call.principal.partition(":")
        for function, info in self.functions.items():
            if kind == "function-name" and function == name:
                return function, info
            if kind == "function" and info["environment"].get("POWERTOOLS_SERVICE_NAME") == name:
                return function, info
        return None

    def resource_policy(self, resource: str) -> tuple[str, list[Statement]]:
        if resource in self.resource_policies:
            return self.resource_policies[resource]
        if resource.startswith("arn:aws:s3:::"):  # a bucket's policy covers its objects
            bucket = resource.split("/", 1)[0]
            return self.resource_policies.get(bucket, ("s3", []))
        return ("", [])


def _substitute(value: Any, replacements: Mapping[str, str]) -> Any:
    """`value` with each test resource name replaced by the deployment's name for it."""
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, Mapping):
        return {
            _substitute(k, replacements): _substitute(v, replacements) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute(v, replacements) for v in value]
    return value


def as_deployed(call: Call, deployment: Deployment) -> tuple[str, Call] | None:
    """(role, the call as it is made in this deployment), or None when it is not this
    deployment's: a function's call moves onto the deployment's resources by its settings."""
    if call.principal in deployment.roles:
        return call.principal, call
    found = deployment.function_for(call)
    if found is None:
        return None
    function, info = found
    # The Lambda runtime sets the function's name; its configuration does not list it.
    environment = {**info["environment"], "AWS_LAMBDA_FUNCTION_NAME": function}
    # Longest first, so that a queue URL is replaced before the table name inside it would be.
    replacements = {
        old: environment[name]
        for name, old in sorted(call.settings.items(), key=lambda kv: -len(kv[1]))
        if name in environment and old and old != environment[name]
    }
    moved = Call(
        principal=info["role"],
        service=call.service,
        operation=call.operation,
        params=_substitute(dict(call.params), replacements),
        region=deployment.region,
        account=deployment.account,
        source=call.source,
        settings={},
    )
    return info["role"], moved


def lambda_service_calls(deployment: Deployment) -> list[Call]:
    """What the Lambda service does with each function's role (see LAMBDA_SERVICE)."""
    made = []
    for function, info in deployment.functions.items():
        source = f"{LAMBDA_SERVICE} ({function})"
        stream = {"logGroupName": info["log_group"], "logStreamName": "2026/01/01/[$LATEST]0"}
        wanted = [("logs", "CreateLogStream", stream), ("logs", "PutLogEvents", stream)]
        for queue in info["sqs_sources"]:
            _, _, _, region, account, name = queue.split(":")
            url = {"QueueUrl": f"https://sqs.{region}.amazonaws.com/{account}/{name}"}
            wanted += [
                ("sqs", op, url) for op in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
            ]
        if info["tracing"] == "Active":
            wanted += [("xray", "PutTraceSegments", {}), ("xray", "PutTelemetryRecords", {})]
        made += [
            Call(
                info["role"],
                service,
                operation,
                params,
                deployment.region,
                deployment.account,
                source,
            )
            for service, operation, params in wanted
        ]
    return made


def judge(call: Call, role: str, deployment: Deployment) -> Judged:
    identity = deployment.roles[role]
    judged = Judged(call, role, [])
    for needed in requirements(call):
        if needed.unresolved:
            judged.unresolved.append(needed)
            continue
        kind, resource_statements = deployment.resource_policy(needed.resource)
        request = Request(role, needed.action, needed.resource, {**KNOWN_CONTEXT, **needed.context})
        judged.verdicts.append(
            evaluate(
                request,
                identity,
                resource_statements,
                resource_policy_must_delegate=kind == "kms",
            )
        )
    return judged


def unused_grants(statements: Sequence[Statement], judged: Iterable[Judged]) -> list[str]:
    """Each (action, resource) an Allow statement grants that no allowed request used."""
    used = [
        v.request
        for j in judged
        for v in j.verdicts
        if v.decision in (Decision.ALLOWED, Decision.NOT_JUDGED)
    ]
    lines = []
    for statement in statements:
        if statement.effect != "Allow" or statement.principals is not None:
            continue
        for action in statement.actions:
            for resource in statement.resources:
                if not any(
                    wildcard_match(action, r.action, ignore_case=True)
                    and (resource == "*" or wildcard_match(resource, r.resource))
                    for r in used
                ):
                    lines.append(f"{action} on {resource} ({statement.label})")
    return lines


def check(calls: Iterable[Call], snapshots: Iterable[Mapping[str, Any]]) -> list[RoleReport]:
    deployments = [Deployment.from_snapshot(s) for s in snapshots]
    calls = list(calls)
    reports: dict[tuple[str, str], RoleReport] = {}
    for deployment in deployments:
        for role in deployment.roles:
            reports[(deployment.name, role)] = RoleReport(role, deployment.name)
        for call in [*calls, *lambda_service_calls(deployment)]:
            placed = as_deployed(call, deployment)
            if placed is None:
                continue
            role, moved = placed
            reports[(deployment.name, role)].judged.append(judge(moved, role, deployment))
        for (name, role), report in reports.items():
            if name == deployment.name:
                report.unused = unused_grants(deployment.roles[role], report.judged)
    return list(reports.values())


def _short(role: str) -> str:
    return role.rsplit("/", 1)[-1]


def render(reports: Sequence[RoleReport]) -> str:
    lines = [
        f"{'deployment':<10} {'role':<40} {'calls':>6} {'allowed':>8} {'denied':>7} "
        f"{'not judged':>10} {'unused':>7}"
    ]
    for r in reports:
        lines.append(
            f"{r.deployment:<10} {_short(r.role):<40} {len(r.judged):>6} "
            f"{r.count(Decision.ALLOWED):>8} {r.count(Decision.NOT_ALLOWED):>7} "
            f"{r.count(Decision.NOT_JUDGED):>10} {len(r.unused):>7}"
        )
    for r in reports:
        denied = [j for j in r.judged if j.decision is Decision.NOT_ALLOWED]
        unjudged = [j for j in r.judged if j.decision is Decision.NOT_JUDGED]
        if not (denied or unjudged or r.unused):
            continue
        lines.append(f"\n{r.deployment} {_short(r.role)}:")
        lines += [f"  DENIED      {line}" for j in denied for line in describe(j)]
        lines += [f"  not judged  {line}" for j in unjudged for line in describe(j)]
        lines += [f"  unused      {line}" for line in r.unused]
    return "\n".join(lines)


def describe(judged: Judged) -> list[str]:
    call = judged.call
    what = f"{call.service}.{call.operation} ({call.source})"
    lines = [f"{what}: {r.unresolved}" for r in judged.unresolved]
    for v in judged.verdicts:
        need = f"needs {v.request.action} on {v.request.resource}"
        carried = {k: vs for k, vs in v.request.context.items() if k not in KNOWN_CONTEXT}
        if carried:
            need += " with " + ", ".join(f"{k}={','.join(vs)}" for k, vs in carried.items())
        if v.decision is Decision.DENIED:
            lines.append(f"{what} {need}: explicitly denied by {v.matched[0].label}")
        elif v.decision is Decision.NOT_ALLOWED:
            lines.append(f"{what} {need}: no statement of {_short(judged.role)} allows it")
        elif v.decision is Decision.NOT_JUDGED:
            unknown = "; ".join(v.unjudged)
            lines.append(f"{what} {need}: conditions on keys the call does not carry: {unknown}")
    return lines


def summarize(directory: Path) -> tuple[list[RoleReport], str]:
    """The reports on what `directory` holds, and the text `make iam-check` prints."""
    snapshots = deployed.read(directory / "deployed")
    if not snapshots:
        return [], (
            f"nothing to judge: {directory / 'deployed'} holds no deployed policies. "
            "They are read back by the end-to-end tests (local stack) and the environments "
            "tests (deploy roles): run `make test` (or those tests) first."
        )
    calls = list(read_calls(directory / "calls"))
    reports = check(calls, snapshots)
    return reports, render(reports)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.iam.check", description=__doc__)
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    reports, text = summarize(args.directory)
    print(text)
    if not reports:
        return 2
    return 1 if any(r.count(Decision.NOT_ALLOWED) for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
