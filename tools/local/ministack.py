"""The local AWS emulator (ministack) for the local stack: install, start, stop, inspect.

    python -m tools.local.ministack install|start|stop|status|logs|endpoint|reset

ministack runs in its own virtualenv (``.local/venvs/ministack``) on the
Python nearest to the Lambda runtime, bound to 127.0.0.1 only, with every file
it writes under ``.local/emulator/``. It executes Python handlers in worker
processes of that interpreter, so that virtualenv also carries boto3 at the
version matching ministack's botocore pin, as the Lambda runtime does.

Environment:
    EMULATOR_PORT           port on 127.0.0.1 (default 4566)
    EMULATOR_REGION         default region of the emulator (default eu-west-1)
    EMULATOR_PYTHON         interpreter for the virtualenv (default: python3.12 if found)
    EMULATOR_START_TIMEOUT  seconds to wait for health (default 60)
    EMULATOR_PERSIST        1 = keep emulator state across restarts in .local/emulator/state
    EMULATOR_STATE_DIR      instead of .local/emulator (tests use their own)
    EMULATOR_RECORD_CALLS   1 = keep every request in the emulator's CloudTrail log
                            (LookupEvents; the tests judge the functions' calls with it)

Other tools and tests import it: ``ensure_running() -> endpoint``, ``stop()``,
``status()``, ``endpoint()``, ``aws_env()``.

Standard library only: it runs from the project virtualenv or any Python >= 3.10.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

MINISTACK_VERSION = "1.5.33"
# ministack pins botocore==1.43.106. Handlers run on ministack's interpreter, and
# the Lambda runtime provides boto3, so boto3 is installed at the matching version.
BOTO3_VERSION = "1.43.106"
# Cognito signs tokens and the HTTP API's JWT authorizer verifies them with it (ministack's
# `full` extra, not installed by default): without it every token answers 401.
CRYPTOGRAPHY_VERSION = "50.0.2"
PINS = (
    f"ministack=={MINISTACK_VERSION}",
    f"boto3=={BOTO3_VERSION}",
    f"cryptography=={CRYPTOGRAPHY_VERSION}",
)
EXPECTED_VERSIONS = {
    "ministack": MINISTACK_VERSION,
    "boto3": BOTO3_VERSION,
    "cryptography": CRYPTOGRAPHY_VERSION,
}

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".local" / "venvs" / "ministack"
DEFAULT_STATE = ROOT / ".local" / "emulator"

HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_REGION = "eu-west-1"
HEALTH_PATH = "/_ministack/health"


class EmulatorError(RuntimeError):
    """A failure with a message meant for the person at the terminal."""


def _say(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(f"==> emulator: {msg}", flush=True)


def state_dir() -> Path:
    """Where the pid file, the log and every file of the emulator live."""
    return Path(os.environ.get("EMULATOR_STATE_DIR") or DEFAULT_STATE).resolve()


def pid_file() -> Path:
    return state_dir() / "pid"


def log_file() -> Path:
    return state_dir() / "emulator.log"


def _info_file() -> Path:
    return state_dir() / "emulator.json"


def port() -> int:
    raw = os.environ.get("EMULATOR_PORT", str(DEFAULT_PORT))
    try:
        value = int(raw)
    except ValueError:
        raise EmulatorError(f"EMULATOR_PORT={raw!r} is not a port number") from None
    if not 0 < value < 65536:
        raise EmulatorError(f"EMULATOR_PORT={raw!r} is not a port number")
    return value


def region() -> str:
    return os.environ.get("EMULATOR_REGION", DEFAULT_REGION)


def endpoint(port_: int | None = None) -> str:
    """The emulator's URL: the running one's port, else the configured port."""
    if port_ is None:
        info = _read_info()
        port_ = info["port"] if info and _is_ours(info.get("pid")) else port()
    return f"http://{HOST}:{port_}"


def aws_env(endpoint_url: str | None = None) -> dict[str, str]:
    """Environment for terraform, boto3 and the AWS CLI to talk only to the emulator."""
    reg = region()
    return {
        "AWS_ENDPOINT_URL": endpoint_url or endpoint(),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": reg,
        "AWS_DEFAULT_REGION": reg,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


# --- install -----------------------------------------------------------------


def _find_python() -> str:
    explicit = os.environ.get("EMULATOR_PYTHON")
    if explicit:
        return explicit
    home = Path.home()
    candidates = [
        shutil.which("python3.12"),
        *sorted(glob.glob(str(home / ".pyenv/versions/3.12*/bin/python3.12")), reverse=True),
        shutil.which("python3.13"),
        *sorted(glob.glob(str(home / ".pyenv/versions/3.13*/bin/python3.13")), reverse=True),
        shutil.which("python3"),
    ]
    for cand in candidates:
        if not cand:
            continue
        probe = subprocess.run(
            [cand, "-c", "import sys; print(sys.version_info >= (3, 10))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.strip() == "True":
            return cand
    raise EmulatorError(
        "no Python >= 3.10 found (3.12 preferred); set EMULATOR_PYTHON=/path/to/python"
    )


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def installed_versions() -> dict[str, str] | None:
    """Versions of the pinned packages in the emulator virtualenv, or None if unusable."""
    py = _venv_python()
    if not py.exists():
        return None
    code = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        f"for n in {(*EXPECTED_VERSIONS, 'botocore')!r}:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    res = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return None
    return json.loads(res.stdout)


def is_installed() -> bool:
    versions = installed_versions() or {}
    return all(versions.get(name) == version for name, version in EXPECTED_VERSIONS.items())


def install(quiet: bool = False) -> Path:
    """Create the emulator virtualenv with the pinned ministack; a no-op when present."""
    if is_installed():
        _say(f"ministack {MINISTACK_VERSION} already installed in {_rel(VENV)}", quiet)
        return _venv_python()
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with (VENV.parent / "ministack.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel callers (test workers) install once
        if is_installed():
            return _venv_python()
        return _install_locked(quiet)


def _install_locked(quiet: bool) -> Path:
    python = _find_python()
    if not _venv_python().exists():
        _say(f"creating {_rel(VENV)} with {python}", quiet)
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    _say(f"installing {' '.join(PINS)} (ministack pins its own botocore)", quiet)
    res = subprocess.run(
        [
            str(_venv_python()),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *PINS,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise EmulatorError(f"pip install {' '.join(PINS)} failed:\n{res.stdout}{res.stderr}")
    if not is_installed():
        raise EmulatorError(f"after pip install, {_rel(VENV)} has {installed_versions()}")
    _say(f"installed ministack {MINISTACK_VERSION}", quiet)
    return _venv_python()


# --- processes and ports -----------------------------------------------------


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _is_ours(pid: int | None) -> bool:
    """True when pid is alive and is ministack running from our virtualenv."""
    if not pid:
        return False
    cmd = _cmdline(pid)
    if not cmd:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":  # a zombie is not running
            return False
    except (OSError, IndexError):
        return False
    return cmd[0].startswith(str(VENV)) and "ministack" in cmd[1:]


def _read_info() -> dict | None:
    try:
        return json.loads(_info_file().read_text())
    except (OSError, ValueError):
        pass
    try:  # a pid file without its info file: the port is unknown
        return {"pid": int(pid_file().read_text().strip()), "port": port()}
    except (OSError, ValueError):
        return None


def _clear_info() -> None:
    for path in (pid_file(), _info_file()):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _listeners(port_: int) -> list[int]:
    """Socket inodes listening on TCP port_ (IPv4 and IPv6, any address)."""
    inodes = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port_:
                inodes.append(int(inode))
    return inodes


def port_owner(port_: int) -> tuple[int, str] | None:
    """(pid, command line) of the process listening on port_, if this user can see it."""
    inodes = {f"socket:[{i}]" for i in _listeners(port_)}
    if not inodes:
        return None
    for fd_dir in glob.glob("/proc/[0-9]*/fd"):
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") in inodes:
                    pid = int(fd_dir.split("/")[2])
                    return pid, " ".join(_cmdline(pid)) or "?"
            except OSError:
                continue
    return -1, "unknown process (not visible to this user)"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _port_in_use(port_: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        if sock.connect_ex((HOST, port_)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the server binds: connections of a just-stopped emulator lingering
        # in TIME_WAIT must not make its own port look taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port_))
        except OSError:
            return True
    return False


def health(port_: int, timeout: float = 2.0) -> dict | None:
    """The emulator's health document, or None when it does not answer."""
    url = f"http://{HOST}:{port_}{HEALTH_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            if resp.status != 200:
                return None
            doc = json.loads(resp.read())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and "services" in doc else None


def _tail(path: Path, lines: int) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(content[-lines:])


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- start / stop / status ---------------------------------------------------


def _server_env(port_: int) -> dict[str, str]:
    """A clean environment: nothing of the caller's AWS, Python or Docker setup leaks
    into the emulator, whose environment every Lambda worker process inherits."""
    tmp = state_dir() / "tmp"
    data = state_dir() / "state"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(state_dir())),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "TMPDIR": str(tmp),  # Lambda code/layer extraction, pid file, caches
        "GATEWAY_PORT": str(port_),
        "BIND_HOST": HOST,
        "MINISTACK_HOST": "localhost",  # <api-id>.execute-api.localhost
        "MINISTACK_REGION": region(),
        "LAMBDA_EXECUTOR": "local",
        "DOCKER_HOST": f"unix://{state_dir()}/no-docker.sock",  # never touch a Docker daemon
        "SFTP_ENABLED": "0",
        "IOT_MTLS_ENABLED": "0",
        "STATE_DIR": str(data),
        "S3_DATA_DIR": str(data / "s3"),
        "LOG_LEVEL": os.environ.get("EMULATOR_LOG_LEVEL", "INFO"),
        "PYTHONUNBUFFERED": "1",
        # Handlers' SDKs must not read the developer's ~/.aws profiles.
        "AWS_CONFIG_FILE": str(state_dir() / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(state_dir() / "no-aws-credentials"),
    }
    if os.environ.get("EMULATOR_RECORD_CALLS") == "1":
        env.update({"CLOUDTRAIL_RECORDING": "1", "CLOUDTRAIL_MAX_EVENTS": "200000"})
    if os.environ.get("EMULATOR_PERSIST") == "1":
        env.update({"PERSIST_STATE": "1", "S3_PERSIST": "1"})
    else:
        env.update({"PERSIST_STATE": "0", "S3_PERSIST": "0"})
    return env


def ensure_running(quiet: bool = False, timeout: float | None = None) -> str:
    """Start the emulator unless ours is already healthy; return its endpoint URL."""
    port_ = port()
    info = _read_info()
    if info and _is_ours(info.get("pid")):
        pid, running_port = info["pid"], info["port"]
        if running_port != port_ and "EMULATOR_PORT" in os.environ:
            raise EmulatorError(
                f"ours is already running on port {running_port} (pid {pid}), not {port_}; "
                "run `python -m tools.local.ministack stop` first to move it"
            )
        if health(running_port):
            _say(f"already running and healthy at {endpoint(running_port)} (pid {pid})", quiet)
            return endpoint(running_port)
        _say(f"pid {pid} is running but not answering yet; waiting", quiet)
        _wait_healthy(pid, running_port, timeout, quiet)
        return endpoint(running_port)
    if info:
        _say(f"removing stale pid file (pid {info.get('pid')} is not our emulator)", quiet)
        _clear_info()

    if _port_in_use(port_):
        owner = port_owner(port_)
        who = f"pid {owner[0]} ({owner[1][:160]})" if owner else "another process"
        hint = (
            " (it answers like ministack: one started by hand or from another checkout)"
            if health(port_)
            else ""
        )
        raise EmulatorError(
            f"port {port_} on {HOST} is already in use by {who}{hint}. "
            "It is not the emulator this tool started, so it is left alone. "
            f"Stop it, or choose another port: EMULATOR_PORT={_suggest_port(port_)} "
            "(and the same variable for every later command)"
        )

    python = install(quiet=quiet)
    state_dir().mkdir(parents=True, exist_ok=True)
    (state_dir() / "tmp").mkdir(exist_ok=True)
    (state_dir() / "state").mkdir(exist_ok=True)
    _say(
        f"starting ministack {MINISTACK_VERSION} on {HOST}:{port_} (log: {_rel(log_file())})", quiet
    )
    if log_file().exists() and log_file().stat().st_size > 20 * 1024 * 1024:
        log_file().replace(log_file().with_suffix(".log.1"))  # keep one old log
    with log_file().open("ab") as log:
        log.write(f"\n--- start {time.strftime('%Y-%m-%dT%H:%M:%S%z')} port {port_} ---\n".encode())
        log.flush()
        proc = subprocess.Popen(
            [str(python), "-m", "ministack"],
            cwd=state_dir(),
            env=_server_env(port_),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Lambda workers go with it
        )
    pid_file().write_text(f"{proc.pid}\n")
    _info_file().write_text(
        json.dumps(
            {"pid": proc.pid, "port": port_, "started": time.time(), "version": MINISTACK_VERSION}
        )
    )
    _wait_healthy(proc.pid, port_, timeout, quiet, proc=proc)
    return endpoint(port_)


def _suggest_port(busy: int) -> int:
    for cand in range(busy + 1, busy + 50):
        if not _port_in_use(cand):
            return cand
    return busy + 1


def _wait_healthy(
    pid: int, port_: int, timeout: float | None, quiet: bool, proc: subprocess.Popen | None = None
) -> None:
    limit = (
        timeout if timeout is not None else float(os.environ.get("EMULATOR_START_TIMEOUT", "60"))
    )
    started = time.monotonic()
    deadline = started + limit
    while True:
        if health(port_, timeout=1.0):
            _say(
                f"healthy at {endpoint(port_)} after {time.monotonic() - started:.1f}s (pid {pid})",
                quiet,
            )
            return
        dead = proc.poll() is not None if proc is not None else not _is_ours(pid)
        if dead:
            code = proc.returncode if proc is not None else "?"
            _clear_info()
            raise EmulatorError(
                f"ministack exited (code {code}) before it became healthy. "
                f"Last lines of {_rel(log_file())}:\n{_tail(log_file(), 25)}"
            )
        if time.monotonic() > deadline:
            raise EmulatorError(
                f"ministack (pid {pid}) did not answer {HEALTH_PATH} on port {port_} within "
                f"{limit:.0f}s (EMULATOR_START_TIMEOUT). It is still running; "
                f"`python -m tools.local.ministack stop` stops it. "
                f"Last lines of {_rel(log_file())}:\n{_tail(log_file(), 25)}"
            )
        time.sleep(0.2)


def _group_members(pgid: int) -> list[int]:
    members = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:  # fields: state, ppid, pgrp, ...
            members.append(int(stat.split("/")[2]))
    return members


def stop(quiet: bool = False, timeout: float = 15.0) -> bool:
    """Stop the emulator this tool started (by its recorded pid); True if one was stopped."""
    info = _read_info()
    if not info:
        _say("not running (no pid file)", quiet)
        return False
    pid = info.get("pid")
    if not _is_ours(pid):
        _say(
            f"pid {pid} from the pid file is not our emulator any more; removing the pid file",
            quiet,
        )
        _clear_info()
        return False
    _say(f"stopping ministack (pid {pid}, port {info.get('port')})", quiet)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_ours(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _is_ours(pid):
        _say(f"pid {pid} ignored SIGTERM for {timeout:.0f}s; sending SIGKILL", quiet)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # Lambda worker processes live in the process group we created for it.
    leftovers = [p for p in _group_members(pid) if p != pid]
    for child in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGTERM)
    if leftovers:
        _say(f"stopped {len(leftovers)} leftover worker process(es)", quiet)
    _clear_info()
    # Extracted function code and layers of this run; persisted state lives in state/.
    shutil.rmtree(state_dir() / "tmp", ignore_errors=True)
    _say("stopped", quiet)
    return True


# --- function worker processes (the fault-injecting load test kills them) ---------------------

# ministack runs each concurrent invocation of a Python function in a worker process of its
# own: `<its python> <TMPDIR>/ministack-lambda-<function>-<mkdtemp suffix>/_worker.py`, a child
# of the emulator. Between invocations the worker waits on its stdin pipe for the next event.
_WORKER_SCRIPT = re.compile(r"/ministack-lambda-(?P<function>.+)-[a-z0-9_]{8}/_worker\.py$")
_WAITING_FOR_AN_EVENT = frozenset({"pipe_read", "anon_pipe_read", "pipe_wait"})


@dataclass(frozen=True)
class FunctionWorker:
    pid: int
    function: str
    busy: bool  # in an invocation (not waiting on its stdin for the next event)
    cmdline: tuple[str, ...]


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: state, ppid, pgrp, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def function_workers(emulator_pid: int | None = None) -> list[FunctionWorker]:
    """The function worker processes of the emulator this tool started (or of
    `emulator_pid`, which must be one): only its own children running a worker script."""
    if emulator_pid is None:
        info = _read_info()
        emulator_pid = info.get("pid") if info else None
    if not emulator_pid or not _is_ours(emulator_pid):
        return []
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if len(fields) < 2 or int(fields[1]) != emulator_pid or fields[0] == "Z":
            continue
        cmd = _cmdline(int(entry.name))
        match = _WORKER_SCRIPT.search(cmd[1]) if len(cmd) == 2 else None
        if match is None:
            continue
        try:
            waiting_on = (entry / "wchan").read_text().strip()
        except OSError:
            continue
        workers.append(
            FunctionWorker(
                pid=int(entry.name),
                function=match["function"],
                busy=waiting_on not in _WAITING_FOR_AN_EVENT,
                cmdline=tuple(cmd),
            )
        )
    return workers


def kill_function_worker(worker: FunctionWorker, emulator_pid: int) -> bool:
    """SIGKILL one worker, as a crash or a Lambda timeout ends an invocation; only when that
    pid is still the same worker of our emulator (pids are reused). True if it was killed."""
    fields = _stat_fields(worker.pid)
    if (
        not _is_ours(emulator_pid)
        or len(fields) < 2
        or int(fields[1]) != emulator_pid
        or tuple(_cmdline(worker.pid)) != worker.cmdline
    ):
        return False
    try:
        os.kill(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Status:
    running: bool
    healthy: bool
    pid: int | None
    port: int
    endpoint: str
    uptime_s: float | None
    version: str | None
    log: str


def status() -> Status:
    info = _read_info()
    pid = info.get("pid") if info else None
    ours = _is_ours(pid)
    port_ = info["port"] if info and ours else port()
    doc = health(port_) if ours else None
    started = info.get("started") if info else None
    return Status(
        running=ours,
        healthy=doc is not None,
        pid=pid if ours else None,
        port=port_,
        endpoint=endpoint(port_),
        uptime_s=round(time.time() - started, 1) if ours and started else None,
        version=doc.get("version") if doc else None,
        log=str(log_file()),
    )


def reset(quiet: bool = False) -> None:
    """Drop every resource in the running emulator (POST /_ministack/reset)."""
    url = f"{endpoint()}/_ministack/reset"
    req = urllib.request.Request(url, method="POST", data=b"")  # noqa: S310 - http://127.0.0.1 only
    with urllib.request.urlopen(req, timeout=30):  # noqa: S310
        pass
    _say("all emulator state reset", quiet)


# --- function logs (CloudWatch Logs inside the emulator) ---------------------


def _logs_call(action: str, payload: dict) -> dict:
    """One CloudWatch Logs JSON call to the emulator (it does not check signatures)."""
    today = time.strftime("%Y%m%d", time.gmtime())
    req = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
        endpoint() + "/",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"Logs_20140328.{action}",
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential=test/{today}/{region()}/logs/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        },
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read() or b"{}")


def function_log_groups() -> list[str]:
    out = _logs_call("DescribeLogGroups", {"logGroupNamePrefix": "/aws/lambda/"})
    return sorted(g["logGroupName"] for g in out.get("logGroups", []))


def function_logs(group: str, since_s: float = 600.0, start_ms: int | None = None) -> list[dict]:
    """Events of a log group (a function name means /aws/lambda/<name>), oldest first."""
    if not group.startswith("/"):
        group = f"/aws/lambda/{group}"
    payload: dict = {
        "logGroupName": group,
        "startTime": start_ms or int((time.time() - since_s) * 1000),
    }
    events: list[dict] = []
    while True:
        out = _logs_call("FilterLogEvents", payload)
        events.extend(out.get("events", []))
        token = out.get("nextToken")
        if not token or not out.get("events"):
            break
        payload["nextToken"] = token
    return sorted(events, key=lambda e: (e.get("timestamp", 0), e.get("eventId", "")))


def _print_events(group: str, events: list[dict]) -> None:
    for ev in events:
        ts = time.strftime("%H:%M:%S", time.localtime(ev.get("timestamp", 0) / 1000))
        print(f"{ts} {group.rsplit('/', 1)[-1]} {ev.get('message', '').rstrip()}")


# --- command line ------------------------------------------------------------


def _cmd_logs(args: argparse.Namespace) -> int:
    if args.function is None:
        print(_tail(log_file(), args.lines))
        if args.follow:
            with log_file().open(errors="replace") as fh:
                fh.seek(0, os.SEEK_END)
                while True:
                    line = fh.readline()
                    if line:
                        print(line, end="", flush=True)
                    else:
                        time.sleep(0.3)
        return 0
    if not status().healthy:
        raise EmulatorError("the emulator is not running; function logs live inside it")
    groups = function_log_groups() if args.function in ("all", "") else [args.function]
    if not groups:
        print("(no function log groups yet)")
    since_ms = int((time.time() - args.since) * 1000)
    # The emulator writes all lines of one invocation at once, with one timestamp:
    # following from just past the newest timestamp seen repeats nothing.
    start: dict[str, int] = {}
    while True:
        for group in groups:
            events = function_logs(group, start_ms=start.get(group, since_ms))
            _print_events(group, events)
            if events:
                start[group] = max(ev.get("timestamp", 0) for ev in events) + 1
        if not args.follow:
            return 0
        time.sleep(1.0)
        if args.function in ("all", ""):
            groups = function_log_groups()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local.ministack", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("install", help="create .local/venvs/ministack with the pinned ministack")
    start_p = sub.add_parser(
        "start", help="start on 127.0.0.1:$EMULATOR_PORT and wait until healthy"
    )
    start_p.add_argument("--timeout", type=float, default=None, help="seconds to wait for health")
    sub.add_parser("stop", help="stop the emulator this tool started (by pid)")
    sub.add_parser("status", help="running? healthy? exit 1 when not healthy")
    sub.add_parser("endpoint", help="print the endpoint URL")
    sub.add_parser("reset", help="drop every resource inside the running emulator")
    logs_p = sub.add_parser("logs", help="tail the emulator log, or function logs with --function")
    logs_p.add_argument("-n", "--lines", type=int, default=50)
    logs_p.add_argument("-f", "--follow", action="store_true")
    logs_p.add_argument(
        "--function",
        nargs="?",
        const="all",
        default=None,
        help="function name or log group (default: every /aws/lambda/* group)",
    )
    logs_p.add_argument("--since", type=float, default=600.0, help="seconds back (default 600)")
    args = parser.parse_args(argv)
    if args.cmd == "logs":  # `... logs | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    try:
        if args.cmd == "install":
            install()
        elif args.cmd == "start":
            ensure_running(timeout=args.timeout)
        elif args.cmd == "stop":
            stop()
        elif args.cmd == "status":
            st = status()
            if st.running:
                print(
                    f"ministack: running pid {st.pid}, port {st.port}, "
                    f"{'healthy' if st.healthy else 'NOT healthy'}, up {st.uptime_s:.0f}s, "
                    f"version {st.version or '?'}\n"
                    f"endpoint: {st.endpoint}\nlog: {_rel(Path(st.log))}"
                )
            else:
                print(f"ministack: not running (port {st.port})")
            if os.environ.get("EMULATOR_STATUS_JSON") == "1":
                print(json.dumps(asdict(st)))
            return 0 if st.healthy else 1
        elif args.cmd == "endpoint":
            print(endpoint())
        elif args.cmd == "reset":
            reset()
        elif args.cmd == "logs":
            return _cmd_logs(args)
    except EmulatorError as exc:
        print(f"emulator: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
