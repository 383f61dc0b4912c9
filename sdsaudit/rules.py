"""The core rules: one small pure function per rule, registered by id in :data:`RULES`.

Each function takes the shared :class:`~sdsaudit.graph.Context` and the rule's
options (catalogue defaults, overridden by the model's ``targets``) and yields
:class:`~sdsaudit.findings.Issue` (the steps it is about, in a stable order, and
a message quoting the offender) or :class:`~sdsaudit.findings.NotAssessable`.
A rule never sets its own id or severity: the engine stamps them from
``criteria/rules.yaml``. The exact meaning of every rule is ``docs/rules.md``;
the docstrings repeat it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import networkx as nx

from .findings import Issue, NotAssessable
from .graph import Context, RouteMax, bits, loops, reach, reach_masks, without_out_edges
from .model import ReviewPolicy
from .vocab import OPTIONS
from .words import join_and, number, plural, quoted, tidy

Result = Issue | NotAssessable
Rule = Callable[[Context, Mapping[str, Any]], Iterator[Result]]

OPTION_NAMES = {
    "direct_payment": "direct payments",
    "individual_service_fund": "individual service funds",
    "council_managed": "council-managed budgets",
    "mixed": "a mix of these",
}
KEY_USES = ("personal_assistants", "community_activities")


# --------------------------------------------------------------------------- wording helpers


def _q(step_id: str) -> str:
    return f'"{step_id}"'


def _steps(ids: Iterable[str]) -> str:
    return quoted(ids)


def _plain(word: str) -> str:
    """A vocabulary word as plain English: ``support_plan`` -> ``the support plan``."""
    return "the " + word.replace("_", " ")


def _over_target(result: RouteMax, limit: float, what: str, where: str) -> Iterator[Result]:
    """The shared logic of the rules comparing a route maximum with a target."""
    if result.value is None:
        yield NotAssessable("no route leads from the start step to a support step")
        return
    if not result.exceeds(limit):
        return
    if result.unbounded:
        yield Issue(
            result.counted,
            f"{_steps(result.counted)} lie in a loop with no transition marked as rework, "
            f"so a case can go round it and meet {what} without limit "
            f"(target: at most {number(limit, 1)})",
        )
        return
    yield Issue(
        result.counted,
        f"a route has {number(result.value, 1)} {what}, more than the target of {number(limit, 1)}: "
        f"{where} {_steps(result.counted)}",
    )


# --------------------------------------------------------------------------- structure


def unreachable_step(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """STRUCT-01: a step not reachable from ``start``."""
    for sid in ctx.ordered(set(ctx.steps) - ctx.reachable):
        yield Issue(
            (sid,), f"no case can reach {_q(sid)} from the start step {_q(ctx.model.start)}"
        )


def dead_end(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """STRUCT-02: a step, other than ``end`` and ``support``, with no ``next``."""
    for step in ctx.model.steps:
        if step.kind not in ("end", "support") and not step.next:
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
        yield Issue(
            (), f"no case can reach a support step from the start step {_q(ctx.model.start)}"
        )


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


# --------------------------------------------------------------------------- authorisation


def _panels(ctx: Context) -> list[str]:
    """Approvals done by a ``panel`` actor or, with two or more authority levels, at the top
    (last) level, in file order (AUTH-01 and AUTH-05)."""
    model = ctx.model
    top = model.authorities[-1].id if len(model.authorities) >= 2 else None
    return [
        a
        for a in ctx.of_kind("approval")
        if ctx.actor_kind(a) == "panel" or (top is not None and ctx.steps[a].authority == top)
    ]


def panel_on_every_route(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """AUTH-01: some support step is reachable from start, but none avoiding every approval
    done by a ``panel`` actor or, with two or more authority levels, at the top level."""
    if not any(s in ctx.reachable for s in ctx.support_steps):
        return
    gates = _panels(ctx)
    if not gates:
        return
    around = ctx.reachable_from_start_avoiding(gates)
    if not any(s in around for s in ctx.support_steps):
        yield Issue(
            tuple(gates),
            f"every route to support passes {_steps(gates)} "
            "(a funding panel or the top level of sign-off)",
        )


def too_many_approvals(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """AUTH-02: some route passes more approval steps than ``max_approvals``; names the
    approvals on one such route, in route order."""
    yield from _over_target(ctx.approvals, opts["max_approvals"], "approvals", "sign-off at")


def redundant_approval(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """AUTH-03: for each ordered pair (A, B) of distinct approvals that both approve some
    artefact X, where B is reachable from A's successors avoiding every step producing X;
    names A then B and every such artefact."""
    approvals = ctx.of_kind("approval")
    artefacts = list(dict.fromkeys(x for a in approvals for x in ctx.steps[a].approves))
    pairs: dict[tuple[str, str], list[str]] = {}
    for x in artefacts:
        approvers = [a for a in approvals if x in ctx.steps[a].approves]
        if len(approvers) < 2:
            continue
        producers = [s.id for s in ctx.model.steps if x in s.produces]
        masks, order = reach_masks(without_out_edges(ctx.graph, producers).copy(), approvers)
        for a in approvers:
            mask = 0
            for s in ctx.graph.successors(a):
                mask |= masks[s]
            for b in bits(mask, order):
                if b != a:
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
    for a in _panels(ctx):
        named: list[str] = []
        for t in ctx.steps[a].next:
            if not t.rework or t.to not in ctx.steps:
                continue
            plan = _nearest(ctx, t.to, planning)
            if plan is None or plan in named:
                continue
            named.append(plan)
            actor = ctx.model.actor_of(ctx.steps[a])
            who = actor.name if actor else "the top level of sign-off"
            where = "" if plan == t.to else f" (by way of {_q(t.to)})"
            yield Issue(
                (a, plan),
                f"{_q(a)} ({who}) can send the plan back to be reworked at {_q(plan)}{where}",
            )


def _nearest(ctx: Context, source: str, targets: set[str]) -> str | None:
    """The step of ``targets`` nearest ``source`` on the route graph (no rework transitions,
    nothing beyond a support step): fewest transitions, then first in the file."""
    for layer in nx.bfs_layers(ctx.routes, [source]):
        found = [s for s in layer if s in targets]
        if found:
            return ctx.ordered(found)[0]
    return None


# --------------------------------------------------------------------------- sequencing


def _reached_before(ctx: Context, kinds: tuple[str, ...], avoid: list[str]) -> list[str]:
    reached = ctx.reachable_from_start_avoiding(avoid)
    return [s for s in ctx.of_kind(*kinds) if s in reached]


def _tellers(ctx: Context, *words: str) -> list[str]:
    return [s.id for s in ctx.model.steps if any(w in s.tells for w in words)]


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


def _days(value: float) -> str:
    return plural(tidy(value, 1), "day")


def _policy_line(policy: ReviewPolicy | None, ctx: Context) -> int | None:
    return (policy.pos.line if policy else 0) or ctx.model.policies.pos.line or None


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
        )


# --------------------------------------------------------------------------- hand-offs


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


def _actor_name(ctx: Context, actor_id: str) -> str:
    actor = ctx.model.actors.get(actor_id)
    return actor.name if actor else _q(actor_id)


# --------------------------------------------------------------------------- simple


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
    yield from _over_target(
        ctx.assessments, opts.get("max_assessments", 1), "assessments", "assessed at"
    )


# --------------------------------------------------------------------------- heard


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


# --------------------------------------------------------------------------- in control


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
        )


def restricted_use(ctx: Context, opts: Mapping[str, Any]) -> Iterator[Result]:
    """CONTROL-02: each entry of ``policies.restrictions`` and of a step's ``restrictions``."""
    for text in ctx.model.policies.restrictions:
        yield Issue(
            (),
            f'council policy restricts how budgets are used: "{text.text}"',
            subject=(text.text,),
            line=text.pos.line or None,
        )
    for step in ctx.model.steps:
        for text in step.restrictions:
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
            (), "direct payments go on a prepaid card by default", line=policies.pos.line or None
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
        )


# --------------------------------------------------------------------------- the registry

RULES: dict[str, Rule] = {
    "STRUCT-01": unreachable_step,
    "STRUCT-02": dead_end,
    "STRUCT-03": no_way_out,
    "STRUCT-04": unmarked_loop,
    "AUTH-01": panel_on_every_route,
    "AUTH-02": too_many_approvals,
    "AUTH-03": redundant_approval,
    "AUTH-04": limit_not_delegated,
    "AUTH-05": panel_reworks_plan,
    "SEQ-01": means_test_before_assessment,
    "SEQ-02": eligibility_before_assessment,
    "SEQ-03": budget_unknown_when_planning,
    "SEQ-04": contribution_revealed_late,
    "SEQ-05": options_not_explained,
    "SEQ-06": no_review,
    "SEQ-07": first_review_late,
    "SEQ-08": review_interval_too_long,
    "SEQ-09": direct_payment_review_late,
    "HAND-01": too_many_handoffs,
    "HAND-02": ping_pong,
    "SIMPLE-01": asked_again,
    "SIMPLE-02": slow_to_support,
    "SIMPLE-03": form_burden,
    "SIMPLE-04": repeated_assessment,
    "HEARD-01": person_not_heard,
    "HEARD-02": no_self_planning,
    "HEARD-03": decided_in_absence,
    "CONTROL-01": options_missing,
    "CONTROL-02": restricted_use,
    "CONTROL-03": narrow_uses,
    "CONTROL-04": prepaid_card_default,
    "CONTROL-05": allocation_method_unpublished,
}
"""Rule id -> function. ``WAIVER-01`` (stale waiver) is the engine's own: it needs the
other rules' findings."""
