"""What the pre-traffic hook needs of AWS: CodeDeploy (the deployment's target, the verdict)
and Lambda (invoking exactly the version under test)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orders_core.ports import DeploymentTarget, Invocation, Unavailable


class CodeDeployHooks:
    """Implements DeploymentHooks."""

    def __init__(self, codedeploy: Any) -> None:
        self.codedeploy = codedeploy

    def target_of(self, deployment_id: str) -> DeploymentTarget:
        info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        content = info.get("revision", {}).get("appSpecContent", {}).get("content")
        if not content:
            raise ValueError(f"deployment {deployment_id} carries no AppSpec content")
        appspec = json.loads(content)
        resources = [r for entry in appspec.get("Resources", []) for r in entry.values()]
        functions = [r["Properties"] for r in resources if r.get("Type") == "AWS::Lambda::Function"]
        if len(functions) != 1:
            raise ValueError(
                f"deployment {deployment_id} names {len(functions)} functions; a hook tests one"
            )
        return DeploymentTarget(functions[0]["Name"], str(functions[0]["TargetVersion"]))

    def report(self, deployment_id: str, execution_id: str, succeeded: bool) -> None:
        self.codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id,
            lifecycleEventHookExecutionId=execution_id,
            status="Succeeded" if succeeded else "Failed",
        )


class LambdaVersionInvoker:
    """Implements VersionInvoker."""

    def __init__(self, lambda_client: Any) -> None:
        self.lambda_client = lambda_client

    def invoke(self, function_name: str, version: str, event: Mapping[str, object]) -> Invocation:
        try:
            response = self.lambda_client.invoke(
                FunctionName=function_name,
                Qualifier=version,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode(),
            )
        except (BotoCoreError, ClientError) as error:
            raise Unavailable(f"could not invoke {function_name}:{version}: {error}") from error
        raw = response["Payload"].read()
        try:
            payload: object = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return Invocation(payload, response.get("FunctionError"))
