"""Accessibility of the HTML report: parsed-HTML checks, palette contrast, and a real browser.

The browser tests drive Debian's Chromium through Playwright with axe-core injected
(``tests/browser``); they never skip. Every example's report, the hostile-text model's
report and the report of a format 1.1 model the tests write (a parallel block, groups of
people, unknown times, limits set by law, sources and assumptions) must have zero axe
violations for WCAG 2.0, 2.1 and 2.2 A and AA.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sdsaudit.api import write_reports
from sdsaudit.render.map import PALETTE
from sdsaudit.resources import data_dir
from tests.browser import (
    _use_session,
    axe_violations,
    format_violations,
    max_horizontal_overflow,
    screenshot,
)
from tests.test_report_1_1 import PARALLEL

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile.yaml"
MODELS = {
    "exampleshire": ROOT / "examples" / "exampleshire" / "process.yaml",
    **{p.stem: p for p in sorted((ROOT / "process_models").glob("*.yaml"))},
    "hostile": HOSTILE,
}
WRITTEN = {"format_1_1": PARALLEL}
"""Models the tests write themselves (name: the file's text), reported with the others."""
NAMES = [*MODELS, *WRITTEN]
QUOTES_URLS = ("hostile", "format_1_1")
"""Models whose reports show an address as text (inert): the hostile model's text, and
the 1.1 model's source."""
RATING_WORDS = (
    "good",
    "needs work",
    "poor",
    "not scored",
    "met",
    "partly met",
    "not met",
    "not assessed",
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    written = tmp_path_factory.mktemp("models")
    paths = dict(MODELS)
    for name, text in WRITTEN.items():
        paths[name] = written / f"{name}.yaml"
        paths[name].write_text(text, encoding="utf-8")
    write_reports([str(p) for p in paths.values()], out)
    folders = {"exampleshire": out / "process", "hostile": out / "hostile"}
    return {name: (folders.get(name) or out / name) / "report.html" for name in paths}


# ----------------------------------------------------------------------------- parsed HTML


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)

    def iter(self):
        yield self
        for child in self.children:
            yield from child.iter()


VOID = {
    "meta",
    "link",
    "br",
    "hr",
    "img",
    "input",
    "area",
    "base",
    "col",
    "embed",
    "source",
    "track",
    "wbr",
}


class Tree(HTMLParser):
    """A small DOM: enough to check structure (the report is well-formed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(Element("#text", {}, text=data))

    def handle_comment(self, data):
        self.comments.append(data)


def parse(path: Path) -> Tree:
    tree = Tree()
    tree.feed(path.read_text(encoding="utf-8"))
    tree.close()
    return tree


def elements(tree: Tree, tag: str | None = None) -> list[Element]:
    return [e for e in tree.root.iter() if tag is None or e.tag == tag]


@pytest.mark.parametrize("name", NAMES)
def test_document_language_title_and_csp(reports, name):
    tree = parse(reports[name])
    (html,) = elements(tree, "html")
    assert html.attrs["lang"] == "en-GB"
    (head,) = elements(tree, "head")
    (title,) = [e for e in head.children if e.tag == "title"]
    council = re.sub(r"\s+", " ", elements(tree, "h1")[0].all_text().split(":")[0]).strip()
    assert council and council in title.all_text()
    csp = [
        m.attrs["content"]
        for m in elements(tree, "meta")
        if m.attrs.get("http-equiv", "").lower() == "content-security-policy"
    ]
    assert len(csp) == 1
    policy = dict(p.strip().split(" ", 1) for p in csp[0].split(";"))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'none'"
    assert "unsafe-inline" not in policy["script-src"]


def test_title_names_the_council(reports):
    (head,) = elements(parse(reports["exampleshire"]), "head")
    title = next(e for e in head.children if e.tag == "title").all_text()
    assert title.startswith("Exampleshire County Council")


@pytest.mark.parametrize("name", NAMES)
def test_headings(reports, name):
    tree = parse(reports[name])
    levels = [int(e.tag[1]) for e in tree.root.iter() if re.fullmatch(r"h[1-6]", e.tag)]
    assert levels.count(1) == 1 and levels[0] == 1
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, f"heading level skips from h{before} to h{after}"


@pytest.mark.parametrize("name", NAMES)
def test_tables_have_captions_and_header_cells(reports, name):
    tables = elements(parse(reports[name]), "table")
    assert tables
    for table in tables:
        assert [c.tag for c in table.children if c.tag != "#text"][0] == "caption"
        assert table.children and any(
            c.tag == "caption" and c.all_text().strip() for c in table.children
        )
        heads = [e for e in table.iter() if e.tag == "th"]
        assert heads and all(h.attrs.get("scope") in ("col", "row") for h in heads)
        assert any(e.tag == "thead" for e in table.iter())


@pytest.mark.parametrize("name", NAMES)
def test_every_rating_carries_its_word(reports, name):
    marks = [
        e
        for e in parse(reports[name]).root.iter()
        if {"rating", "status"} & set(e.attrs.get("class", "").split())
    ]
    assert len(marks) >= 3
    for mark in marks:
        text = mark.all_text().strip()
        assert any(
            text.endswith(w) or f"{w})" in text or f", {w}" in text or text == w
            for w in RATING_WORDS
        ), text


@pytest.mark.parametrize("name", NAMES)
def test_svg_has_an_accessible_name(reports, name):
    tree = parse(reports[name])
    (svg,) = elements(tree, "svg")
    assert svg.attrs["role"] == "img"
    ids = svg.attrs["aria-labelledby"].split()
    by_id = {e.attrs["id"]: e for e in tree.root.iter() if "id" in e.attrs}
    assert [by_id[i].tag for i in ids] == ["title", "desc"]
    assert all(by_id[i].all_text().strip() for i in ids)
    region = next(e for e in tree.root.iter() if svg in e.children)
    assert region.attrs["tabindex"] == "0" and region.attrs["role"] == "region"
    assert region.attrs["aria-label"]


@pytest.mark.parametrize("name", NAMES)
def test_no_script_events_or_external_urls(reports, name):
    path = reports[name]
    text = path.read_text(encoding="utf-8")
    tree = parse(path)
    assert not elements(tree, "script") and "<script" not in text.lower()
    for element in tree.root.iter():
        for attr, value in element.attrs.items():
            assert not attr.lower().startswith("on"), (element.tag, attr)
            assert not re.match(r"\s*(javascript|data|vbscript):", value, re.I), (attr, value)
            if attr in ("href", "src", "xlink:href", "action", "formaction", "poster"):
                assert value.startswith("#"), (element.tag, attr, value)
    if name not in QUOTES_URLS:  # these show an address as text, inert
        assert not re.search(r"https?:|//[a-z]", text), "an external URL in the report"
    assert "url(" not in text and "@import" not in text
    assert not tree.comments


@pytest.mark.parametrize("name", NAMES)
def test_ids_unique_and_links_resolve(reports, name):
    tree = parse(reports[name])
    ids = [e.attrs["id"] for e in tree.root.iter() if "id" in e.attrs]
    assert len(ids) == len(set(ids))
    for link in elements(tree, "a"):
        assert link.attrs["href"][1:] in ids, link.attrs["href"]
    skip = elements(tree, "a")[0]
    assert skip.attrs["href"] == "#main" and "Skip" in skip.all_text()


@pytest.mark.parametrize("name", NAMES)
def test_scroll_containers_are_focusable_and_named(reports, name):
    regions = [
        e for e in parse(reports[name]).root.iter() if "scroll" in e.attrs.get("class", "").split()
    ]
    assert len(regions) >= 3
    for region in regions:
        assert region.attrs["tabindex"] == "0" and region.attrs["role"] == "region"
        assert region.attrs.get("aria-label") or region.attrs.get("aria-labelledby")


# ----------------------------------------------------------------------------- contrast


def luminance(colour: str) -> float:
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54


CSS = (data_dir("templates") / "_report.css.j2").read_text(encoding="utf-8")
VARS = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6});", CSS))

TEXT_PAIRS = [  # (text, background) at 4.5:1
    ("text", "page"),
    ("muted", "page"),
    ("link", "page"),
    ("text", "head"),
    ("text", "panel"),
    ("text", "note-bg"),
    ("good-text", "good-bg"),
    ("fair-text", "fair-bg"),
    ("poor-text", "poor-bg"),
    ("none-text", "none-bg"),
    ("poor-text", "page"),
    ("link", "note-bg"),
    ("muted", "panel"),
]
MARK_PAIRS = [  # (outline or mark, what it sits on) at 3:1
    ("good-line", "page"),
    ("fair-line", "page"),
    ("poor-line", "page"),
    ("none-line", "page"),
    ("good-line", "good-bg"),
    ("fair-line", "fair-bg"),
    ("poor-line", "poor-bg"),
    ("none-line", "none-bg"),
    ("rule", "page"),
    ("focus", "page"),
    ("note-line", "note-bg"),
    ("rule", "head"),
]


def test_every_css_colour_is_checked():
    used = {name for pair in TEXT_PAIRS + MARK_PAIRS for name in pair}
    assert used == set(VARS), set(VARS) ^ used
    # every colour in the stylesheet is a variable, so the pairs above are the whole palette
    body = CSS.split("}", 1)[1]
    assert not re.search(r"#[0-9a-fA-F]{3,6}\b", body)


@pytest.mark.parametrize("fg,bg", TEXT_PAIRS)
def test_text_contrast(fg, bg):
    assert contrast(VARS[fg], VARS[bg]) >= 4.5, (fg, bg, round(contrast(VARS[fg], VARS[bg]), 2))


@pytest.mark.parametrize("fg,bg", MARK_PAIRS)
def test_mark_contrast(fg, bg):
    assert contrast(VARS[fg], VARS[bg]) >= 3.0, (fg, bg, round(contrast(VARS[fg], VARS[bg]), 2))


FILLS = [k for k in PALETTE if k.endswith("_fill")]


@pytest.mark.parametrize("fill", FILLS)
def test_map_text_on_every_fill(fill):
    assert contrast(PALETTE["text"], PALETTE[fill]) >= 4.5
    assert contrast(PALETTE["badge"], PALETTE[fill]) >= 4.5


@pytest.mark.parametrize("line", ["line", "lane_line", "person_line", "rework", "badge"])
def test_map_lines_against_white_and_lanes(line):
    for background in ("#ffffff", PALETTE["lane_fill"], PALETTE["person_fill"]):
        assert contrast(PALETTE[line], background) >= 3.0, (line, background)


# ----------------------------------------------------------------------------- real browser


@pytest.mark.parametrize("name", NAMES)
def test_axe_finds_nothing(reports, name):
    violations = axe_violations(reports[name])
    assert violations == [], format_violations(violations)


@pytest.mark.parametrize("name", NAMES)
def test_no_horizontal_scroll_at_320px(reports, name):
    assert max_horizontal_overflow(reports[name], width=320) == 0


def test_axe_on_a_phone_and_without_the_map(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    write_reports([str(MODELS["exampleshire"])], tmp_path / "nomap")
    page = tmp_path / "nomap" / "report.html"
    assert "The map could not be drawn" in page.read_text()
    violations = axe_violations(page, width=320, height=700)
    assert violations == [], format_violations(violations)


def test_map_renders_in_the_browser(reports, tmp_path):
    page_path = reports["exampleshire"]
    png = screenshot(page_path, tmp_path / "report.png", width=1280, height=900)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 100_000
    with _use_session() as session:
        context, page = session.new_page(1280, 900)
        try:
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            svg = page.locator("svg[role=img]")
            box = svg.bounding_box()
            assert box and box["width"] > 600 and box["height"] > 600
            assert page.locator("svg[role=img] text").count() > 30
            first = page.locator("svg[role=img] text", has_text="Needs assessment").first
            text_box = first.bounding_box()
            assert text_box and text_box["width"] > 20 and text_box["height"] > 5
            page.locator(".map-page").screenshot(path=str(tmp_path / "map.png"))
            assert (tmp_path / "map.png").stat().st_size > 50_000
            # print: the map section starts and ends its own page
            page.emulate_media(media="print")
            breaks = page.evaluate(
                "() => { const s = getComputedStyle(document.querySelector('.map-page'));"
                " return [s.breakBefore, s.breakAfter, s.page]; }"
            )
            assert breaks == ["page", "page", "map-portrait"]  # a tall map prints upright
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 4
        finally:
            context.close()


def test_map_fits_a_desktop_window(reports):
    """At 1280 px the Exampleshire map shows whole, at full size, with nothing to scroll
    sideways: the key is compact and the map may use the window's width."""
    with _use_session() as session:
        context, page = session.new_page(1280, 900)
        try:
            page.goto(reports["exampleshire"].resolve().as_uri(), wait_until="load")
            region = page.locator(".scroll.map")
            scroll, client = region.evaluate("e => [e.scrollWidth, e.clientWidth]")
            assert scroll <= client, (scroll, client)
            svg = page.locator("svg[role=img]")
            drawn = svg.bounding_box()["width"]
            natural = float(svg.get_attribute("width").removesuffix("pt")) * 4 / 3
            assert abs(drawn - natural) < 1  # not shrunk to fit: its text keeps its size
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
            key = page.locator("svg[role=img] g.cluster").last  # the key is drawn last
            assert key.locator("text").first.text_content() == "Key"
            assert key.bounding_box()["width"] < 0.7 * drawn
        finally:
            context.close()
