"""Simple rules (``SIMPLE``): questions asked twice, slow routes, forms and repeated assessments.

Each rule is one function named by its slug (``asked-again`` is
:func:`asked_again`); see :mod:`sdsaudit.rules`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...words import number
from ..findings import Issue, NotAssessable
from ..graph import Context, bits, reach_masks
from ._shared import Result, _group, _over_target, _q


def asked_again(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SIMPLE-01: for each topic in ``asks`` of two distinct steps A and B, where B is
    reachable from A without rework transitions and without going on past a support step,
    or where A and B are in different branches of one parallel block (asked twice at once;
    A in the earlier branch); names A, B and the topic."""
    askers = [s.id for s in ctx.model.steps if s.asks]
    if len(askers) < 2:
        return
    masks, order = reach_masks(ctx.routes, askers)
    index = {sid: i for i, sid in enumerate(order)}
    topic_mask: dict[str, int] = {}
    for sid in askers:
        for topic in ctx.steps[sid].asks:
            topic_mask[topic] = topic_mask.get(topic, 0) | (1 << index[sid])
    for a in askers:
        after = 0
        for s in ctx.routes.successors(a):
            after |= masks[s]
        after &= ~(1 << index[a])
        for topic in ctx.steps[a].asks:
            for b in bits(after & topic_mask[topic], order):
                yield Issue(
                    (a, b),
                    f"{_q(b)} asks for {topic.replace('_', ' ')} again, after "
                    f"{_q(a)} already asked",
                    subject=(topic,),
                )
    for a, b in ctx.concurrent_pairs:
        if a not in index or b not in index:
            continue
        for topic in ctx.steps[a].asks:
            if topic in ctx.steps[b].asks:
                yield Issue(
                    (a, b),
                    f"{_q(a)} and {_q(b)} both ask for {topic.replace('_', ' ')}, at the "
                    "same time (they are in different branches of a parallel block)",
                    subject=(topic,),
                )


def slow_to_support(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SIMPLE-02: expected days to support exceed ``max_days_to_support``. With start
    groups, judged for each group alone (one finding per group over the target). Where
    an unknown time lies on the way, it fires when the lower bound (unknown times as 0)
    is already over the target, and is otherwise not assessable."""
    if ctx.model.grouped and len(ctx.starts) > 1:
        for entry in ctx.model.entries:
            yield from slow_to_support(ctx.for_group(entry), opts)
        return
    group = _group(ctx)
    expected = ctx.chain.expected_days_to_support
    if expected is None:
        yield NotAssessable(
            f"{group}no case reaches a support step, so there is no time to support"
        )
        return
    limit = opts["max_days_to_support"]
    unknown = ctx.days_unknown
    if expected > limit:
        targets = ctx.model.targets.pos.line
        least = "at least " if unknown else ""
        yield Issue(
            (),
            f"{group}cases that reach support take {least}{float(expected):.1f} days on "
            f"average to get there (rework included), more than the target of "
            f"{number(limit, 1)} days",
            subject=(group[4:-2],) if group else (),
            line=targets or None,
            rests_on=("targets",),
            timed=tuple(ctx.timed_steps),
        )
    elif unknown:
        names = ", ".join(f'"{s}"' for s in unknown)
        yield NotAssessable(
            f"{group}the time to support is not known: nobody has said how long {names} "
            f"take{'s' if len(unknown) == 1 else ''} (at least {float(expected):.1f} days "
            f"without them, within the target of {number(limit, 1)} so far)"
        )


def form_burden(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SIMPLE-03: some route makes the person complete more than ``max_forms`` forms; names
    the steps with forms on one such route."""
    yield from _over_target(
        ctx.forms, opts["max_forms"], "forms for the person to fill in", "forms at"
    )


def repeated_assessment(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SIMPLE-04: some route passes more than one ``assessment`` step (``max_assessments``,
    default 1); names the assessments on one such route."""
    yield from _over_target(ctx.assessments, opts["max_assessments"], "assessments", "assessed at")
