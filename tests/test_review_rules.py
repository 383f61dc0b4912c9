"""The review and budget-transparency rules (SEQ-07, SEQ-08, SEQ-09, CONTROL-05) on the
shipped models, their options, where their findings point, what they cost, and the
redesign changes that fix them. Their pass / fail / not-assessable cases are data in
tests/rules/cases/."""

from __future__ import annotations

import pytest

from sdsaudit import load_model
from sdsaudit.analysis.engine import check_model
from sdsaudit.analysis.graph import Context
from sdsaudit.analysis.rules import RULES
from sdsaudit.model.loader import load_model_text
from sdsaudit.scoring.scores import score_model
from sdsaudit.stocktake.redesign import propose

from .models import ROOT
from .rules.helpers import model_text

NEW = ["SEQ-07", "SEQ-08", "SEQ-09", "CONTROL-05"]
# A process that is clean apart from the policies each test gives it.
STEPS = [
    {
        "id": "s1",
        "name": "Contact",
        "kind": "contact",
        "days": 0,
        "actor": "a",
        "person": "consulted",
        "tells": ["options", "indicative_budget", "contribution"],
        "next": ["plan"],
    },
    {
        "id": "plan",
        "name": "Planning",
        "kind": "planning",
        "days": 0,
        "actor": "person",
        "person": "leads",
        "next": ["support"],
    },
    {"id": "support", "name": "Support", "kind": "support", "next": ["review"]},
    {
        "id": "review",
        "name": "Review",
        "kind": "review",
        "days": 0,
        "actor": "a",
        "person": "involved",
        "next": ["support"],
    },
]


def _policies(**policies: object) -> str:
    stated = {
        "allowed_uses": ["personal_assistants", "community_activities"],
        "prepaid_card_default": False,
        **policies,
    }
    return model_text(
        STEPS,
        {
            "options": ["direct_payment", "individual_service_fund", "council_managed", "mixed"],
            "policies": stated,
        },
    )


def _check(path: str):
    return check_model(load_model(str(ROOT / path)), select=NEW)


def _found(result) -> set[tuple[str, tuple[str, ...]]]:
    return {(f.rule, f.subject) for f in result.findings}


def test_the_worked_example_passes_its_review_policy_and_direct_payments_follow_it():
    result = _check("examples/exampleshire/process.yaml")
    assert not result.findings  # review: {first_days: 56, interval_days: 365}, published
    assert not result.notes  # no dp_review: direct payments are reviewed with the plan


def test_direct_payments_without_their_own_review_follow_the_plan_review():
    late = load_model_text(
        _policies(
            review={"first_days": 200, "interval_days": 365}, allocation_method_published=True
        )
    )
    found = _found(check_model(late, select=NEW))
    assert ("SEQ-09", ("dp_review",)) in found and ("SEQ-07", ("review",)) in found
    own = load_model_text(
        _policies(
            review={"first_days": 200, "interval_days": 365},
            dp_review={"first_days": 90, "interval_days": 365},
            allocation_method_published=True,
        )
    )
    assert ("SEQ-09", ("dp_review",)) not in _found(check_model(own, select=NEW))


def test_lean_is_clean_and_every_new_rule_is_assessed():
    result = _check("process_models/lean.yaml")
    assert not result.findings and not result.notes


def test_traditional_reviews_first_after_a_year_and_keeps_its_method_private():
    result = _check("process_models/traditional.yaml")
    assert _found(result) == {("SEQ-07", ("review",)), ("CONTROL-05", ())}
    late = next(f for f in result.findings if f.rule == "SEQ-07")
    lines = (ROOT / "process_models/traditional.yaml").read_text().splitlines()
    assert lines[late.line - 1].lstrip().startswith("review: {first_days: 365")
    assert "365 days after support starts" in late.message and "56 days" in late.message


def test_thresholds_are_options():
    model = load_model_text(
        _policies(review={"first_days": 90, "interval_days": 400}, dp_review={"first_days": 200})
    )
    ctx = Context(model)
    assert list(RULES["SEQ-07"](ctx, {"max_first_review_days": 90})) == []
    assert len(list(RULES["SEQ-07"](ctx, {"max_first_review_days": 89}))) == 1
    assert list(RULES["SEQ-08"](ctx, {"max_review_interval_days": 400})) == []
    assert list(RULES["SEQ-09"](ctx, {"max_dp_first_review_days": 200})) == []
    assert len(list(RULES["SEQ-09"](ctx, {"max_dp_first_review_days": 183}))) == 1


def _overall(text: str) -> dict[str, int]:
    model = load_model_text(text)
    return score_model(model, check_model(model)).overall.as_dict()


def test_what_each_finding_costs_overall():
    good = _overall(
        _policies(
            review={"first_days": 56, "interval_days": 365},
            dp_review={"first_days": 56, "interval_days": 365},
            allocation_method_published=True,
        )
    )
    bad = _overall(
        _policies(
            review={"first_days": 90, "interval_days": 730},
            dp_review={"first_days": 270, "interval_days": 730},
            allocation_method_published=False,
        )
    )
    # SEQ-07 heard 5, in control 2; SEQ-08 twice, heard 3 and in control 2 each;
    # SEQ-09 in control 5; CONTROL-05 in control 5, simple 3
    assert good["heard"] - bad["heard"] == 5 + 2 * 3
    assert good["in_control"] - bad["in_control"] == 2 + 2 * 2 + 5 + 5
    assert good["simple"] - bad["simple"] == 3


@pytest.mark.parametrize(
    "fixed",
    [
        {"review": {"first_days": 56, "interval_days": 730}},
        {"review": {"first_days": 90, "interval_days": 365}},
        {"dp_review": {"first_days": 183, "interval_days": 730}},
        {"allocation_method_published": True},
    ],
)
def test_fixing_one_policy_never_lowers_a_score(fixed):
    late = {
        "review": {"first_days": 90, "interval_days": 730},
        "dp_review": {"first_days": 270, "interval_days": 730},
        "allocation_method_published": False,
    }
    before, after = _overall(_policies(**late)), _overall(_policies(**{**late, **fixed}))
    assert all(after[b] >= before[b] for b in before)
    assert after != before


def test_redesign_sets_each_policy_to_its_target_and_aligns_the_direct_payment_review():
    text = _policies(
        review={"first_days": 42, "interval_days": 730},
        dp_review={"first_days": 270, "interval_days": 500},
        allocation_method_published=False,
    )
    proposal = propose(text)
    assert proposal is not None
    assert set(proposal.fixed) == {"SEQ-08", "SEQ-09", "CONTROL-05"}  # 42 days is in time
    assert not proposal.scenario.result.findings
    policies = proposal.scenario.to_be.model.policies
    assert (policies.review.first_days, policies.review.interval_days) == (42, 365)
    # within six months and on the day of the first plan review
    assert (policies.dp_review.first_days, policies.dp_review.interval_days) == (42, 365)
    assert policies.allocation_method_published is True
    assert all(c.op == "set_policy" and c.reason for c in proposal.patch.changes)


def test_redesign_puts_a_late_direct_payment_review_at_the_target_without_an_early_plan_review():
    proposal = propose(_policies(dp_review={"first_days": 300, "interval_days": 365}))
    assert proposal is not None and proposal.fixed == ("SEQ-09",)
    assert proposal.scenario.to_be.model.policies.dp_review.first_days == 183
