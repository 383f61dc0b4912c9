"""The engine: labels from the catalogue, lines, waivers, stale waivers, rule errors,
not-assessable notes, ordering, exit codes; the worked example in full."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sdsaudit import load_model
from sdsaudit.analysis.engine import check_model, exit_code
from sdsaudit.analysis.findings import Issue
from sdsaudit.analysis.rules import RULES

from .models import ROOT, shipped_models
from .rules.helpers import build_model

EXAMPLE = "examples/exampleshire/process.yaml"


@pytest.fixture(autouse=True)
def _at_the_top_of_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Model paths in these tests (and in the output they check) are relative to the root."""
    monkeypatch.chdir(ROOT)


# Every finding on the worked example, checked by hand against docs/rules.md:
EXAMPLE_FINDINGS = {
    # both approve support_plan and final_budget; only `planning` produces them, and
    # panel_review follows sign_off directly
    ("AUTH-03", ("sign_off", "panel_review")),
    # the contribution is told only at financial_assessment, after both approvals
    ("SEQ-04", ("sign_off",)),
    ("SEQ-04", ("panel_review",)),
    # the approved-list restriction (waived in the model)
    ("CONTROL-02", ()),
    # route via panel_review: 2 approvals > target 1
    ("AUTH-02", ("sign_off", "panel_review")),
    # same route: front_door->locality, locality->panel, panel->finance, finance->locality
    ("HAND-01", ("assessment", "panel_review", "financial_assessment", "arrange")),
    # locality (sign_off) -> finance (financial_assessment) -> locality (arrange)
    ("HAND-02", ("sign_off", "financial_assessment", "arrange")),
    # what_matters asked at first contact and assessment; contact_details at first
    # contact and financial assessment
    ("SIMPLE-01", ("first_contact", "assessment")),
    ("SIMPLE-01", ("first_contact", "financial_assessment")),
    # 83.9 days expected > 28
    ("SIMPLE-02", ()),
    # 1 + 2 forms on every route > 2
    ("SIMPLE-03", ("assessment", "financial_assessment")),
    # the funding panel decides with the person absent (the default)
    ("HEARD-03", ("panel_review",)),
    # the funding panel can send the plan back to planning ("plan sent back", rework)
    ("AUTH-05", ("panel_review", "planning")),
}


def test_worked_example_gives_exactly_the_expected_findings() -> None:
    result = check_model(load_model(EXAMPLE))
    assert {(f.rule, f.steps) for f in result.findings} == EXAMPLE_FINDINGS
    assert len(result.findings) == len(EXAMPLE_FINDINGS)
    waived = [f for f in result.findings if f.waived]
    assert [f.rule for f in waived] == ["CONTROL-02"]
    assert waived[0].waiver_reason.startswith("Approved-list rule is being withdrawn")
    auth03 = next(f for f in result.findings if f.rule == "AUTH-03")
    assert auth03.subject == ("support_plan", "final_budget")
    assert auth03.line == 88 and auth03.severity == "warning"
    assert auth03.slug == "redundant-approval"
    assert '"sign_off" and "panel_review" both approve the support plan' in auth03.message
    # the panel's days are marked assumed: the time rests on them, the sign-offs do not
    slow = next(f for f in result.findings if f.rule == "SIMPLE-02")
    assert [a.as_dict() for a in slow.assumptions] == [{"step": "panel_review", "fields": ["days"]}]
    assert not auth03.assumptions
    # every rule can be assessed (no dp_review: direct payments follow the plan review)
    assert result.notes == ()
    assert result.metrics == {
        "steps": 12,
        "approvals_max": 2,
        "handoffs_max": 4,
        "forms_max": 3,
        "assessments_max": 1,
        "expected_days_to_support": 83.9,
        "worst_days_to_support": 96,
        "share_reaching_support": 0.85,
        "share_withdrawing": 0.0,
    }
    assert exit_code([result], "error") == 0
    assert exit_code([result], "warning") == 1


def test_output_is_deterministic() -> None:
    model = load_model(EXAMPLE)
    assert check_model(model).as_dict() == check_model(model).as_dict()


STEPS = [
    {
        "id": "s1",
        "name": "Contact",
        "kind": "contact",
        "actor": "a",
        "asks": ["gp"],
        "next": ["s2"],
    },
    {
        "id": "s2",
        "name": "Assessment",
        "kind": "assessment",
        "actor": "a",
        "person": "consulted",
        "asks": ["gp"],
        "next": ["support"],
    },
    {"id": "support", "name": "Support", "kind": "support", "next": ["review"]},
    {
        "id": "review",
        "name": "Review",
        "kind": "review",
        "actor": "a",
        "person": "involved",
        "next": ["support"],
    },
]


def _check(waivers=None, **kwargs):
    top = {"waivers": waivers} if waivers else None
    return check_model(build_model(STEPS, top), **kwargs)


def test_waiver_with_a_step_waives_only_findings_naming_that_step() -> None:
    result = _check(
        [{"rule": "SIMPLE-01", "step": "s2", "reason": "GP asked to confirm"}], select=["SIMPLE-01"]
    )
    (finding,) = result.findings
    assert finding.waived and finding.waiver_reason == "GP asked to confirm"
    assert exit_code([result], "info") == 0


def test_stale_waiver_is_a_finding_and_no_waivers_shows_everything() -> None:
    waivers = [
        {"rule": "SIMPLE-01", "reason": "known"},
        {"rule": "SEQ-04", "reason": "no longer true"},
        {"rule": "HEARD-01", "step": "s1", "reason": "wrong step"},
    ]
    result = _check(waivers, select=["SIMPLE-01", "SEQ-04", "HEARD-01", "WAIVER-01"])
    stale = [f for f in result.findings if f.rule == "WAIVER-01"]
    assert [(f.steps, f.subject) for f in stale] == [
        ((), ("SEQ-04",)),
        (("s1",), ("HEARD-01", "s1")),
    ]
    assert stale[0].line and stale[0].severity == "warning" and not stale[0].waived
    assert exit_code([result], "warning") == 1
    plain = _check(
        waivers, select=["SIMPLE-01", "SEQ-04", "HEARD-01", "WAIVER-01"], use_waivers=False
    )
    assert not any(f.waived for f in plain.findings)
    assert {f.rule for f in plain.findings} == {"SIMPLE-01", "WAIVER-01"}


def test_waiver_of_an_unselected_rule_is_not_stale() -> None:
    result = _check([{"rule": "SEQ-04", "reason": "x"}], select=["SIMPLE-01", "WAIVER-01"])
    assert {f.rule for f in result.findings} == {"SIMPLE-01"}


def test_a_stale_waiver_can_itself_be_waived() -> None:
    waivers = [
        {"rule": "SEQ-04", "reason": "kept for next year"},
        {"rule": "WAIVER-01", "reason": "we know"},
    ]
    result = _check(waivers, select=["SEQ-04", "WAIVER-01"])
    assert [(f.rule, f.waived) for f in result.findings] == [("WAIVER-01", True)]


def test_a_crashing_rule_becomes_a_rule_error_and_the_run_goes_on() -> None:
    def broken(ctx, opts) -> Iterator[Issue]:
        yield Issue(("s1",), "first")
        raise ZeroDivisionError("boom")

    registry = {**RULES, "SEQ-01": broken}
    result = _check(registry=registry)
    assert [(n.rule, n.kind) for n in result.rule_errors] == [("SEQ-01", "rule_error")]
    assert "ZeroDivisionError: boom" in result.rule_errors[0].message
    assert "SEQ-01" not in {f.rule for f in result.findings}
    assert "SIMPLE-01" in {f.rule for f in result.findings}
    assert exit_code([result], "never") == 2


def test_the_engine_stamps_labels_a_rule_cannot_choose() -> None:
    def sneaky(ctx, opts):
        yield Issue(("s2",), "I am an error, honestly")

    result = _check(registry={**RULES, "HEARD-02": sneaky}, select=["HEARD-02"])
    (finding,) = result.findings
    assert (finding.rule, finding.slug, finding.severity, finding.blocks) == (
        "HEARD-02",
        "no-self-planning",
        "info",
        ("heard", "in_control"),
    )
    assert finding.line == build_model(STEPS).step("s2").pos.line


def test_not_assessable_is_a_note_not_a_pass() -> None:
    result = _check(select=["CONTROL"])
    kinds = {(n.rule, n.kind) for n in result.notes}
    assert kinds == {
        ("CONTROL-01", "not_assessable"),
        ("CONTROL-03", "not_assessable"),
        ("CONTROL-04", "not_assessable"),
        ("CONTROL-05", "not_assessable"),
    }
    assert result.as_dict()["not_assessed"][0]["rule"] == "CONTROL-01"


def test_exit_code_thresholds() -> None:
    result = _check(select=["SIMPLE-01"])  # one warning
    assert exit_code([result], "error") == 0
    assert exit_code([result], "warning") == 1
    assert exit_code([result], "info") == 1
    assert exit_code([result], "never") == 0
    with pytest.raises(ValueError):
        exit_code([result], "sometimes")


@pytest.mark.parametrize("path", shipped_models(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_shipped_model_checks_without_rule_errors(path) -> None:
    model = load_model(str(path))
    result = check_model(model)
    assert not result.rule_errors
    keys = [
        "steps",
        "approvals_max",
        "handoffs_max",
        "forms_max",
        "assessments_max",
        "expected_days_to_support",
        "worst_days_to_support",
        "share_reaching_support",
        "share_withdrawing",
    ]
    # format 1.1 adds lower bounds where a time is unknown, and each group's figures
    if any(s.days_unknown for s in model.steps) and result.metrics.get("days_unknown"):
        keys += [
            "expected_days_to_support_at_least",
            "worst_days_to_support_at_least",
            "days_unknown",
        ]
    if model.grouped:
        keys.append("groups")
    assert list(result.metrics) == keys
    assert result.as_dict() == check_model(model).as_dict()


def test_models_built_in_code_with_broken_references_do_not_crash_rules() -> None:
    from dataclasses import replace

    from sdsaudit.model.objects import Transition

    model = build_model(STEPS)
    odd_steps = tuple(
        replace(s, next=s.next + (Transition("ghost"),), actor="nobody") if s.id == "s2" else s
        for s in model.steps
    )
    odd = replace(model, start="nowhere", steps=odd_steps)
    result = check_model(odd)
    assert not result.rule_errors
    unreachable = {f.steps for f in result.findings if f.rule == "STRUCT-01"}
    assert unreachable == {("s1",), ("s2",), ("support",), ("review",)}
    assert result.metrics["share_reaching_support"] == 0.0
    assert result.metrics["approvals_max"] is None
