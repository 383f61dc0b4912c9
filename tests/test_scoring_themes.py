"""Making it Real themes: the data, its agreement with the catalogue, and the status rule."""

from __future__ import annotations

import pytest

from sdsaudit.analysis.engine import check_model
from sdsaudit.analysis.findings import CheckResult, Finding, RuleNote
from sdsaudit.model.catalogue import load_catalogue
from sdsaudit.model.loader import load_model
from sdsaudit.scoring.scores import score_model
from sdsaudit.scoring.themes import Theme, load_themes, theme_status

from .test_scoring import EXAMPLE, LEAN, TRADITIONAL

THEMES = {
    "MIR-WELLBEING": "Wellbeing and independence",
    "MIR-INFO": "Information and advice",
    "MIR-COMMUNITY": "Active and supportive communities",
    "MIR-FLEXIBLE": "Flexible and integrated care and support",
    "MIR-CHANGE": "When things need to change",
    "MIR-WORKFORCE": "Workforce",
}


def test_the_six_themes_with_our_ids_and_their_names():
    assert {t.id: t.name for t in load_themes()} == THEMES
    assert [t.id for t in load_themes()] == list(THEMES)


def test_every_theme_has_paraphrased_gists_and_rules():
    for theme in load_themes():
        assert theme.gists and theme.rules, theme.id
        for gist in theme.gists:
            assert '"' not in gist and gist.endswith("."), gist  # our words, not quotations


def test_every_theme_a_rule_names_exists_and_every_theme_has_a_rule():
    # a theme's rules are derived from the themes: of each rule in criteria/rules.yaml
    themes = {t.id: t for t in load_themes()}
    for rule in load_catalogue().rules:
        assert set(rule.themes) <= set(themes), rule.id
        for theme in rule.themes:
            assert rule.id in themes[theme].rules, (rule.id, theme)
    for theme in themes.values():
        assert theme.rules, f"{theme.id} has no rule: name it in the themes: of a rule"


# --------------------------------------------------------------------------- the status rule

THEME = Theme("MIR-TEST", "Test", ("A gist.",), ("A-01", "A-02", "A-03", "A-04"))


def result(*findings: Finding, notes: tuple[RuleNote, ...] = ()) -> CheckResult:
    return CheckResult(
        path="m.yaml", council="C", title="T", as_of="2026-04-01", findings=findings, notes=notes
    )


def hit(rule: str, severity: str = "warning", waived: bool = False) -> Finding:
    return Finding(rule, rule.lower(), severity, ("simple",), (), "m", waived=waived)


def not_assessable(*rules: str) -> tuple[RuleNote, ...]:
    return tuple(RuleNote(r, "not_assessable", "lacks data") for r in rules)


def test_met_when_no_rule_fires():
    status = theme_status(THEME, result())
    assert status.status == "met"
    assert status.passed == THEME.rules and status.fired == ()


def test_met_when_every_finding_is_waived_and_the_waived_rules_are_listed():
    status = theme_status(THEME, result(hit("A-02", waived=True)))
    assert status.status == "met"
    assert status.waived == ("A-02",) and "A-02" not in status.passed


def test_partly_met_when_half_or_fewer_fire():
    status = theme_status(THEME, result(hit("A-01"), hit("A-03"), hit("A-03")))
    assert status.status == "partly met"
    assert status.fired == ("A-01", "A-03") and status.passed == ("A-02", "A-04")


def test_not_met_when_more_than_half_of_the_assessed_rules_fire():
    # A-04 cannot be assessed: 2 of the 3 assessed rules fire
    status = theme_status(THEME, result(hit("A-01"), hit("A-02"), notes=not_assessable("A-04")))
    assert status.status == "not met"
    assert status.not_assessed == ("A-04",)


def test_not_met_on_one_unwaived_error_but_not_a_waived_one():
    assert theme_status(THEME, result(hit("A-01", "error"))).status == "not met"
    assert theme_status(THEME, result(hit("A-01", "error", waived=True))).status == "met"


def test_not_assessed_when_no_rule_could_be_assessed():
    notes = not_assessable("A-01", "A-02") + (RuleNote("A-03", "rule_error", "crashed"),)
    status = theme_status(THEME, result(notes=notes), rules_run={"A-01", "A-02", "A-03"})
    assert status.status == "not assessed"
    assert status.not_assessed == THEME.rules
    assert theme_status(Theme("X", "X", ("G.",), ()), result()).status == "not assessed"


# --------------------------------------------------------------------------- real models


def statuses(path) -> dict[str, str]:
    model = load_model(str(path))
    return {t.theme: t.status for t in score_model(model, check_model(model)).themes}


def test_lean_meets_every_theme():
    assert set(statuses(LEAN).values()) == {"met"}


def test_traditional_meets_none():
    assert "met" not in statuses(TRADITIONAL).values()
    assert statuses(TRADITIONAL)["MIR-COMMUNITY"] == "not met"


@pytest.mark.parametrize(
    "theme, status", [("MIR-COMMUNITY", "met"), ("MIR-WORKFORCE", "partly met")]
)
def test_exampleshire_waived_restriction_leaves_communities_met(theme, status):
    assert statuses(EXAMPLE)[theme] == status
