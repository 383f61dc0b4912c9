"""The process map as DOT text: lanes, shapes, arrows, badges, key, views and escaping."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from sdsaudit.analysis.findings import CheckResult, Finding
from sdsaudit.model.loader import load_model_text
from sdsaudit.render.map import (
    PALETTE,
    build_map,
    map_outline,
    map_text,
    mark_of,
    share_text,
)
from sdsaudit.render.present import clean, esc, number_findings, step_order

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "exampleshire" / "process.yaml"
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile.yaml"


def load(path: Path):
    # known_rules given, so these tests do not depend on the rule catalogue
    return load_model_text(
        path.read_text(encoding="utf-8"), str(path), known_rules=["CONTROL-02", "CONTROL-04"]
    )


@pytest.fixture(scope="module")
def example():
    return load(EXAMPLE)


@pytest.fixture(scope="module")
def hostile():
    return load(HOSTILE)


def finding(
    rule: str,
    blocks: tuple[str, ...],
    steps: tuple[str, ...],
    severity: str = "warning",
    waived: bool = False,
) -> Finding:
    return Finding(
        rule=rule,
        slug=rule.lower(),
        severity=severity,
        blocks=blocks,
        steps=steps,
        message=f"{rule} message",
        waived=waived,
    )


def result_for(model, *findings: Finding) -> CheckResult:
    return CheckResult(
        path=model.path,
        council=model.council,
        title=model.title,
        as_of=str(model.as_of),
        findings=tuple(findings),
    )


def node_line(source: str, node: str) -> str:
    lines = [ln for ln in source.splitlines() if re.match(rf"\s*{re.escape(node)} \[", ln)]
    assert len(lines) == 1, (node, lines)
    return lines[0]


def clusters(source: str) -> dict[str, str]:
    """Cluster name -> its text up to the closing brace (clusters here do not nest but the key)."""
    out = {}
    for match in re.finditer(r"subgraph (cluster_\w+) \{(.*?)\n\t\}", source, re.S):
        out[match.group(1)] = match.group(2)
    return out


def dot_accepts(source: str) -> str:
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Warning" not in done.stderr and b"Error" not in done.stderr, done.stderr.decode()
    return done.stdout.decode()


# ----------------------------------------------------------------------------- lanes


def test_one_lane_per_actor_with_steps(example):
    source = build_map(example).source
    lanes = {k: v for k, v in clusters(source).items() if k.startswith("cluster_lane_")}
    labels = sorted(re.search(r"label=<(.*?)> ", body).group(1) for body in lanes.values())
    assert labels == sorted(
        [
            'Contact centre<BR ALIGN="LEFT"/>',
            'Locality social work team<BR ALIGN="LEFT"/>',
            'Financial assessment team<BR ALIGN="LEFT"/>',
            'Funding panel<BR ALIGN="LEFT"/>',
            '<B>The person:</B><BR ALIGN="LEFT"/><B>The person and their family</B>'
            '<BR ALIGN="LEFT"/>',
        ]
    )
    locality = next(body for body in lanes.values() if "Locality" in body)
    for step in (
        "assessment",
        "eligibility",
        "indicative_budget",
        "planning",
        "sign_off",
        "arrange",
        "review",
    ):
        assert re.search(rf"\n\t\t{step} \[", locality), step


def test_person_lane_stands_out_without_colour(example):
    source = build_map(example).source
    person = next(b for b in clusters(source).values() if "The person:" in b)
    others = [b for b in clusters(source).values() if "The person:" not in b and "Key" not in b]
    assert "bold" in re.search(r'style="([^"]+)"', person).group(1)
    assert float(re.search(r"penwidth=([\d.]+)", person).group(1)) >= 3
    for body in others:
        assert "bold" not in re.search(r'style="?([^" ]+)', body).group(1)
        assert float(re.search(r"penwidth=([\d.]+)", body).group(1)) < 2
    # steps without an actor (support in place, end points) are the person's outcomes
    assert re.search(r"\n\t\tsupport \[", person) and re.search(r"\n\t\tsignposted \[", person)


# ----------------------------------------------------------------------------- shapes and arrows


def test_shapes_by_kind(example):
    source = build_map(example).source
    assert "shape=octagon" in node_line(source, "sign_off")
    assert "shape=doubleoctagon" in node_line(source, "panel_review")
    assert "shape=diamond" in node_line(source, "eligibility")
    support = node_line(source, "support")
    assert "shape=ellipse" in support and "peripheries=2" in support
    end = node_line(source, "signposted")
    assert "shape=ellipse" in end and "peripheries=1" in end
    assert "shape=box" in node_line(source, "assessment")


def test_rework_is_dashed_and_labelled_sent_back(example):
    source = build_map(example).source
    rework = [ln for ln in source.splitlines() if "->" in ln and "style=dashed" in ln]
    rework = [ln for ln in rework if "__key" not in ln]
    arrows = []
    for line in rework:
        tail, head = line.split("[")[0].strip().split(" -> ")
        # work sent back to an earlier step is stated forwards with its arrowhead turned
        # round, so the layout routes it beside the flow; what is drawn is the same arrow
        arrows.append((head, tail) if "dir=back" in line else (tail, head))
        assert "sent back" in line
    assert sorted(arrows) == [("panel_review", "planning"), ("review", "planning")]
    ordinary = [
        ln for ln in source.splitlines() if "->" in ln and "__" not in ln and "dashed" not in ln
    ]
    assert ordinary and not any("sent back" in ln for ln in ordinary)


def test_shares_and_conditions_on_arrows(example):
    source = build_map(example).source
    line = next(ln for ln in source.splitlines() if "eligibility -> indicative_budget" in ln)
    assert "label=<when eligible, 85%>" in line
    line = next(ln for ln in source.splitlines() if "sign_off -> financial_assessment" in ln)
    assert "label=<90%>" in line


@pytest.mark.parametrize(
    "share,text",
    [(0.85, "85%"), (0.1, "10%"), (1 / 3, "33%"), (0.005, "0.5%"), (0.02, "2%"), (None, "")],
)
def test_share_text(share, text):
    assert share_text(share) == text


def test_start_arrow(example):
    source = build_map(example).source
    assert "__start -> first_contact" in source
    assert "label=<<B>Start</B>>" in node_line(source, "__start")


# ----------------------------------------------------------------------------- findings


def test_numbering_groups_by_block_then_severity(example):
    result = result_for(
        example,
        finding("SIMPLE-02", ("simple",), ()),
        finding("AUTH-03", ("simple", "in_control"), ("sign_off", "panel_review")),
        finding("STRUCT-01", ("simple",), ("review",), severity="error"),
        finding("CONTROL-02", ("in_control",), (), waived=True),
        finding("HEARD-01", ("heard",), ("assessment",)),
        finding("CONTROL-03", ("in_control",), ()),
    )
    numbered = number_findings(result)
    assert [(n.number, n.finding.rule, n.block) for n in numbered] == [
        (1, "HEARD-01", "heard"),
        (2, "STRUCT-01", "simple"),
        (3, "SIMPLE-02", "simple"),
        (4, "AUTH-03", "simple"),
        (5, "CONTROL-03", "in_control"),
    ]
    assert number_findings(None) == ()


def test_badges_match_numbers(example):
    result = result_for(
        example,
        finding("HEARD-01", ("heard",), ("planning",)),
        finding("AUTH-03", ("simple",), ("sign_off", "panel_review")),
        finding("SEQ-04", ("simple",), ("sign_off",)),
        finding("CONTROL-02", ("in_control",), ("planning",), waived=True),
    )
    source = build_map(example, result).source
    assert "[1]" in node_line(source, "planning")
    assert "[2] [3]" in node_line(source, "sign_off")
    assert "[2]" in node_line(source, "panel_review") and "[3]" not in node_line(
        source, "panel_review"
    )
    assert "[4]" not in source  # waived findings carry no number
    assert "[" not in node_line(source, "assessment").split("label=<")[1].split(">")[0]
    # the key explains the badge
    assert "problem number 3" in words_of(node_line(source, "__key_notes"))
    outline = {s.id: s.findings for lane in map_outline(example, result) for s in lane.steps}
    assert outline["sign_off"] == (2, 3) and outline["planning"] == (1,)


def test_plain_view_has_no_badges(example):
    result = result_for(example, finding("AUTH-03", ("simple",), ("sign_off",)))
    source = build_map(example, result, view="plain").source
    assert "[1]" not in source and "problem" not in source
    assert "85%" in source


def test_easy_read_view(example):
    result = result_for(
        example,
        finding("AUTH-03", ("simple",), ("sign_off", "panel_review")),
        finding("SEQ-04", ("simple",), ("sign_off",)),
    )
    source = build_map(example, result, view="easy-read").source
    assert "fontsize=18" in source.splitlines()[1]
    assert "%" not in source  # no shares
    assert "[1]" not in source and "2 problems here" in node_line(source, "sign_off")
    assert "1 problem here" in node_line(source, "panel_review")
    assert "The person:" not in source
    # the easy read lane says "You", and long names wrap rather than widen the map
    assert '<B>You:</B><BR ALIGN="LEFT"/><B>The person and their</B>' in source
    assert words_of(node_line(source, "__key_approval")) == "Someone has to say yes"
    assert "How to read this map" in source
    assert "if eligible" in source
    dot_accepts(source)


def test_unknown_view_is_an_error(example):
    with pytest.raises(ValueError, match="easy-read"):
        build_map(example, view="fancy")


# ----------------------------------------------------------------------------- key


def words_of(label_line: str) -> str:
    """The words of a DOT node line's HTML-like label, tags dropped, spaces single."""
    rest, depth, end = label_line.split("label=", 1)[1], 0, 0
    while True:  # the label runs to its matching '>'
        depth += {"<": 1, ">": -1}.get(rest[end], 0)
        if depth == 0:
            break
        end += 1
    return " ".join(re.sub(r"<[^>]+>", " ", rest[1:end]).split())


def test_key_explains_every_mark_used(example):
    result = result_for(example, finding("AUTH-03", ("simple",), ("sign_off",)))
    source = build_map(example, result).source
    legend = clusters(source)["cluster_legend"]
    rows = re.findall(r"subgraph key_row_\d+ \{(.*?)\n\t\t\}", legend, re.S)
    # six shapes, two to a row, each drawn as on the map with its meaning inside
    assert [len(re.findall(r"\n\t\t\t__key_\w+ \[", row)) for row in rows] == [2, 2, 2]
    for mark, shape, words in [
        ("approval", "octagon", "approval: someone signs off"),
        ("panel", "doubleoctagon", "funding panel: a group signs off"),
        ("decision", "diamond", "decision or eligibility check"),
        ("support", "ellipse", "support in place"),
        ("end", "ellipse", "end: the person leaves the process"),
        ("step", "box", "step"),
    ]:
        line = node_line(legend, f"__key_{mark}")
        assert f"shape={shape} " in line and words_of(line).startswith(words), (mark, line)
        map_node = next(n for n in example.steps if mark_of(example, n) == mark)
        assert re.search(r"shape=(\w+)", node_line(source, map_node.id)).group(1) == shape
    # the other marks: one table, each with a sample beside its words
    notes = node_line(legend, "__key_notes")
    text = words_of(notes)
    for words in (
        "Thick border: the person&#x27;s own lane",
        "Arrow: what happens next",
        "Dashed arrow marked &#x27;sent back&#x27;: work goes back to be done again",
        "Percentage on an arrow: share of cases going that way",
        "[3]: problem number 3, explained in the report",
    ):
        assert words in text, words
    assert notes.count("<TR>") == 3  # five lines, two to a row
    assert 'BORDER="3"' in notes and PALETTE["person_fill"] in notes  # the lane, drawn
    assert f'<FONT COLOR="{PALETTE["rework"]}"><B>- - -&gt;</B>' in notes
    assert f'<FONT COLOR="{PALETTE["badge"]}"><B>[3]</B>' in notes and ">85%<" in notes
    dot_accepts(source)


def test_key_is_narrower_than_the_process(tmp_path):
    """The key may not be what makes a map wide: on every shipped model it is narrower
    than the map, and well under the width of a desktop page."""
    for path in [EXAMPLE, *sorted((ROOT / "process_models").glob("*.yaml"))]:
        model = load(path)
        for view in ("findings", "easy-read"):
            done = subprocess.run(
                ["dot", "-Tsvg"],
                input=build_map(model, None, view).source.encode(),
                capture_output=True,
                timeout=60,
                check=True,
            )
            svg = done.stdout.decode()
            width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
            box = re.search(
                r"<title>cluster_legend</title>\s*<polygon[^>]*points=\"([^\"]+)\"", svg
            )
            xs = [float(point.split(",")[0]) for point in box.group(1).split()]
            key = max(xs) - min(xs)
            assert key < (600 if view == "easy-read" else 450), (path.name, view, key)
            assert key < 0.75 * width, (path.name, view, key, width)


def test_key_leaves_out_marks_not_used():
    text = """sdsaudit: 1
council: Tiny
title: Tiny
as_of: 2026-01-01
actors: {p: {name: Person, kind: person}, c: {name: Council, kind: council}}
start: a
steps:
  - {id: a, name: Ask, kind: contact, actor: c, next: [s]}
  - {id: s, name: Support, kind: support, next: [r]}
  - {id: r, name: Review, kind: review, actor: c, next: [s]}
"""
    source = build_map(load_model_text(text, "tiny.yaml", known_rules=[])).source
    legend = clusters(source)["cluster_legend"]
    assert "octagon" not in legend and "diamond" not in legend
    assert (
        "sent back" not in legend and "Percentage" not in legend and "problem number" not in legend
    )
    dot_accepts(source)


# ----------------------------------------------------------------------------- escaping

HOSTILE_STRINGS = [
    "<script>alert(1)</script>",
    'say "hi"',
    "it's",
    "back\\slash",
    "\\l\\N\\G\\E\\T\\H\\L",
    "line\nbreak",
    "tab\there",
    "x > y < z",
    "&amp; &lt;",
    ']; node [label="x"]; //',
    "</TD></TR></TABLE>>",
    "javascript:alert(1)",
    "{braces} | pipes",
    "nul\x00byte\x1bescape",
    "emoji 🙂 and ü",
    "--> <!-- comment",
    "<<B>bold</B>>",
]


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_text_is_shown_literally(text, tmp_path):
    quoted = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    quoted = quoted.replace("\x00", "").replace("\x1b", "\\e")
    model_text = f"""sdsaudit: 1
council: "{quoted} council"
title: Hostile
as_of: 2026-01-01
actors:
  p: {{name: "{quoted} person", kind: person}}
  c: {{name: "{quoted} team", kind: council}}
start: a
steps:
  - {{id: a, name: "{quoted} step", kind: contact, actor: c,
      next: [{{to: s, when: "{quoted} when", share: 1}}]}}
  - {{id: s, name: Support, kind: support, next: [r]}}
  - {{id: r, name: Review, kind: review, actor: c, next: [s]}}
"""
    model = load_model_text(model_text, "hostile.yaml", known_rules=[])
    source = build_map(model).source
    assert "<script" not in source.lower() and "<<B>bold" not in source
    svg = dot_accepts(source)
    expected = clean(model.step("a").name)
    text_in_svg = "".join(re.findall(r">([^<]*)</text>", svg))
    import html as html_module

    shown = html_module.unescape(text_in_svg)
    # the words come through intact (wrapped lines are joined without their spaces)
    assert expected.replace(" ", "") in shown.replace(" ", "")
    assert "javascript:" not in svg or "href" not in svg


def test_hostile_model_dot_is_parseable_and_inert(hostile):
    for view in ("findings", "plain", "easy-read"):
        source = build_map(hostile, view=view).source
        svg = dot_accepts(source)
        assert "<script" not in svg.lower() and "<iframe" not in svg.lower()
        assert not re.search(r"<[^>]+\son\w+=", svg)  # no event attribute on any element
        # graphviz's own escapes (\N node name, \G graph name) are not expanded
        shown = " ".join(re.findall(r">([^<]*)</text>", svg))
        assert "process_map" not in shown
        assert "\\l \\N \\G escapes" in shown


def test_esc_doubles_backslashes_and_escapes_markup():
    assert esc('a\\G <b> "q"\n') == "a\\\\G &lt;b&gt; &quot;q&quot;"


# ----------------------------------------------------------------------------- text alternative


def test_step_order_is_breadth_first(example):
    assert [s.id for s in step_order(example)] == [
        "first_contact",
        "assessment",
        "eligibility",
        "indicative_budget",
        "signposted",
        "planning",
        "sign_off",
        "panel_review",
        "financial_assessment",
        "arrange",
        "support",
        "review",
    ]


def test_map_text_lane_by_lane(example):
    result = result_for(example, finding("AUTH-03", ("simple",), ("sign_off", "panel_review")))
    text = map_text(example, result)
    lanes = [ln for ln in text.splitlines() if ln and not ln.startswith((" ", "-", "Process map"))]
    assert lanes == [
        "Contact centre:",
        "Locality social work team:",
        "The person and their family (the person):",
        "Funding panel:",
        "Financial assessment team:",
    ]
    assert "- First contact (start; step; 2 days)" in text
    assert (
        "- Team manager signs off plan and budget (approval: someone signs off; 7 days). "
        "Problems 1" in text
    )
    assert "  - next: Support planning (sent back, when plan sent back, 20%)" in text
    assert "  - next: Indicative budget worked out and shared (when eligible, 85%)" in text
    assert (
        "- Signposted to community support (end: the person leaves the process)\n"
        "  - next: nothing (the process ends here)" in text
    )
    assert map_text(example, result) == text  # deterministic


def test_unreachable_steps_come_last():
    text = """sdsaudit: 1
council: C
title: T
as_of: 2026-01-01
actors: {p: {name: Person, kind: person}, c: {name: Council, kind: council}}
start: a
steps:
  - {id: lost, name: Lost, kind: contact, actor: c, next: [s]}
  - {id: a, name: Ask, kind: contact, actor: c, next: [s]}
  - {id: s, name: Support, kind: support, next: [r]}
  - {id: r, name: Review, kind: review, actor: c, next: [s]}
"""
    model = load_model_text(text, "t.yaml", known_rules=[])
    assert [s.id for s in step_order(model)] == ["a", "s", "r", "lost"]
