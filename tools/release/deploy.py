"""terraform init/plan/apply/destroy for one environment, or for one account's bootstrap.

    python -m tools.release.deploy list                   the valid ENV names
    python -m tools.release.deploy plan  --env staging    writes .local/plans/staging.tfplan
    python -m tools.release.deploy apply --env staging    applies exactly that plan, once
    python -m tools.release.deploy apply --env prod --confirm prod
    python -m tools.release.deploy plan  --env bootstrap-prod
                                          terraform/bootstrap with accounts/prod.tfvars

ENV is an environment root, terraform/environments/<env>/ with its backend.hcl (passed at
init) and release.json, or bootstrap-<account>: terraform/bootstrap for the account described
by terraform/bootstrap/accounts/<account>.tfvars, whose state is a local file (it creates the
state bucket). prod and bootstrap-prod change only with --confirm <env> (make: CONFIRM=<env>).

Environment variables:
    DEPLOY_WORK_DIR       terraform working data (terraform/<env>/), plans (plans/<env>.tfplan)
                          and bootstrap state (bootstrap/<account>.tfstate); default .local
    DEPLOY_TERRAFORM_DIR  the terraform/ tree to deploy (default this repository's)
    AWS_*, TF_VAR_*       passed to terraform unchanged: credentials, AWS_ENDPOINT_URL, variables
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.terraform.hcl import REPO_ROOT, TERRAFORM_DIR

TF = REPO_ROOT / "tools" / "terraform" / "tf"
BOOTSTRAP_PREFIX = "bootstrap-"
PROTECTED = {"prod", f"{BOOTSTRAP_PREFIX}prod"}
# The order builds travel in (tools/release/artifacts.py); listings follow it.
PROMOTION_ORDER = ("dev", "staging", "prod")


class DeployError(RuntimeError):
    pass


def terraform_dir() -> Path:
    return Path(os.environ.get("DEPLOY_TERRAFORM_DIR") or TERRAFORM_DIR).resolve()


def work_dir() -> Path:
    return Path(os.environ.get("DEPLOY_WORK_DIR") or REPO_ROOT / ".local").resolve()


def environments_dir() -> Path:
    return terraform_dir() / "environments"


def bootstrap_dir() -> Path:
    return terraform_dir() / "bootstrap"


def _ordered(found: list[str]) -> list[str]:
    rank = {name: index for index, name in enumerate(PROMOTION_ORDER)}
    return sorted(found, key=lambda name: (rank.get(name, len(rank)), name))


def environments() -> list[str]:
    """Environment roots that deploy to an account: a backend.hcl and a release file.
    (terraform/environments/local is the emulator's, applied by `make up`.)"""
    if not environments_dir().is_dir():
        raise DeployError(f"{environments_dir()} does not exist (DEPLOY_TERRAFORM_DIR?)")
    return _ordered(
        [
            p.name
            for p in environments_dir().iterdir()
            if (p / "main.tf").is_file()
            and (p / "backend.hcl").is_file()
            and (p / "release.json").is_file()
        ]
    )


def bootstrap_accounts() -> list[str]:
    return _ordered([p.stem for p in (bootstrap_dir() / "accounts").glob("*.tfvars")])


def names() -> list[str]:
    return environments() + [f"{BOOTSTRAP_PREFIX}{a}" for a in bootstrap_accounts()]


@dataclass(frozen=True)
class Root:
    """One thing `make plan ENV=<name>` can plan: a directory, its init and variable arguments."""

    name: str
    directory: Path
    init_args: tuple[str, ...]
    var_args: tuple[str, ...] = ()

    @property
    def protected(self) -> bool:
        return self.name in PROTECTED

    @property
    def data_dir(self) -> Path:
        return work_dir() / "terraform" / self.name

    @property
    def plan_file(self) -> Path:
        return work_dir() / "plans" / f"{self.name}.tfplan"


def root(name: str) -> Root:
    if name in environments():
        return Root(name, environments_dir() / name, ("-backend-config=backend.hcl",))
    account = name.removeprefix(BOOTSTRAP_PREFIX)
    if name.startswith(BOOTSTRAP_PREFIX) and account in bootstrap_accounts():
        state = work_dir() / "bootstrap" / f"{account}.tfstate"
        return Root(
            name,
            bootstrap_dir(),
            (f"-backend-config=path={state}",),
            (f"-var-file=accounts/{account}.tfvars",),
        )
    hint = " (local is the emulator's: `make up`)" if name == "local" else ""
    raise DeployError(f"unknown ENV={name!r}{hint}; valid: {', '.join(names())}")


def root_dir(env: str) -> Path:
    return root(env).directory


def plan_file(env: str) -> Path:
    return root(env).plan_file


def terraform(
    env: str, args: Sequence[str], capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run terraform in ENV's root with its own working data (exit 2 = changes, with
    -detailed-exitcode)."""
    target = root(env)
    target.data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [str(TF), f"-chdir={target.directory}", *args],
        env={**os.environ, "TF_INPUT": "0", "TF_DATA_DIR": str(target.data_dir)},
        text=True,
        capture_output=capture,
        check=False,
    )
    if proc.returncode not in (0, 2) or (proc.returncode == 2 and "-detailed-exitcode" not in args):
        detail = f"\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}" if capture else ""
        raise DeployError(f"terraform {args[0]} failed for {env} (exit {proc.returncode}){detail}")
    return proc


def init(env: str, capture: bool = False) -> None:
    terraform(env, ["init", "-reconfigure", "-input=false", *root(env).init_args], capture=capture)


def plan(env: str, extra_args: Sequence[str] = ()) -> bool:
    """Write ENV's plan file; True when it contains changes."""
    target = root(env)
    target.plan_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = terraform(
            env,
            [
                "plan",
                "-input=false",
                "-detailed-exitcode",
                f"-out={target.plan_file}",
                *target.var_args,
                *extra_args,
            ],
        )
    except DeployError:
        # Terraform saves even a failed plan (it refuses to apply it): leave nothing to apply.
        target.plan_file.unlink(missing_ok=True)
        raise
    return proc.returncode == 2


def _confirmed(target: Root, confirm: str | None, what: str) -> None:
    if target.protected and confirm != target.name:
        raise DeployError(
            f"{target.name} is protected: {what} it needs CONFIRM={target.name} "
            f"(make {what} ENV={target.name} CONFIRM={target.name})"
        )


def apply(env: str, confirm: str | None) -> None:
    """Apply exactly the saved plan; it is removed once applied (Terraform refuses a stale one)."""
    target = root(env)
    _confirmed(target, confirm, "apply")
    if not target.plan_file.exists():
        raise DeployError(f"no saved plan for {env}: run `make plan ENV={env}` first")
    terraform(env, ["apply", "-input=false", str(target.plan_file)])
    target.plan_file.unlink(missing_ok=True)


def destroy(env: str, confirm: str | None) -> None:
    target = root(env)
    _confirmed(target, confirm, "destroy")
    terraform(env, ["destroy", "-input=false", "-auto-approve", *target.var_args])


def outputs(env: str) -> dict[str, Any]:
    """ENV's root outputs from its state ({} when nothing was ever applied)."""
    init(env, capture=True)
    proc = terraform(env, ["output", "-json"], capture=True)
    return {name: value["value"] for name, value in json.loads(proc.stdout or "{}").items()}


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
            print("\n".join(names()))
            return 0
        root(args.env)
        if args.command == "init":
            init(args.env)
        elif args.command == "plan":
            init(args.env, capture=True)
            changed = plan(args.env)
            where = plan_file(args.env)
            shown = where.relative_to(REPO_ROOT) if where.is_relative_to(REPO_ROOT) else where
            print(f"plan saved to {shown} ({'changes' if changed else 'no changes'});")
            confirm = f" CONFIRM={args.env}" if args.env in PROTECTED else ""
            print(f"apply exactly this plan with `make apply ENV={args.env}{confirm}`")
        elif args.command == "apply":
            apply(args.env, args.confirm)
        elif args.command == "destroy":
            _confirmed(root(args.env), args.confirm, "destroy")
            init(args.env, capture=True)
            destroy(args.env, args.confirm)
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
