"""Pre-traffic hook: CodeDeploy runs it before any traffic shifts to a new function version.

It invokes that version with synthetic requests that change nothing (orders_core.smoke) and
reports Succeeded or Failed to CodeDeploy; Failed rolls the deployment back before a single
caller has seen the new version. Which checks a function takes is the SMOKE_CHECKS setting
(function name -> http_api | sqs_consumer), set by the platform stack.
"""

from __future__ import annotations

from typing import Any

from orders_core import wiring
from orders_core.entrypoint import EventSource, lambda_entrypoint
from orders_core.observability import logger
from orders_core.workflows import smoke_test_deployment


@lambda_entrypoint(EventSource.CODEDEPLOY_HOOK)
def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    current = wiring.current()
    report = smoke_test_deployment(
        event["DeploymentId"],
        event["LifecycleEventHookExecutionId"],
        current.deploy_hooks,
        current.invoker,
        current.settings.smoke_checks,
    )
    target = report.target
    summary = {
        "deployment_id": event["DeploymentId"],
        "function": target.function_name if target else None,
        "version": target.version if target else None,
        "status": "Succeeded" if report.succeeded else "Failed",
        "checks": {r.check: r.problem or "ok" for r in report.results},
        "error": report.error,
    }
    if report.succeeded:
        logger.info("new version passed its smoke checks", extra=summary)
    else:
        logger.error("new version failed its smoke checks; CodeDeploy rolls back", extra=summary)
    return summary
