"""Simple rules (``SIMPLE``): questions asked twice, slow routes, forms and repeated assessments.

Each rule is one function named by its slug (``asked-again`` is
:func:`asked_again`); see :mod:`sdsaudit.rules`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...words import number
from ..findings import Issue, NotAssessable
from ..graph import Context, bits, reach_masks
from ._shared import Result, _over_target, _q


def asked_again(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SIMPLE-01: for each topic in ``asks`` of two distinct steps A and B, where B is
    reachable from A without rework transitions and without going on past a support step;
    names A, B and the topic."""
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


def slow_to_support(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SIMPLE-02: expected days to support exceed ``max_days_to_support``."""
    expected = ctx.chain.expected_days_to_support
    if expected is None:
        yield NotAssessable("no case reaches a support step, so there is no time to support")
        return
    limit = opts["max_days_to_support"]
    if expected > limit:
        targets = ctx.model.targets.pos.line
        yield Issue(
            (),
            f"cases that reach support take {float(expected):.1f} days on average to "
            f"get there (rework included), more than the target of {number(limit, 1)} days",
            line=targets or None,
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
