"""BPMN 2.0 import and export (sdsaudit.exchange.bpmn): every shipped model goes out and
back unchanged; BPMN files from other tools (bpmn.io's and Camunda's examples, a Signavio
export) import with their lanes, gateways and tasks where they belong; hostile and broken
files are refused with the line and column of the problem."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsaudit.analysis.engine import check_model
from sdsaudit.cli import main
from sdsaudit.errors import EXIT_ERROR, ModelError, UsageError
from sdsaudit.exchange import bpmn
from sdsaudit.exchange.data import Draft, model_data, write_draft
from sdsaudit.model.loader import load_model, load_model_text
from sdsaudit.model.objects import Model
from sdsaudit.model.source import dump
from sdsaudit.scoring.scores import score_model

from .models import ROOT, shipped_models
from .test_properties import models as version_1_models

DATA = ROOT / "tests" / "data" / "bpmn"
EXAMPLE_FILE = ROOT / "examples" / "import" / "millbrook.bpmn"
EXAMPLE_MODEL = ROOT / "examples" / "import" / "millbrook-from-bpmn.yaml"
B = bpmn.BPMN

PARALLEL_MODEL = """\
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

# --------------------------------------------------------------------------- helpers


def signature(model: Model) -> tuple[Any, ...]:
    """What a round trip must keep: the findings (as a sorted set), metrics and scores."""
    result = check_model(model)
    findings = sorted({(f.rule, f.steps, f.subject) for f in result.findings})
    return findings, result.metrics, score_model(model, result).as_dict()["overall"]


def round_trip(model: Model, folder: Path) -> tuple[Draft, Model]:
    path = folder / "exported.bpmn"
    path.write_bytes(bpmn.write(model, fmt="bpmn"))
    draft = bpmn.read(str(path))
    _, again = write_draft(draft)
    return draft, again


def imported(path: Path | str) -> tuple[Draft, Model]:
    draft = bpmn.read(str(path))
    return draft, write_draft(draft)[1]


def write_bpmn(folder: Path, body: str, name: str = "drawn.bpmn", head: str = "") -> Path:
    """A BPMN file around ``body`` (the definitions' children)."""
    path = folder / name
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n{head}'
        f'<definitions xmlns="{B}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'id="d1" targetNamespace="http://example.org">\n{body}\n</definitions>\n',
        encoding="utf-8",
    )
    return path


def problems_of(path: Path, **kwargs: Any) -> list[str]:
    with pytest.raises(ModelError) as caught:
        bpmn.read(str(path), **kwargs)
    return caught.value.lines()


def line_of(path: Path, text: str) -> int:
    """The line of ``path`` on which ``text`` first appears."""
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {path}")


def steps_of(model: Model) -> dict[str, Any]:
    return {s.id: s for s in model.steps}


def names(model: Model) -> dict[str, str]:
    return {s.name: s.id for s in model.steps}


# --------------------------------------------------------------------------- round trips

ROUND_TRIP_MODELS = [*shipped_models(), ROOT / "tests" / "data" / "hostile.yaml"]


@pytest.mark.parametrize("path", ROUND_TRIP_MODELS, ids=lambda p: p.stem)
def test_every_shipped_model_goes_out_and_back_unchanged(path: Path, tmp_path: Path) -> None:
    model = load_model(str(path))
    draft, again = round_trip(model, tmp_path)
    assert model_data(again) == model_data(model)
    assert signature(again) == signature(model)
    assert draft.to_fill == []


def test_the_parallel_model_goes_out_and_back_unchanged(tmp_path: Path) -> None:
    model = load_model_text(PARALLEL_MODEL, "par.yaml")
    _, again = round_trip(model, tmp_path)
    assert model_data(again) == model_data(model)
    assert signature(again) == signature(model)


def test_export_and_import_through_the_command_line(tmp_path: Path) -> None:
    source = tmp_path / "par.yaml"
    source.write_text(PARALLEL_MODEL, encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "par.bpmn"
    done = runner.invoke(main, ["export", str(source), "--format", "bpmn", "-o", str(out)])
    assert done.exit_code == 0, done.output
    back = tmp_path / "back.yaml"
    done = runner.invoke(main, ["import", str(out), "-o", str(back)])
    assert done.exit_code == 0, done.output
    original, again = load_model(str(source)), load_model(str(back))
    assert model_data(again) == model_data(original)
    assert signature(again) == signature(original)
    refused = runner.invoke(main, ["export", str(source), "--format", "bpmn", "-o", str(out)])
    assert refused.exit_code == EXIT_ERROR  # no overwriting without --force


def test_a_file_bpmn_io_saved_again_reads_as_the_same_model() -> None:
    """bpmn-moddle (what bpmn.io and Camunda Modeler read and save with) keeps the
    sdsaudit extension elements and the lanes: the file reads back unchanged."""
    model = load_model(str(ROOT / "examples" / "exampleshire" / "process.yaml"))
    _, again = imported(DATA / "bpmn-io-saved" / "exampleshire.bpmn")
    assert model_data(again) == model_data(model)


def test_the_layout_without_dot_still_places_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    model = load_model(str(ROOT / "examples" / "exampleshire" / "process.yaml"))
    data = bpmn.write(model)
    check_diagram(data)
    path = tmp_path / "plain.bpmn"
    path.write_bytes(data)
    _, again = imported(path)
    assert model_data(again) == model_data(model)


# --------------------------------------------------------------------------- the diagram


def check_diagram(data: bytes) -> None:
    """Well-formed XML, a shape for every flow node and lane, an edge for every flow,
    every node inside the lane that lists it."""
    root = SafeET.fromstring(data)
    process = root.find(f"{{{B}}}process")
    assert process is not None
    nodes = {
        e.get("id") for e in process if e.tag.rsplit("}", 1)[1] in bpmn.FLOW_NODES and e.get("id")
    }
    flows = {e.get("id") for e in process.findall(f"{{{B}}}sequenceFlow")}
    lanes = {lane.get("id"): lane for lane in process.iter(f"{{{B}}}lane")}
    bounds: dict[str, tuple[float, float, float, float]] = {}
    for shape in root.iter(f"{{{bpmn.BPMNDI}}}BPMNShape"):
        box = shape.find(f"{{{bpmn.DC}}}Bounds")
        assert box is not None
        x, y, w, h = (float(box.get(k, "nan")) for k in ("x", "y", "width", "height"))
        assert w > 0 and h > 0
        bounds[shape.get("bpmnElement", "")] = (x, y, w, h)
    edges = {}
    for edge in root.iter(f"{{{bpmn.BPMNDI}}}BPMNEdge"):
        points = edge.findall(f"{{{bpmn.DI}}}waypoint")
        assert len(points) >= 2
        edges[edge.get("bpmnElement")] = points
    assert nodes and nodes <= set(bounds)
    assert set(lanes) <= set(bounds)
    assert flows <= set(edges)
    for lane_id, lane in lanes.items():
        lx, ly, lw, lh = bounds[lane_id]
        for ref in lane.findall(f"{{{B}}}flowNodeRef"):
            x, y, w, h = bounds[ref.text or ""]
            assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, ref.text


@pytest.mark.parametrize("path", shipped_models()[:6], ids=lambda p: p.stem)
def test_the_exported_file_has_a_diagram_for_everything(path: Path) -> None:
    check_diagram(bpmn.write(load_model(str(path))))


def test_the_export_is_escaped_and_plain_bpmn() -> None:
    model = load_model(str(ROOT / "tests" / "data" / "hostile.yaml"))
    data = bpmn.write(model)
    assert data.startswith(b"<?xml")
    assert b"<script>" not in data and b"<!DOCTYPE" not in data
    root = SafeET.fromstring(data)
    assert root.tag == f"{{{B}}}definitions"
    tags = {e.tag.rsplit("}", 1)[1] for e in root.find(f"{{{B}}}process") or []}
    assert {"laneSet", "startEvent", "sequenceFlow", "extensionElements"} <= tags


def test_kinds_become_the_usual_bpmn_elements() -> None:
    model = load_model(str(ROOT / "examples" / "exampleshire" / "process.yaml"))
    root = SafeET.fromstring(bpmn.write(model))
    tag = {
        e.get("id"): e.tag.rsplit("}", 1)[1]
        for e in root.iter()
        if e.tag.startswith(f"{{{B}}}") and e.get("id")
    }
    assert tag["sign_off"] == "userTask"  # an approval
    assert tag["arrange"] == "manualTask"
    assert tag["signposted"] == "endEvent"
    assert tag["support"] == "task"  # support with a way on (to review)
    assert tag["Branch.eligibility"] == "exclusiveGateway"  # a step with several ways on
    par = SafeET.fromstring(bpmn.write(load_model_text(PARALLEL_MODEL, "par.yaml")))
    kinds = {e.get("id"): e.tag.rsplit("}", 1)[1] for e in par.iter() if e.get("id")}
    assert kinds["both"] == kinds["Join.both"] == "parallelGateway"
    flows = [
        (f.get("sourceRef"), f.get("targetRef"), f.get("name"))
        for f in par.iter(f"{{{B}}}sequenceFlow")
    ]
    assert ("both", "plan", None) in flows and ("both", "fa", None) in flows
    assert ("fa", "Join.both", None) in flows and ("Join.both", "signoff", None) in flows
    assert ("Start.1", "contact", None) in flows
    starts = {e.get("id"): e.get("name") for e in par.iter(f"{{{B}}}startEvent")}
    assert starts == {"Start.1": "adults 80%", "Start.2": "young people moving to adult services"}


def test_a_timer_carries_the_days_of_a_wait(tmp_path: Path) -> None:
    text = PARALLEL_MODEL.replace(
        "    next: [assess]\n  - id: assess",
        "    next: [pause]\n"
        "  - id: pause\n    name: Cooling off\n    kind: wait\n    actor: team\n"
        "    days: 14\n    next: [assess]\n  - id: assess",
        1,
    )
    data = bpmn.write(load_model_text(text, "wait.yaml"))
    assert b"<bpmn:timeDuration" in data and b">P14D</bpmn:timeDuration>" in data
    # a modeller changes the timer in the BPMN tool: the wait takes the new time
    path = tmp_path / "wait.bpmn"
    path.write_bytes(data.replace(b">P14D<", b">P3W<"))
    _, again = imported(path)
    assert steps_of(again)["pause"].days == 21


def test_a_share_changed_in_a_flow_name_is_read(tmp_path: Path) -> None:
    """A modeller edits "eligible 85%" in bpmn.io: the name's percentage wins over the
    share sdsaudit:flow holds; an unchanged name keeps the exact share."""
    model = load_model(str(ROOT / "examples" / "exampleshire" / "process.yaml"))
    data = bpmn.write(model)
    assert b'name="eligible 85%"' in data and b'name="not eligible 15%"' in data
    path = tmp_path / "edited.bpmn"
    path.write_bytes(
        data.replace(b'name="eligible 85%"', b'name="eligible 80%"').replace(
            b'name="not eligible 15%"', b'name="not eligible (20%)"'
        )
    )
    _, again = imported(path)
    eligibility = steps_of(again)["eligibility"]
    assert [(t.when, t.share) for t in eligibility.next] == [
        ("eligible", 0.8),
        ("not eligible", 0.2),
    ]


# --------------------------------------------------------------------------- files from other tools


def test_camunda_lanes_gateway_and_call_activity() -> None:
    draft, model = imported(DATA / "camunda-bpm-examples" / "camunda-testing-job-announcement.bpmn")
    actors = {a.name: a for a in model.actors.values()}
    assert {"Automated", "Management", "HR"} <= set(actors)
    step = steps_of(model)
    by_name = names(model)
    assert len(model.steps) == 8
    assert model.start == by_name["Describe job role"]
    review = step[by_name["Review job role description"]]
    assert review.kind == "review" and model.actors[review.actor or ""].name == "Management"
    ok = step[by_name["OK?"]]
    assert ok.kind == "decision" and model.actors[ok.actor or ""].name == "Management"
    assert [(t.to, t.when) for t in ok.next] == [
        (by_name["Publish announcement"], "yes"),
        (by_name["Improve job role description"], "no"),
    ]
    improve = step[by_name["Improve job role description"]]
    assert [(t.to, t.rework) for t in improve.next] == [(review.id, True)]  # the loop back
    assert "next" in improve.assumed
    assert step[by_name["Execute announcement"]].kind == "information"  # a call activity
    end = step[by_name["New position announced"]]
    assert end.kind == "end" and end.outcome == "other"
    assert model.actors[step[by_name["Publish announcement"]].actor or ""].name == "HR"
    assert any("how long 'Describe job role' takes" in line for line in draft.to_fill)


def test_camunda_parallel_pair_with_choices_inside() -> None:
    _, model = imported(
        DATA / "camunda-bpm-examples" / "camunda-testing-job-announcement-publication.bpmn"
    )
    step = steps_of(model)
    by_name = names(model)
    parallel = [s for s in model.steps if s.kind == "parallel"]
    assert len(parallel) == 1
    assert [step[b].name for b in parallel[0].branches] == ["Chose Twitter?", "Chose Facebook?"]
    assert step[parallel[0].join or ""].kind == "end"  # the two merges and the join dissolve
    twitter = step[by_name["Chose Twitter?"]]
    assert twitter.kind == "decision"
    assert {t.when: t.to for t in twitter.next} == {
        "yes": by_name["Publish announcement on Twitter"],
        "no": parallel[0].join,
    }
    assert len(model.blocks) == 1


def test_the_pizza_collaboration() -> None:
    """Two pools: the customer's is the person's side, so the vendor's (with three
    lanes) is read; the messages to and from the customer say where the person takes
    part; the parallel gateway whose branches never meet is read as a choice."""
    draft, model = imported(DATA / "bpmn-js-examples" / "pizza-collaboration.bpmn")
    assert model.title == "Pizza vendor"
    teams = {a.name: a.kind for a in model.actors.values()}
    assert teams == {
        "clerk": "council",
        "pizza chef": "council",
        "delivery boy": "council",
        "Pizza Customer": "person",
    }
    step = steps_of(model)
    by_name = names(model)
    assert len(model.steps) == 7
    split = step[model.start]
    assert split.kind == "decision" and split.assumed == ("kind",)
    assert {step[t.to].name for t in split.next} == {"„where is my pizza?“", "Bake the pizza"}
    where = step[by_name["„where is my pizza?“"]]
    assert where.kind == "wait" and where.days_unknown and where.person == "consulted"
    assert step[by_name["Deliver the pizza"]].person == "informed"
    assert step[by_name["Bake the pizza"]].person == "absent"
    assert model.actors[step[by_name["Bake the pizza"]].actor or ""].name == "pizza chef"
    assert any("never comes together again" in line for line in draft.to_fill)


def test_a_pool_with_one_unnamed_lane_and_a_merging_gateway() -> None:
    _, model = imported(DATA / "bpmn-js-examples" / "starter-diagram.bpmn")
    step = steps_of(model)
    by_name = names(model)
    assert set(by_name) == {
        "Scan QR code",
        "Open product information in mobile app",
        "Is informed",
        "Scan successful?",
    }
    assert model.start == by_name["Scan QR code"]  # the merge before it dissolves
    [team] = [a for a in model.actors.values()]
    assert team.name == "Customer" and team.kind == "person"
    check = step[by_name["Scan successful?"]]
    assert [(step[t.to].name, t.when, t.rework) for t in check.next] == [
        ("Scan QR code", "Yes", True),
        ("Open product information in mobile app", "No", False),
    ]


def test_sub_processes_are_steps_and_a_boundary_inside_a_branch_is_left_out() -> None:
    draft, model = imported(DATA / "bpmn-js-examples" / "nested-subprocesses.bpmn")
    by_name = names(model)
    assert {"Order Products", "Procure Payment", "Ship Items (todo)"} <= set(by_name)
    assert "Check Items" not in by_name  # inside a sub-process
    [parallel] = [s for s in model.steps if s.kind == "parallel"]
    assert set(parallel.branches) == {by_name["Order Products"], by_name["Procure Payment"]}
    assert parallel.join == by_name["Ship Items (todo)"]
    assert any("boundary event inside work done side by side" in line for line in draft.to_fill)


def test_every_kind_of_element_in_the_kitchen_sink() -> None:
    _, model = imported(DATA / "bpmn-js-examples" / "kitchen-sink.bpmn")
    kinds = {s.kind for s in model.steps}
    assert kinds == {"information", "wait", "decision"}
    assert len(model.steps) == 14


def test_a_signavio_file_with_nine_pools() -> None:
    draft, model = imported(DATA / "bpmn-moddle" / "complex.bpmn")
    assert model.title == "Bewerbungseingang - Sachbearbeiter Personal"
    assert len(model.steps) == 15
    assert sum("which was left out" in line for line in draft.to_fill) == 7
    assert any(s.kind == "wait" for s in model.steps)


# --------------------------------------------------------------------------- a file drawn by hand

HAND_DRAWN = """
  <collaboration id="c1"><participant id="pool" name="Testshire Council" processRef="proc"/></collaboration>
  <process id="proc" name="Adult social care">
    <laneSet id="ls">
      <lane id="l1" name="Front door"><flowNodeRef>start</flowNodeRef><flowNodeRef>contact</flowNodeRef></lane>
      <lane id="l2" name="Social work team">
        <flowNodeRef>assess</flowNodeRef><flowNodeRef>gw</flowNodeRef><flowNodeRef>split</flowNodeRef>
        <flowNodeRef>plan</flowNodeRef><flowNodeRef>join</flowNodeRef><flowNodeRef>pause</flowNodeRef>
        <flowNodeRef>arrange</flowNodeRef><flowNodeRef>done</flowNodeRef><flowNodeRef>no</flowNodeRef>
        <flowNodeRef>merge</flowNodeRef>
      </lane>
      <lane id="l3" name="Finance team"><flowNodeRef>fa</flowNodeRef></lane>
    </laneSet>
    <startEvent id="start" name="Referral"/>
    <task id="contact" name="Referral received"/>
    <userTask id="assess" name="Needs assessment"><documentation>Done at home.</documentation></userTask>
    <exclusiveGateway id="gw" name="Which way?" default="f_else"/>
    <parallelGateway id="split"/>
    <userTask id="plan" name="Support planning"/>
    <userTask id="fa" name="Financial assessment"/>
    <parallelGateway id="join"/>
    <intermediateCatchEvent id="pause" name="Cooling-off period">
      <timerEventDefinition><timeDuration xsi:type="tFormalExpression">P14D</timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <exclusiveGateway id="merge"/>
    <manualTask id="arrange" name="Arrange the support"/>
    <endEvent id="done" name="Support in place"/>
    <endEvent id="no" name="Not eligible"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="contact"/>
    <sequenceFlow id="f2" sourceRef="contact" targetRef="assess"/>
    <sequenceFlow id="f3" sourceRef="assess" targetRef="gw"/>
    <sequenceFlow id="f4" sourceRef="gw" targetRef="split">
      <conditionExpression xsi:type="tFormalExpression">${eligible}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="f_else" sourceRef="gw" targetRef="no"/>
    <sequenceFlow id="f5" sourceRef="split" targetRef="plan"/>
    <sequenceFlow id="f6" sourceRef="split" targetRef="fa"/>
    <sequenceFlow id="f7" sourceRef="plan" targetRef="join"/>
    <sequenceFlow id="f8" sourceRef="fa" targetRef="join"/>
    <sequenceFlow id="f9" sourceRef="join" targetRef="pause"/>
    <sequenceFlow id="f10" sourceRef="pause" targetRef="merge"/>
    <sequenceFlow id="f11" sourceRef="merge" targetRef="arrange" name="ready"/>
    <sequenceFlow id="f12" sourceRef="arrange" targetRef="done"/>
  </process>
"""


def test_a_hand_drawn_file_imports_to_the_expected_model(tmp_path: Path) -> None:
    draft, model = imported(write_bpmn(tmp_path, HAND_DRAWN))
    assert (model.council, model.title) == ("Testshire Council", "Adult social care")
    assert {a.name: a.kind for a in model.actors.values()} == {
        "Front door": "council",
        "Social work team": "council",
        "Finance team": "finance",
        "The person and their family": "person",
    }
    data = model_data(model)
    steps = {s["id"]: s for s in data["steps"]}
    assert data["start"] == "referral_received"
    assert steps["referral_received"]["kind"] == "contact"
    assert steps["referral_received"]["actor"] == "front_door"
    assert steps["needs_assessment"] == {
        "id": "needs_assessment",
        "name": "Needs assessment",
        "kind": "assessment",
        "actor": "social_work_team",
        "person": "absent",
        "days": "unknown",
        "assumed": ["kind", "days"],
        "note": "Done at home.",
        "next": ["which_way"],
    }
    assert steps["which_way"]["kind"] == "decision" and steps["which_way"]["days"] == 0
    assert steps["which_way"]["next"] == [
        {"to": "these_happen_at_the_same_time", "when": "eligible"},
        {"to": "not_eligible", "when": "otherwise"},
    ]
    assert steps["these_happen_at_the_same_time"] == {
        "id": "these_happen_at_the_same_time",
        "name": "These happen at the same time",
        "kind": "parallel",
        "branches": ["support_planning", "financial_assessment"],
        "join": "cooling_off_period",
    }
    assert steps["financial_assessment"]["actor"] == "finance_team"
    assert steps["cooling_off_period"]["kind"] == "wait"
    assert steps["cooling_off_period"]["days"] == 14
    assert steps["cooling_off_period"]["next"] == [{"to": "arrange_the_support", "when": "ready"}]
    assert steps["arrange_the_support"]["kind"] == "arranging"
    assert steps["support_in_place"]["kind"] == "support"
    assert steps["not_eligible"] == {
        "id": "not_eligible",
        "name": "Not eligible",
        "kind": "end",
        "outcome": "not_eligible",
    }
    assert "the kind of team 'Front door' (guessed as council)" in draft.to_fill
    assert "how long 'Needs assessment' takes (days)" in draft.to_fill
    assert any(line.startswith("the council's name") for line in draft.to_fill)
    assert draft.step_comments["needs_assessment"][0].startswith("From the BPMN userTask 'assess'")


@pytest.mark.parametrize(
    ("duration", "days"),
    [("P14D", 14), ("P2W", 14), ("PT36H", 1.5), ("P1M", 30), ("P1DT12H", 1.5), ("${wait}", None)],
)
def test_timer_durations(duration: str, days: float | None) -> None:
    assert bpmn.duration_days(duration) == days


@pytest.mark.parametrize(
    ("name", "when", "share"),
    [
        ("Yes 85%", "Yes", 0.85),
        ("eligible (85%)", "eligible", 0.85),
        ("10%", "", 0.1),
        ("over 50% of budget", "over 50% of budget", None),
        ("Yes", "Yes", None),
    ],
)
def test_percentages_in_flow_names(name: str, when: str, share: float | None) -> None:
    assert bpmn.split_share(name) == (when, share)


def test_several_start_events_are_groups_of_people(tmp_path: Path) -> None:
    body = """
  <process id="p">
    <startEvent id="s1" name="Adults 70%"/><startEvent id="s2" name="Young people"/>
    <startEvent id="s3"/>
    <task id="a" name="First contact"/><task id="b" name="Transition planning"/>
    <endEvent id="e" name="Support in place"/>
    <sequenceFlow id="f1" sourceRef="s1" targetRef="a"/>
    <sequenceFlow id="f2" sourceRef="s2" targetRef="b"/>
    <sequenceFlow id="f3" sourceRef="s3" targetRef="b"/>
    <sequenceFlow id="f4" sourceRef="a" targetRef="e"/>
    <sequenceFlow id="f5" sourceRef="b" targetRef="e"/>
  </process>"""
    draft, model = imported(write_bpmn(tmp_path, body))
    assert [(e.to, e.when, e.share) for e in model.entries] == [
        ("first_contact", "Adults", 0.7),
        ("transition_planning", "Young people", None),
        ("transition_planning", "people who start at 'Transition planning'", None),
    ]
    assert any("who starts at 'Transition planning'" in line for line in draft.to_fill)


def test_without_a_start_event_the_steps_nothing_leads_into_start(tmp_path: Path) -> None:
    body = """
  <process id="p">
    <task id="a" name="First contact"/><task id="b" name="Assessment"/>
    <sequenceFlow id="f1" sourceRef="a" targetRef="b"/>
  </process>"""
    _, model = imported(write_bpmn(tmp_path, body))
    assert model.start == "first_contact" and not model.grouped


def test_a_boundary_event_is_another_way_out_of_its_task(tmp_path: Path) -> None:
    body = """
  <process id="p">
    <startEvent id="s"/><userTask id="a" name="Needs assessment"/>
    <boundaryEvent id="late" attachedToRef="a" name="after 28 days">
      <timerEventDefinition><timeDuration>P28D</timeDuration></timerEventDefinition>
    </boundaryEvent>
    <task id="chase" name="Chase the assessment"/>
    <endEvent id="e" name="Support in place"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="a"/>
    <sequenceFlow id="f2" sourceRef="a" targetRef="e"/>
    <sequenceFlow id="f3" sourceRef="late" targetRef="chase"/>
    <sequenceFlow id="f4" sourceRef="chase" targetRef="e"/>
  </process>"""
    _, model = imported(write_bpmn(tmp_path, body))
    assessment = steps_of(model)["needs_assessment"]
    assert [(t.to, t.when) for t in assessment.next] == [
        ("support_in_place", None),
        ("chase_the_assessment", "after 28 days"),
    ]


def test_a_join_that_splits_again_waits_for_all_first(tmp_path: Path) -> None:
    body = """
  <process id="p">
    <startEvent id="s"/>
    <parallelGateway id="g1"/><task id="a" name="Assessment"/><task id="b" name="Advocacy"/>
    <parallelGateway id="g2"/>
    <task id="c" name="Support planning"/><task id="d" name="Financial assessment"/>
    <parallelGateway id="g3"/>
    <endEvent id="e" name="Support in place"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="g1"/>
    <sequenceFlow id="f2" sourceRef="g1" targetRef="a"/><sequenceFlow id="f3" sourceRef="g1" targetRef="b"/>
    <sequenceFlow id="f4" sourceRef="a" targetRef="g2"/><sequenceFlow id="f5" sourceRef="b" targetRef="g2"/>
    <sequenceFlow id="f6" sourceRef="g2" targetRef="c"/><sequenceFlow id="f7" sourceRef="g2" targetRef="d"/>
    <sequenceFlow id="f8" sourceRef="c" targetRef="g3"/><sequenceFlow id="f9" sourceRef="d" targetRef="g3"/>
    <sequenceFlow id="f10" sourceRef="g3" targetRef="e"/>
  </process>"""
    _, model = imported(write_bpmn(tmp_path, body))
    step = steps_of(model)
    first, second = [s for s in model.steps if s.kind == "parallel"]
    waits = step[first.join or ""]
    assert waits.name == "All of these done" and waits.kind == "wait" and waits.days == 0
    assert [t.to for t in waits.next] == [second.id]
    assert step[second.join or ""].kind == "support"


def test_the_example_file_imports_to_the_example_model() -> None:
    draft, model = imported(EXAMPLE_FILE)
    expected = model_data(load_model(str(EXAMPLE_MODEL)))
    got = model_data(model)
    expected.pop("as_of"), got.pop("as_of")  # the file gives no date: today is written
    assert got == expected
    fa = steps_of(model)["financial_assessment"]
    assert (fa.forms, fa.person, fa.asks) == (2, "consulted", ("income", "savings"))
    assert fa.assumed == ()  # its sdsaudit:step says all
    check_diagram(EXAMPLE_FILE.read_bytes())


# --------------------------------------------------------------------------- refusals

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</definitions>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p" name="&xxe;"/></definitions>
"""


@pytest.mark.parametrize(
    ("content", "where", "words"),
    [
        (BILLION_LAUGHS, ":2:1:", "document type declaration"),
        (EXTERNAL_ENTITY, ":2:1:", "document type declaration"),
        (f'<definitions xmlns="{B}">&xxe;</definitions>', ":1:", "undefined entity"),
        (f'<definitions xmlns="{B}">\n  <process id="p">\n</definitions>', ":3:", "mismatched tag"),
        ("", ":1:", "the file is empty"),
        ("\x00\x01\xff binary \x9c", ":1:", "not well-formed XML"),
        (f'<definitions xmlns="{B}"><process id="p"', ":1:", "cut short"),
        (
            '<definitions xmlns="http://www.omg.org/spec/BPMN/20100501/MODEL"/>',
            ":1:1:",
            "not a BPMN 2.0 file",
        ),
        ("<mxfile><diagram/></mxfile>", ":1:1:", "import it as a .drawio file"),
        (f'<definitions xmlns="{B}"><process id="p"/></definitions>', ":1:1:", "no process"),
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "entity",
        "malformed",
        "empty",
        "binary",
        "cut-short",
        "wrong-namespace",
        "drawio",
        "no-process",
    ],
)
def test_hostile_and_broken_files_are_refused_clearly(
    tmp_path: Path, content: str, where: str, words: str
) -> None:
    path = tmp_path / "bad.bpmn"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    [line] = problems_of(path)
    assert line.startswith(f"{path}{where}") and " error: " in line, line
    assert words in line, line


def test_every_mistake_is_reported_at_its_place(tmp_path: Path) -> None:
    body = """
  <process id="p">
    <laneSet id="ls"><lane id="l" name="Team"><flowNodeRef>nowhere</flowNodeRef></lane></laneSet>
    <startEvent id="start"/>
    <task id="assess" name="Assessment"/>
    <task id="assess" name="Assessment again"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="asess"/>
    <sequenceFlow id="f2" sourceRef="assess" targetRef="finish"/>
    <sequenceFlow id="f3" sourceRef="assess"/>
  </process>"""
    path = write_bpmn(tmp_path, body)
    lines = problems_of(path)
    assert len(lines) == 6, lines
    text = "\n".join(lines)
    assert f"{path}:{line_of(path, 'nowhere')}:" in text and "lists 'nowhere'" in text
    assert (
        f"{path}:{line_of(path, 'Assessment again')}:5: error: the id 'assess' is used twice"
        in text
    )
    assert f"{path}:{line_of(path, 'asess')}:5: error:" in text
    assert "goes to 'asess', which does not exist (did you mean 'assess'?)" in text
    assert "goes to 'finish', which does not exist" in text
    assert "'f3' has no targetRef" in text
    assert "the start event 'start' leads nowhere" in text  # its only flow is broken


def test_flows_that_cannot_be_followed(tmp_path: Path) -> None:
    body = """
  <process id="p">
    <startEvent id="s"/><startEvent id="lonely" name="Lonely"/>
    <task id="a" name="Assessment"/>
    <exclusiveGateway id="g1"/><exclusiveGateway id="g2"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="a"/>
    <sequenceFlow id="f2" sourceRef="a" targetRef="s"/>
    <sequenceFlow id="f3" sourceRef="g1" targetRef="g2"/>
    <sequenceFlow id="f4" sourceRef="g2" targetRef="g1"/>
    <sequenceFlow id="f5" sourceRef="a" targetRef="g1"/>
  </process>"""
    path = write_bpmn(tmp_path, body)
    text = "\n".join(problems_of(path))
    into_start, lonely = line_of(path, 'id="f2"'), line_of(path, "Lonely")
    assert f":{into_start}:" in text and "goes into the start event" in text
    assert "round in a circle" in text
    assert f":{lonely}:" in text and "leads nowhere" in text


def test_a_problem_the_model_check_finds_is_placed_at_its_element(tmp_path: Path) -> None:
    """In a file sdsaudit wrote, a value the format refuses is reported at the BPMN
    element that holds it, with the loader's words and its did-you-mean."""
    data = bpmn.write(load_model_text(PARALLEL_MODEL, "par.yaml"))
    broken = data.replace(b'kind="assessment"', b'kind="asessment"')
    broken = broken.replace(b'days="15"', b'days="soon"')
    path = tmp_path / "broken.bpmn"
    path.write_bytes(broken)
    lines = problems_of(path)
    assert len(lines) == 2, lines
    assess, fa = line_of(path, 'id="assess"'), line_of(path, 'id="fa"')
    assert lines[0].startswith(f"{path}:{assess}:")
    assert "did you mean 'assessment'" in lines[0]
    assert lines[1].startswith(f"{path}:{fa}:")


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = write_bpmn(tmp_path, HAND_DRAWN)
    [line] = problems_of(path, max_bytes=100)
    assert "more than the 100 bytes" in line and "--max-bytes" in line


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        bpmn.read(str(tmp_path / "nothing.bpmn"))


def test_too_many_or_too_deep_elements_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bpmn, "MAX_ELEMENTS", 20)
    [line] = problems_of(write_bpmn(tmp_path, HAND_DRAWN))
    assert "more than 20 XML elements" in line
    monkeypatch.setattr(bpmn, "MAX_ELEMENTS", 200_000)
    deep = "<a>" * 300 + "</a>" * 300
    [line] = problems_of(write_bpmn(tmp_path, deep, "deep.bpmn"))
    assert "nested more than 200 deep" in line


def test_the_command_line_prints_each_problem_with_its_place(tmp_path: Path) -> None:
    body = '<process id="p"><startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="x"/></process>'
    path = write_bpmn(tmp_path, body)
    done = CliRunner().invoke(main, ["import", str(path), "-o", str(tmp_path / "m.yaml")])
    assert done.exit_code == EXIT_ERROR
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: error: the sequence flow 'f'", done.output)
    assert not (tmp_path / "m.yaml").exists()


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_give_only_a_clean_error(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "random.bpmn"
    path.write_bytes(data)
    with pytest.raises((ModelError, UsageError)):
        bpmn.read(str(path))


_EXPORTED = bpmn.write(load_model_text(PARALLEL_MODEL, "par.yaml")).decode()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_files_give_a_model_or_a_clean_error(tmp_path_factory: Any, data: Any) -> None:
    lines = _EXPORTED.split("\n")
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        n = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
        how = data.draw(st.sampled_from(["drop", "duplicate", "cut", "swap"]))
        if how == "drop":
            del lines[n]
        elif how == "duplicate":
            lines.insert(n, lines[n])
        elif how == "cut":
            lines[n] = lines[n][: data.draw(st.integers(min_value=0, max_value=len(lines[n])))]
        else:
            m = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[n], lines[m] = lines[m], lines[n]
    path = tmp_path_factory.mktemp("damaged") / "damaged.bpmn"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        draft = bpmn.read(str(path))
    except ModelError:
        return
    write_draft(draft)  # whatever is read is a valid model


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version_1_models())
def test_any_version_1_model_goes_out_and_back(tmp_path_factory: Any, data: dict) -> None:
    model = load_model_text(dump(data), "random.yaml")
    _, again = round_trip(model, tmp_path_factory.mktemp("v1"))
    assert model_data(again) == model_data(model)
    assert signature(again) == signature(model)


@st.composite
def block_models(draw: Any) -> str:
    """A format-1.1 model: a chain of plain steps and parallel blocks (nested once at
    most) to support, start groups, unknown and fractional days, odd words."""
    counter = itertools.count()
    steps: list[dict[str, Any]] = []
    words = st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=12,
    ).filter(lambda s: s.strip() == s and s != "")

    def plain(after: str) -> str:
        sid = f"s{next(counter)}"
        step: dict[str, Any] = {
            "id": sid,
            "name": draw(words),
            "kind": draw(st.sampled_from(["assessment", "planning", "wait", "decision", "review"])),
            "actor": draw(st.sampled_from(["team", "fin", "person"])),
            "next": [{"to": after, **({"when": draw(words)} if draw(st.booleans()) else {})}],
        }
        days = draw(st.sampled_from([None, 0, 3, 2.5, "unknown"]))
        if days is not None:
            step["days"] = days
        if draw(st.booleans()):
            step["next"].insert(0, {"to": sid, "share": 0.25, "rework": True})
        if draw(st.booleans()):
            step["asks"] = draw(st.lists(words, max_size=2, unique=True))
        steps.append(step)
        return sid

    def chain(end: str, depth: int) -> str:
        first = end
        for _ in range(draw(st.integers(min_value=1, max_value=2))):
            if depth < 2 and draw(st.booleans()):
                join = plain(first)
                pid = f"p{next(counter)}"
                branches = [chain(join, depth + 1) for _ in range(draw(st.integers(2, 3)))]
                steps.append(
                    {
                        "id": pid,
                        "name": draw(words),
                        "kind": "parallel",
                        "branches": branches,
                        "join": join,
                    }
                )
                first = pid
            else:
                first = plain(first)
        return first

    steps.append({"id": "support", "name": "Support", "kind": "support"})
    first = chain("support", 0)
    start: Any = first
    if draw(st.booleans()):
        start = [
            {"to": first, "when": "adults", "share": 0.75},
            {"to": first, "when": "young people"},
        ]
    return dump(
        {
            "sdsaudit": 1.1,
            "council": draw(words),
            "title": draw(words),
            "as_of": "2026-04-01",
            "actors": {
                "person": {"name": "The person", "kind": "person"},
                "team": {"name": draw(words), "kind": "council"},
                "fin": {"name": "Finance", "kind": "finance"},
            },
            "start": start,
            "steps": list(reversed(steps)),
        }
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block_models())
def test_any_model_with_parallel_blocks_goes_out_and_back(tmp_path_factory: Any, text: str) -> None:
    model = load_model_text(text, "blocks.yaml")
    _, again = round_trip(model, tmp_path_factory.mktemp("blocks"))
    assert model_data(again) == model_data(model)
    assert signature(again) == signature(model)
