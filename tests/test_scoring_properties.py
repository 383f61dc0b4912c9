"""Property-based tests of the scores (hypothesis).

* Raising ``person`` at a step never lowers its heard score (nor any other score).
* Removing a finding's cause (lowering days or forms, removing a repeated ask,
  deleting a restriction, offering another option or use, no prepaid card by
  default, telling the budget, contribution or options earlier) never lowers any
  score, per step or overall, with the real rule engine.
* Dropping any one finding from a check result never lowers any score; a figure
  that goes down never lowers a score.
* Every score is rebuilt exactly by its reasons, lies in 0..100, and is the same
  on every run.
"""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsaudit.analysis.engine import check_model
from sdsaudit.analysis.findings import BLOCKS, CheckResult, Finding
from sdsaudit.model.loader import load_model_text
from sdsaudit.model.objects import PERSON_LEVELS
from sdsaudit.model.source import dump
from sdsaudit.scoring.scores import ScoreReport, score_model

KINDS = (
    "contact",
    "information",
    "assessment",
    "eligibility",
    "financial_assessment",
    "allocation",
    "planning",
    "advocacy",
    "approval",
    "arranging",
    "decision",
    "wait",
)
ACTORS = {
    "person": "person",
    "carer": "carer",
    "team": "council",
    "other_team": "council",
    "finance": "finance",
    "panel": "panel",
}
TOPICS = ("contact_details", "income", "daily_living", "what_matters", "gp_details")
TELLS = (
    "process",
    "charging_rules",
    "indicative_budget",
    "contribution",
    "final_budget",
    "options",
)
ARTEFACTS = (
    "assessment",
    "support_plan",
    "final_budget",
    "indicative_budget",
    "financial_assessment",
)
OPTIONS = ("direct_payment", "individual_service_fund", "council_managed", "mixed")
USES = ("personal_assistants", "community_activities", "equipment", "traditional_services")
RESTRICTIONS = ("Approved providers only", "Receipts every month", "No family carers paid")

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def model_data(draw) -> dict:
    """A random valid model, as plain data: forward arrows, sometimes a loop back."""
    n = draw(st.integers(min_value=2, max_value=7))
    ids = [f"s{i}" for i in range(n)]
    steps = []
    for i, sid in enumerate(ids):
        kind = draw(st.sampled_from(KINDS))
        step: dict = {
            "id": sid,
            "name": f"Step {i}",
            "kind": kind,
            "actor": draw(st.sampled_from(sorted(ACTORS))),
            "person": draw(st.sampled_from(PERSON_LEVELS)),
            "days": draw(st.sampled_from([0, 1, 2.5, 3, 7, 14, 21, 40])),
            "forms": draw(st.integers(min_value=0, max_value=3)),
            "asks": draw(st.lists(st.sampled_from(TOPICS), max_size=3, unique=True)),
            "tells": draw(st.lists(st.sampled_from(TELLS), max_size=2, unique=True)),
            "produces": draw(st.lists(st.sampled_from(ARTEFACTS), max_size=2, unique=True)),
        }
        if draw(st.integers(0, 3)) == 0:
            step["restrictions"] = [draw(st.sampled_from(RESTRICTIONS))]
        if kind == "approval":
            step["authority"] = draw(st.sampled_from(["low", "top"]))
            step["approves"] = draw(
                st.lists(st.sampled_from(ARTEFACTS), min_size=1, max_size=2, unique=True)
            )
        later = ids[i + 1 :] + ["support", "gone"]
        targets = draw(st.lists(st.sampled_from(later), min_size=1, max_size=2, unique=True))
        step["next"] = [{"to": t} for t in targets]
        if i > 0 and draw(st.integers(0, 4)) == 0:
            step["next"].append(
                {"to": draw(st.sampled_from(ids[: i + 1])), "rework": draw(st.booleans())}
            )
        steps.append(step)
    steps.append({"id": "support", "name": "Support", "kind": "support", "next": ["rv"]})
    steps.append(
        {
            "id": "rv",
            "name": "Review",
            "kind": "review",
            "actor": "team",
            "person": draw(st.sampled_from(PERSON_LEVELS)),
            "asks": ["income"],
            "next": ["support"],
        }
    )
    steps.append({"id": "gone", "name": "Withdrew", "kind": "end", "outcome": "withdrew"})
    data: dict = {
        "sdsaudit": 1,
        "council": "Random Council",
        "title": "Random",
        "as_of": "2026-04-01",
        "authorities": [{"id": "low", "name": "Low", "limit": 500}, {"id": "top", "name": "Top"}],
        "actors": {a: {"name": a.title(), "kind": k} for a, k in ACTORS.items()},
        "start": "s0",
        "steps": steps,
    }
    if draw(st.booleans()):
        data["options"] = draw(st.lists(st.sampled_from(OPTIONS), max_size=4, unique=True))
    policies: dict = {}
    if draw(st.booleans()):
        policies["allowed_uses"] = draw(st.lists(st.sampled_from(USES), max_size=4, unique=True))
    policies["restrictions"] = draw(
        st.lists(st.sampled_from(RESTRICTIONS), max_size=2, unique=True)
    )
    if draw(st.booleans()):
        policies["prepaid_card_default"] = draw(st.booleans())
    data["policies"] = policies
    if draw(st.booleans()):
        data["targets"] = {
            "max_days_to_support": draw(st.sampled_from([10, 28, 60])),
            "max_forms": draw(st.integers(0, 3)),
        }
    return data


def scores_of(data: dict) -> ScoreReport:
    model = load_model_text(dump(data), "random.yaml")
    return score_model(model, check_model(model))


def assert_not_lower(before: ScoreReport, after: ScoreReport, what: str) -> None:
    for block in BLOCKS:
        assert after.overall.of(block) >= before.overall.of(block), (what, "overall", block)
    old = {s.id: s.scores for s in before.steps}
    for s in after.steps:
        for block in BLOCKS:
            assert s.scores.of(block) >= old[s.id].of(block), (what, s.id, block)


def rebuilt(report: ScoreReport) -> None:
    for scores in [report.overall, *(s.scores for s in report.steps)]:
        for block in BLOCKS:
            value = scores.of(block)
            assert 0 <= value <= 100
            assert sum(r.points for r in scores.reasons if r.block == block) == value


# --------------------------------------------------------------------------- mutations


def _main_steps(data: dict) -> list[dict]:
    return [s for s in data["steps"] if s["kind"] not in ("support", "end")]


@st.composite
def removal(draw, data: dict) -> tuple[str, dict]:
    """A change to ``data`` that removes (or reduces) the cause of some finding."""
    new = copy.deepcopy(data)
    steps = _main_steps(new)
    choices = ["days", "forms", "ask", "restriction", "tell"]
    if new.get("options") is not None and len(new["options"]) < 4:
        choices.append("option")
    if new["policies"].get("allowed_uses") is not None:
        choices.append("use")
    if new["policies"].get("prepaid_card_default"):
        choices.append("prepaid")
    what = draw(st.sampled_from(choices))
    step = draw(st.sampled_from(steps))
    if what == "days":
        days = step.get("days", 0)
        step["days"] = draw(st.sampled_from([0, days / 2, max(0, days - 1)]))
    elif what == "forms":
        step["forms"] = draw(st.integers(0, step.get("forms", 0)))
    elif what == "ask" and step.get("asks"):
        step["asks"].remove(draw(st.sampled_from(step["asks"])))
    elif what == "restriction":
        holders = [s for s in steps if s.get("restrictions")]
        if new["policies"]["restrictions"] and (not holders or draw(st.booleans())):
            new["policies"]["restrictions"].pop(
                draw(st.integers(0, len(new["policies"]["restrictions"]) - 1))
            )
        elif holders:
            draw(st.sampled_from(holders)).pop("restrictions")
    elif what == "tell":
        word = draw(st.sampled_from(["indicative_budget", "contribution", "options"]))
        step["tells"] = sorted(set(step.get("tells", [])) | {word})
    elif what == "option":
        new["options"].append(
            draw(st.sampled_from([o for o in OPTIONS if o not in new["options"]]))
        )
    elif what == "use":
        missing = [u for u in USES if u not in new["policies"]["allowed_uses"]]
        if missing:
            new["policies"]["allowed_uses"].append(draw(st.sampled_from(missing)))
    elif what == "prepaid":
        new["policies"]["prepaid_card_default"] = False
    return f"{what} at {step['id']}", new


@SETTINGS
@given(st.data())
def test_removing_a_findings_cause_never_lowers_any_score(data):
    before = data.draw(model_data())
    what, after = data.draw(removal(before))
    assert_not_lower(scores_of(before), scores_of(after), what)


@SETTINGS
@given(st.data())
def test_raising_person_at_a_step_never_lowers_its_heard_score(data):
    before = data.draw(model_data())
    after = copy.deepcopy(before)
    candidates = [s for s in after["steps"] if s["kind"] not in ("support", "end")]
    step = data.draw(st.sampled_from(candidates))
    level = PERSON_LEVELS.index(step.get("person", "absent"))
    step["person"] = data.draw(st.sampled_from(PERSON_LEVELS[level:]))
    old, new = scores_of(before), scores_of(after)
    heard = {s.id: s.scores.heard for s in old.steps}
    assert next(s for s in new.steps if s.id == step["id"]).scores.heard >= heard[step["id"]]
    assert_not_lower(old, new, f"person at {step['id']}")


@SETTINGS
@given(model_data())
def test_reasons_rebuild_every_score_and_runs_are_identical(data):
    first, second = scores_of(data), scores_of(data)
    rebuilt(first)
    assert json.dumps(first.as_dict()) == json.dumps(second.as_dict())


# --------------------------------------------------------------------------- scoring alone

RULES = (
    "SIMPLE-01",
    "AUTH-02",
    "AUTH-03",
    "HEARD-01",
    "HEARD-02",
    "HEARD-03",
    "CONTROL-01",
    "CONTROL-02",
    "SEQ-03",
    "SEQ-04",
    "STRUCT-04",
    "NEW-99",
)
BLOCK_SETS = (("heard",), ("simple",), ("in_control",), ("heard", "in_control"))


@st.composite
def hand_findings(draw, step_ids: list[str]) -> list[Finding]:
    out = []
    for _ in range(draw(st.integers(0, 12))):
        out.append(
            Finding(
                rule=draw(st.sampled_from(RULES)),
                slug="x",
                severity=draw(st.sampled_from(["info", "warning", "error"])),
                blocks=draw(st.sampled_from(BLOCK_SETS)),
                steps=tuple(draw(st.lists(st.sampled_from(step_ids), max_size=3))),
                message="m",
                subject=tuple(draw(st.lists(st.sampled_from(OPTIONS), max_size=3, unique=True))),
                waived=draw(st.booleans()),
            )
        )
    return out


FIGURES = st.fixed_dictionaries(
    {},
    optional={
        "expected_days_to_support": st.one_of(
            st.none(), st.floats(0, 400).map(lambda x: round(x, 1))
        ),
        "handoffs_max": st.one_of(st.none(), st.integers(0, 15)),
        "approvals_max": st.one_of(st.none(), st.integers(0, 6)),
        "forms_max": st.one_of(st.none(), st.integers(0, 10)),
        "assessments_max": st.one_of(st.none(), st.integers(0, 4)),
        "share_withdrawing": st.floats(0, 1).map(lambda x: round(x, 4)),
    },
)


def check_result(findings, metrics) -> CheckResult:
    return CheckResult(
        path="random.yaml",
        council="C",
        title="T",
        as_of="2026-04-01",
        findings=tuple(findings),
        metrics=dict(metrics),
    )


@SETTINGS
@given(st.data())
def test_dropping_any_finding_never_lowers_any_score(data):
    model = load_model_text(dump(data.draw(model_data())), "random.yaml")
    findings = data.draw(hand_findings([s.id for s in model.steps]))
    metrics = data.draw(FIGURES)
    full = score_model(model, check_result(findings, metrics))
    rebuilt(full)
    if findings:
        i = data.draw(st.integers(0, len(findings) - 1))
        fewer = findings[:i] + findings[i + 1 :]
        assert_not_lower(full, score_model(model, check_result(fewer, metrics)), "drop")


@SETTINGS
@given(st.data())
def test_a_lower_figure_never_lowers_a_score(data):
    model = load_model_text(dump(data.draw(model_data())), "random.yaml")
    metrics = data.draw(FIGURES)
    if not metrics:
        return
    key = data.draw(st.sampled_from(sorted(metrics)))
    lower = dict(metrics)
    value = metrics[key]
    # a figure that could not be worked out (None) is the worst case of all
    lower[key] = 0 if value is None else data.draw(st.sampled_from([0, value / 2, value]))
    assert_not_lower(
        score_model(model, check_result((), metrics)),
        score_model(model, check_result((), lower)),
        key,
    )
