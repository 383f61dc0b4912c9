"""One prepared audit per model: everything the outputs need, computed once.

:func:`prepare` builds the graph context, runs the rules, scores the model, and
numbers the findings and orders the steps the way every output shows them; the
report, the map, the stock-take, the benchmark and redesign all take the
:class:`Audit` instead of working these out again (a test counts the graph
contexts built per command: one per model).

With survey evidence, the GAP findings join the findings the outputs show and count
towards the exit code like any other finding. They do not change the building-block
scores: the scores rate the process as the council describes it, and the survey is
set beside them (``docs/scoring.md``, "Survey evidence and the scores").
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis.engine import check_model
from .analysis.findings import CheckResult
from .analysis.graph import Context
from .model.catalogue import Catalogue, load_catalogue
from .model.objects import Model, Step
from .render.present import NumberedFinding, number_findings, step_order
from .scoring import ScoreReport, score_model
from .survey.experience import ExperienceView, with_experience
from .survey.summary import SurveySummary


@dataclass(frozen=True)
class Audit:
    """One model, checked and scored, ready for every output."""

    model: Model
    catalogue: Catalogue
    """The rules the findings come from (the GAP rules too, with a survey)."""
    context: Context
    result: CheckResult
    """The findings the outputs show: the core rules', then the GAP rules'."""
    scores: ScoreReport
    numbered: tuple[NumberedFinding, ...]
    """The findings as numbered on the map and in the report."""
    order: tuple[Step, ...]
    """The steps in the order the map in words and the tables list them."""
    experience: ExperienceView | None = None


def prepare(
    model: Model,
    catalogue: Catalogue | None = None,
    *,
    use_waivers: bool = True,
    survey: SurveySummary | None = None,
) -> Audit:
    """Check, score, number and order ``model`` once, building its graph context once."""
    catalogue = catalogue or load_catalogue()
    context = Context(model)
    result = check_model(model, catalogue, use_waivers=use_waivers, context=context)
    scores = score_model(model, result, context=context)  # scored before the GAP findings
    experience = None
    if survey is not None:
        result, catalogue, experience = with_experience(
            model, result, survey, catalogue, context=context, use_waivers=use_waivers
        )
    return Audit(
        model=model,
        catalogue=catalogue,
        context=context,
        result=result,
        scores=scores,
        numbered=number_findings(result),
        order=tuple(step_order(model)),
        experience=experience,
    )
