"""http-api's example applied to the emulator: routes, integration, stage, permissions.

moto runs no Lambda code, so the API is not called; the test reads back what
API Gateway and Lambda hold.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile

import pytest

from tests.support.emulator import aws_client
from tests.support.terraform import applied_example

pytestmark = pytest.mark.emulator

HANDLER = """\
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"route": event.get("routeKey")})}
"""


def _function_zip(tmp_path):
    path = tmp_path / "function.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("handler.py", HANDLER)
    digest = base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
    return {"function_zip_path": str(path), "function_zip_sha256": digest}


def test_two_routes_share_one_integration_with_scoped_permissions(tmp_path, emulator_env):
    variables = _function_zip(tmp_path)
    with applied_example("http-api", "basic", tmp_path, emulator_env, variables) as (_, out):
        api = aws_client("apigatewayv2", emulator_env)
        api_id = out["api_id"]

        routes = {r["RouteKey"]: r for r in api.get_routes(ApiId=api_id)["Items"]}
        assert set(routes) == {"POST /orders", "GET /orders/{order_id}"}
        assert {k: r["RouteId"] for k, r in routes.items()} == out["route_ids"]
        targets = {r["Target"] for r in routes.values()}
        [integration_key] = out["integration_ids"]
        assert integration_key == f"{out['function_name']}:live"
        assert targets == {f"integrations/{out['integration_ids'][integration_key]}"}
        assert {r["AuthorizationType"] for r in routes.values()} == {"NONE"}

        integration = api.get_integration(
            ApiId=api_id, IntegrationId=out["integration_ids"][integration_key]
        )
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["PayloadFormatVersion"] == "2.0"
        assert integration["IntegrationUri"] == out["alias_invoke_arn"]
        assert out["alias_invoke_arn"].endswith(
            f":function:{out['function_name']}:live/invocations"
        )
        assert integration["TimeoutInMillis"] == 10000

        stage = api.get_stage(ApiId=api_id, StageName="$default")
        assert stage["AutoDeploy"] is True
        settings = stage["DefaultRouteSettings"]
        assert settings["ThrottlingBurstLimit"] == 50
        assert settings["ThrottlingRateLimit"] == 20
        assert settings["DetailedMetricsEnabled"] is True
        assert stage["AccessLogSettings"]["DestinationArn"] == out["log_group_arn"]
        log_format = json.loads(stage["AccessLogSettings"]["Format"])
        assert log_format["requestId"] == "$context.requestId"
        assert log_format["status"] == "$context.status"
        assert log_format["integrationError"] == "$context.integrationErrorMessage"
        assert {
            "requestId",
            "ip",
            "requestTime",
            "httpMethod",
            "routeKey",
            "status",
            "protocol",
            "responseLength",
            "integrationError",
            "latency",
        } <= set(log_format)

        logs = aws_client("logs", emulator_env)
        [group] = logs.describe_log_groups(logGroupNamePrefix=out["log_group_name"])["logGroups"]
        assert group["retentionInDays"] == 365

        # The alias's policy lets API Gateway invoke it through these routes only.
        policy = json.loads(
            aws_client("lambda", emulator_env).get_policy(
                FunctionName=out["function_name"], Qualifier="live"
            )["Policy"]
        )
        grants = {
            s["Condition"]["ArnLike"]["AWS:SourceArn"]
            for s in policy["Statement"]
            if s["Principal"] == {"Service": "apigateway.amazonaws.com"}
            and s["Action"] == "lambda:InvokeFunction"
            and s["Effect"] == "Allow"
        }
        assert grants == {
            f"{out['execution_arn']}/*/POST/orders",
            f"{out['execution_arn']}/*/GET/orders/*",
        }
        assert all(s["Resource"].endswith(":live") for s in policy["Statement"])
