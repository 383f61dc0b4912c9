"""Graph analyses of a process model: pure functions and one prepared context.

Everything here works on networkx graphs built from a :class:`~sdsaudit.model.objects.Model`
and never enumerates routes (a council model can have exponentially many):

* reachability "avoiding S" is a breadth-first search on the graph with the
  out-edges of S removed;
* reachability between many pairs of steps (for example every pair of steps
  asking the same question) is computed once, as bitsets propagated over the
  condensation (the DAG of strongly connected components);
* route maxima (most approvals, hand-offs, forms, assessments or days on a
  route) are longest paths on the condensation of the route graph;
* expected days to support come from the absorbing Markov chain of the
  process, solved exactly with fractions, one strongly connected component at
  a time.

Terms (route, hand-off, shares, rework) are those of ``docs/format.md``;
the meaning of "reachable from start avoiding S" is that of ``docs/rules.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

import networkx as nx

from ..model.objects import Model, Step
from ..vocab import PERSON_SIDE
from ..words import tidy

NodeWeight = Callable[[str], float]
EdgeWeight = Callable[[str, str], float]

# --------------------------------------------------------------------------- building graphs


def process_graph(model: Model) -> nx.DiGraph:
    """The whole process as a DiGraph: one node per step (file order), one edge per transition.

    Edges carry ``share`` (the given share or ``None``) and ``rework`` (bool).
    Transitions to steps that do not exist are left out (the loader rejects them).
    """
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(s.id for s in model.steps)
    for step in model.steps:
        for t in step.next:
            if t.to in graph:
                graph.add_edge(step.id, t.to, share=t.share, rework=t.rework)
    return graph


def route_graph(model: Model, graph: nx.DiGraph) -> nx.DiGraph:
    """The graph routes walk on: rework transitions and edges out of ``support`` steps removed.

    A route ends at the first support step it reaches, so nothing leaves one.
    """
    routes: nx.DiGraph = nx.DiGraph()
    routes.add_nodes_from(graph)
    support = {s.id for s in model.steps if s.kind == "support"}
    routes.add_edges_from(
        (u, v) for u, v, data in graph.edges(data=True) if not data["rework"] and u not in support
    )
    return routes


def reach(graph: nx.DiGraph, sources: Iterable[str]) -> set[str]:
    """The sources and every node reachable from them (multi-source breadth-first search)."""
    starts = [s for s in dict.fromkeys(sources) if s in graph]
    if not starts:
        return set()
    found: set[str] = set()
    for layer in nx.bfs_layers(graph, starts):
        found.update(layer)
    return found


def without_out_edges(graph: nx.DiGraph, avoid: Collection[str]) -> nx.DiGraph:
    """A read-only view of ``graph`` in which no edge leaves a step of ``avoid``."""
    blocked = frozenset(avoid)
    return nx.subgraph_view(graph, filter_edge=lambda u, v: u not in blocked)


def reach_avoiding(graph: nx.DiGraph, sources: Iterable[str], avoid: Collection[str]) -> set[str]:
    """Steps reachable from ``sources`` by a walk that passes no step of ``avoid`` before arriving.

    The sources count as passed: a source in ``avoid`` reaches only itself. A step
    of ``avoid`` may itself be reached (``docs/rules.md``).
    """
    return reach(without_out_edges(graph, avoid), sources)


def reach_masks(graph: nx.DiGraph, targets: Iterable[str]) -> tuple[dict[str, int], list[str]]:
    """For every node, which ``targets`` it reaches (itself included), as a bitset.

    Returns ``(masks, order)``: bit ``i`` of ``masks[node]`` is set when
    ``order[i]`` is reachable from ``node`` (a walk of length zero counts). One
    pass over the condensation, so reachability among many pairs of steps costs
    about as much as one search.
    """
    order = [t for t in dict.fromkeys(targets) if t in graph]
    bit = {t: 1 << i for i, t in enumerate(order)}
    condensed = nx.condensation(graph)
    members = condensed.nodes(data="members")
    masks_of_scc: dict[int, int] = {}
    for c in reversed(list(nx.topological_sort(condensed))):
        mask = 0
        for node in members[c]:
            mask |= bit.get(node, 0)
        for d in condensed.successors(c):
            mask |= masks_of_scc[d]
        masks_of_scc[c] = mask
    mapping = condensed.graph["mapping"]
    return {node: masks_of_scc[mapping[node]] for node in graph}, order


def bits(mask: int, order: list[str]) -> list[str]:
    """The targets whose bits are set in ``mask``, in ``order``."""
    out = []
    while mask:
        low = mask & -mask
        out.append(order[low.bit_length() - 1])
        mask ^= low
    return out


def loops(graph: nx.DiGraph, position: Mapping[str, int]) -> list[tuple[str, ...]]:
    """Groups of steps that loop among themselves: each SCC of more than one step, or a
    step leading to itself; steps in file order, groups ordered by their first step."""
    found = [
        tuple(sorted(c, key=position.__getitem__))
        for c in nx.strongly_connected_components(graph)
        if len(c) > 1 or graph.has_edge(next(iter(c)), next(iter(c)))
    ]
    return sorted(found, key=lambda group: position[group[0]])


# --------------------------------------------------------------------------- route maxima


@dataclass(frozen=True)
class RouteMax:
    """The most of something (approvals, days...) on any route from start to support.

    ``value`` is ``None`` when no route exists and ``math.inf`` when a loop
    without a rework mark lies on a route and holds something counted (it can
    then repeat without bound). ``route`` is one route attaining the maximum
    (empty when unbounded or none); ``counted`` names the steps that count: on
    ``route``, in route order, or when unbounded, those in such loops.
    """

    value: float | None
    route: tuple[str, ...] = ()
    counted: tuple[str, ...] = ()

    @property
    def unbounded(self) -> bool:
        return self.value is not None and math.isinf(self.value)

    def exceeds(self, limit: float) -> bool:
        """Whether some route goes over ``limit``."""
        return self.value is not None and self.value > limit


def longest_route(
    core: nx.DiGraph,
    start: str,
    ends: Collection[str],
    node_weight: NodeWeight,
    edge_weight: EdgeWeight,
    position: Mapping[str, int],
    condensed: nx.DiGraph | None = None,
) -> RouteMax:
    """The heaviest walk from ``start`` to a node of ``ends`` in ``core``.

    ``core`` must hold only nodes on some walk from ``start`` to ``ends``. Node
    and edge weights are non-negative. A longest path on the condensation: a loop
    of positive weight makes the maximum infinite; a loop of weight zero can be
    crossed without gain, so it counts as a single node. ``condensed`` may pass in
    ``nx.condensation(core)`` when it is already known.
    """
    if start not in core or not any(e in core for e in ends):
        return RouteMax(None)
    if condensed is None:
        condensed = nx.condensation(core)
    mapping: dict[str, int] = condensed.graph["mapping"]
    members = condensed.nodes(data="members")

    def counted_in(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> set[str]:
        heavy = {n for n in nodes if node_weight(n) > 0}
        return heavy | {v for u, v in edges if edge_weight(u, v) > 0}

    in_loops: set[str] = set()
    best: dict[int, tuple[float, tuple[str, str] | None]] = {}
    for c in nx.topological_sort(condensed):
        group = members[c]
        one = next(iter(group))
        if len(group) > 1 or core.has_edge(one, one):
            inside = [(u, v) for u in group for v in core.successors(u) if v in group]
            in_loops |= counted_in(group, inside)
            weight = 0.0
        else:
            weight = node_weight(one)
        value: float | None = 0.0 if start in group else None
        entry: tuple[str, str] | None = None
        for v in sorted(group, key=position.__getitem__):
            for u in core.predecessors(v):
                pc = mapping[u]
                if pc == c:
                    continue
                candidate = best[pc][0] + edge_weight(u, v)
                if value is None or candidate > value:
                    value, entry = candidate, (u, v)
        best[c] = ((value or 0.0) + weight, entry)
    if in_loops:
        return RouteMax(math.inf, counted=tuple(sorted(in_loops, key=position.__getitem__)))
    end = max(
        (e for e in sorted(ends, key=position.__getitem__) if e in core),
        key=lambda e: best[mapping[e]][0],
    )
    route = _walk_back(core, condensed, best, end, start)
    counted = [route[0]] if node_weight(route[0]) > 0 else []
    for u, v in zip(route, route[1:], strict=False):
        if node_weight(v) > 0 or edge_weight(u, v) > 0:
            counted.append(v)
    return RouteMax(best[mapping[end]][0], tuple(route), tuple(dict.fromkeys(counted)))


def _walk_back(
    core: nx.DiGraph, condensed: nx.DiGraph, best: dict, end: str, start: str
) -> list[str]:
    """Rebuild the route found by :func:`longest_route`, crossing zero-weight loops by
    a shortest path inside them."""
    mapping = condensed.graph["mapping"]
    members = condensed.nodes(data="members")
    route: list[str] = []
    node = end
    while True:
        c = mapping[node]
        entry = best[c][1]
        first = start if entry is None else entry[1]
        piece = (
            [node] if first == node else nx.shortest_path(core.subgraph(members[c]), first, node)
        )
        route[:0] = piece
        if entry is None:
            return route
        node = entry[0]


# --------------------------------------------------------------------------- Markov chain


@dataclass(frozen=True)
class ChainResult:
    """Exact results of the absorbing Markov chain (fractions; ``None`` where undefined)."""

    share_reaching_support: Fraction
    share_withdrawing: Fraction
    expected_days_to_support: Fraction | None


def transition_shares(step: Step) -> list[tuple[str, Fraction]]:
    """The probability of each branch of ``step``, exactly.

    Given shares are kept (rescaled to sum to 1 exactly when every branch has
    one); branches without a share split what is left equally.
    """
    given = [Fraction(str(t.share)) for t in step.next if t.share is not None]
    if step.next and len(given) == len(step.next):
        total = sum(given)
        return [(t.to, Fraction(str(t.share)) / total if total else Fraction(0)) for t in step.next]
    rest = max(Fraction(0), Fraction(1) - sum(given, Fraction(0)))
    free = len(step.next) - len(given)
    return [
        (t.to, Fraction(str(t.share)) if t.share is not None else rest / free) for t in step.next
    ]


def solve_chain(model: Model) -> ChainResult:
    """Share of cases reaching support, share withdrawing, and expected days to support.

    Cases move by the transitions' shares (rework included) until they reach a
    ``support`` step or an ``end`` step (absorbing). Expected days to support is
    ``E[days before support | support reached]`` = g(start) / h(start), where h is
    the probability of reaching support and g = E[days x 1{support reached}]
    satisfies g(i) = days(i) h(i) + sum_j p(i, j) g(j). A support step's own days
    are not counted. Solved exactly, one strongly connected component at a time,
    sinks first; each component's small system by sparse Gaussian elimination.
    """
    steps = model.step_by_id
    position = {s.id: n for n, s in enumerate(model.steps)}
    chain: nx.DiGraph = nx.DiGraph()
    chain.add_nodes_from(steps)
    prob: dict[str, list[tuple[str, Fraction]]] = {}
    for step in model.steps:
        if step.kind not in ("support", "end"):
            prob[step.id] = [(to, p) for to, p in transition_shares(step) if p > 0 and to in steps]
    chain.add_edges_from((i, to) for i, branches in prob.items() for to, _ in branches)
    support = {s.id for s in model.steps if s.kind == "support"}
    withdrew = {s.id for s in model.steps if s.kind == "end" and s.outcome == "withdrew"}
    if model.start not in steps:
        return ChainResult(Fraction(0), Fraction(0), None)
    forward = reach(chain, [model.start])
    relevant = forward & reach(chain.reverse(copy=False), (support | withdrew) & forward)
    h: dict[str, Fraction] = {s: Fraction(1) for s in support}
    w: dict[str, Fraction] = {s: Fraction(1) for s in withdrew}
    g: dict[str, Fraction] = {}
    transient = chain.subgraph(n for n in relevant if n not in support and n not in withdrew).copy()
    condensed = nx.condensation(transient)
    members = condensed.nodes(data="members")
    zero = Fraction(0)
    for c in reversed(list(nx.topological_sort(condensed))):
        group = members[c]
        # h and w first (they do not depend on days), then g, which needs h.
        for values, extra in ((h, None), (w, None), (g, "days")):
            rhs: dict[str, Fraction] = {}
            coef: dict[str, dict[str, Fraction]] = {}
            for i in group:
                row: dict[str, Fraction] = {}
                b = Fraction(str(steps[i].days)) * h.get(i, zero) if extra else zero
                for j, p in prob[i]:
                    if j in group:
                        row[j] = row.get(j, zero) + p
                    else:
                        b += p * values.get(j, zero)
                coef[i], rhs[i] = row, b
            for i, x in _solve(group, coef, rhs, chain, position).items():
                if x:
                    values[i] = x
    start = model.start
    reached = h.get(start, zero)
    expected = g.get(start, zero) / reached if reached else None
    return ChainResult(reached, w.get(start, zero), expected)


def _solve(
    group: Collection[str],
    q: dict[str, dict[str, Fraction]],
    rhs: dict[str, Fraction],
    chain: nx.DiGraph,
    position: Mapping[str, int],
) -> dict[str, Fraction]:
    """Solve x = Q x + b on one strongly connected component, exactly.

    (I - Q) is a non-singular M-matrix here (every step can still reach an
    absorbing target), so elimination needs no pivoting in any order. Variables are
    eliminated in reverse depth-first order along the arrows from the first step in
    the file, which keeps fill-in small on the chain-like graphs processes are.
    """
    zero = Fraction(0)
    if len(group) == 1:
        (i,) = group
        return {i: rhs[i] / (1 - q[i].get(i, zero))}
    first = min(group, key=position.__getitem__)
    # Eliminate the steps furthest along the flow first: each then only passes its
    # dependence on the few steps that rework loops go back to on to its predecessors,
    # so fill-in stays small (a chain with loops back to its start costs O(n)).
    order = list(nx.dfs_preorder_nodes(chain.subgraph(group), first))[::-1]
    rows: dict[str, dict[str, Fraction]] = {}
    b: dict[str, Fraction] = {}
    holders: dict[str, set[str]] = {}
    for i in group:
        row = {j: -p for j, p in q[i].items()}
        row[i] = row.get(i, zero) + 1
        rows[i], b[i] = row, rhs[i]
        for j in row:
            holders.setdefault(j, set()).add(i)
    done: set[str] = set()
    for k in order:
        done.add(k)
        pivot_row = rows[k]
        pivot = pivot_row[k]
        for r in holders.pop(k, set()) - done:
            row = rows[r]
            a_rk = row.pop(k, None)
            if not a_rk:
                continue
            factor = a_rk / pivot
            for j, a in pivot_row.items():
                if j == k:
                    continue
                value = row.get(j, zero) - factor * a
                if value:
                    row[j] = value
                    holders.setdefault(j, set()).add(r)
                else:
                    row.pop(j, None)
            b[r] -= factor * b[k]
    x: dict[str, Fraction] = {}
    for k in reversed(order):
        row = rows[k]
        total = b[k] - sum((a * x[j] for j, a in row.items() if j != k), zero)
        x[k] = total / row[k]
    return x


# --------------------------------------------------------------------------- the shared context


class Context:
    """Everything the rules share about one model, computed once and cached.

    Rules read it and never change it. Cached analyses are computed on first use,
    so selecting a few rules costs only what they need.
    """

    def __init__(self, model: Model):
        self.model = model
        self.steps: Mapping[str, Step] = model.step_by_id
        self.position: dict[str, int] = {s.id: n for n, s in enumerate(model.steps)}
        self.graph = process_graph(model)
        self.routes = route_graph(model, self.graph)

    # ---- small helpers

    def of_kind(self, *kinds: str) -> list[str]:
        """Ids of the steps of these kinds, in file order."""
        return [s.id for s in self.model.steps if s.kind in kinds]

    def ordered(self, ids: Iterable[str]) -> list[str]:
        """``ids`` in file order."""
        return sorted(set(ids), key=self.position.__getitem__)

    def actor_kind(self, step_id: str) -> str | None:
        actor = self.model.actor_of(self.steps[step_id])
        return actor.kind if actor else None

    def team_of(self, step_id: str) -> str | None:
        """The council team (or other organisation) doing a step: its actor, unless the
        step has none (``support``, ``end``) or the actor is on the person's side (the
        person or a carer), whom work moves to and from without a hand-off."""
        actor = self.steps[step_id].actor
        return actor if actor and self.actor_kind(step_id) not in PERSON_SIDE else None

    def is_handoff(self, a: str, b: str) -> bool:
        """A transition between two steps done by different teams (:meth:`team_of`)."""
        ta, tb = self.team_of(a), self.team_of(b)
        return ta is not None and tb is not None and ta != tb

    # ---- reachability

    @cached_property
    def reachable(self) -> set[str]:
        """Steps reachable from start by any walk (rework included)."""
        return reach(self.graph, [self.model.start])

    def reachable_from_start_avoiding(self, avoid: Collection[str]) -> set[str]:
        """Steps X such that some walk from start to X passes no step of ``avoid`` before X
        (start counts as passed)."""
        return reach_avoiding(self.graph, [self.model.start], avoid)

    @cached_property
    def panels(self) -> list[str]:
        """Approvals done by a ``panel`` actor or, with two or more authority levels, at the
        top (last) level, in file order: where a panel decides (AUTH-01, AUTH-05, GAP-05)."""
        levels = self.model.authorities
        top = levels[-1].id if len(levels) >= 2 else None
        return [
            a
            for a in self.of_kind("approval")
            if self.actor_kind(a) == "panel" or (top is not None and self.steps[a].authority == top)
        ]

    @cached_property
    def support_steps(self) -> list[str]:
        return self.of_kind("support")

    @cached_property
    def route_core(self) -> nx.DiGraph:
        """The part of the route graph that lies on some route: reachable from start and
        leading on to a support step."""
        forward = reach(self.routes, [self.model.start])
        ends = [s for s in self.support_steps if s in forward]
        backward = reach(self.routes.reverse(copy=False), ends)
        return self.routes.subgraph(forward & backward).copy()

    @cached_property
    def route_loops(self) -> list[tuple[str, ...]]:
        """Loops without a rework mark that lie on a route."""
        return loops(self.route_core, self.position)

    # ---- route maxima

    def route_max(
        self, node_weight: NodeWeight, edge_weight: EdgeWeight = lambda u, v: 0.0
    ) -> RouteMax:
        """The most of a weight on any route (see :func:`longest_route`)."""
        return longest_route(
            self.route_core,
            self.model.start,
            self.support_steps,
            node_weight,
            edge_weight,
            self.position,
            self.route_condensation,
        )

    @cached_property
    def route_condensation(self) -> nx.DiGraph:
        """The condensation of :attr:`route_core`, shared by every route maximum."""
        return nx.condensation(self.route_core)

    @cached_property
    def approvals(self) -> RouteMax:
        return self.route_max(lambda n: 1.0 if self.steps[n].kind == "approval" else 0.0)

    @cached_property
    def handoffs(self) -> RouteMax:
        return self.route_max(lambda n: 0.0, lambda u, v: 1.0 if self.is_handoff(u, v) else 0.0)

    @cached_property
    def forms(self) -> RouteMax:
        return self.route_max(lambda n: float(self.steps[n].forms))

    @cached_property
    def assessments(self) -> RouteMax:
        return self.route_max(lambda n: 1.0 if self.steps[n].kind == "assessment" else 0.0)

    @cached_property
    def days(self) -> RouteMax:
        """Most days on a route; a support step's own days are not counted."""
        return self.route_max(
            lambda n: 0.0 if self.steps[n].kind == "support" else float(self.steps[n].days)
        )

    # ---- the Markov chain and the metrics

    @cached_property
    def chain(self) -> ChainResult:
        return solve_chain(self.model)

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """The metrics of ``docs/rules.md``: route maxima are ``None`` when no route exists
        or a loop without a rework mark lies on a route."""
        loops_on_routes = bool(self.route_loops)

        def most(result: RouteMax) -> int | float | None:
            if result.value is None or loops_on_routes or math.isinf(result.value):
                return None
            return tidy(result.value, 1)

        chain = self.chain
        expected = chain.expected_days_to_support
        return {
            "steps": len(self.model.steps),
            "approvals_max": most(self.approvals),
            "handoffs_max": most(self.handoffs),
            "forms_max": most(self.forms),
            "assessments_max": most(self.assessments),
            "expected_days_to_support": None if expected is None else tidy(expected, 1),
            "worst_days_to_support": most(self.days),
            "share_reaching_support": round(float(chain.share_reaching_support), 4),
            "share_withdrawing": round(float(chain.share_withdrawing), 4),
        }
