"""The workbook template's shape, and the values of its cells, both ways.

What a cell may hold and how it is read: numbers (``5``, ``2 weeks``, ``85%``), dates,
yes/no, several values in one cell, restrictions (``[law: REF] words``), links written
in one cell (``planning [plan sent back | 0.2 | rework]``); and how text is written so
that a spreadsheet never takes it for a formula. Pure functions: no files here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import Problem
from ..model import schema as S
from ..model.loader import did_you_mean
from ..vocab import ID_PATTERN

# --------------------------------------------------------------------------- the template

STEP_COLUMNS = (
    "id",
    "name",
    "kind",
    "team",
    "person",
    "days",
    "forms",
    "asks",
    "tells",
    "produces",
    "approves",
    "authority",
    "outcome",
    "restrictions",
    "note",
    "branches",
    "join",
    "source",
    "assumed",
)
"""The columns of the ``Steps`` sheet, in order (a CSV file adds ``next``)."""

LINK_COLUMNS = ("from", "to", "when", "share", "rework")
START_COLUMNS = ("to", "when", "share")
TEAM_COLUMNS = ("id", "name", "kind")
LEVEL_COLUMNS = ("id", "name", "limit")
SOURCE_COLUMNS = ("id", "title", "published", "url", "note")
WAIVER_COLUMNS = ("rule", "step", "reason")
ABOUT_COLUMNS = ("key", "value", "what it means")

ABOUT_KEYS: tuple[tuple[str, str], ...] = (
    ("council", "The council's name"),
    ("title", "What the process is, for example: Adult social care, first contact to support"),
    ("as_of", "The date the model describes (a date, or 2026-04-01)"),
    ("description", "Anything else worth saying about the model (optional)"),
    ("options", "Ways the council offers to manage a budget, separated by ';' (or: none)"),
    ("policies.allowed_uses", "What a direct payment may be spent on, separated by ';' (or: none)"),
    (
        "policies.restrictions",
        "Limits on how budgets may be used: one a line; [law: ACT] first for one set by law",
    ),
    (
        "policies.prepaid_card_default",
        "Are direct payments paid on a prepaid card by default? yes or no",
    ),
    (
        "policies.allocation_method_published",
        "Is the way budgets are worked out published? yes or no",
    ),
    ("policies.review.first_days", "Days from support starting to its first review"),
    ("policies.review.interval_days", "Days between reviews after that"),
    (
        "policies.dp_review.first_days",
        "Days to a direct payment's first review, if not with the plan's",
    ),
    (
        "policies.dp_review.interval_days",
        "Days between direct payment reviews, if not with the plan's",
    ),
    ("targets.max_handoffs", "The council's target: most hand-offs on a route (default 3)"),
    ("targets.max_approvals", "The council's target: most sign-offs on a route (default 1)"),
    ("targets.max_days_to_support", "The council's target: days to support (default 28)"),
    ("targets.max_forms", "The council's target: most forms on a route (default 2)"),
    (
        "assumed",
        "Which of the above are your own estimate: options, targets, authorities, actors, policies or policies.KEY",
    ),
)
"""The ``About`` sheet's keys, in order, with what each means."""

SHEETS = (
    "Steps",
    "Links",
    "Start",
    "Teams",
    "Sign-off levels",
    "About",
    "Sources",
    "Waivers",
    "Read me",
)
"""The template's sheets, in order (and a hidden ``Lists`` sheet for the drop-downs)."""

MAX_ROWS = 100_000
"""Rows read from one sheet (or a CSV file); a sheet with more is refused."""
MAX_COLUMNS = 64
"""Columns read from one sheet; those further right are not read."""
MAX_UNZIPPED = 200 * 1024 * 1024
"""A workbook whose parts unzip to more than this is refused before it is opened."""
MAX_RATIO = 100
"""A workbook part larger than :data:`RATIO_FLOOR` that unzips to more than this many
times its zipped size is refused (a zip bomb); real sheets compress 5 to 30 times."""
RATIO_FLOOR = 1024 * 1024
MAX_PARTS = 10_000
"""A workbook of more files than this is refused."""

DANGER = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""

NOT_GIVEN = "not given"
NO_TIME_KINDS = ("support", "end", "parallel")
"""Kinds that take no time of their own: a blank ``days`` cell is not an unknown time."""


def norm(text: str) -> str:
    """A header or key as compared: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


# --------------------------------------------------------------------------- places and problems


@dataclass(frozen=True)
class Place:
    """Where a value was read: ``FILE.xlsx:Steps!D7`` or ``FILE.csv`` row 7, column 4."""

    file: str
    line: int | None = None
    column: int | None = None

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, self.column, message)

    def short(self) -> str:
        """The place without the file: ``Links!B4``, or ``row 7, column 4``."""
        if self.line is not None:
            return f"row {self.line}, column {self.column}"
        return self.file.rsplit(":", 1)[-1]


def column_letter(column: int) -> str:
    """A spreadsheet column's letters: 1 -> A, 27 -> AA."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def valid_id(text: str) -> bool:
    """Whether ``text`` is an id as the format writes them."""
    return re.match(ID_PATTERN, text) is not None


class CellError(ValueError):
    """A value that cannot be read; the message says why and what to write."""


def sheet_ref(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_]+", name) else "'" + name.replace("'", "''") + "'"


@dataclass
class Table:
    """One sheet (or a CSV file): its rows of values, numbered as the user sees them."""

    path: str
    name: str
    rows: list[tuple[int, tuple[Any, ...]]]
    is_csv: bool = False

    def place(self, row: int, column: int) -> Place:
        if self.is_csv:
            return Place(self.path, row, column)
        return Place(f"{self.path}:{sheet_ref(self.name)}!{column_letter(column)}{row}")

    def whole(self) -> Place:
        return Place(self.path if self.is_csv else f"{self.path}:{sheet_ref(self.name)}")


@dataclass
class Row:
    """A data row: its non-empty cells by field, each with its column and its text."""

    table: Table
    number: int
    cells: dict[str, tuple[Any, int]]
    first_column: int = 1
    texts: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        texts = {key: cell_text(value) for key, (value, _) in self.cells.items()}
        self.texts = {key: text for key, text in texts.items() if text is not None}
        self.cells = {key: cell for key, cell in self.cells.items() if key in self.texts}

    def at(self, key: str) -> Place:
        column = self.cells[key][1] if key in self.cells else self.first_column
        return self.table.place(self.number, column)

    def value(self, key: str) -> Any:
        return self.cells[key][0] if key in self.cells else None

    def text(self, key: str) -> str | None:
        """The cell as text (:func:`cell_text`), ``None`` when empty."""
        return self.texts.get(key)

    def free(self, key: str) -> str | None:
        return free_text(self.value(key))


# --------------------------------------------------------------------------- cell values


def escape_cell(text: str, *, csv_file: bool) -> str:
    """Text as written into a spreadsheet, so that it can never be a formula.

    In a CSV file, text starting with ``= + - @``, a tab or a carriage return gets a
    leading apostrophe; in both formats, text that already starts with an apostrophe
    before one of those (or another apostrophe) gets one more, so :func:`unescape_cell`
    gives back exactly what was written."""
    if not text:
        return text
    if csv_file and text[0] in DANGER:
        return "'" + text
    if text[0] == "'" and len(text) > 1 and text[1] in (*DANGER, "'"):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """The text a cell holds, without the apostrophe :func:`escape_cell` added."""
    if len(text) > 1 and text[0] == "'" and text[1] in (*DANGER, "'"):
        return text[1:]
    return text


def cell_text(value: Any) -> str | None:
    """A cell's value as text (``None`` when empty): numbers as written, dates as
    ``2026-04-01``, true/false as ``yes``/``no``."""
    if value is None:
        return None
    if isinstance(value, str):
        text = unescape_cell(value.strip()) if value.strip() else ""
        return text or None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(num(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip() or None


def free_text(value: Any) -> str | None:
    """Free text (a note, a description) as written, line breaks and spaces kept."""
    if isinstance(value, str) and value.strip():
        return unescape_cell(value)
    return cell_text(value)


def num(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 1e15 else value


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(
    value: Any, what: str, *, minimum: float = 0, maximum: float, integer: bool = False
) -> int | float:
    """A number from a cell: a number cell, or text such as ``5``, ``2.5`` or ``1,200``."""
    if isinstance(value, bool):
        raise CellError(f"{what} should be a number, not '{cell_text(value)}'")
    if isinstance(value, int | float):
        number: float = value
    else:
        text = (cell_text(value) or "").replace(",", "").replace("£", "").strip()
        if not _NUMBER.match(text) or len(text) > 30:
            raise CellError(f"{what} should be a number, not '{short(cell_text(value))}'")
        number = float(Decimal(text))
    if number != number or number in (float("inf"), float("-inf")):
        raise CellError(f"{what} should be a number, not '{cell_text(value)}'")
    if integer and not float(number).is_integer():
        raise CellError(f"{what} should be a whole number, not {num(number)}")
    if number < minimum or number > maximum:
        raise CellError(f"{what} should be between {minimum:g} and {maximum:g}, not {num(number)}")
    return num(number)


_DURATION = re.compile(
    r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>days?|d|weeks?|wks?|w|working days?)?\.?$", re.I
)


def parse_days(value: Any) -> int | float | str | None:
    """A step's days: a number (``5``, ``5 days``, ``2 weeks``), ``unknown``, or ``None``
    for ``not given``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_number(value, "days", maximum=S.MAX_DAYS)
    text = cell_text(value) or ""
    if norm(text) == "unknown":
        return "unknown"
    if norm(text) in ("notgiven", "none given"):
        return None
    match = _DURATION.match(text)
    if match:
        n = Decimal(match.group("n"))
        unit = (match.group("unit") or "d").lower()
        days = n * 7 if unit.startswith("w") else n
        return parse_number(str(days), "days", maximum=S.MAX_DAYS)
    raise CellError(
        f"days should be a number of days (5, 2.5, '2 weeks'), 'unknown' or "
        f"'{NOT_GIVEN}', not '{short(text)}'"
    )


def parse_share(value: Any) -> float:
    """A share: a proportion (``0.85``) or a percentage (``85%``, or a cell formatted as one)."""
    text = cell_text(value) or ""
    if isinstance(value, str) and text.endswith("%"):
        number = parse_number(text[:-1], "a share given as a percentage", maximum=100)
        return float(Decimal(str(number)) / 100)
    try:
        return float(parse_number(value, "a share", maximum=1))
    except CellError:
        if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 100:
            raise CellError(
                f"a share is a proportion between 0 and 1, not {num(value)} (did you mean "
                f"'{num(value)}%'?)"
            ) from None
        raise CellError(
            f"a share should be a proportion between 0 and 1 (0.85) or a percentage (85%), "
            f"not '{short(text)}'"
        ) from None


_YES = ("yes", "y", "true", "t", "1", "x", "✓", "✔")
_NO = ("no", "n", "false", "f", "0")


def parse_flag(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = (cell_text(value) or "").lower()
    if text in _YES:
        return True
    if text in _NO or not text:
        return False
    raise CellError(f"{what} should be yes or no, not '{short(text)}'")


def parse_date(value: Any, what: str) -> dt.date:
    """A date cell, or text as ``2026-04-01`` or ``01/04/2026`` (day first)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value) or ""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError(f"{what} should be a date such as 2026-04-01, not '{short(text)}'")


def split_values(text: str) -> list[str]:
    """A cell of several values: split on ``;`` and line breaks when it has any, else
    on ``,``; blanks and repeats dropped."""
    parts = re.split(r"[;\n]", text) if re.search(r"[;\n]", text) else text.split(",")
    out: list[str] = []
    for part in parts:
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def join_values(values: Sequence[str]) -> str:
    """The values written into one cell so that :func:`split_values` gives them back."""
    text = "; ".join(values)
    return text + ";" if len(values) == 1 and "," in text else text


def word_of(text: str) -> str:
    """A vocabulary word as typed (``Eligibility decision``) as the format spells it."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def parse_word(
    text: str | None, words: Sequence[str], what: str, aliases: Mapping[str, str] | None = None
) -> str:
    """One word of a closed vocabulary, as typed (``Eligibility decision``)."""
    text = text or ""
    word = word_of(text)
    word = (aliases or {}).get(word, word)
    if word in words:
        return word
    raise CellError(
        f"'{short(text)}' is not {what}{did_you_mean(word, words)}; use one of: {', '.join(words)}"
    )


def parse_words(text: str | None, words: Sequence[str], what: str) -> list[str]:
    """Several words of a closed vocabulary in one cell."""
    out: list[str] = []
    bad: list[str] = []
    for value in split_values(text or ""):
        try:
            word = parse_word(value, words, what)
        except CellError:
            bad.append(value)
            continue
        if word not in out:
            out.append(word)
    if bad:
        hints = "".join(did_you_mean(word_of(b), words) for b in bad[:1])
        raise CellError(
            f"{', '.join(repr(short(b)) for b in bad)} "
            f"{'is' if len(bad) == 1 else 'are'} not {what}{hints}; use any of: {', '.join(words)}"
        )
    return out


_RESTRICTION = re.compile(r"^\[\s*(law|council)\s*(?::\s*([^\]]*?))?\s*\]\s*(.*)$", re.I | re.S)


def parse_restrictions(text: str) -> list[Any]:
    """Restrictions, one a line: plain words (set by the council), or ``[law: REF] words``
    for a limit the law sets (``[council: REF]`` for the council's with a reference)."""
    out: list[Any] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        match = _RESTRICTION.match(line)
        if not match:
            out.append(line)
            continue
        basis, ref, words = match.group(1).lower(), match.group(2), match.group(3).strip()
        if not words:
            raise CellError(f"the restriction '{short(line)}' has no words after its '[{basis}]'")
        if basis == "council" and not ref:
            out.append(words)
        else:
            out.append({"text": words, "basis": basis, **({"ref": ref} if ref else {})})
    return out


def restriction_text(value: Any) -> str:
    """One restriction as a line of a cell (the reverse of :func:`parse_restrictions`)."""
    if isinstance(value, str):
        return "[council] " + value if _RESTRICTION.match(value) else value
    ref = f": {value['ref']}" if value.get("ref") else ""
    return f"[{value.get('basis', 'council')}{ref}] {value['text']}"


def short(text: Any, limit: int = 40) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slug(text: str, prefix: str) -> str:
    """An id made from a name: ``Needs assessment`` -> ``needs_assessment``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40].strip("_")
    if not out:
        return prefix
    return out if out[0].isalpha() else f"{prefix}_{out}"


def unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


# --------------------------------------------------------------------------- links in one cell


def split_top(text: str, separators: str) -> list[str]:
    """``text`` split on ``separators`` outside square brackets (``\\`` escapes)."""
    parts, current, depth, i = [], [], 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        if ch in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


_LINK_ITEM = re.compile(r"^(?P<to>(?:[^\[\\]|\\.)+?)\s*(?:\[(?P<details>.*)\])?$", re.S)


@dataclass(frozen=True)
class LinkText:
    """One link as written in a ``next`` cell: ``planning [plan sent back | 0.2 | rework]``."""

    to: str
    when: str | None = None
    share: float | None = None
    rework: bool = False


_SHARE_TEXT = re.compile(r"\s*(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*%?\s*")
"""A detail of a link that is a share: a number (``0.85``) or a percentage (``85%``)."""


def parse_link(item: str) -> LinkText:
    """One item of a ``next`` cell: a step, then optionally ``[when | share | rework]``
    (``when:`` and ``share:`` may be written before a value to say which it is)."""
    match = _LINK_ITEM.match(item)
    if not match:
        raise CellError(f"'{short(item)}' is not a step, or a step then [when | share | rework]")
    to = _unescape(match.group("to")).strip()
    details = match.group("details")
    if details is None:
        return LinkText(to)
    when: str | None = None
    share: float | None = None
    rework = False
    for part in _split_bar(details):
        lowered = part.strip().lower()
        if lowered.startswith("when:"):
            when = _unescape(part.strip()[5:].strip())
        elif lowered.startswith("share:"):
            share = parse_share(_unescape(part.strip()[6:].strip()))
        elif lowered == "rework":
            rework = True
        elif _SHARE_TEXT.fullmatch(part):
            share = parse_share(part.replace(" ", ""))
        elif part.strip():
            when = _unescape(part.strip())
    return LinkText(to, when, share, rework)


def _split_bar(details: str) -> list[str]:
    parts, current, i = [], [], 0
    while i < len(details):
        if details[i] == "\\" and i + 1 < len(details):
            current.append(details[i : i + 2])
            i += 2
            continue
        if details[i] == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(details[i])
        i += 1
    parts.append("".join(current))
    return parts


def _escape_when(text: str) -> str:
    """A ``when`` as written in a ``next`` cell, so that :func:`parse_link` reads it back
    (as every cell, without spaces at either end)."""
    escaped = re.sub(r"([\\|\[\];\n])", r"\\\1", text)
    special = (
        text.strip().lower() == "rework"
        or _SHARE_TEXT.fullmatch(text) is not None
        or re.match(r"\s*(when|share):", text, re.I) is not None
    )
    return "when: " + escaped if special else escaped


def link_text(transition: Any) -> str:
    """One transition of plain model data as an item of a ``next`` cell."""
    if isinstance(transition, str):
        return transition
    parts = []
    if transition.get("when") is not None:
        parts.append(_escape_when(transition["when"]))
    if transition.get("share") is not None:
        parts.append(repr(float(transition["share"])))
    if transition.get("rework"):
        parts.append("rework")
    return transition["to"] + (" [" + " | ".join(parts) + "]" if parts else "")
