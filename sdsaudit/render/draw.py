"""Drawing process maps: the one place that runs ``dot``, and the SVG made fit for a page.

:func:`render_map` is the only function that calls the ``dot`` binary, under a time
limit, a memory limit and a node cap; when it cannot draw the map it raises
:class:`MapUnavailable` so callers can ship the text version
(:func:`sdsaudit.render.map.map_outline`, :func:`sdsaudit.render.map.map_text`) with a
visible note instead. It also tries the key on the other side of the process and above
it (:func:`key_before_lanes`, :func:`key_above`) and keeps the smallest drawing. SVG
comes back through :func:`accessible_svg`: titled, described, and with nothing that
runs or fetches. The graph itself is built, without running anything, by
:func:`sdsaudit.render.map.build_map`.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import graphviz

from ..analysis.findings import CheckResult
from ..errors import SdsauditError
from ..model.objects import Model
from .map import build_map, map_description, map_title
from .present import NumberedFinding, clean

FORMATS = ("svg", "png", "pdf", "dot")
"""Output formats, chosen by the output file's suffix."""

DEFAULT_TIMEOUT = 20.0
"""Seconds ``dot`` may take before the map is given up (layout time grows steeply)."""

DEFAULT_MAX_NODES = 250
"""Largest map drawn: about 0.05 s at 100 nodes, 12 s at 300, over a minute at 1,000."""


class MapUnavailable(SdsauditError):
    """The map could not be drawn; ``reason`` says why in plain English."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"the process map could not be drawn: {reason}")


# ----------------------------------------------------------------------------- drawing


def count_nodes(graph: graphviz.Digraph) -> int:
    """How many nodes the graph holds (keys included). A graph not built as a
    :class:`~sdsaudit.render.map.Drawing` is counted as having more nodes than any cap."""
    count = getattr(graph, "nodes_added", None)
    return sys.maxsize if count is None else int(count)


def format_of(path: str | Path) -> str:
    """The output format for a file name, from its suffix."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        from ..errors import UsageError

        raise UsageError(
            f"cannot tell the map format from '{path}': use a name ending "
            + ", ".join(f".{f}" for f in FORMATS),
            file=str(path),
        )
    return suffix


def render_map(
    graph: graphviz.Digraph,
    path_or_format: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_nodes: int = DEFAULT_MAX_NODES,
    title: str = "Process map",
    description: str = "",
    id_prefix: str = "map",
    quick: bool = False,
) -> bytes:
    """Draw ``graph``: the only function that runs ``dot``.

    ``path_or_format`` is a format (``svg``, ``png``, ``pdf``, ``dot``) or a
    file path whose suffix names one; a path is written atomically (the caller
    decides about overwriting). ``dot`` format is the DOT source itself and
    needs no ``dot``. SVG comes back made accessible and stable
    (:func:`accessible_svg` with ``title``, ``description`` and ``id_prefix``). Raises
    :class:`MapUnavailable` when there is no ``dot``, the graph has more than
    ``max_nodes`` nodes, ``dot`` runs over ``timeout`` seconds or fails. ``quick``
    draws the first layout only, without trying other places for the key (a page
    redrawn after every change, where speed matters more than the last few points).
    """
    target = Path(path_or_format) if str(path_or_format).lower() not in FORMATS else None
    fmt = format_of(target) if target else str(path_or_format).lower()
    if fmt == "dot":
        data = graph.source.encode("utf-8")
    else:
        data = _run_dot(graph, fmt, timeout=timeout, max_nodes=max_nodes, quick=quick)
    if fmt == "svg":
        svg = accessible_svg(data, title, description or title, id_prefix=id_prefix)
        data = svg.encode("utf-8")
    if target is not None:
        from ..files import write_atomic

        write_atomic(target, data, force=True)
    return data


def _run_dot(
    graph: graphviz.Digraph, fmt: str, *, timeout: float, max_nodes: int, quick: bool = False
) -> bytes:
    """Lay out and draw ``graph`` in ``fmt``; raises :class:`MapUnavailable`.

    A map from :func:`build_map` has its key beside the top of the process, on the side
    dot chooses. While there is time left, the key is also tried on the other side
    (:func:`key_before_lanes`) and above the process (:func:`key_above`), and the smallest
    drawing is kept (least area, then narrowest): beside, the key takes the room a
    process leaves next to its first steps; above, when something (such as the
    stock-take's wider key) would make the map wider than it saves in height. All tries
    share ``timeout``; if a later one fails or runs out of time, the best so far stands."""
    nodes = count_nodes(graph)
    if nodes > max_nodes:
        raise MapUnavailable(
            f"it has {nodes} boxes, more than the {max_nodes} that can be laid "
            "out in reasonable time"
        )
    exe = shutil.which("dot")
    if exe is None:
        raise MapUnavailable(
            "the graphviz program 'dot' is not installed (apt-get install graphviz)"
        )
    started = time.monotonic()
    best = _dot(exe, graph.source, fmt, timeout)
    once = time.monotonic() - started
    best_size = _smallness(drawn_size(best, fmt))
    for other in () if quick else (key_before_lanes(graph), key_above(graph)):
        remaining = timeout - (time.monotonic() - started)
        if other is None or best_size is None or remaining < 2 * once:
            continue
        try:
            data = _dot(exe, other.source, fmt, remaining)
        except MapUnavailable:
            break
        size = _smallness(drawn_size(data, fmt))
        if size is not None and size < best_size:
            best, best_size = data, size
    return best


def _smallness(size: tuple[float, float] | None) -> tuple[float, float] | None:
    """How big a drawing is, for choosing the smallest: its area, then its width."""
    return None if size is None else (round(size[0] * size[1]), size[0])


DOT_MEMORY = 768 * 1024 * 1024
"""The most memory ``dot`` may take (address space); past it, the map is left out and
the report shows the map in words."""


def _limit_memory() -> None:  # pragma: no cover - runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (DOT_MEMORY, DOT_MEMORY))


def dot_layout(source: str, nodes: int) -> dict[str, Any] | None:
    """Where ``dot`` places a graph's nodes and edges (its ``json`` output), under the map's
    time, memory and size limits; ``None`` when ``dot`` is missing, the graph has more than
    :data:`DEFAULT_MAX_NODES` nodes, or ``dot`` cannot lay it out. For the writers that
    place shapes as the map does (diagrams.net, BPMN)."""
    exe = shutil.which("dot")
    if exe is None or nodes > DEFAULT_MAX_NODES:
        return None
    try:
        found = json.loads(_dot(exe, source, "json", DEFAULT_TIMEOUT))
    except (MapUnavailable, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _dot(exe: str, source: str, fmt: str, timeout: float) -> bytes:
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
            preexec_fn=_limit_memory,  # noqa: PLW1509 - no threads start dot
        )
    except subprocess.TimeoutExpired:
        raise MapUnavailable(f"laying it out took longer than {timeout:g} seconds") from None
    except OSError as exc:
        raise MapUnavailable(f"'dot' could not be run ({exc.strerror or exc})") from None
    if done.returncode < 0 or b"out of memory" in done.stderr.lower():
        raise MapUnavailable(
            f"'dot' stopped: laying it out may need more than the {DOT_MEMORY // 2**20} MB "
            "of memory it is allowed"
        )
    if done.returncode != 0 or not done.stdout:
        detail = (
            clean(done.stderr.decode("utf-8", "replace"))[:200] or f"exit code {done.returncode}"
        )
        raise MapUnavailable(f"'dot' failed: {detail}")
    return done.stdout


def key_before_lanes(graph: graphviz.Digraph) -> graphviz.Digraph | None:
    """A copy of a map from :func:`build_map` with its key stated before the lanes, which
    makes dot put the key on the other side of the process; ``None`` when the graph has
    no key beside the start, or no lanes."""
    body = list(graph.body)
    head = "\tsubgraph cluster_legend {\n"
    if head not in body or not any(line.startswith("\t{rank=same; __start;") for line in body):
        return None
    begin = body.index(head)
    end = body.index("\t}\n", begin) + 1
    key = body[begin:end]
    del body[begin:end]
    lanes = [i for i, line in enumerate(body) if line.startswith("\tsubgraph cluster_lane_")]
    if not lanes:
        return None
    body[lanes[0] : lanes[0]] = key
    other = graph.copy()
    other.body = body
    return other


def key_above(graph: graphviz.Digraph) -> graphviz.Digraph | None:
    """A copy of a map from :func:`build_map` with its key above the process instead of
    beside the start (the key's last row ranked before the start, nothing tied to it);
    ``None`` when the graph has no key beside the start."""
    body = list(graph.body)
    tied = [i for i, line in enumerate(body) if line.startswith("\t{rank=same; __start;")]
    if not tied or "\tsubgraph cluster_legend {\n" not in body:
        return None
    body[tied[0]] = "\t__key_notes -> __start [style=invis weight=0]\n"
    other = graph.copy()
    other.body = body
    return other


_SVG_SIZE = re.compile(rb'<svg\s[^>]*?width="([\d.]+)pt"\s+height="([\d.]+)pt"')
_PDF_SIZE = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]")


def drawn_size(data: bytes, fmt: str) -> tuple[float, float] | None:
    """(width, height) of a drawing in ``svg``, ``png`` or ``pdf``, or ``None`` if unknown.

    Units are the format's own (points, or pixels for PNG): sizes compare only within
    one format."""
    if fmt == "png" and data.startswith(b"\x89PNG") and len(data) >= 24:
        return float(int.from_bytes(data[16:20], "big")), float(int.from_bytes(data[20:24], "big"))
    match = _SVG_SIZE if fmt == "svg" else _PDF_SIZE if fmt == "pdf" else None
    found = match.search(data) if match else None
    return (float(found.group(1)), float(found.group(2))) if found else None


# ----------------------------------------------------------------------------- accessible SVG

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def accessible_svg(
    svg: bytes | str, title: str, description: str, *, id_prefix: str = "map"
) -> str:
    """Make graphviz's SVG fit for a report and a screen reader.

    Adds ``role="img"`` and ``aria-labelledby`` pointing at a new ``<title>``
    and ``<desc>``; drops graphviz's comments, its own per-shape titles,
    links (``<a>``, ``href``, ``xlink:href``), scripts and event attributes;
    prefixes every id with ``id_prefix`` so ids are unique in a page and stable.
    Returns the ``<svg>`` element as text, without an XML declaration.
    """
    raw = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    # The DOCTYPE names an external DTD; nothing in it is needed, so drop it
    # rather than let any parser consider fetching it.
    raw = re.sub(r"<!DOCTYPE[^>]*>", "", raw)
    raw = re.sub(r"<\?xml[^>]*\?>", "", raw)
    root = ET.fromstring(raw)  # comments are discarded by the default parser
    _clean_tree(root, id_prefix)
    for old in [c for c in root if c.tag == f"{{{SVG_NS}}}title"]:
        root.remove(old)
    title_el = ET.Element(f"{{{SVG_NS}}}title", {"id": f"{id_prefix}-title"})
    title_el.text = clean(title)
    desc_el = ET.Element(f"{{{SVG_NS}}}desc", {"id": f"{id_prefix}-desc"})
    desc_el.text = clean(description)
    root.insert(0, desc_el)
    root.insert(0, title_el)
    root.set("role", "img")
    root.set("aria-labelledby", f"{id_prefix}-title {id_prefix}-desc")
    root.set("focusable", "false")
    text = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return text.replace(f' xmlns:xlink="{XLINK_NS}"', "") + "\n"


_STRIP_TAGS = {f"{{{SVG_NS}}}{t}" for t in ("script", "foreignObject", "style", "image", "use")}


def _clean_tree(element: ET.Element, prefix: str) -> None:
    for attr in list(element.attrib):
        local = attr.rsplit("}", 1)[-1]
        value = element.attrib[attr]
        if (
            local.lower().startswith("on")
            or local == "href"
            or "url(" in value.replace(" ", "").lower()
        ):
            del element.attrib[attr]
        elif local == "id":
            element.set(attr, f"{prefix}-{value}")
    for child in list(element):
        if child.tag in _STRIP_TAGS:
            element.remove(child)
            continue
        if child.tag == f"{{{SVG_NS}}}title" and element.tag == f"{{{SVG_NS}}}g":
            element.remove(child)  # graphviz's per-shape tooltips: ids, not words
            continue
        if child.tag == f"{{{SVG_NS}}}a":
            index = list(element).index(child)
            element.remove(child)
            for offset, grandchild in enumerate(list(child)):
                element.insert(index + offset, grandchild)
                _clean_tree(grandchild, prefix)
            continue
        _clean_tree(child, prefix)


def map_svg(
    model: Model,
    result: CheckResult | None = None,
    view: str = "findings",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_nodes: int = DEFAULT_MAX_NODES,
    id_prefix: str = "map",
    numbered: Sequence[NumberedFinding] | None = None,
    quick: bool = False,
) -> str:
    """Build the map of ``model`` and draw it as accessible SVG text, through
    :func:`render_map` (raises :class:`MapUnavailable`). ``numbered``: the findings'
    numbers from a prepared audit (worked out from ``result`` without it)."""
    data = render_map(
        build_map(model, result, view, numbered),
        "svg",
        timeout=timeout,
        max_nodes=max_nodes,
        title=map_title(model, view),
        description=map_description(model, result, view, numbered),
        id_prefix=id_prefix,
        quick=quick,
    )
    return data.decode("utf-8")
