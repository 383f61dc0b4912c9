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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

import networkx as nx

from ..model.blocks import Block
from ..model.objects import Model, StartEntry, Step
from ..vocab import PERSON_SIDE
from ..words import tidy
from .timing import Dist, block_time, branch_time, point
from .timing import mean as expected

NodeWeight = Callable[[str], float]
EdgeWeight = Callable[[str, str], float]

# --------------------------------------------------------------------------- building graphs


def process_graph(model: Model) -> nx.DiGraph:
    """The whole process as a DiGraph: one node per step (file order), one edge per transition.

    Edges carry ``share`` (the given share or ``None``), ``rework`` (bool) and
    ``branch`` (true for the arrow from a ``parallel`` step to the first step of one of
    its branches: every branch is taken, not one of them). Transitions to steps that do
    not exist are left out (the loader rejects them).
    """
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(s.id for s in model.steps)
    for step in model.steps:
        for t in step.next:
            if t.to in graph:
                graph.add_edge(step.id, t.to, share=t.share, rework=t.rework, branch=False)
        for first in step.branches:
            if first in graph:
                graph.add_edge(step.id, first, share=None, rework=False, branch=True)
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
    starts: Collection[str],
    ends: Collection[str],
    node_weight: NodeWeight,
    edge_weight: EdgeWeight,
    position: Mapping[str, int],
    condensed: nx.DiGraph | None = None,
) -> RouteMax:
    """The heaviest walk from a node of ``starts`` to a node of ``ends`` in ``core``.

    ``core`` must hold only nodes on some walk from ``starts`` to ``ends``. Node
    and edge weights are non-negative. A longest path on the condensation: a loop
    of positive weight makes the maximum infinite; a loop of weight zero can be
    crossed without gain, so it counts as a single node. ``condensed`` may pass in
    ``nx.condensation(core)`` when it is already known.
    """
    starts = [s for s in dict.fromkeys(starts) if s in core]
    if not starts or not any(e in core for e in ends):
        return RouteMax(None)
    begin = set(starts)
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
        value: float | None = 0.0 if begin.intersection(group) else None
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
    route = _walk_back(core, condensed, best, end, begin)
    counted = [route[0]] if node_weight(route[0]) > 0 else []
    for u, v in zip(route, route[1:], strict=False):
        if node_weight(v) > 0 or edge_weight(u, v) > 0:
            counted.append(v)
    return RouteMax(best[mapping[end]][0], tuple(route), tuple(dict.fromkeys(counted)))


def _walk_back(
    core: nx.DiGraph, condensed: nx.DiGraph, best: dict, end: str, starts: set[str]
) -> list[str]:
    """Rebuild the route found by :func:`longest_route`, crossing zero-weight loops by
    a shortest path inside them."""
    mapping = condensed.graph["mapping"]
    members = condensed.nodes(data="members")
    backwards: list[str] = []  # the route from its end, built in linear time
    node = end
    while True:
        c = mapping[node]
        entry = best[c][1]
        first = min(starts.intersection(members[c])) if entry is None else entry[1]
        piece = (
            [node] if first == node else nx.shortest_path(core.subgraph(members[c]), first, node)
        )
        backwards.extend(reversed(piece))
        if entry is None:
            return backwards[::-1]
        node = entry[0]


# --------------------------------------------------------------------------- Markov chain


@dataclass(frozen=True)
class ChainResult:
    """Exact results of the absorbing Markov chain (fractions; ``None`` where undefined)."""

    share_reaching_support: Fraction
    share_withdrawing: Fraction
    expected_days_to_support: Fraction | None


def split_shares(shares: Sequence[float | None]) -> list[Fraction]:
    """The probability of each of several branches (or start groups), exactly.

    Given shares are kept (rescaled to sum to 1 exactly when every branch has one);
    branches without a share split what is left equally.
    """
    given = [Fraction(str(x)) for x in shares if x is not None]
    if shares and len(given) == len(shares):
        total = sum(given)
        return [Fraction(str(x)) / total if total else Fraction(0) for x in shares]
    rest = max(Fraction(0), Fraction(1) - sum(given, Fraction(0)))
    free = len(shares) - len(given)
    return [Fraction(str(x)) if x is not None else rest / free for x in shares]


def transition_shares(step: Step) -> list[tuple[str, Fraction]]:
    """The probability of each branch of ``step`` (see :func:`split_shares`)."""
    return list(
        zip((t.to for t in step.next), split_shares([t.share for t in step.next]), strict=True)
    )


def entry_shares(model: Model) -> list[tuple[StartEntry, Fraction]]:
    """The share of people starting at each entry of ``start`` (one entry: all of them)."""
    return list(zip(model.entries, split_shares([e.share for e in model.entries]), strict=True))


def block_times(model: Model) -> dict[str, Dist]:
    """The distribution of the days a case spends in each parallel block, by parallel step.

    A branch's time is the sum of the days of the steps it visits before the join
    (rework included: :func:`~sdsaudit.analysis.timing.branch_time`); the block's is
    the largest of its branches' (:func:`~sdsaudit.analysis.timing.block_time`).
    Blocks are worked out innermost first, so a nested block counts as one step of
    its branch, taking its own block's time. Unknown days count as 0.
    """
    steps = model.step_by_id
    times: dict[str, Dist] = {}
    for block in model.blocks:  # innermost first
        members = block.members
        moves: dict[str, list[tuple[str, Fraction]]] = {}
        duration: dict[str, Dist] = {}
        for sid in members:
            step = steps[sid]
            if step.kind == "parallel" and step.join is not None:
                moves[sid] = [(step.join, Fraction(1))]
                duration[sid] = times[sid]
            else:
                moves[sid] = [(to, p) for to, p in transition_shares(step) if p > 0]
                duration[sid] = point(Fraction(str(step.days)))
        times[block.step] = block_time(
            [branch_time(branch[0], block.join, moves, duration) for branch in block.branches]
        )
    return times


class Chain:
    """The solved absorbing Markov chain of a process, for any mix of start steps.

    Cases move by the transitions' shares (rework included) until they reach a
    ``support`` step or an ``end`` step (absorbing). A parallel block counts as one step
    whose days are the expected largest of its branches' times, going on to its join.
    For each step i: ``h[i]`` is the probability of reaching support from i, ``w[i]``
    of withdrawing, and ``g[i]`` = E[days x 1{support reached}], which satisfies
    g(i) = days(i) h(i) + sum_j p(i, j) g(j). A support step's own days are not
    counted. Solved exactly, one strongly connected component at a time, sinks first;
    each component's small system by sparse Gaussian elimination.
    """

    def __init__(self, model: Model, starts: Iterable[str] | None = None):
        steps = model.step_by_id
        position = {s.id: n for n, s in enumerate(model.steps)}
        blocks = block_times(model)
        self.days: dict[str, Fraction] = {}
        prob: dict[str, list[tuple[str, Fraction]]] = {}
        for step in model.steps:
            if step.kind in ("support", "end"):
                continue
            if step.kind == "parallel" and step.join is not None and step.id in blocks:
                prob[step.id] = [(step.join, Fraction(1))]
                self.days[step.id] = expected(blocks[step.id])
            else:
                prob[step.id] = [(to, p) for to, p in transition_shares(step) if p > 0]
                self.days[step.id] = Fraction(str(step.days))
            prob[step.id] = [(to, p) for to, p in prob[step.id] if to in steps]
        chain: nx.DiGraph = nx.DiGraph()
        chain.add_nodes_from(steps)
        chain.add_edges_from((i, to) for i, branches in prob.items() for to, _ in branches)
        self.graph = chain
        support = {s.id for s in model.steps if s.kind == "support"}
        withdrew = {s.id for s in model.steps if s.kind == "end" and s.outcome == "withdrew"}
        roots = [s for s in (model.starts if starts is None else starts) if s in steps]
        forward = reach(chain, roots)
        relevant = forward & reach(chain.reverse(copy=False), (support | withdrew) & forward)
        self.h: dict[str, Fraction] = {s: Fraction(1) for s in support}
        self.w: dict[str, Fraction] = {s: Fraction(1) for s in withdrew}
        self.g: dict[str, Fraction] = {}
        transient = chain.subgraph(
            n for n in relevant if n not in support and n not in withdrew
        ).copy()
        condensed = nx.condensation(transient)
        members = condensed.nodes(data="members")
        zero = Fraction(0)
        for c in reversed(list(nx.topological_sort(condensed))):
            group = members[c]
            # h and w first (they do not depend on days), then g, which needs h.
            for values, extra in ((self.h, False), (self.w, False), (self.g, True)):
                rhs: dict[str, Fraction] = {}
                coef: dict[str, dict[str, Fraction]] = {}
                for i in group:
                    row: dict[str, Fraction] = {}
                    b = self.days[i] * self.h.get(i, zero) if extra else zero
                    for j, p in prob[i]:
                        if j in group:
                            row[j] = row.get(j, zero) + p
                        else:
                            b += p * values.get(j, zero)
                    coef[i], rhs[i] = row, b
                for i, x in _solve(group, coef, rhs, chain, position).items():
                    if x:
                        values[i] = x

    def result(self, starts: Sequence[tuple[str, Fraction]]) -> ChainResult:
        """The results for cases starting at each step with the given probability."""
        zero = Fraction(0)
        reached = sum((p * self.h.get(s, zero) for s, p in starts), zero)
        withdrawing = sum((p * self.w.get(s, zero) for s, p in starts), zero)
        days = sum((p * self.g.get(s, zero) for s, p in starts), zero)
        return ChainResult(reached, withdrawing, days / reached if reached else None)


def solve_chain(model: Model) -> ChainResult:
    """Share of cases reaching support, share withdrawing, and expected days to support,
    for all the model's start groups together (weighed by their shares): what
    :attr:`Context.chain` gives."""
    return Context(model).chain


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
    so selecting a few rules costs only what they need. ``starts`` narrows the
    context to some start steps (one group of people); by default every entry of
    ``start`` counts.
    """

    def __init__(self, model: Model, starts: Iterable[str] | None = None):
        self.model = model
        self.starts: tuple[str, ...] = tuple(model.starts if starts is None else starts)
        self.steps: Mapping[str, Step] = model.step_by_id
        self.position: dict[str, int] = {s.id: n for n, s in enumerate(model.steps)}
        self.graph = process_graph(model)
        self.routes = route_graph(model, self.graph)

    def for_group(self, entry: StartEntry) -> Context:
        """The same model seen from one start entry only (cases of that group alone)."""
        return Context(self.model, [entry.to])

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
        step has none (``support``, ``end``, ``parallel``) or the actor is on the person's
        side (the person or a carer), whom work moves to and from without a hand-off."""
        actor = self.steps[step_id].actor
        return actor if actor and self.actor_kind(step_id) not in PERSON_SIDE else None

    def is_handoff(self, a: str, b: str) -> bool:
        """A transition between two steps done by different teams (:meth:`team_of`)."""
        ta, tb = self.team_of(a), self.team_of(b)
        return ta is not None and tb is not None and ta != tb

    # ---- parallel blocks

    @cached_property
    def blocks(self) -> dict[str, Block]:
        """The parallel blocks by parallel step, innermost first."""
        return {b.step: b for b in self.model.blocks}

    def entered(self, step_id: str) -> list[str]:
        """The steps a case arriving at ``step_id`` is worked on at: the step itself, or
        for a parallel step the first step of each branch (nested blocks alike)."""
        block = self.blocks.get(step_id)
        if block is None:
            return [step_id]
        return [s for branch in block.branches for s in self.entered(branch[0])]

    @cached_property
    def handoff_transitions(self) -> list[tuple[str, str, bool]]:
        """Transitions as hand-offs see them, ``(a, b, entry)``: rework transitions left
        out, and a transition into a parallel step counted once to each branch's first
        step (``entry`` true)."""
        out: list[tuple[str, str, bool]] = []
        for u, v, data in self.graph.edges(data=True):
            if data["rework"] or data["branch"]:
                continue
            for w in self.entered(v):
                out.append((u, w, w != v))
        return out

    @cached_property
    def concurrent_pairs(self) -> list[tuple[str, str]]:
        """Pairs of steps in different branches of one block (the earlier branch's step
        first), which happen at the same time: neither comes before the other."""
        pairs: list[tuple[str, str]] = []
        for block in self.blocks.values():
            for n, left in enumerate(block.branches):
                for right in block.branches[n + 1 :]:
                    pairs.extend((a, b) for a in left for b in right)
        return pairs

    @cached_property
    def _exits(self) -> dict[str, list[tuple[str, str]]]:
        """Each block's transitions into its join from its branches."""
        return {
            b.step: [(u, b.join) for u in b.members if self.graph.has_edge(u, b.join)]
            for b in self.blocks.values()
        }

    def avoiding(self, avoid: Collection[str]) -> nx.DiGraph:
        """A view of the process graph for walks that pass no step of ``avoid``.

        No edge leaves a step of ``avoid``. A block's transitions into its join stay
        only when every branch has a walk from its first step to the join passing no
        step of ``avoid`` (nested blocks alike): a case goes on past a block only when
        all its branches have arrived, so the join can be reached avoiding ``avoid``
        only if every branch can avoid it."""
        blocked = frozenset(avoid)
        closed: set[tuple[str, str]] = set()
        for block in self.blocks.values():  # innermost first
            inside = block.members | {block.join}
            for branch in block.branches:
                if block.join not in self._walk(branch[0], inside, blocked, closed):
                    closed.update(self._exits[block.step])
                    break
        return nx.subgraph_view(
            self.graph, filter_edge=lambda u, v: u not in blocked and (u, v) not in closed
        )

    def _walk(
        self, first: str, inside: Collection[str], blocked: Collection[str], closed: set
    ) -> set[str]:
        seen = {first}
        stack = [first]
        while stack:
            u = stack.pop()
            if u in blocked:
                continue
            for v in self.graph.successors(u):
                if v in inside and v not in seen and (u, v) not in closed:
                    seen.add(v)
                    stack.append(v)
        return seen

    # ---- reachability

    @cached_property
    def reachable(self) -> set[str]:
        """Steps reachable from start by any walk (rework included)."""
        return reach(self.graph, self.starts)

    def reachable_from_start_avoiding(self, avoid: Collection[str]) -> set[str]:
        """Steps X such that some walk from start to X passes no step of ``avoid`` before X
        (start counts as passed; see :meth:`avoiding` for parallel blocks)."""
        if not self.blocks:
            return reach_avoiding(self.graph, self.starts, avoid)
        return reach(self.avoiding(avoid), self.starts)

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
        forward = reach(self.routes, self.starts)
        ends = [s for s in self.support_steps if s in forward]
        backward = reach(self.routes.reverse(copy=False), ends)
        return self.routes.subgraph(forward & backward).copy()

    @cached_property
    def route_loops(self) -> list[tuple[str, ...]]:
        """Loops without a rework mark that lie on a route."""
        return loops(self.route_core, self.position)

    # ---- route maxima

    def route_max(
        self,
        node_weight: NodeWeight,
        edge_weight: EdgeWeight = lambda u, v: 0.0,
        slowest: bool = False,
    ) -> RouteMax:
        """The most of a weight on any route (see :func:`longest_route`).

        A case passing a parallel block passes every branch: the block counts as one
        step weighing the sum of its branches' largest weights (or, with ``slowest``,
        for days, the largest of them), and a transition into it weighs what the
        transitions to each branch's first step weigh."""
        if not self.blocks:
            return longest_route(
                self.route_core,
                self.starts,
                self.support_steps,
                node_weight,
                edge_weight,
                self.position,
                self.route_condensation,
            )
        return self._route_max_blocks(node_weight, edge_weight, slowest)

    @cached_property
    def _collapsed(
        self,
    ) -> tuple[
        list[tuple[Block, list[tuple[str, nx.DiGraph, nx.DiGraph]]]], nx.DiGraph, nx.DiGraph
    ]:
        """The route graph with each block, innermost first, collapsed into its parallel
        step (going straight on to its join): for each block on a route, each branch's
        first step, graph (its steps left after collapsing nested blocks, and the join)
        and condensation; then the collapsed graph and its condensation. Worked out once
        for every route maximum."""
        core = self.route_core.copy()
        plan = []
        for block in self.blocks.values():  # innermost first
            if block.step not in core:
                continue
            branches = []
            for branch in block.branches:
                inside = [s for s in branch if s in core] + [block.join]
                sub = core.subgraph(inside).copy()
                branches.append((branch[0], sub, nx.condensation(sub)))
            plan.append((block, branches))
            core.remove_nodes_from(block.members)
            core.add_edge(block.step, block.join)
        return plan, core, nx.condensation(core)

    def _route_max_blocks(
        self, node_weight: NodeWeight, edge_weight: EdgeWeight, slowest: bool
    ) -> RouteMax:
        plan, core, condensed = self._collapsed
        weight: dict[str, float] = {}
        inner_route: dict[str, list[str]] = {}
        pieces: dict[str, list[tuple[Sequence[str], list[str]]]] = {}

        def entry_weight(u: str, v: str) -> float:
            if v in self.blocks:
                return sum(entry_weight(u, b[0]) for b in self.blocks[v].branches)
            return edge_weight(u, v)

        def edge(u: str, v: str) -> float:
            if u in self.blocks and v == self.blocks[u].join:
                return 0.0
            return entry_weight(u, v)

        for block, branches in plan:  # innermost first
            join = block.join

            def nodes(n: str, join: str = join) -> float:
                if n == join:
                    return 0.0
                return weight[n] if n in weight else node_weight(n)

            results = [
                longest_route(sub, [first], [join], nodes, edge, self.position, sub_condensed)
                for first, sub, sub_condensed in branches
            ]
            if any(r.unbounded for r in results):
                counted = [s for r in results if r.unbounded for s in r.counted]
                return RouteMax(math.inf, counted=tuple(self.ordered(counted)))
            values = [float(r.value or 0.0) for r in results]
            if slowest:
                k = max(range(len(values)), key=values.__getitem__)
                weight[block.step] = values[k]
                chosen = [results[k]]
            else:
                weight[block.step] = sum(values)
                chosen = results
            inner_route[block.step] = [s for r in chosen for s in r.route if s != join]
            pieces[block.step] = [
                (r.route[:-1], list(r.counted))
                for r in chosen  # the join counts when a hand-off arrives there
            ]

        result = longest_route(
            core,
            self.starts,
            self.support_steps,
            lambda n: weight[n] if n in weight else node_weight(n),
            edge,
            self.position,
            condensed,
        )
        if result.value is None or result.unbounded:
            return result

        def expand(ids: Iterable[str], table: dict[str, list[str]]) -> list[str]:
            out: list[str] = []
            for n in ids:
                out.append(n)
                if n in table:
                    out.extend(expand(table[n], table))
            return out

        route = expand(result.route, inner_route)

        def counted_on(route: Sequence[str], counted: Iterable[str]) -> list[str]:
            out: list[str] = []
            for n in counted:
                if n not in pieces:
                    out.append(n)
                    continue
                at = route.index(n)
                if at:  # a transition into a block arrives at each branch's first step
                    out.extend(w for w in self.entered(n) if edge_weight(route[at - 1], w) > 0)
                for inner, marked in pieces[n]:
                    out.extend(counted_on(inner, marked))
            return out

        counted = counted_on(result.route, result.counted)
        return RouteMax(result.value, tuple(route), tuple(dict.fromkeys(counted)))

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
        """Most days on a route; a support step's own days are not counted, unknown days
        count as 0 (see :attr:`days_unknown`), and a block counts its slowest branch."""
        return self.route_max(
            lambda n: 0.0 if self.steps[n].kind == "support" else float(self.steps[n].days),
            slowest=True,
        )

    # ---- the Markov chain and the metrics

    @cached_property
    def solved(self) -> Chain:
        """The process's Markov chain, solved once for every start step."""
        return Chain(self.model, self.starts)

    @cached_property
    def entry_shares(self) -> list[tuple[StartEntry, Fraction]]:
        """The share of people starting at each of this context's start steps."""
        shares = [(e, p) for e, p in entry_shares(self.model) if e.to in self.starts]
        if len(shares) != len(entry_shares(self.model)):  # one group alone
            return [(e, Fraction(1, len(shares))) for e, _ in shares]
        return shares

    @cached_property
    def chain(self) -> ChainResult:
        if not any(s in self.steps for s in self.starts):
            return ChainResult(Fraction(0), Fraction(0), None)
        return self.solved.result([(e.to, p) for e, p in self.entry_shares])

    @cached_property
    def on_way_to_support(self) -> set[str]:
        """Steps some case passes on its way from start to support (rework included)."""
        return reach(self.graph, self.starts) & reach(
            self.graph.reverse(copy=False), self.support_steps
        )

    @cached_property
    def timed_steps(self) -> list[str]:
        """The steps whose days count toward the times to support, in file order."""
        return [
            s
            for s in self.ordered(self.on_way_to_support)
            if self.steps[s].kind not in ("support", "parallel")
        ]

    @cached_property
    def days_unknown(self) -> list[str]:
        """Steps with ``days: unknown`` that some case passes on its way to support, in
        file order: every time to support adds them, so those times are lower bounds."""
        return [s for s in self.timed_steps if self.steps[s].days_unknown]

    @cached_property
    def days_not_given(self) -> list[str]:
        """Steps on some route with no ``days`` key at all (format 1's 0 days assumed),
        ``support``, ``end`` and ``parallel`` steps aside, in route order (MODEL-01)."""
        missing = {
            s
            for s in self.route_core
            if not self.steps[s].days_given
            and self.steps[s].kind not in ("support", "end", "parallel")
        }
        if not missing:
            return []
        order: list[str] = []
        for layer in nx.bfs_layers(
            self.route_core, [s for s in self.starts if s in self.route_core]
        ):
            order.extend(self.ordered(s for s in layer if s in missing))
        return order

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """The metrics of ``docs/rules.md``: route maxima are ``None`` when no route exists
        or a loop without a rework mark lies on a route. Where an unknown time lies on
        the way to support, the times are ``None`` and ``*_at_least`` give lower bounds;
        with start groups, ``groups`` gives the figures of each group alone."""
        out = self._figures()
        if self.model.grouped and len(self.starts) == len(self.model.starts):
            groups = []
            for entry, share in entry_shares(self.model):
                figures = self.for_group(entry)._figures()
                del figures["steps"]
                groups.append(
                    {
                        "when": entry.when,
                        "start": entry.to,
                        "share": round(float(share), 4),
                        **figures,
                    }
                )
            out["groups"] = groups
        return out

    def _figures(self) -> dict[str, Any]:
        loops_on_routes = bool(self.route_loops)

        def most(result: RouteMax) -> int | float | None:
            if result.value is None or loops_on_routes or math.isinf(result.value):
                return None
            return tidy(result.value, 1)

        chain = self.chain
        expected = chain.expected_days_to_support
        out: dict[str, Any] = {
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
        if self.days_unknown:
            out["expected_days_to_support_at_least"] = out["expected_days_to_support"]
            out["worst_days_to_support_at_least"] = out["worst_days_to_support"]
            out["expected_days_to_support"] = None
            out["worst_days_to_support"] = None
            out["days_unknown"] = list(self.days_unknown)
        return out
