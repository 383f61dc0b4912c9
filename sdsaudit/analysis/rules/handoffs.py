"""Hand-off rules (``HAND``): the case passed between teams, and sent back and forth.

Each rule is one function named by its slug (``too-many-handoffs`` is
:func:`too_many_handoffs`); see :mod:`sdsaudit.rules`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..findings import Issue
from ..graph import Context
from ._shared import Result, _over_target, _q


def _actor_name(ctx: Context, actor_id: str) -> str:
    actor = ctx.model.actors.get(actor_id)
    return actor.name if actor else _q(actor_id)


def too_many_handoffs(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """HAND-01: some route has more hand-offs than ``max_handoffs``; names the steps on one
    such route where a hand-off arrives."""
    yield from _over_target(
        ctx.handoffs, opts["max_handoffs"], "hand-offs between teams", "the case changes hands at"
    )


def ping_pong(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """HAND-02: transitions a to b and b to c (neither rework) where a and c share an actor,
    b has another, and none is a person or carer; names a, b, c. A transition into a
    parallel step counts as one to each branch's first step; a triple whose first
    transition is such a branch entry is skipped (the other branches keep the case)."""
    steps = ctx.steps
    team = {sid: actor for sid in steps if (actor := ctx.team_of(sid)) is not None}
    by_position = ctx.position.__getitem__
    into: dict[str, set[str]] = {}
    out_of: dict[str, set[str]] = {}
    for u, v, entry in ctx.handoff_transitions:
        if u in team and v in team:
            out_of.setdefault(u, set()).add(v)
            if not entry:
                into.setdefault(v, set()).add(u)
    for b in ctx.ordered(team):
        ins = sorted(into.get(b, ()), key=by_position)
        outs = sorted(out_of.get(b, ()), key=by_position)
        for a in ins:
            if team[a] == team[b]:
                continue
            for c in outs:
                if team[c] == team[a]:
                    first, other = _actor_name(ctx, team[a]), _actor_name(ctx, team[b])
                    yield Issue(
                        (a, b, c),
                        f"{first} passes the case from {_q(a)} to {other} at "
                        f"{_q(b)}, which passes it straight back to {first} "
                        f"at {_q(c)}",
                    )
