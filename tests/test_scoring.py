"""Scores computed by hand: small models, findings built by hand, the weights file, the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdsaudit.analysis.engine import check_model
from sdsaudit.analysis.findings import BLOCKS, CheckResult, Finding
from sdsaudit.cli import main
from sdsaudit.errors import ConfigError
from sdsaudit.model.loader import load_model, load_model_text
from sdsaudit.scoring.reasons import Scores
from sdsaudit.scoring.scores import ScoreReport, score_model, score_table
from sdsaudit.scoring.weights import load_weights

from .models import shipped_models

ROOT = Path(__file__).resolve().parent.parent
LEAN = ROOT / "process_models" / "lean.yaml"
TRADITIONAL = ROOT / "process_models" / "traditional.yaml"
EXAMPLE = ROOT / "examples" / "exampleshire" / "process.yaml"
DOC = ROOT / "docs" / "scoring.md"

# A two-step model whose every number is chosen to be easy to follow by hand.
TINY = """
sdsaudit: 1
council: Tiny Council
title: Tiny
as_of: 2026-04-01
actors:
  person: {name: The person, kind: person}
  team: {name: Team, kind: council}
  money: {name: Finance, kind: finance}
options: [direct_payment, individual_service_fund, council_managed, mixed]
policies:
  allowed_uses: [personal_assistants, community_activities]
  prepaid_card_default: false
  allocation_method_published: true
  review: {first_days: 56, interval_days: 365}
start: plan
steps:
  - id: plan
    name: Planning
    kind: planning
    actor: team
    person: PERSON
    days: DAYS
    forms: FORMS
    tells: [indicative_budget, options]
    next: [fa]
  - id: fa
    name: Financial assessment
    kind: financial_assessment
    actor: money
    person: consulted
    days: 3
    tells: [contribution]
    next: [support]
  - id: support
    name: Support
    kind: support
    next: [review]
  - id: review
    name: Review
    kind: review
    actor: team
    person: involved
    next: [support]
"""


def tiny(person: str = "leads", days: float = 0, forms: int = 0) -> str:
    return TINY.replace("PERSON", person).replace("DAYS", str(days)).replace("FORMS", str(forms))


def result_for(model, findings=(), metrics=None, notes=()) -> CheckResult:
    return CheckResult(
        path=model.path,
        council=model.council,
        title=model.title,
        as_of=str(model.as_of),
        findings=tuple(findings),
        metrics=dict(metrics or {}),
        notes=tuple(notes),
    )


def finding(
    rule: str,
    steps=(),
    subject=(),
    *,
    blocks=("simple",),
    severity="warning",
    waived=False,
    reason=None,
) -> Finding:
    return Finding(
        rule=rule,
        slug=rule.lower(),
        severity=severity,
        blocks=tuple(blocks),
        steps=tuple(steps),
        message=f"{rule} message",
        subject=tuple(subject),
        waived=waived,
        waiver_reason=reason,
    )


def rebuilds(scores: Scores) -> bool:
    return all(
        sum(r.points for r in scores.reasons if r.block == b) == scores.of(b) for b in BLOCKS
    )


def step(report: ScoreReport, step_id: str):
    return next(s for s in report.steps if s.id == step_id).scores


# --------------------------------------------------------------------------- steps by hand


def test_a_clean_step_scores_100_with_only_its_base():
    model = load_model_text(tiny())
    report = score_model(model, result_for(model))
    plan = step(report, "plan")
    assert (plan.heard, plan.simple, plan.in_control) == (100, 100, 100)
    assert [r.kind for r in plan.reasons] == ["base", "base", "base"]


def test_person_level_forms_and_days_at_a_step_by_hand():
    # planning expects 'leads': 'consulted' is 2 levels short at 12 each = -24;
    # 2 forms at 5 = -10; 9 days at 0.5 = 4.5, rounded down = -4.
    model = load_model_text(tiny(person="consulted", days=9, forms=2))
    plan = step(score_model(model, result_for(model)), "plan")
    assert plan.heard == 100 - 24
    assert plan.simple == 100 - 10 - 4
    assert plan.in_control == 100
    assert rebuilds(plan)
    fields = {r.field: r.points for r in plan.reasons if r.kind != "base"}
    assert fields == {"person": -24, "forms": -10, "days": -4}


def test_a_handoff_arriving_costs_once_and_names_where_it_came_from():
    model = load_model_text(tiny())
    fa = step(score_model(model, result_for(model)), "fa")
    # 3 days = -1; work arrives from 'plan' (team) at 'fa' (finance) = -5
    assert fa.simple == 100 - 1 - 5
    handoff = next(r for r in fa.reasons if r.field == "actor")
    assert "'plan'" in handoff.text and handoff.points == -5


def test_findings_cost_points_at_the_steps_their_mode_chooses():
    model = load_model(str(EXAMPLE))
    findings = [
        finding("SIMPLE-01", ("first_contact", "financial_assessment"), ("contact_details",)),
        finding("AUTH-02", ("sign_off", "panel_review")),  # later: panel_review only
        finding("AUTH-03", ("sign_off", "panel_review")),  # last: panel_review only
        finding("HEARD-03", ("panel_review",), blocks=("heard",)),  # each
        finding("HAND-01", ("assessment", "financial_assessment")),  # none
    ]
    report = score_model(model, result_for(model, findings))
    by_step = {s.id: [r.rule for r in s.scores.reasons if r.rule] for s in report.steps}
    assert by_step["first_contact"] == []
    assert by_step["financial_assessment"] == ["SIMPLE-01"]
    assert by_step["sign_off"] == []
    assert sorted(by_step["panel_review"]) == ["AUTH-02", "AUTH-03", "HEARD-03"]
    assert by_step["assessment"] == []
    panel = step(report, "panel_review")
    # panel_review: absent at an approval (expects consulted): -10; HEARD-03: -20
    assert panel.heard == 100 - 10 - 20
    # 14 days -7, hand-off from sign_off -5, AUTH-02 -10, AUTH-03 -10
    assert panel.simple == 100 - 7 - 5 - 10 - 10


def test_a_finding_about_many_steps_is_named_briefly_at_each_step():
    model = load_model_text(tiny())
    route = ("plan", "fa", "support", "review")
    short = finding("AUTH-02", ("plan", "fa"))
    wide = finding("AUTH-02", route)
    long = Finding("HEARD-01", "x", "warning", ("heard",), ("plan",), "y" * 300)
    report = score_model(model, result_for(model, [short, wide, long]))
    fa = [r for r in step(report, "fa").reasons if r.rule == "AUTH-02"]
    # a finding about 2 steps is quoted, with the steps it names
    assert (fa[0].text, fa[0].steps, fa[0].points) == (
        "AUTH-02 message (AUTH-02)",
        ("plan", "fa"),
        -10,
    )
    # one about 4 steps costs the same at each, but is named by its rule's title only
    brief = (
        "More approvals on a route than the council's target (AUTH-02; one finding about "
        "4 steps, given in full once with the findings)"
    )
    for step_id in route[1:]:
        line = [r for r in step(report, step_id).reasons if r.rule == "AUTH-02"][-1]
        assert (line.text, line.steps, line.points) == (brief, (step_id,), -10)
    # a message too long to repeat, even about one step, is named briefly too
    heard = next(r for r in step(report, "plan").reasons if r.rule == "HEARD-01")
    assert heard.text.startswith("The person is absent or only informed at a step about them")
    assert "yyy" not in heard.text and heard.points == -15
    assert all(rebuilds(s.scores) for s in report.steps)


def test_a_message_is_repeated_only_at_the_one_step_it_costs_points_at():
    model = load_model_text(tiny())
    loop = finding("STRUCT-04", ("plan", "fa"))  # 'each': costs points at both steps
    report = score_model(model, result_for(model, [loop]))
    for step_id in ("plan", "fa"):
        line = next(r for r in step(report, step_id).reasons if r.rule == "STRUCT-04")
        assert line.text == (
            "A loop back to earlier work that is not marked as rework (STRUCT-04; one finding "
            "about 2 steps, given in full once with the findings)"
        )
        assert line.points == -10
    # the message itself is stated once, in the overall lines
    assert [r.text for r in report.overall.reasons if r.rule == "STRUCT-04"] == [
        "STRUCT-04 message (STRUCT-04)"
    ]


def test_a_waived_finding_named_briefly_still_says_it_is_waived():
    model = load_model_text(tiny())
    wide = finding("AUTH-02", ("plan", "fa", "support", "review"), waived=True, reason="r" * 400)
    report = score_model(model, result_for(model, [wide]))
    line = next(r for r in step(report, "fa").reasons if r.rule == "AUTH-02")
    assert line.text.endswith("given in full once with the findings); waived; still counted")
    assert line.waived and line.points == -10 and "rrr" not in line.text


def test_hand_offs_from_many_steps_name_three_of_them():
    text = tiny().replace("    next: [fa]\n", "    next: [a1, a2, a3, a4]\n")
    for n in range(1, 5):
        text += f"  - {{id: a{n}, name: Aside {n}, kind: information, actor: team, next: [fa]}}\n"
    model = load_model_text(text)
    fa = step(score_model(model, result_for(model)), "fa")
    handoff = next(r for r in fa.reasons if r.field == "actor")
    assert handoff.text == "work arrives here from another team (from 'a1', 'a2', 'a3' and 1 more)"
    assert handoff.steps == ("fa", "a1", "a2", "a3") and handoff.points == -5


def test_a_rule_without_weights_costs_by_severity_on_its_own_blocks():
    model = load_model_text(tiny())
    new = finding("NEW-01", ("fa",), blocks=("heard", "in_control"), severity="error")
    report = score_model(model, result_for(model, [new]))
    fa = step(report, "fa")
    assert (fa.heard, fa.in_control) == (90, 90)
    assert report.overall.heard == 90 and report.overall.in_control == 90


def test_scores_never_go_below_zero_and_the_floor_is_a_reason():
    model = load_model_text(tiny(person="absent", days=200, forms=10))
    report = score_model(model, result_for(model))
    plan = step(report, "plan")
    assert plan.simple == 0 and plan.heard == 52  # 4 levels short x 12
    floor = [r for r in plan.reasons if r.kind == "floor"]
    # forms 10 x 5 = -50 and days 200 x 0.5 = -100 take 150 off: 50 is given back
    assert len(floor) == 1 and floor[0].points == 50
    assert rebuilds(plan)


# --------------------------------------------------------------------------- overall by hand


def test_overall_by_hand_with_caps_figures_and_a_waived_finding():
    model = load_model_text(tiny(person="involved"))
    findings = [
        finding("HEARD-02", blocks=("heard", "in_control"), severity="info"),
        finding(
            "CONTROL-01",
            subject=("individual_service_fund", "direct_payment"),
            blocks=("in_control",),
        ),
        *[finding("SIMPLE-01", ("plan", "fa"), (f"topic{i}",)) for i in range(7)],
        finding(
            "CONTROL-02",
            subject=("no PAs",),
            blocks=("in_control",),
            waived=True,
            reason="going in April",
        ),
    ]
    metrics = {
        "expected_days_to_support": 40,
        "handoffs_max": 5,
        "approvals_max": None,
        "forms_max": 2,
        "assessments_max": 0,
        "share_withdrawing": 0.05,
    }
    report = score_model(model, result_for(model, findings, metrics))
    # heard: planning lowest 'involved' (1 level short x 6) = -6; HEARD-02 -10
    assert report.overall.heard == 100 - 6 - 10
    # simple: SIMPLE-01 7 x 2 = 14, capped at 10; days 12 over x 0.5 = -6;
    # hand-offs 2 over x 4 = -8; approvals cannot be worked out: its most, -20;
    # 5 percentage points give up x 0.5 = 2.5 -> -2
    assert report.overall.simple == 100 - 10 - 6 - 8 - 20 - 2
    # in control: HEARD-02 -15; CONTROL-01 2 x 8 + 12 (no direct payment) = -28;
    # the waived restriction still counts: -8
    assert report.overall.in_control == 100 - 15 - 28 - 8
    assert rebuilds(report.overall)
    cap = [r for r in report.overall.reasons if r.kind == "cap"]
    assert [(c.rule, c.points) for c in cap] == [("SIMPLE-01", 4)]
    waived = [r for r in report.overall.reasons if r.waived]
    assert len(waived) == 1 and "going in April" in waived[0].text


def test_waived_findings_can_be_left_out_by_the_weights(tmp_path):
    text = (ROOT / "criteria" / "weights.yaml").read_text(encoding="utf-8")
    path = tmp_path / "weights.yaml"
    path.write_text(text.replace("  count: true", "  count: false"), encoding="utf-8")
    weights = load_weights(path)
    model = load_model_text(tiny())
    waived = finding("CONTROL-02", ("plan",), ("x",), blocks=("in_control",), waived=True)
    report = score_model(model, result_for(model, [waived]), weights)
    assert report.overall.in_control == 100 and step(report, "plan").in_control == 100
    assert any(r.waived and r.points == 0 for r in report.overall.reasons)


def test_a_policy_not_stated_is_scored_as_its_worst_case():
    text = tiny().replace(
        "options: [direct_payment, individual_service_fund, council_managed, mixed]\n", ""
    )
    text = text.replace("  prepaid_card_default: false\n", "")
    model = load_model_text(text)
    report = score_model(model, result_for(model))
    # options: 4 x 8 + 12 = 44; prepaid card default: 10
    assert report.overall.in_control == 100 - 44 - 10
    kinds = {r.field for r in report.overall.reasons if r.kind == "not_stated"}
    assert kinds == {"options", "policies.prepaid_card_default"}


def test_review_and_allocation_policies_not_stated_are_scored_as_their_worst_case():
    stated = load_model_text(tiny())
    text = (
        tiny()
        .replace("  allocation_method_published: true\n", "")
        .replace("  review: {first_days: 56, interval_days: 365}\n", "")
    )
    model = load_model_text(text)
    report = score_model(model, check_model(model))
    fields = {r.field for r in report.overall.reasons if r.kind == "not_stated"}
    assert fields == {
        "policies.allocation_method_published",
        "policies.review.first_days",
        "policies.review.interval_days",
        "policies.dp_review.first_days",
    }
    # each line names the keys of the model format that would state the policy
    seq09 = {r.text for r in report.overall.reasons if r.rule == "SEQ-09"}
    assert seq09 and all(
        "(SEQ-09; 'policies: dp_review: first_days' or 'policies: review: first_days' not given)"
        in text
        and "dp_first_review_days" not in text
        for text in seq09
    )
    late = load_model_text(
        tiny()
        .replace("allocation_method_published: true", "allocation_method_published: false")
        .replace("first_days: 56, interval_days: 365", "first_days: 400, interval_days: 900")
    )
    for block in ("heard", "simple", "in_control"):
        unstated = getattr(report.overall, block)
        stated_late = getattr(score_model(late, check_model(late)).overall, block)
        stated_well = getattr(score_model(stated, check_model(stated)).overall, block)
        # leaving the policies out never pays, and costs what the worst policy costs
        assert unstated <= stated_late <= stated_well
        assert unstated == stated_late


def test_a_figure_not_reported_is_left_out_and_one_within_target_costs_nothing():
    model = load_model_text(tiny())
    report = score_model(model, result_for(model, metrics={"handoffs_max": 3}))
    assert report.overall.simple == 100


def test_targets_in_the_model_set_the_figures_thresholds():
    model = load_model_text(tiny() + "targets: {max_days_to_support: 50}\n")
    report = score_model(model, result_for(model, metrics={"expected_days_to_support": 60}))
    assert report.overall.simple == 95  # 10 days over 50, x 0.5


# --------------------------------------------------------------------------- the real engine


def scored(path: Path) -> ScoreReport:
    model = load_model(str(path))
    return score_model(model, check_model(model))


def test_lean_scores_above_traditional_on_every_block():
    lean, traditional = scored(LEAN).overall, scored(TRADITIONAL).overall
    for block in BLOCKS:
        assert lean.of(block) > traditional.of(block), block
    assert min(lean.heard, lean.simple, lean.in_control) >= 90
    assert max(traditional.heard, traditional.simple, traditional.in_control) <= 30


def test_lean_beats_traditional_step_for_step_at_planning_and_approval():
    lean, traditional = scored(LEAN), scored(TRADITIONAL)
    assert step(lean, "planning").heard > step(traditional, "planning").heard
    assert step(lean, "sign_off").simple > step(traditional, "funding_panel").simple


def test_exampleshire_by_hand():
    report = scored(EXAMPLE)
    panel = step(report, "panel_review")
    # absent at an approval (-10), HEARD-03 (-20)
    assert panel.heard == 70
    # 14 days -7; hand-off -5; AUTH-02 (later) -10; AUTH-03 (last) -10; SEQ-04 -10
    assert panel.simple == 58
    # overall in control: the waived approved-list restriction still counts (-8);
    # SEQ-04 on two approvals is capped at 5; the panel can send the plan back (AUTH-05, -10)
    assert report.overall.in_control == 100 - 8 - 5 - 10
    # heard: AUTH-05 -5
    assert report.overall.as_dict() == {"heard": 74, "simple": 41, "in_control": 77}


@pytest.mark.parametrize("path", shipped_models(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_model_rebuilds_from_its_reasons(path):
    report = scored(path)
    for scores in [report.overall, *(s.scores for s in report.steps)]:
        assert rebuilds(scores)
        assert all(0 <= scores.of(b) <= 100 for b in BLOCKS)
        assert all(isinstance(r.points, int) for r in scores.reasons)
    assert json.dumps(report.as_dict()) == json.dumps(scored(path).as_dict())


# --------------------------------------------------------------------------- the worked example


def doc_example() -> tuple[str, dict[str, tuple[int, int, int]]]:
    text = DOC.read_text(encoding="utf-8")
    model = re.search(r"<!-- example-model -->\n```yaml\n(.*?)```", text, re.S)
    table = re.search(r"<!-- example-scores -->\n(.*?)<!-- end-example-scores -->", text, re.S)
    assert model and table
    rows = {}
    for line in table.group(1).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = tuple(int(c) for c in cells[1:])
    return model.group(1), rows


def test_the_worked_example_in_the_docs_matches_the_code():
    text, rows = doc_example()
    model = load_model_text(text, "smallton.yaml")
    report = score_model(model, check_model(model))
    got = {s.id: (s.scores.heard, s.scores.simple, s.scores.in_control) for s in report.steps}
    got["overall"] = (report.overall.heard, report.overall.simple, report.overall.in_control)
    assert got == rows
    fired = sorted({f.rule for f in check_model(model).findings})
    assert fired == [
        "CONTROL-01",
        "CONTROL-02",
        "CONTROL-03",
        "HEARD-02",
        "SEQ-03",
        "SEQ-04",
        "SIMPLE-01",
        "SIMPLE-02",
    ]


# --------------------------------------------------------------------------- weights file


def test_the_shipped_weights_are_complete():
    weights = load_weights()
    from sdsaudit.model.catalogue import load_catalogue

    catalogue = load_catalogue()
    assert set(weights.findings) == set(catalogue.ids)
    for rule in catalogue.rules:
        w = weights.findings[rule.id]
        used = set(w.step) | set(w.overall)
        assert used <= set(rule.blocks), f"{rule.id} scores a block it does not bear on"
        assert w.reason


def test_a_bad_weights_file_reports_every_problem_with_its_line(tmp_path):
    text = (ROOT / "criteria" / "weights.yaml").read_text(encoding="utf-8")
    text = text.replace("points_per_form: 5", "points_per_form: five")
    text = text.replace("default_finding:\n  at: each", "default_finding:\n  at: final")
    text = text.replace("  points: 100\n", "  points: 100\n  colour: red\n")
    path = tmp_path / "weights.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_weights(path)
    messages = [p.message for p in caught.value.problems]
    assert any("'points_per_form' should be a whole number" in m for m in messages)
    assert any("'final' is not a known 'at' mode" in m for m in messages)
    assert any("unknown key 'colour'" in m for m in messages)
    assert all(p.line for p in caught.value.problems)


# --------------------------------------------------------------------------- output


def test_json_has_the_cli_shape_and_reasons_rebuild_every_number():
    result = CliRunner().invoke(main, ["score", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["overall"]) == {"heard", "simple", "in_control"}
    for block in BLOCKS:
        assert (
            sum(r["points"] for r in data["overall_reasons"] if r["block"] == block)
            == data["overall"][block]
        )
    for row in data["steps"]:
        assert {"id", "heard", "simple", "in_control", "reasons"} <= set(row)
        for block in BLOCKS:
            assert sum(r["points"] for r in row["reasons"] if r["block"] == block) == row[block]
    assert [t["theme"] for t in data["themes"]] == [
        "MIR-WELLBEING",
        "MIR-INFO",
        "MIR-COMMUNITY",
        "MIR-FLEXIBLE",
        "MIR-CHANGE",
        "MIR-WORKFORCE",
    ]
    for theme in data["themes"]:
        assert theme["status"] in ("met", "partly met", "not met", "not assessed")
        assert isinstance(theme["rules"], list)


def test_text_is_a_table_with_reasons_beneath_each_step():
    result = CliRunner().invoke(main, ["score", str(EXAMPLE)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("step"))
    assert lines[header].split() == ["step", "heard", "simple", "in", "control"]
    panel = next(i for i, line in enumerate(lines) if line.startswith("panel_review "))
    assert lines[panel].split()[1:] == ["70", "58", "100"]
    assert "HEARD-03" in lines[panel + 2]
    assert any(line.startswith("overall ") for line in lines)
    assert "Making it Real (2018) themes" in result.output
    assert result.output == score_table(scored(EXAMPLE))


def test_score_errors_are_lines_not_tracebacks(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sdsaudit: 1\ncouncil: X\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["score", str(bad)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(main, ["score", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
