"""Graph analyses: reachability avoiding a set, route maxima, the Markov chain and metrics,
on models small enough to check by hand."""

from __future__ import annotations

import math
from fractions import Fraction

import networkx as nx

from sdsaudit.analysis.graph import Context, reach_avoiding, solve_chain, transition_shares

from .rules.helpers import build_model


def step(sid, kind="information", actor="a", nxt=(), **extra):
    out = {"id": sid, "name": sid.title(), "kind": kind, **extra}
    if kind not in ("support", "end"):
        out["actor"] = actor
    if kind != "end":
        out["next"] = list(nxt)
    return out


def test_reachable_avoiding_follows_the_spec() -> None:
    g = nx.DiGraph([("start", "x"), ("x", "y"), ("start", "z"), ("z", "x")])
    # X itself may be in S; walks stop at S
    assert reach_avoiding(g, ["start"], {"x"}) == {"start", "x", "z"}
    # start counts as passed: if start is in S only start is reachable
    assert reach_avoiding(g, ["start"], {"start"}) == {"start"}
    # walks from a step's successors: a successor in S reaches only itself
    assert reach_avoiding(g, ["x", "z"], {"x", "z"}) == {"x", "z"}


def test_metrics_with_a_rework_loop_and_a_withdrawal_branch() -> None:
    # s1 (2 days) -> s2 (4 days) -> support 0.6 | back to s1 0.2 (rework) | withdrew (the
    # branch without a share takes what is left, 0.2).
    # Reaching support: h = 0.6 + 0.2 h, so h = 0.75; withdrawing 0.2 / 0.8 = 0.25.
    # Each pass takes 6 days; given support, passes are geometric with success
    # 0.6 / 0.8 = 0.75... per pass ending: P(n passes | support) = 0.8 * 0.2^(n-1), so
    # E[passes] = 1 / 0.8 = 1.25 and expected days = 6 * 1.25 = 7.5. The only route
    # (no rework) is s1, s2, support: 6 days.
    model = build_model(
        [
            step("s1", "contact", days=2, nxt=["s2"]),
            step(
                "s2",
                "assessment",
                actor="b",
                days=4,
                forms=1,
                nxt=[
                    {"to": "support", "share": 0.6},
                    {"to": "s1", "share": 0.2, "rework": True},
                    "gone",
                ],
            ),
            step("support", "support", days=99, nxt=["gone"]),
            step("gone", "end", outcome="withdrew"),
        ]
    )
    ctx = Context(model)
    assert ctx.chain.share_reaching_support == Fraction(3, 4)
    assert ctx.chain.share_withdrawing == Fraction(1, 4)
    assert ctx.chain.expected_days_to_support == Fraction(15, 2)
    assert ctx.metrics == {
        "steps": 4,
        "approvals_max": 0,
        "handoffs_max": 1,
        "forms_max": 1,
        "assessments_max": 1,
        "expected_days_to_support": 7.5,
        "worst_days_to_support": 6,
        "share_reaching_support": 0.75,
        "share_withdrawing": 0.25,
    }


def test_expected_days_are_conditioned_on_reaching_support() -> None:
    # s1 (10) -> fast (1) 0.5 -> support; slow (20) 0.5 -> support 0.5 | withdrew 0.5.
    # P(support) = 0.5 + 0.25 = 0.75; E[days; support] = 0.5 * 11 + 0.25 * 30 = 13;
    # expected = 13 / 0.75 = 52/3 = 17.33; worst route s1, slow, support = 30 days.
    model = build_model(
        [
            step("s1", "contact", days=10, nxt=[{"to": "fast", "share": 0.5}, "slow"]),
            step("fast", "planning", days=1, nxt=["support"]),
            step(
                "slow",
                "planning",
                actor="person",
                days=20,
                nxt=[{"to": "support", "share": 0.5}, {"to": "gone", "share": 0.5}],
            ),
            step("support", "support", nxt=["gone"]),
            step("gone", "end", outcome="withdrew"),
        ]
    )
    ctx = Context(model)
    assert ctx.chain.expected_days_to_support == Fraction(52, 3)
    assert ctx.metrics["expected_days_to_support"] == 17.3
    assert ctx.metrics["worst_days_to_support"] == 30
    assert ctx.days.route == ("s1", "slow", "support")
    assert ctx.metrics["share_withdrawing"] == 0.25
    assert ctx.metrics["handoffs_max"] == 0  # the person is never part of a hand-off


def test_a_loop_without_rework_on_a_route_makes_the_maxima_null() -> None:
    model = build_model(
        [
            step("s1", "contact", nxt=["ap"]),
            step(
                "ap",
                "approval",
                authority="manager",
                approves=["support_plan"],
                days=3,
                nxt=["chk"],
            ),
            step(
                "chk",
                "decision",
                actor="b",
                nxt=[{"to": "ap", "share": 0.5}, {"to": "support", "share": 0.5}],
            ),
            step("support", "support", nxt=["s1"]),
        ]
    )
    ctx = Context(model)
    m = ctx.metrics
    assert [
        m[k]
        for k in (
            "approvals_max",
            "handoffs_max",
            "forms_max",
            "assessments_max",
            "worst_days_to_support",
        )
    ] == [None] * 5
    assert ctx.approvals.unbounded and ctx.approvals.counted == ("ap",)
    assert ctx.handoffs.counted == ("ap", "chk")
    # no form and no assessment in the loop: exact maxima still known to the rules
    assert ctx.forms.value == 0 and not ctx.forms.unbounded
    # 3 days a pass, passes geometric with success 1/2: 6 days expected
    assert m["expected_days_to_support"] == 6
    assert m["share_reaching_support"] == 1.0


def test_zero_weight_loops_are_crossed_by_a_real_route() -> None:
    model = build_model(
        [
            step("s1", "contact", nxt=["w1"]),
            step("w1", "wait", nxt=["w2"]),
            step("w2", "wait", nxt=["w1", "ap"]),
            step("ap", "approval", authority="manager", approves=["support_plan"], nxt=["support"]),
            step("support", "support", nxt=["s1"]),
        ]
    )
    result = Context(model).approvals
    assert result.value == 1 and result.route == ("s1", "w1", "w2", "ap", "support")


def test_no_route_and_no_support() -> None:
    model = build_model(
        [step("s1", "contact", nxt=["gone"]), step("gone", "end", outcome="declined")]
    )
    ctx = Context(model)
    assert ctx.approvals.value is None and not ctx.approvals.exceeds(0)
    m = ctx.metrics
    assert m["approvals_max"] is None and m["expected_days_to_support"] is None
    assert m["share_reaching_support"] == 0.0 and m["share_withdrawing"] == 0.0


def test_ladder_maxima_without_enumerating_routes() -> None:
    # 40 rungs: each either passes an approval with a form or skips it: 2^40 routes
    steps = [step("s0", "contact", nxt=["a1", "j1"])]
    for r in range(1, 41):
        after = "support" if r == 40 else f"a{r + 1}"
        steps.append(
            step(
                f"a{r}",
                "approval",
                authority="manager",
                approves=["support_plan"],
                forms=1,
                days=2,
                nxt=[f"j{r}"],
            )
        )
        steps.append(
            step(
                f"j{r}",
                "decision",
                actor="b",
                days=1,
                nxt=[after] + ([f"j{r + 1}"] if r < 40 else []),
            )
        )
    steps.append(step("support", "support", nxt=["s0"]))
    ctx = Context(build_model(steps))
    assert ctx.metrics["approvals_max"] == 40 and ctx.metrics["forms_max"] == 40
    assert ctx.metrics["worst_days_to_support"] == 120
    assert ctx.metrics["handoffs_max"] == 79  # a1->j1 ... a40->j40 and j1->a2 ... j39->a40


def _dense_solve(a: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for k in range(n):
        p = next(i for i in range(k, n) if m[i][k])
        m[k], m[p] = m[p], m[k]
        for i in range(n):
            if i != k and m[i][k]:
                f = m[i][k] / m[k][k]
                m[i] = [x - f * y for x, y in zip(m[i], m[k], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def test_a_tangled_component_is_solved_exactly() -> None:
    # five steps all reachable from one another, with exits to support and withdrawal
    names = ["r0", "r1", "r2", "r3", "r4"]
    steps = []
    for i, sid in enumerate(names):
        nxt = [
            {"to": names[(i + 1) % 5], "share": 0.5},
            {"to": names[(i + 3) % 5], "share": 0.25, "rework": True},
            {"to": "support" if i % 2 else "gone", "share": 0.25},
        ]
        steps.append(step(sid, "wait", days=i + 1, nxt=nxt))
    steps += [step("support", "support", nxt=["gone"]), step("gone", "end", outcome="withdrew")]
    model = build_model(steps)
    # reference: dense solve of h = Qh + r and g = Qg + d*h
    q = [[Fraction(0)] * 5 for _ in names]
    r = [Fraction(0)] * 5
    for i, sid in enumerate(names):
        for to, p in transition_shares(model.step(sid)):
            if to in names:
                q[i][names.index(to)] += p
            elif to == "support":
                r[i] += p
    ident = [[Fraction(int(i == j)) - q[i][j] for j in range(5)] for i in range(5)]
    h = _dense_solve(ident, r)
    g = _dense_solve(ident, [Fraction(i + 1) * h[i] for i in range(5)])
    result = solve_chain(model)
    assert result.share_reaching_support == h[0]
    assert result.expected_days_to_support == g[0] / h[0]
    assert math.isclose(float(result.share_reaching_support + result.share_withdrawing), 1)


def test_shares_without_a_value_split_what_is_left() -> None:
    model = build_model(
        [
            step("s1", "contact", nxt=[{"to": "x", "share": 0.4}, "y", "z"]),
            step("x", "wait", nxt=["support"]),
            step("y", "wait", nxt=["support"]),
            step("z", "wait", nxt=["support"]),
            step("support", "support", nxt=["s1"]),
        ]
    )
    assert transition_shares(model.step("s1")) == [
        ("x", Fraction(2, 5)),
        ("y", Fraction(3, 10)),
        ("z", Fraction(3, 10)),
    ]


def test_benchmark_models_are_valid_and_the_ladder_has_2_to_the_k_routes() -> None:
    import importlib.util

    from sdsaudit.model.loader import load_model_text

    from .models import ROOT

    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    ladder = load_model_text(generate.ladder(8), "ladder.yaml")
    single = load_model_text(generate.chain_like_ladder(8), "single.yaml")
    assert len(ladder.steps) == len(single.steps) == 3 * 8 + 4
    for model, routes in ((ladder, 2**8), (single, 1)):
        ctx = Context(model)
        assert len(list(nx.all_simple_paths(ctx.routes, model.start, "support"))) == routes
    for text in (generate.chain(120), generate.chain(120, loops_to_start=True)):
        assert Context(load_model_text(text, "chain.yaml")).metrics["steps"] == 120
