"""What the parts of a drawing say: data properties (by their names without case, spaces or
punctuation), times and percentages in labels, what shapes and words mean (the kinds of
steps and teams guessed from them), and what a connector says (its condition, share and
whether it is rework). The BPMN reader guesses kinds with the same words."""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .drawio_file import Cell, Problems, norm, short

# ----------------------------------------------------------------------------- data properties


STEP_PROPERTIES = {
    "sdsauditid": "id",
    "stepid": "id",
    "kind": "kind",
    "type": "kind",
    "steptype": "kind",
    "actor": "actor",
    "team": "actor",
    "person": "person",
    "days": "days",
    "duration": "days",
    "durationdays": "days",
    "time": "days",
    "timedays": "days",
    "forms": "forms",
    "asks": "asks",
    "tells": "tells",
    "produces": "produces",
    "approves": "approves",
    "authority": "authority",
    "restrictions": "restrictions",
    "outcome": "outcome",
    "note": "note",
    "notes": "note",
    "source": "source",
    "sources": "source",
    "assumed": "assumed",
    "join": "join",
}
"""A step's data properties (names compared without case, spaces or punctuation)."""

EDGE_PROPERTIES = {"when": "when", "condition": "when", "share": "share", "rework": "rework"}
"""A connector's data properties."""

LANE_PROPERTIES = {
    "sdsauditid": "id",
    "actorid": "id",
    "teamid": "id",
    "kind": "kind",
    "type": "kind",
}
"""A lane's data properties."""

PAGE_PROPERTIES = {
    "sdsaudit": "sdsaudit",
    "council": "council",
    "title": "title",
    "asof": "as_of",
    "description": "description",
    "sources": "sources",
    "assumed": "assumed",
    "authorities": "authorities",
    "signofflevels": "authorities",
    "options": "options",
    "policies": "policies",
    "targets": "targets",
    "waivers": "waivers",
}
"""The page's own data properties (the root cell's): the model's top-level keys."""


def properties(
    cell: Cell, table: Mapping[str, str], problems: Problems, what: str
) -> dict[str, str]:
    """A cell's data properties that ``table`` knows, by their key in the format. A name
    close to a known one is an error (a typo would otherwise be lost); others are left
    alone (a drawing may carry its own data)."""
    out: dict[str, str] = {}
    given: dict[str, str] = {}
    for name, value in cell.data.items():
        key = table.get(norm(name))
        if key is None:
            close = difflib.get_close_matches(norm(name), list(table), n=1, cutoff=0.75)
            if close and len(norm(name)) > 3:
                problems.at(
                    cell.id,
                    f"{what} has the data property '{short(name)}', which sdsaudit does not "
                    f"know (did you mean '{table[close[0]]}'?)",
                )
            continue
        if key in out:
            problems.at(
                cell.id,
                f"{what} has two data properties for '{key}' ('{given[key]}' and "
                f"'{short(name)}'): keep one",
            )
            continue
        out[key], given[key] = value, short(name)
    return out


MAX_JSON_DEPTH = 8
"""How deeply a JSON data property may nest (the model's deepest key needs 4)."""


def load_json(text: str) -> Any:
    """JSON from a data property: plain values only (no NaN or Infinity), nested at most
    :data:`MAX_JSON_DEPTH` deep."""

    def refuse(word: str) -> Any:
        raise ValueError(f"{word} is not a number sdsaudit accepts")

    try:
        loaded = json.loads(text, parse_constant=refuse)
    except RecursionError:
        raise ValueError("it is nested far too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"it is not JSON: {exc.msg} at character {exc.pos + 1}") from None
    if _depth(loaded) > MAX_JSON_DEPTH:
        raise ValueError("it is nested too deeply")
    return loaded


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            stack.extend(
                (v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


def words(value: str) -> list[str]:
    """A list property: a JSON list (``["a", "b"]``), or words separated by commas or lines."""
    text = value.strip()
    if text.startswith("["):
        loaded = load_json(text)
        if not isinstance(loaded, list) or not all(isinstance(v, str) for v in loaded):
            raise ValueError("a list of words in [ ] must hold only quoted words")
        return loaded
    return [w.strip() for w in re.split(r"[,\n]", text) if w.strip()]


def parse_number(value: str) -> int | float:
    number = float(value.strip())
    if not math.isfinite(number) or number < 0:
        raise ValueError("not a number of 0 or more")
    return int(number) if number.is_integer() and "." not in value else number


def parse_share(value: str) -> float:
    """A share: ``0.85`` or ``85%``."""
    text = value.strip()
    share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not math.isfinite(share) or not 0 <= share <= 1:
        raise ValueError("a share is between 0 and 1 (or 0% and 100%)")
    return share


_TRUE, _FALSE = ("true", "yes", "1", "y"), ("false", "no", "0", "n", "")


def parse_flag(value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("write true or false")


def parse_json(value: str, kind: type) -> Any:
    loaded = load_json(value)
    if not isinstance(loaded, kind):
        raise ValueError(f"it should be a JSON {'list' if kind is list else 'object'}")
    return loaded


def parse_restrictions(value: str) -> list[Any]:
    text = value.strip()
    if text.startswith("["):
        return list(parse_json(text, list))
    return [line.strip() for line in text.split("\n") if line.strip()]


# ----------------------------------------------------------------------------- words in labels

_PERCENT = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s*%")
_TIME = re.compile(
    r"\(?\s*(?<![\w.])(\d+(?:\.\d+)?)(?:\s*(?:-|\u2013|to)\s*(\d+(?:\.\d+)?))?\s*"
    r"(working\s+days?|days?|weeks?|wks?)\b\s*\)?",
    re.IGNORECASE,
)


def _tidy(text: str) -> str:
    text = re.sub(r"\(\s*\)|\[\s*\]", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" ,;:-\u2013\u2014/|").strip()


def split_percentage(label: str) -> tuple[str, float | None, int]:
    """A connector label's words and its share: ``"Yes 85%"`` -> ``("Yes", 0.85, 1)``; the
    last item counts the percentages found (more than one is an error)."""
    found = list(_PERCENT.finditer(label))
    if not found:
        return label, None, 0
    share = float(found[0].group(1)) / 100
    return _tidy(_PERCENT.sub(" ", label)), share, len(found)


def split_days(label: str) -> tuple[str, float | None, str | None]:
    """A step label's name and the time in it: ``"Panel (14 days)"`` -> ``("Panel", 14,
    None)``; the last item explains a conversion (weeks, working days, a range)."""
    match = _TIME.search(label)
    if match is None:
        return label, None, None
    low = float(match.group(1))
    high = float(match.group(2)) if match.group(2) else low
    unit = match.group(3).lower()
    days = (low + high) / 2
    notes = []
    if match.group(2):
        notes.append(f"the drawing says {match.group(1)} to {match.group(2)}: taken as the middle")
    if unit.startswith("w") and not unit.startswith("working"):
        days *= 7
        notes.append("weeks counted as 7 days")
    elif unit.startswith("working"):
        days = round(days * 7 / 5, 1)
        notes.append("working days counted as 7 calendar days to every 5")
    name = _tidy(label[: match.start()] + " " + label[match.end() :])
    return name or label, days, "; ".join(notes) or None


_SENT_BACK = ("sent back", "send back", "rework", "returned", "redo", "re-do", "go back")


# ----------------------------------------------------------------------------- what shapes mean

IGNORED_SHAPES = ("text", "edgeLabel", "note", "callout", "image", "line")
_ELLIPSES = (
    "ellipse",
    "doubleEllipse",
    "mxgraph.flowchart.start_1",
    "mxgraph.flowchart.start_2",
    "mxgraph.flowchart.terminator",
    "mxgraph.bpmn.event",
)
_DIAMONDS = ("rhombus", "mxgraph.flowchart.decision", "mxgraph.bpmn.gateway2")
START_WORDS = ("start", "begin", "start here", "begin here")


def is_ellipse(cell: Cell) -> bool:
    return cell.has(*_ELLIPSES) or (
        cell.shape == "mxgraph.bpmn.shape" and cell.style.get("outline") in ("standard", "end")
    )


def is_diamond(cell: Cell) -> bool:
    return cell.has(*_DIAMONDS) or cell.style.get("background") == "gateway"


def is_parallel_shape(cell: Cell) -> bool:
    """The BPMN parallel gateway (either diagrams.net shape), or a diamond labelled "+"."""
    return (
        cell.style.get("gwType") == "parallel"
        or cell.style.get("symbol") == "parallelGw"
        or (is_diamond(cell) and (cell.label == "+" or cell.label.startswith("+ ")))
    )


ACTOR_WORDS = (
    ("carer", ("carer",)),
    ("person", ("person", "family", "service user", "customer", "resident", "citizen")),
    ("finance", ("finance", "financial", "charging", "payments")),
    ("panel", ("panel",)),
    ("health", ("health", "nhs", "gp ", "hospital", "clinical")),
    ("provider", ("provider",)),
    ("voluntary", ("voluntary", "charity", "third sector", "community group")),
)
"""Words in a lane's name that say its kind, checked in this order."""


def guess_actor_kind(name: str) -> str | None:
    text = f" {name.lower()} "
    for kind, keys in ACTOR_WORDS:
        if any(k in text for k in keys):
            return kind
    return None


STEP_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("support", ("support in place", "services start", "service starts", "support starts")),
    ("support", ("support begins", "care starts", "care begins")),
    ("approval", ("panel", "sign off", "sign-off", "signoff", "signs off", "approv", "authoris")),
    ("approval", ("authoriz", "agree funding", "funding agreed")),
    ("financial_assessment", ("financial assessment", "means test", "financial check")),
    ("financial_assessment", ("charging assessment", "fairer charging", "contribution")),
    ("eligibility", ("eligib",)),
    ("review", ("review",)),
    ("assessment", ("assess",)),
    ("advocacy", ("advoca",)),
    ("allocation", ("indicative budget", "personal budget", "allocation", "resource alloc")),
    ("planning", ("plan",)),
    ("arranging", ("arrang", "commission", "set up", "broker", "put in place")),
    ("contact", ("contact", "referral", "enquiry", "front door", "first call", "request")),
    ("information", ("information", "advice", "leaflet", "letter")),
    ("wait", ("wait", "queue", "allocated to a worker")),
)
"""Words in a step's name that say its kind, checked in this order (first match wins)."""

END_WORDS = (
    ("not_eligible", ("not eligible", "ineligible")),
    ("signposted", ("signpost",)),
    ("withdrew", ("withdr",)),
    ("declined", ("declin",)),
)
"""Words in an end's name that say its outcome."""

_END_NAMES = ("end", "stop", "finish", "closed", "case closed", "exit")


def guess_outcome(name: str) -> str | None:
    text = name.lower()
    for outcome, keys in END_WORDS:
        if any(k in text for k in keys):
            return outcome
    return None


def _word_at(text: str, key: str) -> int:
    """Where ``key`` starts a word of ``text`` (lower case), or -1: "plan" is in "planning",
    not in "explain"."""
    found = re.search(r"(?<![a-z0-9])" + re.escape(key), text)
    return found.start() if found else -1


def _words_found(name: str, key: str) -> str:
    """How a guess names its evidence: the whole words of ``name`` that hold ``key``
    (``the word 'arranged'`` for the key ``arrang``)."""
    start = _word_at(name.lower(), key)
    end = start + len(key)
    while start > 0 and name[start - 1].isalnum():
        start -= 1
    while end < len(name) and name[end].isalnum():
        end += 1
    found = name[start:end].strip()
    return f"the word{'s' if ' ' in found else ''} '{found}'"


@dataclass(frozen=True)
class Guess:
    """A kind guessed for a step, and what it was guessed from."""

    kind: str
    reason: str


def guess_step_kind(cell: Cell, name: str, outgoing: int) -> Guess:
    """A step's kind from its shape and words (only when no data property gives it)."""
    text = name.lower()
    if is_diamond(cell):
        if "eligib" in text:
            return Guess("eligibility", "its diamond shape and the word 'eligible'")
        return Guess("decision", "its diamond shape")
    if outgoing == 0 and (
        guess_outcome(name) or text in _END_NAMES or (is_ellipse(cell) and "support" not in text)
    ):
        return Guess("end", "its place at the end of the process")
    for kind, keys in STEP_WORDS:
        for key in keys:
            if _word_at(text, key) >= 0:
                return Guess(kind, _words_found(name, key))
    if outgoing == 0:
        return Guess("end", "its place at the end of the process")
    if outgoing > 1:
        return Guess("decision", "the several arrows leaving it")
    return Guess("information", "nothing: no word in its name says what kind of step it is")


# ----------------------------------------------------------------------------- what a connector says


@dataclass(frozen=True)
class Meaning:
    """What a connector says: its condition, its share, whether it is rework, and what
    could not be read (plain-English reasons)."""

    when: str | None
    share: float | None
    rework: bool
    errors: tuple[str, ...] = ()


def edge_meaning(label: str, dashed: bool, props: Mapping[str, str]) -> Meaning:
    """A connector's meaning from its data properties (``when``, ``share``, ``rework``;
    an empty value means none), else from its label and line: a percentage in the label is
    the share and the rest the condition; a dashed line, or words such as "sent back", mark
    rework."""
    errors: list[str] = []
    words_left, share, count = split_percentage(label)
    if "share" in props:
        share = None
        if props["share"].strip():
            try:
                share = parse_share(props["share"])
            except ValueError as exc:
                errors.append(f"'share' of the arrow is '{short(props['share'])}': {exc}")
    else:
        if count > 1:
            errors.append(
                f"the arrow's label '{short(label)}' has {count} percentages: keep one, "
                "the share of cases that go this way"
            )
            share = None
        if share is not None and share > 1:
            errors.append(f"the arrow's label '{short(label)}' gives a share over 100%")
            share = None
    when: str | None = props["when"] if "when" in props else words_left
    if when is not None and not when.strip():
        when = None
    rework = dashed or any(w in label.lower() for w in _SENT_BACK)
    if "rework" in props:
        try:
            rework = parse_flag(props["rework"])
        except ValueError as exc:
            errors.append(f"'rework' of the arrow is '{short(props['rework'])}': {exc}")
    return Meaning(when, share, rework, tuple(errors))
