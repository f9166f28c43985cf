"""Policies as deployed, read back from an account (the emulator after an apply, or AWS).

A deployment snapshot is a JSON document:

    {"name": "local", "account": "...", "region": "...",
     "roles": {role arn: [{"name": policy name, "document": {...}}, ...]},
     "functions": {function name: {"role", "environment", "log_group", "sqs_sources", "tracing"}},
     "resource_policies": {resource arn: {"kind": "sqs|kms|lambda|s3", "document": {...}}}}

Roles carry their inline and attached policies. Resource policies are those that can decide a
call of the roles: queue policies, key policies, function policies, bucket policies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

Clients = Callable[[str], Any]  # service name -> boto3 client of the account


def _document(raw: str | dict[str, Any]) -> dict[str, Any]:
    # IAM answers URL-encoded JSON through some SDKs, decoded through boto3.
    return raw if isinstance(raw, dict) else json.loads(unquote(raw))


def role_policies(iam: Any, role_name: str) -> list[dict[str, Any]]:
    """The inline and attached policies of a role, each {"name", "document"}."""
    found = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        found.append({"name": f"{role_name}/{name}", "document": _document(document)})
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
        found.append({"name": attached["PolicyArn"], "document": _document(version["Document"])})
    return found


def _queue_policy(sqs: Any, queue_arn: str) -> dict[str, Any] | None:
    name, account = queue_arn.split(":")[5], queue_arn.split(":")[4]
    url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    raw = policy.get("Attributes", {}).get("Policy")
    return json.loads(raw) if raw else None


def _function_policy(lambda_client: Any, function: str, qualifier: str | None) -> dict | None:
    try:
        kwargs = {"FunctionName": function, **({"Qualifier": qualifier} if qualifier else {})}
        return json.loads(lambda_client.get_policy(**kwargs)["Policy"])
    except lambda_client.exceptions.ResourceNotFoundException:
        return None


def read_functions(
    clients: Clients, function_names: Iterable[str], name: str, alias: str = "live"
) -> dict[str, Any]:
    """A snapshot of the functions, their roles and the resource policies around them."""
    lambda_client, iam, sqs = clients("lambda"), clients("iam"), clients("sqs")
    snapshot: dict[str, Any] = {"name": name, "roles": {}, "functions": {}, "resource_policies": {}}
    for function in function_names:
        config = lambda_client.get_function_configuration(FunctionName=function)
        arn = config["FunctionArn"]
        snapshot["account"], snapshot["region"] = arn.split(":")[4], arn.split(":")[3]
        role_arn = config["Role"]
        mappings = lambda_client.list_event_source_mappings(FunctionName=function)
        sources = sorted(
            {
                m["EventSourceArn"]
                for m in mappings["EventSourceMappings"]
                if ":sqs:" in m["EventSourceArn"]
            }
        )
        snapshot["functions"][function] = {
            "role": role_arn,
            "environment": config.get("Environment", {}).get("Variables", {}),
            "log_group": config.get("LoggingConfig", {}).get("LogGroup")
            or f"/aws/lambda/{function}",
            "sqs_sources": sources,
            "tracing": config.get("TracingConfig", {}).get("Mode", "PassThrough"),
        }
        snapshot["roles"][role_arn] = role_policies(iam, role_arn.rsplit("/", 1)[1])
        policy = _function_policy(lambda_client, function, alias)
        if policy:
            snapshot["resource_policies"][f"{arn}:{alias}"] = {"kind": "lambda", "document": policy}
        queues = set(sources)
        url = snapshot["functions"][function]["environment"].get("ORDERS_QUEUE_URL")
        if url:
            account, queue_name = url.rstrip("/").split("/")[-2:]
            queues.add(f"arn:aws:sqs:{snapshot['region']}:{account}:{queue_name}")
        for queue in sorted(queues):
            document = _queue_policy(sqs, queue)
            if document:
                snapshot["resource_policies"][queue] = {"kind": "sqs", "document": document}
    return snapshot


def read_roles(clients: Clients, role_names: Iterable[str], name: str) -> dict[str, Any]:
    """A snapshot of deploy roles and the resource policies of the buckets they use."""
    iam, sts = clients("iam"), clients("sts")
    account = sts.get_caller_identity()["Account"]
    snapshot: dict[str, Any] = {
        "name": name,
        "account": account,
        "region": clients("iam").meta.region_name,
        "roles": {},
        "functions": {},
        "resource_policies": {},
    }
    for role in role_names:
        arn = iam.get_role(RoleName=role)["Role"]["Arn"]
        snapshot["roles"][arn] = role_policies(iam, role)
    s3 = clients("s3")
    for bucket in s3.list_buckets().get("Buckets", []):
        try:
            raw = s3.get_bucket_policy(Bucket=bucket["Name"])["Policy"]
        except s3.exceptions.ClientError:
            continue
        document = json.loads(raw)
        arn = f"arn:aws:s3:::{bucket['Name']}"
        snapshot["resource_policies"][arn] = {"kind": "s3", "document": document}
    kms = clients("kms")
    for key in kms.list_keys().get("Keys", []):
        document = json.loads(
            kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
        )
        snapshot["resource_policies"][key["KeyArn"]] = {"kind": "kms", "document": document}
    return snapshot


def write(snapshot: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{snapshot['name']}.json"
    path.write_text(json.dumps(snapshot, indent=2, sort_keys=True) + "\n")
    return path


def read(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
