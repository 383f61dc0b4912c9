"""Modelling rules (``MODEL``): notes on what the model leaves unsaid.

Each rule is one function named by its slug (``days-not-given`` is
:func:`days_not_given`); see :mod:`sdsaudit.analysis.rules`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..findings import Issue
from ..graph import Context
from ._shared import Result, _steps


def days_not_given(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """MODEL-01: one finding naming, in route order, the steps on some route (``support``,
    ``end`` and ``parallel`` steps aside) with no ``days`` key: the times assume 0 days there."""
    missing = ctx.days_not_given
    if missing:
        yield Issue(
            tuple(missing),
            f"the model does not say how long {_steps(missing)} take"
            f"{'s' if len(missing) == 1 else ''}, so every time to support counts 0 days "
            "there (write their days, or 'days: unknown' where nobody knows)",
        )
