"""A step's form: its values in words, read back from what the group typed, and the
changes a form asks for made on the model's plain data.

A change of fields is made here (each field checked first, with a message beside it);
the changes that rewire steps reuse the scenario patch operations
(:mod:`sdsaudit.stocktake.patch_apply`): ``remove_step`` to take a step out and
reconnect the steps around it, ``parallelise`` to run a step alongside the one before
or after it (format 1.1's parallel block). Whatever the change, the whole model is
validated by the strict loader afterwards (:func:`locate`), and a problem it finds is
put beside the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import ModelError, Problem
from ..model import schema as S
from ..model.objects import Model, Step
from ..model.source import Map, parse_text
from ..stocktake.patch import Patch, Raw, Value, change, put, text_of
from ..stocktake.patch_apply import apply_patch_text
from ..stocktake.patch_edges import Edge, edges_of, is_parallel, renormalise, set_edges
from ..vocab import ID_PATTERN, PERSON_LEVELS, STEP_KINDS, TELLS
from ..words import number

MAX_NAME = 200
"""The longest step name a form accepts (a name is a label on the map)."""
MAX_NOTE = 4000
"""The longest note a form accepts."""
MAX_ROWS = 12
"""The most places a step may lead to in the form."""
EXTRA_ROWS = 1
"""Empty rows the form offers for a new place to go next."""

PERSON_WORDS = {
    "absent": "Absent: not there, and not asked",
    "informed": "Informed: told what happens",
    "consulted": "Consulted: asked for their views",
    "involved": "Involved: takes part in the decisions",
    "leads": "Leads: decides, with support if needed",
}
"""How the person takes part, in words (the select "How the person takes part")."""

TELL_WORDS = {
    "process": "How the process works",
    "charging_rules": "The rules on paying towards care",
    "eligibility_decision": "Whether they are eligible",
    "reasons": "The reasons for a decision",
    "indicative_budget": "Their indicative budget (the amount to plan with)",
    "contribution": "What they must pay (their contribution)",
    "final_budget": "Their final budget",
    "options": "The ways they can manage the money",
    "support_plan": "Their support plan",
    "review_outcome": "What the review decided",
}
"""What a step may tell the person, in words (one checkbox each)."""

KIND_WORDS = {
    "contact": "First contact",
    "information": "Information and advice",
    "assessment": "Assessment",
    "eligibility": "Eligibility decision",
    "financial_assessment": "Financial assessment",
    "allocation": "Working out the budget",
    "planning": "Support planning",
    "advocacy": "Advocacy or independent support",
    "approval": "Approval (someone signs off)",
    "arranging": "Arranging the money and support",
    "support": "Support in place",
    "review": "Review",
    "decision": "Another decision",
    "wait": "Waiting",
    "end": "End: the person leaves the process",
}
"""Step kinds in words (``parallel`` is made by "run it alongside", not chosen)."""

assert set(PERSON_WORDS) == set(PERSON_LEVELS)
assert set(TELL_WORDS) == set(TELLS)
assert set(KIND_WORDS) == set(STEP_KINDS) - {"parallel"}

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*$")
_ID = re.compile(ID_PATTERN)
_CHANGE_PREFIX = re.compile(r"^change \d+ \([^)]*\): ")
_UNKNOWN = "unknown"


class EditRefused(Exception):
    """A change that cannot be made, said in plain words."""


@dataclass(frozen=True)
class FieldError:
    """A problem with what was typed, beside its field (``field`` is the input's id;
    empty for a problem about the model as a whole)."""

    field: str
    message: str


@dataclass(frozen=True)
class Row:
    """One place a step leads to: the step, the share of cases (a percentage, as typed),
    when, and whether it sends work back."""

    to: str = ""
    share: str = ""
    when: str = ""
    rework: bool = False


@dataclass(frozen=True)
class Values:
    """What a step's form shows (as stored, or as the group typed it)."""

    name: str = ""
    kind: str = ""
    actor: str = ""
    person: str = "absent"
    days: str = ""
    days_unknown: bool = False
    forms: str = ""
    asks: str = ""
    tells: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()
    note: str = ""
    branches: tuple[str, ...] = field(default=())


def _percent(share: float | None) -> str:
    return "" if share is None else number(share * 100, 2)


def values_of(step: Step) -> Values:
    """A step's form as it stands in the model."""
    return Values(
        name=step.name,
        kind=step.kind,
        actor=step.actor or "",
        person=step.person,
        days="" if step.days_unknown or not step.days_given else number(step.days, 4),
        days_unknown=step.days_unknown,
        forms=str(step.forms) if step.forms else "",
        asks=", ".join(step.asks),
        tells=tuple(step.tells),
        rows=tuple(Row(t.to, _percent(t.share), t.when or "", t.rework) for t in step.next),
        note=step.note or "",
        branches=step.branches,
    )


Form = Mapping[str, Sequence[str]]
"""A submitted form: each field's values, as parsed from the request body."""


def _one(form: Form, key: str) -> str:
    values = form.get(key) or [""]
    return values[0]


def values_from(form: Form, kind: str) -> Values:
    """What the group typed, as the form's values (nothing checked yet)."""
    rows = []
    for n in range(MAX_ROWS + EXTRA_ROWS):
        row = Row(
            _one(form, f"next-{n}-to").strip(),
            _one(form, f"next-{n}-share").strip(),
            _one(form, f"next-{n}-when").strip(),
            _one(form, f"next-{n}-rework") == "yes",
        )
        if row != Row():
            rows.append(row)
    return Values(
        name=_one(form, "name").strip(),
        kind=_one(form, "kind").strip() or kind,
        actor=_one(form, "actor").strip(),
        person=_one(form, "person").strip() or "absent",
        days=_one(form, "days").strip(),
        days_unknown=_one(form, "days-unknown") == "yes",
        forms=_one(form, "forms").strip(),
        asks=_one(form, "asks").strip(),
        tells=tuple(t for t in TELLS if t in (form.get("tells") or ())),
        rows=tuple(rows),
        note=_one(form, "note").replace("\r\n", "\n").strip(),
    )


# --------------------------------------------------------------------------- changing fields


def find_step(data: dict, sid: str) -> dict:
    for step in data.get("steps") or []:
        if isinstance(step, dict) and text_of(step.get("id")) == sid:
            return step
    raise EditRefused(f"the model has no step '{sid}' (it may have been removed)")


def _set(step: dict, key: str, value: Value | None) -> None:
    """Set (or, with ``None``, remove) a key, in the format's key order."""
    if value is None:
        step.pop(key, None)
    else:
        put(step, key, value, S.STEP.keys)


def _text(value: str) -> Raw:
    return Raw(value, plain=False) if _looks_special(value) else Raw(value)


def _looks_special(value: str) -> bool:
    """Text the reader would take as something else when written plain (a number, true)."""
    return bool(re.match(r"^([-+.\d].*|true|false|null|Null|NULL|~|)$", value))


def apply_values(data: dict, sid: str, values: Values) -> list[FieldError]:
    """Make the form's values the step's (in ``data``, in place); return the problems with
    what was typed (then ``data`` must not be used)."""
    step = find_step(data, sid)
    errors: list[FieldError] = []
    name = " ".join(values.name.split())
    if not name:
        errors.append(FieldError("name", "Enter the step's name"))
    elif len(name) > MAX_NAME:
        errors.append(FieldError("name", f"The name must be {MAX_NAME} characters or fewer"))
    elif name != text_of(step.get("name")):
        _set(step, "name", _text(name))
    if len(values.note) > MAX_NOTE:
        errors.append(FieldError("note", f"The notes must be {MAX_NOTE} characters or fewer"))
    elif values.note != text_of(step.get("note") or ""):
        _set(step, "note", _text(values.note) if values.note else None)
    if is_parallel(step):
        return errors
    if values.kind not in KIND_WORDS:
        errors.append(FieldError("kind", "Choose what kind of step this is"))
    elif values.kind != text_of(step.get("kind")):
        _set(step, "kind", Raw(values.kind))
    if values.actor != text_of(step.get("actor") or ""):
        _set(step, "actor", Raw(values.actor) if values.actor else None)
    if values.person not in PERSON_LEVELS:
        errors.append(FieldError("person", "Choose how the person takes part"))
    elif values.person != text_of(step.get("person") or "absent"):
        _set(step, "person", Raw(values.person))
    errors += _days(step, values)
    errors += _forms(step, values)
    errors += _asks(step, values)
    if list(values.tells) != [text_of(t) for t in step.get("tells") or []]:
        _set(step, "tells", [Raw(t) for t in values.tells] or None)
    errors += _next(step, values)
    return errors


def _days(step: dict, values: Values) -> list[FieldError]:
    if values.days_unknown:
        if values.days:
            return [
                FieldError(
                    "days", "Either enter the days or tick 'Not known', not both (clear one)"
                )
            ]
        if text_of(step.get("days") or "") != _UNKNOWN:
            _set(step, "days", Raw(_UNKNOWN))
        return []
    if not values.days:
        _set(step, "days", None)
        return []
    match = _NUMBER.match(values.days)
    if not match:
        return [
            FieldError(
                "days",
                "Enter the days as a number, like 14 or 2.5, or tick 'Not known'",
            )
        ]
    days = float(match.group(1))
    if days > S.MAX_DAYS:
        return [FieldError("days", f"Enter at most {number(S.MAX_DAYS)} days")]
    if (
        step.get("days") is None
        or text_of(step["days"]) == _UNKNOWN
        or (float(text_of(step["days"])) != days)
    ):
        _set(step, "days", Raw(number(days, 4)))
    return []


def _forms(step: dict, values: Values) -> list[FieldError]:
    if not values.forms:
        if step.get("forms") is not None and text_of(step["forms"]) != "0":
            _set(step, "forms", None)
        return []
    if not values.forms.isdigit() or int(values.forms) > 100:
        return [FieldError("forms", "Enter the number of forms as a whole number, like 0, 1 or 2")]
    if text_of(step.get("forms") or "0") != str(int(values.forms)):
        _set(step, "forms", Raw(str(int(values.forms))))
    return []


def _asks(step: dict, values: Values) -> list[FieldError]:
    words = [w.strip() for w in values.asks.split(",") if w.strip()]
    bad = [w for w in words if not _ID.match(w)]
    if bad:
        return [
            FieldError(
                "asks",
                f"'{bad[0][:40]}' is not a topic name: use letters, digits and underscores "
                "(like daily_living), separated by commas",
            )
        ]
    if len(set(words)) != len(words):
        return [FieldError("asks", "Give each topic once")]
    if words != [text_of(a) for a in step.get("asks") or []]:
        _set(step, "asks", [Raw(w) for w in words] or None)
    return []


def _next(step: dict, values: Values) -> list[FieldError]:
    errors: list[FieldError] = []
    items: list[Value] = []
    for n, row in enumerate(values.rows):
        if not row.to:
            errors.append(
                FieldError(f"next-{n}-to", "Choose the step it goes to, or clear this row")
            )
            continue
        item: dict[str, Value] = {"to": Raw(row.to)}
        if row.when:
            item["when"] = _text(" ".join(row.when.split()))
        if row.share:
            match = _NUMBER.match(row.share.rstrip("%"))
            if not match or float(match.group(1)) > 100:
                errors.append(
                    FieldError(
                        f"next-{n}-share",
                        "Enter the share of cases as a percentage from 0 to 100, like 85",
                    )
                )
                continue
            item["share"] = Raw(number(float(match.group(1)) / 100, 4))
        if row.rework:
            item["rework"] = Raw("true")
        items.append(item)
    if errors:
        return errors
    if len(items) == 1 and isinstance(items[0], dict) and list(items[0]) == ["to"]:
        items = [items[0]["to"]]
    old = step.get("next")
    if not items:
        if old is not None:
            _set(step, "next", None)
        return []
    _set(step, "next", items)
    return []


# --------------------------------------------------------------------------- rewiring


def add_after(data: dict, sid: str) -> str:
    """Put a new step after ``sid`` (in ``data``): it takes over where ``sid`` led, and
    ``sid`` leads to it. Returns the new step's id."""
    step = find_step(data, sid)
    kind = text_of(step.get("kind"))
    if is_parallel(step):
        raise EditRefused(
            "this step only starts steps side by side: add the new step after one of them instead"
        )
    if kind == "end" or not step.get("next"):
        raise EditRefused("nothing comes after this step, so a step cannot be added after it")
    taken = {text_of(s.get("id")) for s in data.get("steps") or [] if isinstance(s, dict)}
    new_id, n = "new_step", 1
    while new_id in taken:
        n += 1
        new_id = f"new_step_{n}"
    record: dict[str, Value] = {
        "id": Raw(new_id),
        "name": Raw(f"New step after {' '.join(text_of(step.get('name')).split())}"[:MAX_NAME]),
        "kind": Raw("wait"),
    }
    actor = step.get("actor")
    if actor is not None:
        record["actor"] = actor
    record["days"] = Raw(_UNKNOWN)
    edges = edges_of(step)
    onward = [e for e in edges if not e.rework]
    back = [e for e in edges if e.rework]
    if not onward:
        raise EditRefused("this step only sends work back, so a step cannot be added after it")
    explicit = any(isinstance(t, dict) and "share" in t for t in step["next"])
    set_edges(record, renormalise(onward), explicit=explicit)
    set_edges(step, [Edge(new_id, sum(e.share for e in onward)), *back], explicit=True)
    steps = data["steps"]
    steps.insert(steps.index(step) + 1, record)
    return new_id


def _patched(text: str, path: str, *changes: object) -> dict:
    """The model's plain data once the scenario patch operations are applied."""
    from .keep import plain_data

    patch = Patch("workshop", tuple(changes), path="the workshop")  # type: ignore[arg-type]
    try:
        result = apply_patch_text(text, patch, model_path=path)
    except ModelError as exc:
        raise EditRefused(_CHANGE_PREFIX.sub("", exc.problems[0].message)) from None
    return plain_data(result.text, path)


def remove(text: str, path: str, sid: str) -> dict:
    """The model without step ``sid``: each step before it now leads where it led."""
    return _patched(text, path, change("remove_step", step=sid))


def neighbours(model: Model, sid: str) -> tuple[str, ...]:
    """The steps ``sid`` can run alongside: the one it leads straight on to, and the ones
    that lead straight on to it (``parallelise`` needs steps that follow one another)."""
    found: list[str] = []
    by_id = {s.id: s for s in model.steps}
    step = by_id.get(sid)
    if step is None or step.kind in ("parallel", "support", "end"):
        return ()
    ahead = [t.to for t in step.next if not t.rework and t.to != sid]
    if len(ahead) == 1 and by_id[ahead[0]].kind not in ("parallel", "support", "end"):
        found.append(ahead[0])
    for other in model.steps:
        onward = [t.to for t in other.next if not t.rework and t.to != other.id]
        if onward == [sid] and other.kind not in ("parallel", "support", "end"):
            found.append(other.id)
    return tuple(dict.fromkeys(found))


def alongside(text: str, path: str, model: Model, sid: str, other: str) -> dict:
    """The model with ``sid`` and ``other`` (one leading straight to the other) run side by
    side in a new parallel step, joining at the step after the later one."""
    by_id = {s.id: s for s in model.steps}
    if other not in by_id:
        raise EditRefused("choose the step to run it alongside")
    first_leads = any(t.to == other for t in by_id[sid].next if not t.rework)
    steps = [sid, other] if first_leads else [other, sid]
    return _patched(text, path, change("parallelise", steps=steps))


# --------------------------------------------------------------------------- locating problems


def locate(problems: Sequence[Problem], text: str, sid: str | None) -> list[FieldError]:
    """The loader's problems with a changed model, each put beside the field of step
    ``sid`` it is about (by the line it points at), else about the model as a whole."""
    spans: list[tuple[int, int, str]] = []
    try:
        root = parse_text(text).root
    except ModelError:
        root = None
    steps = root.items.get("steps") if isinstance(root, Map) else None
    for node in getattr(steps, "items", []) if sid else []:
        if isinstance(node, Map) and getattr(node.items.get("id"), "value", None) == sid:
            keys = list(node.keys.items())
            for n, (key, scalar) in enumerate(keys):
                end = keys[n + 1][1].pos.line - 1 if n + 1 < len(keys) else 10**9
                spans.append((scalar.pos.line, end, _FIELD.get(key, "")))
    errors = []
    for problem in problems:
        where = next(
            (f for a, b, f in spans if problem.line is not None and a <= problem.line <= b), ""
        )
        if where == "next" or where.startswith("next"):
            where = "next-0-to"
        errors.append(FieldError(where, _sentence(problem.message)))
    return errors


_FIELD = {
    "name": "name",
    "kind": "kind",
    "actor": "actor",
    "person": "person",
    "days": "days",
    "forms": "forms",
    "asks": "asks",
    "tells": "tells-0",
    "next": "next",
    "note": "note",
}
"""The form field each key of a step is edited in (``tells-0`` is its first checkbox)."""


def _sentence(message: str) -> str:
    message = _CHANGE_PREFIX.sub("", message)
    return message[:1].upper() + message[1:]
