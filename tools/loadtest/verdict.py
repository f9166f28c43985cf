"""The exit code of a run: the worst finding wins.

    0  passed: thresholds met, run valid, every accepted order accounted for
    1  thresholds failed (p99, error rate, or artillery itself failed)
    2  refused or usage error (prod without opt-in, non-loopback target for local,
       no local stack, no AWS credentials for a distributed run, bad install)
    3  INVALID: the load generator fell behind its plan (saturated) or the run did not
       finish in time; its figures do not measure the system
    4  orders lost: accepted orders read and found neither final nor in a DLQ
    5  orders unverified: none found lost, but some could not be read (the API or the
       table did not answer in time); `make reconcile` can read them again later; or, with
       --faults, the fault audit could not read what it needs
    6  faults not held (a run with --faults): stock taken twice or not at all for a confirmed
       order, a customer mailed twice (or a SENT notification with no mail), a notification
       missing, poison not in the DLQ or stored, an unstocked order not REJECTED

Precedence: lost > faults not held > unverified > invalid > thresholds.
"""

from __future__ import annotations

from tools.loadtest.fault_audit import FaultAudit
from tools.loadtest.plan_kept import Saturation
from tools.loadtest.reconcile import Reconciliation
from tools.loadtest.thresholds import ThresholdResult

EXIT_PASS = 0
EXIT_THRESHOLDS = 1
EXIT_REFUSED = 2
EXIT_INVALID = 3
EXIT_LOST = 4
EXIT_UNVERIFIED = 5
EXIT_FAULTS = 6

VERDICTS = {
    EXIT_PASS: "PASSED",
    EXIT_THRESHOLDS: "THRESHOLDS FAILED",
    EXIT_REFUSED: "REFUSED",
    EXIT_INVALID: "INVALID (saturated)",
    EXIT_LOST: "ORDERS LOST",
    EXIT_UNVERIFIED: "ORDERS UNVERIFIED",
    EXIT_FAULTS: "FAULTS NOT HELD",
}


def reconciliation_verdict(reconciliation: Reconciliation | None) -> int:
    if reconciliation is None or reconciliation.ok:
        return EXIT_PASS
    return EXIT_LOST if reconciliation.lost else EXIT_UNVERIFIED


def verdict(
    thresholds: ThresholdResult,
    saturation: Saturation,
    reconciliation: Reconciliation | None,
    fault_audit: FaultAudit | None = None,
) -> int:
    """The exit code of a run."""
    code = reconciliation_verdict(reconciliation)
    if code == EXIT_LOST:
        return code
    if fault_audit is not None and not fault_audit.ok:
        return EXIT_FAULTS
    if code:
        return code
    if fault_audit is not None and fault_audit.unverified:
        return EXIT_UNVERIFIED
    if not saturation.valid:
        return EXIT_INVALID
    if not thresholds.passed:
        return EXIT_THRESHOLDS
    return EXIT_PASS
