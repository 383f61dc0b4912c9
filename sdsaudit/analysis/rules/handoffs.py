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
    b has another, and none is a person or carer; names a, b, c."""
    graph, steps = ctx.graph, ctx.steps
    team = {sid: actor for sid in steps if (actor := ctx.team_of(sid)) is not None}
    by_position = ctx.position.__getitem__
    for b in ctx.ordered(team):
        ins = sorted(
            (a for a in graph.predecessors(b) if not graph.edges[a, b]["rework"] and a in team),
            key=by_position,
        )
        outs = sorted(
            (c for c in graph.successors(b) if not graph.edges[b, c]["rework"] and c in team),
            key=by_position,
        )
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
