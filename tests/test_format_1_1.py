"""Format 1.1: everything it adds is read strictly, each problem with file, line and column.

Parallel steps and their blocks, ``start`` as a list of groups, ``days: unknown``,
restrictions with a basis, ``sources`` and ``assumed``; a file saying ``sdsaudit: 1``
that uses any of them is refused with the key, its line and the fix.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsaudit.model.loader import load_model, load_model_text
from sdsaudit.model.schema import json_schema

from .models import ROOT, shipped_models
from .test_loader import MINIMAL, errors, one_error

# Line numbers matter: the tests below name them.
PAR = """\
sdsaudit: 1.1
council: Testshire Council
title: Side by side
as_of: 2026-04-01
sources:
  - {id: dp_guide, title: Direct payments guide, published: 2024-03-01, url: https://example.gov.uk/dp.pdf}
  - {id: charging, title: Charging policy}
assumed: [policies.review]
actors:
  person: {name: The person, kind: person}
  team: {name: Adult social care, kind: council}
  fin: {name: Finance team, kind: finance}
authorities:
  - {id: tm, name: Team manager}
policies:
  restrictions:
    - Only providers on the approved list
    - {text: A direct payment cannot buy NHS services, basis: law, ref: Direct Payments Regulations 2014}
  review: {first_days: 56, interval_days: 365}
start:
  - {to: contact, when: adults, share: 0.8}
  - {to: assess, when: young people moving to adult services}
steps:
  - id: contact
    name: First contact
    kind: contact
    actor: team
    days: unknown
    source: dp_guide
    next: [assess]
  - id: assess
    name: Assessment
    kind: assessment
    actor: team
    assumed: [days, person]
    next: [both]
  - id: both
    name: Planning and financial assessment side by side
    kind: parallel
    branches: [plan, fa]
    join: signoff
  - id: plan
    name: Support planning
    kind: planning
    actor: team
    days: 10
    next: [{to: plan, share: 0.5, rework: true}, {to: signoff}]
  - id: fa
    name: Financial assessment
    kind: financial_assessment
    actor: fin
    days: 15
    source: [charging, dp_guide]
    tells: [contribution]
    restrictions:
      - {text: Cannot pay a close relative living in the same house, basis: council}
    next: [fa_letter]
  - id: fa_letter
    name: Contribution letter sent
    kind: information
    actor: fin
    days: 2.5
    next: [signoff]
  - id: signoff
    name: Sign off
    kind: approval
    actor: team
    authority: tm
    approves: [support_plan]
    days: 2
    next: [arrange]
  - id: arrange
    name: Support arranged
    kind: arranging
    actor: team
    days: 4
    next: [support]
  - id: support
    name: Support in place
    kind: support
"""


def edit(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` (which must occur exactly once) replaced by ``new``."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line holding ``needle``."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def steps_added(*steps: str) -> str:
    """PAR with more steps at the end."""
    return PAR + "".join(steps)


STUCK = "  - id: limbo\n    name: Waiting\n    kind: wait\n    actor: fin\n    next: []\n"
GONE = "  - id: gone\n    name: Withdrew\n    kind: end\n    outcome: withdrew\n"


def test_the_positions_the_tests_rely_on():
    assert line_of(PAR, "- id: both") == 37
    assert line_of(PAR, "- id: plan") == 42
    assert line_of(PAR, "name: Financial assessment") == 49
    assert line_of(PAR, "- id: fa_letter") == 58
    assert line_of(PAR, "- id: signoff") == 64
    assert len(PAR.splitlines()) == 80  # steps added at the end start on line 81


# --------------------------------------------------------------------------- a good model


def test_a_good_1_1_model_loads():
    model = load_model_text(PAR, "m.yaml")
    assert model.version == "1.1"
    # start as a list of groups
    assert model.grouped and model.start == "contact"
    assert [(e.to, e.when, e.share) for e in model.entries] == [
        ("contact", "adults", 0.8),
        ("assess", "young people moving to adult services", None),
    ]
    assert [e.pos.line for e in model.entries] == [21, 22]
    assert model.starts == ("contact", "assess")
    # the block, its branches' steps (first step first) and its join
    (block,) = model.blocks
    assert block.step == "both" and block.join == "signoff"
    assert block.branches == (("plan",), ("fa", "fa_letter"))
    assert block.members == {"plan", "fa", "fa_letter"}
    assert block.branch_of("fa_letter") == 1 and block.branch_of("signoff") is None
    both = model.step("both")
    assert both.branches == ("plan", "fa") and both.join == "signoff" and both.actor is None
    assert both.next == () and both.pos.line == 37
    # days: unknown, given, not given
    contact, assess, letter = model.step("contact"), model.step("assess"), model.step("fa_letter")
    assert (contact.days, contact.days_unknown, contact.days_given) == (0.0, True, True)
    assert (assess.days, assess.days_unknown, assess.days_given) == (0.0, False, False)
    assert (letter.days, letter.days_unknown, letter.days_given) == (2.5, False, True)
    # restrictions: a plain string is the council's; {text, basis, ref}
    own, law = model.policies.restrictions
    assert (own.text, own.basis, own.ref) == (
        "Only providers on the approved list",
        "council",
        None,
    )
    assert (law.text, law.basis) == ("A direct payment cannot buy NHS services", "law")
    assert law.ref == "Direct Payments Regulations 2014" and law.pos.line == 18
    (step_rule,) = model.step("fa").restrictions
    assert step_rule.basis == "council" and step_rule.ref is None
    # sources and assumed
    guide, charging = model.sources
    assert (guide.id, guide.title, guide.published) == (
        "dp_guide",
        "Direct payments guide",
        dt.date(2024, 3, 1),
    )
    assert guide.url == "https://example.gov.uk/dp.pdf" and guide.pos.line == 6
    assert (charging.published, charging.url, charging.note) == (None, None, None)
    assert contact.sources == ("dp_guide",)
    assert model.step("fa").sources == ("charging", "dp_guide")
    assert assess.assumed == ("days", "person") and contact.assumed == ()
    assert model.assumed == ("policies.review",)


def test_a_version_1_file_reads_the_same_as_1_1():
    one = load_model_text(MINIMAL, "m.yaml")
    eleven = load_model_text(edit(MINIMAL, "sdsaudit: 1\n", "sdsaudit: 1.1\n"), "m.yaml")
    assert one.version == "1" and eleven.version == "1.1"
    assert one.steps == eleven.steps and one.entries == eleven.entries
    assert not one.grouped and one.blocks == () and one.sources == () and one.assumed == ()
    assert [(e.to, e.when, e.share) for e in one.entries] == [("contact", None, None)]


def test_a_parallel_step_may_have_a_note_a_source_and_assumed():
    text = edit(
        PAR,
        "    join: signoff\n",
        "    join: signoff\n    note: Both start on the same day\n"
        "    source: dp_guide\n    assumed: [branches]\n",
    )
    both = load_model_text(text, "m.yaml").step("both")
    assert both.note == "Both start on the same day" and both.sources == ("dp_guide",)


# --------------------------------------------------------------------------- blocks refused


def test_branch_reaching_a_support_step():
    text = edit(PAR, "    days: 2.5\n    next: [signoff]", "    days: 2.5\n    next: [support]")
    assert one_error(text) == (
        "m.yaml:37:5: error: branch 'fa' of the parallel step 'both' reaches the support step "
        "'support' without passing the join 'signoff': a branch may go on only to its own steps "
        "or to the join"
    )


def test_branch_reaching_an_end_step():
    text = steps_added(GONE)
    text = edit(
        text, "    days: 2.5\n    next: [signoff]", "    days: 2.5\n    next: [signoff, gone]"
    )
    assert one_error(text) == (
        "m.yaml:37:5: error: branch 'fa' of the parallel step 'both' reaches the end step 'gone' "
        "without passing the join 'signoff': a branch may go on only to its own steps or to the "
        "join"
    )


def test_branch_leading_back_to_its_parallel_step():
    text = edit(
        PAR, "    days: 2.5\n    next: [signoff]", "    days: 2.5\n    next: [signoff, both]"
    )
    # back at 'both', the walk goes on into the other branch too
    assert errors(text) == [
        "m.yaml:37:5: error: branch 'fa' of the parallel step 'both' leads back to 'both' itself "
        "without passing the join 'signoff': every branch must end at the join",
        "m.yaml:42:5: error: step 'plan' is in two branches of the parallel step 'both' ('plan' "
        "and 'fa'): each step belongs to one branch",
    ]


def test_a_step_in_two_branches():
    common = (
        "  - id: common\n    name: Shared step\n    kind: wait\n    actor: team\n"
        "    next: [signoff]\n"
    )
    text = steps_added(common)
    text = edit(text, "{to: signoff}]", "{to: common}]")
    text = edit(text, "    days: 2.5\n    next: [signoff]", "    days: 2.5\n    next: [common]")
    assert one_error(text) == (
        "m.yaml:81:5: error: step 'common' is in two branches of the parallel step 'both' "
        "('plan' and 'fa'): each step belongs to one branch"
    )


def test_a_branch_step_from_which_the_join_cannot_be_reached():
    text = steps_added(STUCK)
    text = edit(
        text, "    days: 2.5\n    next: [signoff]", "    days: 2.5\n    next: [signoff, limbo]"
    )
    assert one_error(text) == (
        "m.yaml:81:5: error: from 'limbo', in branch 'fa' of the parallel step 'both', the join "
        "'signoff' cannot be reached: every step of a branch must lead on to the join"
    )


def test_a_transition_into_a_branch_from_outside():
    text = edit(PAR, "    next: [both]\n", "    next: [both, fa_letter]\n")
    assert one_error(text) == (
        "m.yaml:36:18: error: 'assess' goes to 'fa_letter', inside branch 'fa' of the parallel "
        "step 'both', from outside that branch: a branch can be entered only from its parallel "
        "step"
    )


def test_a_transition_out_of_a_branch_past_the_join():
    # 'arrange' comes after the join: the branch would reach support without the join
    text = edit(PAR, "    days: 2.5\n    next: [signoff]", "    days: 2.5\n    next: [arrange]")
    assert one_error(text) == (
        "m.yaml:37:5: error: branch 'fa' of the parallel step 'both' reaches the support step "
        "'support' without passing the join 'signoff': a branch may go on only to its own steps "
        "or to the join"
    )


def test_a_transition_out_of_a_branch_back_before_the_block():
    text = edit(
        PAR, "    days: 2.5\n    next: [signoff]", "    days: 2.5\n    next: [signoff, contact]"
    )
    assert errors(text)[0] == (
        "m.yaml:37:5: error: branch 'fa' of the parallel step 'both' leads back to 'both' itself "
        "without passing the join 'signoff': every branch must end at the join"
    )


def test_a_transition_out_of_a_branch_into_another():
    text = edit(
        PAR, "    days: 2.5\n    next: [signoff]", "    days: 2.5\n    next: [signoff, plan]"
    )
    assert one_error(text) == (
        "m.yaml:42:5: error: step 'plan' is in two branches of the parallel step 'both' ('plan' "
        "and 'fa'): each step belongs to one branch"
    )


def test_a_start_inside_a_branch():
    text = edit(PAR, "  - {to: assess, when: young", "  - {to: fa_letter, when: young")
    assert one_error(text) == (
        "m.yaml:22:5: error: start 'fa_letter' is inside branch 'fa' of the parallel step "
        "'both': a branch can be entered only from its parallel step, so start at 'both' or "
        "before it"
    )


NESTED = (
    "  - id: inner\n    name: Two kinds of planning at once\n    kind: parallel\n"
    "    branches: [plan, talk]\n    join: meet\n"
    "  - id: talk\n    name: Advocate's visit\n    kind: advocacy\n    actor: team\n"
    "    next: [meet]\n"
    "  - id: meet\n    name: Plans put together\n    kind: planning\n    actor: team\n"
    "    next: [signoff]\n"
)


def nested() -> str:
    """PAR with the planning branch holding a block of its own: 'plan' and 'talk' at once,
    joining at 'meet'."""
    text = edit(PAR, "    branches: [plan, fa]\n", "    branches: [inner, fa]\n")
    return (
        edit(
            text,
            "{to: plan, share: 0.5, rework: true}, {to: signoff}]",
            "{to: plan, share: 0.5, rework: true}, {to: meet}]",
        )
        + NESTED
    )


def test_nested_blocks_well_formed_are_accepted():
    model = load_model_text(nested(), "m.yaml")
    inner, outer = model.blocks  # innermost first
    assert (inner.step, inner.join, inner.branches) == ("inner", "meet", (("plan",), ("talk",)))
    assert (outer.step, outer.join) == ("both", "signoff")
    assert outer.branches == (("inner", "plan", "talk", "meet"), ("fa", "fa_letter"))


def test_a_nested_block_whose_join_lies_outside_its_branch():
    # 'inner' joins at 'signoff', the join of the block holding it
    text = edit(PAR, "    branches: [plan, fa]\n", "    branches: [inner, fa]\n")
    text += (
        "  - id: inner\n    name: Two kinds of planning at once\n    kind: parallel\n"
        "    branches: [plan, talk]\n    join: signoff\n"
        "  - id: talk\n    name: Advocate's visit\n    kind: advocacy\n    actor: team\n"
        "    next: [signoff]\n"
    )
    assert one_error(text) == (
        "m.yaml:81:5: error: the parallel step 'inner' lies in a branch of 'both', so its own "
        "block must end inside that branch, but its join 'signoff' is outside it: join it to a "
        "step of the same branch"
    )


def test_a_join_that_is_a_branch():
    text = edit(PAR, "    join: signoff\n", "    join: fa\n")
    assert one_error(text) == (
        "m.yaml:37:5: error: the parallel step 'both' has its join 'fa' as a branch too: a "
        "branch must hold work"
    )


def test_a_parallel_step_that_is_its_own_join():
    text = edit(PAR, "    join: signoff\n", "    join: both\n")
    assert one_error(text) == (
        "m.yaml:37:5: error: the parallel step 'both' cannot be its own join: name the step "
        "after it"
    )


def test_unknown_branch_and_join_with_did_you_mean():
    text = edit(PAR, "    branches: [plan, fa]\n", "    branches: [plan, fa_leter]\n")
    text = edit(text, "    join: signoff\n", "    join: sign_off\n")
    assert errors(text) == [
        "m.yaml:40:22: error: step 'both' names 'fa_leter', which is not the id of any step "
        "(did you mean 'fa_letter'?)",
        "m.yaml:41:11: error: step 'both' names 'sign_off', which is not the id of any step "
        "(did you mean 'signoff'?)",
    ]


def test_branches_and_join_are_required_and_two_branches_at_least():
    text = edit(PAR, "    branches: [plan, fa]\n    join: signoff\n", "")
    assert errors(text) == [
        "m.yaml:37:5: error: step 'both' is a parallel step, so it needs 'branches'",
        "m.yaml:37:5: error: step 'both' is a parallel step, so it needs 'join'",
    ]
    text = edit(PAR, "    branches: [plan, fa]\n", "    branches: [plan]\n")
    assert one_error(text) == "m.yaml:40:15: error: 'branches' lists only 1: give at least 2"
    text = edit(PAR, "    branches: [plan, fa]\n", "    branches: [plan, plan]\n")
    assert one_error(text) == (
        "m.yaml:40:22: error: 'plan' is listed twice in 'branches' (first at line 40); remove one"
    )


def test_branches_and_join_only_on_parallel_steps():
    text = edit(PAR, "    source: dp_guide\n", "    source: dp_guide\n    join: assess\n")
    assert one_error(text) == (
        "m.yaml:30:11: error: 'join' belongs only on parallel steps, but step 'contact' is a "
        "contact step: remove it, or change the kind"
    )


@pytest.mark.parametrize(
    "key,value",
    [
        ("actor", "team"),
        ("days", "3"),
        ("days", "unknown"),
        ("next", "[signoff]"),
        ("person", "informed"),
        ("forms", "1"),
        ("asks", "[income]"),
        ("tells", "[process]"),
        ("produces", "[assessment]"),
        ("restrictions", "[Only on weekdays]"),
        ("authority", "tm"),
        ("approves", "[support_plan]"),
        ("outcome", "withdrew"),
    ],
)
def test_a_parallel_step_has_no_actor_time_or_next(key, value):
    text = edit(PAR, "    join: signoff\n", f"    join: signoff\n    {key}: {value}\n")
    assert one_error(text) == (
        f"m.yaml:42:{len(key) + 7}: error: step 'both' is a parallel step, which nobody does and "
        f"which takes no time, so it cannot have '{key}': put it on a step inside a branch"
    )


# --------------------------------------------------------------------------- start as groups


def test_start_entry_needs_when():
    text = edit(
        PAR, "  - {to: assess, when: young people moving to adult services}", "  - {to: assess}"
    )
    assert one_error(text) == "m.yaml:22:5: error: start entry is missing the required key 'when'"


def test_start_entry_has_no_rework():
    text = edit(
        PAR, "when: young people moving to adult services}", "when: young people, rework: true}"
    )
    assert one_error(text) == (
        "m.yaml:22:38: error: unknown key 'rework' in start entry; allowed keys: to, when, share"
    )


def test_start_shares_over_one_and_not_summing_to_one():
    text = edit(
        PAR, "when: young people moving to adult services}", "when: young people, share: 0.3}"
    )
    assert one_error(text) == (
        "m.yaml:21:3: error: the shares of the start entries add up to 1.1, more than 1: they "
        "are proportions of people and must not exceed 1 in total"
    )
    text = edit(
        PAR, "when: young people moving to adult services}", "when: young people, share: 0.1}"
    )
    assert one_error(text) == (
        "m.yaml:21:3: error: every start entry has a share, but they add up to 0.9, not 1: "
        "adjust them, or leave one entry without a share to take what is left"
    )
    text = edit(
        PAR, "when: young people moving to adult services}", "when: young people, share: 1.2}"
    )
    assert one_error(text) == "m.yaml:22:45: error: 'share' is 1.2, above the largest allowed (1)"


def test_start_entry_to_an_unknown_step():
    text = edit(PAR, "  - {to: assess, when: young", "  - {to: asess, when: young")
    assert one_error(text) == (
        "m.yaml:22:5: error: start 'asess' is not the id of any step (did you mean 'assess'?)"
    )


def test_start_entries_for_the_same_group():
    text = edit(PAR, "when: young people moving to adult services}", "when: adults}")
    assert one_error(text) == (
        "m.yaml:22:5: error: two start entries are both for 'adults' (first at line 21): name "
        "each group once"
    )


def test_start_as_an_empty_list():
    text = edit(
        PAR,
        "start:\n  - {to: contact, when: adults, share: 0.8}\n"
        "  - {to: assess, when: young people moving to adult services}\n",
        "start: []\n",
    )
    assert one_error(text) == "m.yaml:20:8: error: 'start' is empty: give at least 1"


# --------------------------------------------------------------------------- days: unknown


def test_days_unknown_misspelt():
    text = edit(PAR, "    days: unknown\n", "    days: unknwon\n")
    line = one_error(text)
    assert line == (
        "m.yaml:28:11: error: 'days' should be a number or the word 'unknown', not 'unknwon'"
    )
    assert "unknown" in line.split("error:")[1]


def test_days_unknown_is_only_for_step_days():
    text = edit(PAR, "  review: {first_days: 56,", "  review: {first_days: unknown,")
    assert one_error(text) == "m.yaml:19:24: error: 'first_days' should be a number, not 'unknown'"


# --------------------------------------------------------------------------- restrictions


def test_restriction_with_a_bad_basis():
    text = edit(PAR, "basis: law,", "basis: lawful,")
    assert one_error(text) == (
        "m.yaml:18:63: error: 'lawful' is not a known restriction basis (did you mean 'law'?); "
        "use one of: council, law"
    )


def test_restriction_needs_its_text_and_no_other_keys():
    text = edit(PAR, "{text: A direct payment cannot buy NHS services, basis: law,", "{basis: law,")
    assert one_error(text) == "m.yaml:18:7: error: restriction is missing the required key 'text'"
    text = edit(PAR, "basis: law,", "basis: law, why: rules,")
    assert one_error(text).startswith("m.yaml:18:68: error: unknown key 'why' in restriction;")


# --------------------------------------------------------------------------- sources, assumed


def test_source_ids_are_unique():
    text = edit(
        PAR,
        "  - {id: charging, title: Charging policy}",
        "  - {id: dp_guide, title: Charging policy}",
    )
    text = edit(text, "source: [charging, dp_guide]", "source: dp_guide")
    assert one_error(text) == (
        "m.yaml:7:10: error: source id 'dp_guide' is used twice (first at line 6); ids must be "
        "unique"
    )


def test_a_step_naming_an_unknown_source():
    text = edit(PAR, "    source: dp_guide\n", "    source: dp_gide\n")
    assert one_error(text) == (
        "m.yaml:29:13: error: step 'contact' names the source 'dp_gide', which is not in "
        "'sources' (did you mean 'dp_guide'?)"
    )
    text = edit(PAR, "source: [charging, dp_guide]", "source: [charging, leaflet]")
    assert one_error(text) == (
        "m.yaml:53:13: error: step 'fa' names the source 'leaflet', which is not in 'sources'"
    )


def test_a_source_needs_an_id_and_a_title():
    text = edit(PAR, "  - {id: charging, title: Charging policy}", "  - {id: charging}")
    text = edit(text, "source: [charging, dp_guide]", "source: dp_guide")
    assert one_error(text) == "m.yaml:7:5: error: source is missing the required key 'title'"


def test_step_assumed_names_a_key_a_step_can_have():
    text = edit(PAR, "    assumed: [days, person]\n", "    assumed: [dayz, person]\n")
    line = one_error(text)
    assert line.startswith(
        "m.yaml:35:15: error: 'assumed' of step 'assess' names 'dayz', which is not a key a "
        "step can have (did you mean 'days'?); use one of: name, kind, actor, person, days,"
    )
    # a kind guessed from a drawing's shape or words is an assumption too
    assert load_model_text(
        edit(PAR, "    assumed: [days, person]\n", "    assumed: [kind]\n"), "m.yaml"
    )
    text = edit(PAR, "    assumed: [days, person]\n", "    assumed: [id]\n")
    assert "'assumed' of step 'assess' names 'id', which is not a key a step" in one_error(text)


def test_top_level_assumed_names_a_top_level_key_or_a_policy():
    text = edit(PAR, "assumed: [policies.review]", "assumed: [policies.reveiw]")
    assert one_error(text).startswith(
        "m.yaml:8:11: error: 'assumed' names 'policies.reveiw', which is not a top-level key or "
        "'policies.KEY' that can be assumed (did you mean 'policies.review'?); use one of: "
        "options, targets, authorities, actors, policies, start, policies.allowed_uses,"
    )
    text = edit(PAR, "assumed: [policies.review]", "assumed: [days]")
    assert one_error(text).startswith("m.yaml:8:11: error: 'assumed' names 'days', which is not")
    for good in ("targets", "policies", "policies.dp_review", "options"):
        model = load_model_text(
            edit(PAR, "[policies.review]", f"[policies.review, {good}]"), "m.yaml"
        )
        assert model.assumed == ("policies.review", good)


# --------------------------------------------------------------------------- version 1


FIX = (
    "is new in format 1.1, but this file says 'sdsaudit: 1': change that (line 1) to "
    "'sdsaudit: 1.1'"
)
SOURCES = "sources:\n  - {id: guide, title: Guide}\nactors:\n"
V1_WITH = {
    # what MINIMAL (version 1) gains: the text replaced, its replacement, the errors
    "sources": ("actors:\n", SOURCES, [("6:3", "'sources'")]),
    "top-level assumed": ("actors:\n", "assumed: [targets]\nactors:\n", [("5:10", "'assumed'")]),
    "start as groups": (
        "start: contact\n",
        "start:\n  - {to: contact, when: adults}\n",
        [("9:3", "'start' as a list of groups")],
    ),
    "days: unknown": (
        "    actor: team\n",
        "    actor: team\n    days: unknown\n",
        [("14:11", "'days: unknown'")],
    ),
    "step source": (
        "    actor: team\n",
        "    actor: team\n    source: guide\n",
        [("6:3", "'sources'"), ("16:13", "'source'")],
    ),
    "step assumed": (
        "    actor: team\n",
        "    actor: team\n    assumed: [days]\n",
        [("14:14", "'assumed'")],
    ),
    "policy restriction with a basis": (
        "start: contact\n",
        "policies:\n  restrictions:\n    - {text: No NHS services, basis: law}\nstart: contact\n",
        [("10:7", "a restriction written as {text, basis, ref}")],
    ),
    "step restriction as a record": (
        "    actor: team\n",
        "    actor: team\n    restrictions: [{text: Weekdays only}]\n",
        [("14:20", "a restriction written as {text, basis, ref}")],
    ),
}


@pytest.mark.parametrize("case", sorted(V1_WITH))
def test_version_1_using_a_1_1_addition_is_refused_with_the_fix(case):
    old, new, expected = V1_WITH[case]
    text = edit(MINIMAL, old, new)
    if case == "step source":
        text = edit(text, "actors:\n", SOURCES)
    assert errors(text) == [f"m.yaml:{where}: error: {what} {FIX}" for where, what in expected]
    # the fix the message names works
    load_model_text(edit(text, "sdsaudit: 1\n", "sdsaudit: 1.1\n"), "m.yaml")


def test_version_1_with_a_parallel_step_names_each_new_key():
    text = edit(PAR, "sdsaudit: 1.1\n", "sdsaudit: 1\n")
    fix = FIX
    assert errors(text) == [
        f"m.yaml:6:3: error: 'sources' {fix}",
        f"m.yaml:8:10: error: 'assumed' {fix}",
        f"m.yaml:18:7: error: a restriction written as {{text, basis, ref}} {fix}",
        f"m.yaml:21:3: error: 'start' as a list of groups {fix}",
        f"m.yaml:28:11: error: 'days: unknown' {fix}",
        f"m.yaml:29:13: error: 'source' {fix}",
        f"m.yaml:35:14: error: 'assumed' {fix}",
        f"m.yaml:39:11: error: the step kind 'parallel' {fix}",
        f"m.yaml:40:15: error: 'branches' {fix}",
        f"m.yaml:41:11: error: 'join' {fix}",
        f"m.yaml:53:13: error: 'source' {fix}",
        f"m.yaml:56:9: error: a restriction written as {{text, basis, ref}} {fix}",
    ]


def test_other_versions_are_refused():
    for version in ("1.2", "2", "1.10", "'1.1'"):
        line = one_error(edit(PAR, "sdsaudit: 1.1\n", f"sdsaudit: {version}\n"))
        assert line.startswith("m.yaml:1:11: error: 'sdsaudit' is ") and line.endswith(
            "but this sdsaudit reads format versions 1 and 1.1: write 'sdsaudit: 1.1'"
        )


# --------------------------------------------------------------------------- shipped models


@pytest.mark.parametrize("path", shipped_models(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_model_still_loads(path):
    model = load_model(str(path))
    assert model.version in ("1", "1.1")
    assert len(model.entries) >= 1 and all(e.to in model.step_by_id for e in model.entries)


def test_shipped_models_include_every_model_file():
    # every YAML under process_models/ and examples/ that is a model is in the list above
    found = {p for p in shipped_models()}
    for path in list(ROOT.glob("process_models/*.yaml")) + list(ROOT.glob("examples/**/*.yaml")):
        if "/out" in path.as_posix():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "steps" in data and "sdsaudit" in data:
            assert path in found, path


def uncomment(text: str, first: str, count: int) -> str:
    """``text`` with the comment line starting ``first`` and the ``count - 1`` after it
    switched on (their first '# ' removed)."""
    lines = text.splitlines(keepends=True)
    (at,) = [n for n, line in enumerate(lines) if line.startswith(first)]
    for n in range(at, at + count):
        assert lines[n].lstrip().startswith("# "), lines[n]
        lines[n] = lines[n].replace("# ", "", 1)
    return "".join(lines)


def test_the_starter_examples_of_1_1_work_when_switched_on():
    starter = (ROOT / "process_models" / "starter.yaml").read_text(encoding="utf-8")
    plain = load_model_text(starter, "starter.yaml")
    assert plain.version == "1.1" and plain.blocks == () and not plain.grouped
    assert plain.sources == () and plain.assumed == () and plain.policies.restrictions == ()
    text = uncomment(starter, "# sources:", 2)
    text = uncomment(text, "# assumed: [policies.review]", 1)
    text = uncomment(edit(text, "  restrictions: []\n", ""), "  # restrictions:", 2)
    text = uncomment(text, "  #   - {text: A direct payment cannot buy NHS services", 1)
    text = uncomment(edit(text, "start: first_contact\n", ""), "# start:", 3)
    text = uncomment(edit(text, "    days: 7\n", ""), "    # days: unknown", 3)
    text = uncomment(text, "  # - id: budget_and_charges", 5)  # and as its comment says:
    text = edit(
        text, "{to: indicative_budget, when: eligible", "{to: budget_and_charges, when: eligible"
    )
    text = edit(text, "    next: [financial_assessment]\n", "    next: [planning]\n")
    model = load_model_text(text, "starter.yaml")
    (block,) = model.blocks
    assert block.branches == (("indicative_budget",), ("financial_assessment",))
    assert block.join == "planning"
    assert [e.when for e in model.entries] == ["adults", "young people moving to adult services"]
    assert [s.id for s in model.sources] == ["dp_guide"] and model.assumed == ("policies.review",)
    assert [r.basis for r in model.policies.restrictions] == ["council", "law"]
    assessment = model.step("assessment")
    assert assessment.days_unknown and assessment.sources == ("dp_guide",)
    assert assessment.assumed == ("person",)


# --------------------------------------------------------------------------- JSON Schema


def _as_json(text: str) -> Any:
    return json.loads(
        json.dumps(
            yaml.safe_load(text),
            default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v),
        )
    )


def test_the_json_schema_reads_format_1_1():
    schema = json_schema()
    assert "1.1" in schema["title"] and schema["$id"].endswith("process-model-1.1.json")
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(_as_json(PAR))
    validator.validate(_as_json(nested()))
    validator.validate(_as_json(MINIMAL))


@pytest.mark.parametrize(
    "change",
    [
        ("both", "actor", "team"),
        ("both", "days", 3),
        ("both", "next", ["signoff"]),
        ("contact", "days", "unknwon"),
        ("contact", "branches", ["a", "b"]),
        ("both", "branches", ["plan"]),
    ],
    ids=lambda c: f"{c[0]}.{c[1]}",
)
def test_the_json_schema_refuses_what_the_loader_refuses(change):
    validator = jsonschema.Draft202012Validator(json_schema())
    data = _as_json(PAR)
    assert validator.is_valid(data)
    step_id, key, value = change
    (step,) = [s for s in data["steps"] if s["id"] == step_id]
    step[key] = value
    assert not validator.is_valid(data)


def test_the_json_schema_refuses_bad_start_entries_restrictions_and_sources():
    validator = jsonschema.Draft202012Validator(json_schema())
    data = _as_json(PAR)
    data["start"][1]["rework"] = True
    assert not validator.is_valid(data)
    data = _as_json(PAR)
    del data["start"][1]["when"]
    assert not validator.is_valid(data)
    data = _as_json(PAR)
    data["policies"]["restrictions"][1]["basis"] = "lawful"
    assert not validator.is_valid(data)
    data = _as_json(PAR)
    del data["sources"][0]["title"]
    assert not validator.is_valid(data)
    data = _as_json(PAR)
    data["sdsaudit"] = 1.2
    assert not validator.is_valid(data)


# --------------------------------------------------------------------------- property

KINDS = ("contact", "information", "assessment", "planning", "advocacy", "wait", "arranging")


@st.composite
def block_models(draw) -> tuple[str, dict[str, list[set[str]]]]:
    """A small well-formed 1.1 model as text, and for each parallel step the steps each
    of its branches must hold.

    A chain of units leads to support; a unit is a plain step or (up to two levels deep)
    a parallel block of 2-3 branches, each branch a short chain of units of its own
    that ends in a plain step, so a nested block always joins inside its branch. A
    plain step may loop on itself as rework, and the last plain step of a chain may go
    back to the first, over any blocks between them.
    """
    counter = itertools.count()
    steps: list[dict[str, Any]] = []
    expected: dict[str, list[set[str]]] = {}

    def plain(nxt: str, made: set[str]) -> dict[str, Any]:
        sid = f"s{next(counter)}"
        step: dict[str, Any] = {
            "id": sid,
            "name": f"Step {sid}",
            "kind": draw(st.sampled_from(KINDS)),
            "actor": draw(st.sampled_from(("team", "fin", "person"))),
            "days": draw(st.sampled_from((None, 0, 3, 2.5, "unknown"))),
            "next": [f"{{to: {nxt}}}"],
        }
        if draw(st.booleans()):
            step["next"].insert(0, f"{{to: {sid}, share: 0.25, rework: true}}")
        steps.append(step)
        made.add(sid)
        return step

    def units(nxt: str, depth: int, most: int, in_branch: bool, made: set[str]) -> str:
        """Build a chain of units backwards from ``nxt``; return its first step."""
        plains: list[dict[str, Any]] = []
        for n in range(draw(st.integers(1, most))):
            if depth and (n or not in_branch) and draw(st.booleans()):
                nxt = block(nxt, depth - 1, made)
            else:
                plains.append(plain(nxt, made))
                nxt = plains[-1]["id"]
        if len(plains) > 1 and draw(st.booleans()):  # the last goes back to the first
            plains[0]["next"].insert(0, f"{{to: {plains[-1]['id']}, share: 0.2, rework: true}}")
        return nxt

    def block(join: str, depth: int, made: set[str]) -> str:
        pid = f"p{next(counter)}"
        firsts, branch_sets = [], []
        for _ in range(draw(st.integers(2, 3))):
            inside: set[str] = set()
            firsts.append(units(join, depth, 2, True, inside))
            branch_sets.append(inside)
            made |= inside
        steps.append(
            {
                "id": pid,
                "name": f"Block {pid}",
                "kind": "parallel",
                "branches": f"[{', '.join(firsts)}]",
                "join": join,
            }
        )
        expected[pid] = branch_sets
        made.add(pid)
        return pid

    first = units("support", 2, 4, False, set())

    def flow(step: dict[str, Any]) -> str:
        fields = []
        for key, value in step.items():
            if key == "next":
                value = f"[{', '.join(value)}]"
            if value is not None:
                fields.append(f"{key}: {value}")
        return "  - {" + ", ".join(fields) + "}\n"

    order = draw(st.permutations(steps))  # the order of steps does not matter
    text = (
        "sdsaudit: 1.1\ncouncil: Testshire Council\ntitle: Random blocks\nas_of: 2026-04-01\n"
        "actors:\n  person: {name: The person, kind: person}\n"
        "  team: {name: Adult social care, kind: council}\n"
        "  fin: {name: Finance team, kind: finance}\n"
        f"start: {first}\nsteps:\n"
        + "".join(flow(s) for s in order)
        + "  - {id: support, name: Support, kind: support}\n"
    )
    return text, expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block_models())
def test_well_formed_random_blocks_load_with_disjoint_branches(case):
    text, expected = case
    model = load_model_text(text, "random.yaml")
    parallel = [s.id for s in model.steps if s.kind == "parallel"]
    assert sorted(b.step for b in model.blocks) == sorted(parallel) == sorted(expected)
    for n, block in enumerate(model.blocks):
        step = model.step(block.step)
        assert block.join == step.join
        assert [branch[0] for branch in block.branches] == list(step.branches)
        assert [set(branch) for branch in block.branches] == expected[block.step]
        seen: set[str] = set()
        for branch in block.branches:  # disjoint, and without the parallel step or join
            assert not seen & set(branch) and len(set(branch)) == len(branch)
            seen |= set(branch)
        assert block.step not in seen and block.join not in seen
        for inner in model.blocks[:n]:  # innermost first: inside this block, or apart
            assert block.step not in inner.members
            if inner.step in block.members:
                assert inner.members | {inner.join} <= block.members
            else:
                assert not inner.members & block.members
