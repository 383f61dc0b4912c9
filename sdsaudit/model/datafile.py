"""One reader for every data file sdsaudit ships or reads.

sdsaudit's own data (``criteria/*.yaml``: the rule catalogues, the scoring weights,
the Making it Real themes, the survey format, the GAP thresholds) and the baselines
a user gives ``check --baseline`` are all read here, by one converter driven by
declarations in the style of :mod:`sdsaudit.model.schema` (``Record``, ``Key``, ``Word``,
``Number`` ..., plus the few kinds below that data files need). Each file's
declaration sits beside the objects built from it: ``catalogue.RULES_FILE``,
``scoring.WEIGHTS_FILE`` and ``THEMES_FILE``, ``survey.SURVEY_FILE``,
``compare.BASELINE``.

Every file gets what a process model gets from :mod:`sdsaudit.model.loader`:

* every problem at once, each with FILE:LINE:COL (JSON carries no positions, so a
  problem there names the path to the value instead, such as ``models[0].findings[2]``);
* unknown keys refused, with a did-you-mean for a near miss;
* types and ranges checked, and defaults filled in;
* one parse per file per process: :func:`load` is cached by path and modification time.

A problem in sdsaudit's own files raises :class:`~sdsaudit.errors.ConfigError` (the
fix is to reinstall, or to report it); in a user's file,
:class:`~sdsaudit.errors.ModelError`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from .. import resources
from ..errors import ConfigError, ModelError, Problem
from . import schema as S
from .loader import INVALID, Converter, did_you_mean
from .objects import Pos
from .source import MAX_DEPTH, Map, Node, Scalar, Seq, decode, describe, parse_file, truncate

T = TypeVar("T")

ErrorClass = type[ConfigError] | type[ModelError]


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Prose(S.Text):
    """Plain-English text. ``fold`` joins its lines and runs of spaces into single spaces;
    otherwise only its ends are stripped (a folded ``>`` block ends in a newline)."""

    fold: bool = False


@dataclass(frozen=True)
class Exact(S.Number):
    """A number kept exact, as a :class:`~fractions.Fraction` (``0.5`` is exactly 1/2)."""


@dataclass(frozen=True)
class Nullable(S.Spec):
    """``spec``, or ``null`` (read as ``None``)."""

    spec: S.Spec = field(default_factory=S.Spec)


@dataclass(frozen=True)
class Table(S.Spec):
    """A mapping whose keys are data (vocabulary values, step kinds, rule ids): each key
    is checked with ``key`` and each value with ``value``; file order is kept."""

    key: S.Spec = S.ID
    value: S.Spec = field(default_factory=S.Spec)
    min_items: int = 0


@dataclass(frozen=True)
class Ref(S.Word):
    """One id from a list known only when reading, such as the theme ids of
    ``themes.yaml``: the reader is given the ids under the name ``ref``."""

    ref: str = ""


@dataclass(frozen=True)
class NumberOr(S.Spec):
    """A number, or one word of a vocabulary (a target: ``1``, or ``max_forms``)."""

    number: S.Number = field(default_factory=S.Number)
    word: S.Word = field(default_factory=S.Word)


@dataclass(frozen=True)
class OneOf(S.Spec):
    """A mapping with exactly one of ``keys``, read as the pair ``(key, value)``."""

    name: str = ""
    keys: dict[str, S.Spec] = field(default_factory=dict)

    def __hash__(self) -> int:  # dict fields: hash by identity is enough for definitions
        return id(self)


@dataclass(frozen=True)
class Records(S.ListOf):
    """A list of records in which no value of ``unique_keys`` may repeat."""

    unique_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Open(S.Record):
    """A record that passes over keys it does not declare (a file sdsaudit wrote, such as
    a report.json baseline, carries more than the reader needs)."""

    def __hash__(self) -> int:
        return id(self)


# --------------------------------------------------------------------------- values


class Entry(dict[str, Any]):
    """A mapping read from a data file: its values (defaults filled in), where the mapping
    was written, and where each value was written."""

    def __init__(self, values: dict[str, Any], pos: Pos, where: dict[str, Pos]):
        super().__init__(values)
        self.pos = pos
        self.where = where

    def at(self, key: str) -> Pos:
        """Where the value of ``key`` was written (the mapping's position for a default)."""
        return self.where.get(key, self.pos)


class Items(list[Any]):
    """A list read from a data file, with where it and each of its items were written."""

    def __init__(self, pos: Pos):
        super().__init__()
        self.pos = pos
        self.positions: list[Pos] = []

    def add(self, value: Any, pos: Pos) -> None:
        self.append(value)
        self.positions.append(pos)


# --------------------------------------------------------------------------- the reader


class Reader(Converter):
    """Converts a node tree with the declarations above (and those of :mod:`schema`) into
    plain values: :class:`Entry` for mappings, :class:`Items` for lists, ``str``, ``int``,
    ``float``, :class:`~fractions.Fraction` and ``bool`` for scalars. Problems are collected,
    never raised; ``refs`` gives the ids each :class:`Ref` may name."""

    def __init__(self, path: str, refs: Mapping[str, Sequence[str]] | None = None):
        super().__init__(path)
        self.refs = dict(refs or {})
        self.trail: list[str] = []

    def error(self, pos: Pos, message: str) -> object:
        if pos.line:
            self.problems.append(Problem(self.path, pos.line, pos.column, message))
        else:  # JSON: no positions, so say where the value is
            where = "".join(self.trail).lstrip(".")
            self.problems.append(
                Problem(self.path, None, None, f"{message} (at {where})" if where else message)
            )
        return INVALID

    def fail(self, pos: Pos, message: str) -> None:
        """Record a problem found by a check made after reading (a cross-reference)."""
        self.error(pos, message)

    @contextmanager
    def inside(self, step: str) -> Iterator[None]:
        """Descend into ``step`` (``.key`` or ``[n]``) for the paths of JSON problems."""
        self.trail.append(step)
        try:
            yield
        finally:
            self.trail.pop()

    def convert(self, node: Node, spec: S.Spec, what: str) -> Any:
        if isinstance(spec, Nullable):
            if isinstance(node, Scalar) and node.is_null:
                return None
            return self.convert(node, spec.spec, what)
        if isinstance(spec, Table):
            return self.table(node, spec, what)
        if isinstance(spec, OneOf):
            return self.one_of(node, spec, what)
        if isinstance(spec, (Prose, Exact, Ref, NumberOr)):
            if not isinstance(node, Scalar):
                return self.error(
                    node.pos, f"{what} should be {_expect(spec)}, not {describe(node)}"
                )
            return self.scalar(node, spec, what)
        return super().convert(node, spec, what)

    def scalar(self, node: Scalar, spec: S.Spec, what: str) -> Any:
        """The scalar kinds of this module."""
        if isinstance(spec, Prose):
            value = self.text(node, spec, what)
            if value is INVALID:
                return value
            return " ".join(value.split()) if spec.fold else value.strip()
        if isinstance(spec, Exact):
            value = self.number(node, spec, what)
            return value if value is INVALID else Fraction(node.value.strip())
        if isinstance(spec, Ref):
            return self.word(node, replace(spec, words=tuple(self.refs.get(spec.ref, ()))), what)
        assert isinstance(spec, NumberOr)
        if node.plain and re.match(r"^[-+.0-9]", node.value.strip()):
            return self.convert(node, spec.number, what)
        return self.word(node, spec.word, what)

    def value(self, node: Node, spec: S.Spec, key: str, owner: str) -> Any:
        """The value of ``key`` in a mapping called ``owner``: ``null`` is allowed only
        where declared (and reads as an empty list or table where those are declared)."""
        if isinstance(node, Scalar) and node.is_null:
            if isinstance(spec, Nullable):
                return None
            if isinstance(spec, (S.ListOf, Table)):
                return self.convert(node, spec, f"'{key}'")
            return self.error(
                node.pos, f"'{key}' in {owner} has no value: give one or delete the line"
            )
        return self.convert(node, spec, f"'{key}'")

    def record(self, node: Node, spec: S.Record, what: str) -> Any:
        if not isinstance(node, Map):
            return self.error(
                node.pos,
                f"{what} should be a mapping of keys ({', '.join(spec.keys)}), "
                f"not {describe(node)}",
            )
        values: dict[str, Any] = {}
        where: dict[str, Pos] = {}
        for key, value_node in node.items.items():
            definition = spec.keys.get(key)
            if definition is None:
                if not isinstance(spec, Open):
                    with self.inside(f".{key}"):
                        self.error(
                            node.keys[key].pos,
                            f"unknown key '{truncate(key)}' in {spec.name}"
                            f"{did_you_mean(key, spec.keys)}; allowed keys: {', '.join(spec.keys)}",
                        )
                continue
            where[key] = value_node.pos
            with self.inside(f".{key}"):
                values[key] = self.value(value_node, definition.spec, key, spec.name)
        missing = [k for k, d in spec.keys.items() if d.required and k not in values]
        for key, definition in spec.keys.items():
            values.setdefault(key, INVALID if definition.required else definition.default)
        if missing:  # one line for all of them: they share a position
            keys = ", ".join(f"'{k}'" for k in missing)
            plural = "s" if len(missing) > 1 else ""
            self.error(node.pos, f"{spec.name} is missing the required key{plural} {keys}")
        return Entry(values, node.pos, where)

    def list_of(self, node: Node, spec: S.ListOf, what: str) -> Any:
        if isinstance(node, Scalar) and node.is_null:
            node = Seq(node.pos)
        if not isinstance(node, Seq):
            return self.error(
                node.pos,
                f"{what} should be a list (lines starting '- ', or [a, b]), not {describe(node)}",
            )
        if len(node.items) < spec.min_items:
            return self.error(node.pos, f"{what} is empty: give at least {spec.min_items}")
        values = Items(node.pos)
        seen: dict[tuple[str, Any], Pos] = {}
        for index, item in enumerate(node.items):
            with self.inside(f"[{index}]"):
                value = self.convert(item, spec.item, f"an item of {what}")
                if value is INVALID:
                    continue
                keys: list[tuple[str, Any]] = []
                if spec.unique and isinstance(value, str):
                    keys.append(("", value))
                if isinstance(spec, Records) and isinstance(value, Entry):
                    keys += [(k, value[k]) for k in spec.unique_keys if isinstance(value[k], str)]
                if not self._unique(keys, item.pos, what, seen):
                    continue
            values.add(value, item.pos)
        return values

    def _unique(
        self, keys: list[tuple[str, Any]], pos: Pos, what: str, seen: dict[tuple[str, Any], Pos]
    ) -> bool:
        ok = True
        for key in keys:
            if key in seen:
                first = f" (first at line {seen[key].line})" if seen[key].line else ""
                named = f"the {key[0]} '{key[1]}'" if key[0] else f"'{key[1]}'"
                self.error(pos, f"{named} is listed twice in {what}{first}; remove one")
                ok = False
            else:
                seen[key] = pos
        return ok

    def table(self, node: Node, spec: Table, what: str) -> Any:
        if isinstance(node, Scalar) and node.is_null:
            node = Map(node.pos)
        if not isinstance(node, Map):
            return self.error(
                node.pos, f"{what} should be a mapping (key: value lines), not {describe(node)}"
            )
        if len(node.items) < spec.min_items:
            return self.error(node.pos, f"{what} is empty")
        values: dict[str, Any] = {}
        where: dict[str, Pos] = {}
        for key, value_node in node.items.items():
            with self.inside(f".{key}"):
                if not self._key(node.keys[key], spec.key, what):
                    continue
                value = self.value(value_node, spec.value, key, what)
            if value is not INVALID:
                values[key] = value
                where[key] = value_node.pos
        return Entry(values, node.pos, where)

    def _key(self, node: Scalar, spec: S.Spec, what: str) -> bool:
        """Whether a key of a :class:`Table` is one ``spec`` allows."""
        if isinstance(spec, S.Text) and spec.pattern and not re.match(spec.pattern, node.value):
            self.error(
                node.pos,
                f"the key '{truncate(node.value)}' of {what} is not a valid name: use {spec.hint}",
            )
            return False
        return self.convert(node, spec, f"a key of {what}") is not INVALID

    def one_of(self, node: Node, spec: OneOf, what: str) -> Any:
        choices = " or ".join(f"'{k}'" for k in spec.keys)
        if not isinstance(node, Map):
            return self.error(
                node.pos,
                f"{what} should be a mapping with one key, {choices}, not {describe(node)}",
            )
        chosen = []
        for key, value_node in node.items.items():
            if key in spec.keys:
                chosen.append((key, value_node))
                continue
            with self.inside(f".{key}"):
                self.error(
                    node.keys[key].pos,
                    f"unknown key '{truncate(key)}' in {spec.name}{did_you_mean(key, spec.keys)}; "
                    f"use {choices}",
                )
        if len(chosen) != 1:
            if chosen or len(node.items) == 0:
                self.error(node.pos, f"{spec.name} should have exactly one key, {choices}")
            return INVALID
        key, value_node = chosen[0]
        with self.inside(f".{key}"):
            value = self.value(value_node, spec.keys[key], key, spec.name)
        return INVALID if value is INVALID else (key, value)


def _expect(spec: S.Spec) -> str:
    if isinstance(spec, Prose):
        return "plain-English text"
    if isinstance(spec, Exact):
        return "a number"
    if isinstance(spec, Ref):
        return f"one {spec.vocabulary} id"
    return "a number or a word"


# --------------------------------------------------------------------------- reading


def read(
    root: Node,
    spec: S.Spec,
    path: str,
    *,
    refs: Mapping[str, Sequence[str]] | None = None,
    problems: Sequence[Problem] = (),
    error: ErrorClass = ConfigError,
    what: str = "the file",
) -> Any:
    """Convert the tree ``root`` (of the file ``path``, called ``what`` in messages) with
    ``spec``. Raises ``error`` with every problem found, ``problems`` (found while
    parsing) included."""
    reader = Reader(path, refs)
    reader.problems.extend(problems)
    value = reader.convert(root, spec, what)
    if reader.problems:
        raise error(reader.problems)
    return value


def load(
    path: str | Path,
    spec: S.Spec,
    *,
    refs: Mapping[str, Sequence[str]] | None = None,
) -> Any:
    """Read and check the YAML data file at ``path`` against ``spec``.

    Cached by path and modification time, so each file is parsed once per process
    however many readers need it (``gap.yaml`` holds both the gap rules and their
    thresholds). Raises :class:`ConfigError` (a problem in one of sdsaudit's own files)
    with every problem found.
    """
    frozen = tuple(sorted((name, tuple(ids)) for name, ids in (refs or {}).items()))
    return _load(str(path), _stamp(str(path)), spec, frozen)


def build(
    path: str | Path,
    spec: S.Spec,
    builder: Callable[[Any, Reader], T],
    *,
    refs: Mapping[str, Sequence[str]] | None = None,
) -> T:
    """What ``builder`` makes of the file at ``path`` (read with :func:`load`), cached too.

    ``builder`` turns the checked values into typed objects; it may find more problems
    (cross-references) and report them with the reader's ``fail``, at the positions
    the values carry (:meth:`Entry.at`); they are raised together, as a :class:`ConfigError`.
    """
    frozen = tuple(sorted((name, tuple(ids)) for name, ids in (refs or {}).items()))
    return _build(str(path), _stamp(str(path)), spec, frozen, builder)


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None  # reading it reports the problem
    return status.st_mtime_ns, status.st_size


@cache
def _load(
    path: str,
    stamp: tuple[int, int] | None,
    spec: S.Spec,
    refs: tuple[tuple[str, tuple[str, ...]], ...],
) -> Any:
    try:
        document = parse_file(path)
    except ModelError as exc:
        raise ConfigError(exc.problems) from None
    return read(document.root, spec, path, refs=dict(refs), problems=document.problems)


@cache
def _build(
    path: str,
    stamp: tuple[int, int] | None,
    spec: S.Spec,
    refs: tuple[tuple[str, tuple[str, ...]], ...],
    builder: Callable[[Any, Reader], Any],
) -> Any:
    values = _load(path, stamp, spec, refs)
    reader = Reader(path, dict(refs))
    made = builder(values, reader)
    if reader.problems:
        raise ConfigError(reader.problems)
    return made


def criteria_file(name: str) -> Path:
    """The path of ``criteria/<name>`` (found through :mod:`sdsaudit.resources`)."""
    return resources.data_dir("criteria") / name


# --------------------------------------------------------------------------- JSON


def load_json(path: str, spec: S.Spec, *, what: str, error: ErrorClass = ModelError) -> Any:
    """Read the JSON file at ``path`` (a user's file: ``error`` is :class:`ModelError`)
    and check it against ``spec``. Any malformed JSON gives a plain-English error, never a
    traceback: bad syntax (with its line and column), a byte-order mark (accepted), another
    encoding, nesting deeper than any file sdsaudit writes, or values of the wrong type
    (named by their path in the file, such as ``models[0].findings``)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise error([Problem(path, None, None, f"{what} cannot be read ({reason})")]) from None
    try:
        text = decode(data, path)
    except ModelError as exc:
        raise error(exc.problems) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            [Problem(path, exc.lineno, exc.colno, f"{what} is not valid JSON ({exc.msg})")]
        ) from None
    except RecursionError:
        value = _TOO_DEEP
    root = _json_node(value, path, 0) if value is not _TOO_DEEP else None
    if root is None:
        raise error(
            [
                Problem(
                    path,
                    None,
                    None,
                    f"{what} is nested more than {MAX_DEPTH} levels deep; no file sdsaudit "
                    "writes is: check that it is the right file",
                )
            ]
        )
    return read(root, spec, path, error=error, what=what)


_TOO_DEEP = object()


def _json_node(value: Any, path: str, depth: int) -> Node | None:
    """The JSON value as the node tree YAML gives, without positions (``None`` when it is
    nested more than ``MAX_DEPTH`` levels deep)."""
    pos = Pos(path, 0, 0)
    if depth > MAX_DEPTH:
        return None
    if isinstance(value, dict):
        mapping = Map(pos)
        for key, item in value.items():
            node = _json_node(item, path, depth + 1)
            if node is None:
                return None
            mapping.items[key] = node
            mapping.keys[key] = Scalar(pos, key, plain=False)
        return mapping
    if isinstance(value, list):
        seq = Seq(pos)
        for item in value:
            node = _json_node(item, path, depth + 1)
            if node is None:
                return None
            seq.items.append(node)
        return seq
    if isinstance(value, str):
        return Scalar(pos, value, plain=False)
    return Scalar(pos, json.dumps(value), plain=True)  # numbers, true, false, null
