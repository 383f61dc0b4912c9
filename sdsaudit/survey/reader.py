"""POET-style survey evidence: read a survey CSV strictly, count, and summarise.

A survey file has one row per respondent (the format is in ``docs/survey.md``
and its vocabularies in ``criteria/survey.yaml``). Reading is streamed: rows
are checked and counted one at a time and never kept, so a national file of
100,000 rows takes seconds and the memory stays flat. Checking is as strict as
for process models: every problem is reported with file, row and column, and
near-miss values get a did-you-mean hint.

The result is a :class:`SurveySummary`: percentages with 95% Wilson intervals
overall, by respondent group, by budget option and by both; ease of each part
of the process; outcomes per life area; the odds of a good outcome with and
without each building block; and the national POET figures beside the
council's. Every group of fewer than ``min_group`` respondents is already
hidden in the summary (see :func:`summarise`), so nothing built on it can
show a small group, and no respondent id, date or comment is ever kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, NoReturn

from ..errors import ModelError, Problem
from ..model import datafile as D
from ..model import schema as S
from ..model.loader import did_you_mean
from ..vocab import BLOCKS
from .statistics import odds_ratio, wilson_interval

MIN_GROUP = 10
"""Default suppression threshold: groups of fewer respondents are never shown.

``criteria/survey.yaml`` (``min_group``) and ``--min-group`` override it."""

MAX_PROBLEMS = 200
"""Problems reported in full; beyond this only their number is given."""

MAX_ID_LENGTH = 100
"""Longest respondent id accepted (ids are pseudonymous codes, not names)."""

ID_BLOOM_BITS = 1 << 24
"""Size of the duplicate-id filter (2 MiB, whatever the number of rows)."""

HEADLINE = ("heard", "simple", "in_control", "good_outcome")
"""Indicators shown for the finest breakdown (group and budget option)."""

BREAKDOWNS = (
    ("group", "By respondent group"),
    ("budget_option", "By how the budget is managed"),
    ("group_option", "By respondent group and how the budget is managed"),
)

NOT_STATED = ""
"""Cell key for respondents who left the breakdown question blank."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EASE_SCORE = {"very_easy": 1, "easy": 2, "difficult": 3, "very_difficult": 4}
_NA = "not_applicable"

STATUS_TEXT = {
    "small": "fewer than {n} people: not shown",
    "secondary": "not shown, so that a smaller group cannot be worked out",
    "empty": "no answers",
}
"""What a report says in place of a figure it does not show."""


# --------------------------------------------------------------------------- format


@dataclass(frozen=True)
class Column:
    """One column of the survey format.

    ``kind`` is ``id``, ``text``, ``date`` (the three must not be blank),
    ``choice`` (one value of ``vocabulary`` or blank), ``choices`` (values of
    ``vocabulary`` separated by ``;``, or blank) or ``free`` (never read).
    """

    name: str
    kind: str
    vocabulary: str | None = None
    optional: bool = False
    """Whether the column may be left out of the header altogether."""


@dataclass(frozen=True)
class IndicatorDef:
    """How one yes/no indicator is worked out (from ``criteria/survey.yaml``)."""

    id: str
    block: str | None
    label: str
    definition: str
    column: str | None = None
    yes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NationalFigure:
    """A national POET figure quoted in the evidence, with its source and year."""

    id: str
    statement: str
    figure: float
    indicator: str | None
    source: str
    year: int | None
    note: str


@dataclass(frozen=True)
class SurveySpec:
    """The survey format and analysis settings (``criteria/survey.yaml``)."""

    columns: tuple[Column, ...]
    vocabularies: Mapping[str, Mapping[str, str]]
    process_parts: Mapping[str, str]
    spending: Mapping[str, str]
    life_areas: Mapping[str, str]
    indicators: tuple[IndicatorDef, ...]
    outcome_factors: tuple[str, ...]
    national: tuple[NationalFigure, ...]
    national_odds: Mapping[str, NationalFigure]
    min_group: int = MIN_GROUP
    easy_overall_below: float = 2.5
    good_outcome_min_share_better: float = 0.5
    good_outcome_min_areas: int = 1

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def indicator(self, indicator_id: str) -> IndicatorDef:
        """The indicator with this id (``KeyError`` if none)."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def label(self, vocabulary: str, value: str) -> str:
        """The plain-English label of a vocabulary value."""
        return self.vocabularies[vocabulary].get(value, value)


# The format of criteria/survey.yaml (read by sdsaudit.model.datafile).

VOCABULARIES = ("group", "budget_option", "views", "knew", "yes_no", "ease", "helper", "outcome")
"""The vocabularies the survey columns use (``vocabularies`` in ``criteria/survey.yaml``)."""

DERIVED_INDICATORS = (
    "heard",
    "easy_overall",
    "simple",
    "spend_pa_or_community",
    "in_control",
    "good_outcome",
)
"""Indicators worked out in code from several answers (the others count one column)."""

_SHARE = S.Number(minimum=0, maximum=1, description="a share, from 0 to 1")
_LABELS = D.Table(value=D.Prose(), min_items=1, description="value: plain-English label")
NATIONAL_FIGURE = S.Record(
    name="national figure",
    keys={
        "id": S.Key(S.ID, default=""),
        "statement": S.Key(D.Prose(), required=True),
        "figure": S.Key(S.Number(minimum=0), required=True),
        "indicator": S.Key(D.Nullable(spec=S.ID)),
        "source": S.Key(D.Prose(), required=True),
        "year": S.Key(D.Nullable(spec=S.Number(minimum=1900, maximum=2100, integer=True))),
        "note": S.Key(D.Prose(fold=True), default=""),
    },
)
INDICATOR = S.Record(
    name="indicator",
    keys={
        "id": S.Key(S.ID, required=True),
        "block": S.Key(D.Nullable(spec=S.Word(words=BLOCKS, vocabulary="building block"))),
        "label": S.Key(D.Prose(), required=True),
        "derived": S.Key(S.Flag(), default=False),
        "definition": S.Key(D.Prose(fold=True), default=""),
        "column": S.Key(S.ID),
        "yes": S.Key(S.ListOf(item=D.Prose(), unique=True), default=()),
    },
)
SURVEY_FILE = S.Record(
    name="the survey file",
    keys={
        "min_group": S.Key(S.Number(minimum=1, integer=True), default=MIN_GROUP),
        "easy_overall_below": S.Key(S.Number(minimum=1, maximum=4), required=True),
        "good_outcome_min_share_better": S.Key(_SHARE, required=True),
        "good_outcome_min_areas": S.Key(S.Number(minimum=0, integer=True), required=True),
        "vocabularies": S.Key(
            S.Record(
                name="vocabularies",
                keys={name: S.Key(_LABELS, required=True) for name in VOCABULARIES},
            ),
            required=True,
        ),
        "process_parts": S.Key(_LABELS, required=True),
        "spending": S.Key(_LABELS, required=True),
        "life_areas": S.Key(_LABELS, required=True),
        "national": S.Key(D.Records(item=NATIONAL_FIGURE, unique_keys=("id",)), default=()),
        "national_odds": S.Key(D.Table(value=NATIONAL_FIGURE), default=MappingProxyType({})),
        "indicators": S.Key(
            D.Records(item=INDICATOR, unique_keys=("id",), min_items=1), required=True
        ),
        "outcome_factors": S.Key(S.ListOf(item=S.ID, unique=True), required=True),
    },
)


def load_spec(path: str | None = None) -> SurveySpec:
    """Read ``criteria/survey.yaml`` (or ``path``) into a :class:`SurveySpec`, once per process.

    Raises :class:`~sdsaudit.errors.ConfigError` with every problem found, each with its
    line and column.
    """
    return D.build(path or D.criteria_file("survey.yaml"), SURVEY_FILE, _survey_spec)


def _survey_spec(data: D.Entry, reader: D.Reader) -> SurveySpec:
    parts, spending, areas = data["process_parts"], data["spending"], data["life_areas"]
    columns = _columns(parts, spending, areas)
    _check_spec(data, {c.name: c for c in columns}, reader)
    return SurveySpec(
        columns=columns,
        vocabularies={name: dict(values) for name, values in data["vocabularies"].items()},
        process_parts=dict(parts),
        spending=dict(spending),
        life_areas=dict(areas),
        indicators=_indicators(data["indicators"], parts, areas),
        outcome_factors=tuple(data["outcome_factors"]),
        national=tuple(_national(item) for item in data["national"]),
        national_odds={k: _national(v) for k, v in data["national_odds"].items()},
        min_group=data["min_group"],
        easy_overall_below=float(data["easy_overall_below"]),
        good_outcome_min_share_better=float(data["good_outcome_min_share_better"]),
        good_outcome_min_areas=data["good_outcome_min_areas"],
    )


def _columns(
    parts: Mapping[str, str], spending: Mapping[str, str], areas: Mapping[str, str]
) -> tuple[Column, ...]:
    """The survey format: fixed columns, then one per part of the process, spending and
    life area named in ``criteria/survey.yaml``."""
    return (
        Column("respondent_id", "id"),
        Column("council", "text"),
        Column("survey_date", "date"),
        Column("group", "choice", "group"),
        Column("budget_option", "choice", "budget_option"),
        Column("views_planning", "choice", "views"),
        Column("views_budget", "choice", "views"),
        Column("knew_amount", "choice", "knew"),
        *(Column(name, "choice", "ease") for name in parts),
        Column("help_to_plan", "choice", "yes_no"),
        Column("help_from", "choices", "helper"),
        *(Column(name, "choice", "yes_no") for name in spending),
        *(Column(name, "choice", "outcome") for name in areas),
        Column("comment", "free", optional=True),
    )


def _indicators(
    items: list[D.Entry], parts: Mapping[str, str], areas: Mapping[str, str]
) -> tuple[IndicatorDef, ...]:
    """The declared indicators, then ``easy_<part>`` for each part of the process and
    ``better_<area>`` for each life area; one counting a column without a definition
    of its own is given one saying what it counts."""
    indicators = [
        IndicatorDef(
            id=item["id"],
            block=item["block"],
            label=item["label"],
            definition=item["definition"],
            column=item["column"],
            yes=frozenset(item["yes"]),
        )
        for item in items
    ]
    indicators += [
        IndicatorDef(
            f"easy_{part}", "simple", f"{label}: easy", "", part, frozenset({"very_easy", "easy"})
        )
        for part, label in parts.items()
    ]
    indicators += [
        IndicatorDef(f"better_{area}", None, f"{label}: better", "", area, frozenset({"better"}))
        for area, label in areas.items()
    ]
    return tuple(_defined(ind) for ind in indicators)


def _defined(ind: IndicatorDef) -> IndicatorDef:
    if ind.definition or not ind.column:
        return ind
    yes = " or ".join(f'"{v}"' for v in sorted(ind.yes))
    return replace(
        ind,
        definition=f"Share answering {yes} to {ind.column}, of those who answered it "
        "(blank and not applicable left out).",
    )


def _national(item: D.Entry) -> NationalFigure:
    return NationalFigure(
        id=item["id"],
        statement=item["statement"],
        figure=float(item["figure"]),
        indicator=item["indicator"],
        source=item["source"],
        year=item["year"] or None,
        note=item["note"],
    )


def _check_spec(data: D.Entry, columns: Mapping[str, Column], reader: D.Reader) -> None:
    """What the declarations cannot say: the indicators name real columns and values, the
    code's own indicators are all declared, and the factors and national figures name
    indicators."""
    ease = set(data["vocabularies"]["ease"]) - set(_EASE_SCORE) - {_NA}
    if ease:
        reader.fail(
            data["vocabularies"].at("ease"),
            f"the ease vocabulary has {', '.join(sorted(ease))}, which sdsaudit cannot score; "
            f"use {', '.join(_EASE_SCORE)} and {_NA}",
        )
    ids = {item["id"] for item in data["indicators"]}
    ids |= {f"easy_{p}" for p in data["process_parts"]} | {
        f"better_{a}" for a in data["life_areas"]
    }
    for item in data["indicators"]:
        _check_indicator(item, columns, data["vocabularies"], reader)
    missing = [i for i in DERIVED_INDICATORS if i not in ids]
    if missing:
        reader.fail(
            data.at("indicators"),
            f"the indicators sdsaudit works out are not all declared: add {', '.join(missing)}",
        )
    factors = data["outcome_factors"]
    for factor, pos in zip(factors, factors.positions, strict=True):
        if factor not in ids:
            reader.fail(
                pos, f"the outcome factor '{factor}' is not an indicator{did_you_mean(factor, ids)}"
            )
    figures = [*data["national"], *data["national_odds"].values()]
    for figure in figures:
        if figure["indicator"] is not None and figure["indicator"] not in ids:
            reader.fail(
                figure.at("indicator"),
                f"the national figure's indicator '{figure['indicator']}' is not an indicator"
                f"{did_you_mean(figure['indicator'], ids)}",
            )


def _check_indicator(
    item: D.Entry, columns: Mapping[str, Column], vocabularies: D.Entry, reader: D.Reader
) -> None:
    if item["derived"]:
        if item["id"] not in DERIVED_INDICATORS:
            reader.fail(
                item.at("id"),
                f"'{item['id']}' is marked derived, but sdsaudit works out only "
                f"{', '.join(DERIVED_INDICATORS)}: give it a column and yes values instead",
            )
        return
    column = columns.get(item["column"] or "")
    if column is None or column.kind != "choice" or column.vocabulary is None:
        choices = [c.name for c in columns.values() if c.kind == "choice"]
        reader.fail(
            item.at("column"),
            f"indicator '{item['id']}' needs a column with one answer per respondent"
            f"{did_you_mean(item['column'] or '', choices)}; or mark it derived: true",
        )
        return
    allowed = vocabularies[column.vocabulary]
    for value in item["yes"]:
        if value not in allowed:
            reader.fail(
                item.at("yes"),
                f"'{value}' is not a value of {column.name} ({', '.join(allowed)})"
                f"{did_you_mean(value, allowed)}",
            )
    if not item["yes"]:
        reader.fail(item.pos, f"indicator '{item['id']}' has no yes values: give at least one")


# --------------------------------------------------------------------------- reading


class SurveyError(ModelError):
    """A survey file could not be read. Keeps its problems in file order, so the
    note about problems not shown comes last."""

    def __init__(self, problems: list[Problem]):
        self._problems = tuple(problems)
        Exception.__init__(self, "\n".join(str(p) for p in self._problems))


@dataclass
class Tally:
    """What reading a survey keeps: counts only, never a row.

    ``cells`` maps ``(group, option)`` to counts keyed by ``what``: ``("n",)``,
    ``(column, value)`` (value ``""`` for blank), ``("ind", indicator, True/False)``
    or ``("or", factor, had, good)``; values are numbers of respondents.
    """

    source: str
    rows: int = 0
    councils: Counter = field(default_factory=Counter)
    years: Counter = field(default_factory=Counter)
    cells: dict[tuple[str, str], dict[tuple, int]] = field(default_factory=dict)
    """Per (group, option): ``what`` -> respondents (kept apart for speed)."""

    @property
    def counts(self) -> dict[tuple, int]:
        """All counts keyed ``((group, option), what...)``."""
        return {(cell, *what): n for cell, tally in self.cells.items() for what, n in tally.items()}


class _Lines:
    """Decode a file line by line, counting lines, refusing anything but UTF-8."""

    def __init__(self, handle, name: str, problems: _Problems):
        self.handle = handle
        self.name = name
        self.problems = problems
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.number += 1
            if self.number == 1:
                raw = self._first(raw)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self._bad_byte(raw, exc)
            if "\x00" in line:
                self.problems.add(
                    self.number,
                    _cell_at(line, line.index("\x00")),
                    "a NUL character is in this line; the file may not be a text "
                    "CSV file (save it as CSV UTF-8)",
                )
                line = line.replace("\x00", "")
            yield line

    def _first(self, raw: bytes) -> bytes:
        if raw.startswith(b"\xef\xbb\xbf"):  # the byte-order mark Excel writes: harmless
            return raw[3:]
        for bom, name in (
            (b"\xff\xfe\x00\x00", "UTF-32"),
            (b"\x00\x00\xfe\xff", "UTF-32"),
            (b"\xff\xfe", "UTF-16"),
            (b"\xfe\xff", "UTF-16"),
        ):
            if raw.startswith(bom):
                self.problems.fatal(
                    1,
                    1,
                    f"the file is saved as {name}; save it as UTF-8 (in Excel: Save As, CSV UTF-8)",
                )
        return raw

    def _bad_byte(self, raw: bytes, exc: UnicodeDecodeError) -> None:
        byte = raw[exc.start]
        before = raw[: exc.start].decode("utf-8", errors="replace")
        guess = "Windows-1252 or Latin-1" if byte >= 0x80 else "another encoding"
        self.problems.fatal(
            self.number,
            _cell_at(before, len(before)),
            f"byte 0x{byte:02X} is not valid UTF-8 (the file looks saved as {guess}); "
            "save it as UTF-8 (in Excel: Save As, CSV UTF-8)",
        )


def _cell_at(line: str, offset: int) -> int:
    """The 1-based CSV column that character ``offset`` of ``line`` falls in."""
    try:
        return len(next(csv.reader([line[:offset]]), [""])) or 1
    except csv.Error:
        return line[:offset].count(",") + 1


class _Stop(Exception):
    """Reading cannot go on (wrong encoding, unreadable header)."""


class _Problems:
    """Collects problems in file order; keeps the first ``MAX_PROBLEMS``."""

    def __init__(self, name: str):
        self.name = name
        self.kept: list[Problem] = []
        self.more = 0

    def add(self, line: int | None, column: int | None, message: str) -> None:
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(Problem(self.name, line, column, message))
        else:
            self.more += 1

    def fatal(self, line: int | None, column: int | None, message: str) -> NoReturn:
        self.add(line, column, message)
        raise _Stop

    def __bool__(self) -> bool:
        return bool(self.kept)

    def error(self) -> SurveyError:
        problems = list(self.kept)
        if self.more:
            problems.append(
                Problem(
                    self.name,
                    None,
                    None,
                    f"... and {self.more:,} more problems not shown; fix these first and run again",
                )
            )
        return SurveyError(problems)


def read_survey(
    path: str | os.PathLike[str], *, spec: SurveySpec | None = None, min_group: int | None = None
) -> SurveySummary:
    """Read, check and summarise the survey at ``path``.

    Raises :class:`SurveyError` (a :class:`ModelError`) with every problem found.
    ``min_group`` overrides the suppression threshold of ``criteria/survey.yaml``.
    """
    spec = spec or load_spec()
    return summarise(tally_survey(path, spec), spec, min_group=min_group)


def tally_survey(path: str | os.PathLike[str], spec: SurveySpec) -> Tally:
    """Stream the survey at ``path``, checking every cell and counting answers."""
    name = str(path)
    problems = _Problems(name)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed in finally
    except IsADirectoryError:
        raise SurveyError(
            [Problem(name, None, None, "is a folder, not a file: give the path of a .csv file")]
        ) from None
    except FileNotFoundError:
        raise SurveyError([Problem(name, None, None, "no such file: check the path")]) from None
    except PermissionError:
        raise SurveyError(
            [Problem(name, None, None, "cannot be read (permission denied)")]
        ) from None
    tally = Tally(source=name)
    candidates: set[str] = set()
    stopped = False
    with handle:
        try:
            _Rows(spec, tally, problems, _Lines(handle, name, problems)).run(candidates)
        except _Stop:
            stopped = True
    if candidates and not stopped:
        _report_duplicates(path, name, candidates, problems)
    if problems:
        raise problems.error()
    return tally


class _Rows:
    """Checks and counts the rows of one file."""

    def __init__(self, spec: SurveySpec, tally: Tally, problems: _Problems, lines: _Lines):
        self.spec = spec
        self.tally = tally
        self.problems = problems
        self.lines = lines
        self.seen = bytearray(ID_BLOOM_BITS // 8)
        self.dates: dict[str, int] = {}

    # -- header

    def _header(self, reader) -> list[int]:
        """Check the header; return, for each format column, its index in the file (-1: absent)."""
        try:
            header = next(reader, None)
        except csv.Error as exc:
            self.problems.fatal(1, 1, f"the header cannot be read as CSV: {_csv_error(exc)}")
        if not header or not any(h.strip() for h in header):
            self.problems.fatal(
                1,
                1,
                "the file is empty: the first line must be the header, "
                "naming the columns (see docs/survey.md)",
            )
        names = [h.strip() for h in header]
        known = self.spec.column_names
        if len(names) == 1 and ";" in names[0]:
            self.problems.fatal(
                1,
                1,
                "the header holds one column with semicolons in it: the file "
                "uses ';' between columns; save it with commas (CSV UTF-8)",
            )
        where: dict[str, int] = {}
        for index, column in enumerate(names):
            if column in where:
                self.problems.add(
                    1,
                    index + 1,
                    f"column '{column}' appears twice in the header "
                    f"(also column {where[column] + 1})",
                )
            elif column not in known:
                hint = did_you_mean(column, known) if column else ""
                what = f"unknown column '{column}'" if column else "a column has no name"
                self.problems.add(
                    1, index + 1, f"{what}{hint}; the columns are listed in docs/survey.md"
                )
            else:
                where[column] = index
        for col in self.spec.columns:
            if col.name not in where and not col.optional:
                self.problems.add(1, None, f"the header lacks the column '{col.name}'")
        if self.problems:
            raise _Stop
        self.width = len(names)
        return [where.get(c.name, -1) for c in self.spec.columns]

    # -- rows

    def run(self, candidates: set[str]) -> None:
        # strict: an unclosed quote at the end of the file is an error, not a last
        # comment that silently swallows every row after it.
        reader = csv.reader(self.lines, strict=True)
        positions = self._header(reader)
        self.header_end = reader.line_num
        spec = self.spec
        cols = spec.columns
        plan = []
        for col, index in zip(cols, positions, strict=True):
            if col.kind == "free" or index < 0:
                continue
            allowed = frozenset(spec.vocabularies[col.vocabulary]) if col.vocabulary else None
            plan.append((index, col.name, col.kind, allowed))
        count = self._counter(positions)
        end = reader.line_num
        while True:
            try:
                row = next(reader, None)
            except csv.Error as exc:
                self.problems.fatal(
                    end + 1,
                    None,
                    f"this row cannot be read as CSV ({_csv_error(exc)}); a "
                    'quote mark (") may be left open: check this row and the '
                    "ones before",
                )
            if row is None:
                break
            start, end = end + 1, reader.line_num
            if not row:
                continue  # a blank line
            if len(row) != self.width:
                spread = ""
                if end > start:
                    spread = f" (it runs from line {start} to line {end}: a quote may be left open)"
                self.problems.add(
                    start,
                    min(len(row), self.width) + 1,
                    f"this row has {len(row)} cells but the header has {self.width}"
                    f"{spread}; quote any text that holds a comma",
                )
                continue
            values = self._check(row, start, plan, candidates)
            if values is not None and not self.problems:
                count(values)
        if self.tally.rows == 0 and not self.problems:
            self.problems.add(self.header_end + 1, None, "the file has a header but no respondents")

    def _check(
        self, row: list[str], line: int, plan, candidates: set[str]
    ) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        ok = True
        for index, name, kind, allowed in plan:
            value = row[index].strip()
            if kind == "choice":
                if value and value not in allowed:
                    ok = self._unknown(line, index, name, value, allowed)
                values[name] = value
            elif kind == "choices":
                parts = [p.strip() for p in value.split(";")] if value else []
                for part in parts:
                    if part not in allowed:
                        ok = self._unknown(line, index, name, part, allowed)
                if "nobody" in parts and len(parts) > 1:
                    ok = False
                    self.problems.add(
                        line, index + 1, f"{name}: 'nobody' cannot be combined with other helpers"
                    )
                values[name] = parts
            elif not value:
                ok = False
                self.problems.add(line, index + 1, f"{name} is blank: every row needs one")
            elif kind == "date":
                year = self._date(value, line, index)
                ok = ok and year is not None
                values[name] = year
            elif kind == "id":
                ok = self._respondent(value, line, index, candidates) and ok
            else:
                values[name] = value
        return values if ok else None

    def _unknown(
        self, line: int, index: int, name: str, value: str, allowed: frozenset[str]
    ) -> bool:
        choices = sorted(allowed)
        shown = value if len(value) <= 40 else value[:39] + "…"
        self.problems.add(
            line,
            index + 1,
            f"{name}: '{shown}' is not one of {', '.join(choices)}{did_you_mean(value, choices)}",
        )
        return False

    def _date(self, value: str, line: int, index: int) -> int | None:
        year = self.dates.get(value)
        if year is not None:
            return year
        if not _DATE.fullmatch(value):
            self.problems.add(
                line,
                index + 1,
                f"survey_date '{value[:20]}' is not a date written "
                "YYYY-MM-DD (for example 2025-04-03)",
            )
            return None
        try:
            year = dt.date.fromisoformat(value).year
        except ValueError:
            self.problems.add(line, index + 1, f"survey_date '{value}' is not a real date")
            return None
        if len(self.dates) < 10_000:  # dates repeat; the cache stays small
            self.dates[value] = year
        return year

    def _respondent(self, value: str, line: int, index: int, candidates: set[str]) -> bool:
        if len(value) > MAX_ID_LENGTH:
            self.problems.add(
                line,
                index + 1,
                f"respondent_id is {len(value)} characters long; "
                f"ids are codes of at most {MAX_ID_LENGTH}",
            )
            return False
        # A fixed-size Bloom filter: memory stays flat however many rows. An id it
        # may have seen is a candidate; candidates are confirmed in a second pass.
        h = hash(value)
        bits = (h & 0xFFFFFF, (h >> 20) & 0xFFFFFF, (h >> 40) & 0xFFFFFF)
        seen = self.seen
        if all(seen[b >> 3] & (1 << (b & 7)) for b in bits):
            candidates.add(value)
        for b in bits:
            seen[b >> 3] |= 1 << (b & 7)
        return True

    def _counter(self, positions: list[int]):
        """The function that counts one checked row (closure over the format)."""
        spec = self.spec
        tally = self.tally
        cells = tally.cells
        choice_cols = [
            c.name
            for c, i in zip(spec.columns, positions, strict=True)
            if c.kind == "choice" and i >= 0
        ]
        parts = list(spec.process_parts)
        areas = list(spec.life_areas)
        below = spec.easy_overall_below
        share_better = spec.good_outcome_min_share_better
        min_areas = spec.good_outcome_min_areas
        column_factors, derived_factors = [], []
        for factor in spec.outcome_factors:
            ind = spec.indicator(factor)
            if ind.column:
                column_factors.append((factor, ind.column, ind.yes))
            else:
                derived_factors.append(factor)

        def yes(value: str, accepted: str) -> bool | None:
            return None if not value or value == _NA else value == accepted

        def count(v: dict[str, Any]) -> None:
            tally.rows += 1
            cell = (v["group"], v["budget_option"])
            counts = cells.get(cell)
            if counts is None:
                counts = cells[cell] = defaultdict(int)
            counts[("n",)] += 1
            tally.councils[v["council"]] += 1
            tally.years[v["survey_date"]] += 1
            for name in choice_cols:
                counts[(name, v[name])] += 1
            helpers = v["help_from"]
            for helper in helpers or (NOT_STATED,):
                counts[("help_from", helper)] += 1
            heard = _and(yes(v["views_planning"], "fully"), yes(v["views_budget"], "fully"))
            scores = [_EASE_SCORE[v[p]] for p in parts if v[p] and v[p] != _NA]
            easy = (sum(scores) / len(scores) < below) if scores else None
            knew = v["knew_amount"]
            simple = _and(None if not knew else knew == "yes", easy)
            pa_or_community = _or(
                yes(v["spend_personal_assistants"], "yes"), yes(v["spend_community_leisure"], "yes")
            )
            in_control = _and(yes(v["help_to_plan"], "yes"), pa_or_community)
            answered = [v[a] for a in areas if v[a] and v[a] != _NA]
            good = None
            if len(answered) >= min_areas and answered:
                good = answered.count("better") >= share_better * len(answered)
            derived = {
                "heard": heard,
                "easy_overall": easy,
                "simple": simple,
                "spend_pa_or_community": pa_or_community,
                "in_control": in_control,
                "good_outcome": good,
            }
            for name, value in derived.items():
                if value is not None:
                    counts[("ind", name, value)] += 1
            if good is None:
                return
            for factor, column, accepted in column_factors:
                value = v[column]
                if value and value != _NA:
                    counts[("or", factor, value in accepted, good)] += 1
            for factor in derived_factors:
                value = derived[factor]
                if value is not None:
                    counts[("or", factor, value, good)] += 1

        return count


def _csv_error(exc: csv.Error) -> str:
    """The csv module's complaint in plain English where it is about Python, not the file."""
    text = str(exc)
    if "new-line character seen in unquoted field" in text:
        return (
            "its lines end in a lone carriage return (old Mac line endings); save it "
            "again as CSV UTF-8"
        )
    return text


def _and(*values: bool | None) -> bool | None:
    """Three-valued AND: false if any is false, unknown if any is unknown, else true."""
    if False in values:
        return False
    return None if None in values else True


def _or(*values: bool | None) -> bool | None:
    """Three-valued OR: true if any is true, unknown if any is unknown, else false."""
    if True in values:
        return True
    return None if None in values else False


def _report_duplicates(path, name: str, candidates: set[str], problems: _Problems) -> None:
    """Second pass, only when the filter saw possible repeats: find the real ones."""
    rows: dict[str, list[int]] = defaultdict(list)
    with open(path, "rb") as handle:
        lines = _Lines(handle, name, _Problems(name))
        reader = csv.reader(lines)
        header = [h.strip() for h in next(reader)]
        index = header.index("respondent_id")
        end = reader.line_num
        for row in reader:
            start, end = end + 1, reader.line_num
            if row and row[index].strip() in candidates:
                rows[row[index].strip()].append(start)
    repeats = sorted((found[1:], rid, found[0]) for rid, found in rows.items() if len(found) > 1)
    for later, rid, first in repeats:
        shown = rid if len(rid) <= 40 else rid[:39] + "…"
        for line in later:
            problems.add(
                line,
                index + 1,
                f"respondent_id '{shown}' is used again (first on line "
                f"{first}); each respondent needs one row with a unique id",
            )
    problems.kept.sort(key=lambda p: (p.line or 0, p.column or 0))


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class Estimate:
    """A share of a group with its 95% Wilson interval, or why it is not shown.

    ``status`` is ``shown``, ``small`` (fewer than ``min_group`` people),
    ``secondary`` (hidden so a small group cannot be worked out by subtraction)
    or ``empty`` (nobody answered). Only ``shown`` estimates carry numbers.
    """

    status: str
    count: int | None = None
    total: int | None = None
    share: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def shown(self) -> bool:
        return self.status == "shown"

    def text(self, min_group: int = MIN_GROUP) -> str:
        """``"49% (45% to 53%)"``, or what is said instead."""
        if not self.shown:
            return STATUS_TEXT[self.status].format(n=min_group)
        return f"{pct(self.share)} ({pct(self.low)} to {pct(self.high)})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "count": self.count,
            "total": self.total,
            "share": _r(self.share),
            "low": _r(self.low),
            "high": _r(self.high),
        }


@dataclass(frozen=True)
class Count:
    """A number of respondents, or why it is not shown."""

    status: str
    value: int | None = None

    @property
    def shown(self) -> bool:
        return self.status == "shown"

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "respondents": self.value}


@dataclass(frozen=True)
class Indicator:
    """One yes/no indicator over all respondents."""

    id: str
    block: str | None
    label: str
    definition: str
    overall: Estimate

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "block": self.block,
            "label": self.label,
            "definition": self.definition,
            "overall": self.overall.as_dict(),
        }


@dataclass(frozen=True)
class Cell:
    """One group in a breakdown: its size and its indicators."""

    key: str
    label: str
    respondents: Count
    values: tuple[tuple[str, Estimate], ...]

    def get(self, indicator: str) -> Estimate:
        return dict(self.values)[indicator]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            **self.respondents.as_dict(),
            "indicators": {k: e.as_dict() for k, e in self.values},
        }


@dataclass(frozen=True)
class Breakdown:
    """Indicators by respondent group, by budget option, or by both."""

    id: str
    label: str
    indicators: tuple[str, ...]
    cells: tuple[Cell, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "indicators": list(self.indicators),
            "cells": [c.as_dict() for c in self.cells],
        }


@dataclass(frozen=True)
class Distribution:
    """How the answers to one question spread over its values (all respondents)."""

    id: str
    label: str
    answered: Count
    values: tuple[tuple[str, str, Estimate], ...]
    """(value, label, share of those answering); hidden as a whole if too few answered."""
    not_applicable: int | None = None
    blank: int | None = None
    summary: Estimate | None = None
    """The headline share (easy, better), when the question has one."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            **self.answered.as_dict(),
            "values": [{"value": v, "label": lab, **e.as_dict()} for v, lab, e in self.values],
            "not_applicable": self.not_applicable,
            "blank": self.blank,
            "summary": self.summary.as_dict() if self.summary else None,
        }


@dataclass(frozen=True)
class OutcomeOdds:
    """Good outcomes for people who had a factor against people who did not."""

    factor: str
    block: str | None
    label: str
    status: str
    with_factor: Estimate
    without_factor: Estimate
    ratio: float | None = None
    low: float | None = None
    high: float | None = None
    corrected: bool = False
    national: NationalFigure | None = None

    @property
    def shown(self) -> bool:
        return self.status == "shown"

    def text(self, min_group: int = MIN_GROUP) -> str:
        if not self.shown:
            return STATUS_TEXT[self.status].format(n=min_group)
        return f"{self.ratio:.1f} ({self.low:.1f} to {self.high:.1f})"

    def as_dict(self) -> dict[str, Any]:
        nat = self.national
        return {
            "factor": self.factor,
            "block": self.block,
            "label": self.label,
            "status": self.status,
            "with": self.with_factor.as_dict(),
            "without": self.without_factor.as_dict(),
            "odds_ratio": _r(self.ratio),
            "low": _r(self.low),
            "high": _r(self.high),
            "haldane_corrected": self.corrected,
            "national": None
            if nat is None
            else {
                "statement": nat.statement,
                "figure": nat.figure,
                "source": nat.source,
                "year": nat.year,
            },
        }


@dataclass(frozen=True)
class Comparison:
    """A national POET figure beside the council's own."""

    national: NationalFigure
    local: Estimate | None
    verdict: str
    """``lower``, ``similar``, ``higher`` (by the 95% interval), ``not shown`` or ``not asked``."""

    def as_dict(self) -> dict[str, Any]:
        n = self.national
        return {
            "id": n.id,
            "statement": n.statement,
            "figure": n.figure,
            "source": n.source,
            "year": n.year,
            "indicator": n.indicator,
            "note": n.note,
            "local": self.local.as_dict() if self.local else None,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class SurveySummary:
    """Everything the survey says, with small groups already hidden."""

    source: str
    respondents: Count
    min_group: int
    councils: tuple[tuple[str, Count], ...]
    years: tuple[tuple[int, Count], ...]
    indicators: tuple[Indicator, ...]
    breakdowns: tuple[Breakdown, ...]
    ease: tuple[Distribution, ...]
    outcomes: tuple[Distribution, ...]
    answers: tuple[Distribution, ...]
    odds: tuple[OutcomeOdds, ...]
    national: tuple[Comparison, ...]
    definitions: tuple[tuple[str, str], ...] = ()

    def overall(self, indicator: str) -> Estimate:
        """The all-respondents estimate of an indicator (``KeyError`` if unknown)."""
        for ind in self.indicators:
            if ind.id == indicator:
                return ind.overall
        raise KeyError(indicator)

    def indicator(self, indicator: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator:
                return ind
        raise KeyError(indicator)

    def breakdown(self, breakdown_id: str) -> Breakdown:
        for b in self.breakdowns:
            if b.id == breakdown_id:
                return b
        raise KeyError(breakdown_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            **self.respondents.as_dict(),
            "min_group": self.min_group,
            "councils": [{"council": c, **n.as_dict()} for c, n in self.councils],
            "years": [{"year": y, **n.as_dict()} for y, n in self.years],
            "definitions": dict(self.definitions),
            "indicators": [i.as_dict() for i in self.indicators],
            "breakdowns": [b.as_dict() for b in self.breakdowns],
            "ease": [d.as_dict() for d in self.ease],
            "outcomes": [d.as_dict() for d in self.outcomes],
            "answers": [d.as_dict() for d in self.answers],
            "outcome_odds": [o.as_dict() for o in self.odds],
            "national": [c.as_dict() for c in self.national],
        }


def pct(share: float | None) -> str:
    """A share as a whole percentage: ``0.494`` -> ``"49%"``."""
    return "–" if share is None else f"{int(share * 100 + 0.5):d}%"


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def hidden_cells(sizes: Mapping[Any, int], min_group: int) -> dict[Any, str]:
    """Which cells of one breakdown to hide, and why (``small`` or ``secondary``).

    Cells of 1 to ``min_group - 1`` people are hidden (primary suppression).
    Because the cells add up to a total that is shown, a lone hidden cell could
    be worked out by subtraction, so the smallest shown cells are hidden too
    until at least two cells are hidden and together they hold at least
    ``min_group`` people (secondary suppression). Empty cells hide nobody and
    stay shown.
    """
    hidden = {k: "small" for k, n in sizes.items() if 0 < n < min_group}
    _protect(list(sizes), sizes, hidden, min_group)
    return hidden


def hidden_table(sizes: Mapping[tuple[Any, Any], int], min_group: int) -> dict[tuple, str]:
    """:func:`hidden_cells` for a two-way table: the same protection for every row and
    every column, repeated until nothing changes, since row and column totals are
    both shown (so no hidden cell is alone in its row or column)."""
    hidden = {k: "small" for k, n in sizes.items() if 0 < n < min_group}
    lines = [[k for k in sizes if k[0] == r] for r in sorted({k[0] for k in sizes})] + [
        [k for k in sizes if k[1] == c] for c in sorted({k[1] for k in sizes})
    ]
    while any([_protect(keys, sizes, hidden, min_group) for keys in lines]):
        pass
    return hidden


def _protect(
    keys: list[Any], sizes: Mapping[Any, int], hidden: dict[Any, str], min_group: int
) -> bool:
    """Hide the smallest shown cells of one line (row, column or whole breakdown) until
    its hidden cells are at least two and hold at least ``min_group`` people, or all
    are hidden. Returns whether anything was hidden."""
    line_hidden = [k for k in keys if k in hidden and sizes[k] > 0]
    if not line_hidden:
        return False
    shown = sorted((sizes[k], str(k), k) for k in keys if sizes[k] > 0 and k not in hidden)
    changed = False
    while shown and (len(line_hidden) < 2 or sum(sizes[k] for k in line_hidden) < min_group):
        _, _, key = shown.pop(0)
        hidden[key] = "secondary"
        line_hidden.append(key)
        changed = True
    return changed


def summarise(tally: Tally, spec: SurveySpec, *, min_group: int | None = None) -> SurveySummary:
    """Turn counts into the summary, hiding every group of fewer than ``min_group``."""
    m = spec.min_group if min_group is None else min_group
    if m < 1:
        raise ValueError("min_group must be at least 1")
    roll: dict[str, dict[Any, Counter]] = {
        name: defaultdict(Counter) for name in ("overall", "group", "budget_option", "group_option")
    }
    for cell, counts in tally.cells.items():
        for key, n in counts.items():
            roll["overall"]["all"][key] += n
            roll["group"][cell[0]][key] += n
            roll["budget_option"][cell[1]][key] += n
            roll["group_option"][cell][key] += n
    overall = roll["overall"]["all"]

    def fraction(counter: Counter, ind: IndicatorDef) -> tuple[int, int]:
        if ind.column is None:
            yes, no = counter[("ind", ind.id, True)], counter[("ind", ind.id, False)]
            return yes, yes + no
        vocab = spec.vocabularies[spec_column(spec, ind.column).vocabulary or ""]
        total = sum(counter[(ind.column, v)] for v in vocab if v != _NA)
        return sum(counter[(ind.column, v)] for v in ind.yes), total

    def estimate(num: int, den: int, status: str | None = None) -> Estimate:
        if den == 0:
            return Estimate("empty")
        if status:
            return Estimate(status)
        if den < m:
            return Estimate("small")
        low, high = wilson_interval(num, den)  # type: ignore[misc]
        return Estimate("shown", num, den, num / den, low, high)

    total = overall[("n",)]
    total_hidden = 0 < total < m
    indicators = []
    for ind in spec.indicators:
        num, den = fraction(overall, ind)
        indicators.append(
            Indicator(
                ind.id,
                ind.block,
                ind.label,
                ind.definition,
                estimate(num, den, "small" if total_hidden else None),
            )
        )

    breakdown_inds = [i.id for i in spec.indicators if not i.id.startswith("better_")]
    breakdowns = []
    for bid, blabel in BREAKDOWNS:
        cells = roll[bid]
        inds = list(HEADLINE) if bid == "group_option" else breakdown_inds
        hide = hidden_table if bid == "group_option" else hidden_cells
        sizes = {k: c[("n",)] for k, c in cells.items()}
        if total_hidden:
            cell_hidden = {k: "small" for k in sizes}
        else:
            cell_hidden = hide(sizes, m)
        per_ind: dict[str, dict[Any, Estimate]] = {}
        for ind_id in inds:
            ind = spec.indicator(ind_id)
            fr = {k: fraction(c, ind) for k, c in cells.items()}
            hidden = dict(hide({k: d for k, (_, d) in fr.items()}, m))
            for k, why in cell_hidden.items():
                hidden.setdefault(k, why)
            per_ind[ind_id] = {k: estimate(n, d, hidden.get(k)) for k, (n, d) in fr.items()}
        out_cells = []
        for key in sorted(cells, key=lambda k: _cell_order(spec, bid, k)):
            status = cell_hidden.get(key, "shown")
            out_cells.append(
                Cell(
                    key=key if isinstance(key, str) else "|".join(key),
                    label=_cell_label(spec, bid, key),
                    respondents=Count(status, sizes[key] if status == "shown" else None),
                    values=tuple((i, per_ind[i][key]) for i in inds),
                )
            )
        breakdowns.append(Breakdown(bid, blabel, tuple(inds), tuple(out_cells)))

    def distribution(
        column: str,
        label: str,
        vocabulary: str,
        headline: set[str] | None,
        *,
        several: bool = False,
    ) -> Distribution:
        vocab = spec.vocabularies[vocabulary]
        if several:  # values are mentions; shares are of the people who answered
            answered = total - overall[(column, NOT_STATED)]
        else:
            answered = sum(overall[(column, v)] for v in vocab if v != _NA)
        hidden = total_hidden or 0 < answered < m
        status = "small" if hidden else ("empty" if answered == 0 else None)
        values = tuple(
            (v, lab, estimate(overall[(column, v)], answered, status))
            for v, lab in vocab.items()
            if v != _NA
        )
        summary = None
        if headline:
            summary = estimate(sum(overall[(column, v)] for v in headline), answered, status)
        show = not hidden
        return Distribution(
            id=column,
            label=label,
            answered=Count("small" if hidden else "shown", answered if show else None),
            values=values,
            not_applicable=(overall[(column, _NA)] if show else None) if _NA in vocab else None,
            blank=overall[(column, NOT_STATED)] if show else None,
            summary=summary,
        )

    ease = tuple(
        distribution(p, lab, "ease", {"very_easy", "easy"}) for p, lab in spec.process_parts.items()
    )
    outcomes = tuple(
        distribution(a, lab, "outcome", {"better"}) for a, lab in spec.life_areas.items()
    )
    answers = (
        distribution("budget_option", "How the budget is managed", "budget_option", None),
        distribution("views_planning", "Views included in planning", "views", None),
        distribution("views_budget", "Views included in setting the budget", "views", None),
        distribution("knew_amount", "Knew the budget amount when planning", "knew", None),
        distribution("help_to_plan", "Had help to plan", "yes_no", None),
        distribution(
            "help_from",
            "Who helped to plan (more than one may be given)",
            "helper",
            None,
            several=True,
        ),
    )

    odds = []
    for factor in spec.outcome_factors:
        ind = spec.indicator(factor)
        a, b = overall[("or", factor, True, True)], overall[("or", factor, True, False)]
        c, d = overall[("or", factor, False, True)], overall[("or", factor, False, False)]
        odds_status: str | None = (
            "small" if total_hidden or 0 < a + b < m or 0 < c + d < m else None
        )
        if a + b == 0 or c + d == 0:
            odds_status = odds_status or "empty"
        result = None if odds_status else odds_ratio(a, b, c, d)
        if result is None and not odds_status:
            odds_status = "empty"
        odds.append(
            OutcomeOdds(
                factor=factor,
                block=ind.block,
                label=ind.label,
                status=odds_status or "shown",
                with_factor=estimate(a, a + b, odds_status),
                without_factor=estimate(c, c + d, odds_status),
                ratio=result.ratio if result else None,
                low=result.low if result else None,
                high=result.high if result else None,
                corrected=result.corrected if result else False,
                national=spec.national_odds.get(factor),
            )
        )

    national = []
    for fig in spec.national:
        if fig.indicator is None:
            national.append(Comparison(fig, None, "not asked"))
            continue
        local = next(i.overall for i in indicators if i.id == fig.indicator)
        if not local.shown:
            verdict = "not shown"
        elif local.high < fig.figure:  # type: ignore[operator]
            verdict = "lower"
        elif local.low > fig.figure:  # type: ignore[operator]
            verdict = "higher"
        else:
            verdict = "similar"
        national.append(Comparison(fig, local, verdict))

    def shown_counts(items: Mapping[Any, int]) -> tuple[tuple[Any, Count], ...]:
        hidden = {k: "small" for k in items} if total_hidden else hidden_cells(items, m)
        return tuple(
            (k, Count(hidden[k]) if k in hidden else Count("shown", n))
            for k, n in sorted(items.items())
        )

    definitions = (
        (
            "min_group",
            f"Groups of fewer than {m} respondents are not shown, nor is the next "
            "smallest group where that one could be worked out by subtraction.",
        ),
        ("interval", "Every percentage has a 95% confidence interval by Wilson's method."),
        ("easy_overall", spec.indicator("easy_overall").definition),
        ("good_outcome", spec.indicator("good_outcome").definition),
        (
            "odds_ratio",
            "Odds of a good outcome for respondents who had the factor divided by the "
            "odds for those who did not, with a 95% interval from the log odds ratio "
            "(Woolf); when a count is zero, 0.5 is added to each of the four counts "
            "first (Haldane-Anscombe).",
        ),
    )
    return SurveySummary(
        source=tally.source,
        respondents=Count("small") if total_hidden else Count("shown", total),
        min_group=m,
        councils=shown_counts(tally.councils),
        years=shown_counts(tally.years),
        indicators=tuple(indicators),
        breakdowns=tuple(breakdowns),
        ease=ease,
        outcomes=outcomes,
        answers=answers,
        odds=tuple(odds),
        national=tuple(national),
        definitions=definitions,
    )


def spec_column(spec: SurveySpec, name: str) -> Column:
    """The format column called ``name``."""
    for col in spec.columns:
        if col.name == name:
            return col
    raise KeyError(name)


def _cell_order(spec: SurveySpec, breakdown: str, key: Any) -> tuple:
    groups = list(spec.vocabularies["group"]) + [NOT_STATED]
    options = list(spec.vocabularies["budget_option"]) + [NOT_STATED]
    if breakdown == "group":
        return (groups.index(key),)
    if breakdown == "budget_option":
        return (options.index(key),)
    return (groups.index(key[0]), options.index(key[1]))


def _cell_label(spec: SurveySpec, breakdown: str, key: Any) -> str:
    def one(vocabulary: str, value: str) -> str:
        return "Not stated" if value == NOT_STATED else spec.label(vocabulary, value)

    if breakdown == "group":
        return one("group", key)
    if breakdown == "budget_option":
        return one("budget_option", key)
    group = "Group not stated" if key[0] == NOT_STATED else one("group", key[0])
    option = "option not stated" if key[1] == NOT_STATED else one("budget_option", key[1]).lower()
    return f"{group}; {option}"
