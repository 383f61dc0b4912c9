"""Reports: the view-model, the three files, safety against hostile text, and the commands."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdsaudit.analysis.engine import check_model
from sdsaudit.analysis.findings import CheckResult, Finding
from sdsaudit.api import REPORT_FILES, map_output, report_folders, write_reports
from sdsaudit.cli import main
from sdsaudit.errors import UsageError
from sdsaudit.model.catalogue import load_catalogue
from sdsaudit.model.loader import load_model
from sdsaudit.render.jinja import environment, markdown_html, md_block, md_inline
from sdsaudit.render.present import number_findings
from sdsaudit.render.report import (
    build_view,
    draw_report_map,
    problem_points,
    rating,
    render_report,
)
from sdsaudit.render.report_view import DrawnMap
from sdsaudit.scoring.scores import score_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "exampleshire" / "process.yaml"
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile.yaml"


@pytest.fixture(scope="module")
def example():
    model = load_model(str(EXAMPLE))
    result = check_model(model)
    return model, result, score_model(model, result)


@pytest.fixture(scope="module")
def example_files(example):
    model, result, scores = example
    return render_report(model, result, scores, load_catalogue())


@pytest.fixture(scope="module")
def hostile_files():
    model = load_model(str(HOSTILE))
    result = check_model(model)
    return render_report(model, result, score_model(model, result), load_catalogue())


# ----------------------------------------------------------------------------- view-model


@pytest.mark.parametrize(
    "score,word",
    [
        (100, "good"),
        (75, "good"),
        (74.6, "good"),
        (74.4, "needs work"),
        (50, "needs work"),
        (49, "poor"),
        (0, "poor"),
        (None, "not scored"),
    ],
)
def test_rating_words(score, word):
    assert rating(score).word == word
    assert word in rating(score).text and word in rating(score).short


def test_view_model_of_the_example(example):
    model, result, scores = example
    view = build_view(model, result, scores, load_catalogue())
    assert view.council == "Exampleshire County Council"
    assert [b.block for b in view.blocks] == ["heard", "simple", "in_control"]
    overall = scores.as_dict()["overall"]
    assert [b.rating.score for b in view.blocks] == [
        overall[b] for b in ("heard", "simple", "in_control")
    ]
    # numbered findings: the same numbers as the map, grouped by block, consecutive
    numbers = [f.number for g in view.groups for f in g.findings]
    assert numbers == list(range(1, len(numbers) + 1))
    assert numbers == [n.number for n in number_findings(result)]
    rules = {f.rule for g in view.groups for f in g.findings}
    assert {"AUTH-03", "SEQ-04"} <= rules and "CONTROL-02" not in rules  # waived
    auth03 = next(f for g in view.groups for f in g.findings if f.rule == "AUTH-03")
    assert auth03.steps == ("Team manager signs off plan and budget", "Funding panel")
    assert auth03.rationale and auth03.evidence and auth03.recommendation and auth03.question
    assert 0 < len(view.top_problems) <= 5
    # the waiver is listed with its reason and the finding it covers
    (waiver,) = view.waivers
    assert waiver.rule == "CONTROL-02" and "withdrawn in 2026-27" in waiver.reason
    assert waiver.waived
    # every question comes from a finding's rule
    assert view.questions and all(q.numbers for q in view.questions)
    assert {q.rule for q in view.questions} <= rules
    labels = {m.key: m.label for m in view.metrics}
    assert labels["expected_days_to_support"].startswith("Typical days")
    assert all(m.label != m.key for m in view.metrics)
    assert [s.id for s in view.steps][:3] == ["first_contact", "assessment", "eligibility"]
    assert len(view.themes) == 6 and all(t.status for t in view.themes)


def test_building_the_view_runs_nothing(example, monkeypatch):
    """The view-model is pure: the map is drawn before it (``draw_report_map``) and handed
    in, so with no ``dot`` and no way to run a program the view comes out the same."""
    model, result, scores = example
    drawn = draw_report_map(model, result)
    assert drawn.svg is not None and drawn.unavailable is None
    with_map = build_view(model, result, scores, load_catalogue(), drawn=drawn)
    without = build_view(model, result, scores, load_catalogue())

    def refuse(*args, **kwargs):
        raise AssertionError("building the report's view ran a program")

    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    assert build_view(model, result, scores, load_catalogue(), drawn=drawn) == with_map
    assert build_view(model, result, scores, load_catalogue()) == without
    assert with_map.map.svg == drawn.svg
    assert without.map.svg is None and without.map.unavailable == "drawing was switched off"
    # only the map's drawing differs; its words (outline, text, numbers) are the same
    assert without == replace(
        with_map, map=replace(with_map.map, **vars(DrawnMap()), orientation="portrait")
    )
    # drawing is where dot is needed: without it, the reason reaches the view
    missing = draw_report_map(model, result)
    assert missing.svg is None and "'dot' is not installed" in (missing.unavailable or "")
    shown = build_view(model, result, scores, load_catalogue(), drawn=missing)
    assert shown.map.unavailable == missing.unavailable and shown.steps == with_map.steps


def _points_from(scores) -> dict[str, int]:
    """Points each rule takes off, recomputed from the ScoreReport's own reasons."""
    reasons = [*scores.overall.reasons]
    for step in scores.steps:
        reasons.extend(step.scores.reasons)
    points: dict[str, int] = {}
    for reason in reasons:
        if reason.rule and reason.kind in ("finding", "figure", "cap") and not reason.waived:
            points[reason.rule] = points.get(reason.rule, 0) - reason.points
    return points


def test_main_problems_are_ordered_by_the_points_they_cost(example):
    model, result, scores = example
    view = build_view(model, result, scores, load_catalogue())
    points = _points_from(scores)
    severity = {"error": 0, "warning": 1, "info": 2}
    live: dict[str, list] = {}
    for item in number_findings(result):
        live.setdefault(item.finding.rule, []).append(item)
    expected = sorted(
        live,
        key=lambda rule: (
            -points.get(rule, 0),
            min(severity[i.finding.severity] for i in live[rule]),
            live[rule][0].number,
        ),
    )[:5]
    top = view.top_problems
    assert [p.rule for p in top] == expected
    assert [p.points for p in top] == [points[r] for r in expected]
    assert [p.points for p in top] == sorted((p.points for p in top), reverse=True)
    # the heaviest problem leads; "asked the same thing twice" (problem 1) costs less
    assert top[0].points == max(points[r] for r in live)
    assert top[0].rule != "SIMPLE-01" and points["SIMPLE-01"] < top[0].points
    # one entry per rule, with all its problem numbers and places
    assert len({p.rule for p in top}) == len(top)
    seq = next(p for p in top if p.rule == "SEQ-04")
    assert seq.numbers == tuple(i.number for i in live["SEQ-04"]) and len(seq.numbers) == 2
    assert seq.places == ("Team manager signs off plan and budget", "Funding panel")
    assert view.easy_problems == tuple(p.title for p in top)


def test_problem_points_count_findings_figures_and_caps_only():
    from sdsaudit.scoring.reasons import Reason, Scores, StepScore
    from sdsaudit.scoring.scores import ScoreReport

    def reason(block, points, kind, rule=None, waived=False):
        return Reason(block, points, "why", kind, rule=rule, waived=waived)

    def step(sid, *reasons):
        return StepScore(sid, sid, "assessment", Scores(50, 50, 50, tuple(reasons)))

    scores = ScoreReport(
        path="m.yaml",
        council="C",
        title="T",
        as_of="2026-04-01",
        overall=Scores(
            50,
            50,
            50,
            (
                reason("simple", 100, "base"),
                reason("simple", -10, "finding", "SEQ-04"),
                reason("in_control", -5, "finding", "SEQ-04"),
                reason("simple", -10, "finding", "SEQ-04"),
                reason("simple", 10, "cap", "SEQ-04"),  # a cap gives points back
                reason("simple", -25, "figure", "SIMPLE-02"),  # a figure over target
                reason("in_control", -8, "finding", "CONTROL-02", waived=True),
                reason("in_control", 0, "finding", "CONTROL-02", waived=True),
                reason("heard", -6, "person"),  # no rule: nobody's weight
            ),
        ),
        steps=(
            step("a", reason("simple", -10, "finding", "SEQ-04")),
            step("b", reason("heard", -20, "finding", "HEARD-03")),
            step("c", reason("heard", 15, "floor")),
        ),
        themes=(),
    )
    assert problem_points(scores) == {"SEQ-04": 25, "SIMPLE-02": 25, "HEARD-03": 20}
    assert problem_points(None) == {}


def test_main_problems_list_the_most_serious_first_then_the_heaviest(example):
    model, _, _ = example

    def found(rule, severity="warning", steps=("sign_off",)):
        return Finding(rule, rule.lower(), severity, ("simple",), steps, f"{rule} here")

    result = CheckResult(
        path=model.path,
        council=model.council,
        title=model.title,
        as_of=str(model.as_of),
        findings=(
            found("AUTH-03"),
            found("SEQ-04", steps=("planning",)),
            found("STRUCT-01", "error", ("review",)),
            found("SEQ-04", steps=("sign_off",)),
            found("HAND-02", "info"),
        ),
    )
    weights = {"AUTH-03": -10, "SEQ-04": -5, "STRUCT-01": -10, "HAND-02": -30}
    from sdsaudit.scoring.reasons import Reason, Scores
    from sdsaudit.scoring.scores import ScoreReport

    reasons = tuple(Reason("simple", p, f"{r} here", "finding", rule=r) for r, p in weights.items())
    scores = ScoreReport(
        model.path, model.council, model.title, "", Scores(90, 40, 100, reasons), (), ()
    )
    view = build_view(model, result, scores, load_catalogue())
    top = [(p.rule, p.points, p.numbers) for p in view.top_problems]
    # the most serious first, then the heaviest: a note never comes before a warning, however
    # many points it costs
    assert top == [
        ("STRUCT-01", 10, (1,)),
        ("AUTH-03", 10, (2,)),
        ("SEQ-04", 5, (3, 4)),
        ("HAND-02", 30, (5,)),
    ]
    assert view.top_problems[0].note.startswith("a serious problem")
    assert view.top_problems[3].note == "worth a look" and view.top_problems[1].note == ""
    # without scores, every problem weighs the same: severity, then number
    plain = build_view(model, result, None, load_catalogue())
    assert [p.rule for p in plain.top_problems] == ["STRUCT-01", "AUTH-03", "SEQ-04", "HAND-02"]


def test_main_problems_say_where_not_how_serious(example_files):
    html, md = example_files.html, example_files.markdown
    summary = html.split('id="top-problems"')[1].split("</ol>")[0]
    assert "(problem)" not in summary and "(problem)" not in md
    items = re.findall(r"<li>(.*?)</li>", summary, re.S)
    assert items and all("Where: " in item for item in items)
    assert all(re.search(r'See <a href="#finding-\d+">problem \d+</a>', item) for item in items)
    assert "Where: the process as a whole." in summary  # SIMPLE-02 names no step
    assert "\n1. **" in md and "Where: " in md.split("### The main problems")[1].split("##")[0]


def test_messages_name_steps_not_ids(example, example_files):
    model, result, _ = example
    html = example_files.html
    seq = next(f for f in result.findings if f.rule == "SEQ-04")
    assert '"sign_off"' in seq.message  # the JSON keeps the exact ids
    assert '"sign_off"' in example_files.json
    findings = html.split('id="findings"')[1].split('id="steps"')[0]
    assert "&#34;Team manager signs off plan and budget&#34;" in findings
    assert "&#34;sign_off&#34;" not in findings and "&#34;panel_review&#34;" not in findings


def test_report_without_scores_says_so(example):
    model, result, _ = example
    files = render_report(model, result, None, load_catalogue())
    assert "Scores were not worked out" in files.html
    assert json.loads(files.json)["models"][0]["scores"] is None


# ----------------------------------------------------------------------------- files


def test_json_is_check_json_plus_scores(example, example_files):
    model, result, scores = example
    data = json.loads(example_files.json)
    assert data["sdsaudit_version"] == "0.1.0"
    (entry,) = data["models"]
    check = result.as_dict()
    for key, value in check.items():
        assert entry[key] == value
    assert entry["scores"] == json.loads(json.dumps(scores.as_dict()))
    assert set(entry["scores"]["overall"]) == {"heard", "simple", "in_control"}


def test_html_sections_in_order(example_files):
    html = example_files.html
    headings = re.findall(r'<h2 id="([^"]+)"', html)
    assert headings == [
        "contents",
        "summary",
        "map",
        "findings",
        "steps",
        "themes",
        "measures",
        "waivers",
        "questions",
        "easy-read",
        "method",
    ]
    assert html.count("<svg") == 1 and 'role="img"' in html
    assert "The map in words" in html
    assert "xmlns=" not in html  # inline SVG needs no namespace URL in HTML


def test_markdown_report(example_files):
    md = example_files.markdown
    assert md.startswith("# Exampleshire County Council: self-directed support process review\n")
    headings = re.findall(r"^## (.+)$", md, re.M)
    assert headings == [
        "Summary at a glance",
        "Process map",
        "What we found",
        "Scores step by step",
        "Making it Real",
        "Measures",
        "Accepted findings",
        "Questions for your co-production group",
        "Easy read summary",
        "How this report was made",
    ]
    # tables have a header row and a delimiter row, and every row has the same cell count
    for table in re.findall(r"((?:^\|.*\|$\n)+)", md, re.M):
        rows = table.strip().splitlines()
        assert re.fullmatch(r"(\|---)+\|", rows[1])
        cells = {len(re.findall(r"(?<!\\)\|", r)) for r in rows}
        assert len(cells) == 1, rows
    assert "&#39;" not in md and "&#34;" not in md  # readable as plain text too
    assert "\\[1\\]" in md


def test_map_svg_file_is_standalone(example_files):
    assert example_files.svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert example_files.map_note is None


# ----------------------------------------------------------------------------- safety


def test_markdown_html_escapes_raw_html_and_drops_links():
    html = str(
        markdown_html(
            "**bold** <script>alert(1)</script> [x](javascript:alert(1)) "
            "![i](http://e/x.png) <http://evil> <img src=x onerror=alert(1)>"
        )
    )
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "<img" not in html and "<a" not in html
    assert "href" not in html and "src=" not in html.replace("src=x", "")
    assert "&lt;script&gt;" in html
    block = str(markdown_html("<div onclick='x'>\nblock\n</div>"))
    assert block.startswith("<p>&lt;div onclick=") and "<div" not in block
    assert markdown_html(None) == ""


def test_md_inline_and_block():
    assert md_inline("a|b *c* [d](javascript:x) <s>\nnext") == (
        "a\\|b \\*c\\* \\[d\\](javascript:x) &lt;s&gt; next"
    )
    assert md_inline("1. not a list") == "1\\. not a list"
    assert md_inline("83.9") == "83.9" and md_inline("0.1.0") == "0.1.0"  # not list marks
    assert md_inline("# not a heading") == "\\# not a heading"
    assert md_block("see [here](javascript:alert(1)) <b>x</b>") == "see here &lt;b&gt;x&lt;/b&gt;"


def test_wording_filters():
    """Plurals and lists come from sdsaudit.words, as filters; items are escaped, links kept."""
    template = environment().from_string(
        '{{ n|plural("problem") }}; {{ n|plural_word("Problem") }}; {{ one|plural("step") }}; '
        "{{ words|join_and }}; {{ numbers|join_and }}; {{ 0.5|number }}; "
        '{{ numbers|map("link_to", "finding-{}", "problem {}")|join_and }}'
    )
    out = template.render(n=2, one=1, words=["<b>x</b>", "y", "z"], numbers=[3, 4])
    assert out == (
        "2 problems; Problems; 1 step; &lt;b&gt;x&lt;/b&gt;, y and z; 3 and 4; 0.5; "
        '<a href="#finding-3">problem 3</a> and <a href="#finding-4">problem 4</a>'
    )
    assert environment().from_string("{{ [7]|map('link_to', '\"x{}')|join_and }}").render() == (
        '<a href="#&#34;x7">7</a>'
    )


def test_templates_leave_plurals_lists_and_display_words_to_the_view():
    """Templates hold only loops and ifs: no plural, list or comparison of shown words by hand."""
    for path in sorted((ROOT / "templates").glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        for habit in ('"s" if', "revindex", '== "over', "against_target =="):
            assert habit not in text, f"{path.name}: {habit}"


TAG = re.compile(r"<([a-zA-Z][\w:-]*)((?:\s+[^\s=>]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*/?>")


def test_hostile_html_is_inert(hostile_files):
    html = hostile_files.html
    tags = {m.group(1).lower() for m in TAG.finditer(html)}
    assert not tags & {"script", "iframe", "img", "object", "embed", "a", "form", "image"} - {"a"}
    for match in TAG.finditer(html):
        attrs = match.group(2)
        assert not re.search(r"\son\w+\s*=", attrs, re.I), match.group(0)
        assert "javascript:" not in attrs.lower(), match.group(0)
        if match.group(1).lower() == "a":
            assert re.fullmatch(r'\s+(class="skip"\s+)?href="#[\w-]+"', attrs), match.group(0)
    assert "&lt;script&gt;alert(&#39;council&#39;)&lt;/script&gt;" in html
    assert html.count("<style>") == 1  # ours only; the note's <style> is text


def test_hostile_markdown_is_inert(hostile_files):
    md = hostile_files.markdown
    assert "<script" not in md and "<style" not in md and "<img" not in md and "<svg" not in md
    assert not re.search(r"\]\((?!\s)", md.replace("\\]", "")), "a Markdown link formed"
    assert "&lt;script&gt;" in md


def test_hostile_svg_and_json(hostile_files):
    assert "<script" not in hostile_files.svg
    data = json.loads(hostile_files.json)  # data, not markup: kept exactly, and valid JSON
    assert data["models"][0]["council"].startswith("<script>")


# ----------------------------------------------------------------------------- writing


def test_report_folders():
    assert report_folders(["a/x.yaml"], "out") == [Path("out")]
    assert report_folders(["a/x.yaml", "b/x.yaml", "c/y.yml", "-"], "out") == [
        Path("out/x"),
        Path("out/x-2"),
        Path("out/y"),
        Path("out/stdin"),
    ]


def test_write_reports_creates_folder_and_files(tmp_path):
    out = tmp_path / "new" / "folder"
    run = write_reports([str(EXAMPLE)], out)
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    assert run.warnings == () and run.exit_code == 0
    assert len(run.written) == 4


def test_write_reports_refuses_before_writing_anything(tmp_path):
    (tmp_path / "map.svg").write_text("mine")
    with pytest.raises(UsageError, match="refusing to overwrite .*map.svg.*--force"):
        write_reports([str(EXAMPLE)], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.svg"]
    assert (tmp_path / "map.svg").read_text() == "mine"
    write_reports([str(EXAMPLE)], tmp_path, force=True)
    assert (tmp_path / "map.svg").read_text().startswith("<svg")


def test_several_models_get_subfolders(tmp_path):
    models = [str(EXAMPLE), str(ROOT / "process_models" / "lean.yaml")]
    write_reports(models, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lean", "process"]
    assert sorted(p.name for p in (tmp_path / "lean").iterdir()) == sorted(REPORT_FILES)


def test_map_unavailable_ships_the_text_version(tmp_path, monkeypatch):
    clean = write_reports([str(EXAMPLE)], tmp_path / "with", fail_on="warning")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    run = write_reports([str(EXAMPLE)], tmp_path / "without", fail_on="warning")
    assert run.exit_code == clean.exit_code == 1
    assert len(run.warnings) == 1 and "'dot' is not installed" in run.warnings[0]
    names = sorted(p.name for p in (tmp_path / "without").iterdir())
    assert names == ["report.html", "report.json", "report.md"]
    html = (tmp_path / "without" / "report.html").read_text()
    assert "The map could not be drawn:" in html and "<svg" not in html
    assert "The map in words" in html and "Needs assessment" in html
    md = (tmp_path / "without" / "report.md").read_text()
    assert "**The map could not be drawn:**" in md


def test_stale_map_is_removed_when_forced_without_dot(tmp_path, monkeypatch):
    write_reports([str(EXAMPLE)], tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    write_reports([str(EXAMPLE)], tmp_path, force=True)
    assert not (tmp_path / "map.svg").exists()


def test_map_node_cap_in_report(example, tmp_path):
    model, result, scores = example
    files = render_report(model, result, scores, load_catalogue(), max_nodes=3)
    assert files.svg is None and "more than the 3" in files.map_note
    assert "The map could not be drawn:" in files.html


# ----------------------------------------------------------------------------- commands


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_report_command_exit_codes(tmp_path):
    ok = run("report", str(EXAMPLE), "-o", str(tmp_path / "a"))
    assert ok.exit_code == 0, ok.output
    assert "open " in ok.output and "report.html in a web browser" in ok.output
    strict = run("report", str(EXAMPLE), "-o", str(tmp_path / "b"), "--fail-on", "warning")
    assert strict.exit_code == 1
    again = run("report", str(EXAMPLE), "-o", str(tmp_path / "a"))
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    forced = run("report", str(EXAMPLE), "-o", str(tmp_path / "a"), "--force", "--view", "plain")
    assert forced.exit_code == 0
    assert "[1]" not in (tmp_path / "a" / "map.svg").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("sdsaudit: 1\ncouncil: X\n")
    broken = run("report", str(bad), "-o", str(tmp_path / "c"))
    assert broken.exit_code == 2 and "bad.yaml" in broken.output
    assert not (tmp_path / "c").exists()


def test_report_command_warns_without_dot(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    result = run("report", str(EXAMPLE), "-o", str(tmp_path / "a"))
    assert result.exit_code == 0
    assert "warning: " in result.output and "map could not be drawn" in result.output


@pytest.mark.parametrize(
    "suffix,magic", [("svg", b"<svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF"), ("dot", b"digraph")]
)
def test_map_command_formats(tmp_path, suffix, magic):
    target = tmp_path / f"map.{suffix}"
    result = run("map", str(EXAMPLE), "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(magic)


def test_map_command_views_and_errors(tmp_path):
    target = tmp_path / "m.dot"
    assert run("map", str(EXAMPLE), "-o", str(target), "--view", "easy-read").exit_code == 0
    assert "fontsize=18" in target.read_text()
    refused = run("map", str(EXAMPLE), "-o", str(target))
    assert refused.exit_code == 2 and "--force" in refused.output
    wrong = run("map", str(EXAMPLE), "-o", str(tmp_path / "m.jpg"))
    assert wrong.exit_code == 2 and ".svg, .png, .pdf, .dot" in wrong.output


def test_map_command_without_dot_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    result = run("map", str(EXAMPLE), "-o", str(tmp_path / "m.svg"))
    assert result.exit_code == 2 and "'dot' is not installed" in result.output
    assert not (tmp_path / "m.svg").exists()
    # the DOT text needs no dot
    assert map_output(str(EXAMPLE), tmp_path / "m.dot").read_text().startswith("digraph")
