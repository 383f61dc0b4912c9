"""Scenario patches: a small YAML format of edits over a process model.

A patch says what a council would change ("remove this sign-off", "move the
financial assessment before planning") so that the effect can be measured
before anyone changes anything. The format is documented in ``docs/patches.md``.

How a patch is applied:

1. the patch is read strictly through :mod:`sdsaudit.model.source` (positions in every
   error, did-you-mean hints for unknown operations, keys and step ids);
2. the model's YAML is read into plain data (mappings, lists and :class:`Raw`
   scalars that remember whether they were quoted) and each change edits it in
   order; a change that cannot apply is reported at its position and the others
   are still tried, so every problem is reported at once;
3. the result is written as version-1 YAML with a comment on each changed step,
   and validated by :func:`sdsaudit.model.loader.load_model_text`. A validation error
   of the result is reported against the patch: at the value the patch wrote,
   or at the change that touched the step where the error lies.

Everything is deterministic: the same model and patch give byte-identical text.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError, Problem
from ..model import schema as S
from ..model.loader import did_you_mean, load_model_text
from ..model.objects import PERSON_LEVELS, Model, Pos
from ..model.source import (
    DEFAULT_MAX_BYTES,
    Map,
    Node,
    Scalar,
    Seq,
    decode,
    describe,
    parse_text,
    read_bytes,
    truncate,
)
from ..words import number

PATCH_VERSION = 1
LINE_WIDTH = 100
_EPS = 1e-9


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class Raw:
    """A scalar as written: its text, and whether it was plain (unquoted).

    The loader decides types from the text and the plain flag (``2`` is a
    number, ``"2"`` is text), so both are kept. ``origin`` is where in a patch
    the value came from, so that a validation error can point back at it.
    """

    text: str
    plain: bool = True
    origin: Pos | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.text


Value = Any
"""A plain-data value: ``dict`` (str keys), ``list``, :class:`Raw`, ``str``
(text that must stay quoted), ``bool``, ``int`` or ``float``."""


def to_data(node: Node, origin: bool = False) -> Value:
    """A source tree as plain data (keys in file order, scalars as :class:`Raw`)."""
    if isinstance(node, Map):
        return {k: to_data(v, origin) for k, v in node.items.items()}
    if isinstance(node, Seq):
        return [to_data(v, origin) for v in node.items]
    assert isinstance(node, Scalar)
    return Raw(node.value, node.plain, node.pos if origin else None)


def text_of(value: Value) -> str:
    """A scalar's text (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number(value, 4)
    return str(value)


def number_of(value: Value) -> float | None:
    """A scalar as a number, or ``None`` when absent."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return float(text_of(value))


def flag_of(value: Value) -> bool:
    """A scalar as true or false (absent is false)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return text_of(value).strip().lower() == "true"


# --------------------------------------------------------------------------- the patch


@dataclass(frozen=True)
class Param:
    """One key an operation takes."""

    kind: str  # step, steps, text, share, tells, options, uses, topic, any
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """One kind of change: its main key (what the operation's own value names)."""

    name: str
    main: str | None
    params: Mapping[str, Param]
    summary: str


_STEP_FIELDS = tuple(k for k in S.STEP.keys if k != "id")

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "remove_step",
            "step",
            {"step": Param("step", True)},
            "remove a step and connect each step before it to the steps after it",
        ),
        Operation(
            "bypass",
            "step",
            {
                "step": Param("step", True),
                "share": Param("share", True),
                "when": Param("text"),
                "otherwise": Param("text"),
            },
            "only a share of cases still go through the step; the rest skip it",
        ),
        Operation(
            "send_direct",
            "to",
            {"to": Param("step", True), "skip": Param("step", True)},
            "cases that went from 'skip' on to 'to' go straight to 'to' instead",
        ),
        Operation(
            "move_step",
            "step",
            {"step": Param("step", True), "before": Param("step"), "after": Param("step")},
            "take a step out of its place and put it before (or after) another step",
        ),
        Operation(
            "add_tells",
            "step",
            {"step": Param("step", True), "tells": Param("tells", True)},
            "the person learns more at a step",
        ),
        Operation(
            "merge_asks",
            "topic",
            {"topic": Param("topic", True), "keep": Param("step"), "from": Param("steps")},
            "ask about a topic once: remove it from the other steps that ask it",
        ),
        Operation(
            "set",
            "step",
            {"step": Param("step", True), **{k: Param("any") for k in _STEP_FIELDS}},
            "change fields of a step",
        ),
        Operation(
            "add_option",
            "option",
            {"option": Param("options", True)},
            "offer more ways of managing a budget",
        ),
        Operation(
            "allow_use",
            "use",
            {"use": Param("uses", True)},
            "allow a budget to be spent on more things",
        ),
        Operation(
            "remove_restriction",
            "text",
            {"text": Param("text", True), "step": Param("step")},
            "withdraw a restriction on how budgets may be used",
        ),
        Operation(
            "set_policy",
            None,
            {k: Param("any") for k in S.POLICIES.keys},
            "change council-wide policies",
        ),
    )
}
"""Every operation a patch may use, by name (the order of ``docs/patches.md``)."""

_TOP_KEYS = ("sdsaudit_patch", "title", "description", "changes")


@dataclass(frozen=True)
class Change:
    """One edit of a patch: an operation, its arguments and the reason for it."""

    op: str
    args: Mapping[str, Value]
    reason: str | None = None
    pos: Pos | None = field(default=None, compare=False)
    where: Mapping[str, Pos] = field(default_factory=dict, compare=False)

    def at(self, key: str | None = None) -> Pos | None:
        """Where ``key`` (or the change itself) was written, if known."""
        if key is not None and key in self.where:
            return self.where[key]
        return self.pos

    def arg(self, key: str) -> Value:
        return self.args.get(key)

    def label(self) -> str:
        """A short plain description, e.g. ``remove_step sign_off``."""
        spec = OPERATIONS[self.op]
        if spec.main is not None and spec.main in self.args:
            return f"{self.op} {_short(self.args[spec.main])}"
        return f"{self.op} {', '.join(sorted(self.args))}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"op", "args", "reason"}`` with plain values."""
        return {
            "op": self.op,
            "args": {k: _jsonable(v) for k, v in self.args.items()},
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Patch:
    """A parsed scenario patch."""

    title: str
    changes: tuple[Change, ...]
    description: str | None = None
    path: str = "<patch>"
    pos: Pos | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "changes": [c.as_dict() for c in self.changes],
        }


def _jsonable(value: Value) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Raw):
        return value.text
    return value


def _short(value: Value) -> str:
    if isinstance(value, list):
        return ", ".join(text_of(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_short(v)}" for k, v in value.items())
    return truncate(text_of(value), 60)


def change(op: str, reason: str | None = None, **args: Any) -> Change:
    """Build a change in code (as :mod:`sdsaudit.stocktake.redesign` does).

    Python strings become plain scalars, numbers stay numbers; ``from_`` may be
    used for the ``from`` key.
    """
    if op not in OPERATIONS:
        raise ValueError(f"unknown operation {op!r}")
    values = {
        ("from" if k == "from_" else k): (float(v) if k == "share" else _wrap(v))
        for k, v in args.items()
    }
    return Change(op, values, reason)


def _wrap(value: Any) -> Value:
    if isinstance(value, bool):
        return Raw("true" if value else "false")
    if isinstance(value, (int, float)):
        return Raw(number(float(value), 4))
    if isinstance(value, str):
        return Raw(value, plain=value not in ("", "~", "null", "Null", "NULL"))
    if isinstance(value, (list, tuple)):
        return [_wrap(v) for v in value]
    if isinstance(value, dict):
        return {k: _wrap(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- reading a patch


def load_patch(path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Patch:
    """Read and check the patch at ``path``. Raises :class:`ModelError` with every problem."""
    text = decode(read_bytes(path, max_bytes), path)
    return parse_patch(text, path)


def parse_patch(text: str, path: str = "<patch>") -> Patch:
    """Check a patch given as text (structure and vocabulary; step ids are
    checked when it is applied, against the model)."""
    try:
        document = parse_text(text, path)
    except ModelError as exc:
        raise ModelError([_patch_wording(p) for p in exc.problems]) from None
    reader = _PatchReader(path)
    reader.problems.extend(document.problems)
    patch = reader.read(document.root)
    if reader.problems or patch is None:
        raise ModelError(reader.problems)
    return patch


def _patch_wording(problem: Problem) -> Problem:
    """parse_text speaks of models; a patch has other keys."""
    message = problem.message
    if message.startswith("the file is empty"):
        message = (
            "the file is empty: a patch needs sdsaudit_patch: 1, title: and changes: "
            "(see docs/patches.md)"
        )
    elif message.startswith("the top level of a model"):
        rest = message.split(" but", 1)[1] if " but" in message else ""
        message = (
            "the top level of a patch must be a mapping with sdsaudit_patch:, title: and "
            "changes:" + (f", but{rest}" if rest else "")
        )
    return Problem(problem.file, problem.line, problem.column, message)


class _PatchReader:
    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def error(self, pos: Pos | None, message: str) -> None:
        self.problems.append(
            Problem(self.path, pos.line if pos else None, pos.column if pos else None, message)
        )

    def read(self, root: Node) -> Patch | None:
        assert isinstance(root, Map)
        for key, key_node in root.keys.items():
            if key not in _TOP_KEYS:
                self.error(
                    key_node.pos,
                    f"unknown key '{truncate(key)}' in the patch"
                    f"{did_you_mean(key, _TOP_KEYS)}; allowed keys: "
                    f"{', '.join(_TOP_KEYS)}",
                )
        version = root.items.get("sdsaudit_patch")
        if version is None:
            self.error(
                root.pos,
                "the patch is missing 'sdsaudit_patch: 1' (the patch format version) at the top",
            )
        elif not (
            isinstance(version, Scalar)
            and version.plain
            and version.value.strip() == str(PATCH_VERSION)
        ):
            self.error(
                version.pos,
                f"sdsaudit_patch is {describe(version)}, but this sdsaudit "
                f"reads patch format version {PATCH_VERSION}: write "
                f"'sdsaudit_patch: {PATCH_VERSION}'",
            )
        title = self.text(root, "title", required=True)
        description = self.text(root, "description")
        changes_node = root.items.get("changes")
        changes: list[Change] = []
        if changes_node is None:
            self.error(root.pos, "the patch is missing 'changes:', the list of edits")
        elif not isinstance(changes_node, Seq) or not changes_node.items:
            self.error(
                changes_node.pos,
                "'changes' should be a list of edits, each starting '- ', "
                f"not {describe(changes_node)}",
            )
        else:
            for item in changes_node.items:
                found = self.change(item)
                if found is not None:
                    changes.append(found)
        if self.problems or title is None:
            return None
        return Patch(title, tuple(changes), description, self.path, root.pos)

    def text(self, parent: Map, key: str, required: bool = False) -> str | None:
        node = parent.items.get(key)
        if node is None:
            if required:
                self.error(parent.pos, f"the patch is missing '{key}:'")
            return None
        if not isinstance(node, Scalar) or node.is_null or not node.value.strip():
            self.error(node.pos, f"'{key}' should be plain text, not {describe(node)}")
            return None
        return node.value

    def change(self, node: Node) -> Change | None:
        if not isinstance(node, Map):
            self.error(
                node.pos,
                "each change should be a mapping such as 'remove_step: sign_off', "
                f"not {describe(node)}",
            )
            return None
        ops = [k for k in node.items if k in OPERATIONS]
        if not ops:
            guesses = [k for k in node.items if k not in ("reason",)]
            hint = did_you_mean(guesses[0], OPERATIONS) if guesses else ""
            self.error(
                node.pos,
                f"this change names no operation{hint}; use one of: {', '.join(OPERATIONS)}",
            )
            return None
        if len(ops) > 1:
            self.error(
                node.keys[ops[1]].pos,
                f"this change names two operations ('{ops[0]}' and "
                f"'{ops[1]}'): write each as its own change",
            )
            return None
        op = ops[0]
        before = len(self.problems)
        spec = OPERATIONS[op]
        args: dict[str, Value] = {}
        where: dict[str, Pos] = {}
        reason: str | None = None
        own = node.items[op]
        if isinstance(own, Map):
            for key, value in own.items.items():
                self.param(spec, key, own.keys[key].pos, value, args, where)
        elif spec.main is None:
            self.error(
                own.pos,
                f"'{op}' takes a mapping such as {{prepaid_card_default: false}}, "
                f"not {describe(own)}",
            )
            return None
        else:
            self.param(spec, spec.main, node.keys[op].pos, own, args, where)
        for key, value in node.items.items():
            if key == op:
                continue
            if key == "reason":
                if not isinstance(value, Scalar) or value.is_null or not value.value.strip():
                    self.error(value.pos, f"'reason' should be plain text, not {describe(value)}")
                else:
                    reason = value.value
                continue
            if key in args:
                self.error(
                    node.keys[key].pos,
                    f"'{key}' is given twice in this change (inside "
                    f"'{op}' and beside it): keep one",
                )
                continue
            self.param(spec, key, node.keys[key].pos, value, args, where)
        for key, param in spec.params.items():
            if param.required and key not in args and key not in where:
                self.error(node.pos, f"'{op}' needs '{key}'")
        if op == "move_step" and ("before" in args) == ("after" in args):
            self.error(node.pos, "'move_step' needs exactly one of 'before' and 'after'")
        quiet = len(self.problems) > before  # a bad key is reported already
        if op in ("set", "set_policy") and not quiet and len(args) <= (op == "set"):
            self.error(node.pos, f"'{op}' changes nothing: give the keys to change")
        return Change(op, args, reason, node.pos, where)

    def param(
        self,
        spec: Operation,
        key: str,
        key_pos: Pos,
        node: Node,
        args: dict[str, Value],
        where: dict[str, Pos],
    ) -> None:
        if key not in spec.params:
            allowed = [*spec.params, "reason"]
            hint = did_you_mean(key, allowed)
            extra = " (a step's id cannot be changed)" if spec.name == "set" and key == "id" else ""
            self.error(
                key_pos,
                f"'{spec.name}' has no key '{truncate(key)}'{hint}{extra}; "
                f"allowed keys: {', '.join(allowed)}",
            )
            return
        kind = spec.params[key].kind
        where[key] = node.pos
        value = self.value(kind, key, node)
        if value is not None:
            args[key] = value

    def value(self, kind: str, key: str, node: Node) -> Value:
        if isinstance(node, Scalar) and node.is_null:
            self.error(node.pos, f"'{key}' has no value: give one or delete the line")
            return None
        if kind == "any":
            return to_data(node, origin=True)
        if kind in ("step", "text", "topic"):
            if not isinstance(node, Scalar) or not node.value.strip():
                self.error(
                    node.pos,
                    f"'{key}' should be {'a step id' if kind == 'step' else 'text'}"
                    f", not {describe(node)}",
                )
                return None
            if kind == "step" and not re.match(S.ID_PATTERN, node.value):
                self.error(
                    node.pos, f"'{truncate(node.value)}' is not a valid step id: use {S.ID.hint}"
                )
                return None
            return Raw(node.value, node.plain, node.pos)
        if kind == "share":
            raw = node.value.strip() if isinstance(node, Scalar) else ""
            try:
                share = float(raw) if isinstance(node, Scalar) and node.plain else None
            except ValueError:
                share = None
            if share is None or not 0 < share < 1:
                self.error(
                    node.pos,
                    f"'{key}' should be a number between 0 and 1 (the share of "
                    f"cases that still go through the step), not "
                    f"{describe(node)}",
                )
                return None
            return share
        # lists of words (a single word is accepted too)
        items = node.items if isinstance(node, Seq) else [node]
        if not items:
            self.error(node.pos, f"'{key}' is empty: give at least one")
            return None
        vocab = {"tells": S.TELLS, "options": S.OPTIONS, "uses": S.ALLOWED_USES}.get(kind)
        out: list[Raw] = []
        for item in items:
            if not isinstance(item, Scalar) or item.is_null:
                self.error(item.pos, f"an item of '{key}' should be a word, not {describe(item)}")
                continue
            word = item.value.strip()
            if vocab is not None and word not in vocab:
                self.error(
                    item.pos,
                    f"'{truncate(word)}' is not a known {key} word"
                    f"{did_you_mean(word, vocab)}; use one of: {', '.join(vocab)}",
                )
                continue
            if kind == "steps" and not re.match(S.ID_PATTERN, word):
                self.error(item.pos, f"'{truncate(word)}' is not a valid step id")
                continue
            if any(o.text == word for o in out):
                self.error(item.pos, f"'{word}' is listed twice in '{key}': remove one")
                continue
            out.append(Raw(word, item.plain, item.pos))
        return out or None


# --------------------------------------------------------------------------- edges


@dataclass
class _Edge:
    """A transition with its effective share worked out."""

    to: str
    share: float
    when: str | None = None
    rework: bool = False
    when_raw: Value = None  # the original 'when' scalar, to keep its quoting


def _edges(step: dict) -> list[_Edge]:
    raw = step.get("next") or []
    found: list[tuple[str, float | None, Value, bool]] = []
    for item in raw:
        if isinstance(item, dict):
            found.append(
                (
                    text_of(item.get("to")),
                    number_of(item.get("share")),
                    item.get("when"),
                    flag_of(item.get("rework")),
                )
            )
        else:
            found.append((text_of(item), None, None, False))
    given = sum(s for _, s, _, _ in found if s is not None)
    missing = sum(1 for _, s, _, _ in found if s is None)
    rest = max(0.0, 1.0 - given) / missing if missing else 0.0
    return [
        _Edge(
            to,
            rest if share is None else share,
            None if when is None else text_of(when),
            rework,
            when,
        )
        for to, share, when, rework in found
    ]


def _set_edges(step: dict, edges: list[_Edge], explicit: bool) -> None:
    """Write edges back into a step: merged by target, shares rounded to 4 places."""
    merged: list[_Edge] = []
    for edge in edges:
        same = next((e for e in merged if e.to == edge.to), None)
        if same is None:
            merged.append(_Edge(edge.to, edge.share, edge.when, edge.rework, edge.when_raw))
            continue
        same.share += edge.share
        same.rework = same.rework and edge.rework
        if not edge.when or not same.when:
            # one of the branches had no condition: together they cover every case
            same.when, same.when_raw = None, None
        elif edge.when != same.when:
            same.when, same.when_raw = f"{same.when} or {edge.when}", None
    out: list[Value] = []
    for edge in merged:
        if len(merged) == 1 and not edge.when and not edge.rework:
            out.append(Raw(edge.to))
            continue
        item: dict[str, Value] = {"to": Raw(edge.to)}
        if edge.when:
            item["when"] = edge.when_raw if edge.when_raw is not None else _wrap(edge.when)
        if len(merged) > 1 and explicit:
            item["share"] = round(edge.share, 4)
        if edge.rework:
            item["rework"] = True
        out.append(item)
    _put(step, "next", out, S.STEP.keys)


def _join_when(*whens: str | None) -> str | None:
    parts: list[str] = []
    for when in whens:
        if when and when not in parts:
            parts.append(when)
    return " and ".join(parts) or None


def _forward(edges: list[_Edge], own: str) -> list[_Edge]:
    """A step's onward branches without rework and self-loops, shares renormalised."""
    chosen = [e for e in edges if not e.rework and e.to != own]
    if not chosen:
        chosen = [e for e in edges if e.to != own]
    total = sum(e.share for e in chosen)
    if total <= _EPS:
        return [_Edge(e.to, 1 / len(chosen), e.when, e.rework, e.when_raw) for e in chosen]
    return [_Edge(e.to, e.share / total, e.when, e.rework, e.when_raw) for e in chosen]


def _renormalise(edges: list[_Edge]) -> list[_Edge]:
    total = sum(e.share for e in edges)
    if total <= _EPS:
        return [_Edge(e.to, 1 / len(edges), e.when, e.rework, e.when_raw) for e in edges]
    return [_Edge(e.to, e.share / total, e.when, e.rework, e.when_raw) for e in edges]


def _put(record: dict, key: str, value: Value, order: Mapping[str, Any]) -> None:
    """Set ``record[key]``, placing a new key where the format's key order puts it."""
    if key in record:
        record[key] = value
        return
    names = list(order)
    rank = names.index(key) if key in names else len(names)
    items = list(record.items())
    at = len(items)
    for i, (k, _) in enumerate(items):
        if k in names and names.index(k) > rank:
            at = i
            break
    items.insert(at, (key, value))
    record.clear()
    record.update(items)


# --------------------------------------------------------------------------- applying


class _PatchProblem(Exception):
    def __init__(self, pos: Pos | None, message: str):
        self.pos = pos
        self.message = message


@dataclass(frozen=True)
class PatchResult:
    """A model with a patch applied: the to-be text and the validated model."""

    text: str
    model: Model
    patch: Patch
    notes: Mapping[str, tuple[str, ...]]
    """What changed at each step, by step id (steps removed are not listed)."""
    removed: tuple[str, ...] = ()

    @property
    def changed_steps(self) -> tuple[str, ...]:
        """Ids of steps the patch changed (or added), in the to-be model's order."""
        return tuple(s.id for s in self.model.steps if s.id in self.notes)


class _Applier:
    """Edits a model's plain data change by change, recording notes and origins."""

    def __init__(self, data: dict, patch: Patch):
        self.data = data
        self.patch = patch
        self.problems: list[Problem] = []
        self.step_notes: dict[str, list[str]] = {}
        self.step_changes: dict[str, list[Change]] = {}
        self.top_notes: dict[str, list[str]] = {}
        self.top_changes: dict[str, list[Change]] = {}
        self.removed: dict[str, int] = {}
        self.current: Change | None = None
        self.number = 0

    # -- helpers
    @property
    def steps(self) -> list[dict]:
        return [s for s in self.data.get("steps") or [] if isinstance(s, dict)]

    def ids(self) -> list[str]:
        return [text_of(s.get("id")) for s in self.steps]

    def step(self, key: str, value: Value | None = None) -> dict:
        assert self.current is not None
        value = self.current.arg(key) if value is None else value
        sid = text_of(value)
        for step in self.steps:
            if text_of(step.get("id")) == sid:
                return step
        where = value.origin if isinstance(value, Raw) and value.origin else self.current.at(key)
        if sid in self.removed:
            raise _PatchProblem(
                where, f"step '{sid}' was removed by change {self.removed[sid]} of this patch"
            )
        raise _PatchProblem(where, f"the model has no step '{sid}'{did_you_mean(sid, self.ids())}")

    def preds(self, sid: str) -> list[dict]:
        return [
            s
            for s in self.steps
            if text_of(s.get("id")) != sid and any(e.to == sid for e in _edges(s))
        ]

    def note(self, step: dict | str, text: str) -> None:
        sid = step if isinstance(step, str) else text_of(step.get("id"))
        reason = f" ({_clean(self.current.reason)})" if self.current and self.current.reason else ""
        line = f"{text}{reason}"
        if line not in self.step_notes.setdefault(sid, []):
            self.step_notes[sid].append(line)
        changes = self.step_changes.setdefault(sid, [])
        if self.current is not None and self.current not in changes:
            changes.append(self.current)

    def top_note(self, key: str, text: str) -> None:
        reason = f" ({_clean(self.current.reason)})" if self.current and self.current.reason else ""
        self.top_notes.setdefault(key, []).append(f"{text}{reason}")
        self.top_changes.setdefault(key, []).append(self.current)  # type: ignore[arg-type]

    def start(self) -> str:
        return text_of(self.data.get("start"))

    # -- driver
    def run(self) -> None:
        for n, item in enumerate(self.patch.changes, start=1):
            self.current, self.number = item, n
            snapshot = _copy(self.data)
            saved = _copy(
                (self.step_notes, self.step_changes, self.top_notes, self.top_changes, self.removed)
            )
            try:
                getattr(self, f"op_{item.op}")(item)
            except _PatchProblem as problem:
                self.data.clear()
                self.data.update(snapshot)
                (
                    self.step_notes,
                    self.step_changes,
                    self.top_notes,
                    self.top_changes,
                    self.removed,
                ) = saved
                pos = problem.pos or item.pos
                self.problems.append(
                    Problem(
                        self.patch.path,
                        pos.line if pos else None,
                        pos.column if pos else None,
                        f"change {n} ({item.label()}): {problem.message}",
                    )
                )
        self.current = None

    # -- reconnecting
    def _detach(self, step: dict, verb: str) -> None:
        """Connect every step before ``step`` to its onward steps (shares multiply)."""
        sid = text_of(step.get("id"))
        onward = _forward(_edges(step), sid)
        for pred in self.preds(sid):
            pid = text_of(pred.get("id"))
            new: list[_Edge] = []
            for edge in _edges(pred):
                if edge.to != sid:
                    new.append(edge)
                    continue
                for after in onward:
                    if after.to == pid:
                        continue  # a loop straight back: the case simply carries on
                    new.append(
                        _Edge(
                            after.to,
                            edge.share * after.share,
                            _join_when(edge.when, after.when),
                            edge.rework or after.rework,
                        )
                    )
            if not new:
                raise _PatchProblem(
                    None, f"step '{pid}' would have nowhere to go once '{sid}' is {verb}"
                )
            _set_edges(pred, _renormalise(new), explicit=True)
            targets = ", ".join(f"'{e.to}'" for e in onward if e.to != pid) or "nowhere"
            self.note(pred, f"now goes on to {targets} instead of '{sid}', which is {verb}")
        if self.start() == sid:
            if len(onward) != 1:
                raise _PatchProblem(
                    None,
                    f"'{sid}' is the start step and leads to several steps, so "
                    "the new start is not clear",
                )
            self.data["start"] = Raw(onward[0].to)
            self.top_note("start", f"starts at '{onward[0].to}' because '{sid}' is {verb}")

    def op_remove_step(self, item: Change) -> None:
        step = self.step("step")
        sid = text_of(step.get("id"))
        if step.get("next") is None and self.preds(sid):
            # an end step: its predecessors simply lose that branch
            for pred in self.preds(sid):
                kept = [e for e in _edges(pred) if e.to != sid]
                if not kept:
                    raise _PatchProblem(
                        None,
                        f"step '{text_of(pred.get('id'))}' would have nowhere "
                        f"to go once '{sid}' is removed",
                    )
                _set_edges(pred, _renormalise(kept), explicit=True)
                self.note(pred, f"no longer goes to '{sid}', which is removed")
        else:
            self._detach(step, "removed")
        self.data["steps"] = [s for s in self.data["steps"] if s is not step]
        self.removed[sid] = self.number
        self.step_notes.pop(sid, None)
        waivers = self.data.get("waivers") or []
        kept = [w for w in waivers if not (isinstance(w, dict) and text_of(w.get("step")) == sid)]
        if len(kept) != len(waivers):
            self.data["waivers"] = kept
            self.top_note("waivers", f"the waiver for step '{sid}' is dropped with the step")

    def op_bypass(self, item: Change) -> None:
        step = self.step("step")
        sid = text_of(step.get("id"))
        share = float(item.arg("share"))
        when, otherwise = item.arg("when"), item.arg("otherwise")
        preds = self.preds(sid)
        if not preds:
            raise _PatchProblem(
                item.at("step"), f"no step leads to '{sid}', so nothing can bypass it"
            )
        onward = [e for e in _forward(_edges(step), sid)]
        if step.get("next") is None:
            raise _PatchProblem(item.at("step"), f"'{sid}' is an end step: it cannot be bypassed")
        for pred in preds:
            pid = text_of(pred.get("id"))
            new: list[_Edge] = []
            for edge in _edges(pred):
                if edge.to != sid:
                    new.append(edge)
                    continue
                # the branch that still goes through is labelled 'when' (else as before); the
                # bypassing branches 'otherwise' (else as the bypassed step's own branches)
                if when is not None:
                    new.append(_Edge(sid, edge.share * share, text_of(when), edge.rework, when))
                else:
                    new.append(
                        _Edge(sid, edge.share * share, edge.when, edge.rework, edge.when_raw)
                    )
                for after in onward:
                    if after.to == pid:
                        continue
                    label, raw = (
                        (text_of(otherwise), otherwise)
                        if otherwise is not None
                        else (after.when, after.when_raw)
                    )
                    new.append(
                        _Edge(
                            after.to,
                            edge.share * (1 - share) * after.share,
                            label,
                            edge.rework or after.rework,
                            raw,
                        )
                    )
            _set_edges(pred, _renormalise(new), explicit=True)
            self.note(
                pred,
                f"only {_pct(share)} of cases now go to '{sid}'; the rest go straight "
                f"on to {', '.join(repr(e.to) for e in onward if e.to != pid)}",
            )
        self.note(
            step,
            f"now bypassed by {_pct(1 - share)} of cases"
            + (f"; used only {text_of(when)}" if when is not None else ""),
        )

    def op_send_direct(self, item: Change) -> None:
        target, skip = self.step("to"), self.step("skip")
        tid, kid = text_of(target.get("id")), text_of(skip.get("id"))
        if tid == kid:
            raise _PatchProblem(item.at("skip"), "'to' and 'skip' name the same step")
        edges = _edges(skip)
        branch = next((e for e in edges if e.to == tid and not e.rework), None)
        if branch is None:
            raise _PatchProblem(
                item.at("skip"),
                f"'{kid}' does not go on to '{tid}', so no case can be sent there directly",
            )
        if branch.share >= 1 - 1e-6:
            raise _PatchProblem(
                item.at("skip"),
                f"every case at '{kid}' goes on to '{tid}': use remove_step: {kid} instead",
            )
        preds = self.preds(kid)
        if not preds:
            raise _PatchProblem(item.at("skip"), f"no step leads to '{kid}'")
        s = branch.share
        for pred in preds:
            new: list[_Edge] = []
            for edge in _edges(pred):
                if edge.to != kid:
                    new.append(edge)
                    continue
                new.append(_Edge(kid, edge.share * (1 - s), edge.when, edge.rework, edge.when_raw))
                new.append(
                    _Edge(
                        tid,
                        edge.share * s,
                        _join_when(edge.when, branch.when),
                        edge.rework,
                        branch.when_raw if not edge.when else None,
                    )
                )
            _set_edges(pred, _renormalise(new), explicit=True)
            self.note(
                pred,
                f"sends cases {branch.when or 'that went on to ' + repr(tid)} straight to "
                f"'{tid}', without '{kid}'",
            )
        rest = [e for e in edges if e is not branch]
        _set_edges(skip, _renormalise(rest), explicit=True)
        self.note(skip, f"no longer passes cases on to '{tid}': they go there directly")

    def op_move_step(self, item: Change) -> None:
        step = self.step("step")
        sid = text_of(step.get("id"))
        key = "before" if item.arg("before") is not None else "after"
        other = self.step(key)
        oid = text_of(other.get("id"))
        if oid == sid:
            raise _PatchProblem(item.at(key), "a step cannot be moved next to itself")
        if step.get("next") is None:
            raise _PatchProblem(item.at("step"), f"'{sid}' is an end step: it cannot be moved")
        # branches to an end step (people who stop here) travel with the step; the rest of
        # its flow closes up behind it
        ends = {text_of(s.get("id")) for s in self.steps if text_of(s.get("kind")) == "end"}
        edges = _edges(step)
        exits = [e for e in edges if e.to in ends and not e.rework]
        if len(exits) == len(edges):
            exits = []
        exit_share = sum(e.share for e in exits)
        if exits:
            _set_edges(step, _renormalise([e for e in edges if e not in exits]), explicit=True)
        self._detach(step, "moved")
        if key == "before":
            for pred in self.steps:
                pid = text_of(pred.get("id"))
                if pid == sid:
                    continue
                edges = _edges(pred)
                if any(e.to == oid and not e.rework for e in edges):
                    for e in edges:
                        if e.to == oid and not e.rework:
                            e.to = sid
                    explicit = any(isinstance(t, dict) and "share" in t for t in pred["next"])
                    _set_edges(pred, edges, explicit=explicit)
                    self.note(pred, f"now goes on to '{sid}' (moved before '{oid}')")
            if self.start() == oid:
                self.data["start"] = Raw(sid)
                self.top_note("start", f"starts at '{sid}', moved before '{oid}'")
            _set_edges(step, [_Edge(oid, 1.0 - exit_share), *exits], explicit=True)
            self.note(step, f"moved before '{oid}'")
        else:
            edges = _edges(other)
            onward = [e for e in edges if not e.rework]
            if not onward:
                raise _PatchProblem(
                    item.at("after"), f"'{oid}' has no onward step to put '{sid}' before"
                )
            total = sum(e.share for e in onward)
            keep = [e for e in edges if e.rework]
            _set_edges(other, [_Edge(sid, total), *keep], explicit=True)
            flow = [
                _Edge(e.to, e.share * (1 - exit_share), e.when, e.rework, e.when_raw)
                for e in _renormalise(onward)
            ]
            _set_edges(step, [*flow, *exits], explicit=True)
            self.note(other, f"now goes on to '{sid}' (moved after it)")
            self.note(step, f"moved after '{oid}'")

    def op_add_tells(self, item: Change) -> None:
        step = self.step("step")
        have = [text_of(t) for t in step.get("tells") or []]
        words = item.arg("tells")
        already = [w.text for w in words if w.text in have]
        if already:
            raise _PatchProblem(
                item.at("tells"),
                f"step '{text_of(step.get('id'))}' already tells "
                f"{', '.join(repr(w) for w in already)}",
            )
        _put(step, "tells", [*(step.get("tells") or []), *words], S.STEP.keys)
        self.note(step, f"now tells the person {', '.join(w.text for w in words)}")

    def op_merge_asks(self, item: Change) -> None:
        topic = text_of(item.arg("topic"))
        asking = [s for s in self.steps if topic in [text_of(a) for a in s.get("asks") or []]]
        if not asking:
            every = sorted({text_of(a) for s in self.steps for a in s.get("asks") or []})
            raise _PatchProblem(
                item.at("topic"), f"no step asks about '{topic}'{did_you_mean(topic, every)}"
            )
        if item.arg("keep") is not None:
            keep = self.step("keep")
            if keep not in asking:
                raise _PatchProblem(
                    item.at("keep"),
                    f"step '{text_of(keep.get('id'))}' does not ask about '{topic}'",
                )
        else:
            keep = self._earliest(asking)
        kid = text_of(keep.get("id"))
        if item.arg("from") is not None:
            targets = []
            for value in item.arg("from"):
                step = self.step("from", value)
                if step is keep:
                    raise _PatchProblem(
                        value.origin, f"'{kid}' is the step that keeps the question"
                    )
                if step not in asking:
                    raise _PatchProblem(
                        value.origin,
                        f"step '{text_of(step.get('id'))}' does not ask about '{topic}'",
                    )
                targets.append(step)
        else:
            targets = [s for s in asking if s is not keep]
            if not targets:
                raise _PatchProblem(
                    item.at("topic"), f"only '{kid}' asks about '{topic}': nothing to merge"
                )
        for step in targets:
            asks = [a for a in step.get("asks") or [] if text_of(a) != topic]
            if asks:
                step["asks"] = asks
            else:
                del step["asks"]
            self.note(step, f"no longer asks about {topic} (already asked at '{kid}')")

    def _earliest(self, candidates: list[dict]) -> dict:
        """The candidate nearest the start (forward transitions), then first in the file."""
        distance = {self.start(): 0}
        queue = deque([self.start()])
        by_id = {text_of(s.get("id")): s for s in self.steps}
        while queue:
            sid = queue.popleft()
            for edge in _edges(by_id.get(sid, {})):
                if not edge.rework and edge.to not in distance:
                    distance[edge.to] = distance[sid] + 1
                    queue.append(edge.to)
        order = {id(s): i for i, s in enumerate(self.steps)}
        return min(
            candidates, key=lambda s: (distance.get(text_of(s.get("id")), 10**9), order[id(s)])
        )

    def op_set(self, item: Change) -> None:
        step = self.step("step")
        sid = text_of(step.get("id"))
        for key, value in item.args.items():
            if key == "step":
                continue
            old = step.get(key)
            if old is not None and _jsonable(old) == _jsonable(value):
                raise _PatchProblem(
                    item.at(key), f"step '{sid}' already has {key}: {_short(value)}"
                )
            if key == "person" and isinstance(value, Raw) and value.text not in PERSON_LEVELS:
                raise _PatchProblem(
                    item.at(key),
                    f"'{truncate(value.text)}' is not a person level"
                    f"{did_you_mean(value.text, PERSON_LEVELS)}; use one "
                    f"of: {', '.join(PERSON_LEVELS)}",
                )
            _put(step, key, value, S.STEP.keys)
            default = S.STEP.keys[key].default
            was = (
                _short(old)
                if old is not None
                else f"{text_of(default)} by default"
                if default not in (None, ())
                else "not set"
            )
            self.note(step, f"{key} set to {_short(value)} (was {was})")

    def op_add_option(self, item: Change) -> None:
        words = item.arg("option")
        have = [text_of(o) for o in self.data.get("options") or []]
        already = [w.text for w in words if w.text in have]
        if already:
            raise _PatchProblem(
                item.at("option"), f"the council already offers {', '.join(already)}"
            )
        _put(self.data, "options", [*(self.data.get("options") or []), *words], S.MODEL.keys)
        self.top_note("options", f"now also offers {', '.join(w.text for w in words)}")

    def op_allow_use(self, item: Change) -> None:
        words = item.arg("use")
        policies = self._policies()
        have = [text_of(u) for u in policies.get("allowed_uses") or []]
        already = [w.text for w in words if w.text in have]
        if already:
            raise _PatchProblem(
                item.at("use"), f"budgets may already be used for {', '.join(already)}"
            )
        _put(
            policies,
            "allowed_uses",
            [*(policies.get("allowed_uses") or []), *words],
            S.POLICIES.keys,
        )
        self.top_note(
            "policies", f"budgets may now also be used for {', '.join(w.text for w in words)}"
        )

    def op_remove_restriction(self, item: Change) -> None:
        wanted = _norm(text_of(item.arg("text")))
        places: list[tuple[dict, str]] = []
        if item.arg("step") is not None:
            places.append((self.step("step"), "step"))
        else:
            places.append((self.data.get("policies") or {}, "policies"))
            places.extend((s, "step") for s in self.steps)
        found = False
        every: list[str] = []
        for record, where in places:
            restrictions = record.get("restrictions") or []
            every.extend(text_of(r) for r in restrictions)
            kept = [r for r in restrictions if _norm(text_of(r)) != wanted]
            if len(kept) == len(restrictions):
                continue
            found = True
            record["restrictions"] = kept
            if where == "policies":
                self.top_note("policies", f"restriction withdrawn: {text_of(item.arg('text'))}")
            else:
                self.note(record, f"restriction withdrawn: {text_of(item.arg('text'))}")
        if not found:
            hint = difflib.get_close_matches(text_of(item.arg("text")), every, n=1, cutoff=0.6)
            raise _PatchProblem(
                item.at("text"),
                "no restriction reads like this"
                + (
                    f" (did you mean '{hint[0]}'?)"
                    if hint
                    else "; copy its words exactly from the model"
                ),
            )

    def op_set_policy(self, item: Change) -> None:
        policies = self._policies()
        for key, value in item.args.items():
            old = policies.get(key)
            if old is not None and _jsonable(old) == _jsonable(value):
                raise _PatchProblem(item.at(key), f"policies already have {key}: {_short(value)}")
            _put(policies, key, value, S.POLICIES.keys)
            was = "not set" if old is None else _short(old)
            self.top_note("policies", f"{key} set to {_short(value)} (was {was})")

    def _policies(self) -> dict:
        policies = self.data.get("policies")
        if not isinstance(policies, dict):
            policies = {}
            _put(self.data, "policies", policies, S.MODEL.keys)
        return policies


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _clean(text: str) -> str:
    return " ".join(text.split())


def _pct(share: float) -> str:
    return f"{number(round(share * 100, 2), 4)}%"


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def apply_patch_text(
    model_text: str, patch: Patch, *, model_path: str = "<model>", result_path: str | None = None
) -> PatchResult:
    """Apply ``patch`` to the model written in ``model_text``.

    The model must be valid (its own errors are raised against it). Raises
    :class:`ModelError` with every problem, located in the patch, when a change
    cannot apply or the result does not validate.
    """
    load_model_text(model_text, model_path)
    document = parse_text(model_text, model_path)
    data = to_data(document.root)
    applier = _Applier(data, patch)
    applier.run()
    header = _header(patch, model_path)
    text, origins, spans = emit_model(data, applier.step_notes, applier.top_notes, header)
    name = result_path or f"{model_path} with {patch.path}"
    try:
        model = load_model_text(text, name)
    except ModelError as exc:
        located = [_locate(p, patch, applier, origins, spans) for p in exc.problems]
        if applier.problems:
            # some changes did not apply: add only the errors of values the patch wrote
            located = [q for p, q in zip(exc.problems, located, strict=True) if p.line in origins]
        raise ModelError([*applier.problems, *located]) from None
    if applier.problems:
        raise ModelError(applier.problems)
    notes = {sid: tuple(n) for sid, n in applier.step_notes.items()}
    return PatchResult(text, model, patch, notes, tuple(applier.removed))


def apply_patch_file(
    model_path: str, patch_path: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> PatchResult:
    """Read a model and a patch from files (``-`` for a model on standard input) and apply."""
    name = "<stdin>" if model_path == "-" else model_path
    model_text = decode(read_bytes(model_path, max_bytes), name)
    patch = load_patch(patch_path, max_bytes=max_bytes)
    return apply_patch_text(model_text, patch, model_path=name, result_path="to-be.yaml")


def _header(patch: Patch, model_path: str) -> list[str]:
    lines = [
        f'To-be model: {Path(model_path).name} with the scenario patch "{_clean(patch.title)}".',
        "Written by sdsaudit: change the patch and apply it again rather than editing this file.",
        "Comments of the original model are not copied; each changed step has a comment saying",
        "what changed and why.",
        "",
        "Changes:",
    ]
    for n, item in enumerate(patch.changes, start=1):
        lines.append(f"  {n}. {describe_change(item)}")
    return lines


def _locate(
    problem: Problem,
    patch: Patch,
    applier: _Applier,
    origins: Mapping[int, Pos],
    spans: Mapping[str, tuple[int, int]],
) -> Problem:
    """Report a validation error of the to-be model against the patch."""
    line = problem.line or 0
    step = next(
        (sid for sid, (a, b) in spans.items() if not sid.startswith(":") and a <= line <= b), None
    )
    where: Pos | None = origins.get(line)
    if where is None and step is not None and applier.step_changes.get(step):
        where = applier.step_changes[step][0].pos
    if where is None:
        key = next((k for k, (a, b) in spans.items() if k.startswith(":") and a <= line <= b), None)
        changes = applier.top_changes.get(key[1:]) if key else None
        where = changes[0].pos if changes else patch.pos
    about = f" (at step '{step}')" if step is not None else ""
    return Problem(
        patch.path,
        where.line if where else None,
        where.column if where else None,
        f"after this patch the model is not valid{about}: {problem.message}",
    )


# --------------------------------------------------------------------------- writing YAML

_PLAIN = re.compile(r"^[\w.+/(][\w .+\-/()'%£?!]*$")
_NULL_WORDS = ("", "~", "null", "Null", "NULL")


def scalar_text(value: Value) -> str:
    """One scalar as YAML: plain where it is safe in any context, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number(value, 4)
    if isinstance(value, Raw):
        if value.plain and value.text in _NULL_WORDS:
            return "null"
        if value.plain and _PLAIN.match(value.text) and not value.text.endswith(" "):
            return value.text
        text = value.text
    else:
        text = str(value)
    quoted = json.dumps(text, ensure_ascii=False)
    return quoted.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\x85")


def _is_scalar(value: Value) -> bool:
    return not isinstance(value, (dict, list))


def _flow(value: Value) -> str | None:
    """``value`` on one line, when it is made only of scalars (one level deep)."""
    if _is_scalar(value):
        return scalar_text(value)
    if isinstance(value, list):
        if all(_is_scalar(v) for v in value):
            return "[" + ", ".join(scalar_text(v) for v in value) + "]"
        return None
    if all(
        _is_scalar(v) or (isinstance(v, list) and all(_is_scalar(i) for i in v))
        for v in value.values()
    ):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return None


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.origins: dict[int, Pos] = {}

    def add(self, text: str, value: Value = None) -> None:
        self.lines.append(text.rstrip())
        origin = _first_origin(value)
        if origin is not None:
            self.origins[len(self.lines)] = origin

    def comment(self, indent: int, text: str) -> None:
        # a numbered item ("  3. ...") wraps under its own text, not under the number
        item = re.match(r"^\s*\d+\.\s", text)
        for line in textwrap.wrap(
            text,
            LINE_WIDTH - indent - 2,
            subsequent_indent=" " * len(item.group(0)) if item else "",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]:
            self.lines.append(f"{' ' * indent}# {line}".rstrip())

    def mapping(self, record: dict, indent: int, first_prefix: str | None = None) -> None:
        """Block mapping; ``first_prefix`` replaces the indent of its first line (``- ``)."""
        for i, (key, value) in enumerate(record.items()):
            pad = first_prefix if (i == 0 and first_prefix is not None) else " " * indent
            self.entry(pad, key, value, indent)

    def entry(self, pad: str, key: str, value: Value, indent: int) -> None:
        flow = _flow(value)
        if flow is not None and (
            len(pad) + len(key) + 2 + len(flow) <= LINE_WIDTH or _is_scalar(value)
        ):
            self.add(f"{pad}{key}: {flow}", value)
            return
        if isinstance(value, dict):
            self.add(f"{pad}{key}:")
            self.mapping(value, indent + 2)
        else:
            self.add(f"{pad}{key}:")
            self.sequence(value, indent + 2)

    def sequence(self, items: list, indent: int) -> None:
        for item in items:
            self.item(item, indent)

    def item(self, item: Value, indent: int) -> None:
        pad = " " * indent + "- "
        flow = _flow(item)
        if flow is not None and len(pad) + len(flow) <= LINE_WIDTH:
            self.add(pad + flow, item)
        elif isinstance(item, dict):
            self.mapping(item, indent + 2, first_prefix=pad)
        elif isinstance(item, list):
            self.add(pad.rstrip())
            self.sequence(item, indent + 2)
        else:
            self.add(pad + scalar_text(item), item)


def _first_origin(value: Value) -> Pos | None:
    if isinstance(value, Raw):
        return value.origin
    if isinstance(value, dict):
        values: Iterable[Value] = value.values()
    elif isinstance(value, list):
        values = value
    else:
        return None
    for v in values:
        found = _first_origin(v)
        if found is not None:
            return found
    return None


def emit_model(
    data: dict,
    step_notes: Mapping[str, Sequence[str]] | None = None,
    top_notes: Mapping[str, Sequence[str]] | None = None,
    header: Sequence[str] = (),
) -> tuple[str, dict[int, Pos], dict[str, tuple[int, int]]]:
    """Write a model's plain data as YAML, with comments on changed steps and keys.

    Returns the text, the patch positions of values on each line, and the line
    span of each step (by id) and top-level key (as ``:key``).
    """
    step_notes = step_notes or {}
    top_notes = top_notes or {}
    out = _Writer()
    for line in header:
        out.comment(0, line) if line else out.lines.append("#")
    spans: dict[str, tuple[int, int]] = {}
    for key, value in data.items():
        first = len(out.lines) + 1
        for note in top_notes.get(key, ()):
            out.comment(0, f"changed by patch: {note}")
        if key == "steps" and isinstance(value, list):
            out.add("steps:")
            for n, step in enumerate(value):
                if n:
                    out.lines.append("")
                begin = len(out.lines) + 1
                sid = text_of(step.get("id")) if isinstance(step, dict) else ""
                for note in step_notes.get(sid, ()):
                    out.comment(2, f"changed by patch: {note}")
                if isinstance(step, dict):
                    out.mapping(step, 4, first_prefix="  - ")
                else:
                    out.item(step, 2)
                spans[sid] = (begin, len(out.lines))
        else:
            out.entry("", key, value, 0)
        spans[f":{key}"] = (first, len(out.lines))
    return "\n".join(out.lines) + "\n", out.origins, spans


def dump_patch(patch: Patch) -> str:
    """A patch as YAML text that :func:`parse_patch` reads back to an equal patch."""
    out = _Writer()
    out.add("sdsaudit_patch: 1")
    out.entry("", "title", _wrap(patch.title), 0)
    if patch.description:
        out.entry("", "description", _wrap(patch.description), 0)
    out.add("changes:")
    for item in patch.changes:
        spec = OPERATIONS[item.op]
        record: dict[str, Value] = {}
        if spec.main is not None and spec.main in item.args:
            record[item.op] = item.args[spec.main]
            record.update((k, v) for k, v in item.args.items() if k != spec.main)
        else:
            record[item.op] = dict(item.args)
        if item.reason:
            record["reason"] = _wrap(item.reason)
        out.mapping(record, 4, first_prefix="  - ")
    return "\n".join(out.lines) + "\n"


def describe_change(item: Change) -> str:
    """A change in plain English, with its reason (for reports and the command line)."""
    a = item.args

    def t(key: str) -> str:
        value = a.get(key)
        if isinstance(value, list):
            return ", ".join(text_of(v) for v in value)
        return _clean(text_of(value)) if value is not None else ""

    if item.op == "remove_step":
        words = f"Remove the step '{t('step')}' and join up the steps around it"
    elif item.op == "bypass":
        share = float(a["share"])
        words = (
            f"Only {_pct(share)} of cases still go through '{t('step')}'"
            + (f" ({t('when')})" if "when" in a else "")
            + f"; the other {_pct(1 - share)} skip it"
        )
    elif item.op == "send_direct":
        words = f"Send cases that went from '{t('skip')}' to '{t('to')}' straight to '{t('to')}'"
    elif item.op == "move_step":
        place = "before" if "before" in a else "after"
        words = f"Move '{t('step')}' to just {place} '{t(place)}'"
    elif item.op == "add_tells":
        words = f"At '{t('step')}', also tell the person: {t('tells')}"
    elif item.op == "merge_asks":
        where = f" at '{t('from')}'" if "from" in a else ""
        keep = f" (it is asked at '{t('keep')}')" if "keep" in a else ""
        words = f"Stop asking again about {t('topic')}{where}{keep}"
    elif item.op == "set":
        fields = ", ".join(f"{k} to {_short(v)}" for k, v in a.items() if k != "step")
        words = f"At '{t('step')}', set {fields}"
    elif item.op == "add_option":
        words = f"Offer {t('option')}"
    elif item.op == "allow_use":
        words = f"Allow budgets to be used for {t('use')}"
    elif item.op == "remove_restriction":
        words = f'Withdraw the restriction "{t("text")}"'
    else:  # set_policy
        words = "Set " + ", ".join(f"{k} to {_short(v)}" for k, v in a.items())
    return f"{words}: {_clean(item.reason)}" if item.reason else words
