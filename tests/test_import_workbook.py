"""Workbooks and CSV step lists: the template, import (forgiving headers, every mistake at its
cell), export (never a formula), the round trip for every shipped model, the limits that
keep hostile files out, and the command line."""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from sdsaudit.analysis.engine import check_model
from sdsaudit.cli import main
from sdsaudit.errors import ModelError, UsageError
from sdsaudit.exchange import workbook
from sdsaudit.exchange.data import Draft, model_data, write_data, write_draft
from sdsaudit.exchange.workbook_cells import (
    escape_cell,
    join_values,
    link_text,
    parse_link,
    split_values,
    unescape_cell,
)
from sdsaudit.model.loader import load_model, load_model_text
from sdsaudit.model.objects import Model
from sdsaudit.scoring.scores import score_model
from sdsaudit.vocab import ARTEFACTS, PERSON_LEVELS, STEP_KINDS, TELLS

from .models import ROOT, shipped_models

BIG = 50 * 1024 * 1024

PARALLEL = """\
sdsaudit: 1.1
council: Testshire Council
title: Parallel
as_of: 2026-04-01
sources:
  - {id: guide, title: Direct payments guide, published: 2024-03-01}
assumed: [policies.review]
actors:
  person: {name: The person, kind: person}
  team: {name: Adult social care, kind: council}
  fin: {name: Finance team, kind: finance}
authorities:
  - {id: tm, name: Team manager}
policies:
  restrictions:
    - Only approved providers
    - {text: A direct payment cannot buy NHS services, basis: law, ref: Direct Payments Regulations 2014}
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
    next: [{to: plan, share: 0.5, rework: true}, {to: signoff}]
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
"""A format-1.1 model with a parallel block, start groups, an unknown time, sources, an
assumption and a law restriction (kept here so the test needs nothing outside tests)."""


def _models() -> list[tuple[str, Model]]:
    out = [(str(p.relative_to(ROOT)), load_model(str(p))) for p in shipped_models()]
    return [*out, ("parallel (format 1.1)", load_model_text(PARALLEL, "parallel.yaml"))]


MODELS = _models()


def _import(path: Path) -> tuple[Draft, Model]:
    draft = workbook.read(str(path), max_bytes=BIG)
    return draft, write_draft(draft)[1]


def _findings(model: Model) -> set[tuple[Any, ...]]:
    return {(f.rule, f.steps, f.subject) for f in check_model(model).findings}


def _overall(model: Model) -> Any:
    return score_model(model, check_model(model)).as_dict()["overall"]


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


# --------------------------------------------------------------------------- the template


def test_template_has_the_sheets_columns_and_drop_downs(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    path.write_bytes(workbook.template())
    book = load_workbook(path)
    assert book.sheetnames == [
        "Steps",
        "Links",
        "Start",
        "Teams",
        "Sign-off levels",
        "About",
        "Sources",
        "Waivers",
        "Read me",
        "Lists",
    ]
    steps = book["Steps"]
    header = [c.value for c in steps[1]]
    assert header[:15] == [
        "id",
        "name",
        "kind",
        "team",
        "person",
        "days",
        "forms",
        "asks",
        "tells",
        "produces",
        "approves",
        "authority",
        "outcome",
        "restrictions",
        "note",
    ]
    assert [c.value for c in book["Links"][1]] == ["from", "to", "when", "share", "rework"]
    assert [c.value for c in book["Teams"][1]] == ["id", "name", "kind"]
    assert [c.value for c in book["Sign-off levels"][1]] == ["id", "name", "limit"]
    assert steps["A1"].font.bold and steps.freeze_panes == "A2"
    assert steps.column_dimensions["B"].width >= 30
    about = [book["About"].cell(row=r, column=1).value for r in range(2, 40)]
    for key in ("council", "title", "as_of", "options", "policies.review.first_days"):
        assert key in about
    assert "targets.max_days_to_support" in about
    assert book["Lists"].sheet_state == "hidden"
    # the closed vocabularies are drop-down lists drawn from the hidden sheet
    checks = {str(dv.sqref): dv for dv in steps.data_validations.dataValidation}
    kind = checks["C2:C1048576"]
    assert kind.type == "list" and kind.formula1.startswith("Lists!$A$2")
    lists = book["Lists"]
    assert [lists.cell(row=r, column=1).value for r in range(2, 2 + len(STEP_KINDS))] == list(
        STEP_KINDS
    )
    assert "E2:E1048576" in checks and "I2:I1048576" in checks  # person, tells
    assert any("Teams!" in (dv.formula1 or "") for dv in checks.values())
    read_me = " ".join(str(c.value or "") for c in book["Read me"]["A"])
    assert "sdsaudit import" in read_me and "parallel" in read_me


def test_the_empty_template_says_it_has_no_steps(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    path.write_bytes(workbook.template())
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    assert caught.value.lines() == [
        f"{path}:Steps: error: there are no steps: add one row a step, with at least its name"
    ]


def test_a_filled_in_template_imports_with_what_is_missing_listed(tmp_path: Path) -> None:
    path = tmp_path / "filled.xlsx"
    path.write_bytes(workbook.template())
    book = load_workbook(path)
    rows = [
        ("contact", "First contact", "contact", "front door", "consulted", 2),
        (None, "Panel", "approval", "locality", None, None),
        (None, "Support in place", "support", None, None, None),
    ]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            book["Steps"].cell(row=r, column=c, value=value)
    links = [("contact", "Panel"), ("panel", "support in place")]
    for r, (a, b) in enumerate(links, start=2):
        book["Links"].cell(row=r, column=1, value=a)
        book["Links"].cell(row=r, column=2, value=b)
    book["About"]["B2"] = "Testshire Council"
    book.save(path)
    draft, model = _import(path)
    assert model.council == "Testshire Council"
    assert [s.id for s in model.steps] == ["contact", "panel", "support_in_place"]
    panel = model.step_by_id["panel"]
    assert panel.days_unknown and set(panel.assumed) == {"days", "authority", "approves"}
    assert model.authorities[0].id == "sign_off" and "authorities" in model.assumed
    assert model.actors["front_door"].kind == "council"
    assert any(a.kind == "person" for a in model.actors.values())
    assert "how long 'Panel' takes (days)" in draft.to_fill
    assert any(line.startswith("the title of the process") for line in draft.to_fill)
    assert any("'front door'" in line for line in draft.to_fill)


# --------------------------------------------------------------------------- a workbook made by hand

HAND_STEPS = [
    ("Step ID", "Activity", "Step type", "Owner", "Duration (days)", "Predecessors", "Tells"),
    ("contact", "First contact", "contact", "Front door", 2, None, "process"),
    ("assess", "Needs assessment", "assessment", "Locality", 21, "First contact", None),
    ("decide", "Eligibility", "eligibility", "Locality", "3", "assess", "Eligibility decision"),
    ("fa", "Financial assessment", "Financial assessment", "Finance team", "2 weeks", None, None),
    ("support", "Support in place", "support", None, None, "fa", None),
    ("signposted", "Signposted", "end", None, None, None, None),
]
HAND_LINKS = [
    ("Item", "Related Item", "Label", "Probability"),
    ("decide", "Financial assessment", "eligible", "85%"),
    ("decide", "signposted", "not eligible", None),
]
HAND_TEAMS = [
    ("ID", "Team name", "Type"),
    ("front_door", "Front door", "council"),
    ("locality", "Locality", "council"),
    ("finance", "Finance team", "finance"),
    ("person", "The person", "person"),
]
HAND_ABOUT = [
    ("Council name", "Handshire Council"),
    ("Title", "Made by hand"),
    ("As of", dt.datetime(2026, 4, 1)),
]


def _hand_workbook(path: Path, mistakes: bool) -> None:
    """A workbook written by hand with openpyxl (not by export): aliases in the headers,
    a Links sheet as an edge list (Item, Related Item, Label), and, with ``mistakes``, a
    misspelt kind (C3), days that are not a number (E4) and a team not in Teams (D5)."""
    book = Workbook()
    sheets = {
        "Activities": HAND_STEPS,
        "Connections": HAND_LINKS,
        "Lanes": HAND_TEAMS,
        "About": HAND_ABOUT,
    }
    for n, (title, rows) in enumerate(sheets.items()):
        sheet = book.active if n == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = title
        for row in rows:
            sheet.append(list(row))
    if mistakes:
        steps = book["Activities"]
        steps["C3"] = "asessment"
        steps["E4"] = "three"
        steps["D5"] = "Finanse team"
    book.save(path)


def test_a_hand_made_workbook_gives_its_three_mistakes_at_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "hand.xlsx"
    _hand_workbook(path, mistakes=True)
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    assert caught.value.lines() == [
        f"{path}:Activities!C3: error: 'asessment' is not a kind of step (did you mean "
        f"'assessment'?); use one of: {', '.join(STEP_KINDS)}",
        f"{path}:Activities!D5: error: 'Finanse team' is not a team in the Teams sheet (did "
        "you mean 'Finance team'?): correct it, or add the team there",
        f"{path}:Activities!E4: error: days should be a number of days (5, 2.5, '2 weeks'), "
        "'unknown' or 'not given', not 'three'",
    ]


def test_the_hand_made_workbook_fixed_imports_to_the_model_expected(tmp_path: Path) -> None:
    path = tmp_path / "hand.xlsx"
    _hand_workbook(path, mistakes=False)
    draft, model = _import(path)
    assert (model.council, model.title, model.as_of) == (
        "Handshire Council",
        "Made by hand",
        dt.date(2026, 4, 1),
    )
    assert model.start == "contact"
    assert {k: (a.name, a.kind) for k, a in model.actors.items()} == {
        "front_door": ("Front door", "council"),
        "locality": ("Locality", "council"),
        "finance": ("Finance team", "finance"),
        "person": ("The person", "person"),
    }
    steps = {s.id: s for s in model.steps}
    assert list(steps) == ["contact", "assess", "decide", "fa", "support", "signposted"]
    assert {s.id: s.kind for s in model.steps} == {
        "contact": "contact",
        "assess": "assessment",
        "decide": "eligibility",
        "fa": "financial_assessment",
        "support": "support",
        "signposted": "end",
    }
    assert {s.id: s.actor for s in model.steps} == {
        "contact": "front_door",
        "assess": "locality",
        "decide": "locality",
        "fa": "finance",
        "support": None,
        "signposted": None,
    }
    assert steps["decide"].days == 3 and steps["fa"].days == 14
    assert steps["decide"].tells == ("eligibility_decision",)
    transitions = {(s.id, t.to, t.when, t.share, t.rework) for s in model.steps for t in s.next}
    assert transitions == {
        ("contact", "assess", None, None, False),  # Predecessors of 'assess', by name
        ("assess", "decide", None, None, False),
        ("decide", "fa", "eligible", 0.85, False),  # the edge list, 'to' by name
        ("decide", "signposted", "not eligible", None, False),
        ("fa", "support", None, None, False),  # Predecessors of 'support'
    }
    assert steps["signposted"].outcome == "signposted" and "outcome" in steps["signposted"].assumed
    assert "the outcome of 'Signposted' (guessed: signposted)" in draft.to_fill


def test_a_triaster_style_sheet_and_guessed_kinds(tmp_path: Path) -> None:
    """'Process Elements' with Shape Master, Reference, Text, Predecessors; no kinds."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Process Elements"
    for row in (
        ("Shape Master", "Reference", "Text", "Predecessors"),
        ("Process", "1.1", "Referral received", None),
        ("Process", "1.2", "Needs assessment", "1.1"),
        ("Decision", "1.3", "Meets criteria?", "1.2"),
        ("Process", "1.4", "Funding panel", "1.3"),
        ("Terminator", "1.5", "Signposted to community support", "1.3"),
        ("Process", "1.6", "Support in place", "1.4"),
    ):
        sheet.append(list(row))
    path = tmp_path / "triaster.xlsx"
    book.save(path)
    draft, model = _import(path)
    kinds = {s.name: s.kind for s in model.steps}
    assert kinds == {
        "Referral received": "contact",
        "Needs assessment": "assessment",
        "Meets criteria?": "decision",
        "Funding panel": "approval",
        "Signposted to community support": "end",
        "Support in place": "support",
    }
    assert model.step_by_id["meets_criteria"].next[1].to == "signposted_to_community_support"
    assert "the kind of step 'Meets criteria?' (guessed: decision, from its shape)" in (
        draft.to_fill
    )
    assert draft.step_comments["funding_panel"] == ["kind guessed (from its name): check it"]
    text, _ = write_draft(draft)
    assert "  # kind guessed (from its name): check it\n  - id: funding_panel" in text


def test_an_edge_list_alone_is_a_process(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    for row in (
        ("Item", "Related Item", "Label"),
        ("Contact", "Assessment", None),
        ("Assessment", "Panel", "over 900 a week"),
        ("Assessment", "Support in place", None),
        ("Panel", "Support in place", None),
    ):
        sheet.append(list(row))
    path = tmp_path / "edges.xlsx"
    book.save(path)
    draft, model = _import(path)
    assert [s.id for s in model.steps] == ["contact", "assessment", "panel", "support_in_place"]
    assert model.step_by_id["assessment"].next[0].when == "over 900 a week"
    assert model.actors["council"].name == "The council"
    assert model.step_by_id["panel"].actor == "council"
    assert "actor" in model.step_by_id["panel"].assumed


def test_a_plain_step_list_without_links_is_one_route(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "name,team,days\nContact,Front door,1\nAssessment,Locality,10\nSupport in place,,\n"
    )
    draft, model = _import(path)
    assert [(s.id, [t.to for t in s.next]) for s in model.steps] == [
        ("contact", ["assessment"]),
        ("assessment", ["support_in_place"]),
        ("support_in_place", []),
    ]
    assert model.step_by_id["contact"].assumed == ("next",)
    assert any("one route in row order" in line for line in draft.to_fill)


def test_every_mistake_of_a_sheet_is_reported_at_once(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Steps"
    for row in (
        ("id", "name", "kind", "team", "person", "days", "forms", "tells", "next", "Pesron"),
        ("a", "A", "contact", "T", "leads", 1, 1.5, "contribution", "b [0.5]; c [70%]", None),
        ("b", "B", "approval", "T", "absent", -1, None, "nothing", "c", None),
        ("c", "C", "end", "T", None, None, None, None, "a", None),
        ("a", "D", "support", None, None, None, None, None, None, None),
    ):
        sheet.append(list(row))
    path = tmp_path / "many.xlsx"
    book.save(path)
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    places = [p.file.split(":", 1)[1] for p in caught.value.problems]
    assert places == [
        "Steps!A5",  # a second 'a'
        "Steps!F3",  # days below 0
        "Steps!G2",  # forms not whole
        "Steps!H3",  # a word not in the vocabulary
        "Steps!I2",  # shares over 1
        "Steps!I4",  # an end step with a link
        "Steps!J1",  # a header that looks like a typo
    ]
    text = "\n".join(caught.value.lines())
    assert "(did you mean 'person'?)" in text
    assert "add up to 1.2, more than 1" in text


def test_parallel_blocks_are_checked_at_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "blocks.csv"
    head = "id,name,kind,team,days,next,branches,join\n"
    path.write_text(
        head + "p,P,parallel,,,,x;y,j\n"
        "x,X,planning,t,1,j,,\n"
        "y,Y,planning,t,1,s,,\n"  # this branch reaches support before the join
        "j,J,approval,t,1,s,,\n"
        "s,S,support,,,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    assert caught.value.lines() == [
        f"{path}:2:7: error: branch 'y' of the parallel step 'p' reaches the support step 's' "
        "without passing the join 'j': a branch may go on only to its own steps or to the join"
    ]
    path.write_text(
        head + "x,X,planning,t,1,j,,\n"  # the first row, where cases start, is in a branch
        "p,P,parallel,,,,x;y,j\n"
        "y,Y,planning,t,1,j,,\n"
        "j,J,support,,,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    assert caught.value.lines() == [
        f"{path}:2:2: error: cases start at 'x', which is inside branch 'x' of the parallel step "
        "'p': a branch is entered only from its parallel step, so start at 'p' or before it"
    ]


def test_csv_with_semicolons_a_byte_order_mark_and_names(tmp_path: Path) -> None:
    path = tmp_path / "steps.csv"
    text = (
        "Name;Lane;Days;Next\r\n"
        "First contact;Front door;2;Assessment\r\n"
        'Assessment;Locality;10;"Support in place [eligible | 80%]; Signposted"\r\n'
        "Support in place;;;\r\n"
        "Signposted;;;\r\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    _, model = _import(path)
    assert [t.to for t in model.step_by_id["assessment"].next] == ["support_in_place", "signposted"]
    assert model.step_by_id["assessment"].next[0].share == 0.8
    assert model.step_by_id["signposted"].kind == "end"


def test_csv_errors_are_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,name,kind,days\na,A,contact,1\nb,B,kontact,x\n", encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    lines = caught.value.lines()
    assert lines[0].startswith(
        f"{path}:3:3: error: 'kontact' is not a kind of step (did you mean 'contact'?)"
    )
    assert lines[1].startswith(f"{path}:3:4: error: days should be a number")


def test_a_next_column_with_commas_between_names(tmp_path: Path) -> None:
    path = tmp_path / "commas.csv"
    path.write_text(
        'name,kind,next\nStart here,decision,"Left, Right; Planning, reviewing"\n'
        'Left,support,\nRight,support,\n"Planning, reviewing",support,\n',
        encoding="utf-8",
    )
    _, model = _import(path)
    assert [t.to for t in model.step_by_id["start_here"].next] == [
        "left",
        "right",
        "planning_reviewing",
    ]


# --------------------------------------------------------------------------- formulas


def _with_cached_formula(path: Path, cell: str, formula: str, cached: str) -> None:
    """Rewrite the first sheet so that ``cell`` holds ``formula`` with a cached value, as
    Excel saves it (openpyxl writes no cached values of its own)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode()
    xml, count = re.subn(
        rf'<c r="{cell}"([^>]*)><f>[^<]*</f><v\s*/>|<c r="{cell}"([^>]*)><f>[^<]*</f><v></v>',
        f'<c r="{cell}"><f>{formula}</f><v>{cached}</v>',
        xml,
    )
    assert count == 1, xml[:2000]
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)


def test_formulas_are_read_as_their_cached_values_never_run(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Steps"
    sheet.append(["name", "kind", "days", "next"])
    sheet.append(["Contact", "contact", "=1+2", "Support"])
    sheet.append(["Support", "support", None, None])
    path = tmp_path / "formula.xlsx"
    book.save(path)
    _with_cached_formula(path, "C2", "1+2", "3")
    _, model = _import(path)
    assert model.step_by_id["contact"].days == 3


def test_an_exported_cell_starting_with_equals_is_never_a_formula(tmp_path: Path) -> None:
    text = PARALLEL.replace("name: First contact", 'name: "=HYPERLINK(\\"http://x\\",\\"y\\")"')
    text = text.replace("name: Assessment", 'name: "+1"').replace(
        "name: Planning\n", 'name: "@SUM(A1)"\n    note: "-2"\n'
    )
    text = text.replace("name: Sign off", 'name: "\'=not a formula either"')
    model = load_model_text(text, "hostile.yaml")
    xlsx = tmp_path / "hostile.xlsx"
    xlsx.write_bytes(workbook.write(model, fmt="xlsx"))
    sheet = load_workbook(xlsx)["Steps"]
    names = {sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=2) for r in range(2, 9)}
    assert names["contact"].value.startswith("=HYPERLINK") and names["contact"].data_type == "s"
    assert all(c.data_type == "s" for c in names.values())
    csv_path = tmp_path / "hostile.csv"
    csv_path.write_bytes(workbook.write(model, fmt="csv"))
    csv_text = csv_path.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in csv_text and ",'+1," in csv_text and "'@SUM(A1)" in csv_text
    assert ",'-2," in csv_text and "''=not a formula either" in csv_text
    for path in (xlsx, csv_path):  # and each comes back exactly
        _, back = _import(path)
        assert {s.id: s.name for s in back.steps} == {s.id: s.name for s in model.steps}
        assert back.step_by_id["plan"].note == "-2"


@given(st.text(max_size=12))
def test_escaping_a_cell_is_undone_exactly(text: str) -> None:
    for csv_file in (True, False):
        escaped = escape_cell(text, csv_file=csv_file)
        assert unescape_cell(escaped) == text
        if csv_file and escaped:
            assert escaped[0] not in "=+-@\t\r"


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_round_trip_through_a_workbook(name: str, model: Model, tmp_path: Path) -> None:
    path = tmp_path / "model.xlsx"
    path.write_bytes(workbook.write(model, fmt="xlsx"))
    draft, back = _import(path)
    assert model_data(back) == model_data(model)
    assert draft.to_fill == []
    assert _findings(back) == _findings(model)
    assert check_model(back).metrics == check_model(model).metrics
    assert _overall(back) == _overall(model)


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_round_trip_through_csv_keeps_what_csv_holds(
    name: str, model: Model, tmp_path: Path
) -> None:
    """A CSV file holds the steps (every column, links with when, share and rework, and
    parallel blocks) and the start (its first row); not the teams' names and kinds, the
    sign-off levels' names and limits, sources' titles, policies, options, targets,
    waivers or start groups (docs/import.md)."""
    path = tmp_path / "model.csv"
    path.write_bytes(workbook.write(model, fmt="csv"))
    _, back = _import(path)
    steps = {s["id"]: s for s in model_data(model)["steps"]}
    assert {s["id"]: s for s in model_data(back)["steps"]} == steps
    assert back.start == model.start
    assert set(back.actors) >= {s.actor for s in model.steps if s.actor}


@st.composite
def random_models(draw: st.DrawFn) -> str:
    """A random valid model, with texts a spreadsheet might take for formulas."""
    texts = st.one_of(
        st.sampled_from(["=1+1", "'=x", "''", "-5", "+", "@a", "a, b", "[law] x", "2024", "yes"]),
        st.text(
            st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")),
            min_size=1,
            max_size=12,
        ),
    )
    n = draw(st.integers(2, 7))
    ids = [f"s{i}" for i in range(n)]
    steps = []
    for sid in ids:
        kind = draw(st.sampled_from([k for k in STEP_KINDS if k not in ("end", "parallel")]))
        step: dict[str, Any] = {"id": sid, "name": draw(texts), "kind": kind}
        if kind != "support":
            step["actor"] = draw(st.sampled_from(["team", "person"]))
        if draw(st.booleans()):
            step["person"] = draw(st.sampled_from(PERSON_LEVELS))
        step["days"] = draw(st.one_of(st.integers(0, 60), st.just("unknown"), st.floats(0, 9)))
        if kind == "support" and draw(st.booleans()):
            del step["days"]
        if draw(st.booleans()):
            step["tells"] = draw(st.lists(st.sampled_from(TELLS), max_size=3, unique=True))
        if draw(st.booleans()):
            step["asks"] = draw(
                st.lists(
                    texts.filter(lambda t: not re.search("[;,\n]", t)), max_size=3, unique=True
                )
            )
        if kind == "approval":
            step["authority"] = "level"
            step["approves"] = draw(
                st.lists(st.sampled_from(ARTEFACTS), min_size=1, max_size=2, unique=True)
            )
        if draw(st.booleans()):
            step["note"] = draw(texts)
        targets = draw(
            st.lists(st.sampled_from([*ids, "end"]), min_size=1, max_size=3, unique=True)
        )
        step["next"] = [
            {"to": t, "when": draw(texts), "share": round(1 / len(targets), 3), "rework": j > 0}
            for j, t in enumerate(targets)
        ]
        step["next"][-1].pop("share")
        steps.append(step)
    steps.append({"id": "end", "name": "End", "kind": "end", "outcome": "other"})
    data = {
        "sdsaudit": "1.1",
        "council": draw(texts),
        "title": draw(texts),
        "as_of": dt.date(2026, 4, 1),
        "authorities": [{"id": "level", "name": draw(texts)}],
        "actors": {
            "person": {"name": draw(texts), "kind": "person"},
            "team": {"name": draw(texts), "kind": "council"},
        },
        "start": "s0",
        "steps": steps,
    }
    return write_data(data)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(random_models())
def test_random_models_round_trip(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    model = load_model_text(text, "random.yaml")
    folder = tmp_path_factory.mktemp("random")
    xlsx, csv_path = folder / "m.xlsx", folder / "m.csv"
    xlsx.write_bytes(workbook.write(model, fmt="xlsx"))
    assert model_data(_import(xlsx)[1]) == model_data(model)
    csv_path.write_bytes(workbook.write(model, fmt="csv"))
    steps = model_data(model)["steps"]
    assert model_data(_import(csv_path)[1])["steps"] == sorted(
        steps, key=lambda s: s["id"] != model.start
    )


@given(st.lists(st.text(max_size=8), min_size=1, max_size=4))
def test_values_joined_in_one_cell_split_back(values: list[str]) -> None:
    values = [v.strip() for v in values if v.strip() and not re.search("[;\n]", v)]
    values = list(dict.fromkeys(values))
    if values:
        assert split_values(join_values(values)) == values


@given(
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=15).filter(
        lambda t: t.strip() == t and t != ""
    ),
    st.one_of(st.none(), st.floats(0, 1)),
    st.booleans(),
)
def test_a_link_written_in_a_cell_reads_back(when: str, share: float | None, rework: bool) -> None:
    transition = {"to": "next_step", "when": when, "share": share, "rework": rework}
    parsed = parse_link(link_text({k: v for k, v in transition.items() if v is not None}))
    assert (parsed.to, parsed.when, parsed.share, parsed.rework) == (
        "next_step",
        when,
        share,
        rework,
    )


# --------------------------------------------------------------------------- hostile files


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """The zip with ``member``'s uncompressed size rewritten in its local and central
    headers: a file that claims to unzip to ``size`` bytes."""
    out = bytearray(data)
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if out[name_at : name_at + len(name)] == name:
                out[start + offset : start + offset + 4] = struct.pack("<I", size)
            start += 4
    return bytes(out)


def test_a_zip_bomb_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_declare_size(workbook.template(), "xl/worksheets/sheet1.xml", 3_000_000_000))
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    assert "would unzip to 3,000" in str(caught.value) and "zip bomb" in str(caught.value)


def test_a_part_that_unzips_far_beyond_its_size_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + " " * 20_000_000 + "</a>")
    path = tmp_path / "ratio.xlsx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    assert "more than 100 times its size" in str(caught.value)


def test_an_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"name\n" + b"x\n" * 1000)
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=100)
    assert "more than the limit of 100" in str(caught.value) and "--max-bytes" in str(caught.value)


def test_a_sheet_of_too_many_rows_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_ROWS", 20)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Steps"
    sheet.append(["name"])
    for i in range(30):
        sheet.append([f"Step {i}"])
    path = tmp_path / "long.xlsx"
    book.save(path)
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    assert caught.value.lines() == [
        f"{path}:Steps: error: the sheet has more than 20 rows: sdsaudit reads at most 20 a "
        "sheet. Delete the rows below your steps (empty rows with formatting count too), or "
        "split the process"
    ]
    csv_path = tmp_path / "long.csv"
    csv_path.write_text("name\n" + "".join(f"Step {i}\n" for i in range(30)))
    with pytest.raises(ModelError, match="more than 20 rows"):
        workbook.read(str(csv_path), max_bytes=BIG)


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("empty.xlsx", b"", "the file is empty"),
        ("junk.xlsx", b"\x00\x01 not a zip", "cannot be read as an Excel workbook (.xlsx)"),
        ("old.xlsx", b"\xd0\xcf\x11\xe0" + b"\x00" * 600, "an older .xls workbook"),
        ("latin1.csv", "name\nR\xe9view\n".encode("latin-1"), "not UTF-8"),
        ("nul.csv", b"name\n\x00\x00\n", "not text"),
        ("headers.csv", b"a,b,c\n1,2,3\n", "has no 'name' column"),
    ],
)
def test_broken_files_give_clear_messages(
    name: str, data: bytes, says: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    assert says in str(caught.value)


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    path = tmp_path / "zip.xlsx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ModelError, match="cannot be read as an Excel workbook"):
        workbook.read(str(path), max_bytes=BIG)


def test_xml_entities_in_a_sheet_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "entities.xlsx"
    path.write_bytes(workbook.template())
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    parts["xl/worksheets/sheet1.xml"] = bomb + parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(path, "w") as archive:
        for part, data in parts.items():
            archive.writestr(part, data)
    with pytest.raises(ModelError) as caught:
        workbook.read(str(path), max_bytes=BIG)
    assert "declares XML entities or a document type" in str(caught.value)


CELL_VALUES = st.one_of(
    st.none(),
    st.text(max_size=30).map(lambda t: ILLEGAL_CHARACTERS_RE.sub("", t)),
    st.sampled_from(
        ["unknown", "not given", "85%", "yes", "parallel", "approval", "end", "a; b", "[x]", "="]
    ),
    st.integers(-5, 10**6),
    st.floats(-10, 1e6, allow_nan=False),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Steps", "Links", "Start", "Teams", "Sign-off levels", "About"]),
            st.integers(1, 6),
            st.integers(1, 20),
            CELL_VALUES,
        ),
        max_size=25,
    )
)
def test_random_cells_in_the_template_never_cause_an_internal_error(
    tmp_path_factory: pytest.TempPathFactory, cells: list[tuple[str, int, int, Any]]
) -> None:
    folder = tmp_path_factory.mktemp("cells")
    path = folder / "random.xlsx"
    path.write_bytes(workbook.template())
    book = load_workbook(path)
    for sheet, row, column, value in [("Steps", 2, 2, "A step"), *cells]:
        book[sheet].cell(row=row, column=column, value=value)
    book.save(path)
    try:
        draft = workbook.read(str(path), max_bytes=BIG)
        write_draft(draft)
    except (ModelError, UsageError):
        pass


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300), st.sampled_from([".xlsx", ".csv"]))
def test_random_bytes_give_a_clean_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("bytes") / f"random{suffix}"
    path.write_bytes(data)
    try:
        write_draft(workbook.read(str(path), max_bytes=BIG))
    except (ModelError, UsageError):
        pass


# --------------------------------------------------------------------------- command line


def test_init_import_and_export_on_the_command_line(tmp_path: Path) -> None:
    template = tmp_path / "process.xlsx"
    done = _invoke("init", "--format", "xlsx", str(template))
    assert done.exit_code == 0 and template.exists(), done.output
    again = _invoke("init", "--format", "xlsx", str(template))
    assert again.exit_code == 2 and "--force" in again.output
    assert _invoke("init", "--format", "xlsx", "--force", str(template)).exit_code == 0

    model = ROOT / "examples" / "exampleshire" / "process.yaml"
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"exampleshire.{fmt}"
        done = _invoke("export", str(model), "--format", fmt, "-o", str(out))
        assert done.exit_code == 0 and out.exists(), done.output
        refused = _invoke("export", str(model), "--format", fmt, "-o", str(out))
        assert refused.exit_code == 2 and "--force" in refused.output
        back = tmp_path / f"back-{fmt}.yaml"
        done = _invoke("import", str(out), "-o", str(back))
        assert done.exit_code == 0, done.output
        council = "Exampleshire County Council" if fmt == "xlsx" else "Unnamed council"
        assert load_model(str(back)).council == council
        refused = _invoke("import", str(out), "-o", str(back))
        assert refused.exit_code == 2 and "--force" in refused.output
    assert "to finish this model" in done.output  # CSV leaves team kinds to fill in


def test_the_command_line_lists_what_to_fill_in(tmp_path: Path) -> None:
    source = tmp_path / "steps.csv"
    source.write_text("name,team,days,next\nContact,Front door,,Support\nSupport,,,\n")
    done = _invoke("import", str(source), "-o", str(tmp_path / "m.yaml"))
    assert done.exit_code == 0, done.output
    assert "to finish this model, fill in:\n" in done.output
    assert "  - how long 'Contact' takes (days)\n" in done.output


def test_bad_input_exits_2_without_a_traceback(tmp_path: Path) -> None:
    hand = tmp_path / "hand.xlsx"
    _hand_workbook(hand, mistakes=True)
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 broken")
    for source in (hand, junk, tmp_path / "missing.csv"):
        done = _invoke("import", str(source), "-o", str(tmp_path / "out.yaml"))
        assert done.exit_code == 2
        assert "Traceback" not in done.output and "internal error" not in done.output
        assert f"{source}" in done.output and ": error: " in done.output
    assert not (tmp_path / "out.yaml").exists()
    done = _invoke("import", str(hand), "-o", str(tmp_path / "out.yaml"))
    assert f"{hand}:Activities!C3: error: 'asessment'" in done.output


def test_max_bytes_bounds_the_source(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    source.write_text("name\n" + "Step\n" * 100)
    done = _invoke("--max-bytes", "50", "import", str(source), "-o", str(tmp_path / "m.yaml"))
    assert done.exit_code == 2 and "more than the limit of 50" in done.output


# --------------------------------------------------------------------------- the examples


@pytest.mark.parametrize(
    ("source", "model"),
    [
        ("exampleshire.xlsx", "exampleshire-from-xlsx.yaml"),
        ("steps.csv", "steps-from-csv.yaml"),
    ],
)
def test_the_examples_import_to_the_models_beside_them(
    source: str, model: str, tmp_path: Path
) -> None:
    folder = ROOT / "examples" / "import"
    out = tmp_path / model
    done = _invoke("import", str(folder / source), "-o", str(out))
    assert done.exit_code == 0, done.output
    expected = (folder / model).read_text(encoding="utf-8")
    assert _without_dates(out.read_text(encoding="utf-8")) == _without_dates(expected)


def _without_dates(text: str) -> str:
    """A model's text without the import's own date (a placeholder as_of is today's)."""
    return re.sub(r"(?m)^as_of: .*$", "as_of: ...", text).replace(
        str(ROOT / "examples" / "import") + "/", ""
    )
