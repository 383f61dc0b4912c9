"""Read a survey CSV strictly and count its answers.

A survey file has one row per respondent (the format is in ``docs/survey.md``
and its vocabularies in ``criteria/survey.yaml``, read by :mod:`.spec`). Reading
is streamed: rows are checked and counted one at a time and never kept, so a
national file of 100,000 rows takes seconds and the memory stays flat. Checking is
as strict as for process models: every problem is reported with file, row and
column, and near-miss values get a did-you-mean hint.

:func:`tally_survey` gives the counts (a :class:`~.summary.Tally`);
:func:`read_survey` also summarises them (:func:`~.summary.summarise`), hiding every
small group. No respondent id, date or comment is ever kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from ..errors import ModelError, Problem
from ..model.loader import did_you_mean
from .spec import EASE_SCORE, NOT_APPLICABLE, NOT_STATED, SurveySpec, load_spec
from .summary import SurveySummary, summarise
from .tally import Tally

MAX_PROBLEMS = 200
"""Problems reported in full; beyond this only their number is given."""

MAX_ID_LENGTH = 100
"""Longest respondent id accepted (ids are pseudonymous codes, not names)."""

MAX_COUNCIL_LENGTH = 100
"""Longest council name accepted (the longest council name in England is under 50)."""

MAX_SURVEY_BYTES = 256 << 20
"""Most bytes read from one survey file (256 MiB: about 900,000 respondents)."""

MAX_ROW_BYTES = 64 << 10
"""Most bytes one respondent's row may take (64 KiB), line breaks in quoted text
included; also the csv module's field limit while a survey is read."""

ID_BLOOM_BITS = 1 << 24
"""Size of the duplicate-id filter (2 MiB, whatever the number of rows)."""

MAX_CANDIDATES = 100_000
"""Most ids kept for the second pass that confirms repeats. A file of realistic rows
within :data:`MAX_SURVEY_BYTES` has a few thousand (the filter's false alarms); more
means ids repeat on a large scale, and the ids after that are not checked."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class SurveyError(ModelError):
    """A survey file could not be read. Keeps its problems in file order, so the
    note about problems not shown comes last."""

    def __init__(self, problems: list[Problem]):
        self._problems = tuple(problems)
        Exception.__init__(self, "\n".join(str(p) for p in self._problems))


class _Lines:
    """Decode a file line by line, counting lines, refusing anything but UTF-8.

    Reads with a bounded ``readline``, so no line longer than :data:`MAX_ROW_BYTES`
    is ever held, stops at the row that takes more than that, and stops once
    ``max_bytes`` have been read: the memory stays bounded whatever the file.
    """

    def __init__(self, handle, name: str, problems: _Problems, max_bytes: int = MAX_SURVEY_BYTES):
        self.handle = handle
        self.name = name
        self.problems = problems
        self.max_bytes = max_bytes
        self.number = 0
        self.read = 0
        self.row_start = 1
        self.row_bytes = 0

    def start_row(self) -> None:
        """The next line read starts a row (the csv reader asks for lines row by row)."""
        self.row_start = self.number + 1
        self.row_bytes = 0

    def __iter__(self) -> Iterator[str]:
        readline, limit = self.handle.readline, MAX_ROW_BYTES
        while raw := readline(limit + 1):
            self.number += 1
            self.read += len(raw)
            self.row_bytes += len(raw)
            if self.row_bytes > limit:
                self._too_long(raw)
            if self.read > self.max_bytes:
                self._too_big(raw)
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

    def _too_long(self, raw: bytes) -> NoReturn:
        limit = _size(MAX_ROW_BYTES)
        if self.row_start < self.number:
            self.problems.fatal(
                self.row_start,
                None,
                f"this row runs on for {self.number - self.row_start + 1:,} lines and more "
                f"than {limit}, the most one respondent's row may take: a quote mark (\") "
                "may be left open; check this row",
            )
        text = raw[:MAX_ROW_BYTES].decode("utf-8", errors="replace")
        self.problems.fatal(
            self.number,
            _cell_at(text, len(text)),
            f"this line is longer than {limit}, the most one respondent's row may take: "
            "check that the file is the survey saved as CSV, one respondent on each line",
        )

    def _too_big(self, raw: bytes) -> NoReturn:
        inside = raw[: max(0, self.max_bytes - (self.read - len(raw)))]
        text = inside.decode("utf-8", errors="replace")
        self.problems.fatal(
            self.number,
            _cell_at(text, len(text)),
            f"the file is larger than {_size(self.max_bytes)}, the most sdsaudit reads "
            "for one survey (the limit falls on this line): split it, for example by "
            "year, and read each part",
        )

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


def _size(n: int) -> str:
    """A limit in bytes as people read it: ``"256 MiB"``, ``"64 KiB"``, ``"1,000 bytes"``."""
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20:,} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10:,} KiB"
    return f"{n:,} bytes"


@contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    """The csv module's field limit (one setting for the whole process) while a survey
    is read, put back afterwards."""
    old = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


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
    path: str | os.PathLike[str],
    *,
    spec: SurveySpec | None = None,
    min_group: int | None = None,
    max_bytes: int = MAX_SURVEY_BYTES,
    councils: Iterable[str] = (),
) -> SurveySummary:
    """Read, check and summarise the survey at ``path``.

    Raises :class:`SurveyError` (a :class:`ModelError`) with every problem found.
    ``min_group`` overrides the suppression threshold of ``criteria/survey.yaml``;
    reading stops with an error after ``max_bytes``. ``councils`` names councils (the
    models' own) whose respondents are also summarised on their own, so that the gap
    checks of a model beside a pooled file use its council's answers only
    (:meth:`~.summary.SurveySummary.for_council`).
    """
    spec = spec or load_spec()
    tally = tally_survey(path, spec, max_bytes=max_bytes, councils=councils)
    return summarise(tally, spec, min_group=min_group)


def tally_survey(
    path: str | os.PathLike[str],
    spec: SurveySpec,
    *,
    max_bytes: int = MAX_SURVEY_BYTES,
    councils: Iterable[str] = (),
) -> Tally:
    """Stream the survey at ``path``, checking every cell and counting answers; reading
    more than ``max_bytes`` or a row longer than :data:`MAX_ROW_BYTES` is an error.
    The respondents of each of ``councils`` are also counted apart, in ``focus``."""
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
    for council in councils:
        tally.focus.setdefault(council, Tally(source=name))
    candidates: set[str] = set()
    stopped = False
    with handle, _field_limit(MAX_ROW_BYTES + 1):
        try:
            _Rows(spec, tally, problems, _Lines(handle, name, problems, max_bytes)).run(candidates)
        except _Stop:
            stopped = True
    if candidates and not stopped:
        with _field_limit(MAX_ROW_BYTES + 1):
            _report_duplicates(path, name, candidates, problems, max_bytes)
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
        self.unchecked = False
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
                    f"column '{_shown(column)}' appears twice in the header "
                    f"(also column {where[column] + 1})",
                )
            elif column not in known:
                hint = did_you_mean(column, known) if column else ""
                what = f"unknown column '{_shown(column)}'" if column else "a column has no name"
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
        count = self._counter(positions, self.tally)
        focused = {name: self._counter(positions, sub) for name, sub in self.tally.focus.items()}
        end = reader.line_num
        while True:
            self.lines.start_row()
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
                if focused and values["council"] in focused:
                    focused[values["council"]](values)
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
                if "" in parts:
                    ok = False
                    self.problems.add(
                        line,
                        index + 1,
                        f"{name} has an empty value between semicolons ('{_shown(value)}'): "
                        "remove the extra ';'",
                    )
                for part in dict.fromkeys(parts):
                    if part and part not in allowed:
                        ok = self._unknown(line, index, name, part, allowed)
                unique = list(dict.fromkeys(parts))
                if "nobody" in unique and len(unique) > 1:
                    ok = False
                    self.problems.add(
                        line, index + 1, f"{name}: 'nobody' cannot be combined with other helpers"
                    )
                # A tick-box export may repeat a value ("peer;peer"): it is counted once.
                values[name] = unique
                if len(unique) < len(parts):
                    values[("repeated", name)] = True  # type: ignore[index]
            elif not value:
                ok = False
                self.problems.add(line, index + 1, f"{name} is blank: every row needs one")
            elif kind == "date":
                year = self._date(value, line, index)
                ok = ok and year is not None
                values[name] = year
            elif kind == "id":
                ok = self._respondent(value, line, index, candidates) and ok
            elif len(value) > MAX_COUNCIL_LENGTH:
                ok = False
                self.problems.add(
                    line,
                    index + 1,
                    f"{name} is {len(value):,} characters long; a council's name "
                    f"has at most {MAX_COUNCIL_LENGTH}",
                )
            else:
                values[name] = value
        return values if ok else None

    def _unknown(
        self, line: int, index: int, name: str, value: str, allowed: frozenset[str]
    ) -> bool:
        choices = sorted(allowed)
        self.problems.add(
            line,
            index + 1,
            f"{name}: '{_shown(value)}' is not one of {', '.join(choices)}"
            f"{did_you_mean(value, choices)}",
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
            if len(candidates) < MAX_CANDIDATES or value in candidates:
                candidates.add(value)
            elif not self.unchecked:
                self.unchecked = True
                self.problems.add(
                    line,
                    index + 1,
                    f"from this row on, respondent ids are not checked for repeats: more "
                    f"than {MAX_CANDIDATES:,} may be used again; each respondent needs one "
                    "row with a unique id",
                )
        for b in bits:
            seen[b >> 3] |= 1 << (b & 7)
        return True

    def _counter(self, positions: list[int], tally: Tally):
        """The function that counts one checked row into ``tally`` (closure over the
        format).

        Combined indicators use complete cases: a respondent who left blank any answer
        an indicator combines is left out of it (counted as ``("out", indicator)``),
        whatever the other answers, so that blanks at random do not tilt the share. A
        part of the process or a life area that does not apply is no blank: it is
        left out of the mean or of the areas counted.
        """
        spec = self.spec
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

        several = [c.name for c in spec.columns if c.kind == "choices"]

        def count(v: dict[Any, Any]) -> None:
            tally.rows += 1
            cell = (v["group"], v["budget_option"])
            counts = cells.get(cell)
            if counts is None:
                counts = cells[cell] = defaultdict(int)
            counts[("n",)] += 1
            tally.count_council(v["council"])
            tally.years[v["survey_date"]] += 1
            for name in choice_cols:
                counts[(name, v[name])] += 1
            for name in several:
                for value in v[name] or (NOT_STATED,):
                    counts[(name, value)] += 1
                if ("repeated", name) in v:
                    tally.repeated[name] += 1
            derived, out = _derived(v, parts, areas, below, share_better, min_areas)
            for name, value in derived.items():
                if value is not None:
                    counts[("ind", name, value)] += 1
            for name in out:
                counts[("out", name)] += 1
            good = derived["good_outcome"]
            if good is None:
                return
            for factor, column, accepted in column_factors:
                value = v[column]
                if value and value != NOT_APPLICABLE:
                    counts[("or", factor, value in accepted, good)] += 1
            for factor in derived_factors:
                value = derived[factor]
                if value is not None:
                    counts[("or", factor, value, good)] += 1
            blocks = (derived["heard"], derived["simple"], derived["in_control"])
            if None not in blocks and v["budget_option"]:
                counts[("lr", *blocks, good)] += 1

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


def _derived(
    v: dict[Any, Any],
    parts: list[str],
    areas: list[str],
    below: float,
    share_better: float,
    min_areas: int,
) -> tuple[dict[str, bool | None], list[str]]:
    """The combined indicators of one respondent, by complete cases, and the ones the
    respondent is left out of because an answer they combine is blank.

    ``None`` is "left out": for a blank among the answers combined (named in the
    list returned), or because nothing applied (no part rated, no life area that
    applies), which is no blank.
    """
    out: list[str] = []

    def complete(name: str, *answers: str) -> bool:
        if all(answers):
            return True
        out.append(name)
        return False

    planning, budget = v["views_planning"], v["views_budget"]
    heard = None
    if complete("heard", planning, budget):
        heard = planning == "fully" and budget == "fully"
    ratings = [v[p] for p in parts]
    easy = None
    if complete("easy_overall", *ratings):
        scores = [EASE_SCORE[r] for r in ratings if r != NOT_APPLICABLE]
        easy = (sum(scores) / len(scores) < below) if scores else None
    knew = v["knew_amount"]
    simple = None
    if complete("simple", knew, *ratings) and easy is not None:
        simple = knew == "yes" and easy
    assistants, community = v["spend_personal_assistants"], v["spend_community_leisure"]
    spend = None
    if complete("spend_pa_or_community", assistants, community):
        spend = assistants == "yes" or community == "yes"
    helped = v["help_to_plan"]
    control = None
    if complete("in_control", helped, assistants, community):
        control = helped == "yes" and bool(spend)
    answers = [v[a] for a in areas]
    good = None
    if complete("good_outcome", *answers):
        applied = [a for a in answers if a != NOT_APPLICABLE]
        if applied and len(applied) >= min_areas:
            good = applied.count("better") >= share_better * len(applied)
    derived = {
        "heard": heard,
        "easy_overall": easy,
        "simple": simple,
        "spend_pa_or_community": spend,
        "in_control": control,
        "good_outcome": good,
    }
    return derived, out


def _report_duplicates(
    path, name: str, candidates: set[str], problems: _Problems, max_bytes: int
) -> None:
    """Second pass, only when the filter saw possible repeats: find the real ones,
    holding no more than the candidates (each with the line it was first on)."""
    first = dict.fromkeys(candidates, 0)
    with open(path, "rb") as handle:
        lines = _Lines(handle, name, _Problems(name), max_bytes)
        reader = csv.reader(lines)
        try:
            header = [h.strip() for h in next(reader)]
            index = header.index("respondent_id")
            end = reader.line_num
            while (row := _next_row(lines, reader)) is not None:
                start, end = end + 1, reader.line_num
                rid = row[index].strip() if len(row) > index else ""
                seen = first.get(rid)
                if seen == 0:
                    first[rid] = start
                elif seen is not None:
                    problems.add(
                        start,
                        index + 1,
                        f"respondent_id '{_shown(rid)}' is used again (first on line "
                        f"{seen}); each respondent needs one row with a unique id",
                    )
        except (_Stop, StopIteration, ValueError, csv.Error):
            pass  # the file changed (or was a pipe) since the first pass: what was read stands
    problems.kept.sort(key=lambda p: (p.line or 0, p.column or 0))


def _next_row(lines: _Lines, reader) -> list[str] | None:
    """The next row of ``reader``, its lines counted as one row."""
    lines.start_row()
    return next(reader, None)


def _shown(value: str) -> str:
    """A value as a message quotes it: at most 40 characters."""
    return value if len(value) <= 40 else value[:39] + "…"
