"""Sequencing rules (``SEQ``): the order the law and guidance expect, and the timing of reviews.

Each rule is one function named by its slug (``means-test-before-assessment`` is
:func:`means_test_before_assessment`); see :mod:`sdsaudit.rules`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...model.objects import ReviewPolicy
from ...words import plural, tidy
from ..findings import Issue, NotAssessable
from ..graph import Context, reach
from ._shared import Result, _q


def _reached_before(ctx: Context, kinds: tuple[str, ...], avoid: list[str]) -> list[str]:
    reached = ctx.reachable_from_start_avoiding(avoid)
    return [s for s in ctx.of_kind(*kinds) if s in reached]


def _tellers(ctx: Context, *words: str) -> list[str]:
    return [s.id for s in ctx.model.steps if any(w in s.tells for w in words)]


def _days(value: float) -> str:
    return plural(tidy(value, 1), "day")


def _policy_line(policy: ReviewPolicy | None, ctx: Context) -> int | None:
    return (policy.pos.line if policy else 0) or ctx.model.policies.pos.line or None


def means_test_before_assessment(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SEQ-01: a ``financial_assessment`` step reachable from start avoiding all
    ``assessment`` steps."""
    for sid in _reached_before(ctx, ("financial_assessment",), ctx.of_kind("assessment")):
        yield Issue(
            (sid,),
            f"a case can reach the financial assessment {_q(sid)} without "
            "passing any needs assessment",
        )


def eligibility_before_assessment(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SEQ-02: an ``eligibility`` step reachable from start avoiding all ``assessment`` steps."""
    for sid in _reached_before(ctx, ("eligibility",), ctx.of_kind("assessment")):
        yield Issue(
            (sid,),
            f"a case can reach the eligibility decision {_q(sid)} without "
            "passing any needs assessment",
        )


def budget_unknown_when_planning(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SEQ-03: a ``planning`` step that does not itself tell ``indicative_budget`` or
    ``final_budget`` and is reachable from start avoiding every step telling either."""
    words = ("indicative_budget", "final_budget")
    for sid in _reached_before(ctx, ("planning",), _tellers(ctx, *words)):
        if not any(w in ctx.steps[sid].tells for w in words):
            yield Issue(
                (sid,),
                f"a case can reach planning at {_q(sid)} before the person is "
                "told an indicative or final budget",
            )


def contribution_revealed_late(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SEQ-04: an ``approval`` or ``arranging`` step reachable from start avoiding every step
    telling ``contribution`` (a step that itself tells it still counts as reached)."""
    for sid in _reached_before(ctx, ("approval", "arranging"), _tellers(ctx, "contribution")):
        what = "approval" if ctx.steps[sid].kind == "approval" else "arranging step"
        yield Issue(
            (sid,),
            f"a case can reach the {what} {_q(sid)} before the person is told "
            "what they must pay (their contribution)",
        )


def options_not_explained(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SEQ-05: a ``planning`` step that does not itself tell ``options`` and is reachable
    from start avoiding every step telling ``options``."""
    for sid in _reached_before(ctx, ("planning",), _tellers(ctx, "options")):
        if "options" not in ctx.steps[sid].tells:
            yield Issue(
                (sid,),
                f"a case can reach planning at {_q(sid)} before the ways of "
                "managing the money (the options) are explained",
            )


def no_review(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SEQ-06: a ``support`` step from which no ``review`` step is reachable."""
    reviewed = reach(ctx.graph.reverse(copy=False), ctx.of_kind("review"))
    for sid in ctx.support_steps:
        if sid not in reviewed:
            yield Issue((sid,), f"no review step can be reached from {_q(sid)}")


def first_review_late(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SEQ-07: ``policies.review.first_days`` is greater than ``max_first_review_days``
    (not given: not assessable)."""
    review = ctx.model.policies.review
    if review is None or review.first_days is None:
        yield NotAssessable(
            "the model does not say when the first review happens after "
            "support starts (add 'policies: review: first_days')"
        )
        return
    limit = opts["max_first_review_days"]
    if review.first_days > limit:
        yield Issue(
            (),
            f"the first review comes {_days(review.first_days)} after support "
            f"starts, later than the target of {_days(limit)}",
            subject=("review",),
            line=_policy_line(review, ctx),
            rests_on=("policies.review",),
        )


def review_interval_too_long(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SEQ-08: ``policies.review.interval_days`` or ``policies.dp_review.interval_days`` is
    greater than ``max_review_interval_days``; one finding for each (not assessable when
    neither is given)."""
    policies = ctx.model.policies
    given = [
        (name, p)
        for name, p in (("review", policies.review), ("dp_review", policies.dp_review))
        if p is not None and p.interval_days is not None
    ]
    if not given:
        yield NotAssessable(
            "the model does not say how often support or direct payments are "
            "reviewed (add 'policies: review: interval_days' or "
            "'policies: dp_review: interval_days')"
        )
        return
    limit = opts["max_review_interval_days"]
    for name, policy in given:
        if policy.interval_days is not None and policy.interval_days > limit:
            what = "support is reviewed" if name == "review" else "direct payments are reviewed"
            yield Issue(
                (),
                f"{what} only every {_days(policy.interval_days)}, less often "
                f"than the target of at least every {_days(limit)}",
                subject=(name,),
                line=_policy_line(policy, ctx),
                rests_on=(f"policies.{name}",),
            )


def direct_payment_review_late(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """SEQ-09: the first direct payment review (``policies.dp_review.first_days``, or when
    the model gives no separate one, ``policies.review.first_days``) is later than
    ``max_dp_first_review_days`` (neither given: not assessable)."""
    policies = ctx.model.policies
    first = policies.dp_first_review_days  # dp_review, else with the plan's first review
    if first is None:
        yield NotAssessable(
            "the model does not say when a direct payment is first reviewed "
            "(add 'policies: dp_review: first_days', or 'review: first_days' "
            "when direct payments are reviewed with the plan)"
        )
        return
    limit = opts["max_dp_first_review_days"]
    if first > limit:
        separate = policies.dp_review is not None and policies.dp_review.first_days is not None
        review = policies.dp_review if separate else policies.review
        along = "" if separate else " (with the first review of the plan)"
        yield Issue(
            (),
            f"a direct payment is first reviewed {_days(first)} after it "
            f"starts{along}, later than the target of {_days(limit)}",
            subject=("dp_review",),
            line=_policy_line(review, ctx),
            rests_on=("policies.dp_review" if separate else "policies.review",),
        )
