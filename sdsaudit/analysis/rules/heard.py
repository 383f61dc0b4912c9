"""Heard rules (``HEARD``): the person's part where budgets are set and plans made.

Each rule is one function named by its slug (``person-not-heard`` is
:func:`person_not_heard`); see :mod:`sdsaudit.rules`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..findings import Issue
from ..graph import Context
from ._shared import Result, _q, _steps


def person_not_heard(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """HEARD-01: an ``assessment``, ``allocation``, ``planning`` or ``review`` step where
    ``person`` is ``absent`` or ``informed``."""
    for sid in ctx.of_kind("assessment", "allocation", "planning", "review"):
        person = ctx.steps[sid].person
        if person == "absent":
            yield Issue(
                (sid,),
                f"the person is absent from {_q(sid)} ({ctx.steps[sid].kind.replace('_', ' ')})",
                subject=(person,),
            )
        elif person == "informed":
            yield Issue(
                (sid,),
                f"the person is only informed at {_q(sid)} "
                f"({ctx.steps[sid].kind.replace('_', ' ')})",
                subject=(person,),
            )


def no_self_planning(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """HEARD-02: no ``planning`` step where ``person`` is ``leads``."""
    planning = ctx.of_kind("planning")
    if not planning:
        yield Issue((), "the model has no planning step, so nobody can lead their own plan")
    elif not any(ctx.steps[p].person == "leads" for p in planning):
        yield Issue((), f"the person leads none of the planning steps ({_steps(planning)})")


def decided_in_absence(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """HEARD-03: an approval step whose actor is of kind ``panel`` and ``person`` is
    ``absent``."""
    for a in ctx.of_kind("approval"):
        step = ctx.steps[a]
        if ctx.actor_kind(a) == "panel" and step.person == "absent":
            actor = ctx.model.actor_of(step)
            yield Issue(
                (a,), f"{actor.name if actor else 'a panel'} decides at {_q(a)} without the person"
            )
