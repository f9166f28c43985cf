"""A function's cold start runs with Python's cyclic garbage collector paused.

Importing the libraries and serving the first invocation creates over a hundred thousand objects
that live as long as the execution environment. The collector passes over them again and again
during that init, which costs a noticeable share of it, and frees almost nothing (figures in
docs/benchmarks.md, measured with ``gc.callbacks``). So each function package pauses it before
its handler module imports anything (``services/<function>/__init__.py``), and the handler
resumes it when its first invocation returns. ``gc.freeze()`` first moves everything init
created into the permanent generation, so later collections never scan it again: a warm
invocation's collections only visit what that invocation allocated. The first invocation runs
paused as well (it builds validators and clients, which init would otherwise pay for in
collections); these functions' invocations are short and leave little cyclic garbage, so nothing
piles up meanwhile.

Only inside a Lambda execution environment (``AWS_LAMBDA_FUNCTION_NAME`` is set, by Lambda and
by the local emulator): tests and tools that import a handler keep the interpreter's defaults.
SnapStart is unaffected: a snapshot is taken after init with the collector paused, and the first
invocation of every restored copy resumes it."""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from typing import Any

_paused = False


def pause_collector() -> None:
    """Pause the cyclic collector until the first invocation has returned (inside Lambda)."""
    global _paused
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and gc.isenabled():
        gc.disable()
        _paused = True


def resumes_collector[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """Decorate the Lambda handler: its first invocation, however it ends, resumes the collector
    that `pause_collector` paused."""

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            if _paused:
                _resume()

    return invoke  # type: ignore[return-value]


def _resume() -> None:
    global _paused
    _paused = False
    gc.freeze()
    gc.enable()
