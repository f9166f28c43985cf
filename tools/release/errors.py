"""The errors a build stops with; tools.release.build turns them into exit statuses."""

from __future__ import annotations


class BuildError(RuntimeError):
    """A build that must not produce a manifest; the message says why."""


class BudgetError(BuildError):
    """An artifact over its size budget (exit status 3)."""
