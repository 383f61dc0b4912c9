"""The stock-take and the benchmark on format 1.1 models: field changes of parallel steps,
unknown days, sources, assumptions and legal restrictions in plain words; start groups;
times resting on unknown days compared by their lower bound only where that decides;
scores with their best case; and a version-1 pair's output as it was. Through the
functions and end to end through the command line."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdsaudit.cli import main
from sdsaudit.model.loader import load_model_text
from sdsaudit.stocktake.benchmark import benchmark_models, rank_at_best, render_benchmark
from sdsaudit.stocktake.compare import (
    FieldChange,
    alongside,
    assess,
    compare_models,
    make_delta,
)
from sdsaudit.stocktake.compare_output import (
    change_words,
    comparison_text,
    delta_words,
    render_comparison,
)
from tests.browser import axe_violations, format_violations, max_horizontal_overflow

from .models import ROOT

runner = CliRunner()

# --------------------------------------------------------------------------- the models

PAR = """\
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
"""The sample 1.1 model: start groups, a parallel block, unknown days, a legal restriction,
sources and assumptions."""

SEQ = """\
sdsaudit: 1
council: Testshire Council
title: Sequential
as_of: 2025-04-01
actors:
  person: {name: The person, kind: person}
  team: {name: Adult social care, kind: council}
  fin: {name: Finance team, kind: finance}
authorities:
  - {id: tm, name: Team manager}
policies:
  restrictions:
    - Only approved providers
    - A direct payment cannot buy NHS services
start: contact
steps:
  - id: contact
    name: First contact
    kind: contact
    actor: team
    days: 10
    next: [assess]
  - id: assess
    name: Assessment
    kind: assessment
    actor: team
    days: 10
    next: [plan]
  - id: plan
    name: Planning
    kind: planning
    actor: team
    days: 10
    next: [{to: plan, share: 0.5, rework: true}, {to: fa}]
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
"""The same process a year earlier, in version 1: one after the other, one start, every
time known, both restrictions the council's own."""

FAST_SEQ = (
    SEQ.replace("days: 10", "days: 1").replace("days: 15", "days: 1").replace("days: 2", "days: 1")
)
"""Version 1, every step a day: 6 days on average, far below the new model's lower bound."""

OLD_11 = (
    PAR.replace("as_of: 2026-04-01", "as_of: 2025-04-01")
    .replace(
        "    kind: parallel\n    branches: [plan, fa]\n    join: signoff\n",
        "    kind: information\n    actor: team\n    next: [plan]\n",
    )
    .replace("{to: signoff}]", "{to: fa}]")
)
"""Format 1.1 a year earlier, where ``both`` was an ordinary step and planning came before
the financial assessment."""


def par_variant(*pairs: tuple[str, str], as_of: str = "2027-04-01") -> str:
    text = PAR.replace("as_of: 2026-04-01", f"as_of: {as_of}")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


KNOWN = par_variant(("days: unknown", "days: 5"))
"""The sample a year later, with the first contact's days published (5)."""


def model(text: str, name: str = "m.yaml"):
    return load_model_text(text, name)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def changes_of(comparison, step_id: str) -> dict[str, str]:
    step = next(s for s in comparison.steps_changed if s.id == step_id)
    return {ch.name: change_words(ch) for ch in step.changes}


def settings_of(comparison) -> dict[str, str]:
    return {ch.name: change_words(ch) for ch in comparison.model_changes}


# --------------------------------------------------------------------------- step fields


def test_days_unknown_and_back_in_plain_words():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    assert changes_of(c, "contact")["days"] == "days: was 10, now not known"
    change = next(ch for ch in c.steps_changed[0].changes if ch.name == "days")
    assert (change.old, change.new) == (10, "unknown")
    back = compare_models(model(PAR), model(KNOWN))
    assert changes_of(back, "contact") == {"days": "days: was not known, now 5"}


def test_steps_now_running_alongside_each_other():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    assert changes_of(c, "plan")["alongside"] == "now runs alongside fa (at the same time)"
    assert changes_of(c, "fa") == {"alongside": "now runs alongside plan (at the same time)"}
    assert alongside(model(PAR)) == {"plan": ["fa"], "fa": ["plan"]}
    # and back: the parallel block undone
    undone = compare_models(model(PAR), model(OLD_11.replace("2025-04-01", "2027-04-01")))
    assert changes_of(undone, "fa")["alongside"] == "no longer runs alongside plan: now on its own"


def test_a_step_becoming_parallel_says_what_it_starts_and_where_they_meet():
    c = compare_models(model(OLD_11, "old.yaml"), model(PAR, "new.yaml"))
    words = changes_of(c, "both")
    assert words["kind"] == "kind: information to parallel"
    assert words["branches"] == "branches: now starts plan and fa at the same time"
    assert words["join"] == "join: the case now goes on at signoff when every branch is done"
    assert "both" in {s.id for s in c.steps_changed}
    step = next(s for s in c.steps_changed if s.id == "both")
    assert {ch.name: (ch.old, ch.new) for ch in step.changes}["branches"] == ([], ["plan", "fa"])


def test_branch_and_join_words_for_every_case():
    assert (
        change_words(FieldChange("branches", ["a", "b"], []))
        == "branches: no longer starts steps at the same time (was a and b)"
    )
    assert (
        change_words(FieldChange("branches", ["a", "b"], ["a", "c"]))
        == "branches: now also starts c; no longer starts b (all at the same time)"
    )
    assert change_words(FieldChange("join", "x", "y")) == "join: the branches now meet at y, was x"
    assert change_words(FieldChange("join", "x", None)).startswith("join: removed")


def test_sources_and_assumptions_of_a_step():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    assert changes_of(c, "contact")["sources"] == "sources: now documented in guide"
    assert (
        changes_of(c, "assess")["assumed"]
        == "assumed: days now marked as an assumption (no source states it)"
    )
    confirmed = compare_models(model(PAR), model(par_variant(("    assumed: [days]\n", ""))))
    assert changes_of(confirmed, "assess") == {
        "assumed": "assumed: days no longer marked as assumed"
    }


def test_a_restriction_now_set_by_law_and_the_model_settings():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    words = settings_of(c)
    assert words["policies.restrictions"] == (
        "policies.restrictions: A direct payment cannot buy NHS services: now set by law, "
        "which the council cannot change (Direct Payments Regulations 2014), was the "
        "council's own choice"
    )
    change = next(ch for ch in c.model_changes if ch.name == "policies.restrictions")
    assert change.new[0] == "Only approved providers"  # the council's own: a plain string
    assert change.new[1] == {
        "text": "A direct payment cannot buy NHS services",
        "basis": "law",
        "ref": "Direct Payments Regulations 2014",
    }
    assert words["source guide"].startswith("source guide: added (title Direct payments guide")
    assert words["assumed"] == (
        "assumed: policies.review now marked as an assumption (no source states it)"
    )
    added = compare_models(
        model(PAR),
        model(
            par_variant(("    - Only approved providers\n", "    - {text: No NHS, basis: law}\n"))
        ),
    )
    assert settings_of(added)["policies.restrictions"] == (
        "policies.restrictions: added No NHS (set by law, which the council cannot change); "
        "removed Only approved providers"
    )


def test_restriction_on_a_step_with_a_basis():
    law = "    restrictions: [{text: No NHS services, basis: law}]\n    days: 2\n"
    c = compare_models(model(PAR), model(par_variant(("    days: 2\n", law))))
    assert changes_of(c, "signoff") == {
        "restrictions": "restrictions: added No NHS services (set by law, which the council "
        "cannot change)"
    }


# --------------------------------------------------------------------------- start groups


def test_a_single_start_becoming_groups():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    assert settings_of(c)["start"] == (
        "start: was one start for everyone at contact; now 2 groups of people: adults (start "
        "at contact, 80%); young people moving to adult services (start at assess, 20%)"
    )
    start = next(ch for ch in c.model_changes if ch.name == "start")
    assert start.old == "contact"
    assert start.new == [
        {"when": "adults", "to": "contact", "share": 0.8},
        {"when": "young people moving to adult services", "to": "assess", "share": 0.2},
    ]
    back = compare_models(model(PAR), model(SEQ.replace("2025-04-01", "2027-04-01")))
    assert settings_of(back)["start"].startswith("start: was 2 groups of people (adults")
    assert settings_of(back)["start"].endswith("; now one start for everyone at contact")


def test_groups_added_removed_and_their_shares():
    three = par_variant(
        ("share: 0.8}", "share: 0.7}"),
        (
            "  - {to: assess, when: young people moving to adult services}\n",
            "  - {to: assess, when: young people moving to adult services, share: 0.2}\n"
            "  - {to: assess, when: carers, share: 0.1}\n",
        ),
    )
    c = compare_models(model(PAR), model(three))
    assert settings_of(c)["start"] == (
        "start: group adults: share was 80%, now 70%; group carers (start at assess, 10%) added"
    )
    gone = compare_models(model(three), model(PAR.replace("2026", "2028")))
    assert "group carers (start at assess, 10%) removed" in settings_of(gone)["start"]
    moved = compare_models(
        model(PAR), model(par_variant(("{to: contact, when", "{to: assess, when")))
    )
    assert settings_of(moved)["start"] == "start: group adults: now starts at assess (was contact)"


def test_a_version_1_start_change_is_worded_as_before():
    c = compare_models(
        model(SEQ), model(SEQ.replace("start: contact", "start: assess").replace("2025", "2026"))
    )
    assert settings_of(c)["start"] == "start: contact to assess"


def test_group_measures_are_compared_by_who_the_group_is_for():
    # 'Adults' matches 'adults' (case and spacing aside); the first contact's days now known
    renamed = par_variant(("days: unknown", "days: 5"), ("when: adults", "when: Adults "))
    c = compare_models(model(PAR), model(renamed))
    assert c.groups is not None
    assert (c.groups.old_count, c.groups.new_count) == (2, 2)
    assert [g.when for g in c.groups.both] == ["Adults", "young people moving to adult services"]
    adults, young = c.groups.both
    days = {d.key: d for d in adults.deltas}["expected_days_to_support"]
    assert (days.old, days.old_at_least, days.new, days.direction) == (
        None,
        34.5,
        39.5,
        "not comparable",
    )
    assert {d.key: d for d in young.deltas}["expected_days_to_support"].direction == "same"
    assert "both models have 2 start groups" in c.notes[0]
    text = comparison_text(c)
    assert "Measures for each group of people (matched by who they are for)" in text
    assert "  Adults: start at contact, 80% of people\n" in text
    assert (
        "    Typical days from first contact to support (average): 39.5 days, was at least "
        "34.5 (not comparable: the old time rests on steps whose days are not known: contact)"
    ) in text


def test_groups_in_one_model_only_are_listed_not_compared():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    assert c.groups is not None and c.groups.both == ()
    assert c.groups.new_only == ("adults", "young people moving to adult services")
    assert "the old model has one start for everyone and the new model has 2" in c.notes[0]
    text = comparison_text(c)
    assert "Only in the new model (no figures to compare): adults; young people" in text
    assert "No group of people is in both models" in text


# --------------------------------------------------------------------------- unknown times


def test_a_bound_that_does_not_decide_is_not_comparable():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    days = c.metric("expected_days_to_support")
    assert (days.old, days.new, days.new_at_least, days.new_unknown) == (
        57,
        None,
        34.5,
        ("contact",),
    )
    assert (days.delta, days.direction, days.moved_at_least) == (None, "not comparable", None)
    assert delta_words(days) == (
        "at least 34.5 days, was 57 (not comparable: the new time rests on steps whose days "
        "are not known: contact)"
    )
    worst = c.metric("worst_days_to_support")
    assert (worst.old, worst.new_at_least, worst.direction) == (47, 27, "not comparable")


def test_a_bound_past_the_old_figure_is_worse_whatever_the_unknown_days():
    c = compare_models(model(FAST_SEQ, "old.yaml"), model(PAR, "new.yaml"))
    days = c.metric("expected_days_to_support")
    assert (days.old, days.new_at_least, days.direction, days.moved_at_least) == (
        6,
        34.5,
        "worse",
        28.5,
    )
    assert delta_words(days) == (
        "at least 34.5 days, was 6 (▲ up at least 28.5, worse whatever the days at contact "
        "turn out to be)"
    )


def test_a_known_time_below_an_old_bound_is_better():
    fast = par_variant(
        ("days: 10", "days: 1"), ("days: 15", "days: 1"), ("days: unknown", "days: 1")
    )
    c = compare_models(model(PAR), model(fast))
    days = c.metric("expected_days_to_support")
    assert (days.old_at_least, days.direction) == (34.5, "better")
    assert days.moved_at_least is not None and days.moved_at_least < 0
    assert delta_words(days) == (
        "5.8 days, was at least 34.5 (▼ down at least 28.7, better whatever the days at "
        "contact turn out to be)"
    )


def test_two_bounds_are_never_compared():
    slower = par_variant(("days: 15", "days: 40"))
    c = compare_models(model(PAR), model(slower))
    days = c.metric("expected_days_to_support")
    assert days.direction == "not comparable"
    assert delta_words(days).endswith(
        "(not comparable: both times rest on steps whose days are not known (old: contact; "
        "new: contact))"
    )


@pytest.mark.parametrize(
    "old,new,bounds,direction,moved",
    [
        (24, None, {"new_at_least": 30}, "worse", 6),
        (24, None, {"new_at_least": 24}, "not comparable", None),
        (24, None, {"new_at_least": 20}, "not comparable", None),
        (None, 24, {"old_at_least": 30}, "better", -6),
        (None, 24, {"old_at_least": 24}, "not comparable", None),
        (None, None, {"old_at_least": 10, "new_at_least": 40}, "not comparable", None),
        (None, None, {"new_at_least": 40}, "not comparable", None),
    ],
)
def test_make_delta_with_bounds(old, new, bounds, direction, moved):
    d = make_delta("expected_days_to_support", "E", old, new, lower_better=True, **bounds)
    assert (d.direction, d.moved_at_least, d.delta) == (direction, moved, None)


def test_the_json_of_a_bounded_time():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    data = c.as_dict()
    days = next(m for m in data["metrics"] if m["key"] == "expected_days_to_support")
    assert days == {
        "key": "expected_days_to_support",
        "label": "Typical days from first contact to support (average)",
        "old": 57,
        "new": None,
        "delta": None,
        "direction": "not comparable",
        "old_at_least": None,
        "new_at_least": 34.5,
        "old_days_unknown": [],
        "new_days_unknown": ["contact"],
        "moved_at_least": None,
    }
    assert data["groups"]["only_new"] == ["adults", "young people moving to adult services"]
    # a measure resting on nothing unknown keeps the version-1 keys only
    steps = next(m for m in data["metrics"] if m["key"] == "steps")
    assert set(steps) == {"key", "label", "old", "new", "delta", "direction"}


def test_a_parallel_step_passes_the_case_to_each_branch():
    # assess (the team) -> both -> fa (finance) is a hand-off; fa -> signoff is another
    assert assess(model(PAR)).metrics["handoff_arrows"] == 2


# --------------------------------------------------------------------------- scores


def test_scores_show_their_best_case():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    simple = c.score("simple")
    assert (simple.old, simple.old_best, simple.new, simple.new_best) == (65, 68, 57, 82)
    assert delta_words(simple) == (
        "65 (up to 68) to 57 (up to 82) (▼ down 8, worse, with what is not known counted at "
        "its worst)"
    )
    assert (
        delta_words(c.score("in_control"))
        == "0 (up to 49) to 0 (up to 57) (no change in the score)"
    )
    assert delta_words(c.score("heard")) == "17 (up to 25) (no change)"
    data = c.as_dict()["scores"]["overall"][1]
    assert (data["old_best"], data["new_best"]) == (68, 82)
    text = comparison_text(c)
    assert "  Simple: 65 (up to 68) to 57 (up to 82)" in text
    assert "A score shown as '41 (up to 63)'" in text


def test_a_score_past_the_other_sides_best_needs_no_caveat():
    d = make_delta("heard", "Heard", 41, 60, lower_better=False, old_best=50)
    assert delta_words(d) == "41 (up to 50) to 60 (▲ up 19, better)"
    d = make_delta("heard", "Heard", 41, 60, lower_better=False, old_best=63)
    assert delta_words(d).endswith("better, with what is not known counted at its worst)")


# --------------------------------------------------------------------------- findings


def test_findings_say_what_they_rest_on():
    c = compare_models(model(SEQ, "old.yaml"), model(PAR, "new.yaml"))
    text = comparison_text(c)
    assert re.search(
        r"SIMPLE-02 warning: for adults, .*\(rests on an assumption: confirm days at assess\)",
        text,
    )


# --------------------------------------------------------------------------- the command


@pytest.fixture
def pair(tmp_path):
    return write(tmp_path, "2025.yaml", SEQ), write(tmp_path, "2026.yaml", PAR)


def test_compare_command_text_on_a_1_1_pair(pair):
    result = runner.invoke(main, ["compare", *pair])
    assert result.exit_code == 0, result.output
    out = result.output
    for probe in (
        "    days: was 10, now not known",
        "    now runs alongside fa (at the same time)",
        "    sources: now documented in guide",
        "  start: was one start for everyone at contact; now 2 groups of people",
        "now set by law, which the council cannot change",
        "at least 34.5 days, was 57 (not comparable: the new time rests on steps whose days "
        "are not known: contact)",
        "  Simple: 65 (up to 68) to 57 (up to 82)",
        "Note: People start in groups",
    ):
        assert probe in out, probe
    assert "within target" not in out


def test_compare_command_json_on_a_1_1_pair(pair):
    result = runner.invoke(main, ["compare", *pair, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    days = next(m for m in data["metrics"] if m["key"] == "expected_days_to_support")
    assert (days["new"], days["new_at_least"], days["direction"]) == (None, 34.5, "not comparable")
    changed = {s["id"]: s["fields"] for s in data["steps"]["changed"]}
    assert changed["contact"] == ["days", "sources"]
    assert changed["fa"] == ["alongside"]
    assert data["groups"]["new_groups"] == 2
    new_findings = data["findings"]["new"]
    assert new_findings and new_findings[0]["assumptions"] == [
        {"step": "assess", "fields": ["days"]}
    ]


def test_compare_command_groups_and_decided_times(tmp_path):
    old = write(tmp_path, "old.yaml", FAST_SEQ)
    new = write(tmp_path, "new.yaml", PAR)
    result = runner.invoke(main, ["compare", old, new])
    assert result.exit_code == 0, result.output
    assert "worse whatever the days at contact turn out to be" in result.output
    newer = write(
        tmp_path,
        "newer.yaml",
        par_variant(("when: adults, share: 0.8", "when: adults, share: 0.6")),
    )
    result = runner.invoke(main, ["compare", new, newer, "--format", "json"])
    data = json.loads(result.output)
    assert [g["when"] for g in data["groups"]["in_both"]] == [
        "adults",
        "young people moving to adult services",
    ]
    adults = data["groups"]["in_both"][0]
    assert (adults["old"]["share"], adults["new"]["share"]) == (0.8, 0.6)
    assert {m["key"] for m in adults["metrics"]} >= {"expected_days_to_support", "approvals_max"}


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_compare_command_pages_on_a_1_1_pair(tmp_path, fmt):
    old = write(tmp_path, "old.yaml", PAR)
    new = write(tmp_path, "new.yaml", KNOWN)
    result = runner.invoke(main, ["compare", old, new, "--format", fmt])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Measures for each group of people" in out
    assert "at least 34.5 days" in out
    assert "17 (up to 25)" in out
    assert "A time shown as &#39;at least&#39;" in out or "A time shown as 'at least'" in out
    assert "days: was not known, now 5" in out


def test_compare_command_writes_every_file_for_a_1_1_pair(tmp_path, pair):
    out = tmp_path / "out"
    result = runner.invoke(main, ["compare", *pair, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert {"compare.txt", "compare.json", "compare.md", "compare.html"} <= {
        p.name for p in out.iterdir()
    }
    html = (out / "compare.html").read_text()
    assert html.count("<table") == html.count("<caption")


# --------------------------------------------------------------------------- version 1 as it was


def _without_assumptions(value):
    if isinstance(value, dict):
        return {k: _without_assumptions(v) for k, v in value.items() if k != "assumptions"}
    if isinstance(value, list):
        return [_without_assumptions(v) for v in value]
    return value


def test_a_version_1_pair_is_as_it_was(tmp_path, monkeypatch):
    """The shipped stock-take, made again: text and Markdown identical, JSON identical apart
    from the findings' 'assumptions' (added by the analysis layer, empty in version 1)."""
    monkeypatch.chdir(ROOT)
    result = runner.invoke(
        main,
        [
            "compare",
            "examples/exampleshire/2025.yaml",
            "examples/exampleshire/2026.yaml",
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    shipped = ROOT / "examples" / "exampleshire" / "stocktake"
    for name in ("compare.txt", "compare.md"):
        assert (tmp_path / name).read_text() == (shipped / name).read_text(), name
    made = json.loads((tmp_path / "compare.json").read_text())
    kept = json.loads((shipped / "compare.json").read_text())
    assert _without_assumptions(made) == _without_assumptions(kept)
    assert "groups" not in made
    assert all(
        set(m) == {"key", "label", "old", "new", "delta", "direction"} for m in made["metrics"]
    )


def test_a_version_1_benchmark_has_no_new_keys(tmp_path):
    councils = sorted((ROOT / "examples" / "benchmark").glob("*.yaml"))[:3]
    result = runner.invoke(main, ["benchmark", *map(str, councils), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "benchmark.json").read_text())
    for row in data["councils"]:
        assert set(row) == {
            "label",
            "council",
            "title",
            "path",
            "as_of",
            "values",
            "ranks",
            "findings",
        }
    head = (tmp_path / "benchmark.csv").read_text().splitlines()[0]
    assert "_at_least" not in head and "_up_to" not in head


# --------------------------------------------------------------------------- the benchmark


@pytest.fixture(scope="module")
def trio():
    return [
        model(SEQ.replace("Testshire Council", "Alderford Council"), "alderford.yaml"),
        model(PAR.replace("Testshire Council", "Brightwell Council"), "brightwell.yaml"),
        model(KNOWN.replace("Testshire Council", "Cinderby Council"), "cinderby.yaml"),
    ]


def test_benchmark_never_ranks_a_bound_as_if_known(trio):
    bench = benchmark_models(trio)
    rows = {r.label: r for r in bench.rows}
    bright = rows["Brightwell Council"]
    assert bright.values["expected_days_to_support"] is None
    assert bright.at_least == {"expected_days_to_support": 34.5, "worst_days_to_support": 27}
    assert bright.ranks["expected_days_to_support"] is None
    # known: Alderford 57, Cinderby 38; none below 34.5, so it could be first
    assert bright.rank_at_best == {"expected_days_to_support": 1, "worst_days_to_support": 1}
    assert rows["Cinderby Council"].ranks["expected_days_to_support"] == 1
    assert rows["Alderford Council"].ranks["expected_days_to_support"] == 2
    # left out of the spread
    assert bench.summary["expected_days_to_support"].n == 2
    assert rank_at_best(40, [57, 38, None], higher_is_better=False) == 2


def test_benchmark_pages_mark_bounds_best_cases_and_groups(trio):
    files = render_benchmark(benchmark_models(trio))
    md = files["benchmark.md"]
    assert "at least 34.5 (not ranked: rests on unknown days; 1st of 3 at best)" in md
    assert "65 (up to 68) (2nd of 3)" in md
    assert "Brightwell Council has 2 start groups" in md
    assert "Brightwell Council: the days at contact are not known" in md
    html = files["benchmark.html"]
    assert "at least 34.5<span" in html and "Cinderby Council has 2 start groups" in html
    data = json.loads(files["benchmark.json"])
    bright = next(r for r in data["councils"] if r["label"] == "Brightwell Council")
    assert bright["at_least"]["expected_days_to_support"] == 34.5
    assert bright["rank_at_best"]["expected_days_to_support"] == 1
    assert bright["days_unknown"] == ["contact"]
    assert bright["start_groups"] == 2
    assert bright["best"]["simple"] == 82
    rows = list(csv.DictReader(io.StringIO(files["benchmark.csv"])))
    bright_csv = next(r for r in rows if r["council"] == "Brightwell Council")
    assert bright_csv["expected_days_to_support"] == ""
    assert bright_csv["expected_days_to_support_rank"] == ""
    assert bright_csv["expected_days_to_support_at_least"] == "34.5"
    assert bright_csv["simple_up_to"] == "82"


def test_anonymised_benchmark_names_no_step(trio):
    files = render_benchmark(benchmark_models(trio, anonymise=True))
    data = json.loads(files["benchmark.json"])
    assert all("days_unknown" not in r for r in data["councils"])
    text = "\n".join(files.values())
    assert "Brightwell" not in text and "the days at 1 step are not known" in text
    again = render_benchmark(benchmark_models(trio[::-1], anonymise=True))
    assert again == files


def test_benchmark_command_on_1_1_models(tmp_path):
    paths = [
        write(tmp_path, "a.yaml", SEQ.replace("Testshire Council", "Alderford Council")),
        write(tmp_path, "b.yaml", PAR.replace("Testshire Council", "Brightwell Council")),
    ]
    out = tmp_path / "out"
    result = runner.invoke(main, ["benchmark", *paths, "-o", str(out)])
    assert result.exit_code == 0, result.output
    md = (out / "benchmark.md").read_text()
    assert "at least 34.5 (not ranked: rests on unknown days; 1st of 2 at best)" in md
    assert "Brightwell Council has 2 start groups" in md
    data = json.loads((out / "benchmark.json").read_text())
    assert data["summary"]["expected_days_to_support"]["n"] == 1


# --------------------------------------------------------------------------- accessible pages


@pytest.fixture(scope="module")
def pages(tmp_path_factory, trio):
    out = tmp_path_factory.mktemp("pages11")
    old, new = model(PAR, "old.yaml"), model(KNOWN, "new.yaml")
    (out / "compare.html").write_text(
        render_comparison(compare_models(old, new), new).html, encoding="utf-8"
    )
    (out / "benchmark.html").write_text(
        render_benchmark(benchmark_models(trio))["benchmark.html"], encoding="utf-8"
    )
    return out


@pytest.mark.parametrize("name", ["compare.html", "benchmark.html"])
def test_1_1_pages_pass_axe_and_reflow(pages, name):
    violations = axe_violations(pages / name)
    assert violations == [], format_violations(violations)
    assert max_horizontal_overflow(pages / name, width=320) == 0


def test_groups_match_exactly_first_then_by_case_only_without_doubt():
    from sdsaudit.stocktake.compare import match_groups

    old = [{"when": "adults"}, {"when": "Carers"}, {"when": "young people"}]
    new = [{"when": "young people"}, {"when": "carers"}, {"when": "ADULTS"}, {"when": "Adults"}]
    # 'young people' exactly; 'carers' by case; 'ADULTS' and 'Adults' could both be 'adults'
    assert match_groups(old, new) == [(2, 0), (1, 1)]
    assert match_groups(old, [{"when": "adults"}, {"when": "Adults"}]) == [(0, 0)]


def test_the_stock_take_map_marks_a_changed_parallel_step_and_keeps_its_plus():
    from sdsaudit.render.map import PLUS, build_map
    from sdsaudit.stocktake.compare_output import changed_marks

    c = compare_models(model(OLD_11, "old.yaml"), model(PAR, "new.yaml"))
    marks = changed_marks(c)
    assert marks["both"] == "Changed"
    source = build_map(model(PAR), None, "plain", marks=marks).source
    node = next(line for line in source.splitlines() if line.strip().startswith("both "))
    assert "<B>CHANGED</B>" in node and "penwidth=4" in node
    assert node.index("CHANGED") < node.index(PLUS)  # the word above the plus, the plus kept
    assert "the same time" in node and "financial assessment" in node
    # an unmarked step keeps its own outline and label
    plain = build_map(model(PAR), None, "plain").source
    assert "CHANGED" not in plain and "penwidth=4" not in plain.split("cluster_legend")[0]
