"""Safe deploys: apply, then let CodeDeploy shift each function to its new version.

    python -m tools.release.canary deploy   --env staging            (make deploy ENV=staging)
    python -m tools.release.canary deploy   --env prod --confirm prod
    python -m tools.release.canary rollback --env prod --function orders_api [--version 6]

`deploy` applies ENV's saved plan (make plan, or make promote, wrote it; without one nothing is
applied), then, for every function whose version Terraform published differs from what its
`live` alias serves, creates a CodeDeploy deployment with its AppSpec (alias, current version,
target version, the pre-traffic hook), follows it on the terminal (share shifted, alarm states,
hook result) and ends with a verdict: done, or rolled back with the alarm or hook that stopped
it and the version `live` serves now (exit status 1).

Functions deploy one after the other in the stack's order, consumers before producers (the
notifier, then the order processor, then the API): a consumer never reads messages or events
from a producer newer than itself. The first one that does not succeed stops the rest.

`rollback` stops a running deployment of FUNCTION with rollback, or else returns `live` to the
version it served before the last deployment that moved it (or to --version) through a
CodeDeploy deployment all at once, so the hook still runs and Terraform's plan stays empty.

Exit status: 0 done (or nothing to do), 1 rolled back or failed, 2 usage or configuration
error, 3 another deployment is running, or the deployment outlived --timeout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from tools.release import deploy
from tools.release.deploy import DeployError

ACTIVE_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]
FINAL_STATUSES = {"Succeeded", "Failed", "Stopped"}
ALL_AT_ONCE = "CodeDeployDefault.LambdaAllAtOnce"
HOOK_EVENT = "BeforeAllowTraffic"
EXIT_DONE, EXIT_ROLLED_BACK, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CanaryError(RuntimeError):
    pass


@dataclass(frozen=True)
class Target:
    """One function CodeDeploy deploys: the stack's `deployments` output, one entry."""

    service: str
    function_name: str
    alias_name: str
    function_version: str
    application_name: str
    deployment_group_name: str
    deployment_config_name: str
    alarm_names: tuple[str, ...]
    pre_traffic_hook: str | None

    @classmethod
    def from_output(cls, entry: dict[str, Any]) -> Target:
        return cls(
            service=entry["service"],
            function_name=entry["function_name"],
            alias_name=entry["alias_name"],
            function_version=str(entry["function_version"]),
            application_name=entry["application_name"],
            deployment_group_name=entry["deployment_group_name"],
            deployment_config_name=entry["deployment_config_name"],
            alarm_names=tuple(entry.get("alarm_names") or ()),
            pre_traffic_hook=entry.get("pre_traffic_hook"),
        )


@dataclass
class Aws:
    """The clients the deploy uses, of the environment's deploy role."""

    codedeploy: Any
    lambda_: Any
    cloudwatch: Any


@dataclass
class Terminal:
    """Where progress goes, and the clock it is told by (tests pass their own)."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    poll_seconds: float = 15
    timeout_seconds: float = 3600

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def appspec(target: Target, current: str, version: str) -> str:
    """The AppSpec of a Lambda deployment: shift ALIAS from CURRENT to VERSION, hook first."""
    spec: dict[str, Any] = {
        "version": 0.0,
        "Resources": [
            {
                target.function_name: {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": target.function_name,
                        "Alias": target.alias_name,
                        "CurrentVersion": current,
                        "TargetVersion": version,
                    },
                }
            }
        ],
    }
    if target.pre_traffic_hook:
        spec["Hooks"] = [{HOOK_EVENT: target.pre_traffic_hook}]
    return json.dumps(spec, sort_keys=True)


def live_version(aws: Aws, target: Target) -> tuple[str, dict[str, float]]:
    """The version `live` serves and the extra versions it routes a share to."""
    alias = aws.lambda_.get_alias(FunctionName=target.function_name, Name=target.alias_name)
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return alias["FunctionVersion"], dict(weights)


def active_deployment(aws: Aws, target: Target) -> dict[str, Any] | None:
    ids = aws.codedeploy.list_deployments(
        applicationName=target.application_name,
        deploymentGroupName=target.deployment_group_name,
        includeOnlyStatuses=ACTIVE_STATUSES,
    ).get("deployments", [])
    if not ids:
        return None
    return aws.codedeploy.get_deployment(deploymentId=ids[0])["deploymentInfo"]


def start(aws: Aws, target: Target, current: str, version: str, config: str | None = None) -> str:
    content = appspec(target, current, version)
    request: dict[str, Any] = {
        "applicationName": target.application_name,
        "deploymentGroupName": target.deployment_group_name,
        "revision": {
            "revisionType": "AppSpecContent",
            "appSpecContent": {
                "content": content,
                "sha256": hashlib.sha256(content.encode()).hexdigest(),
            },
        },
        "description": f"{target.function_name}:{target.alias_name} {current} -> {version}",
    }
    if config:
        request["deploymentConfigName"] = config
    return aws.codedeploy.create_deployment(**request)["deploymentId"]


@dataclass
class Progress:
    status: str = ""
    share: str = ""
    alarms: str = ""
    hook: str = "pending"
    target_id: str | None = None
    in_alarm: tuple[str, ...] = ()

    def line(self) -> str:
        return f"{self.status:<10}  {self.share}  alarms: {self.alarms}  hook: {self.hook}"


def _share(version: str, weights: dict[str, float], current: str, target_version: str) -> str:
    if not weights:
        return f"100 % on version {version}"
    shifted = weights.get(target_version, 0.0) * 100
    return f"{shifted:.0f} % on version {target_version}, {100 - shifted:.0f} % on {current}"


def _alarm_states(aws: Aws, target: Target) -> tuple[str, tuple[str, ...]]:
    if not target.alarm_names:
        return "none watched", ()
    found = aws.cloudwatch.describe_alarms(
        AlarmNames=list(target.alarm_names), AlarmTypes=["CompositeAlarm", "MetricAlarm"]
    )
    states = {
        a["AlarmName"]: a["StateValue"]
        for a in found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    }
    firing = tuple(sorted(name for name, state in states.items() if state == "ALARM"))
    missing = [name for name in target.alarm_names if name not in states]
    summary = f"{len(states) - len(firing)} OK" if not firing else "ALARM " + ", ".join(firing)
    if missing:
        summary += f" ({len(missing)} missing: {', '.join(missing)})"
    return summary, firing


def _hook_status(aws: Aws, deployment_id: str, progress: Progress) -> str:
    if progress.target_id is None:
        ids = aws.codedeploy.list_deployment_targets(deploymentId=deployment_id).get(
            "targetIds", []
        )
        if not ids:
            return progress.hook
        progress.target_id = ids[0]
    found = aws.codedeploy.get_deployment_target(
        deploymentId=deployment_id, targetId=progress.target_id
    )["deploymentTarget"]
    events = (found.get("lambdaTarget") or {}).get("lifecycleEvents", [])
    for event in events:
        if event.get("lifecycleEventName") == HOOK_EVENT:
            return event.get("status", "Unknown")
    return "none" if events else progress.hook


def follow(
    aws: Aws, term: Terminal, target: Target, deployment_id: str, current: str, version: str
) -> tuple[dict[str, Any], Progress]:
    """Poll the deployment until it ends, printing what changed: its final deploymentInfo and
    what was last seen of it."""
    started = term.now()
    progress = Progress()
    previous = ""
    while True:
        info = aws.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        progress.status = info["status"]
        if target.pre_traffic_hook:
            progress.hook = _hook_status(aws, deployment_id, progress)
        else:
            progress.hook = "none configured"
        serving, weights = live_version(aws, target)
        progress.share = _share(serving, weights, current, version)
        progress.alarms, progress.in_alarm = _alarm_states(aws, target)
        line = progress.line()
        if line != previous:
            elapsed = int((term.now() - started).total_seconds())
            term.say(f"  [{target.service} {elapsed // 60:02d}:{elapsed % 60:02d}] {line}")
            previous = line
        if info["status"] in FINAL_STATUSES:
            return info, progress
        if (term.now() - started).total_seconds() > term.timeout_seconds:
            raise TimeoutError(
                f"{target.service}: deployment {deployment_id} is still {info['status']} after "
                f"{term.timeout_seconds:.0f} s; follow it in the CodeDeploy console, or stop it "
                f"with `make rollback ENV=<env> FUNCTION={target.service}`"
            )
        term.sleep(term.poll_seconds)


def verdict(
    aws: Aws, term: Terminal, target: Target, info: dict[str, Any], progress: Progress
) -> bool:
    """Say how the deployment ended and what `live` serves now; True when it succeeded."""
    serving, weights = live_version(aws, target)
    if info["status"] == "Succeeded" and not weights:
        term.say(f"{target.service}: done, live serves version {serving}")
        return True
    reasons = []
    error = info.get("errorInformation") or {}
    if error:
        reasons.append(f"{error.get('code', 'error')}: {error.get('message', '').strip()}")
    if progress.in_alarm:
        reasons.append("alarm " + ", ".join(progress.in_alarm))
    if progress.hook == "Failed":
        reasons.append(
            f"pre-traffic hook {target.pre_traffic_hook} failed (its log group "
            f"/aws/lambda/{target.pre_traffic_hook} says which check)"
        )
    rollback = (info.get("rollbackInfo") or {}).get("rollbackMessage")
    if rollback:
        reasons.append(rollback)
    why = "; ".join(reasons) or "no reason given"
    ended = "rolled back" if info["status"] in ("Failed", "Stopped") else info["status"]
    term.say(f"{target.service}: {ended} ({why}); live serves version {serving}")
    return False


def deploy_all(aws: Aws, term: Terminal, targets: Sequence[Target]) -> int:
    for index, target in enumerate(targets, start=1):
        head = f"[{index}/{len(targets)}] {target.service} ({target.function_name})"
        current, weights = live_version(aws, target)
        if current == target.function_version and not weights:
            term.say(f"{head}: live serves version {current}, the newest; nothing to deploy")
            continue
        running = active_deployment(aws, target)
        if running is not None:
            term.say(
                f"{head}: deployment {running['deploymentId']} is already "
                f"{running['status']}; nothing was started. Wait for it, or stop it with "
                f"`make rollback ENV=<env> FUNCTION={target.service}`"
            )
            return EXIT_BUSY
        deployment_id = start(aws, target, current, target.function_version)
        term.say(
            f"{head}: version {current} -> {target.function_version} by "
            f"{target.deployment_config_name}, deployment {deployment_id}"
        )
        info, progress = follow(aws, term, target, deployment_id, current, target.function_version)
        if not verdict(aws, term, target, info, progress):
            rest = [t.service for t in targets[index:]]
            if rest:
                term.say(f"not deployed (they come after it): {', '.join(rest)}")
            return EXIT_ROLLED_BACK
    term.say(f"all {len(targets)} functions serve their newest version")
    return EXIT_DONE


def previous_version(aws: Aws, target: Target, serving: str) -> str:
    """The version `live` served before the newest deployment that moved it to SERVING."""
    ids = aws.codedeploy.list_deployments(
        applicationName=target.application_name,
        deploymentGroupName=target.deployment_group_name,
        includeOnlyStatuses=["Succeeded"],
    ).get("deployments", [])
    infos = (
        aws.codedeploy.batch_get_deployments(deploymentIds=ids[:25]).get("deploymentsInfo", [])
        if ids
        else []
    )
    for info in sorted(infos, key=lambda i: i.get("createTime") or EPOCH, reverse=True):
        content = ((info.get("revision") or {}).get("appSpecContent") or {}).get("content")
        if not content:
            continue
        for resource in json.loads(content).get("Resources", []):
            properties = next(iter(resource.values())).get("Properties", {})
            if str(properties.get("TargetVersion")) == serving:
                return str(properties["CurrentVersion"])
    raise CanaryError(
        f"{target.service}: no successful deployment moved live to version {serving} (CodeDeploy "
        f"keeps the history of its deployments); say which version with VERSION=<n>"
    )


def rollback(aws: Aws, term: Terminal, target: Target, version: str | None) -> int:
    running = active_deployment(aws, target)
    if running is not None:
        deployment_id = running["deploymentId"]
        term.say(
            f"{target.service}: stopping deployment {deployment_id} ({running['status']}) "
            "with rollback"
        )
        aws.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        spec = ((running.get("revision") or {}).get("appSpecContent") or {}).get("content")
        properties = (
            next(iter(json.loads(spec)["Resources"][0].values()))["Properties"] if spec else {}
        )
        info, _ = follow(
            aws,
            term,
            target,
            deployment_id,
            str(properties.get("CurrentVersion", "?")),
            str(properties.get("TargetVersion", "?")),
        )
        serving, weights = live_version(aws, target)
        term.say(
            f"{target.service}: deployment {info['status']}; live serves version {serving}"
            + (" (still shifting)" if weights else "")
        )
        return EXIT_DONE if not weights else EXIT_ROLLED_BACK
    serving, _ = live_version(aws, target)
    wanted = version or previous_version(aws, target, serving)
    if wanted == serving:
        term.say(f"{target.service}: live serves version {serving} already; nothing to do")
        return EXIT_DONE
    deployment_id = start(aws, target, serving, wanted, config=ALL_AT_ONCE)
    term.say(
        f"{target.service}: returning live from version {serving} to {wanted} "
        f"(all at once, hook first), deployment {deployment_id}"
    )
    info, progress = follow(aws, term, target, deployment_id, serving, wanted)
    return EXIT_DONE if verdict(aws, term, target, info, progress) else EXIT_ROLLED_BACK


# --- command line ------------------------------------------------------------------------------


def targets_of(env: str) -> list[Target]:
    platform = deploy.outputs(env).get("platform") or {}
    return [Target.from_output(entry) for entry in platform.get("deployments") or []]


def aws_for(env: str) -> Aws:
    from tools.release.artifacts import session_for

    session = session_for(env)
    return Aws(session.client("codedeploy"), session.client("lambda"), session.client("cloudwatch"))


def apply_saved_plan(env: str, confirm: str | None, term: Terminal) -> None:
    target = deploy.root(env)
    if not target.plan_file.exists():
        term.say(
            f"no saved plan for {env}: applying nothing (`make plan ENV={env}` first to change "
            "its infrastructure or code); deploying the versions already published"
        )
        return
    term.say(f"==> apply {env} (the saved plan)")
    deploy.apply(env, confirm)


def select(targets: Sequence[Target], function: str) -> Target:
    for target in targets:
        if function in (target.service, target.function_name):
            return target
    names = ", ".join(t.service for t in targets) or "none: it has no deployment"
    raise CanaryError(f"no deployed function {function!r}; FUNCTION= one of {names}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=["deploy", "rollback"])
    parser.add_argument("--env", default=os.environ.get("ENV", ""))
    parser.add_argument("--confirm", default=os.environ.get("CONFIRM") or None)
    parser.add_argument("--function", default=os.environ.get("FUNCTION") or None)
    parser.add_argument("--version", default=os.environ.get("VERSION") or None)
    parser.add_argument("--poll-seconds", type=float, default=15)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args(argv)
    term = Terminal(poll_seconds=args.poll_seconds, timeout_seconds=args.timeout)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        root = deploy.root(args.env)
        if args.command == "rollback" and not args.function:
            raise CanaryError(
                f"say which function: make rollback ENV={args.env} FUNCTION=<service>"
            )
        if args.command == "deploy":
            if root.protected and args.confirm != root.name:
                raise DeployError(
                    f"{root.name} is protected: deploying it needs CONFIRM={root.name} "
                    f"(make deploy ENV={root.name} CONFIRM={root.name})"
                )
            apply_saved_plan(args.env, args.confirm, term)
        targets = targets_of(args.env)
        if not targets:
            term.say(
                f"{args.env} has no deployment configured: Terraform moved the aliases when it "
                "applied; nothing to shift"
            )
            return EXIT_DONE
        aws = aws_for(args.env)
        if args.command == "deploy":
            order = " -> ".join(t.service for t in targets)
            term.say(f"==> deploy {args.env}, consumers before producers: {order}")
            return deploy_all(aws, term, targets)
        return rollback(aws, term, select(targets, args.function), args.version)
    except (CanaryError, DeployError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except TimeoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except (BotoCoreError, ClientError) as error:
        print(f"error: AWS refused: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
