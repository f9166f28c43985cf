"""tools/local/ministack.py: start, status, stop and logs of the local ministack.

Every test gets its own free port and state directory, so they neither touch a
developer's running emulator nor each other (pytest-xdist safe). The pinned
virtualenv under .local/venvs/ministack is shared and installed once.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.local import ministack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="session")
def installed() -> None:
    ministack.install(quiet=True)


@pytest.fixture
def env(tmp_path: Path, installed: None) -> Iterator[dict[str, str]]:
    """Environment naming a private port and state directory; stops what it started."""
    values = {
        **os.environ,
        "EMULATOR_PORT": str(_free_port()),
        "EMULATOR_STATE_DIR": str(tmp_path / "emulator"),
        # What a developer's shell might carry; none of it may reach the ministack.
        "PYTHONPATH": "/nonexistent/leak",
        "AWS_ENDPOINT_URL": "http://192.0.2.1:1",
    }
    yield values
    cli("stop", env=values)


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.local.ministack", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _client(service: str, url: str):
    """A client of the emulator at `url`, with the credentials and region it gives handlers."""
    import boto3

    creds = ministack.aws_env(url)
    return boto3.client(
        service,
        endpoint_url=creds["AWS_ENDPOINT_URL"],
        region_name=creds["AWS_REGION"],
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )


def _pid(env: dict[str, str]) -> int:
    return int((Path(env["EMULATOR_STATE_DIR"]) / "pid").read_text())


def test_start_waits_until_healthy_and_status_reports_it(env):
    started = cli("start", env=env)

    assert started.returncode == 0, started.stderr
    assert "healthy at" in started.stdout
    port = env["EMULATOR_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_ministack/health", timeout=5) as resp:
        assert json.loads(resp.read())["version"] == ministack.MINISTACK_VERSION
    status = cli("status", env=env)
    assert status.returncode == 0
    assert f"running pid {_pid(env)}, port {port}, healthy" in status.stdout
    assert cli("endpoint", env=env).stdout.strip() == f"http://127.0.0.1:{port}"


def test_emulator_listens_on_loopback_only_and_keeps_its_files_in_its_state_dir(env):
    assert cli("start", env=env).returncode == 0
    state = Path(env["EMULATOR_STATE_DIR"])

    port = int(env["EMULATOR_PORT"])
    listening = [
        line.split()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A" and int(line.split()[1].rsplit(":", 1)[1], 16) == port
    ]
    assert listening == [f"0100007F:{port:04X}"]  # 127.0.0.1, not 0.0.0.0
    assert (state / "emulator.log").stat().st_size > 0
    assert (state / "tmp" / f"ministack-{port}.pid").exists()  # its TMPDIR is ours


def test_second_start_is_a_fast_no_op(env):
    assert cli("start", env=env).returncode == 0
    first_pid = _pid(env)

    began = time.monotonic()
    again = cli("start", env=env)

    assert again.returncode == 0
    assert "already running and healthy" in again.stdout
    assert _pid(env) == first_pid
    assert time.monotonic() - began < 5


def test_stop_stops_only_the_pid_it_started(env):
    assert cli("start", env=env).returncode == 0
    pid = _pid(env)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stopped = cli("stop", env=env)

        assert stopped.returncode == 0
        assert f"stopping ministack (pid {pid}" in stopped.stdout
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid)
        assert bystander.poll() is None
        assert not (Path(env["EMULATOR_STATE_DIR"]) / "pid").exists()
        status = cli("status", env=env)
        assert status.returncode != 0
        assert "not running" in status.stdout
    finally:
        bystander.kill()
        bystander.wait()


def test_start_right_after_stop_reuses_the_port(env):
    assert cli("start", env=env).returncode == 0
    port = env["EMULATOR_PORT"]
    urllib.request.urlopen(f"http://127.0.0.1:{port}/_ministack/health", timeout=5).close()
    assert cli("stop", env=env).returncode == 0

    restarted = cli("start", env=env)

    assert restarted.returncode == 0, restarted.stderr
    assert "healthy at" in restarted.stdout


def test_stop_leaves_a_process_alone_when_the_pid_file_names_someone_else(env):
    state = Path(env["EMULATOR_STATE_DIR"])
    state.mkdir(parents=True)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (state / "pid").write_text(f"{stranger.pid}\n")

        stopped = cli("stop", env=env)

        assert stopped.returncode == 0
        assert "not our emulator" in stopped.stdout
        assert stranger.poll() is None
        assert not (state / "pid").exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_busy_port_fails_with_a_message_naming_the_process_and_the_way_out(env):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(env["EMULATOR_PORT"])))
        squatter.listen()

        started = cli("start", env=env)

    assert started.returncode == 2
    port = env["EMULATOR_PORT"]
    assert f"port {port} on 127.0.0.1 is already in use by pid {os.getpid()}" in started.stderr
    assert "EMULATOR_PORT=" in started.stderr
    assert not (Path(env["EMULATOR_STATE_DIR"]) / "pid").exists()


def test_an_emulator_that_dies_while_starting_shows_its_last_log_lines(env):
    env["EMULATOR_LOG_LEVEL"] = "NOT-A-LEVEL"  # hypercorn refuses it after the banner

    started = cli("start", env=env, timeout=60)

    assert started.returncode == 2
    assert "exited (code 1) before it became healthy" in started.stderr
    assert "Unknown level" in started.stderr
    assert not (Path(env["EMULATOR_STATE_DIR"]) / "pid").exists()


def test_python_api_ensure_running_returns_the_endpoint_and_reuses_it(env, monkeypatch):
    for key in ("EMULATOR_PORT", "EMULATOR_STATE_DIR"):
        monkeypatch.setenv(key, env[key])

    url = ministack.ensure_running(quiet=True)
    pid = ministack.status().pid

    assert url == f"http://127.0.0.1:{env['EMULATOR_PORT']}"
    assert ministack.ensure_running(quiet=True) == url
    assert ministack.status().pid == pid
    assert ministack.status().healthy
    assert ministack.stop(quiet=True) is True
    assert not ministack.status().running


HANDLER = """
import json, os
def handler(event, context):
    print("hello from", context.function_name)
    return {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "PYTHONPATH")}
"""


def create_function(env: dict[str, str], name: str, source: str) -> Any:
    """Start the emulator and create a Python function `name` from one handler module; returns
    a Lambda client of the emulator."""
    assert cli("start", env=env).returncode == 0
    url = cli("endpoint", env=env).stdout.strip()
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr(f"{name}/handler.py", source)
    client = _client("lambda", url)
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=f"arn:aws:iam::000000000000:role/{name}",
        Handler=f"{name}.handler.handler",
        Code={"ZipFile": code.getvalue()},
        Timeout=60,
    )
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 20}
    )
    return client


def test_a_handler_runs_against_this_emulator_and_its_output_is_in_function_logs(env):
    client = create_function(env, "probe", HANDLER)
    url = cli("endpoint", env=env).stdout.strip()

    result = json.loads(client.invoke(FunctionName="probe")["Payload"].read())

    # The function's SDK calls go to this emulator; the caller's shell does not leak in.
    assert result == {"AWS_ENDPOINT_URL": url, "PYTHONPATH": None}
    logs = cli("logs", "--function", "probe", env=env)
    assert logs.returncode == 0
    assert "hello from probe" in logs.stdout
    assert "REPORT RequestId:" in logs.stdout


def test_cognito_tokens_of_this_emulator_are_signed_with_the_keys_its_jwks_publishes(env):
    """Without `cryptography` in the emulator's virtualenv, ministack signs nothing and serves a
    dummy key, so its JWT authorizers refuse every token (docs/emulators.md)."""
    import jwt

    assert cli("start", env=env).returncode == 0
    url = cli("endpoint", env=env).stdout.strip()
    cognito = _client("cognito-idp", url)
    pool = cognito.create_user_pool(PoolName="probe")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="probe", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="cust-1", MessageAction="SUPPRESS")
    password = "Probe-password-1"  # noqa: S105 - a throwaway user of a throwaway emulator
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="cust-1", Password=password, Permanent=True
    )
    token = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "cust-1", "PASSWORD": password},
    )["AuthenticationResult"]["AccessToken"]

    keys = jwt.PyJWKClient(f"{url}/{pool}/.well-known/jwks.json", cache_keys=False)
    claims = jwt.decode(
        token,
        keys.get_signing_key_from_jwt(token),
        algorithms=["RS256"],
        options={"verify_aud": False},
    )

    assert claims["iss"].endswith(f"/{pool}")
    assert (claims["token_use"], claims["username"]) == ("access", "cust-1")


SLEEPER = """
import time
def handler(event, context):
    time.sleep(event.get("seconds", 0))
    return "slept"
"""


def test_a_worker_in_an_invocation_is_found_and_killed_and_no_other_process_is(env, tmp_path):
    client = create_function(env, "sleeper", SLEEPER)
    emulator = _pid(env)
    client.invoke(FunctionName="sleeper", Payload=b'{"seconds": 0}')  # a worker, now idle
    [idle] = ministack.function_workers(emulator)
    assert (idle.function, idle.busy) == ("sleeper", False)

    # A process that looks like a worker but is not the emulator's: never listed, never killed.
    script = tmp_path / "ministack-lambda-sleeper-abcd1234" / "_worker.py"
    script.parent.mkdir()
    script.write_text("import time; time.sleep(120)")
    decoy = subprocess.Popen([sys.executable, str(script)])
    try:
        answers: list[dict] = []
        call = threading.Thread(
            target=lambda: answers.append(
                client.invoke(FunctionName="sleeper", Payload=b'{"seconds": 30}')
            )
        )
        call.start()
        deadline = time.monotonic() + 20
        while not (busy := [w for w in ministack.function_workers(emulator) if w.busy]):
            assert time.monotonic() < deadline, "the invocation never showed as in flight"
            time.sleep(0.05)
        assert [w.pid for w in busy] == [idle.pid]
        assert decoy.pid not in {w.pid for w in ministack.function_workers(emulator)}
        lookalike = ministack.FunctionWorker(
            decoy.pid, "sleeper", True, (sys.executable, str(script))
        )
        assert not ministack.kill_function_worker(lookalike, emulator)
        assert decoy.poll() is None

        assert ministack.kill_function_worker(busy[0], emulator)
        call.join(timeout=20)
        payload = json.loads(answers[0]["Payload"].read())
        assert answers[0]["FunctionError"]  # the invocation failed, as a crashed Lambda's does
        assert "died" in json.dumps(payload)
    finally:
        decoy.kill()
        decoy.wait()
