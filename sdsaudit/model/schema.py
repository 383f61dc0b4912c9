"""The process-model format (versions 1 and 1.1) as data: one set of definitions drives
both the loader's checks and the JSON Schema that ``sdsaudit schema`` prints.

The definitions are small immutable objects (``Text``, ``Number``, ``Words``,
``Record`` ...). :func:`json_schema` turns them into JSON Schema draft 2020-12;
:mod:`sdsaudit.model.loader` converts YAML nodes with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..vocab import (  # noqa: F401 - the format's vocabularies, defined once in vocab.py
    ACTOR_KINDS,
    ALLOWED_USES,
    ARTEFACTS,
    DEFAULT_TARGETS,
    FORMAT_VERSION,
    FORMAT_VERSIONS,
    ID_PATTERN,
    KIND_ONLY_KEYS,
    KIND_REQUIRED_KEYS,
    NO_ACTOR_KINDS,
    NO_NEXT_KINDS,
    OPTIONS,
    OUTCOMES,
    PARALLEL_KEYS,
    PERSON_LEVELS,
    RESTRICTION_BASES,
    STEP_KINDS,
    TELLS,
)


@dataclass(frozen=True)
class Spec:
    """Base of every definition."""

    description: str = ""


@dataclass(frozen=True)
class Text(Spec):
    """A non-empty string. ``pattern`` is a regular expression it must match."""

    pattern: str | None = None
    hint: str = ""


@dataclass(frozen=True)
class Number(Spec):
    """A number. ``word``, when given, is also accepted in its place (``days: unknown``)."""

    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    word: str | None = None


@dataclass(frozen=True)
class Flag(Spec):
    """``true`` or ``false``."""


@dataclass(frozen=True)
class Date(Spec):
    """An ISO date, ``YYYY-MM-DD``."""


@dataclass(frozen=True)
class Word(Spec):
    """One word from a closed vocabulary."""

    words: tuple[str, ...] = ()
    vocabulary: str = ""


@dataclass(frozen=True)
class Const(Spec):
    """One of a few fixed values, written plainly (the format version)."""

    values: tuple[str, ...] = ("1",)


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec = field(default_factory=Spec)
    unique: bool = False
    min_items: int = 0


@dataclass(frozen=True)
class Key:
    """One key of a :class:`Record`."""

    spec: Spec
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class Record(Spec):
    """A mapping with a fixed set of keys (unknown keys are errors)."""

    name: str = ""
    keys: dict[str, Key] = field(default_factory=dict)

    def __hash__(self) -> int:  # dict fields: hash by identity is enough for definitions
        return id(self)


@dataclass(frozen=True)
class MapOf(Spec):
    """A mapping from ids (matching ``ID_PATTERN``) to values."""

    value: Spec = field(default_factory=Spec)
    min_items: int = 0


@dataclass(frozen=True)
class Either(Spec):
    """A short form (a word) or a long form (a record), e.g. a transition; ``listed``,
    when given, is the form read from a list (``start`` as a list of groups)."""

    short: Spec = field(default_factory=Spec)
    long: Spec | None = None
    listed: Spec | None = None


ID = Text(pattern=ID_PATTERN, hint="letters, digits, '_' and '-', starting with a letter")
NAME = Text(description="plain English")
# Upper bounds: far above any real process, low enough that every figure computed from
# them stays finite (a model of a thousand such steps still sums to well under 1e308).
MAX_DAYS = 36_500
"""A hundred years: no step, target or review interval is longer."""
MAX_COUNT = 10_000
"""No step asks for more forms, and no target counts more sign-offs or hand-offs."""
MAX_LIMIT = 10_000_000
"""The largest weekly budget (GBP) a sign-off level may be given."""

DAYS = Number(minimum=0, maximum=MAX_DAYS, description="calendar days")
STEP_DAYS = Number(
    minimum=0,
    maximum=MAX_DAYS,
    word="unknown",
    description="calendar days, or 'unknown' when nobody has published the time",
)
RESTRICTION = Either(
    description="plain English, or {text, basis, ref}",
    short=NAME,
    long=Record(
        name="restriction",
        keys={
            "text": Key(NAME, required=True),
            "basis": Key(
                Word(words=RESTRICTION_BASES, vocabulary="restriction basis"), default="council"
            ),
            "ref": Key(NAME),
        },
    ),
)
SOURCE = Record(
    name="source",
    description="a document the model is built from",
    keys={
        "id": Key(ID, required=True),
        "title": Key(NAME, required=True),
        "published": Key(Date(description="when the document was published")),
        "url": Key(Text(description="where to read it")),
        "note": Key(NAME),
    },
)
ASSUMED = ListOf(
    item=Text(pattern=r"^[A-Za-z_.]+$", hint="key names such as days or policies.review"),
    unique=True,
    description="keys whose values are the modeller's assumption",
)
START_ENTRY = Record(
    name="start entry",
    description="where one group of people starts",
    keys={
        "to": Key(ID, required=True),
        "when": Key(NAME, required=True),
        "share": Key(
            Number(minimum=0, maximum=1, description="proportion of people in this group")
        ),
    },
)

AUTHORITY = Record(
    name="authority",
    description="one level of sign-off",
    keys={
        "id": Key(ID, required=True),
        "name": Key(NAME, required=True),
        "limit": Key(
            Number(
                minimum=0,
                maximum=MAX_LIMIT,
                description="largest weekly budget (GBP) this level may sign off",
            )
        ),
    },
)
ACTOR = Record(
    name="actor",
    description="a person, team or body that does steps",
    keys={
        "name": Key(NAME, required=True),
        "kind": Key(Word(words=ACTOR_KINDS, vocabulary="actor kind"), required=True),
    },
)
REVIEW = Record(
    name="review policy",
    keys={
        "first_days": Key(DAYS),
        "interval_days": Key(DAYS),
    },
)
POLICIES = Record(
    name="policies",
    description="council-wide policies on budgets",
    keys={
        "allowed_uses": Key(
            ListOf(item=Word(words=ALLOWED_USES, vocabulary="allowed use"), unique=True)
        ),
        "restrictions": Key(ListOf(item=RESTRICTION), default=()),
        "prepaid_card_default": Key(Flag()),
        "allocation_method_published": Key(Flag()),
        "review": Key(REVIEW),
        "dp_review": Key(REVIEW),
    },
)
TARGETS = Record(
    name="targets",
    description="the council's own thresholds",
    keys={
        name: Key(
            Number(minimum=0, maximum=MAX_DAYS if "days" in name else MAX_COUNT), default=value
        )
        for name, value in DEFAULT_TARGETS.items()
    },
)
TRANSITION = Either(
    description="a step id, or {to, when, share, rework}",
    short=ID,
    long=Record(
        name="transition",
        keys={
            "to": Key(ID, required=True),
            "when": Key(NAME),
            "share": Key(
                Number(minimum=0, maximum=1, description="proportion of cases taking this branch")
            ),
            "rework": Key(Flag(), default=False),
        },
    ),
)
STEP = Record(
    name="step",
    description="one step of the process",
    keys={
        "id": Key(ID, required=True),
        "name": Key(NAME, required=True),
        "kind": Key(Word(words=STEP_KINDS, vocabulary="step kind"), required=True),
        "actor": Key(ID),
        "person": Key(Word(words=PERSON_LEVELS, vocabulary="person level"), default="absent"),
        "days": Key(STEP_DAYS),
        "forms": Key(Number(minimum=0, maximum=MAX_COUNT, integer=True), default=0),
        "asks": Key(ListOf(item=NAME, unique=True), default=()),
        "tells": Key(ListOf(item=Word(words=TELLS, vocabulary="tells"), unique=True), default=()),
        "produces": Key(
            ListOf(item=Word(words=ARTEFACTS, vocabulary="artefact"), unique=True), default=()
        ),
        "approves": Key(
            ListOf(item=Word(words=ARTEFACTS, vocabulary="artefact"), unique=True, min_items=1)
        ),
        "authority": Key(ID),
        "restrictions": Key(ListOf(item=RESTRICTION), default=()),
        "outcome": Key(Word(words=OUTCOMES, vocabulary="outcome")),
        "note": Key(NAME),
        "next": Key(ListOf(item=TRANSITION), default=()),
        "branches": Key(
            ListOf(item=ID, unique=True, min_items=2, description="the first step of each branch")
        ),
        "join": Key(
            Text(
                pattern=ID_PATTERN,
                hint=ID.hint,
                description="where the case goes on when every branch has arrived",
            )
        ),
        "source": Key(
            Either(short=ID, listed=ListOf(item=ID, unique=True), description="ids from 'sources'")
        ),
        "assumed": Key(ASSUMED),
    },
)
WAIVER = Record(
    name="waiver",
    description="an accepted finding",
    keys={
        "rule": Key(
            Text(pattern=r"^[A-Z]+-[0-9]{2}$", hint="a rule id such as AUTH-03"), required=True
        ),
        "step": Key(ID),
        "reason": Key(NAME, required=True),
    },
)
MODEL = Record(
    name="model",
    description="a council's care and support process",
    keys={
        "sdsaudit": Key(
            Const(values=FORMAT_VERSIONS, description="format version: 1 or 1.1"), required=True
        ),
        "council": Key(NAME, required=True),
        "title": Key(NAME, required=True),
        "as_of": Key(Date(description="the date the model describes"), required=True),
        "description": Key(NAME),
        "authorities": Key(ListOf(item=AUTHORITY, min_items=1)),
        "actors": Key(MapOf(value=ACTOR, min_items=1), required=True),
        "options": Key(ListOf(item=Word(words=OPTIONS, vocabulary="option"), unique=True)),
        "policies": Key(POLICIES),
        "targets": Key(TARGETS),
        "start": Key(
            Either(
                short=ID,
                listed=ListOf(item=START_ENTRY, min_items=1),
                description="a step id, or a list of {to, when, share}: one entry per group",
            ),
            required=True,
        ),
        "steps": Key(ListOf(item=STEP, min_items=1), required=True),
        "waivers": Key(ListOf(item=WAIVER), default=()),
        "sources": Key(ListOf(item=SOURCE, min_items=1)),
        "assumed": Key(ASSUMED),
    },
)


# --------------------------------------------------------------------------- JSON Schema

SCHEMA_ID = "https://sdsaudit.invalid/schema/process-model-1.1.json"


def json_schema() -> dict[str, Any]:
    """The format as JSON Schema (draft 2020-12), generated from the definitions above."""
    schema = _to_json(MODEL)
    steps_items = schema["properties"]["steps"]["items"]
    steps_items["allOf"] = _kind_conditions()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "sdsaudit process model, versions 1 and 1.1",
        **schema,
    }


def _kind_conditions() -> list[dict[str, Any]]:
    conditions: list[dict[str, Any]] = []
    for kind in STEP_KINDS:
        then: dict[str, Any] = {}
        required = list(KIND_REQUIRED_KEYS.get(kind, ()))
        if kind not in NO_ACTOR_KINDS:
            required.append("actor")
        forbidden = [k for k, kinds in KIND_ONLY_KEYS.items() if kind not in kinds]
        if kind == "parallel":
            forbidden = [k for k in STEP.keys if k not in PARALLEL_KEYS]
        elif kind in NO_NEXT_KINDS:
            forbidden.append("next")
        if required:
            then["required"] = sorted(required)
        if forbidden:
            then["not"] = {"anyOf": [{"required": [k]} for k in sorted(forbidden)]}
        conditions.append(
            {"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]}, "then": then}
        )
    return conditions


def _to_json(spec: Spec) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(spec, Text):
        out = {"type": "string", "minLength": 1}
        if spec.pattern:
            out["pattern"] = spec.pattern
    elif isinstance(spec, Number):
        out = {"type": "integer" if spec.integer else "number"}
        if spec.minimum is not None:
            out["minimum"] = spec.minimum
        if spec.maximum is not None:
            out["maximum"] = spec.maximum
        if spec.word:
            out = {"oneOf": [out, {"const": spec.word}]}
    elif isinstance(spec, Flag):
        out = {"type": "boolean"}
    elif isinstance(spec, Date):
        out = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    elif isinstance(spec, Word):
        out = {"type": "string", "enum": list(spec.words)}
    elif isinstance(spec, Const):
        out = {"enum": [float(v) if "." in v else int(v) for v in spec.values]}
    elif isinstance(spec, ListOf):
        out = {"type": "array", "items": _to_json(spec.item)}
        if spec.unique:
            out["uniqueItems"] = True
        if spec.min_items:
            out["minItems"] = spec.min_items
    elif isinstance(spec, Record):
        out = {
            "type": "object",
            "properties": {name: _to_json(key.spec) for name, key in spec.keys.items()},
            "additionalProperties": False,
        }
        required = [name for name, key in spec.keys.items() if key.required]
        if required:
            out["required"] = required
        for name, key in spec.keys.items():
            if key.default not in (None, ()):
                out["properties"][name]["default"] = key.default
    elif isinstance(spec, MapOf):
        out = {
            "type": "object",
            "propertyNames": {"pattern": ID_PATTERN},
            "additionalProperties": _to_json(spec.value),
        }
        if spec.min_items:
            out["minProperties"] = spec.min_items
    elif isinstance(spec, Either):
        out = {
            "oneOf": [_to_json(s) for s in (spec.short, spec.long, spec.listed) if s is not None]
        }
    else:  # pragma: no cover - every definition type is handled above
        raise TypeError(f"no JSON Schema for {spec!r}")
    if spec.description:
        out["description"] = spec.description
    return out
