"""Authorisation rules (``AUTH``): sign-offs and panels: how many, where, and whether they rework the plan.

Each rule is one function named by its slug (``panel-on-every-route`` is
:func:`panel_on_every_route`); see :mod:`sdsaudit.rules`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import networkx as nx

from ...words import join_and
from ..findings import Issue
from ..graph import Context, bits, reach_masks
from ._shared import Result, _group, _over_target, _q, _steps


def _plain(word: str) -> str:
    """A vocabulary word as plain English: ``support_plan`` -> ``the support plan``."""
    return "the " + word.replace("_", " ")


def _decider(ctx: Context, approval: str) -> str:
    """Who decides at a panel or top-level approval: the panel, else the sign-off level
    (a team may record a decision its service manager takes)."""
    actor = ctx.model.actor_of(ctx.steps[approval])
    if actor is not None and actor.kind == "panel":
        return actor.name
    level = next((x for x in ctx.model.authorities if x.id == ctx.steps[approval].authority), None)
    return level.name if level else "the top level of sign-off"


def _nearest(ctx: Context, source: str, targets: set[str]) -> str | None:
    """The step of ``targets`` nearest ``source`` on the route graph (no rework transitions,
    nothing beyond a support step): fewest transitions, then first in the file."""
    for layer in nx.bfs_layers(ctx.routes, [source]):
        found = [s for s in layer if s in targets]
        if found:
            return ctx.ordered(found)[0]
    return None


def panel_on_every_route(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """AUTH-01: some support step is reachable from start, but none avoiding every approval
    done by a ``panel`` actor or, with two or more authority levels, at the top level.
    With start groups, judged for each group alone: one finding per group, naming the
    panels on its routes."""
    if ctx.model.grouped and len(ctx.starts) > 1:
        for entry in ctx.model.entries:
            yield from panel_on_every_route(ctx.for_group(entry), opts)
        return
    if not any(s in ctx.reachable for s in ctx.support_steps):
        return
    gates = [g for g in ctx.panels if g in ctx.reachable]
    if not gates:
        return
    around = ctx.reachable_from_start_avoiding(gates)
    if not any(s in around for s in ctx.support_steps):
        group = _group(ctx)
        yield Issue(
            tuple(gates),
            f"{group}every route to support passes {_steps(gates)} "
            "(a funding panel or the top level of sign-off)",
            subject=(group[4:-2],) if group else (),
        )


def too_many_approvals(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """AUTH-02: some route passes more approval steps than ``max_approvals``; names the
    approvals on one such route, in route order."""
    yield from _over_target(ctx.approvals, opts["max_approvals"], "approvals", "sign-off at")


def redundant_approval(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """AUTH-03: for each ordered pair (A, B) of distinct approvals that both approve some
    artefact X, where B is reachable from A's successors avoiding every step producing X,
    or where A and B are in different branches of one parallel block (signed off twice at
    once; A in the earlier branch); names A then B and every such artefact."""
    approvals = ctx.of_kind("approval")
    artefacts = list(dict.fromkeys(x for a in approvals for x in ctx.steps[a].approves))
    pairs: dict[tuple[str, str], list[str]] = {}
    for x in artefacts:
        approvers = [a for a in approvals if x in ctx.steps[a].approves]
        if len(approvers) < 2:
            continue
        producers = [s.id for s in ctx.model.steps if x in s.produces]
        view = ctx.avoiding(producers)
        masks, order = reach_masks(nx.DiGraph(view), approvers)
        for a in approvers:
            mask = 0
            for s in view.successors(a):
                mask |= masks[s]
            for b in bits(mask, order):
                if b != a:
                    pairs.setdefault((a, b), []).append(x)
        together = set(approvers)
        for a, b in ctx.concurrent_pairs:
            if a in together and b in together and x not in pairs.get((a, b), []):
                pairs.setdefault((a, b), []).append(x)
    for a, b in sorted(pairs, key=lambda p: (ctx.position[p[0]], ctx.position[p[1]])):
        subject = tuple(x for x in ctx.steps[a].approves if x in pairs[(a, b)])
        them = "it" if len(subject) == 1 else "them"
        yield Issue(
            (a, b),
            f"{_q(a)} and {_q(b)} both approve {join_and(map(_plain, subject))}, "
            f"and {_q(b)} can follow {_q(a)} with no step in between that "
            f"changes {them}",
            subject=subject,
        )


def limit_not_delegated(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """AUTH-04: an approval whose authority is not the top one and has no ``limit``."""
    model = ctx.model
    levels = {a.id: a for a in model.authorities}
    top = model.top_authority
    for a in ctx.of_kind("approval"):
        level = levels.get(ctx.steps[a].authority or "")
        if level is None or top is None or level.id == top.id or level.limit is not None:
            continue
        yield Issue(
            (a,),
            f"{_q(a)} is signed off by {level.name} ({_q(level.id)}), a level below "
            "the top with no weekly limit",
            subject=(level.id,),
            rests_on=("authorities",),
        )


def panel_reworks_plan(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """AUTH-05: for each approval done by a ``panel`` actor or, with two or more authority
    levels, at the top level, and each of its ``rework`` transitions whose target is a
    ``planning`` step or reaches one by a walk without rework transitions that passes no
    ``support`` step; names the approval and the nearest such planning step (fewest
    transitions, then first in the file), once per pair."""
    planning = set(ctx.of_kind("planning"))
    if not planning:
        return
    for a in ctx.panels:
        named: list[str] = []
        for t in ctx.steps[a].next:
            if not t.rework or t.to not in ctx.steps:
                continue
            plan = _nearest(ctx, t.to, planning)
            if plan is None or plan in named:
                continue
            named.append(plan)
            who = _decider(ctx, a)
            where = "" if plan == t.to else f" (by way of {_q(t.to)})"
            yield Issue(
                (a, plan),
                f"{_q(a)} ({who}) can send the plan back to be reworked at {_q(plan)}{where}",
            )
