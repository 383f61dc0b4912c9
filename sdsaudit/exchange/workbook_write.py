"""A model's plain data as a workbook in the template, or as a CSV step list.

The workbook has the sheets of :data:`~.workbook_cells.SHEETS`, a bold frozen header row
on each, sensible widths, drop-down lists for every closed vocabulary (from a hidden
``Lists`` sheet) and a ``Read me``. Every text is a string cell, never a formula; a CSV
file's text starting with ``= + - @`` (or a tab or carriage return) gets an apostrophe.
Reading either back (:func:`~.workbook.read`) gives the same model.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..vocab import (
    ACTOR_KINDS,
    ALLOWED_USES,
    ARTEFACTS,
    OPTIONS,
    OUTCOMES,
    PERSON_LEVELS,
    RESTRICTION_BASES,
    STEP_KINDS,
    TELLS,
)
from .workbook_cells import (
    ABOUT_COLUMNS,
    ABOUT_KEYS,
    DANGER,
    LEVEL_COLUMNS,
    LINK_COLUMNS,
    NO_TIME_KINDS,
    NOT_GIVEN,
    SOURCE_COLUMNS,
    START_COLUMNS,
    STEP_COLUMNS,
    TEAM_COLUMNS,
    WAIVER_COLUMNS,
    escape_cell,
    join_values,
    link_text,
    restriction_text,
)

_WIDTHS = {
    "id": 18,
    "name": 36,
    "kind": 18,
    "team": 16,
    "person": 12,
    "days": 10,
    "forms": 8,
    "asks": 24,
    "tells": 24,
    "produces": 24,
    "approves": 24,
    "authority": 16,
    "outcome": 14,
    "restrictions": 40,
    "note": 40,
    "branches": 24,
    "join": 16,
    "source": 16,
    "assumed": 16,
    "from": 18,
    "to": 18,
    "when": 30,
    "share": 10,
    "rework": 10,
    "limit": 12,
    "title": 36,
    "published": 14,
    "url": 40,
    "rule": 12,
    "step": 18,
    "reason": 60,
    "key": 36,
    "value": 40,
    "what it means": 90,
    "next": 40,
}

_LISTS: tuple[tuple[str, Sequence[str]], ...] = (
    ("kind", STEP_KINDS),
    ("person", PERSON_LEVELS),
    ("team kind", ACTOR_KINDS),
    ("tells", TELLS),
    ("artefact", ARTEFACTS),
    ("outcome", OUTCOMES),
    ("option", OPTIONS),
    ("allowed use", ALLOWED_USES),
    ("yes or no", ("yes", "no")),
    ("restriction basis", RESTRICTION_BASES),
)


def _list_range(name: str) -> str:
    index = [n for n, _ in _LISTS].index(name) + 1
    words = dict(_LISTS)[name]
    letter = get_column_letter(index)
    return f"Lists!${letter}$2:${letter}${len(words) + 1}"


_DROP_DOWNS = {
    "Steps": {
        "kind": ("kind", True),
        "person": ("person", True),
        "tells": ("tells", False),
        "produces": ("artefact", False),
        "approves": ("artefact", False),
        "outcome": ("outcome", True),
        "team": ("Teams!$A$2:$A$1000", False),
        "authority": ("'Sign-off levels'!$A$2:$A$200", False),
        "join": ("Steps!$A$2:$A$100000", False),
    },
    "Links": {
        "rework": ("yes or no", True),
        "from": ("Steps!$A$2:$A$100000", False),
        "to": ("Steps!$A$2:$A$100000", False),
    },
    "Start": {"to": ("Steps!$A$2:$A$100000", False)},
    "Teams": {"kind": ("team kind", True)},
    "Waivers": {"step": ("Steps!$A$2:$A$100000", False)},
}
"""Drop-down lists: column -> (list, or a range; whether other values are refused)."""


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> None:
    """A value into a cell; text is always a string cell, never a formula."""
    if value is None:
        return
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        text = escape_cell(value, csv_file=False)
        cell.value = text
        cell.data_type = "s"
        if text[:1] in DANGER:
            cell.quotePrefix = True
        if "\n" in text:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    else:
        cell.value = value


def _table_sheet(
    book: Workbook, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Worksheet:
    sheet = book.create_sheet(title)
    bold = Font(bold=True)
    for column, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=column, value=name)
        cell.font = bold
        sheet.column_dimensions[get_column_letter(column)].width = _WIDTHS.get(name, 16)
    for number, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            _put(sheet, number, column, value)
    sheet.freeze_panes = "A2"
    for name, (source, strict) in _DROP_DOWNS.get(title, {}).items():
        if name not in columns:
            continue
        formula = source if "!" in source else _list_range(source)
        check = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=strict,
            errorTitle="Not in the list",
            error=f"Choose a value for '{name}' from the list.",
        )
        letter = get_column_letter(columns.index(name) + 1)
        check.add(f"{letter}2:{letter}1048576")
        sheet.add_data_validation(check)
    return sheet


def _lists_sheet(book: Workbook) -> None:
    sheet = book.create_sheet("Lists")
    for column, (name, words) in enumerate(_LISTS, start=1):
        sheet.cell(row=1, column=column, value=name).font = Font(bold=True)
        for row, word in enumerate(words, start=2):
            sheet.cell(row=row, column=column, value=word)
        sheet.column_dimensions[get_column_letter(column)].width = 24
    sheet.sheet_state = "hidden"


def _read_me(book: Workbook) -> None:
    sheet = book.create_sheet("Read me")
    sheet.column_dimensions["A"].width = 110
    for number, line in enumerate(READ_ME, start=1):
        cell = sheet.cell(row=number, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if number == 1 or (line and line.isupper()):
            cell.font = Font(bold=True, size=14 if number == 1 else 11)


READ_ME = (
    "How to fill in this workbook",
    "",
    "This workbook describes one council process, from first contact to support in place. "
    "When it is filled in, turn it into a model and check it:",
    "    sdsaudit import THIS-FILE.xlsx -o model.yaml",
    "    sdsaudit check model.yaml",
    "",
    "STEPS",
    "One row a step. Only 'name' is needed: everything else can be filled in later. "
    "'id' is a short name for the step (letters, digits and _); leave it empty and one is "
    "made from the name. 'kind', 'person', 'tells', 'produces', 'approves' and 'outcome' "
    "have drop-down lists. 'team' is who does the step (an id or a name from the Teams sheet). "
    "'days' is the typical number of calendar days, waiting included: a number, 'unknown', "
    "or 'not given' (counted as 0). A blank 'days' is read as 'unknown' and listed to fill "
    "in. 'asks', 'tells', 'produces', 'approves', 'source' and 'assumed' can hold several "
    "values separated by ';'. 'restrictions' holds one restriction a line; start a line with "
    "[law: NAME OF THE LAW] for a limit the law sets. 'authority' (who signs off) and "
    "'approves' are for approval steps; 'outcome' is for end steps.",
    "",
    "WORK DONE AT THE SAME TIME",
    "A step of kind 'parallel' starts two or more pieces of work at once: list the first step "
    "of each in 'branches' (separated by ';') and give in 'join' the step where the case goes "
    "on when all of them are done. Leave its other cells empty, and give it no links.",
    "",
    "LINKS",
    "One row an arrow from one step to the next. 'when' names the condition (for example "
    "'eligible'), 'share' is the proportion of cases that go this way (0.85 or 85%), "
    "'rework' is 'yes' for an arrow back to earlier work. Instead of this sheet you may add "
    "a 'next' column to Steps, listing the steps that follow (separated by ';'), or a "
    "'predecessors' column listing those before.",
    "",
    "START",
    "Where cases begin: one row with the step. If different groups of people start in "
    "different places, one row a group, with 'when' naming the group and 'share' the part "
    "of all people in it. If this sheet is empty, cases begin at the first step.",
    "",
    "TEAMS, SIGN-OFF LEVELS, SOURCES, WAIVERS",
    "Teams: who does the steps, with their kind (the person, a council team, finance, a "
    "panel ...). A team named on Steps but not here is added as a council team. Sign-off "
    "levels: lowest first; 'limit' is the largest weekly budget (GBP) it may sign off. "
    "Sources: documents the model is built from. Waivers: findings the council accepts, "
    "with the reason.",
    "",
    "ABOUT",
    "The council's name, the title, the date the model describes, and the council's "
    "policies and targets. Leave a value empty if you do not know it.",
    "",
    "Column headers may be written in any case, and common names are understood (Lane or "
    "Owner for team, Activity or Task for name, Duration (days) for days). The full "
    "description is in docs/import.md.",
)


def _step_row(step: Mapping[str, Any]) -> list[Any]:
    out: list[Any] = []
    for column in STEP_COLUMNS:
        key = {"team": "actor"}.get(column, column)
        value = step.get(key)
        if column == "days" and "days" not in step and step["kind"] not in NO_TIME_KINDS:
            value = NOT_GIVEN
        elif column in ("asks", "tells", "produces", "approves", "branches"):
            value = join_values(value) if value else None
        elif column == "source" and isinstance(value, list):
            value = join_values(value)
        elif column == "assumed" and value:
            value = join_values([{"actor": "team"}.get(v, v) for v in value])
        elif column == "restrictions" and value:
            value = "\n".join(restriction_text(r) for r in value)
        out.append(value)
    return out


def _about_value(data: Mapping[str, Any], key: str) -> Any:
    value: Any = data
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and key == "assumed":
        return join_values(value)
    if isinstance(value, list):
        if key == "policies.restrictions":
            return "\n".join(restriction_text(r) for r in value) if value else None
        return join_values(value) if value else "none"
    return value


def write_xlsx(data: Mapping[str, Any]) -> bytes:
    """A model's plain data (or an empty model: the template) as a workbook."""
    book = Workbook()
    if book.active is not None:
        book.remove(book.active)
    steps = data.get("steps", [])
    _table_sheet(book, "Steps", STEP_COLUMNS, [_step_row(s) for s in steps])
    links = [(s["id"], *_link_cells(t)) for s in steps for t in s.get("next", ())]
    _table_sheet(book, "Links", LINK_COLUMNS, links)
    start = data.get("start")
    if isinstance(start, str):
        starts: list[Sequence[Any]] = [(start,)]
    else:
        starts = [(e["to"], e.get("when"), e.get("share")) for e in start or ()]
    _table_sheet(book, "Start", START_COLUMNS, starts)
    actors = data.get("actors", {})
    _table_sheet(
        book, "Teams", TEAM_COLUMNS, [(k, a["name"], a["kind"]) for k, a in actors.items()]
    )
    levels = data.get("authorities", [])
    _table_sheet(
        book,
        "Sign-off levels",
        LEVEL_COLUMNS,
        [(a["id"], a["name"], a.get("limit")) for a in levels],
    )
    about = [(key, _about_value(data, key), meaning) for key, meaning in ABOUT_KEYS]
    sheet = _table_sheet(book, "About", ABOUT_COLUMNS, about)
    for number in range(2, len(ABOUT_KEYS) + 2):
        sheet.cell(row=number, column=3).alignment = Alignment(wrap_text=True, vertical="top")
    _table_sheet(
        book,
        "Sources",
        SOURCE_COLUMNS,
        [tuple(s.get(k) for k in SOURCE_COLUMNS) for s in data.get("sources", ())],
    )
    _table_sheet(
        book,
        "Waivers",
        WAIVER_COLUMNS,
        [tuple(w.get(k) for k in WAIVER_COLUMNS) for w in data.get("waivers", ())],
    )
    _read_me(book)
    _lists_sheet(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _link_cells(t: Any) -> tuple[Any, ...]:
    if isinstance(t, str):
        return (t, None, None, None)
    return (t["to"], t.get("when"), t.get("share"), "yes" if t.get("rework") else None)


CSV_COLUMNS = (*STEP_COLUMNS, "next")


def write_csv(data: Mapping[str, Any]) -> bytes:
    """The steps as one CSV sheet with a ``next`` column (the start step first)."""
    steps = list(data.get("steps", []))
    start = data.get("start")
    first = start if isinstance(start, str) else (start[0]["to"] if start else None)
    steps.sort(key=lambda s: s["id"] != first)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for step in steps:
        values = _step_row(step) + ["; ".join(link_text(t) for t in step.get("next", ())) or None]
        writer.writerow([_csv_cell(v) for v in values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_cell(value, csv_file=True)
    if isinstance(value, float):
        return repr(value)
    return str(value)
