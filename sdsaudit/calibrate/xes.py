"""The mapped event log as XES (IEEE 1849), for process-mining tools (PM4Py, ProM, Disco,
Apromore).

Each case becomes a trace named by a number (1, 2, 3 ... in the order the cases began),
never by its case id; each event is named by its step's name, with the step id in
``sdsaudit:step``. An event with a start and an end is written as a ``start`` and a
``complete`` event; an event with one time as a ``complete`` event. The trace carries
the case's group.

This file is row-level data: every case's dates are in it. It is written only when asked
for (``--xes FILE``), never into the calibration's output folder, and should be kept as
the original log is.

The XML is built by DuckDB, one string per case, and streamed to a temporary file beside
the target, which is then renamed into place: the file is never half-written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from ..errors import UsageError
from ..files import refuse_existing
from ..model.objects import Model
from .log import StepTable, insert_rows

if TYPE_CHECKING:
    import duckdb

CHUNK = 10_000

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849.2016" xes.features="" xmlns="http://www.xes-standard.org/">
<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
<global scope="trace"><string key="concept:name" value="__INVALID__"/></global>
<global scope="event"><string key="concept:name" value="__INVALID__"/><date key="time:timestamp" value="1970-01-01T00:00:00"/><string key="lifecycle:transition" value="complete"/></global>
<classifier name="Step" keys="concept:name"/>
<string key="concept:name" value={title}/>
"""

_XML_ESCAPE = "replace(replace(replace(replace({x}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;')"
_CONTROL = r"regexp_replace({x}, '[\x00-\x08\x0b\x0c\x0e-\x1f]', '', 'g')"


def _escape_sql(column: str) -> str:
    return _XML_ESCAPE.format(x=_CONTROL.format(x=column))


def write_xes(
    con: duckdb.DuckDBPyConnection, model: Model, table: StepTable, path: str, *, force: bool
) -> Path:
    """Write the ordered events in ``o`` to ``path`` as XES."""
    target = Path(path)
    refuse_existing([target], force)
    con.execute("CREATE TEMP TABLE xnames (idx INTEGER, name VARCHAR, sid VARCHAR)")
    insert_rows(
        con,
        "INSERT INTO xnames VALUES (?, ?, ?)",
        [(table.index[s.id], quoteattr(s.name), quoteattr(s.id)) for s in model.steps],
    )
    stamp = "strftime(make_timestamp({t} * 1000000), '%Y-%m-%dT%H:%M:%S')"
    event = (
        '\'<event><string key="concept:name" value=\' || n.name || \'/><string key="sdsaudit:step" '
        "value=' || n.sid || '/><string key=\"lifecycle:transition\" value=\"' || {life} || '\"/>"
        '<date key="time:timestamp" value="\' || {when} || \'"/></event>\''
    )
    start = event.format(life="'start'", when=stamp.format(t="o.ts"))
    done = event.format(life="'complete'", when=stamp.format(t="coalesce(o.te, o.ts)"))
    query = f"""
        SELECT row_number() OVER (ORDER BY min(o.key), o.c) AS n,
               {_escape_sql("arg_min(o.g, o.key)")} AS g,
               string_agg(CASE WHEN o.te IS NOT NULL THEN {start} || {done} ELSE {done} END, ''
                          ORDER BY o.key, o.te) AS events
        FROM o JOIN xnames n ON o.s = n.idx
        GROUP BY o.c ORDER BY n
    """
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(
            f"{parent} is not a folder: choose where to write the XES file", file=str(target)
        )
    fd, temp = tempfile.mkstemp(prefix=".sdsaudit-xes-", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(
                HEAD.format(title=quoteattr(f"{model.council}: {model.title} (mapped by sdsaudit)"))
            )
            cursor = con.execute(query)
            while rows := cursor.fetchmany(CHUNK):
                out.writelines(
                    f'<trace><string key="concept:name" value="{n}"/>'
                    f'<string key="group" value="{g}"/>{events}</trace>\n'
                    for n, g, events in rows
                )
            out.write("</log>\n")
            out.flush()
            os.fsync(out.fileno())
        refuse_existing([target], force)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return target
