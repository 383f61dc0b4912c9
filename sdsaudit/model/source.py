"""Read YAML text safely into a small tree of positioned nodes.

This is the only module that imports :mod:`yaml`. It works from PyYAML's event
stream rather than ``yaml.safe_load`` because a council file is untrusted input:

* anchors, aliases, merge keys and explicit tags are rejected where they stand
  (aliases are shared references, so a tiny "billion laughs" file would explode
  in whatever walks it, and a self-referencing alias builds a cyclic list);
* nesting depth is capped while parsing (a ``RecursionError`` is not a
  ``YAMLError`` and would escape as a traceback);
* every scalar stays text, with a flag saying whether it was quoted, until the
  schema converts it, so ``no``, ``1.10`` and ``12:30`` are never silently
  turned into ``False``, ``1.1`` and ``750``;
* duplicate keys, which PyYAML silently collapses, are reported;
* encoding, control characters, tabs, empty files, several documents and
  unclosed quotes get plain-English messages with a line, a column and the fix.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from typing import BinaryIO

import yaml

from ..errors import ModelError, Problem
from .objects import Pos

try:  # the C parser is much faster; fall back to pure Python where it is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

DEFAULT_MAX_BYTES = 1024 * 1024
"""Files larger than this are refused before parsing (configurable)."""

MAX_DEPTH = 40
"""Deepest nesting of mappings and lists accepted; real models need about six."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
_NULL_WORDS = {"", "~", "null", "Null", "NULL"}


@dataclass
class Node:
    """A positioned piece of YAML."""

    pos: Pos


@dataclass
class Scalar(Node):
    """Text as written. ``plain`` is false when it was quoted or a block scalar."""

    value: str
    plain: bool = True

    @property
    def is_null(self) -> bool:
        return self.plain and self.value in _NULL_WORDS


@dataclass
class Seq(Node):
    items: list[Node] = field(default_factory=list)


@dataclass
class Map(Node):
    """A mapping with text keys, in file order. ``keys`` keeps each key's node."""

    items: dict[str, Node] = field(default_factory=dict)
    keys: dict[str, Scalar] = field(default_factory=dict)


@dataclass
class Document:
    """A parsed file: its root node, plus problems that did not stop parsing."""

    root: Node
    problems: list[Problem]


def describe(node: Node) -> str:
    """What kind of YAML value ``node`` is, in plain words."""
    if isinstance(node, Map):
        return "a mapping (key: value lines)"
    if isinstance(node, Seq):
        return "a list"
    if isinstance(node, Scalar) and node.is_null:
        return "nothing"
    return f"the text {truncate(node.value)!r}" if isinstance(node, Scalar) else "a value"


def truncate(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- reading


def read_bytes(
    path: str, max_bytes: int = DEFAULT_MAX_BYTES, stdin: BinaryIO | None = None
) -> bytes:
    """Read a file (``-`` for standard input), refusing it before parsing if too big.

    At most ``max_bytes + 1`` bytes are ever read, whatever the file claims to be: a
    device (``/dev/zero``), a pipe or a file that grows while it is read reports a
    size that cannot be trusted."""
    if path == "-":
        data = _read_at_most(stdin or sys.stdin.buffer, max_bytes + 1)
        if len(data) > max_bytes:
            raise ModelError([_too_big(path, max_bytes, None)])
        return data
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise ModelError([_too_big(path, max_bytes, size)])
        with open(path, "rb") as handle:
            data = _read_at_most(handle, max_bytes + 1)
        if len(data) > max_bytes:
            raise ModelError([_too_big(path, max_bytes, None)])
        return data
    except IsADirectoryError:
        raise ModelError(
            [Problem(path, None, None, "is a folder, not a file: give the path of a .yaml file")]
        ) from None
    except FileNotFoundError:
        raise ModelError([Problem(path, None, None, "no such file: check the path")]) from None
    except PermissionError:
        raise ModelError(
            [Problem(path, None, None, "cannot be read (permission denied)")]
        ) from None


def _read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``stream``, read in pieces (a pipe may give fewer than
    asked for in one read)."""
    pieces: list[bytes] = []
    wanted = limit
    while wanted > 0:
        piece = stream.read(min(wanted, 1 << 20))
        if not piece:
            break
        pieces.append(piece)
        wanted -= len(piece)
    return b"".join(pieces)


def _too_big(path: str, max_bytes: int, size: int | None) -> Problem:
    got = f" ({size:,} bytes)" if size is not None else ""
    return Problem(
        path,
        None,
        None,
        f"the file is larger than the limit of {max_bytes:,} bytes{got}; a process model is "
        "normally well under 100 KB. Split it, or raise the limit with --max-bytes if it really is this large",
    )


def decode(data: bytes, path: str) -> str:
    """UTF-8 with or without a byte-order mark; anything else is a located error."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for bom, name in (
        (b"\xff\xfe\x00\x00", "UTF-32"),
        (b"\x00\x00\xfe\xff", "UTF-32"),
        (b"\xff\xfe", "UTF-16"),
        (b"\xfe\xff", "UTF-16"),
    ):
        if data.startswith(bom):
            raise ModelError(
                [
                    Problem(
                        path,
                        1,
                        1,
                        f"the file is saved as {name}; save it as UTF-8 "
                        "(in most editors: Save As, Encoding: UTF-8)",
                    )
                ]
            )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        last = before.rsplit(b"\n", 1)[-1]
        column = len(last.decode("utf-8", errors="replace")) + 1
        byte = data[exc.start]
        guess = "Windows-1252 or Latin-1" if byte >= 0x80 else "another encoding"
        raise ModelError(
            [
                Problem(
                    path,
                    line,
                    column,
                    f"byte 0x{byte:02X} is not valid UTF-8 (the file looks saved as {guess}); "
                    "save it as UTF-8 (in most editors: Save As, Encoding: UTF-8)",
                )
            ]
        ) from None


def _prescan(text: str, path: str) -> list[Problem]:
    """Control characters and tab indentation, found before the parser trips on them."""
    problems: list[Problem] = []
    for number, line in enumerate(text.split("\n"), start=1):
        for match in _CONTROL.finditer(line):
            char = match.group()
            name = (
                "a NUL character" if char == "\x00" else f"the control character U+{ord(char):04X}"
            )
            problems.append(
                Problem(
                    path,
                    number,
                    match.start() + 1,
                    f"{name} is not allowed in a model; delete it (it is invisible in most editors)",
                )
            )
        indent = len(line) - len(line.lstrip(" \t"))
        if "\t" in line[:indent]:
            problems.append(
                Problem(
                    path,
                    number,
                    line.index("\t") + 1,
                    "a tab is used to indent this line; YAML needs spaces: replace the tab with spaces",
                )
            )
        if len(problems) > 50:
            break
    return problems


# --------------------------------------------------------------------------- parsing


def parse_file(
    path: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: BinaryIO | None = None,
    display: str | None = None,
) -> Document:
    """Read and parse one YAML file into a :class:`Document` (raises :class:`ModelError`)."""
    name = display or ("<stdin>" if path == "-" else path)
    data = read_bytes(path, max_bytes, stdin)
    return parse_text(decode(data, name), name)


def parse_text(text: str, path: str = "<text>") -> Document:
    """Parse YAML text into a positioned tree. Raises :class:`ModelError` if unreadable."""
    if text.startswith("\ufeff"):
        text = text[1:]
    problems = _prescan(text, path)
    if problems:
        raise ModelError(problems)
    builder = _Builder(path)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        raise ModelError([_explain(exc, path)]) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise ModelError([Problem(path, None, None, f"the YAML cannot be read: {exc}")]) from None
    except _Stop as stop:
        raise ModelError([stop.problem]) from None
    if builder.root is None or (isinstance(builder.root, Scalar) and builder.root.is_null):
        raise ModelError(
            [
                Problem(
                    path,
                    1,
                    1,
                    "the file is empty: a model needs keys such as "
                    "sdsaudit: 1, council:, title:, start: and steps: (run 'sdsaudit init' for a starter)",
                )
            ]
        )
    if not isinstance(builder.root, Map):
        raise ModelError(
            [
                Problem(
                    path,
                    builder.root.pos.line,
                    builder.root.pos.column,
                    f"the top level of a model must be a mapping of keys such as council: and steps:, "
                    f"but this file holds {describe(builder.root)}",
                )
            ]
        )
    return Document(builder.root, builder.problems)


class _Stop(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


class _Builder:
    """Builds nodes from parser events, refusing what a model never needs."""

    def __init__(self, path: str):
        self.path = path
        self.root: Node | None = None
        self.stack: list[tuple[Node, Scalar | None]] = []  # container, pending key for maps
        self.problems: list[Problem] = []
        self.documents = 0

    def pos(self, mark) -> Pos:
        return Pos(self.path, mark.line + 1, mark.column + 1)

    def stop(self, mark, message: str) -> None:
        p = self.pos(mark)
        raise _Stop(Problem(self.path, p.line, p.column, message))

    def feed(self, event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.stop(
                    event.start_mark,
                    "this file holds more than one YAML document (a line '---' "
                    "starts another); keep one model per file",
                )
            return
        if isinstance(event, yaml.AliasEvent):
            self.stop(
                event.start_mark,
                f"the alias '*{event.anchor}' is not allowed in a model: "
                "write the value out in full instead of referring to an anchor",
            )
        if isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if event.anchor is not None:
                self.stop(
                    event.start_mark,
                    f"the anchor '&{event.anchor}' is not allowed in a model: "
                    "write each value out in full",
                )
            if event.tag is not None and not (
                isinstance(event, yaml.ScalarEvent) and event.tag == "!"
            ):
                self.stop(
                    event.start_mark,
                    f"the tag '{event.tag}' is not allowed in a model: remove it "
                    "(sdsaudit works out each value's type from the format)",
                )
            if len(self.stack) >= MAX_DEPTH:
                self.stop(
                    event.start_mark,
                    f"the values are nested more than {MAX_DEPTH} levels deep; "
                    "a model never needs this: check the indentation",
                )
        if isinstance(event, yaml.ScalarEvent):
            # implicit[0] is true only for plain (unquoted, non-block) scalars, in both parsers
            plain = bool(event.implicit[0]) and event.style in (None, "")
            self.add(Scalar(self.pos(event.start_mark), event.value, plain), event)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            pos = self.pos(event.start_mark)
            node: Node = Seq(pos) if isinstance(event, yaml.SequenceStartEvent) else Map(pos)
            self.add(node, event)
            self.stack.append((node, None))
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            self.stack.pop()

    def add(self, node: Node, event) -> None:
        if not self.stack:
            self.root = node
            return
        parent, key = self.stack[-1]
        if isinstance(parent, Seq):
            parent.items.append(node)
            return
        assert isinstance(parent, Map)
        if key is None:  # this node is a key
            if not isinstance(node, Scalar):
                self.stop(event.start_mark, "a key must be a plain word, not a list or mapping")
                return
            if node.plain and node.value == "<<":
                self.stop(
                    event.start_mark,
                    "merge keys ('<<') are not allowed in a model: write the keys out in full",
                )
            self.stack[-1] = (parent, node)
            return
        name = key.value
        if name in parent.items:
            first = parent.keys[name].pos
            self.problems.append(
                Problem(
                    self.path,
                    key.pos.line,
                    key.pos.column,
                    f"the key '{name}' appears twice in this mapping (first at line "
                    f"{first.line}); YAML would silently keep only the last one: remove one",
                )
            )
        else:
            parent.items[name] = node
            parent.keys[name] = key
        self.stack[-1] = (parent, None)


def _explain(exc: yaml.MarkedYAMLError, path: str) -> Problem:
    """Turn a PyYAML parser message into plain English with the fix."""
    problem = exc.problem or ""
    context = exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    if (
        mark
        and "quoted scalar" in context
        and ("end of stream" in problem or "document separator" in problem)
    ):
        start = exc.context_mark or mark
        return Problem(
            path,
            start.line + 1,
            start.column + 1,
            "this quoted text is never closed: add the closing quote mark at the end of the value",
        )
    if "'\\t'" in problem or "\t" in problem:
        return Problem(
            path, line, column, "a tab is used here; YAML needs spaces: replace the tab with spaces"
        )
    if "mapping values are not allowed" in problem:
        return Problem(
            path,
            line,
            column,
            "a colon followed by a space appears inside a value; put the whole "
            "value in quotes, or check the indentation of this line",
        )
    if "could not find expected ':'" in problem:
        return Problem(
            path, line, column, "a line here is missing the ':' between a key and its value"
        )
    if "expected <block end>" in problem or "did not find expected key" in problem:
        return Problem(
            path,
            line,
            column,
            "this line is not indented in line with the lines above it: check its spaces",
        )
    if "did not find expected '-'" in problem:
        return Problem(
            path,
            line,
            column,
            "a list item here is not in line with the items above: check "
            "that every item starts with '- ' at the same indentation",
        )
    if "nesting depth" in problem:  # newer libyaml enforces its own limit, before ours
        return Problem(
            path,
            line,
            column,
            f"the values are nested more than {MAX_DEPTH} levels deep; a model never needs this: "
            "check the indentation",
        )
    if "flow" in context:
        return Problem(
            path,
            line,
            column,
            f"a [list] or {{mapping}} written on one line is not closed properly "
            f"({problem}): check its brackets and commas",
        )
    if "found character" in problem and "cannot start any token" in problem:
        char = problem.split("'")[1] if "'" in problem else "?"
        return Problem(
            path,
            line,
            column,
            f"the character {char!r} cannot start a value here; put the value in quotes",
        )
    return Problem(
        path,
        line,
        column,
        f"the YAML cannot be read here ({problem or context}); check the "
        "indentation and punctuation of this line",
    )


# --------------------------------------------------------------------------- writing


def dump(data: object) -> str:
    """YAML text for plain data (used to write models and patches)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
