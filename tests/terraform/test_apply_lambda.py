"""lambda applied to the emulator: the attributes AWS would hold.

moto stores functions, versions, aliases, roles, log groups and event source
mappings, but runs no code without Docker, and it does not keep LoggingConfig
or SnapStart (both are accepted and dropped), so those are covered by the
`terraform test` suite only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from tests.support.emulator import aws_client
from tests.support.terraform import applied_example

pytestmark = pytest.mark.emulator

HANDLER = """\
def handler(event, context):
    return {"batchItemFailures": []}
"""


def _build_zip(directory: Path) -> tuple[Path, str]:
    """A prebuilt deployment zip and its base64 SHA-256, as the build step would hand over."""
    path = directory / "function.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", HANDLER)
    digest = base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
    return path, digest


def test_function_alias_role_logs_and_sqs_mapping(tmp_path, emulator_env):
    zip_path, code_hash = _build_zip(tmp_path)
    variables = {
        "filename": str(zip_path),
        "source_code_hash": code_hash,
        # moto answers 404 to provisioned concurrency; the example keeps it off by default anyway.
        "provisioned_concurrent_executions": "0",
    }
    # The example's DLQ goes without its redrive-allow policy, which moto cannot answer
    # (MOTO_OVERRIDES).
    with applied_example("lambda", "basic", tmp_path, emulator_env, variables) as (_, out):
        lam = aws_client("lambda", emulator_env)
        name = out["function_name"]

        config = lam.get_function_configuration(FunctionName=name)
        assert config["Runtime"] == "python3.12"
        assert config["Handler"] == "app.handler"
        assert config["Architectures"] == ["arm64"]
        assert config["MemorySize"] == 512
        assert config["Timeout"] == 30
        assert config["TracingConfig"] == {"Mode": "Active"}
        assert config["EphemeralStorage"] == {"Size": 512}
        assert config["CodeSha256"] == code_hash == out["code_sha256"]
        assert config["Environment"]["Variables"]["TABLE_NAME"] == "example-orders-table"
        assert config["Role"].endswith(f":role/{out['role_name']}")
        # moto drops LoggingConfig (JSON format, log group): asserted in terraform test instead.

        # The alias points at a published version, never $LATEST.
        alias = lam.get_alias(FunctionName=name, Name="live")
        assert alias["AliasArn"] == out["alias_arn"]
        assert alias["FunctionVersion"] == out["function_version"]
        assert alias["FunctionVersion"] != "$LATEST"
        assert alias["FunctionVersion"].isdigit()
        published = {
            v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]
        }
        assert alias["FunctionVersion"] in published

        async_config = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
        assert async_config["MaximumRetryAttempts"] == 1
        assert async_config["DestinationConfig"]["OnFailure"]["Destination"] == out["dlq_arn"]

        logs = aws_client("logs", emulator_env)
        groups = logs.describe_log_groups(logGroupNamePrefix=out["log_group_name"])["logGroups"]
        assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [
            (f"/aws/lambda/{name}", 14)
        ]

        iam = aws_client("iam", emulator_env)
        trust = iam.get_role(RoleName=out["role_name"])["Role"]["AssumeRolePolicyDocument"]
        (assume,) = trust["Statement"]
        assert assume["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert assume["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}

        policy_names = iam.list_role_policies(RoleName=out["role_name"])["PolicyNames"]
        assert policy_names == [f"{name}-permissions"]
        document = iam.get_role_policy(RoleName=out["role_name"], PolicyName=policy_names[0])[
            "PolicyDocument"
        ]
        if isinstance(document, str):
            document = json.loads(document)
        statements = {}
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            resources = statement["Resource"]
            statements[statement["Sid"]] = (
                {actions} if isinstance(actions, str) else set(actions),
                {resources} if isinstance(resources, str) else set(resources),
            )
        log_group_arn = groups[0]["logGroupArn"]
        table_arn = out["table_arn"]
        assert statements == {
            "WriteLogs": (
                {"logs:CreateLogStream", "logs:PutLogEvents"},
                {f"{log_group_arn}:*"},
            ),
            # X-Ray has no resource-level permissions.
            "WriteTraces": ({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, {"*"}),
            "Access0DynamodbReadWrite": (
                {
                    "dynamodb:BatchGetItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:DescribeTable",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                },
                {table_arn, f"{table_arn}/index/by-customer"},
            ),
            "ConsumeQueueOrders": (
                {
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                },
                {out["queue_arn"]},
            ),
            "AsyncFailures": ({"sqs:SendMessage"}, {out["dlq_arn"]}),
        }
        assert not any("*" in a for actions, _ in statements.values() for a in actions)

        uuid = out["event_source_mapping_uuids"]["orders"]
        mapping = lam.get_event_source_mapping(UUID=uuid)
        assert mapping["EventSourceArn"] == out["queue_arn"]
        assert mapping["BatchSize"] == 5
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["State"] == "Enabled"
        # The mapping targets the alias. moto stores it resolved to the version the alias
        # points at (AWS keeps the alias ARN), so the target reads <function>:<alias version>,
        # not $LATEST; terraform test asserts that the alias ARN is what the module sends.
        assert mapping["FunctionArn"] == f"{out['function_arn']}:{alias['FunctionVersion']}"
