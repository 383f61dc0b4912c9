"""Drawing the map with ``dot``: formats, the accessible SVG, and what happens when it cannot."""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sdsaudit.model.loader import load_model_text
from sdsaudit.render.draw import (
    SVG_NS,
    MapUnavailable,
    accessible_svg,
    count_nodes,
    map_svg,
    render_map,
)
from sdsaudit.render.map import build_map

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "exampleshire" / "process.yaml"
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile.yaml"


def load(path: Path):
    return load_model_text(
        path.read_text(encoding="utf-8"), str(path), known_rules=["CONTROL-02", "CONTROL-04"]
    )


@pytest.fixture(scope="module")
def example():
    return load(EXAMPLE)


@pytest.fixture(scope="module")
def graph(example):
    return build_map(example)


def chain_model(n: int):
    steps = "\n".join(
        f"  - {{id: s{i}, name: Step {i}, kind: contact, actor: c, next: [s{i + 1}]}}"
        for i in range(n)
    )
    text = f"""sdsaudit: 1
council: Big
title: Long chain
as_of: 2026-01-01
actors: {{p: {{name: Person, kind: person}}, c: {{name: Council, kind: council}}}}
start: s0
steps:
{steps}
  - {{id: s{n}, name: Support, kind: support, next: [r]}}
  - {{id: r, name: Review, kind: review, actor: c, next: [s{n}]}}
"""
    return load_model_text(text, "big.yaml", known_rules=[])


# ----------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    "fmt,magic",
    [("svg", b"<svg"), ("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-"), ("dot", b"digraph")],
)
def test_formats_by_name(graph, fmt, magic):
    data = render_map(graph, fmt)
    assert data.startswith(magic), data[:40]
    assert len(data) > 1000


@pytest.mark.parametrize(
    "name,magic",
    [("m.svg", b"<svg"), ("m.PNG", b"\x89PNG"), ("sub/m.pdf", b"%PDF-"), ("m.dot", b"digraph")],
)
def test_formats_by_suffix_write_the_file(graph, tmp_path, name, magic):
    target = tmp_path / name
    data = render_map(graph, target)
    assert target.read_bytes() == data
    assert data.startswith(magic)


def test_dot_format_is_the_source(graph):
    assert render_map(graph, "dot").decode() == graph.source


def test_unknown_suffix_is_a_usage_error(graph, tmp_path):
    from sdsaudit.errors import UsageError

    with pytest.raises(UsageError, match=r"\.svg, \.png, \.pdf, \.dot"):
        render_map(graph, tmp_path / "map.jpg")


def test_svg_is_deterministic(example):
    assert map_svg(example) == map_svg(example)
    assert render_map(build_map(example), "svg") == render_map(build_map(example), "svg")


# ------------------------------------------------------------------ when it cannot be drawn


def test_no_dot_on_path(graph, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MapUnavailable, match="'dot' is not installed") as caught:
        render_map(graph, "svg")
    assert "graphviz" in caught.value.reason
    # the DOT text needs no dot
    assert render_map(graph, "dot").startswith(b"digraph")


def test_node_cap(graph):
    nodes = count_nodes(graph)
    with pytest.raises(MapUnavailable, match=f"it has {nodes} boxes, more than the 5"):
        render_map(graph, "svg", max_nodes=5)


def test_count_nodes_counts_steps_and_key(example, graph):
    # 12 steps + the start marker + 6 key shapes + the key's table of other marks
    assert count_nodes(graph) == len(example.steps) + 1 + 6 + 1


def test_big_model_hits_default_cap():
    with pytest.raises(MapUnavailable, match="more than the 250"):
        render_map(build_map(chain_model(260)), "svg")


def fake_dot(folder: Path, body: str) -> None:
    script = folder / "dot"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_time_limit(graph, monkeypatch, tmp_path):
    fake_dot(tmp_path, "exec sleep 30")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(MapUnavailable, match="longer than 0.5 seconds"):
        render_map(graph, "svg", timeout=0.5)


def test_dot_failure(graph, monkeypatch, tmp_path):
    fake_dot(tmp_path, "echo 'Error: syntax error in line 1' >&2; exit 1")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(MapUnavailable, match="'dot' failed: Error: syntax error in line 1"):
        render_map(graph, "png")


def test_failed_render_writes_nothing(graph, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(MapUnavailable):
        render_map(graph, tmp_path / "map.svg")
    assert not (tmp_path / "map.svg").exists()


# ----------------------------------------------------------------------------- accessible SVG


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def q(tag: str) -> str:
    return f"{{{SVG_NS}}}{tag}"


def test_accessible_svg_attributes(example):
    svg = map_svg(example)
    root = parse(svg)
    assert root.tag == q("svg")
    assert root.get("role") == "img"
    labelled = root.get("aria-labelledby").split()
    assert labelled == ["map-title", "map-desc"]
    first, second = list(root)[:2]
    assert first.tag == q("title") and first.get("id") == "map-title"
    assert second.tag == q("desc") and second.get("id") == "map-desc"
    assert "Exampleshire County Council" in first.text and "first contact to support" in first.text
    assert second.text.startswith("12 steps in 5 lanes")
    assert "2 arrows send work back" in second.text


def test_svg_has_no_comments_links_scripts_or_graphviz_titles(example):
    svg = map_svg(example)
    assert "<!--" not in svg and "<?xml" not in svg and "DOCTYPE" not in svg
    assert "href" not in svg and "<a " not in svg and "<script" not in svg
    assert "Generated by graphviz" not in svg
    root = parse(svg)
    titles = root.findall(f".//{q('title')}")
    assert len(titles) == 1  # only ours: graphviz's per-shape tooltips are gone


def test_svg_ids_are_prefixed_and_unique(example):
    svg = map_svg(example, id_prefix="m1")
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("m1-") for i in ids)
    assert len(ids) == len(set(ids))


def test_accessible_svg_strips_injected_markup():
    raw = (
        '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://x/svg11.dtd">'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'onload="alert(1)"><!-- comment --><title>G</title>'
        '<g id="a"><title>n</title><a xlink:href="javascript:alert(1)" target="_top">'
        '<text onclick="x()">hi</text></a><script>alert(2)</script>'
        '<rect style="fill:url(http://evil)" /><image href="http://evil/x.png"/></g></svg>'
    )
    svg = accessible_svg(raw, "A <title>", 'A "desc" & more')
    assert "alert" not in svg and "evil" not in svg and "comment" not in svg
    assert "onclick" not in svg and "onload" not in svg and "href" not in svg
    assert ">hi</text>" in svg
    assert '<title id="map-title">A &lt;title&gt;</title>' in svg
    assert 'A "desc" &amp; more' in svg


def test_hostile_model_svg_is_inert():
    model = load(HOSTILE)
    svg = map_svg(model)
    root = parse(svg)
    for element in root.iter():
        assert element.tag.split("}")[1] not in ("script", "a", "foreignObject", "iframe")
        for name in element.attrib:
            assert not name.split("}")[-1].lower().startswith("on"), name
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert "\\l \\N \\G escapes" in svg


def test_render_map_svg_is_accessible_too(graph):
    svg = render_map(graph, "svg", title="My map", description="About it").decode()
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.find(q("title")).text == "My map"
    assert root.find(q("desc")).text == "About it"
