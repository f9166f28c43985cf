"""The multi-account scenario the tests of this folder check; it runs once per session.

    setup     emulator, a copy of terraform/, a CI role session in the tooling account,
              build A (the arm64 build as `make build` makes it) and build B (the same
              sources zipped with other timestamps: other bytes, other hashes)
    accounts  in parallel, one thread per account: `make plan/apply ENV=bootstrap-<env>`,
              then the environment's first `make plan/apply ENV=<env>` (the bootstrap's
              second plan runs during that apply) and a second plan. staging and prod start
              from build A, placed in their buckets and release files by the test; dev first
              checks that promotion refuses an environment that runs nothing, then deploys
              build B through `make publish ENV=dev`, and checks that promoting dev is
              refused while its release file pins a build it does not run (build A
              published, not applied)
    promotion `make promote FROM=dev TO=staging`, apply staging, `make promote FROM=staging
              TO=prod` (refused while staging's bytes are corrupt), apply prod while a second
              operator tries to apply prod too (refused by the lock, then succeeds); at the
              same time, dev planned and applied with a role in staging's account is refused
              before any change

Each step's command, exit status, output and duration are kept (Accounts.steps, timings);
observations the tests assert on are in Scenario.results. Prerequisite steps raise at once.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.accounts import (
    ACCOUNTS,
    Accounts,
    Step,
    artifact_bucket,
    build,
    deploy_role,
    in_parallel,
    state_bucket,
)

ENVS = ("dev", "staging", "prod")
B_EPOCH = "1700000000"  # build B: the same sources, zip timestamps of 2023-11-14


@dataclass
class Scenario:
    accounts: Accounts
    builds: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> list[Step]:
        return self.accounts.steps


def _manifest_path(build_dir: Path) -> Path:
    return build_dir / "arm64" / "manifest.json"


def run(accounts: Accounts) -> Scenario:
    scenario = Scenario(accounts)
    r = scenario.results
    a = accounts
    total = time.perf_counter()
    a.start()
    builds_done = threading.Event()
    staging_seeded = threading.Event()

    def builds() -> None:
        try:
            scenario.builds["A"] = a.timed("build A", lambda: build(a.base / "build-a"))
            scenario.builds["B"] = a.timed("build B", lambda: build(a.base / "build-b", B_EPOCH))
        finally:
            builds_done.set()

    def bootstrap(env: str) -> None:
        a.make(f"bootstrap-{env}: plan", "plan", f"ENV=bootstrap-{env}")
        confirm = [f"CONFIRM=bootstrap-{env}"] if env == "prod" else []
        a.make(f"bootstrap-{env}: apply", "apply", f"ENV=bootstrap-{env}", *confirm)
        a.record_deploy_role(env)

    def bootstrap_second_plan(env: str) -> None:
        r[f"bootstrap second plan {env}"] = a.make(
            f"bootstrap-{env}: second plan", "plan", f"ENV=bootstrap-{env}", expect=None
        )

    def second_plan(env: str) -> None:
        r[f"second plan {env}"] = a.make(f"{env}: second plan", "plan", f"ENV={env}", expect=None)

    def seed(env: str) -> None:
        """Test setup for the parallel first deploys: build A in ENV's bucket and release file,
        as if an earlier promotion had put it there (promotion itself is tested with build B)."""
        builds_done.wait()
        manifest = scenario.builds["A"]
        s3 = a.client("s3", ACCOUNTS[env])
        artifacts = {}
        for name, entry in manifest["artifacts"].items():
            key = f"artifacts/{name}/{entry['sha256']}.zip"
            body = (a.base / "build-a" / "arm64" / entry["path"]).read_bytes()
            s3.put_object(Bucket=artifact_bucket(env), Key=key, Body=body)
            artifacts[name] = {
                "sha256": entry["sha256"],
                "base64_sha256": entry["base64_sha256"],
                "s3_key": key,
            }
        release = a.release(env)
        release.update(
            arch=manifest["arch"],
            runtime=manifest["runtime"],
            artifacts=artifacts,
            source="test setup: build A",
        )
        a.release_path(env).write_text(json.dumps(release, indent=2, sort_keys=True) + "\n")

    def first_deploy(env: str, label: str) -> None:
        """Plan, then apply that plan while the bootstrap's second plan runs (the apply mostly
        waits on SQS), then plan again."""
        a.make(f"{env}: plan ({label})", "plan", f"ENV={env}")
        confirm = ["CONFIRM=prod"] if env == "prod" else []
        in_parallel(
            lambda: a.make(f"{env}: apply ({label})", "apply", f"ENV={env}", *confirm),
            lambda: bootstrap_second_plan(env),
        )
        second_plan(env)

    def publish(build_name: str) -> None:
        a.make(
            f"dev: publish build {build_name}",
            "publish",
            "ENV=dev",
            f"MANIFEST={_manifest_path(a.base / f'build-{build_name.lower()}')}",
        )

    def account_dev() -> None:
        a.timed("dev: bootstrap", lambda: bootstrap("dev"))
        builds_done.wait()
        staging_seeded.wait()
        r["promote from nothing"], r["promote from nothing left staging's release"] = (
            _refused_promotion(a, "dev", "staging", "dev runs nothing")
        )
        publish("B")
        r["dev release after publish"] = a.release("dev")
        a.timed("dev: first deploy", lambda: first_deploy("dev", "build B"))
        # A newer build published but not applied: dev pins A and runs B.
        publish("A")
        r["promote unapplied"], r["promote unapplied left staging's release"] = _refused_promotion(
            a, "dev", "staging", "dev pins A, runs B"
        )
        publish("B")  # back to what dev runs

    def account(env: str) -> None:
        try:
            a.timed(f"{env}: bootstrap", lambda: bootstrap(env))
            seed(env)
            if env == "staging":
                staging_seeded.set()
            a.timed(f"{env}: first deploy", lambda: first_deploy(env, "build A"))
            if env == "staging":
                a.timed("staging: make seed, twice", lambda: _seed_for_load_test(scenario))
            if env == "prod":
                r["seed prod without the opt-in"] = a.make(
                    "prod: seed without the opt-in",
                    "seed",
                    "ENV=prod",
                    extra_env={"LOADTEST_ALLOW_PROD": ""},
                    expect=None,
                )
                r["prod items after the refused seed"] = _load_test_items(a, "prod")
        finally:
            if env == "staging":
                staging_seeded.set()

    # The bootstrap root is shared by the three accounts: one init writes its lock file first.
    a.make("bootstrap: first init", "init", "ENV=bootstrap-dev")
    a.timed(
        "accounts (parallel)",
        lambda: in_parallel(
            builds, account_dev, lambda: account("staging"), lambda: account("prod")
        ),
    )
    a.timed(
        "promotion chain, and the wrong account",
        lambda: in_parallel(
            lambda: a.timed("promotion chain", lambda: _promotion_chain(scenario)),
            lambda: a.timed("dev: wrong account", lambda: _wrong_account(scenario)),
        ),
    )
    a.timings["scenario total"] = time.perf_counter() - total
    return scenario


def _load_test_items(a: Accounts, env: str) -> dict[str, dict[str, Any]]:
    """The stock and customer items of ENV's orders table, by partition key."""
    ddb = a.client("dynamodb", ACCOUNTS[env])
    found: dict[str, dict[str, Any]] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=f"orders-{env}-orders"):
        for item in page["Items"]:
            if item["pk"]["S"].startswith(("SKU#", "CUSTOMER#")):
                found[item["pk"]["S"]] = item
    return found


def _seed_for_load_test(scenario: Scenario) -> None:
    """`make seed ENV=staging`; then a run takes some stock; then `make seed` again."""
    a, r = scenario.accounts, scenario.results
    r["seed staging"] = a.make("staging: seed", "seed", "ENV=staging")
    r["seeded items"] = _load_test_items(a, "staging")
    taken = sorted(key for key in r["seeded items"] if key.startswith("SKU#"))[0]
    a.client("dynamodb", ACCOUNTS["staging"]).update_item(
        TableName="orders-staging-orders",
        Key={"pk": {"S": taken}, "sk": {"S": "STOCK"}},
        UpdateExpression="SET available = :left",
        ExpressionAttributeValues={":left": {"N": "5"}},
    )
    r["seed staging again"] = a.make("staging: seed again", "seed", "ENV=staging")
    r["seeded items again"] = _load_test_items(a, "staging")


def _refused_promotion(a: Accounts, source: str, target: str, why: str) -> tuple[Step, bool]:
    """A promotion expected to be refused: its step, and whether TO's release file is
    byte for byte what it was (a refusal must pin nothing)."""
    before = a.release_path(target).read_bytes()
    step = a.make(
        f"promote {source} -> {target} ({why})",
        "promote",
        f"FROM={source}",
        f"TO={target}",
        expect=None,
    )
    return step, a.release_path(target).read_bytes() == before


def _locks_held(a: Accounts, env: str) -> list[str]:
    """Lock file and DynamoDB lock item of ENV's state, if any (digest items aside)."""
    account = ACCOUNTS[env]
    s3 = a.client("s3", account)
    listed = s3.list_objects_v2(Bucket=state_bucket(env), Prefix=f"{env}/")
    held = [o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".tflock")]
    items = a.client("dynamodb", account).scan(TableName="acme-platform-tfstate-lock")["Items"]
    held += [i["LockID"]["S"] for i in items if not i["LockID"]["S"].endswith("-md5")]
    return sorted(held)


def _named_like(a: Accounts, env: str, prefix: str) -> list[str]:
    account = ACCOUNTS[env]
    lam, ddb, sqs = (a.client(s, account) for s in ("lambda", "dynamodb", "sqs"))
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    names += ddb.list_tables()["TableNames"]
    names += [u.rsplit("/", 1)[1] for u in sqs.list_queues().get("QueueUrls", [])]
    return sorted(n for n in names if n.startswith(prefix))


def _wrong_account(scenario: Scenario) -> None:
    """dev planned and applied with a role in staging's account: refused before anything."""
    a, r = scenario.accounts, scenario.results
    s3_dev = a.client("s3", ACCOUNTS["dev"])

    def snapshot() -> dict[str, Any]:
        state = s3_dev.get_object(Bucket=state_bucket("dev"), Key="dev/platform.tfstate")
        versions = s3_dev.list_object_versions(
            Bucket=state_bucket("dev"), Prefix="dev/platform.tfstate"
        )
        return {
            "dev state": state["Body"].read(),
            "dev state versions": sorted(
                v["VersionId"]
                for v in versions.get("Versions", [])
                if v["Key"] == "dev/platform.tfstate"
            ),
            "dev locks left": _locks_held(a, "dev"),
            "dev resources in staging's account": _named_like(a, "staging", "orders-dev-"),
        }

    wrong = a.work_dir.parent / "work-wrong-account"
    role = {"TF_VAR_deploy_role_arn": deploy_role("staging")}
    before = snapshot()
    r["wrong account plan"] = a.make(
        "dev: plan with staging's role",
        "plan",
        "ENV=dev",
        extra_env={**role, "DEPLOY_WORK_DIR": str(wrong)},
        expect=None,
    )
    r["wrong account plan file"] = (wrong / "plans" / "dev.tfplan").exists()
    r["wrong account apply"] = a.terraform(
        "dev: terraform apply -auto-approve with staging's role",
        "dev",
        "apply",
        "-auto-approve",
        "-input=false",
        work_dir=wrong,
        extra_env=role,
        expect=None,
    )
    r["wrong account before"], r["wrong account after"] = before, snapshot()


def _promotion_chain(scenario: Scenario) -> None:
    a, r = scenario.accounts, scenario.results
    build_b = scenario.builds["B"]
    r["promote dev -> staging"] = a.make(
        "promote dev -> staging", "promote", "FROM=dev", "TO=staging"
    )
    a.timed(
        "staging: apply build B",
        lambda: a.make("staging: apply (build B)", "apply", "ENV=staging"),
    )

    # staging's copy of one artifact is corrupted: nothing may reach prod.
    s3_staging = a.client("s3", ACCOUNTS["staging"])
    api = build_b["artifacts"]["orders_api"]
    key = f"artifacts/orders_api/{api['sha256']}.zip"
    s3_staging.put_object(Bucket=artifact_bucket("staging"), Key=key, Body=b"not the build")
    r["promote corrupt"], r["promote corrupt left prod's release"] = _refused_promotion(
        a, "staging", "prod", "corrupt bytes"
    )
    r["promote corrupt prod objects"] = sorted(
        o["Key"]
        for o in a.client("s3", ACCOUNTS["prod"])
        .list_objects_v2(Bucket=artifact_bucket("prod"))
        .get("Contents", [])
    )
    s3_staging.put_object(
        Bucket=artifact_bucket("staging"),
        Key=key,
        Body=(a.base / "build-b" / "arm64" / api["path"]).read_bytes(),
    )

    r["promote staging -> prod"] = a.make(
        "promote staging -> prod", "promote", "FROM=staging", "TO=prod"
    )
    r["prod plan file after promote"] = (a.work_dir / "plans" / "prod.tfplan").exists()
    a.timed("prod: apply build B, a second operator racing", lambda: _racing_applies(a, r))
    r["running"] = {env: a.running_code(env) for env in ENVS}
    r["releases"] = {env: a.release(env) for env in ENVS}


def _racing_applies(a: Accounts, r: dict[str, Any]) -> None:
    """Operator 1 applies prod's promotion plan; operator 2 (own checkout state: its own
    working data and plan) planned the same change and applies while 1 holds the lock."""
    op2 = {"DEPLOY_WORK_DIR": str(a.work_dir.parent / "work-operator-2")}
    a.make("operator 2: plan prod", "plan", "ENV=prod", extra_env=op2)
    s3 = a.client("s3", ACCOUNTS["prod"])
    ddb = a.client("dynamodb", ACCOUNTS["prod"])
    lock_key = "prod/platform.tfstate.tflock"
    outcome: dict[str, Step] = {}
    first = threading.Thread(
        target=lambda: outcome.setdefault(
            "op1",
            a.make("operator 1: apply prod", "apply", "ENV=prod", "CONFIRM=prod", expect=None),
        )
    )
    first.start()
    held: dict[str, Any] = {}
    state_path = f"{state_bucket('prod')}/prod/platform.tfstate"
    deadline = time.monotonic() + 180
    locked_since: float | None = None
    while first.is_alive() and time.monotonic() < deadline:
        try:
            s3.head_object(Bucket=state_bucket("prod"), Key=lock_key)
            item = ddb.get_item(
                TableName="acme-platform-tfstate-lock", Key={"LockID": {"S": state_path}}
            )
        except Exception:  # not there yet
            item = {}
        if "Item" not in item:
            locked_since = None
            time.sleep(0.1)
            continue
        # Both locks held for a moment: operator 1 is past acquiring them. An acquisition the
        # emulator spoils (see Accounts._release_orphaned_lock) fails within that moment and
        # is retried by the harness, so operator 2 must not start before.
        locked_since = locked_since or time.monotonic()
        if time.monotonic() - locked_since < 1.5:
            time.sleep(0.1)
            continue
        held["s3 lock file"] = True
        held["dynamodb lock items"] = sorted(
            item["LockID"]["S"]
            for item in ddb.scan(TableName="acme-platform-tfstate-lock")["Items"]
        )
        r["operator 2 apply while locked"] = a.make(
            "operator 2: apply prod while operator 1 applies",
            "apply",
            "ENV=prod",
            "CONFIRM=prod",
            extra_env=op2,
            expect=None,
            recover=False,
        )
        held["operator 1 still applying after operator 2 was refused"] = first.is_alive()
        break
    first.join()
    r["lock held"] = held
    r["operator 1 apply"] = outcome.get("op1")
    r["operator 2 apply stale plan"] = a.make(
        "operator 2: apply its plan after operator 1 finished",
        "apply",
        "ENV=prod",
        "CONFIRM=prod",
        extra_env=op2,
        expect=None,
    )
    r["operator 2 plan again"] = a.make(
        "operator 2: plan prod again", "plan", "ENV=prod", extra_env=op2
    )
    r["operator 2 apply"] = a.make(
        "operator 2: apply prod", "apply", "ENV=prod", "CONFIRM=prod", extra_env=op2, expect=None
    )
