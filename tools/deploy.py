"""terraform init/plan/apply/destroy for one environment root.

    python -m tools.deploy plan  --env staging     writes .local/plans/staging.tfplan
    python -m tools.deploy apply --env staging     applies exactly that plan
    python -m tools.deploy apply --env prod --confirm prod

Each root under terraform/environments/<env>/ holds its backend settings in
backend.hcl, passed at init. Prod changes need --confirm prod.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tools.hcl import REPO_ROOT, TERRAFORM_DIR

ENVIRONMENTS_DIR = TERRAFORM_DIR / "environments"
PLANS_DIR = REPO_ROOT / ".local" / "plans"
TF = REPO_ROOT / "tools" / "tf"
PROTECTED = {"prod"}


class DeployError(RuntimeError):
    pass


def environments() -> list[str]:
    return sorted(p.name for p in ENVIRONMENTS_DIR.iterdir() if (p / "main.tf").is_file())


def root_dir(env: str) -> Path:
    if env not in environments():
        raise DeployError(f"unknown ENV={env!r}; valid environments: {', '.join(environments())}")
    return ENVIRONMENTS_DIR / env


def plan_file(env: str) -> Path:
    return PLANS_DIR / f"{env}.tfplan"


def terraform(
    env: str,
    args: Sequence[str],
    extra_env: Mapping[str, str] | None = None,
    capture: bool = False,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(TF), f"-chdir={root_dir(env)}", *args],
        env={**os.environ, "TF_INPUT": "0", **(extra_env or {})},
        text=True,
        capture_output=capture,
        check=False,
    )
    if proc.returncode not in (0, 2) or (proc.returncode == 2 and "-detailed-exitcode" not in args):
        detail = f"\n{proc.stdout}\n{proc.stderr}" if capture else ""
        raise DeployError(f"terraform {args[0]} failed for {env} (exit {proc.returncode}){detail}")
    return proc


def init(env: str, backend_overrides: Sequence[str] = (), extra_env=None) -> None:
    args = ["init", "-reconfigure", "-backend-config=backend.hcl"]
    args += [f"-backend-config={o}" for o in backend_overrides]
    terraform(env, args, extra_env)


def plan(env: str, var_args: Sequence[str] = (), extra_env=None) -> bool:
    """Write the plan file; True when it contains changes."""
    PLANS_DIR.mkdir(parents=True, exist_ok=True)
    proc = terraform(
        env,
        ["plan", "-detailed-exitcode", f"-out={plan_file(env)}", *var_args],
        extra_env,
    )
    return proc.returncode == 2


def apply(env: str, confirm: str | None, extra_env=None) -> None:
    if env in PROTECTED and confirm != env:
        raise DeployError(f"{env} is protected: re-run with CONFIRM={env} after reading the plan")
    saved = plan_file(env)
    if not saved.exists():
        raise DeployError(f"no saved plan for {env}: run `make plan ENV={env}` first")
    try:
        terraform(env, ["apply", str(saved)], extra_env)
    finally:
        saved.unlink(missing_ok=True)  # a plan is applied once; stale plans are refused anyway


def destroy(env: str, confirm: str | None, extra_env=None) -> None:
    if env in PROTECTED and confirm != env:
        raise DeployError(f"{env} is protected: destroying it needs CONFIRM={env}")
    terraform(env, ["destroy", "-auto-approve"], extra_env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=["init", "plan", "apply", "destroy", "list"])
    parser.add_argument("--env", default=os.environ.get("ENV", ""))
    parser.add_argument("--confirm", default=os.environ.get("CONFIRM") or None)
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            print("\n".join(environments()))
            return 0
        root_dir(args.env)
        if args.command == "init":
            init(args.env)
        elif args.command == "plan":
            init(args.env)
            changed = plan(args.env)
            summary = "changes" if changed else "no changes"
            print(f"plan saved to {plan_file(args.env).relative_to(REPO_ROOT)} ({summary});")
            print(f"apply exactly this plan with `make apply ENV={args.env}`")
        elif args.command == "apply":
            apply(args.env, args.confirm)
        elif args.command == "destroy":
            init(args.env)
            destroy(args.env, args.confirm)
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
