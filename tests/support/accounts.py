"""Three AWS accounts on one local emulator, deployed the way a platform team deploys AWS.

The roots under terraform/ are used exactly as committed, through the same make targets;
they are pointed at the emulator from outside only:

- AWS_ENDPOINT_URL: the AWS provider (5.100) and the S3 backend send every call there;
  with an IP-address endpoint the SDK addresses S3 buckets path-style by itself.
- Credentials of a CI role session in the "tooling" account (the emulator takes a 12-digit
  access key id as the account, and an assumed role's session as the role's account). The
  bootstrap assumes OrganizationAccountAccessRole, the environments their deploy roles, as
  their committed files say.
- DEPLOY_TERRAFORM_DIR: a copy of terraform/ (byte for byte), so that `make publish` and
  `make promote` can rewrite release files without touching the repository's; and
  DEPLOY_WORK_DIR: terraform working data, plans and bootstrap state of this run.
- What the emulator cannot do is overridden in that copy only, by Terraform override files
  from tests/support/overrides (EMULATOR_OVERRIDES): no root has a variable for it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.emulator import free_port
from tests.support.terraform import place_overrides
from tools.iam import deployed, terraform_log
from tools.iam.calls import ENV_DIR, session_log
from tools.release.build import discover_services
from tools.terraform.locks import held_lock, release

REPO_ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
REGION = "eu-west-1"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
TOOLING_ACCOUNT = "999999999999"
CI_ROLE = f"arn:aws:iam::{TOOLING_ACCOUNT}:role/acme-platform-ci"
NAME_PREFIX = "acme-platform"
REPAIRS_PER_STEP = 3  # lost answers repaired per step before it counts as failed
# What the emulator cannot do, overridden in the copy of terraform/ (each file says why):
# directory of the copy -> override file of tests/support/overrides.
EMULATOR_OVERRIDES = {
    # ministack's DescribeAlarms answers without most fields: every plan would show a diff.
    "environments/dev": "ministack_environment_override.tf",
    "environments/staging": "ministack_environment_override.tf",
    "environments/prod": "ministack_environment_override.tf",
    # The emulator speaks plain http: cross-account reads of the artifact bucket can't be TLS.
    "bootstrap": "ministack_bootstrap_override.tf",
}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def state_bucket(env: str) -> str:
    return f"{NAME_PREFIX}-{ACCOUNTS[env]}-tfstate"


def artifact_bucket(env: str) -> str:
    return f"{NAME_PREFIX}-{ACCOUNTS[env]}-artifacts"


def deploy_role(env: str) -> str:
    return f"arn:aws:iam::{ACCOUNTS[env]}:role/{NAME_PREFIX}-deploy-{env}"


@dataclass
class Step:
    """One command of the scenario and what it answered."""

    name: str
    args: list[str]
    returncode: int
    output: str
    seconds: float
    started_at: float = 0.0

    def __str__(self) -> str:
        return f"{self.name}: `{' '.join(self.args)}` -> {self.returncode}\n{self.output[-5000:]}"

    @property
    def applied_something(self) -> bool:
        """Whether the step changed the state before it failed (its saved plan is then stale)."""
        return bool(
            re.search(r"(?m): (Creation|Modifications|Destruction) complete after ", self.output)
        )


class StepFailed(AssertionError):
    pass


@dataclass
class Accounts:
    """The emulator, the copy of terraform/ and a command runner with the scenario's environment."""

    base: Path
    port: int = field(default_factory=free_port)
    steps: list[Step] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _states: dict[str, Any] = field(default_factory=dict)
    # What the runner repaired after the emulator lost an answer, one entry per repair.
    repairs: list[dict[str, str]] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def terraform_dir(self) -> Path:
        return self.base / "repo" / "terraform"

    @property
    def work_dir(self) -> Path:
        return self.base / "work"

    @property
    def emulator_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "EMULATOR_PORT": str(self.port),
            "EMULATOR_STATE_DIR": str(self.base / "emulator"),
        }

    # --- setup ----------------------------------------------------------------------------

    def start(self) -> None:
        started = time.perf_counter()
        subprocess.run(
            [PY, "-m", "tools.local.ministack", "start"],
            cwd=REPO_ROOT,
            env=self.emulator_env,
            check=True,
            capture_output=True,
        )
        shutil.copytree(
            REPO_ROOT / "terraform",
            self.terraform_dir,
            ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
        )
        place_overrides(self.terraform_dir, EMULATOR_OVERRIDES)
        sts = self.client("sts", TOOLING_ACCOUNT)
        creds = sts.assume_role(RoleArn=CI_ROLE, RoleSessionName="platform-ci-tests")
        self.credentials = {
            "AWS_ACCESS_KEY_ID": creds["Credentials"]["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["Credentials"]["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["Credentials"]["SessionToken"],
        }
        self.timings["setup: emulator, copy, CI session"] = time.perf_counter() - started

    def copy_without_overrides(self, destination: Path) -> Path:
        """This run's terraform/ (release files as they are now) without the emulator's override
        files: the roots as committed, for a plan on the state this run applied."""
        shutil.copytree(
            self.terraform_dir,
            destination,
            ignore=shutil.ignore_patterns(*set(EMULATOR_OVERRIDES.values())),
        )
        return destination

    def stop(self) -> None:
        subprocess.run(
            [PY, "-m", "tools.local.ministack", "stop"],
            cwd=REPO_ROOT,
            env=self.emulator_env,
            check=False,
            capture_output=True,
        )

    # --- running commands -------------------------------------------------------------------

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The caller's environment without any AWS, Terraform-variable or deploy setting of
        its own, plus the emulator, the CI session and this run's directories."""
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "TF_VAR_", "DEPLOY_", "TF_CLI_ARGS", "TF_WORKSPACE"))
            and k not in ("TF_DATA_DIR", "CONFIRM", "ENV", "FROM", "TO", "MANIFEST")
        }
        return {
            **inherited,
            "AWS_ENDPOINT_URL": self.endpoint,
            **self.credentials,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(self.base / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.base / "no-aws-credentials"),
            "DEPLOY_TERRAFORM_DIR": str(self.terraform_dir),
            "DEPLOY_WORK_DIR": str(self.work_dir),
            **(extra or {}),
        }

    def run(
        self,
        name: str,
        args: Sequence[str],
        extra_env: Mapping[str, str] | None = None,
        expect: int | None = 0,
        timeout: float = 900,
        recover: bool = True,
    ) -> Step:
        step = self._run_once(name, args, extra_env, timeout)
        # The emulator can lose answers to the same step again (seen: two lock acquisitions in a
        # row spoiled under load): each retry gets its own repair, up to REPAIRS_PER_STEP.
        for attempt in range(1, REPAIRS_PER_STEP + 1):
            if not (recover and step.returncode != 0 and self._repair_lost_answer(step)):
                break
            again = "" if attempt == 1 else f" {attempt}"
            if "apply" in args and step.applied_something:
                # The saved plan is stale once the failed apply changed the state: plan again,
                # as an operator would, then apply that.
                plan = [("plan" if arg == "apply" else arg) for arg in args]
                plan = [arg for arg in plan if not arg.startswith("CONFIRM=")]
                self._run_once(
                    f"{name} (plan again after a repair{again})", plan, extra_env, timeout
                )
            step = self._run_once(f"{name} (after a repair{again})", args, extra_env, timeout)
        if expect is not None and step.returncode != expect:
            raise StepFailed(f"expected exit {expect}\n{step}")
        return step

    def _run_once(
        self,
        name: str,
        args: Sequence[str],
        extra_env: Mapping[str, str] | None,
        timeout: float,
    ) -> Step:
        started_at = time.time()
        started = time.perf_counter()
        log = self.base / "logs" / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".log")
        log.parent.mkdir(parents=True, exist_ok=True)
        # Terraform's debug log names every AWS call it makes (tools/iam judges them against
        # the deploy role); ACCOUNTS_TF_LOG=trace asks for more and keeps the log.
        tf_log = Path(f"{log}.tf")
        tf_log.unlink(missing_ok=True)
        debug = {"TF_LOG": os.environ.get("ACCOUNTS_TF_LOG", "debug"), "TF_LOG_PATH": str(tf_log)}
        proc = subprocess.run(
            list(args),
            cwd=REPO_ROOT,
            env=self.env({**debug, **(extra_env or {})}),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        step = Step(
            name,
            list(args),
            proc.returncode,
            _ANSI.sub("", proc.stdout + proc.stderr),
            time.perf_counter() - started,
            started_at,
        )
        with self._lock:
            self.steps.append(step)
            self.timings[name] = step.seconds
        log.write_text(f"{step.name}: `{' '.join(step.args)}` -> {step.returncode}\n{step.output}")
        self._record_terraform_calls(step, tf_log, extra_env or {})
        return step

    def _record_terraform_calls(
        self, step: Step, tf_log: Path, extra_env: Mapping[str, str]
    ) -> None:
        """The AWS calls Terraform made in an environment's step, as that environment's deploy
        role (every key but the CI session's is the role's session), into the test session's
        call log. Steps run with another role on purpose (the wrong-account checks) and the
        bootstrap's (OrganizationAccountAccessRole) are not the deploy role's."""
        # ENV= of plan/apply/destroy. Not promote's: it reads FROM's state with FROM's role
        # and plans TO with TO's, in one log, and the log does not say which key is whose.
        env = next((a[4:] for a in step.args if a.startswith("ENV=")), None)
        if env is None and "-chdir=" in " ".join(step.args):
            env = next((p for p in ACCOUNTS if f"/environments/{p}" in " ".join(step.args)), None)
        call_log = session_log(f"terraform-{env}")
        if (
            call_log is None
            or env not in ACCOUNTS
            or "TF_VAR_deploy_role_arn" in extra_env
            or not tf_log.exists()
        ):
            return
        text = tf_log.read_text(errors="replace")
        ci_key = terraform_log.masked(self.credentials.get("AWS_ACCESS_KEY_ID", ""))
        role = deploy_role(env)
        keys = {key: role for key in terraform_log.access_keys(text) if key != ci_key}
        call_log.write(terraform_log.parse(text, keys, ACCOUNTS[env], f"terraform: {step.name}"))
        if "ACCOUNTS_TF_LOG" not in os.environ:
            tf_log.unlink()

    def record_deploy_role(self, env: str) -> None:
        """ENV's deploy role and the policies of its account's buckets as the bootstrap applied
        them, for tools/iam to judge Terraform's calls against."""
        directory = os.environ.get(ENV_DIR)
        if directory:
            snapshot = deployed.read_roles(
                lambda service: self.client(service, ACCOUNTS[env]),
                [deploy_role(env).rsplit("/", 1)[1]],
                env,
            )
            deployed.write(snapshot, Path(directory) / "deployed")

    def _repair_lost_answer(self, step: Step) -> bool:
        """Undo what the failed step itself created but never heard back about.

        Seen on this emulator under load: a connection fails after the emulator has performed
        a create, the SDK retries it, and the retry is refused because the thing exists. The
        step then fails on its own work. Each repair is what an operator would do by hand, is
        limited to what the step created, and is recorded in `repairs`."""
        return (
            self._release_orphaned_lock(step)
            or self._delete_orphaned_alias(step)
            or self._remove_orphaned_permission(step)
        )

    def _release_orphaned_lock(self, step: Step) -> bool:
        """A lock the failed step itself left behind, released as `terraform force-unlock` would:
        the retried conditional PutItem found the lock item the first attempt stored, and
        Terraform reported its own lock as held by someone else. Only a lock created after the
        step started is released, never one another operation holds."""
        lock = held_lock(step.output)
        if lock is None or lock.created < step.started_at - 1:
            return False
        account = lock.bucket.split("-")[-2]
        release(
            lock,
            f"{NAME_PREFIX}-tfstate-lock",
            self.client("dynamodb", account),
            self.client("s3", account),
        )
        self._record_repair(step, f"released the state lock {lock.lock_id} on {lock.path}")
        return True

    def _delete_orphaned_alias(self, step: Step) -> bool:
        """An alias the failed apply created on a function it created, refused on the retry: it
        is in no state, so it is deleted and the apply creates it again."""
        orphan = orphaned_alias(step.output)
        env = next((arg[4:] for arg in step.args if arg.startswith("ENV=")), None)
        if orphan is None or env not in ACCOUNTS:
            return False
        function, alias = orphan
        self.client("lambda", ACCOUNTS[env]).delete_alias(FunctionName=function, Name=alias)
        self._record_repair(step, f"deleted alias {alias} of {function}, created by the step")
        return True

    def _remove_orphaned_permission(self, step: Step) -> bool:
        """A function permission the failed apply added, refused on the retry ("statement id
        already exists"): it is in no state, so it is removed and the apply adds it again.
        (The provider retries that refusal for 5 minutes first, holding the function's lock.)"""
        orphan = orphaned_permission(step.output)
        env = next((arg[4:] for arg in step.args if arg.startswith("ENV=")), None)
        if orphan is None or env not in ACCOUNTS:
            return False
        function, statement = orphan
        self.client("lambda", ACCOUNTS[env]).remove_permission(
            FunctionName=function, StatementId=statement
        )
        self._record_repair(
            step, f"removed permission {statement} of {function}, added by the step"
        )
        return True

    def _record_repair(self, step: Step, what: str) -> None:
        with self._lock:
            self.repairs.append({"step": step.name, "repair": what})

    def make(
        self,
        name: str,
        *args: str,
        extra_env: Mapping[str, str] | None = None,
        expect: int | None = 0,
        recover: bool = True,
    ) -> Step:
        """A make target, as a person runs it. The virtualenv is the one running these tests:
        `-o` keeps make from rebuilding it should pyproject.toml change meanwhile."""
        checksum = subprocess.run(
            ["cksum", "pyproject.toml"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.split()[0]
        stamp = f".venv/.installed-{checksum}"
        return self.run(
            name, ["make", "-s", "-o", stamp, *args], extra_env, expect, recover=recover
        )

    def terraform(
        self,
        name: str,
        env: str,
        *args: str,
        work_dir: Path | None = None,
        terraform_dir: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        expect: int | None = 0,
    ) -> Step:
        """terraform itself in ENV's root (of this run's copy of terraform/, or TERRAFORM_DIR),
        with the working data `make init ENV` made."""
        data = (work_dir or self.work_dir) / "terraform" / env
        root = (terraform_dir or self.terraform_dir) / "environments" / env
        return self.run(
            name,
            [str(REPO_ROOT / "tools" / "terraform" / "tf"), f"-chdir={root}", *args],
            {"TF_DATA_DIR": str(data), "TF_INPUT": "0", **(extra_env or {})},
            expect,
        )

    def timed(self, name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return action()
        finally:
            with self._lock:
                self.timings[name] = time.perf_counter() - started

    # --- reading the accounts ---------------------------------------------------------------

    def client(self, service: str, account: str) -> Any:
        """A client acting as the account's root (12-digit access key id)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=account,
            aws_secret_access_key="test",  # noqa: S106 - the emulator's
        )

    def release(self, env: str) -> dict[str, Any]:
        return json.loads(self.release_path(env).read_text())

    def release_path(self, env: str) -> Path:
        return self.terraform_dir / "environments" / env / "release.json"

    def state(self, env: str) -> dict[str, Any]:
        """The environment's state as `terraform show -json` gives it (read once)."""
        if env not in self._states:
            step = self.terraform(f"{env}: show state", env, "show", "-json")
            self._states[env] = json.loads(step.output[step.output.index("{") :])
        return self._states[env]

    def running_code(self, env: str) -> dict[str, str]:
        """CodeSha256 of each function's live alias, and of the layer they use."""
        lam = self.client("lambda", ACCOUNTS[env])
        found: dict[str, str] = {}
        layers = set()
        for name in discover_services(REPO_ROOT):
            function = f"orders-{env}-{name.replace('_', '-')}"  # terraform/stack's naming
            config = lam.get_function(FunctionName=function, Qualifier="live")["Configuration"]
            found[name] = config["CodeSha256"]
            layers.update(layer["Arn"] for layer in config["Layers"])
        assert len(layers) == 1, layers
        found["layer"] = lam.get_layer_version_by_arn(Arn=layers.pop())["Content"]["CodeSha256"]
        return found


def lock_in_error(output: str) -> tuple[str, str, str, float] | None:
    """(lock id, bucket, key, created epoch) of the lock a "state lock" error names."""
    lock = held_lock(output)
    return None if lock is None else (lock.lock_id, lock.bucket, lock.key, lock.created)


def orphaned_alias(output: str) -> tuple[str, str] | None:
    """(function, alias) when an apply failed creating an alias that already existed on a
    function the same apply had just created: only the apply itself can have made it."""
    refused = re.search(
        r"Error: creating Lambda Alias \((?P<alias>[^)]+)\).*?Alias already exists.*?"
        r"with (?P<module>\S+)\.aws_lambda_alias\.",
        output,
        re.S,
    )
    if refused is None:
        return None
    created = re.search(
        rf"(?m)^{re.escape(refused['module'])}\.aws_lambda_function\.\w+: "
        r"Creation complete after \S+ \[id=(?P<function>[^\]]+)\]",
        output,
    )
    return None if created is None else (created["function"], refused["alias"])


def orphaned_permission(output: str) -> tuple[str, str] | None:
    """(function, statement id) when an apply failed adding a function permission whose
    statement already existed, while that same apply was creating the permission."""
    refused = re.search(
        r"Error: adding Lambda Permission \((?P<function>[^/)]+)/(?P<statement>[^)]+)\).*?"
        r"provided already exists.*?with (?P<address>[^\n]+),\s*\n",
        output,
        re.S,
    )
    if refused is None or f"{refused['address']}: Creating..." not in output:
        return None
    return refused["function"], refused["statement"]


def managed_resources(state: dict[str, Any]) -> list[dict[str, Any]]:
    def walk(module: dict[str, Any]):
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    root = state.get("values", {}).get("root_module", {})
    return [r for r in walk(root) if r["mode"] == "managed"]


def build(out: Path, epoch: str | None = None) -> dict[str, Any]:
    """The arm64 build (what AWS runs) into OUT, sharing the repository's dependency cache."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    subprocess.run(
        [
            PY,
            "-m",
            "tools.release.build",
            "--arch",
            "arm64",
            "--out",
            str(out),
            "--cache-dir",
            str(REPO_ROOT / "dist" / ".cache"),
        ],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return json.loads((out / "arm64" / "manifest.json").read_text())


def in_parallel(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads; re-raise the first failure after all have ended."""
    results: list[Any] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(index: int, action: Callable[[], Any]) -> None:
        try:
            results[index] = action()
        except BaseException as error:  # reported below, after every thread has ended
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
