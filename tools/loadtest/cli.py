"""The command line: a run (install, target, warm-up, artillery, judgement, report), or a
reconciliation of earlier runs' order logs. Exit codes: tools.loadtest.verdict."""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import math
import os
import random
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tools.loadtest import coldstarts
from tools.loadtest.charts import render_charts, series_of
from tools.loadtest.coldstarts import ColdStarts
from tools.loadtest.common import LOADTEST_DIR, RUNS_DIR, LoadtestError, log
from tools.loadtest.fault_audit import AuditInputs, Baseline, audit
from tools.loadtest.faults import FaultInjector, FaultPlan
from tools.loadtest.install import (
    ARTILLERY_RUN,
    NODE_BIN,
    NODE_MODULES,
    ensure_installed,
    installed_versions,
)
from tools.loadtest.plan_kept import check_saturation, phase_rates, read_arrivals
from tools.loadtest.profiles import (
    load_config,
    plan_of,
    profile,
    requests_per_vuser,
    run_phases,
    scale_phases,
    warmup_phases,
)
from tools.loadtest.reconcile import (
    DlqReader,
    FallbackReader,
    HttpStatusReader,
    Reconciliation,
    TableStatusReader,
    read_orders,
    reconcile,
)
from tools.loadtest.run import (
    artillery_args,
    aws_credentials_available,
    distributed_command,
    prime,
    run_artillery,
)
from tools.loadtest.summary import RunOutcome, render_summary
from tools.loadtest.target import Target, is_loopback, local_target, terraform_target
from tools.loadtest.thresholds import Thresholds, evaluate_thresholds, thresholds_of
from tools.loadtest.tokens import AdminToken, TokenFile
from tools.loadtest.verdict import (
    EXIT_INVALID,
    EXIT_PASS,
    EXIT_REFUSED,
    EXIT_THRESHOLDS,
    VERDICTS,
    reconciliation_verdict,
    verdict,
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tools.loadtest",
        description="Run the artillery load test and judge it, or (`reconcile RUN_DIR...`) "
        "reconcile the orders of earlier runs again. Exit 0 pass, 1 thresholds, 2 refused, "
        "3 invalid (saturated), 4 orders lost, 5 orders unverified.",
    )
    p.add_argument("command", nargs="?", choices=("run", "reconcile"), default="run")
    p.add_argument(
        "run_dirs", nargs="*", type=Path, help="reconcile: run directories or orders.log files"
    )
    p.add_argument("--env", help="an environment of artillery.yml: local, staging, prod")
    p.add_argument(
        "--install-only", action="store_true", help="npm ci if needed, verify the pins, exit"
    )
    p.add_argument("--rate", type=float, help="replace the phases: request rate to hold, req/s")
    p.add_argument("--duration", type=float, help="replace the phases: seconds to hold the rate")
    p.add_argument("--ramp", type=float, help="replace the phases: seconds of ramp from 0 first")
    p.add_argument("--warmup", type=float, help="seconds of unjudged ramp first (0: none)")
    p.add_argument("--target", help="base URL (default: from Terraform / the local stack)")
    p.add_argument("--p99", type=float, help="p99 limit in ms (default: the profile's)")
    p.add_argument("--max-error-rate", type=float, help="percent of failed virtual users")
    p.add_argument(
        "--reconcile-wait",
        type=float,
        help="seconds to wait for accepted orders to settle (default 60; 180 with --faults: "
        "a crashed batch comes back after its queue's visibility timeout, and may crash again)",
    )
    p.add_argument("--no-reconcile", action="store_true", help="skip the reconciliation")
    faults = p.add_argument_group(
        "faults (ENV=local only)",
        "crash function workers, send poison, duplicates and unstocked orders during the run, "
        "then prove nothing was lost or done twice (tools/loadtest/faults.py)",
    )
    faults.add_argument("--faults", action="store_true", help="inject faults during the run")
    faults.add_argument("--fault-seed", type=int, help="replay an injection (default: random)")
    faults.add_argument(
        "--crash-every", type=float, default=6.0, help="mean seconds between crashes (6)"
    )
    faults.add_argument(
        "--duplicate-share", type=float, default=0.10, help="of accepted orders (0.10)"
    )
    faults.add_argument("--poison-share", type=float, default=0.03, help="per accepted order")
    faults.add_argument("--unstocked-share", type=float, default=0.05, help="per accepted order")
    faults.add_argument(
        "--fault-wait",
        type=float,
        default=180.0,
        help="seconds to wait for notifications and poison to settle (default 180)",
    )
    p.add_argument("--no-charts", action="store_true", help="no PNG charts in the summary")
    p.add_argument("--distributed", choices=("fargate", "lambda"))
    p.add_argument("--count", type=int, default=2, help="workers of a distributed run")
    p.add_argument("--region", default=os.environ.get("AWS_REGION", "eu-west-1"))
    p.add_argument("--dry-run", action="store_true", help="print the command and stop")
    p.add_argument("--run-dir", type=Path, help="default: .local/loadtest/<timestamp>")
    args = p.parse_args(argv)
    if args.command == "run" and args.run_dirs:
        p.error("run directories are for `reconcile`")
    if args.command == "reconcile" and not args.run_dirs:
        p.error("reconcile needs the run directories (or orders.log files) to read")
    if args.faults and (args.no_reconcile or args.distributed or args.command != "run"):
        p.error("--faults needs a local run with its reconciliation")
    if args.reconcile_wait is None:
        args.reconcile_wait = 180.0 if args.faults else 60.0
    return args


def main(argv: Sequence[str] | None = None, target: Target | None = None) -> int:
    """The command line. `target` replaces the target lookup (tests pass the
    local stack they started)."""
    args = parse_args(argv)
    try:
        return _main(args, target)
    except LoadtestError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _find_target(args: argparse.Namespace, loopback_only: bool) -> Target:
    if args.target:
        target = Target(args.target)
    elif args.env == "local":
        target = local_target()
    else:
        target = terraform_target(args.env)
    url = target.url.rstrip("/")
    if urlsplit(url).scheme not in ("http", "https"):
        raise LoadtestError(f"target {url!r} is not an http(s) URL")
    if loopback_only and not is_loopback(url):
        raise LoadtestError(f"{args.env} targets loopback only (127.0.0.1/localhost): {url}")
    target.url = url
    return target


def _main(args: argparse.Namespace, target: Target | None) -> int:
    if args.install_only:
        ensure_installed()
        version, node = installed_versions()
        log(f"artillery {version} on Node {'.'.join(map(str, node))} in {NODE_MODULES}")
        return EXIT_PASS
    if not args.env:
        raise LoadtestError("--env is required")
    prof = profile(load_config(), args.env)
    meta = prof.get("loadtest") or {}
    opt_in = meta.get("opt_in_variable")
    if opt_in and os.environ.get(opt_in) != "yes":
        raise LoadtestError(f"{args.env} is opt-in: set {opt_in}=yes to load-test it")
    loopback_only = bool(meta.get("loopback_only"))
    if args.distributed and loopback_only:
        raise LoadtestError(f"a distributed run cannot reach {args.env}'s loopback target")
    if args.command == "reconcile":
        return _reconcile_again(args, target or _find_target(args, loopback_only))

    base = thresholds_of(prof)
    limits = Thresholds(
        base.p99_ms if args.p99 is None else args.p99,
        base.max_error_rate_pct if args.max_error_rate is None else args.max_error_rate,
    )
    phases = run_phases(prof, args.rate, args.duration, args.ramp)
    plan = plan_of(phases)
    if target is None:
        target = _find_target(args, loopback_only)
    url = target.url.rstrip("/")

    started = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = (args.run_dir or RUNS_DIR / started).resolve()
    report_path = run_dir / "report.json"
    overrides: dict[str, Any] = {"config": {"ensure": {"conditions": limits.conditions()}}}

    sys.path.insert(0, str(LOADTEST_DIR))
    from generate_data import generate

    data = generate()

    if args.distributed:
        return _distributed(args, url, phases, overrides, report_path, run_dir)

    overrides["config"]["phases"] = phases
    fault_plan = _fault_plan(args, target)
    if fault_plan is not None:  # the thresholds are judged here, with the crashes allowed for
        overrides["config"]["ensure"]["conditions"] = []
    cmd = [str(NODE_BIN), str(ARTILLERY_RUN), "run"]
    cmd += artillery_args(args.env, url, overrides, report_path)
    if args.dry_run:
        print(shlex.join(cmd))
        return EXIT_PASS
    ensure_installed()

    with contextlib.ExitStack() as signed_in:
        tokens = token_file = None
        if target.sign_in is not None:
            run_dir.mkdir(parents=True, exist_ok=True)
            with data["customers"].open(newline="") as rows:
                customers = [row["customer_id"] for row in csv.DictReader(rows)]
            token_file = TokenFile(run_dir / "tokens.json", target.sign_in, customers)
            tokens = signed_in.enter_context(token_file).path
        injector = baseline = None
        if fault_plan is not None:
            injector = FaultInjector(
                fault_plan,
                target,
                run_dir / "orders.log",
                run_dir,
                plan.duration_s,
                token_for=token_file.access_token if token_file is not None else None,
            )
            baseline = Baseline.read(injector.table)
            log(f"faults: the stock of {len(baseline.stock)} SKUs read before the run")

        warmup_s = float(meta.get("warmup_s", 0) if args.warmup is None else args.warmup)
        if warmup_s > 0:
            _warm_up(args.env, url, phases, warmup_s, requests_per_vuser(prof), run_dir, tokens)

        log(
            f"artillery: {args.env} against {url}, plan {plan.duration_s:g} s, "
            f"{plan.vusers:g} virtual users; run dir {run_dir}"
        )
        timeout_s = plan.duration_s * 1.5 + 120
        if injector is not None:
            injector.start()
        try:
            rc, timed_out = run_artillery(cmd, run_dir, timeout_s, tokens=tokens)
        finally:
            fault_log = injector.stop() if injector is not None else None
    if tokens is not None:
        tokens.unlink(missing_ok=True)  # bearer tokens do not outlive the run
    if fault_log is not None:
        log(f"faults injected: {fault_log.line()}")
    if not report_path.is_file():
        why = f"timed out after {timeout_s:.0f} s" if timed_out else f"exit {rc}"
        print(f"loadtest: INVALID: artillery wrote no report ({why})", file=sys.stderr)
        return EXIT_INVALID
    report = json.loads(report_path.read_text())

    arrivals = read_arrivals(run_dir / "arrivals.log")
    rates = phase_rates(report, phases, requests_per_vuser(prof), arrivals)
    saturation = check_saturation(report, plan, arrivals, phases=rates)
    if timed_out:
        saturation.reasons.append(f"artillery was stopped after {timeout_s:.0f} s")
    threshold_result = evaluate_thresholds(
        report,
        limits,
        rc,
        under_faults=fault_log is not None,
        crash_allowance=fault_log.killed()["orders_api"] if fault_log else 0,
        p99_judged=fault_log is None or args.p99 is not None,
    )

    reconciliation = fault_audit = None
    if not args.no_reconcile:
        logs = [run_dir / "warmup" / "orders.log", run_dir / "orders.log"]
        dlqs = _dlq_reader(target)
        if fault_log is not None:
            logs.append(run_dir / "faults" / "orders.log")
        reconciliation = _reconcile(target, logs, args.reconcile_wait, dlqs)
        if injector is not None and fault_log is not None and baseline is not None:
            inputs = AuditInputs(
                fault_log,
                injector.table,
                dlqs or (lambda: {}),
                injector.emulator.endpoint,
                baseline,
                set(read_orders(logs)[0]),
            )
            fault_audit = audit(inputs, args.fault_wait)
    cold_starts = _cold_starts(target, report)

    outcome = RunOutcome(
        report=report,
        run={
            "env": args.env,
            "started": started,
            "target": url,
            "phases": phases,
            "warmup_s": warmup_s,
            "requested_rps": args.rate if args.rate is not None else meta.get("target_rps"),
        },
        thresholds=threshold_result,
        saturation=saturation,
        phases=rates,
        reconciliation=reconciliation,
        exit_code=verdict(threshold_result, saturation, reconciliation, fault_audit),
        faults=fault_log,
        fault_audit=fault_audit,
        cold_starts=cold_starts,
    )
    series = {**series_of(report), "title": f"{args.env} {started}"}
    charts = [] if args.no_charts else render_charts(series, run_dir)
    (run_dir / "summary.html").write_text(render_summary(outcome, charts))
    (run_dir / "result.json").write_text(json.dumps(outcome.result(asdict(plan)), indent=2))

    print()
    for line in outcome.lines():
        print(line)
    print(f"summary: {run_dir / 'summary.html'}")
    print(f"exit {outcome.exit_code} ({VERDICTS.get(outcome.exit_code, '?')})")
    return outcome.exit_code


def _warm_up(
    env: str,
    url: str,
    phases: Sequence[Mapping[str, Any]],
    warmup_s: float,
    per_vuser: float,
    run_dir: Path,
    tokens: Path | None = None,
) -> None:
    plan = plan_of(phases)
    pool = min(32, max(4, math.ceil(plan.vusers * per_vuser / plan.duration_s / 4)))
    signed = json.loads(tokens.read_text()) if tokens else None
    log(f"priming: {prime(url, run_dir / 'warmup' / 'orders.log', pool, tokens=signed)}")
    warm = {"config": {"phases": warmup_phases(phases, warmup_s), "ensure": {"conditions": []}}}
    log(f"warm-up: {warm['config']['phases'][0]} (not judged)")
    warm_cmd = [str(NODE_BIN), str(ARTILLERY_RUN), "run", "-q"]
    warm_cmd += artillery_args(env, url, warm, run_dir / "warmup" / "report.json")
    warm_rc, _ = run_artillery(
        warm_cmd, run_dir / "warmup", warmup_s * 2 + 60, echo=False, tokens=tokens
    )
    log(f"warm-up done (artillery exit {warm_rc})")


def _distributed(
    args: argparse.Namespace,
    url: str,
    phases: Sequence[Mapping[str, Any]],
    overrides: dict[str, Any],
    report_path: Path,
    run_dir: Path,
) -> int:
    overrides["config"]["phases"] = scale_phases(phases, args.count)
    max_duration = int(plan_of(phases).duration_s * 1.5 + 600)
    cmd = distributed_command(
        args.distributed, args.env, url, args.count, args.region, overrides, report_path,
        max_duration,
    )  # fmt: skip
    print(shlex.join(cmd))
    if args.dry_run:
        return EXIT_PASS
    if not aws_credentials_available():
        raise LoadtestError(
            f"artillery run-{args.distributed} needs AWS credentials (none found); "
            "the command above is what would run"
        )
    ensure_installed()
    rc, _ = run_artillery(cmd, run_dir, max_duration + 900)
    return EXIT_PASS if rc == 0 else EXIT_THRESHOLDS


def status_reader(target: Target) -> FallbackReader:
    """The orders table when the target names it, then the API for what the table could not
    answer."""
    readers: list[Any] = []
    if target.table_name and target.aws:
        from orders_core.adapters.table import OrdersTable

        try:
            readers.append(
                TableStatusReader(OrdersTable(target.table_name, target.aws("dynamodb")))
            )
        except Exception as error:  # no region, no botocore...: read through the API
            log(f"cannot read table {target.table_name} ({error}); reading through the API")
    admin = AdminToken(target.sign_in.admin) if target.sign_in else None
    readers.append(HttpStatusReader(target.url, token=admin))
    return FallbackReader(readers)


def _cold_starts(target: Target, report: Mapping[str, Any]) -> ColdStarts | None:
    """The functions' cold starts from the run's first request until now (its last orders
    processed and notified, when the reconciliation waited for them); None when the target
    names no functions or they cannot be read."""
    first = report.get("aggregate", {}).get("firstMetricAt")
    if not (target.aws and target.functions and first):
        return None
    try:
        found = coldstarts.count(
            target.aws, target.functions, float(first), time.time() * 1000, target.emulated
        )
    except Exception as error:  # no permission, no such log group...: the run stands
        log(f"cold starts not counted: {error}")
        return None
    log(f"cold starts: {found.line()}")
    return found


def _dlq_reader(target: Target) -> DlqReader | None:
    if not (target.aws and target.dlq_urls):
        return None
    make_sqs = target.aws
    return DlqReader(lambda: make_sqs("sqs"), target.dlq_urls)


def _reconcile(
    target: Target, order_logs: Sequence[Path], wait_s: float, dlqs: DlqReader | None = None
) -> Reconciliation:
    ids, seen_final = read_orders(order_logs)
    reader = status_reader(target)
    log(
        f"reconciling {len(ids)} accepted orders: {len(seen_final)} seen final during the run, "
        f"the rest read from {reader.source}, waiting up to {wait_s:g} s for them to settle"
    )
    dlqs = dlqs or _dlq_reader(target)
    return reconcile(ids, reader, dlqs, seen_final, wait_s=wait_s, source=reader.source)


def _fault_plan(args: argparse.Namespace, target: Target) -> FaultPlan | None:
    """The faults to inject, with the seed that replays them printed first."""
    if not args.faults:
        return None
    if args.env != "local" or target.emulator is None:
        raise LoadtestError(
            "--faults kills the emulator's function workers: it runs against the local stack "
            "`make up` started (ENV=local, without TARGET)"
        )
    seed = random.SystemRandom().randrange(2**31) if args.fault_seed is None else args.fault_seed
    plan = FaultPlan(
        seed, args.crash_every, args.duplicate_share, args.poison_share, args.unstocked_share
    )
    log(f"faults: {plan.describe()} (replay with FAULT_SEED={seed})")
    return plan


def _reconcile_again(args: argparse.Namespace, target: Target) -> int:
    """Reconcile the orders logged by earlier runs (several load generators' logs merge)."""
    logs: list[Path] = []
    for path in args.run_dirs:
        if path.is_dir():
            logs += [path / "warmup" / "orders.log", path / "orders.log"]
        elif path.is_file():
            logs.append(path)
        else:
            raise LoadtestError(f"{path} is neither a run directory nor an orders.log file")
    if not any(log_file.is_file() for log_file in logs):
        raise LoadtestError("no orders.log in " + ", ".join(map(str, args.run_dirs)))
    result = _reconcile(target, logs, args.reconcile_wait)
    code = reconciliation_verdict(result)
    print(f"reconciliation: {result.line()}; read from {result.source} in {result.seconds:g} s")
    for order_id in result.lost_ids[:10]:
        print(f"  lost: {order_id}")
    for order_id in result.unverified_ids[:10]:
        print(f"  unverified: {order_id}")
    print(f"exit {code} ({VERDICTS[code]})")
    return code
