"""Writing a changed model back into the council's own file, keeping its comments and layout.

A re-dump (:func:`sdsaudit.stocktake.patch_write.emit_model`) writes a valid model but
loses every comment and the council's own spacing. Here the change is made on a
round-trip copy of the file instead (ruamel.yaml, which keeps comments), and only the
lines that really changed are taken from it:

1. the file is read by ruamel.yaml into a round-trip document, which is written out
   once untouched (the *base*: the same content in ruamel's layout);
2. the document is brought in line with the new plain data (:func:`sync`): a value that
   did not change keeps its node (and its comment); steps are matched by id;
3. it is written out again (the *edited* text), and the lines that differ between base
   and edited replace the matching lines of the original file (:func:`merge_lines`):
   every other line, comment and blank line of the file stays byte for byte as it was;
4. the result must read back (through sdsaudit's own strict reader) to exactly the new
   data, else ruamel's whole output is used (comments still kept), else the change is
   refused: a file is never written with content other than the change asked for.

Plain data is :mod:`sdsaudit.stocktake.patch`'s: mappings, lists and
:class:`~sdsaudit.stocktake.patch.Raw` scalars that remember whether they were quoted.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from ..errors import ModelError, Problem
from ..model.source import parse_text
from ..stocktake.patch import Raw, Value, to_data
from ..stocktake.patch_write import scalar_text

FLOW_WIDTH = 100
"""A new mapping or list of scalars is written on one line when it fits in this width."""


class LayoutLost(Exception):
    """The change could not be written with the file's comments kept (a bug, or a file
    ruamel.yaml cannot read); nothing is written."""


# --------------------------------------------------------------------------- ruamel set-up


def _mapping_indent(text: str) -> int:
    """How far the file indents a nested mapping (2 unless it shows otherwise)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^[A-Za-z_][\w-]*:\s*(#.*)?$", line):
            for below in lines[i + 1 :]:
                if not below.strip() or below.lstrip().startswith("#"):
                    continue
                indent = len(below) - len(below.lstrip())
                if indent and not below.lstrip().startswith("-"):
                    return indent
                break
    return 2


def _sequence_indent(text: str, mapping: int) -> tuple[int, int]:
    """(indent of a list item's content, indent of its dash) as the file writes lists
    of mappings under a key (``steps:`` then ``  - id: ...`` is (4, 2))."""
    for match in re.finditer(
        r"^([A-Za-z_][\w-]*):\s*(#.*)?\n((?:\s*#.*\n|\s*\n)*)( *)- ", text, re.M
    ):
        dash = len(match.group(4))
        return dash + 2, dash
    return mapping, 0


def round_trip(text: str) -> YAML:
    """A ruamel.yaml round-trip reader and writer set up for this file's layout."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    mapping = _mapping_indent(text)
    sequence, offset = _sequence_indent(text, mapping)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, document: Any) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


# --------------------------------------------------------------------------- syncing


def _scalar(yaml: YAML, value: Value) -> Any:
    """A plain-data scalar as ruamel's round-trip value, written as the project's writer
    would write it (so ``21`` stays a number and ``"21"`` stays text)."""
    return yaml.load(f"v: {scalar_text(value)}\n")["v"]


def _short(value: Value) -> bool:
    return not isinstance(value, (dict, list))


def _node(yaml: YAML, value: Value) -> Any:
    """New ruamel content for a value the file does not have yet: a list of scalars, or a
    mapping of scalars and such lists, on one line (as the council's files write them)."""
    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _node(yaml, item)
        if all(_short(v) or (isinstance(v, list) and all(map(_short, v))) for v in value.values()):
            flow = "{" + ", ".join(f"{k}: {scalar_text(v)}" for k, v in value.items()) + "}"
            if len(flow) <= FLOW_WIDTH:
                node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq()
        for item in value:
            seq.append(_node(yaml, item))
        if all(map(_short, value)):
            seq.fa.set_flow_style()
        return seq
    return _scalar(yaml, value)


def _same(node: Any, value: Value) -> bool:
    """Whether the file's node already holds ``value``, as the strict reader sees it."""
    return _canonical(_plain(node)) == _canonical(value)


def _plain(node: Any) -> Value:
    """A ruamel node as plain data, read the way sdsaudit's reader reads it."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    return to_data(parse_text(_dump(yaml, {"v": node}), "<value>").root)["v"]


_SPECIAL = re.compile(
    r"^(?:[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|true|false|~|null|Null|NULL"
    r"|\d{4}-\d{2}-\d{2}|)$"
)
"""Text whose meaning depends on whether it is quoted (numbers, true and false, null,
dates, nothing): the reader takes ``21`` as a number and ``"21"`` as text."""


def _canonical(value: Value) -> Any:
    """Plain data as the strict reader understands it: quoting counts only where it
    changes the meaning (``"21"`` is not ``21``; ``"Panel"`` is ``Panel``)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, Raw):
        text, plain = value.text, value.plain
    elif isinstance(value, str):
        text, plain = value, False
    else:
        text, plain = scalar_text(value), True
    return ("plain" if plain else "quoted", text) if _SPECIAL.match(text) else ("text", text)


_NOTHING = object()


def sync(yaml: YAML, node: Any, value: Value, old: Any = _NOTHING) -> Any:
    """Bring the ruamel ``node`` in line with ``value``, changing it in place where it can
    (so comments stay with the keys and items they belong to); return the node to use.

    ``old`` is the plain data ``node`` holds, when known: where it equals ``value`` the
    node is left as it is without looking inside (a change of one step touches only it).
    """
    if old is not _NOTHING and _canonical(old) == _canonical(value):
        return node
    if isinstance(value, dict) and isinstance(node, CommentedMap):
        olds = old if isinstance(old, dict) else {}
        for key in [k for k in node if k not in value]:
            del node[key]
        keys = list(value)
        for n, key in enumerate(keys):
            if key in node:
                new = sync(yaml, node[key], value[key], olds.get(key, _NOTHING))
                if new is not node[key]:
                    node[key] = new
                continue
            # a new key goes after the keys that come before it in the new data
            before = [k for k in keys[:n] if k in node]
            at = list(node).index(before[-1]) + 1 if before else 0
            node.insert(at, key, _node(yaml, value[key]))
        return node
    if isinstance(value, list) and isinstance(node, CommentedSeq):
        if all(map(_short, value)) and not all(map(_short, node)):
            return _node(yaml, value)  # records became plain words: one line, as new
        olds_list = old if isinstance(old, list) and len(old) == len(node) else None
        if _by_id(node, value):
            _sync_steps(yaml, node, value, olds_list)
            return node
        for n, item in enumerate(value):
            if n < len(node):
                new = sync(yaml, node[n], item, olds_list[n] if olds_list else _NOTHING)
                if new is not node[n]:
                    node[n] = new
            else:
                node.append(_node(yaml, item))
        while len(node) > len(value):
            del node[len(node) - 1]
        return node
    if not isinstance(value, (dict, list)) and not isinstance(node, (CommentedMap, CommentedSeq)):
        return node if _same(node, value) else _scalar(yaml, value)
    return _node(yaml, value)


def _id(item: Any) -> str | None:
    if isinstance(item, dict) and "id" in item:
        return str(item["id"])
    return None


def _by_id(node: CommentedSeq, value: list) -> bool:
    """Whether a list is one of records with ids (steps, actors' lists, sources)."""
    return (
        bool(value)
        and all(_id(v) is not None for v in value)
        and all(_id(n) is not None for n in node)
    )


def _sync_steps(yaml: YAML, node: CommentedSeq, value: list, old: list | None) -> None:
    """Records matched by id: the removed ones deleted, the kept ones synced, the new
    ones inserted where the new data puts them (items move only when they must)."""
    before = {_id(o): o for o in old} if old is not None else {}
    wanted = [_id(v) for v in value]
    for n in range(len(node) - 1, -1, -1):
        if _id(node[n]) not in wanted:
            del node[n]
    kept = [_id(n) for n in node]
    if [w for w in wanted if w in kept] != kept:
        # the order changed: rebuild the list in the new order (comments travel with items)
        by_id = {_id(n): n for n in node}
        items = [by_id.get(w) for w in wanted]
        while len(node):
            del node[len(node) - 1]
        for item, record in zip(items, value, strict=True):
            node.append(
                sync(yaml, item, record, before.get(_id(record), _NOTHING))
                if item is not None
                else _node(yaml, record)
            )
        return
    for n, record in enumerate(value):
        if n < len(node) and _id(node[n]) == _id(record):
            new = sync(yaml, node[n], record, before.get(_id(record), _NOTHING))
            if new is not node[n]:
                node[n] = new
        else:
            node.insert(n, _node(yaml, record))


# --------------------------------------------------------------------------- lines


def merge_lines(original: str, base: str, edited: str) -> str:
    """``original`` with the changes from ``base`` to ``edited`` made in it.

    ``base`` is ``original``'s content in another layout (ruamel's), ``edited`` the
    changed content in that layout. Lines the change does not touch come from
    ``original`` as they were; a region where the layouts differ *and* the change falls
    is taken from ``edited`` whole. When ``edited`` equals ``base`` the result is
    ``original`` exactly.
    """
    o, b, e = (t.splitlines(keepends=True) for t in (original, base, edited))
    layout = difflib.SequenceMatcher(None, b, o, autojunk=False).get_opcodes()
    change = difflib.SequenceMatcher(None, b, e, autojunk=False).get_opcodes()
    # regions of base: (start, end, kind) where kind says which side changed them
    regions: list[list[int]] = []  # [start, end, layout?, change?]
    for tag, i1, i2, _, _ in layout:
        if tag != "equal":
            regions.append([i1, i2, 1, 0])
    for tag, i1, i2, _, _ in change:
        if tag != "equal":
            regions.append([i1, i2, 0, 1])
    regions.sort(key=lambda r: (r[0], r[1]))
    merged: list[list[int]] = []
    for region in regions:
        last = merged[-1] if merged else None
        if last is not None and (
            region[0] < last[1]
            or (region[0] == last[0] and region[1] == last[1])
            or (region[0] == region[1] and last[0] < region[0] < last[1])
        ):
            last[1] = max(last[1], region[1])
            last[2] |= region[2]
            last[3] |= region[3]
        else:
            merged.append(list(region))
    out: list[str] = []
    at = 0
    for start, end, by_layout, by_change in merged:
        out.extend(o[_after(layout, at, len(o)) : _before(layout, start, len(o))])
        if start == end:  # lines added at one place: the file's own, then the change's
            if by_layout:
                out.extend(o[_before(layout, start, len(o)) : _after(layout, start, len(o))])
            if by_change:
                out.extend(e[_before(change, start, len(e)) : _after(change, start, len(e))])
        elif by_change:
            out.extend(e[_after(change, start, len(e)) : _before(change, end, len(e))])
        else:
            out.extend(o[_after(layout, start, len(o)) : _before(layout, end, len(o))])
        at = end
    out.extend(o[_after(layout, at, len(o)) :])
    return "".join(out)


Opcodes = Sequence[tuple[str, int, int, int, int]]


def _before(opcodes: Opcodes, pos: int, size: int) -> int:
    """Where base position ``pos`` falls in the other text, before lines inserted there."""
    for _, i1, i2, j1, _ in opcodes:
        if i1 == pos:
            return j1
        if i1 < pos < i2:
            return j1 + (pos - i1)
    return size


def _after(opcodes: Opcodes, pos: int, size: int) -> int:
    """Where base position ``pos`` falls in the other text, after lines inserted there."""
    inserted = None
    for _, i1, i2, j1, j2 in opcodes:
        if i1 == pos == i2:
            inserted = j2
        elif i1 == pos:
            return j1
        elif i1 < pos < i2:
            return j1 + (pos - i1)
    return size if inserted is None else inserted


# --------------------------------------------------------------------------- the writer


class Keeper:
    """A model's text with its round-trip document, ready for the next change.

    Loading a file with ruamel.yaml is the slow part of a change (pure Python), so a
    workshop keeps one keeper across saves: after a change is written,
    :meth:`moved_on` makes the changed document the base of the next change. A keeper
    whose change was not written (invalid, refused) must not be used again.
    """

    def __init__(self, text: str, path: str = "<model>"):
        self.text = text
        self.path = path
        self.yaml = round_trip(text)
        try:
            self.document = self.yaml.load(text)
        except YAMLError as exc:
            raise ModelError(
                [
                    Problem(
                        path, None, None, f"the file cannot be edited with its comments kept: {exc}"
                    )
                ]
            ) from None
        self._base: str | None = _dump(self.yaml, self.document)
        self.data: Value = to_data(parse_text(text, path).root)
        self._edited: str | None = self._base
        self._located: Value | None = None
        self._next_located: Value | None = None

    @property
    def base(self) -> str:
        """The file's content in ruamel's layout, worked out when first needed (a change
        made in place does not need it)."""
        if self._base is None:
            self._base = _dump(self.yaml, self.document)
        return self._base

    def rewrite(self, data: dict) -> str:
        """The text changed to hold ``data`` (see the module's notes); the document is
        changed too, so call :meth:`moved_on` once the text is written."""
        want = _canonical(data)
        if self._located is None:
            self._located = to_data(parse_text(self.text, self.path).root, origin=True)
        quick = _in_place(self.text, self._located, self.data, data)
        self._next_located = None
        if quick is not None:
            try:
                located = to_data(parse_text(quick, self.path).root, origin=True)
                if _canonical(located) == want:
                    sync(self.yaml, self.document, data, self.data)
                    self._edited = None  # the ruamel text is worked out when next needed
                    self._next_located = located  # where the next change's values stand
                    return quick
            except ModelError:
                pass
        base = self.base
        sync(self.yaml, self.document, data, self.data)
        self._edited = edited = _dump(self.yaml, self.document)
        merged = merge_lines(self.text, base, edited)
        for text in (merged, edited):
            try:
                if _canonical(to_data(parse_text(text, self.path).root)) == want:
                    return text
            except ModelError:
                continue
        raise LayoutLost(
            f"{self.path}: the change could not be written with the file's comments kept"
        )

    def moved_on(self, text: str, data: dict) -> None:
        """The text of the last :meth:`rewrite` was written: it is the file now."""
        self.text, self._base, self.data = text, self._edited, data
        self._located = self._next_located


def _in_place(text: str, located: Value, old: Value, new: Value) -> str | None:
    """``text`` with each plain scalar that changed between ``old`` and ``new`` replaced
    where it stands (the quick way for the commonest edit, a value in a form), or ``None``
    when the change is more than that (keys or items added or removed, quoted values).
    The caller checks that the result reads back as ``new``."""
    edits: list[tuple[int, int, str, str]] = []

    def walk(was: Value, now: Value, at: Value) -> bool:
        if isinstance(was, dict) and isinstance(now, dict) and isinstance(at, dict):
            return list(was) == list(now) and all(walk(was[k], now[k], at[k]) for k in was)
        if isinstance(was, list) and isinstance(now, list) and isinstance(at, list):
            return len(was) == len(now) and all(map(walk, was, now, at))
        if isinstance(was, (dict, list)) or isinstance(now, (dict, list)):
            return False
        if _canonical(was) == _canonical(now):
            return True
        if not isinstance(at, Raw) or at.origin is None or not at.plain:
            return False
        new_text = scalar_text(now)
        if "\n" in at.text or "\n" in new_text or new_text.startswith(("{", "[")):
            return False
        edits.append((at.origin.line, at.origin.column, at.text, new_text))
        return True

    if not walk(old, new, located):
        return None
    lines = text.split("\n")
    for line, column, was_text, new_text in sorted(edits, reverse=True):
        row = lines[line - 1]
        start = column - 1
        if row[start : start + len(was_text)] != was_text:
            return None
        rest = row[start + len(was_text) :]
        comment = _COMMENT_AFTER.match(rest)
        if comment:  # the comment keeps its column while the gap allows
            gap = max(1, len(comment.group(1)) - (len(new_text) - len(was_text)))
            rest = " " * gap + comment.group(2)
        lines[line - 1] = row[:start] + new_text + rest
    return "\n".join(lines)


_COMMENT_AFTER = re.compile(r"( +)(#.*)$")
"""The spaces and the comment after a value, at the end of its line."""


def rewrite(original: str, data: dict, path: str = "<model>") -> str:
    """The text of ``original`` changed to hold ``data``, its comments and layout kept.

    Raises :class:`ModelError` when ruamel.yaml cannot read the file, and
    :class:`LayoutLost` when no text with the comments kept reads back as ``data``.
    """
    return Keeper(original, path).rewrite(data)


def plain_data(text: str, path: str = "<model>") -> dict:
    """A model's text as plain data (mappings, lists and :class:`Raw` scalars)."""
    data = to_data(parse_text(text, path).root)
    assert isinstance(data, dict)
    return data


__all__ = [
    "Keeper",
    "LayoutLost",
    "Raw",
    "merge_lines",
    "plain_data",
    "rewrite",
    "round_trip",
    "sync",
]
