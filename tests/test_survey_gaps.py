"""Gap rules: each firing and not firing, not assessable when hidden, and the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdsaudit.model import datafile as D
from sdsaudit.model.catalogue import GAP_FILE, load_catalogue, theme_ids
from sdsaudit.model.loader import load_model, load_model_text
from sdsaudit.survey.gaps import GAP_RULES, check_gaps, load_gap_catalogue, load_thresholds
from sdsaudit.survey.spec import load_spec
from sdsaudit.survey.statistics import wilson_interval
from sdsaudit.survey.summary import Count, Estimate, Indicator, SurveySummary

ROOT = Path(__file__).resolve().parent.parent
EXAMPLESHIRE = ROOT / "examples" / "exampleshire" / "process.yaml"
LEAN = ROOT / "process_models" / "lean.yaml"
TRADITIONAL = ROOT / "process_models" / "traditional.yaml"
SPEC = load_spec()


def summary_with(**figures) -> SurveySummary:
    """A survey summary where every indicator is 150 of 300 unless given: (count, total),
    or "small" for a figure hidden because too few answered."""
    indicators = []
    for ind in SPEC.indicators:
        figure = figures.get(ind.id, (150, 300))
        if figure == "small":
            est = Estimate("small")
        else:
            count, total = figure
            est = Estimate("shown", count, total, count / total, *wilson_interval(count, total))
        indicators.append(Indicator(ind.id, ind.block, ind.label, ind.definition, est))
    return SurveySummary(
        source="t.csv",
        respondents=Count("shown", 300),
        min_group=10,
        councils=(("Exampleshire County Council", Count("shown", 300)),),
        years=(),
        indicators=tuple(indicators),
        breakdowns=(),
        ease=(),
        outcomes=(),
        answers=(),
        odds=(),
        national=(),
    )


def status(model_path: Path, rule: str, **figures) -> str:
    result = check_gaps(load_model(str(model_path)), summary_with(**figures))
    return next(c.status for c in result.checks if c.rule == rule)


# (rule, model that makes the claim, indicator, clearly wrong, clearly fine, borderline)
CASES = [
    ("GAP-01", EXAMPLESHIRE, "knew_amount", (150, 300), (200, 300), (170, 300)),
    ("GAP-02", EXAMPLESHIRE, "views_planning_fully", (120, 300), (200, 300), (140, 300)),
    ("GAP-03", EXAMPLESHIRE, "council_managed", (270, 300), (150, 300), (250, 300)),
    ("GAP-04", EXAMPLESHIRE, "easy_ease_information", (100, 300), (200, 300), (140, 300)),
    ("GAP-05", LEAN, "easy_ease_agreeing_plan", (100, 300), (200, 300), (140, 300)),
    ("GAP-06", EXAMPLESHIRE, "spend_pa_or_community", (30, 300), (100, 300), (50, 300)),
]


@pytest.mark.parametrize("rule,model,indicator,wrong,fine,borderline", CASES)
def test_gap_rule_fires_when_the_whole_interval_is_on_the_wrong_side(
    rule, model, indicator, wrong, fine, borderline
):
    result = check_gaps(load_model(str(model)), summary_with(**{indicator: wrong}))
    findings = [f for f in result.findings if f.rule == rule]
    assert len(findings) == 1
    info = load_gap_catalogue().get(rule)
    assert (findings[0].severity, findings[0].slug, findings[0].blocks) == (
        info.severity,
        info.slug,
        info.blocks,
    )
    assert findings[0].path == str(model)
    assert findings[0].subject == (indicator,)
    assert "95% interval" in findings[0].message
    assert next(c for c in result.checks if c.rule == rule).status == "gap"


@pytest.mark.parametrize("rule,model,indicator,wrong,fine,borderline", CASES)
def test_gap_rule_does_not_fire_when_the_survey_agrees(
    rule, model, indicator, wrong, fine, borderline
):
    result = check_gaps(load_model(str(model)), summary_with(**{indicator: fine}))
    assert [f for f in result.findings if f.rule == rule] == []
    assert status(model, rule, **{indicator: fine}) == "consistent"


@pytest.mark.parametrize("rule,model,indicator,wrong,fine,borderline", CASES)
def test_gap_rule_does_not_fire_when_the_interval_reaches_the_threshold(
    rule, model, indicator, wrong, fine, borderline
):
    result = check_gaps(load_model(str(model)), summary_with(**{indicator: borderline}))
    assert [f for f in result.findings if f.rule == rule] == []
    assert status(model, rule, **{indicator: borderline}) == "unclear"


@pytest.mark.parametrize("rule,model,indicator,wrong,fine,borderline", CASES)
def test_gap_rule_is_not_assessable_when_the_figure_is_suppressed(
    rule, model, indicator, wrong, fine, borderline
):
    result = check_gaps(load_model(str(model)), summary_with(**{indicator: "small"}))
    assert [f for f in result.findings if f.rule == rule] == []
    (note,) = [n for n in result.notes if n.rule == rule]
    assert note.kind == "not_assessable" and "too few respondents" in note.message
    assert status(model, rule, **{indicator: "small"}) == "not assessable"


@pytest.mark.parametrize("rule,model,indicator,wrong,fine,borderline", CASES)
def test_gap_rule_does_not_fire_without_the_claim(rule, model, indicator, wrong, fine, borderline):
    result = check_gaps(load_model(str(TRADITIONAL)), summary_with(**{indicator: wrong}))
    assert [f for f in result.findings if f.rule == rule] == []
    assert status(TRADITIONAL, rule, **{indicator: wrong}) == "no claim"


def test_gap_05_claim_needs_light_approval():
    # Exampleshire has two sign-offs on its longest route: no claim of light approval.
    assert status(EXAMPLESHIRE, "GAP-05", easy_ease_agreeing_plan=(100, 300)) == "no claim"


def test_gap_01_names_the_steps_that_tell_the_budget_before_planning():
    result = check_gaps(load_model(str(EXAMPLESHIRE)), summary_with(knew_amount=(150, 300)))
    (finding,) = [f for f in result.findings if f.rule == "GAP-01"]
    assert finding.steps == ("indicative_budget",)
    assert finding.line == 71
    assert finding.message.startswith(
        "The model tells the person their budget at "
        '"indicative_budget", before planning, yet only 50%'
    )


def test_gap_01_no_claim_when_planning_can_start_before_the_budget_is_told():
    text = EXAMPLESHIRE.read_text().replace("    tells: [indicative_budget, options]\n", "")
    model = load_model_text(text, "edited.yaml")
    result = check_gaps(model, summary_with(knew_amount=(150, 300)))
    assert next(c.status for c in result.checks if c.rule == "GAP-01") == "no claim"


def test_gap_findings_honour_waivers():
    text = EXAMPLESHIRE.read_text().replace(
        "waivers:\n", "waivers:\n  - {rule: GAP-01, reason: Survey predates the new letters}\n"
    )
    known = set(load_catalogue().ids) | set(GAP_RULES)
    model = load_model_text(text, "waived.yaml", known_rules=known)
    result = check_gaps(model, summary_with(knew_amount=(150, 300)))
    (finding,) = [f for f in result.findings if f.rule == "GAP-01"]
    assert finding.waived and finding.waiver_reason == "Survey predates the new letters"
    assert next(c for c in result.checks if c.rule == "GAP-01").finding.waived


def test_a_crashing_gap_rule_is_reported_not_raised():
    def broken(ctx, survey, thresholds):
        raise RuntimeError("boom")
        yield

    registry = dict(GAP_RULES, **{"GAP-03": broken})
    result = check_gaps(load_model(str(EXAMPLESHIRE)), summary_with(), registry=registry)
    (note,) = [n for n in result.notes if n.rule == "GAP-03"]
    assert note.kind == "rule_error" and "RuntimeError: boom" in note.message


def test_council_mismatch_is_noticed():
    text = EXAMPLESHIRE.read_text().replace(
        "council: Exampleshire County Council", "council: Otherton Borough Council"
    )
    result = check_gaps(load_model_text(text, "other.yaml"), summary_with())
    assert result.council_matches is False


def test_catalogue_and_code_match_one_to_one():
    catalogue = load_gap_catalogue()
    assert catalogue.ids == tuple(GAP_RULES)
    assert all(r.id.startswith("GAP-") and r.question for r in catalogue.rules)
    core = set(load_catalogue().ids)
    assert not core & set(catalogue.ids)


def test_gap_themes_are_making_it_real_themes():
    themes = set(theme_ids())
    for rule in load_gap_catalogue().rules:
        assert rule.themes and set(rule.themes) <= themes


def test_every_threshold_has_a_rationale_and_is_used():
    data = D.load(ROOT / "criteria" / "gap.yaml", GAP_FILE, refs={"theme": theme_ids()})
    thresholds = data["thresholds"]
    used = {t for rule in thresholds.values() for t in rule["rules"]}
    assert used == set(GAP_RULES)
    for name, item in thresholds.items():
        assert len(item["rationale"].split()) > 15, name
        assert 0 < float(item["value"]) < 1
    assert set(load_thresholds()) == set(thresholds)
