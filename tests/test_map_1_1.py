"""The map of a format 1.1 model: parallel steps drawn as gateways and their joins marked,
times nobody has published, one start per group of people, and the map in words saying
what happens at the same time, how people start, each step's sources and what is assumed.
A version-1 model's map and words stay as they were."""

from __future__ import annotations

import html
import re
import subprocess

import pytest

from sdsaudit.analysis.findings import CheckResult, Finding
from sdsaudit.model.loader import load_model_text
from sdsaudit.render.draw import key_above, key_before_lanes
from sdsaudit.render.map import (
    build_map,
    days_words,
    map_description,
    map_outline,
    map_text,
)
from sdsaudit.render.present import lane_of, lanes, step_order
from sdsaudit.render.report import render_report

PARALLEL = """sdsaudit: 1.1
council: Testshire Council
title: Parallel
as_of: 2026-04-01
sources:
  - {id: guide, title: Direct payments guide, published: 2024-03-01}
  - {id: leaflet, title: Charging leaflet}
actors:
  person: {name: The person, kind: person}
  team: {name: Adult social care, kind: council}
  fin: {name: Finance team, kind: finance}
authorities:
  - {id: tm, name: Team manager}
start:
  - {to: contact, when: adults, share: 0.8}
  - {to: assess, when: young people moving to adult services}
steps:
  - id: contact
    name: First contact
    kind: contact
    actor: team
    days: unknown
    source: guide
    next: [assess]
  - id: assess
    name: Assessment
    kind: assessment
    actor: team
    days: 10
    source: [guide, leaflet]
    assumed: [days, person]
    next: [both]
  - id: both
    name: Planning and financial assessment side by side
    kind: parallel
    branches: [plan, fa]
    join: signoff
  - id: plan
    name: Planning
    kind: planning
    actor: team
    days: 10
    next: [{to: plan, share: 0.5, rework: true}, {to: check}]
  - id: check
    name: Plan checked
    kind: review
    actor: team
    next: [signoff]
  - id: fa
    name: Financial assessment
    kind: financial_assessment
    actor: fin
    days: 15
    tells: [contribution]
    next: [signoff]
  - id: signoff
    name: Sign off
    kind: approval
    actor: team
    authority: tm
    approves: [support_plan]
    days: 2
    next: [support]
  - id: support
    name: Support
    kind: support
"""

NESTED = """sdsaudit: 1.1
council: Nestshire
title: Nested
as_of: 2026-04-01
actors:
  person: {name: The person, kind: person}
  team: {name: Team, kind: council}
start:
  - {to: a, when: adults, share: 0.5}
  - {to: y, when: carers, share: 0.5}
steps:
  - {id: a, name: Ask, kind: contact, actor: team, days: 1, next: [outer]}
  - {id: y, name: Carer contact, kind: contact, actor: team, days: 1, next: [outer]}
  - {id: outer, name: Outer split, kind: parallel, branches: [b, c], join: j}
  - {id: b, name: B first, kind: assessment, actor: team, days: 2, next: [inner]}
  - {id: inner, name: Inner split, kind: parallel, branches: [d, e], join: f}
  - {id: d, name: D, kind: planning, actor: team, days: 3, next: [f]}
  - {id: e, name: E, kind: financial_assessment, actor: team, days: 4, next: [f]}
  - {id: f, name: F, kind: review, actor: team, days: 1, next: [j]}
  - {id: c, name: C, kind: review, actor: team, days: 5, next: [j]}
  - {id: j, name: J, kind: review, actor: team, days: 1, next: [s]}
  - {id: s, name: Support, kind: support}
"""


def load(text: str, name: str = "model.yaml"):
    return load_model_text(text, name, known_rules=[])


@pytest.fixture(scope="module")
def par():
    return load(PARALLEL, "par.yaml")


@pytest.fixture(scope="module")
def nested():
    return load(NESTED, "nested.yaml")


def node_line(source: str, node: str) -> str:
    lines = [ln for ln in source.splitlines() if re.match(rf"\s*{re.escape(node)} \[", ln)]
    assert len(lines) == 1, (node, lines)
    return lines[0]


def words_of(label_line: str) -> str:
    """The words of a DOT line's HTML-like label, tags dropped, spaces single."""
    rest, depth, end = label_line.split("label=", 1)[1], 0, 0
    while True:
        depth += {"<": 1, ">": -1}.get(rest[end], 0)
        if depth == 0:
            break
        end += 1
    return " ".join(re.sub(r"<[^>]+>", " ", rest[1:end]).split())


def edges(source: str) -> list[tuple[str, str]]:
    return [
        (m.group(1), m.group(2))
        for m in re.finditer(r"^\t+(\w+) -> (\w+)", source, re.M)
        if not m.group(1).startswith("__key")
    ]


def dot_accepts(source: str) -> str:
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Warning" not in done.stderr and b"Error" not in done.stderr, done.stderr.decode()
    return done.stdout.decode()


def no_findings(model) -> CheckResult:
    return CheckResult(
        path=model.path,
        council=model.council,
        title=model.title,
        as_of=str(model.as_of),
        findings=(),
    )


# ----------------------------------------------------------------------------- the gateway


@pytest.mark.parametrize("view", ["findings", "plain", "easy-read"])
def test_parallel_step_is_a_gateway_with_words(par, view):
    source = build_map(par, view=view).source
    line = node_line(source, "both")
    assert "shape=diamond" in line
    words = words_of(line)
    assert words.startswith("+ Planning and financial")  # the plus, above the name
    same_time = (
        "These things happen at the same time"
        if view == "easy-read"
        else ("these happen at the same time")
    )
    assert words.endswith(same_time)  # words, not the shape alone
    # a parallel step has no actor, days or forms: its label shows none
    assert "day" not in words.lower() and "form" not in words.lower()
    assert "Time not known" not in words and "time not known" not in words
    # its arrows go to each branch's first step, and nowhere else
    assert [e for e in edges(source) if e[0] == "both"] == [("both", "plan"), ("both", "fa")]
    dot_accepts(source)


@pytest.mark.parametrize("view", ["findings", "plain", "easy-read"])
def test_join_is_marked_waits_for_all_of_these(par, view):
    source = build_map(par, view=view).source
    words = words_of(node_line(source, "signoff"))
    assert ("Waits for all of these" if view == "easy-read" else "waits for all of these") in words
    assert "waits for all of these" not in words_of(node_line(source, "plan")).lower()
    # the key explains the gateway's plus and the join's words, in words
    notes_line = node_line(source, "__key_notes")
    notes = words_of(notes_line)
    same_time = "these things happen" if view == "easy-read" else "these happen"
    assert f"+ Diamond with a plus: {same_time} at the same time" in notes
    assert "waits for all of these" in notes.lower()
    assert "must be finished first" in notes
    assert "__key_parallel" not in source  # no second diamond: the key stays short
    dot_accepts(source)


def test_parallel_step_sits_in_the_lane_it_is_reached_from(par, nested):
    assert lane_of(par, par.step("both")) == "team"
    # a parallel step that is a branch's first step sits where its own parallel step does
    assert lane_of(nested, nested.step("inner")) == "team"
    assert all(s.kind != "parallel" for s in dict(lanes(par)).get("person", []))


def test_nested_blocks_draw(nested):
    for view in ("findings", "easy-read"):
        source = build_map(nested, view=view).source
        assert [e for e in edges(source) if e[0] == "inner"] == [("inner", "d"), ("inner", "e")]
        assert "waits for all of these" in words_of(node_line(source, "f")).lower()
        assert "waits for all of these" in words_of(node_line(source, "j")).lower()
        dot_accepts(source)


def test_finding_numbers_still_show_on_a_gateway(par):
    found = Finding(
        rule="X-01", slug="x", severity="warning", blocks=("simple",), steps=("both",), message="m"
    )
    result = CheckResult(
        path=par.path, council=par.council, title=par.title, as_of="2026-04-01", findings=(found,)
    )
    assert "[1]" in words_of(node_line(build_map(par, result).source, "both"))
    assert "1 problem here" in words_of(
        node_line(build_map(par, result, "easy-read").source, "both")
    )


# ----------------------------------------------------------------------------- unknown days


def test_unknown_days_say_time_not_known(par):
    assert days_words(par, par.step("contact")) == "time not known"
    assert days_words(par, par.step("contact"), "easy-read") == "Time not known"
    assert days_words(par, par.step("check")) == ""  # no days key: nothing, as before
    source = build_map(par).source
    contact = words_of(node_line(source, "contact"))
    assert contact == "First contact time not known"
    assert not re.search(r"(?<![\d.])0 days", source)
    assert words_of(node_line(source, "check")) == "Plan checked"
    assert "nobody has published how long it takes" in words_of(node_line(source, "__key_notes"))
    easy = build_map(par, view="easy-read").source
    assert words_of(node_line(easy, "contact")) == "First contact Time not known"
    text = map_text(par)
    assert "- First contact (start for adults; step; time not known)" in text
    assert "- Plan checked (step)\n" in text and not re.search(r"(?<![\d.])0 days", text)


def test_only_unknown_days_do_not_explain_known_days():
    text = """sdsaudit: 1.1
council: C
title: T
as_of: 2026-01-01
actors: {p: {name: Person, kind: person}, c: {name: Council, kind: council}}
start: a
steps:
  - {id: a, name: Ask, kind: contact, actor: c, days: unknown, next: [s]}
  - {id: s, name: Support, kind: support}
"""
    notes = words_of(node_line(build_map(load(text)).source, "__key_notes"))
    assert "time not known" in notes and "21 days" not in notes


# ----------------------------------------------------------------------------- start groups


def test_one_start_marker_per_group(par):
    source = build_map(par).source
    assert words_of(node_line(source, "__start")) == "Start adults 80% of people"
    second = words_of(node_line(source, "__start_2"))
    assert second == "Start young people moving to adult services"  # no share given
    assert ("__start", "contact") in edges(source) and ("__start_2", "assess") in edges(source)
    # the starts sit together at the top, level with the key; the key can still move
    assert re.search(r"\{rank=same; __start; __start_2; __key_\w+\}", source)
    assert key_above(build_map(par)) is not None and key_before_lanes(build_map(par)) is not None
    dot_accepts(source)


def test_easy_read_start_markers_name_groups_without_percentages(par):
    source = build_map(par, view="easy-read").source
    assert words_of(node_line(source, "__start")) == "Start here adults"
    assert "%" not in source


def test_words_say_how_people_start(par):
    outline = map_outline(par)
    assert outline.starts == (
        "People start in one of 2 ways: adults (80%) at First contact; "
        "young people moving to adult services at Assessment."
    )
    text = map_text(par)
    assert outline.starts in text.splitlines()
    assert "- Assessment (start for young people moving to adult services; step; 10 days)" in text
    description = map_description(par)
    assert "starting at First contact or Assessment, by group of people." in description
    assert "work splits into steps that happen at the same time" in description


def test_single_start_keeps_the_plain_start():
    model = load(VERSION_1, "v1.yaml")
    firsts = [s for lane in map_outline(model) for s in lane.steps if s.is_start]
    assert [(s.id, s.start_words) for s in firsts] == [("a", "")]
    assert "- Ask (start; step; 2 days)" in map_text(model)


# ----------------------------------------------------------------------------- map in words


def test_words_say_what_happens_at_the_same_time(par):
    text = map_text(par)
    assert (
        "- Planning and financial assessment side by side (these happen at the same time)\n"
        "  - Then these happen at the same time: branch 1 (Planning, then Plan checked), "
        "branch 2 (Financial assessment). When all of them are done, the case goes on at "
        "Sign off.\n"
    ) in text
    # a parallel step does not "end the process"
    block = text.split("side by side (these happen")[1].split("\n- ")[0]
    assert "nothing" not in block
    assert (
        "- Sign off (approval: someone signs off; 2 days)\n"
        "  - Waits for all of these, which happen at the same time: branch 1 (Planning, "
        "then Plan checked), branch 2 (Financial assessment).\n"
        "  - next: Support\n"
    ) in text
    step = next(s for lane in map_outline(par) for s in lane.steps if s.id == "both")
    assert step.branches == (("Planning", "Plan checked"), ("Financial assessment",))
    assert step.arrows == () and step.days == ""


def test_words_name_every_branch_of_nested_blocks(nested):
    text = map_text(nested)
    assert (
        "Then these happen at the same time: branch 1 (B first, then Inner split, then D, "
        "then E, then F), branch 2 (C). When all of them are done, the case goes on at J."
    ) in text
    assert (
        "Then these happen at the same time: branch 1 (D), branch 2 (E). "
        "When all of them are done, the case goes on at F."
    ) in text
    assert "People start in one of 2 ways: adults (50%) at Ask; carers (50%) at Carer contact." in (
        text
    )


def test_words_list_sources_and_assumed_values(par):
    text = map_text(par)
    assert (
        "- First contact (start for adults; step; time not known)\n"
        "  - sources: Direct payments guide (published 1 March 2024)\n"
    ) in text
    assert (
        "  - sources: Direct payments guide (published 1 March 2024); Charging leaflet\n"
        "  - assumed, not published: how long it takes, the person's part\n"
    ) in text
    steps = {s.id: s for lane in map_outline(par) for s in lane.steps}
    assert steps["assess"].assumed == ("how long it takes", "the person's part")
    assert steps["plan"].sources == () and steps["plan"].assumed == ()


def test_report_shows_the_map_in_words(par):
    files = render_report(par, no_findings(par), draw_map=False)
    page = files.html.split('id="map-in-words"')[1].split("</section>")[0]
    assert "<p>People start in one of 2 ways: adults (80%) at First contact;" in page
    assert (
        "<li>Then these happen at the same time: branch 1 (Planning, then Plan checked), "
        "branch 2 (Financial assessment). When all of them are done, the case goes on at "
        "Sign off.</li>"
    ) in page
    assert "<li>Waits for all of these, which happen at the same time:" in page
    assert "<li>sources: Direct payments guide (published 1 March 2024)</li>" in page
    assert "<li>assumed, not published: how long it takes, the person&#39;s part</li>" in page
    assert "(start for adults; step; time not known)" in page
    both = page.split("side by side</strong>")[1].split("</ul>")[0]
    assert "nothing" not in both
    md = files.markdown.split("### The map in words")[1].split("## What we found")[0]
    assert "People start in one of 2 ways: adults (80%) at First contact;" in md
    assert "   - Then these happen at the same time: branch 1 (Planning, then Plan checked)" in md
    assert "   - sources: Direct payments guide (published 1 March 2024)" in md
    assert "   - assumed, not published: how long it takes, the person's part" in md


# ----------------------------------------------------------------------------- order


def test_order_walks_every_branch_then_the_join(par, nested):
    assert [s.id for s in step_order(par)] == [
        "contact",
        "assess",
        "both",
        "plan",
        "check",
        "fa",
        "signoff",
        "support",
    ]
    order = [s.id for s in step_order(nested)]
    assert order == ["a", "y", "outer", "b", "inner", "d", "e", "f", "c", "j", "s"]
    for model in (par, nested):
        ids = [s.id for s in step_order(model)]
        assert sorted(ids) == sorted(s.id for s in model.steps)  # every step, once
        for block in model.blocks:
            inside = [ids.index(s) for s in block.members]
            assert ids.index(block.step) < min(inside) and max(inside) < ids.index(block.join)
        # lanes and the map in words hold every step once, too
        assert sorted(s.id for _, steps in lanes(model) for s in steps) == sorted(ids)
        assert sorted(s.id for lane in map_outline(model) for s in lane.steps) == sorted(ids)


def test_every_start_is_walked_from():
    text = """sdsaudit: 1.1
council: C
title: T
as_of: 2026-01-01
actors: {p: {name: Person, kind: person}, c: {name: Council, kind: council}}
start:
  - {to: a, when: adults}
  - {to: t, when: young people}
steps:
  - {id: lost, name: Lost, kind: contact, actor: c, next: [s]}
  - {id: a, name: Ask, kind: contact, actor: c, next: [s]}
  - {id: t, name: Transitions, kind: contact, actor: c, next: [x]}
  - {id: x, name: Transitions check, kind: review, actor: c, next: [s]}
  - {id: s, name: Support, kind: support}
"""
    model = load(text)
    assert [s.id for s in step_order(model)] == ["a", "t", "s", "x", "lost"]
    assert map_outline(model).starts == (
        "People start in one of 2 ways: adults at Ask; young people at Transitions."
    )


# ----------------------------------------------------------------------------- version 1 unchanged


VERSION_1 = """sdsaudit: 1
council: Oldshire
title: Version one
as_of: 2026-01-01
authorities:
  - {id: tm, name: Team manager}
  - {id: panel, name: Funding panel}
actors:
  p: {name: The person, kind: person}
  c: {name: Council team, kind: council}
  f: {name: Funding panel, kind: panel}
start: a
steps:
  - {id: a, name: Ask, kind: contact, actor: c, days: 2, next: [e]}
  - {id: e, name: Eligible?, kind: eligibility, actor: c, days: 5,
     next: [{to: plan, when: eligible, share: 0.85}, {to: out, share: 0.15}]}
  - {id: out, name: Signposted, kind: end, outcome: signposted}
  - {id: plan, name: Planning, kind: planning, actor: p, days: 10, next: [ok]}
  - {id: ok, name: Panel agrees, kind: approval, actor: f, authority: panel, approves: [support_plan], days: 14,
     next: [{to: plan, rework: true, share: 0.2, when: sent back}, {to: s, share: 0.8}]}
  - {id: s, name: Support, kind: support, next: [r]}
  - {id: r, name: Review, kind: review, actor: c, next: [s]}
"""

VERSION_1_WORDS = """Process map of Oldshire: Version one

Council team:
- Ask (start; step; 2 days)
  - next: Eligible?
- Eligible? (decision or eligibility check; 5 days)
  - next: Planning (when eligible, 85%)
  - next: Signposted (15%)
- Review (step)
  - next: Support

The person (the person):
- Planning (step; 10 days)
  - next: Panel agrees
- Signposted (end: the person leaves the process)
  - next: nothing (the process ends here)
- Support (support in place)
  - next: Review

Funding panel:
- Panel agrees (funding panel: a group signs off; 14 days)
  - next: Planning (sent back, when sent back, 20%)
  - next: Support (80%)
"""


def test_a_version_1_model_says_what_it_said_before():
    """The words of a version-1 model, as the map in words gave them before format 1.1 (the
    golden reports of the version-1 reference models check the drawn maps byte for byte)."""
    model = load(VERSION_1, "v1.yaml")
    assert map_text(model) == VERSION_1_WORDS
    assert map_description(model) == (
        "7 steps in 3 lanes, one per team or person, starting at Ask. 1 arrow send work back. "
        "0 numbered problems marked on steps. The steps in order, lane by lane, follow the map "
        "as text."
    )
    assert map_outline(model).starts == ""
    source = build_map(model).source
    assert "Diamond with a plus" not in source and "waits for all" not in source
    assert "time not known" not in source and "__start_2" not in source
    assert "\t{rank=same; __start; __key_" in source


def test_a_version_1_model_says_the_same_as_version_1_1():
    """Every version-1 file is a 1.1 file with the same meaning: its map and words are the
    same whichever version it says."""
    old = load(VERSION_1, "v1.yaml")
    new = load(VERSION_1.replace("sdsaudit: 1\n", "sdsaudit: 1.1\n", 1), "v1.yaml")
    for view in ("findings", "plain", "easy-read"):
        assert build_map(old, view=view).source == build_map(new, view=view).source
        assert map_text(old, view=view) == map_text(new, view=view)
    assert map_description(old) == map_description(new)


# ----------------------------------------------------------------------------- escaping

HOSTILE = """sdsaudit: 1.1
council: C
title: T
as_of: 2026-01-01
sources:
  - {id: s1, title: "<b>Guide</b> \\"quoted\\"", published: 2024-01-02}
actors: {p: {name: Person, kind: person}, c: {name: Council, kind: council}}
start:
  - {to: a, when: "<b>adults</b> \\"all\\"", share: 1}
steps:
  - {id: a, name: "Ask <b>now</b>", kind: contact, actor: c, days: 1, source: s1, next: [par]}
  - {id: par, name: "Split <b>bold</b> \\"q\\" \\\\G", kind: parallel, branches: [x, y], join: j}
  - {id: x, name: "X <b>one</b>", kind: planning, actor: c, days: unknown, next: [j]}
  - {id: y, name: "Y \\"two\\" </TD>", kind: review, actor: c, days: 2, next: [j]}
  - {id: j, name: "Join <i>it</i> \\"", kind: review, actor: c, days: 1, next: [s]}
  - {id: s, name: Support, kind: support}
"""


@pytest.mark.parametrize("view", ["findings", "plain", "easy-read"])
def test_hostile_names_in_a_parallel_block_stay_inert(view):
    model = load(HOSTILE, "hostile.yaml")
    source = build_map(model, view=view).source
    assert "<b>" not in source and "<i>" not in source and "two&quot; </TD>" not in source
    split = words_of(node_line(source, "par"))
    assert split.startswith("+ Split &lt;b&gt;bold&lt;/b&gt; &quot;q&quot; \\\\G ")
    assert "Y &quot;two&quot; &lt;/TD&gt;" in source
    svg = dot_accepts(source)
    assert "<b>" not in svg and "<i>" not in svg
    shown = html.unescape(" ".join(re.findall(r">([^<]*)</text>", svg)))
    assert 'Split <b>bold</b> "q" \\G' in shown  # shown literally, escapes not expanded
    assert '<b>adults</b> "all"' in shown
    text = map_text(model, view=view)
    assert 'branch 1 (X <b>one</b>), branch 2 (Y "two" </TD>)' in text  # plain text, as written
    assert 'When all of them are done, the case goes on at Join <i>it</i> ".' in text


def test_hostile_names_are_escaped_in_the_report():
    model = load(HOSTILE, "hostile.yaml")
    files = render_report(model, no_findings(model), draw_map=False)
    page = files.html.split('id="map-in-words"')[1].split("</section>")[0]
    assert "<b>" not in page and "<i>" not in page and "</TD>" not in page
    assert "branch 1 (X &lt;b&gt;one&lt;/b&gt;)" in page
    assert "&lt;b&gt;adults&lt;/b&gt; &#34;all&#34; (100%) at Ask &lt;b&gt;now&lt;/b&gt;" in page
    assert "sources: &lt;b&gt;Guide&lt;/b&gt; &#34;quoted&#34; (published 2 January 2024)" in page
    md = files.markdown.split("### The map in words")[1].split("## What we found")[0]
    assert "<b>" not in md and "<i>" not in md
