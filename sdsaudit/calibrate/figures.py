"""The aggregates of an ordered event log, in SQL: nothing here loops over events.

From the ordered table ``o`` (:mod:`.log`):

* **steps**: for each step, the events and cases, and the days each event took: from its
  own start to its own end when the log gives both, otherwise from the event before it
  (as the model sees it) to this one. Quartiles, the 90th percentile and the mean.
* **transitions**: each pair (step, the next step as the model sees it) with the times
  cases left that way and the cases that did. An arrow into a parallel block's first
  steps counts as the arrow into the parallel step.
* **cases**: one row a case (its group, first step, days to support, when the first
  sign-off or arranging happened and whether a step that tells the contribution came
  before it, its assessments and hand-offs, and where it first left the model), then
  summed up for all cases and for each group.

Only counts, quantiles and means leave DuckDB; the cases table never does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..analysis.graph import Context
from ..model.objects import Model
from .log import GATE_KINDS, RANK_SCALE, StepTable, insert_rows

if TYPE_CHECKING:
    import duckdb

DAY = 86400.0

MAX_BITS = 62
"""Steps (and moves) counted with one bit each per case; beyond, with COUNT(DISTINCT)."""


@dataclass(frozen=True)
class StepRaw:
    """One step's events and times, before suppression."""

    step: str
    events: int
    cases: int
    timed: int
    own: int
    """Events timed from their own start and end."""
    since_previous: int
    """Events timed from the event before them."""
    p25: float | None
    median: float | None
    p75: float | None
    p90: float | None
    mean: float | None


@dataclass(frozen=True)
class TransitionRaw:
    """Cases leaving ``source`` for ``target`` (a step, or a parallel step)."""

    source: str
    target: str
    exits: int
    cases: int
    modelled: bool


@dataclass(frozen=True)
class GroupRaw:
    """The person's side for all cases (``group`` is ``None``) or one group."""

    group: str | None
    cases: int
    fitting: int
    gated: int
    """Cases that reached a sign-off (approval) or arranging step."""
    late: int
    """Of those, cases in which no step telling the contribution came before the first."""
    supported: int
    dts_median: float | None
    dts_p90: float | None
    dts_mean: float | None
    repeated: int
    """Cases with more than one assessment."""
    over_handoffs: int
    """Cases with more hand-offs than the council's target."""


@dataclass(frozen=True)
class DeviationRaw:
    """Where cases first left the model: a start elsewhere, or an arrow it lacks."""

    source: str | None
    target: str
    cases: int


@dataclass(frozen=True)
class Figures:
    steps: tuple[StepRaw, ...]
    transitions: tuple[TransitionRaw, ...]
    groups: tuple[GroupRaw, ...]
    deviations: tuple[DeviationRaw, ...]
    group_starts: tuple[tuple[str, str, int], ...]
    """(group, first step, cases)."""


def model_target(model: Model, source: str, target: str) -> str:
    """The step of the model a case goes to when its next event, seen from ``source``, is
    at ``target``: the outermost parallel step whose block holds ``target`` but not
    ``source``, else ``target`` itself."""
    for block in reversed(model.blocks):  # outermost first
        if target in block.members and source not in block.members and source != block.step:
            return block.step
    return target


def aggregate(
    con: duckdb.DuckDBPyConnection, model: Model, ctx: Context, table: StepTable
) -> Figures:
    """Work out every figure from the ordered events in ``o``."""
    ids = table.ids
    edges = {(s.id, t.to) for s in model.steps for t in s.next}
    pairs = con.execute(
        "SELECT s, ns, count(*) FROM o WHERE ns IS NOT NULL GROUP BY s, ns ORDER BY s, ns"
    ).fetchall()
    tmap = []
    for n, (s, ns, _exits) in enumerate(pairs):
        src, nxt = ids[s], ids[ns]
        target = model_target(model, src, nxt)
        tmap.append((n, s, ns, target, (src, target) in edges, ctx.is_handoff(src, nxt)))
    con.execute(
        "CREATE TEMP TABLE tmap (pair INTEGER, s SMALLINT, ns SMALLINT, target VARCHAR, "
        "modelled BOOLEAN, handoff BOOLEAN)"
    )
    insert_rows(con, "INSERT INTO tmap VALUES (?, ?, ?, ?, ?, ?)", tmap)
    # which steps and moves each case made, as bits (counting cases without DISTINCT)
    step_bits = len(ids) <= MAX_BITS
    pair_bits = len(tmap) <= MAX_BITS
    masks = ("bit_or(CAST(1 AS BIGINT) << o.s) AS steps_mask," if step_bits else "") + (
        "bit_or(CAST(1 AS BIGINT) << m.pair) AS pairs_mask," if pair_bits else ""
    )
    max_handoffs = model.targets.max_handoffs
    flags = _flags(model, table)
    starts = "[" + ", ".join("true" if sid in table.starts else "false" for sid in ids) + "]"
    # each step's kind as bits from a list (no join): 1 sign-off or arranging, 2 tells the
    # contribution, 4 assessment, 8 support; a case's first event is the one marked first
    # with the lowest key (inside a parallel block, each branch marks its own first)
    con.execute(
        f"""
        CREATE TEMP TABLE cs AS
        SELECT *, ({starts})[first_s + 1] AS starts_well, k0 // {RANK_SCALE} AS t0,
               k_support // {RANK_SCALE} AS t_support, gate_key // {RANK_SCALE} AS gate_ts
        FROM (
        SELECT o.c, {masks}
               arg_min(o.g, o.key) FILTER (o.first) AS g,
               arg_min(o.s, o.key) FILTER (o.first) AS first_s,
               min(o.key) AS k0,
               min(o.key) FILTER (o.f & 8 != 0) AS k_support,
               min(o.key) FILTER (o.f & 1 != 0) AS gate_key,
               min(o.key) FILTER (o.f & 2 != 0) AS c_key,
               arg_min(coalesce(o.te, o.ts), o.key) FILTER (o.f & 2 != 0) AS c_done,
               count(*) FILTER (o.f & 4 != 0) AS n_assess,
               count(*) FILTER (m.handoff) AS n_handoff,
               count(*) FILTER (NOT m.modelled) AS n_off,
               arg_min(m.pair, o.key) FILTER (NOT m.modelled) AS first_off
        FROM (SELECT *, ({flags})[s + 1] AS f FROM o) o
        LEFT JOIN tmap m ON o.s = m.s AND o.ns = m.ns
        GROUP BY o.c
        )
        """
    )
    step_cases = (
        _bit_counts(con, "steps_mask", [1 << k for k in range(len(ids))]) if step_bits else None
    )
    steps = _steps(con, ids, step_cases)
    # model-level transitions: raw pairs with the same source and target added up
    merged: dict[tuple[int, str], list[int]] = {}
    for n, s_idx, _ns, target, _m, _h in tmap:
        merged.setdefault((s_idx, target), []).append(n)
    keys = sorted(merged, key=lambda k: (k[0], k[1]))
    exits_of = {n: int(e) for n, (_s, _ns, e) in enumerate(pairs)}
    modelled_of = {n: bool(m) for n, _s, _ns, _t, m, _h in tmap}
    if pair_bits:
        cases_of = _bit_counts(con, "pairs_mask", [sum(1 << n for n in merged[k]) for k in keys])
    else:
        cases_of = [_distinct_cases(con, merged[k]) for k in keys]
    transitions = tuple(
        TransitionRaw(
            ids[k[0]],
            k[1],
            sum(exits_of[n] for n in merged[k]),
            cases,
            all(modelled_of[n] for n in merged[k]),
        )
        for k, cases in zip(keys, cases_of, strict=True)
    )
    groups = tuple(
        _group(row)
        for row in con.execute(
            f"""
            SELECT grouping(g) AS grouping, g, count(*),
                   count(*) FILTER (starts_well AND n_off = 0),
                   count(*) FILTER (gate_key IS NOT NULL),
                   count(*) FILTER (gate_key IS NOT NULL
                                    AND NOT coalesce(c_key < gate_key AND c_done <= gate_ts, false)),
                   count(t_support),
                   quantile_cont((t_support - t0) / {DAY}, [0.5, 0.9])
                       FILTER (t_support IS NOT NULL),
                   avg((t_support - t0) / {DAY}) FILTER (t_support IS NOT NULL),
                   count(*) FILTER (n_assess > 1),
                   count(*) FILTER (n_handoff > {float(max_handoffs)})
            FROM cs GROUP BY GROUPING SETS ((), (g)) ORDER BY grouping DESC, g
            """
        ).fetchall()
    )
    con.execute("CREATE TEMP TABLE stepids (idx INTEGER, id VARCHAR)")
    insert_rows(con, "INSERT INTO stepids VALUES (?, ?)", list(enumerate(ids)))
    deviations = tuple(
        DeviationRaw(src, target, int(cases))
        for src, target, cases in con.execute(
            """
            SELECT CASE WHEN starts_well THEN a.id END AS src,
                   CASE WHEN starts_well THEN m.target ELSE f.id END AS target,
                   count(*) AS cases
            FROM cs
            LEFT JOIN tmap m ON cs.first_off = m.pair
            LEFT JOIN stepids a ON m.s = a.idx
            LEFT JOIN stepids f ON cs.first_s = f.idx
            WHERE NOT (starts_well AND n_off = 0)
            GROUP BY ALL ORDER BY cases DESC, src NULLS FIRST, target
            """
        ).fetchall()
    )
    group_starts = tuple(
        (g, ids[s], int(n))
        for g, s, n in con.execute(
            "SELECT g, first_s, count(*) FROM cs GROUP BY g, first_s ORDER BY g, first_s"
        ).fetchall()
    )
    return Figures(steps, transitions, groups, deviations, group_starts)


def _flags(model: Model, table: StepTable) -> str:
    """Each step's kind as bits, an SQL list in the order of the steps' numbers."""
    bits = {
        s.id: (1 if s.kind in GATE_KINDS else 0)
        | (2 if "contribution" in s.tells else 0)
        | (4 if s.kind == "assessment" else 0)
        | (8 if s.kind == "support" else 0)
        for s in model.steps
    }
    return "CAST([" + ", ".join(str(bits[sid]) for sid in table.ids) + "] AS UTINYINT[])"


def _group(row: tuple) -> GroupRaw:
    grouping, g, cases, fitting, gated, late, supported, q, mean, repeated, over = row
    median, p90 = (q[0], q[1]) if q else (None, None)
    return GroupRaw(
        None if grouping else g,
        int(cases),
        int(fitting),
        int(gated),
        int(late),
        int(supported),
        median,
        p90,
        mean,
        int(repeated),
        int(over),
    )


def _distinct_cases(con: duckdb.DuckDBPyConnection, pairs: Sequence[int]) -> int:
    """Cases that made any of these moves (for logs with more moves than bits)."""
    row = con.execute(
        "SELECT count(DISTINCT o.c) FROM o JOIN tmap m ON o.s = m.s AND o.ns = m.ns "
        f"WHERE m.pair IN ({', '.join(str(int(n)) for n in pairs)})"
    ).fetchone()
    return int(row[0]) if row else 0


def _bit_counts(con: duckdb.DuckDBPyConnection, column: str, masks: Sequence[int]) -> list[int]:
    """For each mask, the cases whose ``column`` shares a bit with it (one pass over cases)."""
    if not masks:
        return []
    parts = ", ".join(f"count(*) FILTER ({column} & CAST({mask} AS BIGINT) != 0)" for mask in masks)
    row = con.execute(f"SELECT {parts} FROM cs").fetchone()
    assert row is not None
    return [int(x) for x in row]


def _steps(
    con: duckdb.DuckDBPyConnection, ids: tuple[str, ...], step_cases: Sequence[int] | None
) -> tuple[StepRaw, ...]:
    distinct = "0" if step_cases is not None else "count(DISTINCT c)"
    rows = con.execute(
        f"""
        SELECT s, count(*), {distinct}, count(d), count(te),
               count(*) FILTER (te IS NULL AND d IS NOT NULL),
               quantile_cont(d / {DAY}, [0.25, 0.5, 0.75, 0.9]), avg(d / {DAY})
        FROM o GROUP BY s ORDER BY s
        """
    ).fetchall()
    out = []
    for s, events, cases, timed, own, since, q, mean in rows:
        p25, median, p75, p90 = q if q else (None, None, None, None)
        out.append(
            StepRaw(
                ids[s],
                int(events),
                int(step_cases[s] if step_cases is not None else cases),
                int(timed),
                int(own),
                int(since),
                p25,
                median,
                p75,
                p90,
                mean,
            )
        )
    return tuple(out)


def counts_by(rows: tuple[StepRaw, ...]) -> Mapping[str, StepRaw]:
    """Step figures by step id."""
    return {r.step: r for r in rows}
