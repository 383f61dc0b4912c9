"""The report as a newcomer sees it (issue 10, item 6): the map's first view, tables on a phone,
the printed report, days on the map, and the words of the step table and reasons.

The browser tests drive Debian's Chromium through the helpers in ``tests/browser`` and never
skip, like ``tests/test_a11y.py``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from sdsaudit.analysis.engine import check_model
from sdsaudit.api import write_reports
from sdsaudit.model.catalogue import load_catalogue
from sdsaudit.model.loader import load_model
from sdsaudit.render.draw import drawn_size, key_above, key_before_lanes, render_map
from sdsaudit.render.map import build_map, days_words, map_outline
from sdsaudit.render.present import readable
from sdsaudit.render.report import build_view
from sdsaudit.scoring.scores import score_model
from tests.browser import _use_session

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "exampleshire" / "process.yaml"
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile.yaml"
MODELS = {
    "exampleshire": EXAMPLE,
    **{p.stem: p for p in sorted((ROOT / "process_models").glob("*.yaml"))},
    "hostile": HOSTILE,
}


@pytest.fixture(scope="module")
def example():
    model = load_model(str(EXAMPLE))
    result = check_model(model)
    return model, result, score_model(model, result)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("layout")
    write_reports([str(p) for p in MODELS.values()], out)
    folders = {"exampleshire": out / "process", "hostile": out / "hostile"}
    return {name: (folders.get(name) or out / name) / "report.html" for name in MODELS}


# ----------------------------------------------------------------------------- days on the map


def test_step_boxes_show_their_days(example):
    model, result, _ = example
    for view in ("findings", "plain"):
        source = build_map(model, result, view).source
        line = next(ln for ln in source.splitlines() if re.match(r"\s*assessment \[", ln))
        assert "<I>21 days</I>" in line, view
        # support and ends stop the clock: no days on them
        for step in ("support", "signposted"):
            node = next(ln for ln in source.splitlines() if re.match(rf"\s*{step} \[", ln))
            assert "days" not in node
        # the key says what the days are
        notes = next(ln for ln in source.splitlines() if "__key_notes [" in ln)
        words = " ".join(re.sub(r"<[^>]+>", " ", notes).split())
        assert "21 days Days: the usual time a case spends at the step" in words
    easy = build_map(model, result, "easy-read").source
    line = next(ln for ln in easy.splitlines() if re.match(r"\s*assessment \[", ln))
    assert "<BR/>Takes 21 days<BR/><I>3 problems here</I>" in line


def test_days_words(example):
    model, _, _ = example
    assert days_words(model, model.step("first_contact")) == "2 days"
    assert days_words(model, model.step("first_contact"), "easy-read") == "Takes 2 days"
    assert days_words(model, model.step("review")) == ""  # no days given
    assert days_words(model, model.step("support")) == ""
    outline = {s.id: s.days for lane in map_outline(model) for s in lane.steps}
    assert outline["assessment"] == "21 days" and outline["support"] == ""


def test_map_in_words_gives_the_days(example):
    model, result, scores = example
    from sdsaudit.render.report import render_report

    files = render_report(model, result, scores, load_catalogue())
    assert "<strong>Needs assessment</strong> (step; 21 days)." in files.html
    assert "**Needs assessment** (step; 21 days)." in files.markdown


# ----------------------------------------------------------------------------- the key beside


def test_key_sits_level_with_the_start_not_above_it(example):
    model, result, _ = example
    source = build_map(model, result).source
    assert "{rank=same; __start; __key_approval}" in source
    assert "__key_notes -> __start" not in source


def test_the_smallest_place_for_the_key_is_kept():
    """dot puts the key on one side of the start; the other side and the old place above the
    process are tried too, and the smallest drawing kept, so the key goes where the process
    leaves room and never makes a map bigger than it was with the key above."""
    for path in MODELS.values():
        model = load_model(str(path))
        graph = build_map(model, check_model(model))
        other, above = key_before_lanes(graph), key_above(graph)
        assert other is not None and above is not None
        assert other.source.index("cluster_legend") < other.source.index("cluster_lane_1")
        assert "__key_notes -> __start [style=invis weight=0]" in above.source
        assert "rank=same; __start" not in above.source
        sizes = []
        for g in (graph, other, above):
            done = subprocess.run(
                ["dot", "-Tsvg"], input=g.source.encode(), capture_output=True, check=True
            )
            size = drawn_size(done.stdout, "svg")
            assert size is not None
            sizes.append((round(size[0] * size[1]), size[0], size))
        drawn = drawn_size(render_map(graph, "svg"), "svg")
        assert drawn == min(sizes)[2], (path.name, drawn, sizes)
        # on every shipped model the key is best beside the process: smaller than above
        assert min(sizes)[0] < sizes[2][0], (path.name, sizes)


def test_drawn_size_of_each_format(example):
    model, _, _ = example
    graph = build_map(model)
    sizes = {fmt: drawn_size(render_map(graph, fmt), fmt) for fmt in ("svg", "png", "pdf")}
    assert all(size and size[0] > 100 and size[1] > 100 for size in sizes.values()), sizes
    assert drawn_size(b"not a drawing", "svg") is None


# ----------------------------------------------------------------------------- words


def test_step_table_names_the_lane_the_map_draws(example):
    model, result, scores = example
    view = build_view(model, result, scores, load_catalogue())
    teams = {row.id: row.team for row in view.steps}
    assert teams["support"] == teams["signposted"] == "The person and their family"
    assert teams["first_contact"] == "Contact centre"
    assert all(teams.values())


def test_a_name_is_not_repeated_in_brackets(example):
    model, result, scores = example
    text = '"panel_review" (Funding panel) can send the plan back to be reworked at "planning"'
    assert readable(model, text) == (
        '"Funding panel" can send the plan back to be reworked at "Support planning"'
    )
    # a different word in brackets stays
    assert readable(model, '"sign_off" (Team managers) signs') == (
        '"Team manager signs off plan and budget" (Team managers) signs'
    )
    view = build_view(model, result, scores, load_catalogue())
    messages = [f.message for g in view.groups for f in g.findings]
    assert not any('"Funding panel" (Funding panel)' in m for m in messages)


def test_a_figure_over_a_target_of_zero_is_not_said_twice():
    model = load_model(str(ROOT / "process_models" / "lean.yaml"))
    scores = score_model(model, check_model(model))
    texts = [r.text for r in scores.overall.reasons if "give up" in r.text]
    assert texts, "lean's model has people giving up before support"
    for text in texts:
        figure = re.search(r": ([\d.]+), ", text).group(1)
        assert f"{figure}, over the expected 0 (" in text
        assert f"{figure}, {figure} " not in text


# ----------------------------------------------------------------------------- in a browser

_SCROLLERS = """() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const style = getComputedStyle(e);
    if (!['auto', 'scroll'].includes(style.overflowX)) continue;
    if (e.scrollWidth > e.clientWidth + 1) out.push(e.className || e.tagName);
  }
  const vw = document.documentElement.clientWidth;
  const outside = [...document.querySelectorAll('table, caption, th, td')]
    .filter(e => e.getClientRects().length && !e.closest('thead'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.right > vw + 0.5 || r.left < 0; })
    .map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 40));
  return {scrollers: out, outside, page: document.documentElement.scrollWidth - vw};
}"""


@pytest.mark.parametrize("width", [320, 390])
@pytest.mark.parametrize("name", list(MODELS))
def test_only_the_map_scrolls_sideways_on_a_phone(reports, name, width):
    with _use_session() as session:
        context, page = session.new_page(width, 800)
        try:
            page.goto(reports[name].resolve().as_uri(), wait_until="load")
            found = page.evaluate(_SCROLLERS)
        finally:
            context.close()
    assert found["page"] <= 0, found
    assert [s for s in found["scrollers"] if "map" not in s.split()] == [], found
    assert found["outside"] == [], found


def test_stacked_rows_keep_table_semantics(reports):
    """On a phone each row is a card, but screen readers still get a table: explicit roles,
    the header row present (hidden from sight only), and the cell labels are not spoken."""
    with _use_session() as session:
        context, page = session.new_page(390, 844)
        try:
            page.goto(reports["exampleshire"].resolve().as_uri(), wait_until="load")
            table = page.locator("table.steps-table")
            assert table.evaluate("e => getComputedStyle(e).display") == "block"
            assert table.get_attribute("role") == "table"
            head = page.locator("table.steps-table thead")
            assert head.evaluate("e => e.getBoundingClientRect().height") <= 1
            assert page.get_by_role("columnheader", name="Reasons").count() == 1
            cell = page.get_by_role("cell", name="Contact centre", exact=True)
            assert cell.count() == 1
            label = cell.evaluate("e => getComputedStyle(e, '::before').content")
            assert "Team" in label
            first = page.locator("table.steps-table tbody tr").first
            assert first.evaluate("e => e.getBoundingClientRect().width") <= 390
        finally:
            context.close()


def test_first_view_of_the_map_shows_steps_with_the_key_beside(reports):
    with _use_session() as session:
        context, page = session.new_page(1280, 800)
        try:
            page.goto(reports["exampleshire"].resolve().as_uri(), wait_until="load")
            page.locator(".scroll.map").evaluate("e => e.scrollIntoView()")
            seen = page.evaluate(
                """() => {
                  const box = document.querySelector('.scroll.map').getBoundingClientRect();
                  const bottom = Math.min(box.bottom, window.innerHeight);
                  const shown = [];
                  for (const g of document.querySelectorAll('svg[role=img] g.node')) {
                    const r = g.getBoundingClientRect();
                    if (r.top >= box.top && r.bottom <= bottom)
                      shown.push(g.textContent.trim().replace(/\\s+/g, ' '));
                  }
                  const rect = g => { const r = g.getBoundingClientRect();
                    return [r.left, r.top, r.right, r.bottom]; };
                  const key = [...document.querySelectorAll('svg[role=img] g.cluster')].find(
                    g => g.textContent.trim().startsWith('Key'));
                  const first = [...document.querySelectorAll('svg[role=img] g.node')].find(
                    g => g.textContent.trim().startsWith('First contact'));
                  return {shown, bottom, key: rect(key), first: rect(first)};
                }"""
            )
        finally:
            context.close()
    # before: the title, the key and only "Start" (the first step was below the fold)
    steps = [s for s in seen["shown"] if re.search(r"\d+ days", s)]
    assert len(steps) >= 3, seen
    assert "Start" in seen["shown"] and steps[0].startswith("First contact"), seen
    key, first = seen["key"], seen["first"]
    assert key[3] <= seen["bottom"], "the whole key is in the first view"
    assert key[1] < first[3], "the key starts level with the top of the process, not above it"
    assert key[0] > first[2] or key[2] < first[0], "the key is beside the process"


def test_print_keeps_headers_with_rows_and_gives_the_map_a_page(reports):
    with _use_session() as session:
        context, page = session.new_page(733, 1000)  # about the width of A4 inside margins
        try:
            page.goto(reports["exampleshire"].resolve().as_uri(), wait_until="load")
            page.emulate_media(media="print")
            styles = page.evaluate(
                """() => {
                  const s = (sel, pseudo) => getComputedStyle(document.querySelector(sel), pseudo);
                  return {
                    thead: [...document.querySelectorAll('thead')].map(
                      e => getComputedStyle(e).display),
                    rows: s('table.steps-table tbody tr').breakInside,
                    caption: s('#steps-caption').breakAfter,
                    heading: s('#steps').breakAfter,
                    steps: s('.steps-section').breakBefore,
                    table: s('table.steps-table').display,
                    map: [s('.map-page').breakBefore, s('.map-page').breakAfter, s('.map-page').page],
                  };
                }"""
            )
            assert set(styles["thead"]) == {"table-header-group"}, styles
            assert styles["rows"] == "avoid" and styles["caption"] == "avoid", styles
            assert styles["heading"] == "avoid" and styles["steps"] == "page", styles
            assert styles["table"] == "table", "tables print as tables, not cards"
            assert styles["map"] == ["page", "page", "map-portrait"], styles
            # the map fills its page: its text prints at 6 pt or more (it was 5 pt with the
            # key above the process)
            svg = page.locator(".scroll.map svg")
            box = svg.bounding_box()
            natural = [float(svg.get_attribute(a).removesuffix("pt")) for a in ("width", "height")]
            scale = min(box["width"] / (natural[0] * 4 / 3), box["height"] / (natural[1] * 4 / 3))
            assert 11 * scale >= 6, scale
            region = page.locator(".map-page").bounding_box()
            assert region["height"] <= 279 / 25.4 * 96 + 1  # one A4 page inside its margins
            pdf = page.pdf(format="A4")
        finally:
            context.close()
    assert len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf)) >= 4
