"""Reading an event log with DuckDB: checked, mapped to steps, and each case's events ordered.

The log is read once, never row by row in Python, straight into the sort that orders each
case's events by time (events at the same time in the model's step order). Each row carries
the hashed case id, the step's number, a key for time and step order, the end, the group
and one flag for any problem. When any row has a problem, the log is read again with row
numbers and every problem is reported at once as ``FILE:ROW:COLUMN`` (ROW counts the header
as row 1, as a spreadsheet does); nothing is written. Otherwise each event has its days
(from its own start and end, or from the event before it) and the step of the event after
it, *as the model sees them*: inside a parallel block, a step's neighbours are the events of
its own branch (and of the steps around the block), never those of a branch running
alongside it. That ordered view (``o``) is what :mod:`.figures` aggregates.

DuckDB runs with a memory limit and spills to a private temporary folder, removed at the end.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..analysis.graph import Context
from ..errors import ModelError, Problem, UsageError
from ..model.loader import did_you_mean
from ..model.objects import Model
from ..model.source import truncate
from ..render.present import step_order
from .mapping import Columns, LogMap

if TYPE_CHECKING:
    import duckdb

MEMORY_LIMIT = "1GB"
"""DuckDB's memory limit; beyond it, work spills to a temporary folder."""

MAX_SHOWN = 20
"""Rows listed for each kind of problem; the rest are counted in one line."""

MAX_GROUPS = 200
"""The most groups a log may name (each becomes a line of every output)."""

MAX_HEADER_BYTES = 1024 * 1024

RANK_SCALE = 100_000
"""Sort key = seconds since 1970 x RANK_SCALE + the step's rank in the model's order."""

GATE_KINDS = ("approval", "arranging")

ISO_TIME = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?"
"""An ISO 8601 date or date-time (a time zone is read but not applied: times are local)."""


def duckdb_module() -> Any:
    """DuckDB, or a plain message saying how to install it."""
    try:
        import duckdb
    except ImportError:
        raise UsageError(
            "calibrate needs DuckDB, an optional part of sdsaudit: install it with "
            "pip install 'sdsaudit[calibrate]'"
        ) from None
    return duckdb


@contextlib.contextmanager
def connection(memory_limit: str = MEMORY_LIMIT) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with a memory limit and a private spill folder (removed after)."""
    duckdb = duckdb_module()
    spill = tempfile.mkdtemp(prefix="sdsaudit-duckdb-")
    con = duckdb.connect(
        config={
            "memory_limit": memory_limit,
            "temp_directory": spill,
            "preserve_insertion_order": True,
            "enable_external_access": True,
        }
    )
    try:
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def insert_rows(con: duckdb.DuckDBPyConnection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``executemany`` that accepts no rows."""
    if rows:
        con.executemany(sql, rows)


def literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """``name`` as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------- the source


@dataclass(frozen=True)
class Source:
    """Where the events come from: a CSV or Parquet file, and its header."""

    path: str
    header: tuple[str, ...]
    parquet: bool

    def scan(self, *, rejects: bool = False) -> str:
        """The SQL table expression that reads the file, every column as text."""
        if self.parquet:
            return f"read_parquet({literal(self.path)})"
        columns = ", ".join(f"{literal(h)}: 'VARCHAR'" for h in self.header)
        return (
            f"read_csv({literal(self.path)}, auto_detect=false, header=true, delim=',', "
            f"quote='\"', escape='\"', columns={{{columns}}}, max_line_size=1048576"
            + (", store_rejects=true" if rejects else "")
            + ")"
        )

    def text(self, column: str | None) -> str:
        """SQL for a column's trimmed text (``NULL`` when blank or absent)."""
        if column is None:
            return "NULL::VARCHAR"
        return f"nullif(trim(CAST({ident(column)} AS VARCHAR)), '')"


def open_source(path: str, con: duckdb.DuckDBPyConnection) -> Source:
    """Check the file exists and read its header (CSV: the first row; Parquet: the schema)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(
            f"{path}: no such file: give the path of the event log (CSV or Parquet)", file=path
        )
    if file.suffix.lower() == ".parquet":
        try:
            rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(path)})").fetchall()
        except Exception as exc:  # noqa: BLE001 - DuckDB's errors have no common public base
            raise ModelError(
                [
                    Problem(
                        path,
                        None,
                        None,
                        f"this is not a Parquet file DuckDB can read ({_first_line(exc)})",
                    )
                ]
            ) from None
        return Source(path, tuple(r[0] for r in rows), True)
    with open(file, "rb") as handle:
        head = handle.read(MAX_HEADER_BYTES)
    text = head.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        raise ModelError(
            [
                Problem(
                    path,
                    1,
                    1,
                    "the file starts with a byte-order mark: save it as UTF-8 without one (in Excel: 'CSV UTF-8' adds one; 'CSV (Comma delimited)' does not)",
                )
            ]
        )
    line = text.splitlines()[0] if text else ""
    header = next(csv.reader([line]), [])
    if not header or not any(h.strip() for h in header):
        raise ModelError(
            [
                Problem(
                    path,
                    1,
                    1,
                    "the file is empty or has no header row: the first row names the columns (case_id, activity, timestamp ...)",
                )
            ]
        )
    return Source(path, tuple(h.strip() for h in header), False)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --------------------------------------------------------------------------- the model's steps


@dataclass(frozen=True)
class StepTable:
    """The model's steps as DuckDB sees them: a number each, with their scope (the
    innermost branch holding them, 0 outside every block) and the views in which each
    step's events are visible."""

    ids: tuple[str, ...]
    index: Mapping[str, int]
    rank: Mapping[str, int]
    scope: Mapping[str, int]
    views: Mapping[int, frozenset[str]]
    starts: frozenset[str]
    """Steps a case may begin at (a start, or each branch's first step of a start block)."""


def step_table(model: Model, ctx: Context) -> StepTable:
    """Number the steps (file order), rank them (the model's reading order, for events at
    the same time) and work out each parallel branch's view."""
    ids = tuple(s.id for s in model.steps)
    index = {sid: n for n, sid in enumerate(ids)}
    rank = {s.id: n for n, s in enumerate(step_order(model))}
    for sid in ids:
        rank.setdefault(sid, len(rank))
    scope: dict[str, int] = dict.fromkeys(ids, 0)
    branch_ids: dict[tuple[str, int], int] = {}
    members: dict[int, frozenset[str]] = {}
    siblings: dict[int, set[str]] = {}
    parent: dict[int, int] = {}
    for block in model.blocks:  # innermost first
        for n, branch in enumerate(block.branches):
            bid = len(branch_ids) + 1
            branch_ids[(block.step, n)] = bid
            members[bid] = frozenset(branch)
            siblings[bid] = {s for m, other in enumerate(block.branches) if m != n for s in other}
    for sid in ids:
        for block in model.blocks:
            held = block.branch_of(sid)
            if held is not None:
                scope[sid] = branch_ids[(block.step, held)]
                break
    for (pstep, _n), bid in branch_ids.items():
        parent[bid] = scope[pstep]
    views: dict[int, frozenset[str]] = {0: frozenset(ids)}
    for bid in members:
        hidden: set[str] = set()
        b = bid
        while b:
            hidden |= siblings[b]
            b = parent[b]
        views[bid] = frozenset(ids) - hidden
    starts = {s for start in model.starts for s in ctx.entered(start)}
    return StepTable(ids, index, rank, scope, views, frozenset(starts))


def load_views(con: duckdb.DuckDBPyConnection, table: StepTable) -> None:
    """Create the small table ``vis`` (view, step): the steps each view sees."""
    con.execute("CREATE TEMP TABLE vis (view INTEGER, idx INTEGER)")
    insert_rows(
        con,
        "INSERT INTO vis VALUES (?, ?)",
        [(v, table.index[s]) for v, steps in table.views.items() for s in sorted(steps)],
    )


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Read:
    """What reading the log found: events kept, events ignored."""

    events: int
    ignored: int
    timed_ends: int
    """Events with an end time of their own."""


def read_events(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    columns: Columns,
    log_map: LogMap,
    model: Model,
    table: StepTable,
    *,
    extra_formats: Sequence[str] = (),
) -> Read:
    """Read the log, check it and order each case's events into ``o``, in one pass.

    Raises :class:`ModelError` with every problem (``FILE:ROW:COLUMN``) otherwise.

    The file is read once, straight into the sort that orders each case's events: reading
    it into a table first and ordering that took twice as long (10 million events: 3.8 s
    to read into a table, 3.4 s to order it; 4.4 s for both at once). Each row carries a
    ``bad`` flag; when any row has one, the log is read again with row numbers
    (:func:`locate_problems`) and nothing is kept."""
    load_views(con, table)
    con.execute(
        "CREATE TEMP TABLE actmap (activity VARCHAR, idx SMALLINT, rank INTEGER, scope INTEGER)"
    )
    insert_rows(
        con,
        "INSERT INTO actmap VALUES (?, ?, ?, ?)",
        [(a, table.index[s], table.rank[s], table.scope[s]) for a, s in log_map.activities.items()],
    )
    insert_rows(
        con,
        "INSERT INTO actmap VALUES (?, NULL, NULL, NULL)",
        [(a,) for a in sorted(log_map.ignore)],
    )
    n = columns.names
    ts, te = (
        _time(source.text(n["timestamp"]), extra_formats),
        _time(source.text(n.get("end_timestamp")), extra_formats),
    )
    act = source.text(n["activity"])
    case = source.text(n["case_id"])
    # s is NULL for an ignored activity (and for one not in the map, which is bad)
    src = f"""
        SELECT hash(x.cid) AS c, a.idx AS s, a.scope AS scope,
               (x.cid IS NULL OR x.act IS NULL OR a.activity IS NULL
                OR x.ts IS NULL OR (x.te_raw IS NOT NULL AND x.te IS NULL)
                OR coalesce(x.te < x.ts, false)) AS bad,
               x.te AS te, coalesce(x.g, '') AS g,
               x.ts * {RANK_SCALE} + a.rank AS key
        FROM (SELECT *, {EPOCH_RANGE.format(x="ts_any")} AS ts, {EPOCH_RANGE.format(x="te_any")} AS te
        FROM (
            SELECT {case} AS cid, {act} AS act,
                   CAST(epoch({ts}) AS BIGINT) AS ts_any,
                   {source.text(n.get("end_timestamp"))} AS te_raw,
                   CAST(epoch({te}) AS BIGINT) AS te_any,
                   {source.text(n.get("group"))} AS g
            FROM {source.scan(rejects=not source.parquet)}
        )) x
        LEFT JOIN actmap a ON x.act = a.activity
    """
    try:
        _order(con, src, single=len(table.views) == 1)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - DuckDB's errors have no common public base
        raise ModelError(
            structure_problems(source)
            or [Problem(source.path, None, None, f"the log cannot be read: {_first_line(exc)}")]
        ) from None
    problems = _reject_problems(con, source)
    counts = con.execute(
        """SELECT count(*) FILTER (bad), count(*) FILTER (s IS NULL),
                  count(*) FILTER (s IS NOT NULL), count(te) FILTER (s IS NOT NULL)
           FROM ordered"""
    ).fetchone()
    assert counts is not None
    bad, ignored, events, timed_ends = counts
    if bad or problems:
        con.execute("DROP TABLE ordered")
        problems += locate_problems(con, source, columns, log_map, extra_formats)
        raise ModelError(
            problems or [Problem(source.path, None, None, "the log has rows that cannot be read")]
        )
    if events == 0:
        raise ModelError(
            [
                Problem(
                    source.path,
                    None,
                    None,
                    "the log has no events (apart from ignored activities): there is nothing to calibrate",
                )
            ]
        )
    if n.get("group"):
        _check_groups(con, source, columns)
    return Read(events, ignored, timed_ends)


def _check_groups(con: duckdb.DuckDBPyConnection, source: Source, columns: Columns) -> None:
    """Refuse a group column with more than :data:`MAX_GROUPS` values."""
    groups = con.execute("SELECT count(DISTINCT g) FROM o").fetchone()
    if groups and groups[0] > MAX_GROUPS:
        name = columns.names["group"]
        raise ModelError(
            [
                Problem(
                    source.path,
                    1,
                    columns.number("group"),
                    f"the group column '{name}' has {groups[0]:,} different values; a calibration shows at most {MAX_GROUPS} groups: choose a column with fewer",
                )
            ]
        )


def _time(text_sql: str, extra_formats: Sequence[str]) -> str:
    """SQL parsing a time: ISO dates and date-times, and any extra ``strptime`` formats.

    A plain ``YYYY-MM-DD`` date (most logs) is read by the fast ``strptime``; anything else
    is checked against :data:`ISO_TIME` before DuckDB's lenient cast sees it. Years outside
    1900 to 2199 are taken for typing mistakes."""
    if text_sql.startswith("NULL"):
        return "NULL::TIMESTAMP"
    fast = f"try_strptime({text_sql}, '%Y-%m-%d')"
    extra = "".join(f", try_strptime({text_sql}, {literal(f)})" for f in extra_formats)
    iso = (
        f"CASE WHEN regexp_full_match({text_sql}, {literal(ISO_TIME)}) "
        f"THEN try_cast({text_sql} AS TIMESTAMP) END"
    )
    return f"coalesce({fast}, {iso}{extra})"


EPOCH_RANGE = "CASE WHEN {x} >= -2208988800 AND {x} < 7258118400 THEN {x} END"
"""A time in seconds since 1970, ``NULL`` when its year is before 1900 or after 2199."""


def in_range(column: str) -> str:
    """SQL for a parsed time column, ``NULL`` when its year is before 1900 or after 2199."""
    return (
        f"CASE WHEN {column} >= TIMESTAMP '1900-01-01' AND {column} < TIMESTAMP '2200-01-01' "
        f"THEN {column} END"
    )


def _order(con: duckdb.DuckDBPyConnection, src: str, *, single: bool) -> None:
    """Order each case's events and give each the step of the event after it and its days,
    as the model sees them, into the table ``ordered`` (every row read, ignored and bad
    ones too) and the view ``o`` (the events of the model's steps).

    Only what the figures need goes through the sort: the sort's cost grows with the width
    of its rows. An event's time is ``key // RANK_SCALE``. Its days (``d``, in seconds)
    run from its own start to its own end when it has both, otherwise from the event
    before it to this one. ``first`` marks the first event of its case (as the model sees
    it; inside a parallel branch, the first the branch sees). Ignored and unreadable rows
    have no key and sort last in their case, so no event's neighbour is one of them."""
    time = f"(key // {RANK_SCALE})"
    window = f"""
        SELECT c, s, te, g, key, bad, {{scope}}
               row_number() OVER w = 1 AS first,
               CASE WHEN te IS NOT NULL THEN te - {time}
                    ELSE greatest(0, {time} - lag(coalesce(te, {time})) OVER w) END AS d,
               lead(s) OVER w AS ns
        FROM ({{rows}})
        WINDOW w AS (PARTITION BY {{part}} ORDER BY key ASC NULLS LAST, te ASC NULLS LAST)
    """
    if single:
        sql = window.format(scope="", rows=src, part="c")
    else:
        # an event is seen from its own branch's view (each view hides the branches
        # running alongside it) and kept once, from its own
        rows = f"SELECT e.*, v.view FROM ({src}) e LEFT JOIN vis v ON v.idx = e.s"
        inner = window.format(scope="scope, view,", rows=rows, part="view, c")
        sql = f"SELECT * EXCLUDE (scope, view) FROM ({inner}) WHERE s IS NULL OR scope = view"
    con.execute(f"CREATE TEMP TABLE ordered AS {sql}")
    con.execute(
        f"CREATE TEMP VIEW o AS SELECT c, s, {time} AS ts, te, g, key, first, d, ns "
        "FROM ordered WHERE s IS NOT NULL"
    )


# --------------------------------------------------------------------------- problems


def _reject_problems(con: duckdb.DuckDBPyConnection, source: Source) -> list[Problem]:
    """Rows DuckDB could not split into the header's columns (CSV only)."""
    if source.parquet:
        return []
    try:
        rows = con.execute(
            "SELECT line, column_idx, error_type FROM reject_errors ORDER BY line LIMIT ?",
            [MAX_SHOWN + 1],
        ).fetchall()
        total = con.execute("SELECT count(*) FROM reject_errors").fetchone()
    except Exception:  # noqa: BLE001 - no rejects table: nothing was rejected
        return []
    what = {
        "TOO MANY COLUMNS": f"this row has more values than the header's {len(source.header)} columns (a comma inside a value needs the value in double quotes)",
        "MISSING COLUMNS": f"this row has fewer values than the header's {len(source.header)} columns",
        "UNQUOTED VALUE": 'a double quote here is not closed, or a value with a double quote is not itself in double quotes (write "" for a quote inside a quoted value)',
        "LINE SIZE OVER MAXIMUM": "this row is longer than 1 MiB",
        "INVALID ENCODING": "this row is not UTF-8 text: save the file as UTF-8",
    }
    problems = [
        Problem(
            source.path,
            int(line),
            int(col) if col else None,
            what.get(str(kind), f"this row cannot be read ({str(kind).lower()})"),
        )
        for line, col, kind in rows[:MAX_SHOWN]
    ]
    if total and total[0] > MAX_SHOWN:
        problems.append(
            Problem(
                source.path,
                None,
                None,
                f"and {total[0] - MAX_SHOWN:,} more rows that cannot be read",
            )
        )
    return problems


def structure_problems(source: Source) -> list[Problem]:
    """Rows of a CSV file that do not have the header's number of columns, found by
    Python's own CSV reader (only when DuckDB could not read the file at all, so this loop
    runs on the way to an error, never for a sound log)."""
    if source.parquet:
        return []
    problems: list[Problem] = []
    width = len(source.header)
    try:
        with open(source.path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            for row in reader:
                if reader.line_num > 1 and row and len(row) != width:
                    more = "more" if len(row) > width else "fewer"
                    problems.append(
                        Problem(
                            source.path,
                            reader.line_num,
                            min(len(row), width + 1),
                            f"this row has {more} values ({len(row)}) than the header's {width} "
                            "columns (a comma inside a value needs the value in double quotes)",
                        )
                    )
                    if len(problems) > MAX_SHOWN:
                        problems[-1] = Problem(source.path, None, None, "and more rows like these")
                        break
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append(
            Problem(
                source.path,
                None,
                None,
                f"the file is not CSV text sdsaudit can read ({exc}): save it as UTF-8 CSV",
            )
        )
    return problems


def locate_problems(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    columns: Columns,
    log_map: LogMap | None,
    extra_formats: Sequence[str] = (),
) -> list[Problem]:
    """Read the log again with row numbers and say where each problem is (and, with a
    map, every activity it does not name)."""
    n = columns.names
    offset = 1 if source.parquet else 2  # CSV: the header is row 1
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE located AS
        SELECT {source.text(n["case_id"])} AS cid, {source.text(n["activity"])} AS act,
               {source.text(n["timestamp"])} AS ts_raw, {source.text(n.get("end_timestamp"))} AS te_raw
        FROM {source.scan()}
        """
    )
    ts = in_range(_time("ts_raw", extra_formats))
    te = in_range(_time("te_raw", extra_formats)) if n.get("end_timestamp") else "NULL::TIMESTAMP"
    con.execute(
        f"CREATE TEMP TABLE rawx AS SELECT rowid + {offset} AS row, *, {ts} AS ts, {te} AS te FROM located"
    )
    problems: list[Problem] = []
    mapped = set(log_map.activities) | set(log_map.ignore) if log_map is not None else set()
    date_help = "write dates as YYYY-MM-DD, or date-times as YYYY-MM-DDTHH:MM:SS" + (
        " (or DD/MM/YYYY)" if extra_formats else ""
    )
    checks = (
        ("cid IS NULL", "case_id", lambda r: "no case id: every event needs the id of its case"),
        (
            "act IS NULL",
            "activity",
            lambda r: "no activity: every event needs the name of what happened",
        ),
        (
            "ts_raw IS NULL",
            "timestamp",
            lambda r: "no time: every event needs the date it happened",
        ),
        (
            "ts_raw IS NOT NULL AND ts IS NULL",
            "timestamp",
            lambda r: f"'{truncate(r[1])}' is not a date: {date_help}",
        ),
        (
            "te_raw IS NOT NULL AND te IS NULL",
            "end_timestamp",
            lambda r: (
                f"'{truncate(r[1])}' is not a date: {date_help} (or leave it blank for an event with one time)"
            ),
        ),
        (
            "te < ts",
            "end_timestamp",
            lambda r: (
                f"this event ends ({r[1]}) before it starts ({r[2]}): the case goes back in time; correct one of the two dates"
            ),
        ),
    )
    for condition, role, message in checks:
        value = {
            "case_id": "NULL",
            "activity": "act",
            "timestamp": "ts_raw",
            "end_timestamp": "te_raw",
        }[role]
        rows = con.execute(
            f"SELECT row, {value}, ts_raw FROM rawx WHERE {condition} ORDER BY row LIMIT {MAX_SHOWN + 1}"
        ).fetchall()
        total = con.execute(f"SELECT count(*) FROM rawx WHERE {condition}").fetchone()
        for row in rows[:MAX_SHOWN]:
            problems.append(Problem(source.path, int(row[0]), columns.number(role), message(row)))
        if total and total[0] > MAX_SHOWN:
            problems.append(
                Problem(
                    source.path,
                    None,
                    None,
                    f"and {total[0] - MAX_SHOWN:,} more rows like row {rows[0][0]:,} ({message(rows[0])})",
                )
            )
    if log_map is None:
        return problems
    con.execute("CREATE TEMP TABLE mapped (activity VARCHAR)")
    insert_rows(con, "INSERT INTO mapped VALUES (?)", [(a,) for a in sorted(mapped)])
    unknown = con.execute(
        f"""SELECT act, min(row), count(*) FROM rawx
            WHERE act IS NOT NULL AND act NOT IN (SELECT activity FROM mapped)
            GROUP BY act ORDER BY min(row) LIMIT {MAX_SHOWN * 2 + 1}"""
    ).fetchall()
    where = f"the map {log_map.path}" if log_map.path else "a map file (--map)"
    for act, row, count in unknown[: MAX_SHOWN * 2]:
        how_many = f" ({count:,} rows, the first here)" if count > 1 else ""
        problems.append(
            Problem(
                source.path,
                int(row),
                columns.number("activity"),
                f"the activity '{truncate(act)}' is not in {where}{how_many}"
                f"{did_you_mean(act, list(mapped))}: add it under 'activities:' with the id of "
                "its step, or under 'ignore:' if it is no step of the process",
            )
        )
    if len(unknown) > MAX_SHOWN * 2:
        problems.append(
            Problem(source.path, None, None, "and more activities that are not in the map")
        )
    return problems


def env_memory_limit() -> str:
    """The memory limit, from ``SDSAUDIT_DUCKDB_MEMORY`` when set (for tests and large runs)."""
    return os.environ.get("SDSAUDIT_DUCKDB_MEMORY", MEMORY_LIMIT)
