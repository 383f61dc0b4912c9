"""In-control rules (``CONTROL``): ways of managing the money and what it may be spent on.

Each rule is one function named by its slug (``options-missing`` is
:func:`options_missing`); see :mod:`sdsaudit.rules`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...vocab import OPTIONS
from ...words import join_and
from ..findings import Issue, NotAssessable
from ..graph import Context
from ._shared import Result, _q

OPTION_NAMES = {
    "direct_payment": "direct payments",
    "individual_service_fund": "individual service funds",
    "council_managed": "council-managed budgets",
    "mixed": "a mix of these",
}


KEY_USES = ("personal_assistants", "community_activities")


def options_missing(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """CONTROL-01: ``options`` is given and lacks any of the four; names the missing ones
    (not given: not assessable)."""
    offered = ctx.model.options
    if offered is None:
        yield NotAssessable(
            "the model does not say which budget options the council offers (add 'options')"
        )
        return
    missing = tuple(o for o in OPTIONS if o not in offered)
    if missing:
        yield Issue(
            (),
            f"the council does not offer {join_and(OPTION_NAMES[m] for m in missing)}",
            subject=missing,
            rests_on=("options",),
        )


def restricted_use(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """CONTROL-02: each entry of ``policies.restrictions`` and of a step's ``restrictions``
    set by the council (``basis: council``, the default); limits the law sets
    (``basis: law``) are not findings."""
    for text in ctx.model.policies.restrictions:
        if text.basis != "council":
            continue
        yield Issue(
            (),
            f'council policy restricts how budgets are used: "{text.text}"',
            subject=(text.text,),
            line=text.pos.line or None,
            rests_on=("policies.restrictions",),
        )
    for step in ctx.model.steps:
        for text in step.restrictions:
            if text.basis != "council":
                continue
            yield Issue(
                (step.id,),
                f'{_q(step.id)} restricts how the budget is used: "{text.text}"',
                subject=(text.text,),
            )


def narrow_uses(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """CONTROL-03: ``policies.allowed_uses`` is given and lacks ``personal_assistants`` or
    ``community_activities`` (not given: not assessable)."""
    policies = ctx.model.policies
    if policies.allowed_uses is None:
        yield NotAssessable(
            "the model does not say what budgets may be spent on (add 'policies: allowed_uses')"
        )
        return
    missing = tuple(u for u in KEY_USES if u not in policies.allowed_uses)
    if missing:
        yield Issue(
            (),
            f"budgets may not be spent on {join_and(m.replace('_', ' ') for m in missing)}",
            subject=missing,
            line=policies.pos.line or None,
            rests_on=("policies.allowed_uses",),
        )


def prepaid_card_default(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """CONTROL-04: ``policies.prepaid_card_default`` is true (not given: not assessable)."""
    policies = ctx.model.policies
    if policies.prepaid_card_default is None:
        yield NotAssessable(
            "the model does not say whether direct payments go on a prepaid "
            "card by default (add 'policies: prepaid_card_default')"
        )
    elif policies.prepaid_card_default:
        yield Issue(
            (),
            "direct payments go on a prepaid card by default",
            line=policies.pos.line or None,
            rests_on=("policies.prepaid_card_default",),
        )


def allocation_method_unpublished(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """CONTROL-05: ``policies.allocation_method_published`` is false (not given: not
    assessable)."""
    policies = ctx.model.policies
    if policies.allocation_method_published is None:
        yield NotAssessable(
            "the model does not say whether the council publishes how it works "
            "out budgets (add 'policies: allocation_method_published')"
        )
    elif not policies.allocation_method_published:
        yield Issue(
            (),
            "the council does not publish how it works out the amount of a budget",
            line=policies.pos.line or None,
            rests_on=("policies.allocation_method_published",),
        )


"""Rule id -> function. ``WAIVER-01`` (stale waiver) is the engine's own: it needs the
other rules' findings."""
