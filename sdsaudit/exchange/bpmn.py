"""BPMN 2.0 XML, both ways: a process drawn in Camunda Modeler, bpmn.io, Signavio or ARIS
read as a model, and a model written as a BPMN file those tools open with its shapes in
place.

Reading (:func:`read`, the work done in :mod:`.bpmn_read`) takes one pool's process:

* tasks (any kind, a call activity or a collapsed or expanded sub-process too) become
  steps, their lanes teams; a step's kind comes from an ``sdsaudit:step`` element, or is
  guessed from its name with the same words as the diagrams.net reader;
* exclusive, inclusive and event-based gateways that choose become ``decision`` steps,
  with each flow's name (or condition) as ``when``; a gateway that only merges is
  dissolved into the arrows through it;
* a parallel gateway and the parallel gateway where its branches meet again become a
  ``parallel`` step and its join; one whose branches never meet is read as a choice;
* start events are where cases begin (several: one group of people each), end events
  ``end`` steps (``support`` when their name says support starts), timer events ``wait``
  steps with the days of their duration (``P14D``);
* what BPMN cannot say (how the person takes part, days, forms, what they are told ...)
  travels in ``sdsaudit`` extension elements, so a file :func:`write` made reads back as
  the same model. What a file without them cannot say is guessed, marked ``assumed`` and
  listed in the draft's ``to_fill``.

The XML is read through defusedxml with document type declarations refused, so no entity
is expanded and nothing outside the file is read; every element's line and column is
noted so that each problem names its place. docs/import.md ("BPMN") has every rule.

Writing (:func:`write`, in :mod:`.bpmn_write`) lays the process out with graphviz's
``dot`` (run by :mod:`sdsaudit.render.draw`, under its time limit; a plain layered layout
when ``dot`` is missing or the model too big) and writes the diagram interchange, so every
shape and arrow appears where the layout puts it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
import xml.etree.ElementTree as ET  # building trees only: parsing is defusedxml's
from dataclasses import dataclass
from typing import Any

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from ..errors import ModelError, Problem, UsageError
from ..model.objects import Model
from ..vocab import ID_PATTERN
from .data import Draft
from .drawio_words import STEP_WORDS, guess_actor_kind, guess_outcome

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SDSAUDIT = "https://sdsaudit.invalid/bpmn/1"
"""The namespace of sdsaudit's extension elements (docs/import.md, "BPMN")."""

for _prefix, _uri in (
    ("bpmn", BPMN),
    ("bpmndi", BPMNDI),
    ("dc", DC),
    ("di", DI),
    ("xsi", XSI),
    ("sdsaudit", SDSAUDIT),
):
    ET.register_namespace(_prefix, _uri)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_ELEMENTS = 200_000
"""A BPMN file with more XML elements than this is refused while it is read."""
MAX_DEPTH = 200
"""Elements nested deeper than this are refused (no real BPMN file comes near)."""

TASKS = (
    "task",
    "userTask",
    "serviceTask",
    "manualTask",
    "sendTask",
    "receiveTask",
    "scriptTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "adHocSubProcess",
)
"""BPMN activities: each is one step (a sub-process too, its inside unread)."""
GATEWAYS = (
    "exclusiveGateway",
    "inclusiveGateway",
    "parallelGateway",
    "eventBasedGateway",
    "complexGateway",
)
EVENTS = (
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
)
FLOW_NODES = TASKS + GATEWAYS + EVENTS

ID_RE = re.compile(ID_PATTERN)
_INT = re.compile(r"^[-+]?\d+$")
_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHARE_AT_END = re.compile(r"^(?P<when>.*?)[\s(:,-]*(?P<pct>\d+(?:\.\d+)?)\s*%\)?\s*$", re.S)
"""A percentage at the end of a name: ``Yes 85%``, ``eligible (85%)``."""
_DURATION = re.compile(
    r"^P(?!$)(?:(?P<Y>\d+(?:[.,]\d+)?)Y)?(?:(?P<M>\d+(?:[.,]\d+)?)M)?(?:(?P<W>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<D>\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(?P<h>\d+(?:[.,]\d+)?)H)?(?:(?P<m>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?$"
)
_DAYS_IN = {"Y": 365.0, "M": 30.0, "W": 7.0, "D": 1.0, "h": 1 / 24, "m": 1 / 1440, "s": 1 / 86400}


def read(path: str, *, page: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Draft:
    """Read a BPMN 2.0 file into a draft model. ``page`` is not used: one pool is read
    (docs/import.md says which). Raises :class:`~sdsaudit.errors.ModelError` naming
    every problem with its line and column."""
    from .bpmn_read import draft_from

    return draft_from(parse_xml(read_bytes(path, max_bytes), path))


def write(model: Model, *, fmt: str = "bpmn") -> bytes:
    """``model`` as a BPMN 2.0 file with its diagram: one pool, a lane for each team,
    every step's sdsaudit values in extension elements (docs/import.md, "BPMN")."""
    from .bpmn_write import bpmn_bytes

    return bpmn_bytes(model)


# ============================================================================ names and tags


def bpmn_tag(name: str) -> str:
    """``{BPMN namespace}name``."""
    return f"{{{BPMN}}}{name}"


def sds_tag(name: str) -> str:
    """``{sdsaudit namespace}name``."""
    return f"{{{SDSAUDIT}}}{name}"


def local_name(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace_of(tag: Any) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def extension(element: ET.Element, name: str) -> ET.Element | None:
    """The ``sdsaudit:NAME`` element in ``element``'s extensionElements, if any."""
    holder = element.find(bpmn_tag("extensionElements"))
    return None if holder is None else holder.find(sds_tag(name))


# ============================================================================ words


def _word_at(text: str, key: str) -> int:
    """Where ``key`` starts a word of ``text`` (lower case), or -1: "plan" is in "planning",
    not in "explain"."""
    found = re.search(r"(?<![a-z0-9])" + re.escape(key), text)
    return found.start() if found else -1


def _evidence(name: str, start: int, key: str) -> str:
    """The whole words of ``name`` that hold ``key`` at ``start``: ``arranged`` for
    ``arrang``."""
    end = start + len(key)
    while start > 0 and name[start - 1].isalnum():
        start -= 1
    while end < len(name) and name[end].isalnum():
        end += 1
    return name[start:end].strip()


def kind_from_words(name: str) -> tuple[str, str] | None:
    """A step's kind from its name (``panel`` -> approval ...) by the diagrams.net
    reader's words, with the words that said so; ``None`` when none does."""
    text = name.lower()
    for kind, keys in STEP_WORDS:
        for key in keys:
            start = _word_at(text, key)
            if start >= 0:
                return kind, _evidence(name, start, key)
    return None


def outcome_from_words(name: str) -> str | None:
    """How a case ends, from an end's name (``not eligible`` -> not_eligible ...)."""
    return guess_outcome(name)


def team_kind(name: str) -> str | None:
    """A team's kind from its name (``Funding panel`` -> panel), or ``None``."""
    return guess_actor_kind(name)


_PERSON_SIDE = re.compile(
    r"\b(?:person|people|customers?|citizens?|applicants?|residents?|clients?|service users?"
    r"|famil(?:y|ies)|carers?|patients?)\b"
)


def is_person_side(name: str) -> bool:
    """Whether a pool's name says it is the person or their family (a customer, resident,
    carer ...): whole words only, so "Personal" is not a person."""
    return _PERSON_SIDE.search(name.lower()) is not None


def clean(text: str | None) -> str:
    """Text with its runs of white space made single spaces."""
    return " ".join((text or "").split())


def slug(text: str, fallback: str = "step") -> str:
    """An id from plain words: ``Scan QR code`` -> ``scan_qr_code`` (letters, digits and
    ``_``, starting with a letter, at most 40 characters)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if len(words) > 40:
        words = words[:40].rsplit("_", 1)[0] or words[:40]
    if not words:
        return fallback
    return words if words[0].isalpha() else f"{fallback}_{words}"


def unique(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3`` ... whichever is not yet taken (then taken)."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


# ============================================================================ values


def number_text(value: float) -> str:
    """A number as an attribute holds it, exactly: ``14``, ``0.85``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def value_of(text: str) -> Any:
    """An attribute's text as the number it spells, else the text (the loader then says
    what is wrong with it)."""
    stripped = text.strip()
    if _INT.match(stripped):
        return int(stripped)
    if _FLOAT.match(stripped):
        return float(stripped)
    return text


def flag_of(text: str) -> Any:
    return {"true": True, "false": False}.get(text.strip(), text)


def date_of(text: str) -> Any:
    if _DATE.match(text.strip()):
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            return text
    return text


def duration_days(text: str) -> float | None:
    """Days in an ISO 8601 duration (``P14D``, ``P2W``, ``PT36H``, ``P1M`` as 30 days);
    ``None`` when ``text`` is not one (an expression, a date, a cycle)."""
    found = _DURATION.match(text.strip())
    if not found:
        return None
    total = 0.0
    for unit, days in _DAYS_IN.items():
        part = found.group(unit)
        if part:
            total += float(part.replace(",", ".")) * days
    return round(total, 6)


def duration_text(days: float) -> str:
    """Days as an ISO 8601 duration: ``P14D``, ``P0.5D``."""
    return f"P{number_text(days)}D"


def share_text(share: float) -> str:
    return f"{share * 100:.4g}%"


def split_share(name: str) -> tuple[str, float | None]:
    """``Yes 85%`` -> ``("Yes", 0.85)``; a name with no percentage at its end is kept."""
    found = SHARE_AT_END.match(name)
    if not found:
        return name, None
    pct = float(found.group("pct"))
    if pct > 100:
        return name, None
    return found.group("when").strip(), pct / 100


# ============================================================================ reading XML


class _Refused(Exception):
    """The file is refused while it is read (too many or too deep elements)."""


class _Builder:
    """ElementTree's tree builder, noting the line and column where each element starts
    (read from the expat parser defusedxml runs)."""

    def __init__(self) -> None:
        self._tree = ET.TreeBuilder()
        self.where: dict[int, tuple[int, int]] = {}
        self.expat: Any = None
        self._count = 0
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self._count += 1
        self._depth += 1
        if self._count > MAX_ELEMENTS:
            raise _Refused(
                f"the file has more than {MAX_ELEMENTS:,} XML elements, far more than any "
                "process map: it is refused unread"
            )
        if self._depth > MAX_DEPTH:
            raise _Refused(
                f"elements are nested more than {MAX_DEPTH} deep, which no BPMN file needs: "
                "it is refused unread"
            )
        element = self._tree.start(tag, attrs)
        self.where[id(element)] = (
            int(self.expat.CurrentLineNumber),
            int(self.expat.CurrentColumnNumber) + 1,
        )
        return element

    def end(self, tag: str) -> ET.Element:
        self._depth -= 1
        return self._tree.end(tag)

    def data(self, text: str) -> None:
        self._tree.data(text)

    def close(self) -> ET.Element:
        return self._tree.close()


@dataclass
class XmlFile:
    """A parsed file: its root, and where each element starts (line, column)."""

    path: str
    root: ET.Element
    where: dict[int, tuple[int, int]]

    def pos(self, element: ET.Element | None) -> tuple[int | None, int | None]:
        if element is None:
            return None, None
        return self.where.get(id(element), (None, None))


def read_bytes(path: str, max_bytes: int) -> bytes:
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise ModelError([_too_big(path, size, max_bytes)])
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UsageError(f"cannot read '{path}': {exc.strerror or exc}", file=path) from None
    if len(data) > max_bytes:
        raise ModelError([_too_big(path, len(data), max_bytes)])
    return data


def _too_big(path: str, size: int, limit: int) -> Problem:
    return Problem(
        path,
        None,
        None,
        f"the file is {size:,} bytes, more than the {limit:,} bytes sdsaudit reads; if it "
        "really is a process map that big, raise the limit with --max-bytes",
    )


def parse_xml(data: bytes, path: str) -> XmlFile:
    """Parse ``data`` through defusedxml (no DTD, no entities, nothing external),
    noting each element's position; raises :class:`ModelError` with the place."""
    builder = _Builder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    expat = parser.parser
    builder.expat = expat

    def refuse(message: str, line: int | None = None, column: int | None = None) -> ModelError:
        if line is None:
            line, column = int(expat.CurrentLineNumber), int(expat.CurrentColumnNumber) + 1
        return ModelError([Problem(path, line, column, message)])

    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        detail = str(exc).split(":", 1)[0]
        raise refuse(
            _xml_error(detail, data), line, None if column is None else column + 1
        ) from None
    except DTDForbidden:
        line, column = _place_of(data, b"<!DOCTYPE")
        raise refuse(
            "the file has a document type declaration (<!DOCTYPE ...>), which a BPMN file "
            "never needs: sdsaudit refuses it, because its entities could expand into a huge "
            "file or read other files. Remove the <!DOCTYPE ...> part",
            line,
            column,
        ) from None
    except (EntitiesForbidden, ExternalReferenceForbidden):
        raise refuse(
            "the file declares or uses an entity, which a BPMN file never needs: sdsaudit "
            "refuses it (an entity can expand into a huge file or read other files)"
        ) from None
    except _Refused as exc:
        raise refuse(str(exc)) from None
    except (ValueError, LookupError, UnicodeError) as exc:
        raise refuse(f"the file could not be read as XML ({exc})", 1, 1) from None
    return XmlFile(path, root, builder.where)


def _place_of(data: bytes, text: bytes) -> tuple[int | None, int | None]:
    """The line and column where ``text`` first appears in ``data`` (``None`` if not)."""
    index = data.find(text)
    if index < 0:
        return None, None
    return data.count(b"\n", 0, index) + 1, index - (data.rfind(b"\n", 0, index) + 1) + 1


def _xml_error(detail: str, data: bytes) -> str:
    if not data.strip():
        return "the file is empty: a BPMN file is XML starting with <definitions"
    if detail in ("no element found", "unclosed token"):
        return "the file ends before its XML is complete: is it cut short?"
    return (
        f"the file is not well-formed XML ({detail}): a BPMN file is XML, as saved by a "
        "BPMN tool; was it edited by hand or is it another kind of file?"
    )
