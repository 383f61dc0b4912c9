"""Structure rules (``STRUCT``, errors): faults in the model itself that make every other figure doubtful.

Each rule is one function named by its slug (``unreachable-step`` is
:func:`unreachable_step`); see :mod:`sdsaudit.rules`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..findings import Issue
from ..graph import Context, loops, reach
from ._shared import Result, _q, _steps


def _from_start(ctx: Context) -> str:
    if len(ctx.starts) > 1:
        return f"from any of the start steps {_steps(ctx.starts)}"
    return f"from the start step {_q(ctx.model.start)}"


def unreachable_step(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """STRUCT-01: a step not reachable from ``start`` (from any entry, with start groups)."""
    for sid in ctx.ordered(set(ctx.steps) - ctx.reachable):
        yield Issue((sid,), f"no case can reach {_q(sid)} {_from_start(ctx)}")


def dead_end(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """STRUCT-02: a step, other than ``end``, ``support`` and ``parallel``, with no ``next``."""
    for step in ctx.model.steps:
        if step.kind not in ("end", "support", "parallel") and not step.next:
            yield Issue(
                (step.id,),
                f"{_q(step.id)} has no next step, so cases that reach it are left waiting",
            )


def no_way_out(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """STRUCT-03: a step from which no ``end`` and no ``support`` step is reachable; and the
    model as a whole when no ``support`` step is reachable from start."""
    exits = ctx.of_kind("end", "support")
    can_leave = reach(ctx.graph.reverse(copy=False), exits)
    for sid in ctx.ordered(set(ctx.steps) - can_leave):
        yield Issue((sid,), f"from {_q(sid)} no walk leads to support in place or to an end")
    if not any(s in ctx.reachable for s in ctx.support_steps):
        yield Issue((), f"no case can reach a support step {_from_start(ctx)}")


def unmarked_loop(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """STRUCT-04: steps that loop among themselves with support steps and rework transitions
    removed (an SCC of more than one step, or a step leading to itself)."""
    for group in loops(ctx.routes, ctx.position):
        if len(group) == 1:
            yield Issue(
                group,
                f"{_q(group[0])} leads back to itself, and the transition is not marked as rework",
            )
        else:
            yield Issue(
                group,
                f"{_steps(group)} lead round in a loop, and no transition in it "
                "is marked as rework",
            )
