"""Property tests: the graph analyses agree with brute force on small random models.

Brute force enumerates simple paths (fine for a handful of steps), which the
analyses themselves never do.
"""

from __future__ import annotations

from fractions import Fraction

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from sdsaudit.analysis.graph import Context, transition_shares

from .rules.helpers import build_model

KINDS = ("information", "approval", "assessment", "wait", "planning")
ACTORS = ("a", "b", "person")


@st.composite
def models(draw):
    n = draw(st.integers(2, 6))
    ids = [f"s{i}" for i in range(n)]
    targets = ids + ["support", "gone"]
    steps = []
    for sid in ids:
        kind = draw(st.sampled_from(KINDS))
        step = {
            "id": sid,
            "name": sid,
            "kind": kind,
            "actor": draw(st.sampled_from(ACTORS)),
            "days": draw(st.integers(0, 5)),
            "forms": draw(st.integers(0, 2)),
        }
        if kind == "approval":
            step.update(authority="manager", approves=["support_plan"])
        to = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=3, unique=True))
        shared = draw(st.booleans())
        nxt = []
        for i, t in enumerate(to):
            branch = {"to": t, "rework": draw(st.booleans())}
            if shared and i < len(to) - 1:
                branch["share"] = round(0.9 / len(to), 3)
            nxt.append(branch)
        step["next"] = nxt
        steps.append(step)
    steps.append(
        {
            "id": "support",
            "name": "Support",
            "kind": "support",
            "next": [draw(st.sampled_from(ids + ["gone"]))],
        }
    )
    steps.append({"id": "gone", "name": "Gone", "kind": "end", "outcome": "withdrew"})
    return build_model(steps)


def _brute_reach(g: nx.DiGraph, start: str, avoid: set[str]) -> set[str]:
    found = {start}
    for x in g:
        for path in nx.all_simple_paths(g, start, x):
            if not any(p in avoid for p in path[:-1]):
                found.add(x)
                break
    return found


@settings(max_examples=150, deadline=None)
@given(models(), st.sets(st.sampled_from(["s0", "s1", "s2", "s3", "support"])))
def test_reachable_avoiding_matches_simple_paths(model, avoid) -> None:
    ctx = Context(model)
    assert ctx.reachable_from_start_avoiding(avoid) == _brute_reach(ctx.graph, model.start, avoid)


@settings(max_examples=150, deadline=None)
@given(models())
def test_route_maxima_match_enumeration(model) -> None:
    ctx = Context(model)
    routes = ctx.routes
    paths = list(nx.all_simple_paths(routes, model.start, "support"))
    if model.start == "support":
        paths = [["support"]]
    weights = {
        "approvals": lambda p: sum(ctx.steps[s].kind == "approval" for s in p),
        "forms": lambda p: sum(ctx.steps[s].forms for s in p),
        "days": lambda p: sum(ctx.steps[s].days for s in p if s != "support"),
        "handoffs": lambda p: sum(ctx.is_handoff(u, v) for u, v in zip(p, p[1:], strict=False)),
    }
    for name, weigh in weights.items():
        result = getattr(ctx, name)
        if not paths:
            assert result.value is None
            continue
        best = max(weigh(p) for p in paths)
        # a loop on a route holding anything counted can repeat without bound
        heavy = [c for c in nx.simple_cycles(ctx.route_core) if weigh(c + c[:1]) > 0]
        if heavy:
            assert result.unbounded, name
        else:
            assert result.value == best, name
            assert weigh(list(result.route)) == best and result.route[0] == model.start
    metrics = ctx.metrics
    if not paths or list(nx.simple_cycles(ctx.route_core)):
        assert metrics["approvals_max"] is None and metrics["worst_days_to_support"] is None
    else:
        assert metrics["approvals_max"] == max(weights["approvals"](p) for p in paths)


@settings(max_examples=150, deadline=None)
@given(models())
def test_chain_matches_a_dense_exact_solve(model) -> None:
    ctx = Context(model)
    transient = [s.id for s in model.steps if s.kind not in ("support", "end")]
    chain = nx.DiGraph()
    chain.add_nodes_from(ctx.steps)
    p = {i: [(t, q) for t, q in transition_shares(ctx.steps[i]) if q > 0] for i in transient}
    chain.add_edges_from((i, t) for i in transient for t, _ in p[i])
    live = [
        i for i in transient if nx.has_path(chain, i, "support") or nx.has_path(chain, i, "gone")
    ]
    n = len(live)
    if model.start not in live:
        return
    idx = {s: k for k, s in enumerate(live)}
    a = [[Fraction(int(r == c)) for c in range(n)] for r in range(n)]
    h_rhs, w_rhs = [Fraction(0)] * n, [Fraction(0)] * n
    for i in live:
        for t, q in p[i]:
            if t in idx:
                a[idx[i]][idx[t]] -= q
            elif t == "support":
                h_rhs[idx[i]] += q
            elif t == "gone":
                w_rhs[idx[i]] += q
    h = _solve(a, h_rhs)
    w = _solve(a, w_rhs)
    g = _solve(a, [Fraction(str(ctx.steps[s].days)) * h[idx[s]] for s in live])
    result = ctx.chain
    k = idx[model.start]
    assert result.share_reaching_support == h[k]
    assert result.share_withdrawing == w[k]
    if h[k]:
        assert result.expected_days_to_support == g[k] / h[k]
    else:
        assert result.expected_days_to_support is None
    assert h[k] + w[k] <= 1


def _solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for k in range(n):
        piv = next(i for i in range(k, n) if m[i][k])
        m[k], m[piv] = m[piv], m[k]
        for i in range(n):
            if i != k and m[i][k]:
                f = m[i][k] / m[k][k]
                m[i] = [x - f * y for x, y in zip(m[i], m[k], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]
