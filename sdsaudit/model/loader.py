"""Load a process model strictly: every problem, each with file, line and column.

Conversion is driven by the definitions in :mod:`sdsaudit.model.schema`; the cross
checks that a schema cannot express (references, shares, kind-specific keys)
follow. Either a complete :class:`~sdsaudit.model.objects.Model` comes back, or a
:class:`~sdsaudit.errors.ModelError` carrying all the problems found.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Collection, Iterable
from types import MappingProxyType
from typing import Any, BinaryIO

from ..errors import ModelError, Problem, UsageError
from ..words import a_or_an, number
from . import schema as S
from .blocks import find_blocks
from .objects import (
    Actor,
    Authority,
    Model,
    Policies,
    Pos,
    ReviewPolicy,
    Source,
    StartEntry,
    Step,
    Targets,
    Text,
    Transition,
    Waiver,
)
from .source import (
    DEFAULT_MAX_BYTES,
    Map,
    Node,
    Scalar,
    Seq,
    describe,
    parse_file,
    parse_text,
    truncate,
)

INVALID = object()
"""Marks a value that failed conversion (its problem is already recorded)."""

_INT = re.compile(r"^[-+]?[0-9]+$")
_MAX_NUMBER_TEXT = 30
"""Longer numbers are refused unread: no sensible figure needs 30 characters."""
_FLOAT = re.compile(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BOOL = {"true": True, "false": False}
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}
_Report = Callable[[Pos, str], object]
"""How a problem is recorded (:meth:`Converter.error`)."""


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else ``""``."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            match = [lowered[word.lower()]]
    return f" (did you mean '{match[0]}'?)" if match else ""


class Located:
    """A converted record: its values, its position, and each key's value position."""

    __slots__ = ("values", "pos", "where")

    def __init__(self, values: dict[str, Any], pos: Pos, where: dict[str, Pos]):
        self.values = values
        self.pos = pos
        self.where = where

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key, default)
        return default if value is INVALID else value

    def at(self, key: str) -> Pos:
        return self.where.get(key, self.pos)


class Converter:
    """Converts YAML nodes with the definitions of :mod:`sdsaudit.model.schema`, collecting every
    problem with its position. :mod:`sdsaudit.model.datafile` extends it for sdsaudit's own data."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def error(self, pos: Pos, message: str) -> object:
        self.problems.append(Problem(self.path, pos.line, pos.column, message))
        return INVALID

    def convert(self, node: Node, spec: S.Spec, what: str) -> Any:
        if isinstance(spec, S.Record):
            return self.record(node, spec, what)
        if isinstance(spec, S.MapOf):
            return self.map_of(node, spec, what)
        if isinstance(spec, S.ListOf):
            return self.list_of(node, spec, what)
        if isinstance(spec, S.Either):
            if isinstance(node, Map) and spec.long is not None:
                return self.convert(node, spec.long, what)
            if isinstance(node, Seq) and spec.listed is not None:
                return self.convert(node, spec.listed, what)
            return self.convert(node, spec.short, what)
        if not isinstance(node, Scalar):
            return self.error(node.pos, f"{what} should be {_expect(spec)}, not {describe(node)}")
        if isinstance(spec, S.Text):
            return self.text(node, spec, what)
        if isinstance(spec, S.Number):
            return self.number(node, spec, what)
        if isinstance(spec, S.Flag):
            return self.flag(node, what)
        if isinstance(spec, S.Date):
            return self.date(node, what)
        if isinstance(spec, S.Word):
            return self.word(node, spec, what)
        if isinstance(spec, S.Const):
            return self.const(node, spec, what)
        raise TypeError(spec)  # pragma: no cover

    def text(self, node: Scalar, spec: S.Text, what: str) -> Any:
        value = node.value.strip()
        if node.is_null or not value:
            return self.error(node.pos, f"{what} is empty: write it out")
        if spec.pattern and not re.match(spec.pattern, node.value):
            return self.error(
                node.pos, f"{what} '{truncate(node.value)}' is not a valid id: use {spec.hint}"
            )
        return node.value

    def number(self, node: Scalar, spec: S.Number, what: str) -> Any:
        raw = node.value.strip()
        if spec.word is not None and raw == spec.word:
            return spec.word
        if not node.plain:
            return self.error(
                node.pos,
                f"{what} should be a number, written without quotes, not '{truncate(raw)}'",
            )
        if spec.integer and not _INT.match(raw):
            return self.error(node.pos, f"{what} should be a whole number, not '{truncate(raw)}'")
        if not _FLOAT.match(raw):
            word = f" or the word '{spec.word}'" if spec.word else ""
            return self.error(node.pos, f"{what} should be a number{word}, not '{truncate(raw)}'")
        if len(raw) > _MAX_NUMBER_TEXT:
            # checked before converting: Python refuses to read integers of over 4,300
            # digits, and 1e309 reads as infinity
            largest = f" (the largest allowed is {number(spec.maximum)})" if spec.maximum else ""
            return self.error(
                node.pos, f"{what} '{truncate(raw)}' is far too large a number{largest}"
            )
        value: float | int = int(raw) if _INT.match(raw) else float(raw)
        if spec.minimum is not None and value < spec.minimum:
            return self.error(
                node.pos, f"{what} is {raw}, below the smallest allowed ({number(spec.minimum)})"
            )
        if spec.maximum is not None and value > spec.maximum:
            return self.error(
                node.pos, f"{what} is {raw}, above the largest allowed ({number(spec.maximum)})"
            )
        return value

    def flag(self, node: Scalar, what: str) -> Any:
        raw = node.value.strip()
        if node.plain and raw.lower() in _BOOL:
            return _BOOL[raw.lower()]
        hint = (
            " ('yes' and 'no' are not accepted, to avoid surprises)"
            if raw.lower() in _YAML11_BOOLS
            else ""
        )
        return self.error(node.pos, f"{what} should be true or false, not '{truncate(raw)}'{hint}")

    def date(self, node: Scalar, what: str) -> Any:
        raw = node.value.strip()
        if _DATE.match(raw):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        return self.error(
            node.pos,
            f"{what} should be a date written YYYY-MM-DD, such as 2026-04-01, "
            f"not '{truncate(raw)}'",
        )

    def word(self, node: Scalar, spec: S.Word, what: str) -> Any:
        raw = node.value.strip()
        if raw in spec.words:
            return raw
        return self.error(
            node.pos,
            f"'{truncate(raw)}' is not a known {spec.vocabulary}{did_you_mean(raw, spec.words)}; "
            f"use one of: {', '.join(spec.words)}",
        )

    def const(self, node: Scalar, spec: S.Const, what: str) -> Any:
        raw = node.value.strip()
        if node.plain and raw in spec.values:
            return raw
        versions = " and ".join(spec.values)
        return self.error(
            node.pos,
            f"{what} is '{truncate(raw)}', but this sdsaudit reads format versions "
            f"{versions}: write 'sdsaudit: {spec.values[-1]}'",
        )

    def list_of(self, node: Node, spec: S.ListOf, what: str) -> Any:
        if isinstance(node, Scalar) and node.is_null:
            node = Seq(node.pos)
        if not isinstance(node, Seq):
            return self.error(
                node.pos,
                f"{what} should be a list (lines starting '- ', or [a, b]), not {describe(node)}",
            )
        if len(node.items) < spec.min_items:
            held = f"lists only {len(node.items)}" if node.items else "is empty"
            return self.error(node.pos, f"{what} {held}: give at least {spec.min_items}")
        values = []
        seen: dict[Any, Pos] = {}
        for item in node.items:
            value = self.convert(item, spec.item, f"an item of {what}")
            if value is INVALID:
                values.append(INVALID)
                continue
            if spec.unique and isinstance(value, str):
                if value in seen:
                    self.error(
                        item.pos,
                        f"'{value}' is listed twice in {what} (first at line {seen[value].line}); "
                        "remove one",
                    )
                    continue
                seen[value] = item.pos
            values.append((value, item.pos))
        return values

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
            key_pos = node.keys[key].pos
            if key not in spec.keys:
                self.error(
                    key_pos,
                    f"unknown key '{truncate(key)}' in {spec.name}{did_you_mean(key, spec.keys)}; "
                    f"allowed keys: {', '.join(spec.keys)}",
                )
                continue
            where[key] = value_node.pos
            if (
                isinstance(value_node, Scalar)
                and value_node.is_null
                and not isinstance(spec.keys[key].spec, S.ListOf)
            ):
                self.error(
                    value_node.pos,
                    f"'{key}' in {spec.name} has no value: give one or delete the line",
                )
                values[key] = INVALID
                continue
            values[key] = self.convert(value_node, spec.keys[key].spec, f"'{key}'")
        missing = []
        for key, definition in spec.keys.items():
            if key in values:
                continue
            if definition.required:
                missing.append(key)
                values[key] = INVALID
            elif definition.default is not None:
                values[key] = definition.default
        if missing:  # one line for all of them: they share a position
            keys = ", ".join(f"'{k}'" for k in missing)
            plural = "s" if len(missing) > 1 else ""
            self.error(node.pos, f"{spec.name} is missing the required key{plural} {keys}")
        return Located(values, node.pos, where)

    def map_of(self, node: Node, spec: S.MapOf, what: str) -> Any:
        if not isinstance(node, Map):
            return self.error(
                node.pos, f"{what} should be a mapping of id: {{...}}, not {describe(node)}"
            )
        if len(node.items) < spec.min_items:
            return self.error(node.pos, f"{what} is empty")
        out: dict[str, Any] = {}
        for key, value_node in node.items.items():
            if not re.match(S.ID_PATTERN, key):
                self.error(
                    node.keys[key].pos, f"'{truncate(key)}' is not a valid id: use {S.ID.hint}"
                )
                continue
            out[key] = self.convert(value_node, spec.value, f"'{key}'")
        return out


def _expect(spec: S.Spec) -> str:
    if isinstance(spec, S.Number):
        return "a whole number" if spec.integer else "a number"
    if isinstance(spec, S.Flag):
        return "true or false"
    if isinstance(spec, S.Date):
        return "a date (YYYY-MM-DD)"
    if isinstance(spec, S.Word):
        return f"one {spec.vocabulary} word"
    return "a single value"


def _items(values: Any) -> list[tuple[Any, Pos]]:
    """The valid (value, position) pairs of a converted list."""
    if values is INVALID or values is None:
        return []
    if isinstance(values, tuple):  # a default
        return []
    return [v for v in values if v is not INVALID]


# --------------------------------------------------------------------------- public API


def load_model(
    path: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: BinaryIO | None = None,
    known_rules: Collection[str] | None = None,
) -> Model:
    """Read and validate the model at ``path`` (``-`` for standard input).

    Raises :class:`ModelError` with every problem found. ``known_rules`` are the
    rule ids a waiver may name; by default, the catalogue's.
    """
    document = parse_file(path, max_bytes=max_bytes, stdin=stdin)
    name = "<stdin>" if path == "-" else path
    return _build(document.root, document.problems, name, known_rules)


def load_models(
    paths: Iterable[str], *, max_bytes: int = DEFAULT_MAX_BYTES, stdin: BinaryIO | None = None
) -> list[Model]:
    """Load several models, reporting the problems of all of them together.

    Raises one :class:`ModelError` carrying every problem in every file, so a user
    fixing a batch of models sees everything at once.
    """
    paths = list(paths)
    if paths.count("-") > 1:
        raise UsageError("'-' (standard input) can be given only once: it can be read only once")
    models: list[Model] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            models.append(load_model(path, max_bytes=max_bytes, stdin=stdin))
        except ModelError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ModelError(problems)
    return models


def load_model_text(
    text: str, path: str = "<text>", *, known_rules: Collection[str] | None = None
) -> Model:
    """Validate a model given as text (tests, patches, the API)."""
    document = parse_text(text, path)
    return _build(document.root, document.problems, path, known_rules)


def _default_rules() -> Collection[str]:
    from .catalogue import waivable_rule_ids  # criteria/ is data the loader may read

    return waivable_rule_ids()


def _build(
    root: Node, problems: list[Problem], path: str, known_rules: Collection[str] | None
) -> Model:
    conv = Converter(path)
    conv.problems.extend(problems)
    top = conv.convert(root, S.MODEL, "the model")
    model = None
    if isinstance(top, Located):
        model = _assemble(
            top, conv, path, known_rules if known_rules is not None else _default_rules()
        )
    if conv.problems or model is None:
        raise ModelError(conv.problems)
    return model


def _assemble(
    top: Located, conv: Converter, path: str, known_rules: Collection[str]
) -> Model | None:
    err = conv.error
    raw_actors = top.get("actors") or {}
    actors = _actors(top, raw_actors, err)
    authorities = _authorities(top, err)
    step_recs: list[Located] = [
        rec for rec, _ in _items(top.get("steps")) if isinstance(rec, Located)
    ]
    step_ids = _step_ids(step_recs, err)
    auth_ids = [a.id for a in authorities]
    steps: list[Step] = []
    for rec in step_recs:
        step = _step(rec, conv, actors, raw_actors, auth_ids, step_ids)
        if step is not None:
            steps.append(step)
    if (
        step_recs
        and not authorities
        and top.get("authorities") is None
        and any(rec.get("kind") == "approval" for rec in step_recs)
    ):
        err(
            top.pos,
            "the model has approval steps but no 'authorities' list: add the levels of sign-off, "
            "lowest first, e.g. authorities: [{id: team_manager, name: Team manager, limit: 900}]",
        )
    entries = _entries(top, err, step_ids)
    sources = _sources(top, err)
    source_ids = [s.id for s in sources]
    for step, rec in zip(steps, step_recs, strict=False):
        for sid in step.sources:
            if sid not in source_ids:
                err(
                    rec.at("source"),
                    f"step '{step.id}' names the source '{sid}', which is not in 'sources'"
                    f"{did_you_mean(sid, source_ids)}",
                )
    assumed = _top_assumed(top, err)
    waivers = _waivers(top, err, step_ids, known_rules)
    _check_version(top, step_recs, err)
    if not conv.problems and steps:
        blocks, block_problems = find_blocks(steps)
        for pos, message in block_problems:
            err(pos, message)
        for entry in entries:  # a branch is entered only from its parallel step
            for block in blocks:
                n = block.branch_of(entry.to)
                if n is not None:
                    err(
                        entry.pos if entry.pos.line else top.at("start"),
                        f"start '{entry.to}' is inside branch '{block.branches[n][0]}' of the "
                        f"parallel step '{block.step}': a branch can be entered only from its "
                        f"parallel step, so start at '{block.step}' or before it",
                    )
                    break
    if conv.problems:
        return None
    return Model(
        council=top.get("council"),
        title=top.get("title"),
        as_of=top.get("as_of"),
        start=entries[0].to,
        entries=tuple(entries),
        grouped=isinstance(top.values.get("start"), list),
        sources=tuple(sources),
        assumed=assumed,
        steps=tuple(steps),
        actors=MappingProxyType(actors),
        authorities=tuple(authorities),
        options=_words(top.get("options")),
        policies=_policies(top.get("policies")),
        targets=_targets(top.get("targets")),
        waivers=tuple(waivers),
        description=top.get("description"),
        version=top.get("sdsaudit"),
        path=path,
        pos=top.pos,
    )


def _check_version(top: Located, step_recs: list[Located], err: _Report) -> None:
    """A file saying ``sdsaudit: 1`` may not use what format 1.1 adds."""
    if top.get("sdsaudit") != "1":
        return
    NEW_IN_1_1 = (
        "is new in format 1.1, but this file says 'sdsaudit: 1': change that "
        f"(line {top.at('sdsaudit').line}) to 'sdsaudit: 1.1'"
    )
    for key in ("sources", "assumed"):
        if key in top.where:
            err(top.at(key), f"'{key}' {NEW_IN_1_1}")
    if isinstance(top.values.get("start"), list):
        err(top.at("start"), f"'start' as a list of groups {NEW_IN_1_1}")
    for rec in step_recs:
        for key in ("branches", "join", "source", "assumed"):
            if key in rec.where:
                err(rec.at(key), f"'{key}' {NEW_IN_1_1}")
        if rec.get("kind") == "parallel":
            err(rec.at("kind"), f"the step kind 'parallel' {NEW_IN_1_1}")
        if rec.get("days") == "unknown":
            err(rec.at("days"), f"'days: unknown' {NEW_IN_1_1}")
        for value, pos in _items(rec.get("restrictions")):
            if isinstance(value, Located):
                err(pos, f"a restriction written as {{text, basis, ref}} {NEW_IN_1_1}")
    policies = top.get("policies")
    if isinstance(policies, Located):
        for value, pos in _items(policies.get("restrictions")):
            if isinstance(value, Located):
                err(pos, f"a restriction written as {{text, basis, ref}} {NEW_IN_1_1}")


def _entries(top: Located, err: _Report, step_ids: dict[str, Pos]) -> list[StartEntry]:
    """``start``: one step id, or a list of groups with the share rules of ``next``."""
    raw = top.get("start")
    if raw is None:
        return [StartEntry("")]
    if isinstance(raw, str):
        entries = [StartEntry(raw, pos=top.at("start"))]
    else:
        entries = [
            StartEntry(rec.get("to"), rec.get("when"), rec.get("share"), rec.pos)
            for rec, _ in _items(raw)
            if isinstance(rec, Located) and rec.get("to") is not None
        ]
        if not entries:
            return [StartEntry("")]
    seen: dict[str, Pos] = {}
    for e in entries:
        where = e.pos if e.pos.line else top.at("start")
        if step_ids and e.to not in step_ids:
            err(
                where,
                f"start '{e.to}' is not the id of any step{did_you_mean(e.to, step_ids)}",
            )
        if e.when is not None:
            if e.when in seen:
                err(
                    where,
                    f"two start entries are both for '{e.when}' (first at line "
                    f"{seen[e.when].line}): name each group once",
                )
            seen[e.when] = where
    shares = [e.share for e in entries if e.share is not None]
    if shares:
        total = sum(shares)
        if total > 1 + 1e-3:
            err(
                top.at("start"),
                f"the shares of the start entries add up to {total:g}, more than 1: they are "
                "proportions of people and must not exceed 1 in total",
            )
        elif len(shares) == len(entries) and abs(total - 1) > 1e-3:
            err(
                top.at("start"),
                f"every start entry has a share, but they add up to {total:g}, not 1: adjust "
                "them, or leave one entry without a share to take what is left",
            )
    return entries


def _sources(top: Located, err: _Report) -> list[Source]:
    sources: list[Source] = []
    seen: dict[str, Pos] = {}
    for rec, _ in _items(top.get("sources")):
        if not isinstance(rec, Located) or rec.get("id") is None or rec.get("title") is None:
            continue
        sid = rec.get("id")
        if sid in seen:
            err(
                rec.at("id"),
                f"source id '{sid}' is used twice (first at line {seen[sid].line}); ids must "
                "be unique",
            )
            continue
        seen[sid] = rec.at("id")
        sources.append(
            Source(
                sid,
                rec.get("title"),
                rec.get("published"),
                rec.get("url"),
                rec.get("note"),
                rec.pos,
            )
        )
    return sources


TOP_ASSUMABLE = ("options", "targets", "authorities", "actors", "policies", "start")
"""Top-level keys ``assumed`` may name (besides ``policies.KEY``)."""
STEP_ASSUMABLE = tuple(k for k in S.STEP.keys if k not in ("id", "assumed", "source"))
"""A step's keys its ``assumed`` may name."""


def _top_assumed(top: Located, err: _Report) -> tuple[str, ...]:
    """Top-level ``assumed``: top-level keys, or ``policies.KEY``."""
    out: list[str] = []
    allowed = [*TOP_ASSUMABLE, *(f"policies.{k}" for k in S.POLICIES.keys)]
    for value, pos in _items(top.get("assumed")):
        if value not in allowed:
            err(
                pos,
                f"'assumed' names '{truncate(value)}', which is not a top-level key or "
                f"'policies.KEY' that can be assumed{did_you_mean(value, allowed)}; "
                f"use one of: {', '.join(allowed)}",
            )
            continue
        out.append(value)
    return tuple(out)


def _actors(top: Located, raw_actors: dict, err: _Report) -> dict[str, Actor]:
    actors: dict[str, Actor] = {}
    for actor_id, rec in raw_actors.items():
        if isinstance(rec, Located) and rec.get("name") and rec.get("kind"):
            actors[actor_id] = Actor(actor_id, rec.get("name"), rec.get("kind"), rec.pos)
    if (
        raw_actors
        and top.get("actors") is not INVALID
        and not any(a.kind == "person" for a in actors.values())
        and len(actors) == len(raw_actors)
    ):
        err(
            top.at("actors"),
            "no actor is of kind 'person': add the person, e.g. "
            "person: {name: The person and their family, kind: person}",
        )
    return actors


def _authorities(top: Located, err: _Report) -> list[Authority]:
    authorities: list[Authority] = []
    seen_auth: dict[str, Pos] = {}
    for rec, _ in _items(top.get("authorities")):
        if not isinstance(rec, Located) or rec.get("id") is None or rec.get("name") is None:
            continue
        aid = rec.get("id")
        if aid in seen_auth:
            err(
                rec.at("id"),
                f"authority id '{aid}' is used twice (first at line {seen_auth[aid].line}); ids must be unique",
            )
            continue
        seen_auth[aid] = rec.at("id")
        authorities.append(Authority(aid, rec.get("name"), rec.get("limit"), rec.pos))
    return authorities


def _step_ids(step_recs: list[Located], err: _Report) -> dict[str, Pos]:
    step_ids: dict[str, Pos] = {}
    for rec in step_recs:
        sid = rec.get("id")
        if sid is None:
            continue
        if sid in step_ids:
            err(
                rec.at("id"),
                f"step id '{sid}' is used twice (first at line {step_ids[sid].line}); ids must be unique",
            )
        else:
            step_ids[sid] = rec.at("id")
    return step_ids


def _waivers(
    top: Located, err: _Report, step_ids: dict[str, Pos], known_rules: Collection[str]
) -> list[Waiver]:
    waivers: list[Waiver] = []
    for rec, _ in _items(top.get("waivers")):
        if not isinstance(rec, Located):
            continue
        rule, step, reason = rec.get("rule"), rec.get("step"), rec.get("reason")
        if rule is not None and rule not in known_rules:
            err(
                rec.at("rule"),
                f"waiver names the rule '{rule}', which does not exist"
                f"{did_you_mean(rule, known_rules)}; see 'sdsaudit rules'",
            )
            continue
        if step is not None and step not in step_ids:
            err(
                rec.at("step"),
                f"waiver names the step '{step}', which does not exist{did_you_mean(step, step_ids)}",
            )
            continue
        if rule is not None and reason is not None:
            waivers.append(Waiver(rule, reason, step, rec.pos))
    return waivers


def _words(values: Any) -> tuple[str, ...] | None:
    if values is None or values is INVALID:
        return None
    if isinstance(values, tuple):
        return values
    return tuple(v for v, _ in _items(values))


def _texts(values: Any) -> tuple[Text, ...]:
    """Restrictions: plain strings (set by the council) or ``{text, basis, ref}``."""
    out: list[Text] = []
    for v, pos in _items(values):
        if isinstance(v, Located):
            if v.get("text") is not None:
                out.append(Text(v.get("text"), pos, v.get("basis") or "council", v.get("ref")))
        else:
            out.append(Text(v, pos))
    return tuple(out)


def _review(rec: Any) -> ReviewPolicy | None:
    if not isinstance(rec, Located):
        return None
    return ReviewPolicy(rec.get("first_days"), rec.get("interval_days"), rec.pos)


def _policies(rec: Any) -> Policies:
    if not isinstance(rec, Located):
        return Policies()
    return Policies(
        allowed_uses=_words(rec.values.get("allowed_uses")),
        restrictions=_texts(rec.get("restrictions")),
        prepaid_card_default=rec.get("prepaid_card_default"),
        allocation_method_published=rec.get("allocation_method_published"),
        review=_review(rec.get("review")),
        dp_review=_review(rec.get("dp_review")),
        pos=rec.pos,
    )


def _targets(rec: Any) -> Targets:
    if not isinstance(rec, Located):
        return Targets()
    return Targets(**{k: rec.get(k) for k in S.TARGETS.keys}, pos=rec.pos)


def _step(
    rec: Located,
    conv: Converter,
    actors: dict[str, Actor],
    raw_actors: dict,
    auth_ids: list[str],
    step_ids: dict[str, Pos],
) -> Step | None:
    err: _Report = conv.error
    sid, kind = rec.get("id"), rec.get("kind")
    label = f"step '{sid}'" if sid else "this step"
    if kind is not None:
        _check_kind_keys(rec, kind, label, err)
    actor = rec.get("actor")
    if actor is not None and actor not in raw_actors:
        err(
            rec.at("actor"),
            f"actor '{actor}' of {label} is not in 'actors'{did_you_mean(actor, raw_actors)}",
        )
    authority = rec.get("authority")
    if authority is not None and authority not in auth_ids:
        err(
            rec.at("authority"),
            f"authority '{authority}' of {label} is not in 'authorities'"
            f"{did_you_mean(authority, auth_ids)}",
        )
    transitions = _transitions(rec, label, step_ids, err)
    _check_branches(rec, label, transitions, err)
    branches = _words(rec.values.get("branches")) or ()
    for name, where in [(b, p) for b, p in _items(rec.get("branches"))] + (
        [(rec.get("join"), rec.at("join"))] if rec.get("join") is not None else []
    ):
        if step_ids and name not in step_ids:
            err(
                where,
                f"{label} names '{name}', which is not the id of any step"
                f"{did_you_mean(name, step_ids)}",
            )
    source = rec.get("source")
    sources = (source,) if isinstance(source, str) else _words(source) or ()
    assumed = _words(rec.values.get("assumed")) or ()
    for value, pos in _items(rec.get("assumed")):
        if value not in STEP_ASSUMABLE:
            choices = list(STEP_ASSUMABLE)
            err(
                pos,
                f"'assumed' of {label} names '{truncate(value)}', which is not a key a step "
                f"can have{did_you_mean(value, choices)}; use one of: {', '.join(choices)}",
            )
    if any(v is INVALID for v in rec.values.values()) or any(
        rec.values.get(k) is None for k in ("id", "name", "kind")
    ):
        return None  # its problems are recorded; the model will not be built
    days = rec.get("days")
    return Step(
        id=sid,
        name=rec.get("name"),
        kind=kind,
        actor=actor,
        person=rec.get("person"),
        days=0.0 if days in (None, "unknown") else float(days),
        days_unknown=days == "unknown",
        days_given=days is not None,
        branches=branches,
        join=rec.get("join"),
        sources=sources,
        assumed=assumed,
        forms=int(rec.get("forms")),
        asks=_words(rec.values.get("asks")) or (),
        tells=_words(rec.values.get("tells")) or (),
        produces=_words(rec.values.get("produces")) or (),
        approves=_words(rec.values.get("approves")) or (),
        authority=authority,
        restrictions=_texts(rec.get("restrictions")),
        outcome=rec.get("outcome"),
        note=rec.get("note"),
        next=tuple(transitions),
        pos=rec.pos,
    )


def _check_kind_keys(rec: Located, kind: str, label: str, err: _Report) -> None:
    """The keys a step of this kind must have, and those it must not."""
    present = set(rec.where)
    for key, kinds in S.KIND_ONLY_KEYS.items():
        if key in present and kind not in kinds and kind != "parallel":  # said once, below
            err(
                rec.at(key),
                f"'{key}' belongs only on {' or '.join(kinds)} steps, but {label} is "
                f"{a_or_an(kind)} step: "
                f"remove it, or change the kind",
            )
    if kind == "parallel":
        for key in sorted(present - set(S.PARALLEL_KEYS), key=list(S.STEP.keys).index):
            err(
                rec.at(key),
                f"{label} is a parallel step, which nobody does and which takes no time, so it "
                f"cannot have '{key}': put it on a step inside a branch",
            )
    for key in S.KIND_REQUIRED_KEYS.get(kind, ()):
        if key not in present:
            err(rec.pos, f"{label} is {a_or_an(kind)} step, so it needs '{key}'")
    if kind == "end" and "next" in present:
        err(
            rec.at("next"),
            f"{label} is an end step, so it cannot have 'next': remove it, or change the kind",
        )
    # A step without 'next' is read: it is a dead end, which rule STRUCT-02 reports
    # (as an error finding, with the rest of the audit) rather than stopping the run.
    if kind not in S.NO_ACTOR_KINDS and "actor" not in present:
        err(rec.pos, f"{label} has no 'actor': say who does it (an id from 'actors')")


def _transitions(
    rec: Located, label: str, step_ids: dict[str, Pos], err: _Report
) -> list[Transition]:
    """A step's branches, each checked to lead to a step of the model."""
    transitions: list[Transition] = []
    for value, pos in _items(rec.get("next")):
        if isinstance(value, Located):
            t = Transition(
                value.get("to"),
                value.get("when"),
                value.get("share"),
                bool(value.get("rework")),
                value.pos,
            )
        else:
            t = Transition(value, pos=pos)
        if t.to is None:
            continue
        if step_ids and t.to not in step_ids:
            err(
                value.at("to") if isinstance(value, Located) else pos,
                f"{label} goes next to '{t.to}', which is not the id of any step{did_you_mean(t.to, step_ids)}",
            )
        transitions.append(t)
    return transitions


def _check_branches(rec: Located, label: str, transitions: list[Transition], err: _Report) -> None:
    """The shares of a step's branches add up, and no two branches go to the same step."""
    shares = [t.share for t in transitions if t.share is not None]
    if shares:
        total = sum(shares)
        if total > 1 + 1e-3:
            err(
                rec.at("next"),
                f"the shares of the branches of {label} add up to {total:g}, more than 1: "
                "they are proportions of cases and must not exceed 1 in total",
            )
        elif len(shares) == len(transitions) and abs(total - 1) > 1e-3:
            err(
                rec.at("next"),
                f"every branch of {label} has a share, but they add up to {total:g}, not 1: "
                "adjust them, or leave one branch without a share to take what is left",
            )
    targets_seen: dict[str, Pos] = {}
    for t in transitions:
        if t.to in targets_seen:
            err(t.pos, f"{label} goes to '{t.to}' twice: merge the two branches into one")
        targets_seen[t.to] = t.pos
