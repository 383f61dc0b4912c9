"""Small-group suppression: which figures to hide, and why.

A figure resting on fewer than ``min_group`` people is hidden (``small``: primary
suppression). Because totals are shown, a hidden figure could be worked out by
subtraction, so a few other figures are hidden too (``secondary``): the fewest that
leave every hidden figure impossible to work out from the figures shown.

How "impossible to work out" is decided
---------------------------------------
A published table is a set of *lines*: the cells of a row add up to the row's total,
the cells of a column to the column's total, the row totals and the column totals
each to the grand total. Every cell lies on two lines (the grand total on the line of
row totals and on the line of column totals; a cell of a one-way breakdown on its
line and on none other, written :data:`FREE`). Seen as a graph, lines are points and
cells are edges between the two lines they lie on. Take the graph of the cells a
reader does not know (hidden, or never published): a hidden cell can be worked out
from the others exactly when it is a *bridge* of that graph, an edge on no cycle.
(Along a cycle, adding one person to every other cell and taking one from the rest
keeps every total, so no cell on it is determined; a bridge splits off lines whose
totals all are known, which fixes it.) This is the standard linear-algebra view of
cell suppression in official statistics, and ``tests/test_survey_suppression.py``
checks it against exact elimination on random tables.

Two further rules: every line holding a hidden cell hides at least ``min_group``
people in all (so two hidden groups of 1 cannot be told apart by their total of 2),
unless the line also holds a cell that is never published; and a cell with nobody in
it is known to be empty and hides nobody (but it stays hidden where a caller hides
it, such as a hidden group where nobody answered a question).

The secondary cells are chosen by a small exact search: the fewest cells, then the
fewest people hidden, among all choices that meet the rules. It tries one more cell,
then two, and so on; each step adds one of the cells that could mend the problem with
the fewest such cells (a cell crossing the cut a bridge makes, or a cell of a line
hiding too few people), and any choice meeting the rules must hold one of them, so no
better choice is missed. Tables here have at most a few dozen cells; a search that
runs past :data:`SEARCH_LIMIT` steps keeps the best choice found, or hides greedily,
which is still safe.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping
from typing import Any

SMALL = "small"
SECONDARY = "secondary"

ALL = "*"
"""Key part for a total: ``(group, ALL)`` is a row total, ``(ALL, ALL)`` the grand
total. No vocabulary value is ``*``."""

FREE = ("free",)
"""The "line" of a cell that lies on only one line (a cell of a one-way breakdown)."""

SEARCH_LIMIT = 20_000
"""Most branches searched for one table before the best choice found so far is kept."""


class _Budget(Exception):
    """The search ran past :data:`SEARCH_LIMIT`."""


def protect(
    sizes: Mapping[Any, int],
    ends: Mapping[Any, tuple[Hashable, Hashable]],
    min_group: int,
    *,
    hidden: Mapping[Any, str] | None = None,
    unpublished: Collection[Any] = (),
    fixed: Collection[Any] = (),
    avoid: Collection[Any] = (),
) -> dict[Any, str]:
    """Which cells of one table to hide, and why (``small`` or ``secondary``).

    ``sizes`` maps every cell (shown or not) to its number of people; ``ends`` maps each
    cell to the two lines it lies on (:data:`FREE` for a cell on one line only).
    ``hidden`` are cells hidden already (kept, with their reason); cells of 1 to
    ``min_group - 1`` people are added as ``small``. ``unpublished`` cells are never
    shown: a reader does not know them, and there is nothing in them to protect.
    ``fixed`` cells are never hidden (the grand total); ``avoid`` cells are hidden only
    when nothing else works (a total that is also shown elsewhere). Returns every
    hidden published cell.
    """
    unpublished = frozenset(unpublished)
    result = dict(hidden or {})
    for key, n in sizes.items():
        if 0 < n < min_group and key not in result and key not in unpublished:
            result[key] = SMALL
    if not result:
        return result
    fixed_set, avoid_set = frozenset(fixed), frozenset(avoid)
    problem = _Problem(sizes, ends, min_group, result, unpublished, fixed_set)
    usable = [
        k
        for k in sorted(sizes, key=lambda k: (sizes[k], repr(k)))
        if sizes[k] > 0 and k not in result and k not in unpublished and k not in fixed_set
    ]
    for candidates in ([k for k in usable if k not in avoid_set], usable):
        chosen = problem.search(candidates)
        if chosen is not None:
            return {**result, **dict.fromkeys(chosen, SECONDARY)}
    # Nothing meets the rules without hiding a fixed cell: hide every cell of the table.
    return {**result, **{k: SECONDARY for k in sizes if k not in result and k not in unpublished}}


class _Problem:
    """One table's suppression search (see the module's docstring)."""

    def __init__(
        self,
        sizes: Mapping[Any, int],
        ends: Mapping[Any, tuple[Hashable, Hashable]],
        min_group: int,
        hidden: Mapping[Any, str],
        unpublished: frozenset,
        fixed: frozenset,
    ):
        self.sizes = sizes
        self.ends = ends
        self.m = min_group
        self.base = frozenset(hidden)
        self.unpublished = unpublished
        self.hideable = frozenset(
            k for k, n in sizes.items() if n > 0 and k not in unpublished and k not in fixed
        )
        self.lines: dict[Hashable, list[Any]] = defaultdict(list)
        for key, (a, b) in ends.items():
            for line in (a, b):
                if line != FREE:
                    self.lines[line].append(key)
        # lines holding a cell that is never published: their totals say little
        self.open_lines = {line for key in unpublished for line in ends[key]}

    def search(self, candidates: list[Any]) -> frozenset | None:
        """The best set of cells from ``candidates`` to hide as well, or ``None``.

        Tries one more cell, then two, and so on (iterative deepening), so the first
        depth with an answer has the fewest cells; within it, the fewest people. Each
        step branches on the problem with the fewest cells that could mend it."""
        search = _Search(self, candidates)
        for depth in range(len(candidates) + 1):
            try:
                found, cut = search.at_most(depth)
            except _Budget:
                return search.best[1] if search.best else self.greedy(search.allowed)
            if found is not None:
                return found
            if not cut:
                return None  # no choice of allowed cells mends every problem
        return None

    def greedy(self, allowed: frozenset) -> frozenset | None:
        """Mend each problem in turn with its smallest cell: safe, not always fewest."""
        added: set = set()
        while (branch := self.mend(self.base | added, allowed)) is not None:
            if not branch:
                return None
            added.add(min(branch, key=lambda k: (self.sizes[k], repr(k))))
        return frozenset(added)

    def mend(self, hidden: frozenset, allowed: frozenset) -> list[Any] | None:
        """``None`` when ``hidden`` meets the rules; else the allowed cells one of which
        any choice meeting them must add, for the problem with the fewest such cells
        (empty when no allowed cell can mend it). A line whose every cell is hidden
        already cannot hide more, and is left as it is."""
        unknown = hidden | self.unpublished
        options: list[list[Any]] = []
        for key in _bridges(unknown, self.ends):
            if key in hidden:
                side = _side(key, unknown, self.ends)
                options.append(
                    [
                        k
                        for k in allowed
                        if k not in hidden
                        and (self.ends[k][0] in side) != (self.ends[k][1] in side)
                    ]
                )
        for line, keys in self.lines.items():
            if line in self.open_lines:
                continue
            held = [k for k in keys if k in hidden]
            if held and sum(self.sizes[k] for k in held) < self.m:
                more = [k for k in keys if k in self.hideable and k not in hidden]
                if more:
                    options.append([k for k in more if k in allowed])
        if not options:
            return None
        return min(options, key=len)


class _Search:
    """One iterative-deepening search of a :class:`_Problem` (see :meth:`_Problem.search`)."""

    def __init__(self, problem: _Problem, candidates: list[Any]):
        self.problem = problem
        self.allowed = frozenset(candidates)
        self.order = {k: i for i, k in enumerate(candidates)}
        self.nodes = 0
        self.best: list = []  # [people, chosen] at the current depth
        self.seen: set[frozenset] = set()
        self.cut = False
        self.depth = 0

    def at_most(self, depth: int) -> tuple[frozenset | None, bool]:
        """The cheapest choice of at most ``depth`` cells, and whether the depth stopped a
        branch (so that a deeper search may find one)."""
        self.depth, self.best, self.seen, self.cut = depth, [], set(), False
        self.visit(frozenset(), 0)
        return (self.best[1] if self.best else None), self.cut

    def visit(self, added: frozenset, people: int) -> None:
        self.nodes += 1
        if self.nodes > SEARCH_LIMIT:
            raise _Budget
        if added in self.seen:
            return
        self.seen.add(added)
        problem = self.problem
        branch = problem.mend(problem.base | added, self.allowed)
        if branch is None:
            if not self.best or people < self.best[0]:
                self.best = [people, added]
            return
        if not branch:
            return
        if len(added) >= self.depth:
            self.cut = True
            return
        for key in sorted(branch, key=self.order.__getitem__):
            if self.best and people + problem.sizes[key] >= self.best[0]:
                break  # candidates come smallest first: the rest cost more
            self.visit(added | {key}, people + problem.sizes[key])


def _bridges(edges: Iterable[Any], ends: Mapping[Any, tuple[Hashable, Hashable]]) -> list[Any]:
    """The edges of the multigraph ``edges`` that lie on no cycle (Tarjan's method,
    without recursion; parallel edges are each other's cycle)."""
    keys = sorted(edges, key=repr)
    adjacent: dict[Hashable, list[tuple[int, Hashable]]] = defaultdict(list)
    for i, key in enumerate(keys):
        a, b = ends[key]
        adjacent[a].append((i, b))
        adjacent[b].append((i, a))
    order: dict[Hashable, int] = {}
    low: dict[Hashable, int] = {}
    found: list[Any] = []
    for root in sorted(adjacent, key=repr):
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack: list[tuple[Hashable, int, int]] = [(root, -1, 0)]
        while stack:
            vertex, via, at = stack[-1]
            if at < len(adjacent[vertex]):
                stack[-1] = (vertex, via, at + 1)
                edge, other = adjacent[vertex][at]
                if edge == via:
                    continue
                if other in order:
                    low[vertex] = min(low[vertex], order[other])
                else:
                    order[other] = low[other] = len(order)
                    stack.append((other, edge, 0))
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[vertex])
                    if low[vertex] > order[parent]:
                        found.append(keys[via])
    return found


def _side(
    bridge: Any, edges: Iterable[Any], ends: Mapping[Any, tuple[Hashable, Hashable]]
) -> set[Hashable]:
    """The lines reached from one end of ``bridge`` without crossing it."""
    adjacent: dict[Hashable, list[Hashable]] = defaultdict(list)
    for key in edges:
        if key != bridge:
            a, b = ends[key]
            adjacent[a].append(b)
            adjacent[b].append(a)
    start = ends[bridge][0]
    side, todo = {start}, [start]
    while todo:
        for other in adjacent[todo.pop()]:
            if other not in side:
                side.add(other)
                todo.append(other)
    return side


# --------------------------------------------------------------------------- table shapes


def line_ends(keys: Iterable[Any]) -> dict[Any, tuple[Hashable, Hashable]]:
    """The lines of a one-way breakdown whose total (key :data:`ALL`) is shown."""
    ends: dict[Any, tuple[Hashable, Hashable]] = {k: ("line", FREE) for k in keys}
    ends[ALL] = ("line", FREE)
    return ends


def table_ends(keys: Iterable[tuple[Any, Any]]) -> dict[Any, tuple[Hashable, Hashable]]:
    """The lines of a two-way table with its row, column and grand totals: cell
    ``(r, c)`` lies on row ``r`` and column ``c``; row totals ``(r, ALL)`` on the
    column of totals, column totals ``(ALL, c)`` on the row of totals."""
    cells = list(keys)
    rows = {r for r, _ in cells} | {ALL}
    cols = {c for _, c in cells} | {ALL}
    ends: dict[Any, tuple[Hashable, Hashable]] = {
        (r, c): (("row", r), ("col", c)) for r, c in cells
    }
    for r in rows:
        ends[(r, ALL)] = (("row", r), ("col", ALL))
    for c in cols:
        ends[(ALL, c)] = (("row", ALL), ("col", c))
    return ends


def with_totals(sizes: Mapping[tuple[Any, Any], int]) -> dict[tuple[Any, Any], int]:
    """A two-way table's cells with its row, column and grand totals added."""
    out: dict[tuple[Any, Any], int] = defaultdict(int)
    for (r, c), n in sizes.items():
        out[(r, c)] += n
        out[(r, ALL)] += n
        out[(ALL, c)] += n
        out[(ALL, ALL)] += n
    return dict(out)


def hidden_cells(
    sizes: Mapping[Any, int], min_group: int, *, hidden: Mapping[Any, str] | None = None
) -> dict[Any, str]:
    """Which cells of a one-way breakdown to hide, its total being shown.

    Cells of 1 to ``min_group - 1`` people are hidden, then the fewest others (the
    smallest first) so that no hidden cell can be worked out from the total: at least
    two hidden, holding at least ``min_group`` people together.
    """
    total = sum(sizes.values())
    result = protect(
        {**sizes, ALL: total},
        line_ends(sizes),
        min_group,
        hidden=hidden,
        fixed=(ALL,),
    )
    result.pop(ALL, None)
    return result


def hidden_table(
    sizes: Mapping[tuple[Any, Any], int],
    min_group: int,
    *,
    hidden: Mapping[Any, str] | None = None,
    inner_shown: bool = True,
    avoid: Collection[Any] = (),
) -> dict[Any, str]:
    """Which cells of a two-way table and of its totals to hide.

    ``sizes`` holds the table's cells (``(row, column)``); its row totals
    ``(row, ALL)`` and column totals ``(ALL, column)`` are shown too (the one-way
    breakdowns), and its grand total ``(ALL, ALL)`` is never hidden. With
    ``inner_shown`` false only the totals are shown (the cells are worked out but not
    published). Returns the hidden cells and totals, each with its reason.
    """
    full = with_totals(sizes)
    preset = {k: v for k, v in (hidden or {}).items() if inner_shown or ALL in k}
    unpublished = () if inner_shown else tuple(sizes)
    return protect(
        full,
        table_ends(sizes),
        min_group,
        hidden=preset,
        unpublished=unpublished,
        fixed=() if (ALL, ALL) in preset else ((ALL, ALL),),
        avoid=avoid,
    )
