"""A diagrams.net file as cells: the file read within its size limit, its XML parsed
through defusedxml (no document type, entity or external reference), its pages found and a
compressed page inflated within :data:`MAX_INFLATED` bytes, and each page's cells with
their labels as plain text and the data properties around them."""

from __future__ import annotations

import base64
import binascii
import math
import re
import urllib.parse
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET

from ..errors import ModelError, Problem, UsageError
from ..model.loader import did_you_mean

MAX_INFLATED = 50 * 1024 * 1024
"""The most bytes a compressed page may inflate to; past it the page is refused."""

MAX_CELLS = 20_000
"""The most cells a page may hold (a process map has tens; this bounds the work)."""

ROOT_CELL = "0"
"""The id diagrams.net gives a page's root cell, which holds the page's own data."""


# ----------------------------------------------------------------------------- problems


class Problems:
    """Every problem found in a drawing, each placed at its cell; raised all at once."""

    def __init__(self, path: str):
        self.path = path
        self.items: list[Problem] = []

    def at(self, cell: str | None, message: str) -> None:
        where = self.path if cell is None else f'{self.path}:cell "{short(cell)}"'
        self.items.append(Problem(file=where, line=None, column=None, message=message))

    def check(self) -> None:
        if self.items:
            raise ModelError(self.items)


def norm(key: str) -> str:
    """A name without case, spaces or punctuation (``Duration (days)`` -> ``durationdays``)."""
    return re.sub(r"[^a-z0-9]", "", key.lower())


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------- the file and its pages


@dataclass(frozen=True)
class Page:
    """One page of a drawing: its name, its 1-based number, and its content (a
    ``<mxGraphModel>`` element, or the compressed text of one)."""

    name: str
    number: int
    model: Any | None
    text: str


def read_bytes(path: str, max_bytes: int) -> bytes:
    file = Path(path)
    try:
        size = file.stat().st_size
    except FileNotFoundError:
        raise UsageError(f"cannot read '{path}': there is no such file", file=path) from None
    except OSError as exc:
        raise UsageError(f"cannot read '{path}': {exc.strerror or exc}", file=path) from None
    if not file.is_file():
        raise UsageError(f"cannot read '{path}': it is not a file", file=path)
    if size > max_bytes:
        raise UsageError(
            f"'{path}' is {size:,} bytes, more than the {max_bytes:,} a drawing may have: "
            "raise the limit with --max-bytes if the file is right",
            file=path,
        )
    try:
        with file.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UsageError(f"cannot read '{path}': {exc.strerror or exc}", file=path) from None
    if len(data) > max_bytes:
        raise UsageError(f"'{path}' is larger than the {max_bytes:,} bytes allowed", file=path)
    if not data.strip():
        raise ModelError(
            [Problem(path, None, None, "the file is empty: export the drawing from diagrams.net")]
        )
    return data


def parse_xml(data: bytes, path: str, what: str, line_offset: int = 0) -> Any:
    """XML through defusedxml: no document type, entity or external reference."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        message = (
            f"{what} declares a document type (<!DOCTYPE ...>), which diagrams.net never "
            "writes: it is refused, because it could expand entities or fetch other files"
        )
    except defusedxml.EntitiesForbidden:
        message = f"{what} declares entities, which diagrams.net never writes: it is refused"
    except defusedxml.ExternalReferenceForbidden:
        message = f"{what} refers to an outside file, which diagrams.net never does: it is refused"
    except defusedxml.DefusedXmlException as exc:
        message = f"{what} is refused: {exc}"
    except SafeET.ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        reason = str(exc).split(":")[0]
        if line_offset:
            problem = Problem(
                path, None, None, f"{what} cannot be read as XML (the XML reader says: {reason})"
            )
        else:
            problem = Problem(
                path,
                line,
                None if column is None else column + 1,
                f"{what} cannot be read as XML (the XML reader says: {reason}): is it a "
                "diagrams.net drawing? Save it from diagrams.net as a .drawio file",
            )
        raise ModelError([problem]) from None
    except (ValueError, RecursionError) as exc:
        message = f"{what} could not be read as XML ({exc})"
    raise ModelError([Problem(path, None, None, message)])


def local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def pages_of(root: Any, path: str) -> list[Page]:
    """The pages of a parsed drawing, in order."""
    tag = local(root.tag)
    if tag == "mxGraphModel":
        return [Page("Page-1", 1, root, "")]
    if tag != "mxfile":
        hint = (
            ": it looks like BPMN, so give it the suffix .bpmn"
            if tag == "definitions"
            else ": save it from diagrams.net as a .drawio file (File > Save as)"
        )
        raise ModelError(
            [
                Problem(
                    path,
                    None,
                    None,
                    f"this is not a diagrams.net drawing: it starts with <{short(tag)}>, "
                    f"not <mxfile>{hint}",
                )
            ]
        )
    pages = []
    for number, diagram in enumerate((c for c in root if local(c.tag) == "diagram"), start=1):
        model = next((c for c in diagram if local(c.tag) == "mxGraphModel"), None)
        name = diagram.get("name") or f"Page-{number}"
        pages.append(Page(name, number, model, (diagram.text or "").strip()))
    if not pages:
        raise ModelError(
            [Problem(path, None, None, "the drawing has no pages (no <diagram> in <mxfile>)")]
        )
    return pages


def _is_empty(page: Page) -> bool:
    if page.model is not None:
        root = next((c for c in page.model if local(c.tag) == "root"), None)
        return root is None or len(root) <= 2
    return not page.text


def choose_page(pages: Sequence[Page], wanted: str | None, path: str) -> Page:
    """The page ``--page`` names (its name, or its number from 1). Without ``--page``: the
    only page, or the only one with anything on it; several pages with shapes are an error
    listing them, so a model is never written from a page nobody chose."""
    listing = "; ".join(
        f"{p.number}: '{short(p.name)}'{' (empty)' if _is_empty(p) else ''}" for p in pages
    )
    if wanted is None:
        drawn = [p for p in pages if not _is_empty(p)]
        if len(pages) == 1 or len(drawn) == 1:
            return pages[0] if len(pages) == 1 else drawn[0]
        if not drawn:
            raise ModelError([Problem(path, None, None, "every page of the drawing is empty")])
        raise UsageError(
            f"the drawing has {len(drawn)} pages with shapes on them ({listing}): say which "
            f"to read with --page, for example --page '{drawn[0].name}' or --page {drawn[0].number}",
            file=path,
        )
    for test in (
        lambda p: p.name == wanted,
        lambda p: norm(p.name) == norm(wanted),
        lambda p: wanted.strip().isdigit() and p.number == int(wanted.strip()),
    ):
        found = [p for p in pages if test(p)]
        if found:
            return found[0]
    raise UsageError(
        f"the drawing has no page '{short(wanted)}'"
        f"{did_you_mean(wanted, [p.name for p in pages])}; its pages are {listing}",
        file=path,
    )


def inflate(text: str, path: str, page: str, limit: int = MAX_INFLATED) -> bytes:
    """A compressed page's XML: base64, then raw deflate (at most ``limit`` bytes), then
    URL-decoding, as diagrams.net compresses it."""
    where = f"page '{short(page)}'"
    try:
        packed = base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except (binascii.Error, ValueError):
        raise ModelError(
            [
                Problem(
                    path,
                    None,
                    None,
                    f"{where} is neither a drawing nor compressed diagrams.net text (not base64): "
                    "open the file in diagrams.net and save it again",
                )
            ]
        ) from None
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(packed, limit + 1)
    except zlib.error:
        raise ModelError(
            [
                Problem(
                    path,
                    None,
                    None,
                    f"{where} is damaged: its compressed text does not inflate: open the file "
                    "in diagrams.net and save it again",
                )
            ]
        ) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ModelError(
            [
                Problem(
                    path,
                    None,
                    None,
                    f"{where} inflates to more than {limit // 2**20} MB, far more than any "
                    "process map: it is refused",
                )
            ]
        )
    decoded = out.decode("utf-8", "replace")
    if not decoded.lstrip().startswith("<"):
        decoded = urllib.parse.unquote(decoded)
    return decoded.encode("utf-8")


def page_model(page: Page, path: str) -> Any:
    """The ``<mxGraphModel>`` of a page, inflated and parsed if it is compressed."""
    if page.model is not None:
        return page.model
    if not page.text:
        raise ModelError(
            [Problem(path, None, None, f"page '{short(page.name)}' is empty: nothing to import")]
        )
    root = parse_xml(
        inflate(page.text, path, page.name), path, f"page '{short(page.name)}'", line_offset=1
    )
    if local(root.tag) != "mxGraphModel":
        raise ModelError(
            [
                Problem(
                    path,
                    None,
                    None,
                    f"page '{short(page.name)}' holds <{short(local(root.tag))}>, "
                    "not a diagrams.net <mxGraphModel>",
                )
            ]
        )
    return root


# ----------------------------------------------------------------------------- cells


RESERVED = {"id", "label", "placeholders", "tooltip", "link", "tags", "value"}
"""Attributes of ``<object>``/``<UserObject>`` that are diagrams.net's, not data."""


@dataclass
class Cell:
    """One ``mxCell`` of a page, with the data properties of the object wrapping it."""

    id: str
    label: str
    style: dict[str, str]
    names: frozenset[str]
    vertex: bool
    edge: bool
    parent: str | None
    source: str | None
    target: str | None
    data: dict[str, str]
    box: tuple[float, float, float, float] | None
    order: int

    @property
    def shape(self) -> str:
        return self.style.get("shape", "")

    def has(self, *names: str) -> bool:
        return any(n in self.names or n == self.shape for n in names)


def parse_style(style: str) -> tuple[dict[str, str], frozenset[str]]:
    """A diagrams.net style (``rhombus;whiteSpace=wrap;html=1;``) as its keys and its bare
    names."""
    keys: dict[str, str] = {}
    names: set[str] = set()
    for part in style.split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            key, _, value = part.partition("=")
            keys[key.strip()] = value.strip()
        else:
            names.add(part)
    return keys, frozenset(names)


class _Text(HTMLParser):
    """The text of an HTML label: tags dropped, line breaks and blocks as spaces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("br", "div", "p", "li", "tr", "td"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("div", "p", "li", "tr", "td"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def label_text(value: str, html: bool) -> str:
    """A label as plain text on one line: HTML stripped when the cell's label is HTML,
    entities decoded, whitespace runs made single spaces."""
    if html:
        parser = _Text()
        parser.feed(value)
        parser.close()
        value = "".join(parser.parts)
    value = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", value)
    return re.sub(r"\s+", " ", value.replace("\u00a0", " ")).strip()


def _placeholders(text: str, data: Mapping[str, str]) -> str:
    return re.sub(r"%([A-Za-z_][\w.-]*)%", lambda m: data.get(m.group(1), m.group(0)), text)


def _box(cell: Any) -> tuple[float, float, float, float] | None:
    geometry = next((g for g in cell if local(g.tag) == "mxGeometry"), None)
    if geometry is None or geometry.get("relative") == "1":
        return None
    try:
        values = tuple(float(geometry.get(k) or 0) for k in ("x", "y", "width", "height"))
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in values):
        return None
    return values  # type: ignore[return-value]


def read_cells(model: Any, problems: Problems) -> list[Cell]:
    """Every cell of a page's ``<mxGraphModel>``, in the file's order."""
    root = next((c for c in model if local(c.tag) == "root"), None)
    if root is None:
        problems.at(None, "the page has no <root>: it holds no drawing")
        problems.check()
        return []
    elements = list(root)
    if len(elements) > MAX_CELLS:
        problems.at(
            None,
            f"the page has {len(elements):,} cells, more than the {MAX_CELLS:,} read: "
            "a process map has far fewer; split the drawing into pages",
        )
        problems.check()
    cells: list[Cell] = []
    seen: dict[str, int] = {}
    for order, element in enumerate(elements):
        tag = local(element.tag)
        if tag in ("object", "UserObject"):
            inner = next((c for c in element if local(c.tag) == "mxCell"), None)
            attrs = dict(element.attrib)
            data = {k: v for k, v in attrs.items() if k not in RESERVED}
            label = attrs.get("label", "")
        elif tag == "mxCell":
            inner, data = element, {}
            label = element.get("value", "")
            attrs = dict(element.attrib)
        else:
            continue
        cell_id = attrs.get("id")
        if not cell_id:
            problems.at(None, f"cell number {order + 1} of the page has no id")
            continue
        if cell_id in seen:
            problems.at(cell_id, "two cells have this id: every cell needs its own")
            continue
        seen[cell_id] = order
        inner_attrs = dict(inner.attrib) if inner is not None else {}
        style, names = parse_style(inner_attrs.get("style", ""))
        if attrs.get("placeholders") == "1":
            label = _placeholders(label, data)
        cells.append(
            Cell(
                id=cell_id,
                label=label_text(label, style.get("html") == "1"),
                style=style,
                names=names,
                vertex=inner_attrs.get("vertex") == "1",
                edge=inner_attrs.get("edge") == "1",
                parent=inner_attrs.get("parent"),
                source=inner_attrs.get("source"),
                target=inner_attrs.get("target"),
                data=data,
                box=_box(inner) if inner is not None else None,
                order=order,
            )
        )
    return cells
