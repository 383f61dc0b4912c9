"""Scenario patches: a small YAML format of edits over a process model.

A patch says what a council would change ("remove this sign-off", "move the
financial assessment before planning") so that the effect can be measured
before anyone changes anything. The format is documented in ``docs/patches.md``.

How a patch is applied:

1. the patch is read strictly through :mod:`sdsaudit.model.source` (positions in every
   error, did-you-mean hints for unknown operations, keys and step ids): this module,
   which also holds the patch objects and the plain data that changes edit;
2. the model's YAML is read into plain data (mappings, lists and :class:`Raw`
   scalars that remember whether they were quoted) and each change edits it in
   order (:mod:`sdsaudit.stocktake.patch_apply`, with a step's transitions in
   :mod:`sdsaudit.stocktake.patch_edges`); a change that cannot apply is reported at
   its position and the others are still tried, so every problem is reported at once;
3. the result is written as YAML with a comment on each changed step
   (:mod:`sdsaudit.stocktake.patch_write`), in the model's format version (1.1 once a
   change adds something of format 1.1, such as the parallel step of ``parallelise``),
   and validated by :func:`sdsaudit.model.loader.load_model_text`. Every change keeps
   parallel blocks and start groups whole, or is refused in plain words. A validation
   error of the result is reported against the patch: at the value the patch wrote, or
   at the change that touched the step where the error lies.

Everything is deterministic: the same model and patch give byte-identical text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ModelError, Problem
from ..model import schema as S
from ..model.loader import did_you_mean
from ..model.objects import Pos
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


def put(record: dict, key: str, value: Value, order: Mapping[str, Any]) -> None:
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
            "parallelise",
            "steps",
            {"steps": Param("steps", True), "id": Param("step"), "name": Param("text")},
            "run steps that follow one another side by side, joining at the step after them",
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
            return f"{self.op} {short_text(self.args[spec.main])}"
        return f"{self.op} {', '.join(sorted(self.args))}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"op", "args", "reason"}`` with plain values."""
        return {
            "op": self.op,
            "args": {k: jsonable(v) for k, v in self.args.items()},
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


def jsonable(value: Value) -> Any:
    """A plain-data value as JSON (scalars as their text)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, Raw):
        return value.text
    return value


def short_text(value: Value) -> str:
    """A value as short text for notes and labels (lists joined, long text cut)."""
    if isinstance(value, list):
        return ", ".join(short_text(v) for v in value)
    if isinstance(value, dict):
        if "to" in value:  # a transition: "signposted (not eligible, share 0.3)"
            rest = [
                short_text(v) if k != "share" else f"share {short_text(v)}"
                for k, v in value.items()
                if k not in ("to", "rework")
            ]
            if value.get("rework") is not None and text_of(value["rework"]) == "true":
                rest.append("sent back")
            return short_text(value["to"]) + (f" ({', '.join(rest)})" if rest else "")
        return ", ".join(f"{k}: {short_text(v)}" for k, v in value.items())
    return truncate(text_of(value), 60)


def change(op: str, reason: str | None = None, **args: Any) -> Change:
    """Build a change in code (as :mod:`sdsaudit.stocktake.redesign` does).

    Python strings become plain scalars, numbers stay numbers; ``from_`` may be
    used for the ``from`` key.
    """
    if op not in OPERATIONS:
        raise ValueError(f"unknown operation {op!r}")
    values = {
        ("from" if k == "from_" else k): (float(v) if k == "share" else wrap(v))
        for k, v in args.items()
    }
    return Change(op, values, reason)


def wrap(value: Any) -> Value:
    """A Python value as plain data (text, numbers and booleans as :class:`Raw`)."""
    if isinstance(value, bool):
        return Raw("true" if value else "false")
    if isinstance(value, (int, float)):
        return Raw(number(float(value), 4))
    if isinstance(value, str):
        return Raw(value, plain=value not in ("", "~", "null", "Null", "NULL"))
    if isinstance(value, (list, tuple)):
        return [wrap(v) for v in value]
    if isinstance(value, dict):
        return {k: wrap(v) for k, v in value.items()}
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
