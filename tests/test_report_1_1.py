"""The report of a format 1.1 model: scores with their best case, times that rest on what
nobody knows, routes for each group of people, limits set by law, findings that rest on
assumptions, and the documents the model comes from, in the HTML and the Markdown alike.

Every model here is written by the test itself (``tmp_path`` or text); a version 1 model's
report has none of the new sections.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sdsaudit.analysis.engine import check_model
from sdsaudit.model.catalogue import load_catalogue
from sdsaudit.model.loader import load_model, load_model_text
from sdsaudit.render.present import field_words
from sdsaudit.render.report import ReportFiles, build_view, render_report
from sdsaudit.scoring.scores import score_model

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "exampleshire" / "process.yaml"

PARALLEL = """\
sdsaudit: 1.1
council: Testshire Council
title: Parallel
as_of: 2026-04-01
sources:
  - {id: guide, title: Direct payments guide, published: 2024-03-01,
     url: "https://example.gov.uk/dp-guide.pdf", note: The council's public guide}
  - {id: minutes, title: Panel minutes}
assumed: [policies.review]
actors:
  person: {name: The person, kind: person}
  team: {name: Adult social care, kind: council}
  fin: {name: Finance team, kind: finance}
authorities:
  - {id: tm, name: Team manager}
policies:
  review: {first_days: 200, interval_days: 365}
  restrictions:
    - Only approved providers
    - {text: A direct payment cannot buy NHS services, basis: law,
       ref: Direct Payments Regulations 2014}
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
    assumed: [days]
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
    assumed: [person, forms]
    next: [{to: plan, share: 0.5, rework: true}, {to: signoff}]
  - id: fa
    name: Financial assessment
    kind: financial_assessment
    actor: fin
    days: 15
    tells: [contribution]
    restrictions:
      - {text: Capital over the upper limit is counted, basis: law,
         ref: Care and Support (Charging) Regulations 2014}
    next: [signoff]
  - id: signoff
    name: Sign off
    kind: approval
    actor: team
    authority: tm
    approves: [support_plan]
    days: 2
    source: [guide, minutes]
    assumed: [days, person]
    next: [support]
  - id: support
    name: Support
    kind: support
"""

NO_DAYS = """\
sdsaudit: 1
council: Smallshire Council
title: No days given
as_of: 2026-04-01
actors:
  person: {name: The person, kind: person}
  team: {name: Adult social care, kind: council}
start: contact
steps:
  - id: contact
    name: First contact
    kind: contact
    actor: team
    person: involved
    next: [assess]
  - id: assess
    name: Assessment
    kind: assessment
    actor: team
    person: involved
    days: 5
    next: [support]
  - id: support
    name: Support
    kind: support
"""

HOSTILE = """\
sdsaudit: 1.1
council: Hostileshire
title: Hostile 1.1 text
as_of: 2026-04-01
sources:
  - {id: doc, title: "<script>alert('title')</script> [click](javascript:alert(1))",
     url: "javascript:alert(2)", note: "<img src=x onerror=alert(3)> [n](https://evil.example/)"}
  - {id: doc2, title: "Second <b>doc</b>", url: "https://evil.example/x?a=1&b=<script>"}
actors:
  person: {name: The person, kind: person}
  team: {name: Team, kind: council}
policies:
  restrictions:
    - {text: "<script>alert('law')</script> [law](javascript:alert(4))", basis: law,
       ref: "<a href=\\"javascript:alert(5)\\">ref</a> [r](javascript:alert(6))"}
start:
  - {to: contact, when: "<script>alert('group')</script> [g](javascript:alert(7))", share: 1}
steps:
  - id: contact
    name: First contact
    kind: contact
    actor: team
    person: involved
    days: 3
    source: [doc, doc2]
    assumed: [days]
    restrictions:
      - {text: "[step law](javascript:alert(8)) <script>x()</script>", basis: law}
    next: [support]
  - id: support
    name: Support
    kind: support
"""


def _files(tmp_path: Path, text: str, name: str = "model.yaml") -> ReportFiles:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    model = load_model(str(path))
    result = check_model(model)
    return render_report(
        model, result, score_model(model, result), load_catalogue(), draw_map=False
    )


@pytest.fixture()
def par(tmp_path: Path) -> ReportFiles:
    return _files(tmp_path, PARALLEL)


def _text(html: str) -> str:
    """The page's words: tags dropped (inline ones with no space), entities read, spaces
    made single."""
    words = re.sub(r"</?(?:strong|span|a|em|code)\b[^>]*>", "", html)
    words = re.sub(r"<[^>]+>", " ", words)
    for entity, char in (
        ("&#39;", "'"),
        ("&#34;", '"'),
        ("&quot;", '"'),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ):
        words = words.replace(entity, char)
    return " ".join(words.split())


def _md(markdown: str) -> str:
    """The Markdown's words: escapes and emphasis dropped, spaces made single."""
    return " ".join(re.sub(r"\\(.)", r"\1", markdown).replace("**", "").split())


def _section(html: str, anchor: str) -> str:
    """The HTML from the heading ``anchor`` to the next heading of level 2 or 3 or the end
    of its section (the heading's words first)."""
    part = html.split(f'id="{anchor}">', 1)[1]
    return re.split(r"</section>|<h[23][ >]", part, maxsplit=1)[0]


def _md_part(markdown: str, heading: str) -> str:
    """The Markdown under ``heading`` (a whole heading line) up to the next heading of the
    same level or higher."""
    level = heading.split(" ", 1)[0]
    part = markdown.split(f"\n{heading}\n", 1)[1]
    return re.split(rf"\n#{{1,{len(level)}}} ", part, maxsplit=1)[0]


def _cells(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


# ----------------------------------------------------------------------------- 1. scores


def test_scores_show_their_best_case_and_what_is_left_out(par: ReportFiles) -> None:
    data = json.loads(par.json)["models"][0]["scores"]
    overall, best = data["overall"], data["overall_best"]
    assert overall != best
    for page in (_text(par.html), _md(par.markdown)):
        for block in ("heard", "simple", "in_control"):
            if best[block] != overall[block]:
                assert (
                    f"{overall[block]} out of 100" in page
                    and f"(up to {best[block]} once the policies left out and the unknown "
                    "times are known)"
                    in page
                ), block
        # what is left out, in plain words, and the step nobody knows the time of, by name
        assert "The model does not say which ways of managing the money are offered" in page
        assert "policies.allowed_uses" not in page.split("Rules that could not")[0]
        assert "Nobody has said how long First contact takes." in page


def test_a_score_at_its_best_says_no_more() -> None:
    model = load_model(str(EXAMPLE))  # leaves nothing out, knows every time
    result = check_model(model)
    scores = score_model(model, result)
    assert scores.best_words is None
    view = build_view(model, result, scores, load_catalogue())
    assert [b.best for b in view.blocks] == ["", "", ""] and view.unknowns == ()


# ----------------------------------------------------------------------------- 2. times


def test_an_unknown_time_is_a_lower_bound_never_within_the_target(par: ReportFiles) -> None:
    measures_html = _text(_section(par.html, "measures"))
    measures_md = _md(par.markdown.split("## Measures", 1)[1].split("### Routes", 1)[0])
    for page in (measures_html, measures_md):
        assert (
            "at least 34.5 days (not known: how long First contact takes)" in page
        )  # expected, over the target of 28 already
        assert "at least 27 days (not known: how long First contact takes)" in page
        assert "over the target" in page
        assert "not known (no route" not in page
        # the lower bounds and the unknown steps are said beside the times, not as rows
        for raw in ("Days unknown", "at least 34.5 |", "Groups", "'contact'"):
            assert raw not in page


def test_a_lower_bound_within_the_target_cannot_say_yet(tmp_path: Path) -> None:
    text = PARALLEL.replace("days: 15", "days: 1").replace(
        "{to: plan, share: 0.5", "{to: plan, share: 0.1"
    )
    model = load_model_text(text)
    result = check_model(model)
    assert result.metrics["expected_days_to_support_at_least"] <= 28
    view = build_view(model, result, score_model(model, result), load_catalogue())
    row = next(m for m in view.metrics if m.key == "expected_days_to_support")
    assert row.value.startswith("at least ")
    assert row.against_target == "cannot say yet whether it is within the target"
    assert not row.over_target
    files = _files(tmp_path, text)
    row_md = next(r for r in files.markdown.splitlines() if r.startswith("| Typical days"))
    assert row_md.endswith("| at most 28 | cannot say yet whether it is within the target |")
    row_html = next(r for r in files.html.splitlines() if ">Typical days from" in r)
    assert _text(row_html).endswith("at most 28 cannot say yet whether it is within the target")
    # the same in the groups' table, for the group whose route passes the unknown time
    (adults, young) = view.route_groups
    assert adults.cells[0].against_target == "cannot say yet whether it is within the target"
    assert young.cells[0].value[0].isdigit() and young.cells[0].against_target == ""


def test_steps_with_no_time_given_are_never_within_the_target(tmp_path: Path) -> None:
    files = _files(tmp_path, NO_DAYS)
    assert any(f["rule"] == "MODEL-01" for f in json.loads(files.json)["models"][0]["findings"])
    html = _text(_section(files.html, "measures"))
    md = _md(files.markdown.split("## Measures", 1)[1].split("\n## ", 1)[0])
    for page in (html, md):
        assert "5 (0 days counted at First contact: the model gives no time there)" in page
        assert "within the target only if the steps with no time given really take no time" in page
    # the counts are not times: they may still be within the target
    model = load_model_text(NO_DAYS)
    rows = {m.key: m for m in build_view(model, check_model(model)).metrics}
    assert rows["expected_days_to_support"].against_target.startswith("within the target only if")
    assert rows["approvals_max"].against_target == "within the target"
    # MODEL-01 belongs to no building block and says so, rather than "Building blocks: ."
    assert "Building blocks: ." not in files.html and "Building blocks: ." not in files.markdown
    assert "Building blocks: none (a note about the model itself" in _text(files.html)
    # ... and is listed after the three building blocks, under its own heading, numbered last
    view = build_view(model, check_model(model))
    assert [g.block for g in view.groups] == ["heard", "simple", "in_control", "model"]
    notes = view.groups[-1]
    assert [f.rule for f in notes.findings] == ["MODEL-01"]
    assert notes.findings[0].number == max(f.number for g in view.groups for f in g.findings)
    assert all(f.rule != "MODEL-01" for g in view.groups[:3] for f in g.findings)
    assert "About the model itself: 1 note" in _text(files.html)
    assert "### About the model itself: 1 note" in files.markdown


# ----------------------------------------------------------------------------- 3. groups


def test_routes_for_each_group_of_people(par: ReportFiles) -> None:
    table = par.html.split('id="route-groups"', 1)[1].split("</table>", 1)[0]
    assert '<caption id="route-groups-caption">Routes for each group of people' in table
    heads = re.findall(r'<th scope="(col|row)"[^>]*>([^<]*)</th>', table)
    assert [h for scope, h in heads if scope == "col"] == [
        "Group",
        "Starts at",
        "Share of people",
        "Typical days to support (average)",
        "Longest route, in days",
        "Most sign-offs",
        "Most hand-offs",
        "Most forms",
        "Most assessments",
    ]
    assert [h for scope, h in heads if scope == "row"] == [
        "adults",
        "young people moving to adult services",
    ]
    rows = _text(table)
    assert (
        "adults First contact 80% at least 34.5 days (not known: how long First contact "
        "takes); over the target" in rows
    )
    assert (
        "young people moving to adult services Assessment 20% 34.5; over the target 27 1 2 0 1"
        in rows
    )
    assert "within the target" not in rows  # said of everyone in the measures; here, what is over
    md = _md_part(par.markdown, "### Routes for each group of people")
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert len(lines) == 4 and len({_cells(ln) for ln in lines}) == 1
    assert (
        "| adults | First contact | 80% | at least 34.5 days (not known: how long First "
        "contact takes); **over the target** |" in md
    )
    assert (
        "| young people moving to adult services | Assessment | 20% | 34.5; **over the "
        "target** | 27 | 1 | 2 | 0 | 1 |" in md
    )


# ----------------------------------------------------------------------------- 4. law


def test_limits_set_by_law(par: ReportFiles) -> None:
    section = _text(_section(par.html, "law"))
    assert section.startswith("Limits set by law, which the council cannot change")
    assert section.count("cost no points") == 1
    assert (
        "A direct payment cannot buy NHS services (set by Direct Payments Regulations 2014)"
        in section
    )
    assert (
        "At Financial assessment: Capital over the upper limit is counted (set by Care and "
        "Support (Charging) Regulations 2014)" in section
    )
    assert "Only approved providers" not in section  # the council's own: a finding instead
    # a part of what we found, after the problems: not a problem itself
    findings = par.html.split('<h2 id="findings">', 1)[1].split("</section>", 1)[0]
    assert findings.index('<h3 id="law">') > findings.rindex("</article>")
    md = _md(_md_part(par.markdown, "### Limits set by law, which the council cannot change"))
    assert (
        "A direct payment cannot buy NHS services (set by Direct Payments Regulations 2014)" in md
    )
    assert "At Financial assessment: Capital over the upper limit is counted" in md
    assert md.count("cost no points") == 1
    # the council's own restriction is still a finding (CONTROL-02); the law's is not
    rules = [f["rule"] for f in json.loads(par.json)["models"][0]["findings"]]
    assert rules.count("CONTROL-02") == 1


# ----------------------------------------------------------------------------- 5. assumptions


def test_findings_resting_on_assumptions_are_labelled(par: ReportFiles) -> None:
    findings = json.loads(par.json)["models"][0]["findings"]
    resting = [f for f in findings if f["assumptions"]]
    assert resting
    html, md = _text(par.html), _md(par.markdown)
    for page in (html, md):
        # a time rests on the days of every step it counts, said once for them all
        assert (
            "Rests on assumptions: confirm how long it takes at 'Assessment' and 'Sign off'" in page
        )
        assert "Rests on an assumption: confirm when reviews happen" in page  # SEQ-07
        assert (
            "Rests on an assumption: confirm the person's part and the forms to fill in at "
            "'Planning'" in page
        )
        assert f"{len(resting)} problems rest on assumptions" in page
        assert "confirm days" not in page and "policies.review" not in page.split("Rules that")[0]
    # each labelled finding carries the label in its own article
    resting_numbers = _numbers_resting(par)
    assert len(resting_numbers) == len(resting)
    for article in re.findall(r'<article class="finding".*?</article>', par.html, re.S):
        number = int(re.search(r'id="finding-(\d+)"', article).group(1))
        view_rests = number in resting_numbers
        assert (
            "Rests on an assumption" in article or "Rests on assumptions" in article
        ) == view_rests
    # the main problems carry the label where theirs do
    top = _text(par.html.split('id="top-problems"', 1)[1].split("</ol>", 1)[0])
    assert "Rests on assumptions: confirm how long it takes at 'Assessment' and 'Sign off'." in top
    assert "Some problems rest on a guess" in _text(_section(par.html, "easy-read"))


def _numbers_resting(files: ReportFiles) -> set[int]:
    summary = files.html.split('id="top-problems"', 1)[1].split("</section>", 1)[0]
    line = next(p for p in summary.split("<p>") if "rest on assumptions" in p)
    return {int(n) for n in re.findall(r'href="#finding-(\d+)"', line)}


def test_assumption_words() -> None:
    assert field_words("days") == "how long it takes"
    assert field_words("person") == "the person's part"
    assert field_words("policies.review") == "when reviews happen"
    assert field_words("policies.something_new") == "'something new'"
    # every top-level key a model may mark assumed has its own words
    for key in ("options", "targets", "authorities", "actors", "policies", "start"):
        assert not field_words(key).startswith("'"), key
    model = load_model_text(PARALLEL)
    result = check_model(model)
    view = build_view(model, result, score_model(model, result), load_catalogue())
    labels = {(f.rule, f.steps): f.assumption for g in view.groups for f in g.findings}
    assert labels[("HEARD-01", ("Planning",))] == (
        "Rests on an assumption: confirm the person's part and the forms to fill in at 'Planning'"
    )
    assert labels[("HEARD-01", ("Assessment",))] == ""  # its days are not what it reads
    assert view.assumed == (
        "When reviews happen",
        "How long it takes at 'Assessment'",
        "The person's part and the forms to fill in at 'Planning'",
        "How long it takes and the person's part at 'Sign off'",
    )
    assert view.assumed_summary.startswith(
        f"{len(view.assumed_numbers)} problems rest on assumptions: values in the model that "
        "no published source states."
    )


# ----------------------------------------------------------------------------- 6. sources


def test_where_this_comes_from(par: ReportFiles) -> None:
    section = _section(par.html, "model-sources")
    words = _text(section)
    assert words.startswith("Where this comes from")
    assert (
        "Direct payments guide, published 1 March 2024. Address: "
        "https://example.gov.uk/dp-guide.pdf. The council's public guide. "
        "Steps it documents: First contact and Sign off." in words
    )
    assert "Panel minutes. Steps it documents: Sign off." in words
    assert "<a " not in section  # the address is text, never a link
    assert "What the model assumes" in words and "When reviews happen" in words
    assert "<a " not in section and "href" not in section
    md = _md_part(par.markdown, "### Where this comes from")
    assert "`https://example.gov.uk/dp-guide.pdf`" in md  # code: no renderer links it
    assert "published 1 March 2024" in md and "](" not in md


# ----------------------------------------------------------------------------- 7. escaping


def test_model_text_in_the_new_sections_stays_inert(tmp_path: Path) -> None:
    files = _files(tmp_path, HOSTILE)
    html, md = files.html, files.markdown
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert(&#39;law&#39;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert "&lt;a href=&#34;javascript:alert(5)&#34;&gt;" in html
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith("#"), href
    assert not re.search(r"<[^>]+\s(?:on\w+|src)=", html)
    # shown as text: the law, its reference, the source and its address, the group
    words = _text(html)
    assert "[law](javascript:alert(4))" in words
    assert "Address: javascript:alert(2)." in words
    assert "https://evil.example/x?a=1&b=<script>" in words
    assert "<script>alert('group')</script> [g](javascript:alert(7))" in words
    # Markdown: no HTML, no link can form, the words are still there
    assert "<script" not in md and "<img" not in md and "<a " not in md
    assert not re.search(r"\]\((?!\s)", md.replace("\\]", "")), "a Markdown link formed"
    assert "&lt;script&gt;alert('law')&lt;/script&gt;" in md
    assert "&lt;script&gt;alert('title')&lt;/script&gt;" in md
    assert "\\[law\\](javascript:alert(4))" in md
    assert "`https://evil.example/x?a=1&b=`&lt;script&gt;" in md  # code: never a link
    assert "Address: javascript:alert(2)." in md


# ----------------------------------------------------------------------------- 8. version 1


NEW_WORDS = (
    "Routes for each group of people",
    "Limits set by law",
    "Rests on an assumption",
    "Rests on assumptions",
    "rest on assumptions",
    "rests on an assumption",
    "Where this comes from",
    "What the model assumes",
    "days (not known",
    "cannot say yet",
    "only if the steps",
    "rest on a guess",
    "Nobody has said",
)

VERSION_1 = (
    NO_DAYS.replace("    next: [assess]", "    days: 2\n    next: [assess]")
    .replace("sdsaudit: 1\n", "sdsaudit: 1\noptions: [direct_payment, council_managed]\n")
    .replace(
        "start: contact",
        "policies:\n  allowed_uses: [personal_assistants, community_activities]\n"
        "  prepaid_card_default: false\n  allocation_method_published: true\n"
        "  review: {first_days: 42, interval_days: 365}\n"
        "  restrictions: [Only approved providers]\nstart: contact",
    )
)


def test_a_version_1_report_has_none_of_the_new_sections(tmp_path: Path) -> None:
    files = _files(tmp_path, VERSION_1)
    data = json.loads(files.json)["models"][0]
    assert data["scores"]["overall"] == data["scores"]["overall_best"]  # nothing left out
    assert "CONTROL-02" in [f["rule"] for f in data["findings"]]  # restrictions still count
    for page in (files.html, files.markdown):
        for words in (*NEW_WORDS, "(up to "):
            assert words not in page, words
    for anchor in ("law", "route-groups", "model-sources", "assumed"):
        assert f'id="{anchor}"' not in files.html
    assert 'class="up-to"' not in files.html and "Some scores count" not in files.html
    headings = re.findall(r'<h2 id="([^"]+)"', files.html)
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
    assert all(f["assumptions"] == [] for f in data["findings"])
    rows = [r for r in files.markdown.splitlines() if r.startswith("| Typical days")]
    assert rows == [
        "| Typical days from first contact to support (average) | 7 | at most 28 | "
        "within the target |"
    ]


def test_a_version_1_model_leaving_policies_out_gets_its_best_case_too(tmp_path: Path) -> None:
    """The best case is the scores' (left-out policies at their best), not format 1.1's: a
    version 1 model that leaves policies out shows it, and names them."""
    files = _files(
        tmp_path, NO_DAYS.replace("    next: [assess]", "    days: 2\n    next: [assess]")
    )
    md = _md(files.markdown)
    assert "once the policies left out are known)" in md
    assert "The model does not say which ways of managing the money are offered" in md
    for words in NEW_WORDS:
        assert words not in md, words
