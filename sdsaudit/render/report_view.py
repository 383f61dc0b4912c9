"""The report's view-model: plain frozen dataclasses holding every word the report shows.

:func:`sdsaudit.render.report.build_view` fills a :class:`ReportView` from a model, its
findings and scores, and the map as drawn (:class:`DrawnMap`); the templates
(``templates/report.html.j2``, ``templates/report.md.j2``) only loop over it and test it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .map import OutlineLane


@dataclass(frozen=True)
class Rating:
    """A 0-100 score with its word: colour is never the only signal."""

    score: int | None
    word: str
    css: str

    @property
    def text(self) -> str:
        return "not scored" if self.score is None else f"{self.score} out of 100, {self.word}"

    @property
    def short(self) -> str:
        """For table cells: ``72 (needs work)``."""
        return "not scored" if self.score is None else f"{self.score} ({self.word})"


@dataclass(frozen=True)
class BlockScore:
    """One building block in the summary."""

    block: str
    name: str
    meaning: str
    easy: str
    rating: Rating
    best: str = ""
    """``up to 63 once the policies left out are known`` when what the model leaves out or
    nobody knows is counted at its worst here; empty when the score is already its best."""


@dataclass(frozen=True)
class FindingView:
    """One numbered finding, with everything the report says about it."""

    number: int
    rule: str
    slug: str
    title: str
    severity: str
    severity_word: str
    severity_meaning: str
    block: str
    block_names: str
    steps: tuple[str, ...]
    message: str
    rationale: str
    evidence: str
    recommendation: str
    question: str
    line: int | None
    assumptions: tuple[tuple[str, str], ...] = ()
    """What the finding rests on that the model marks assumed: what, in words (``how long
    it takes``, ``when reviews happen``), and the step's name (empty for the whole model)."""
    assumption: str = ""
    """The label: ``Rests on an assumption: confirm how long it takes at 'Funding panel'``,
    or empty."""


@dataclass(frozen=True)
class TopProblem:
    """One of the main problems in the summary: a rule's findings, with where they happen.

    ``points`` is the problem's measured weight: the score points its findings take off,
    over every block, step and the whole process (waived findings left out)."""

    rule: str
    title: str
    severity: str
    severity_word: str
    note: str
    numbers: tuple[int, ...]
    places: tuple[str, ...]
    whole_process: bool
    points: int
    assumption: str = ""
    """``Rests on an assumption: confirm ...`` when any of its findings does, else empty."""


@dataclass(frozen=True)
class FindingGroup:
    """The findings listed under one building block (or, last, the notes about the model
    itself)."""

    block: str
    name: str
    meaning: str
    findings: tuple[FindingView, ...]
    noun: str = "problem"


@dataclass(frozen=True)
class StepRow:
    """One row of the per-step score table."""

    id: str
    name: str
    team: str
    heard: Rating
    simple: Rating
    in_control: Rating
    reasons: tuple[str, ...]
    note: str
    findings: tuple[int, ...]


@dataclass(frozen=True)
class ThemeRow:
    """One Making it Real theme and its status."""

    id: str
    name: str
    status: str
    css: str
    rules: tuple[str, ...]
    explanation: str = ""
    problems: tuple[int, ...] = ()
    """Numbers of the problems (not waived) behind the status."""


@dataclass(frozen=True)
class MetricRow:
    """One measure with a plain-English label."""

    key: str
    label: str
    value: str
    target: str
    against_target: str = ""
    """``over the target``, ``within the target``, or empty when there is no target."""
    over_target: bool = False
    """Whether the value is over the council's target (the report shows it in bold)."""


@dataclass(frozen=True)
class GroupRow:
    """One group of people (``start`` as a list of groups) and the figures of its routes
    alone; ``cells`` follow :attr:`ReportView.group_columns`."""

    when: str
    start: str
    share: str
    cells: tuple[MetricRow, ...]


@dataclass(frozen=True)
class LawLimit:
    """A restriction the law sets (``basis: law``), which the council cannot change."""

    text: str
    ref: str
    """The law it comes from, as the model names it, or empty."""
    where: str
    """The step it applies at, or empty for the whole process."""


@dataclass(frozen=True)
class SourceRow:
    """A document the model is built from (its ``sources``), shown as text: the address
    is never a link, so the report stays free of any URL that could be followed."""

    title: str
    published: str
    url: str
    note: str
    steps: tuple[str, ...]
    """The steps documented in it, in order from the start."""


@dataclass(frozen=True)
class WaiverRow:
    """An accepted finding and why it was accepted."""

    rule: str
    title: str
    step: str
    reason: str
    waived: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """A question for the co-production group, and the findings it comes from."""

    text: str
    rule: str
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class DrawnMap:
    """The map as drawn for a report: SVG text, or ``None`` and why it could not be."""

    svg: str | None = None
    unavailable: str | None = "drawing was switched off"


@dataclass(frozen=True)
class MapView:
    """The map (SVG text, or ``None`` with the reason) and its text alternative."""

    svg: str | None
    unavailable: str | None
    title: str
    lanes: tuple[OutlineLane, ...]
    text: str
    whole_process: tuple[int, ...]
    orientation: str = "portrait"
    """The printed page that fits the map best: ``portrait`` or ``landscape``."""


@dataclass(frozen=True)
class NoteRow:
    """A rule that could not be assessed or that failed."""

    rule: str
    message: str


@dataclass(frozen=True)
class ReportView:
    """Everything a report template shows, already in words."""

    council: str
    title: str
    as_of: str
    path: str
    description: str
    version: str
    view: str
    blocks: tuple[BlockScore, ...]
    top_problems: tuple[TopProblem, ...]
    finding_count: int
    map: MapView
    groups: tuple[FindingGroup, ...]
    steps: tuple[StepRow, ...]
    themes: tuple[ThemeRow, ...]
    metrics: tuple[MetricRow, ...]
    waivers: tuple[WaiverRow, ...]
    questions: tuple[Question, ...]
    easy_read: tuple[str, ...]
    easy_problems: tuple[str, ...]
    not_assessed: tuple[NoteRow, ...]
    rule_errors: tuple[NoteRow, ...]
    rules_run: int
    sources: tuple[str, ...]
    evidence: tuple[str, ...]
    scored: bool
    experience: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    calibration: Any = None
    """The process as recorded (``sdsaudit.calibrate.view.CalibrationView``), or ``None``."""
    step_notes: bool = False
    """Whether any step has a note (the step table leaves the column out otherwise)."""
    unknowns: tuple[str, ...] = ()
    """What the scores count at its worst because the model leaves it out or nobody knows
    it, one sentence each; empty when every score is already its best."""
    assumed_numbers: tuple[int, ...] = ()
    """The problems that rest on an assumption."""
    assumed_summary: str = ""
    """``3 problems rest on assumptions``, or empty when none does."""
    group_columns: tuple[str, ...] = ()
    """The column labels of the table of routes for each group of people."""
    route_groups: tuple[GroupRow, ...] = ()
    """Each group's figures, when ``start`` is a list of groups; empty otherwise."""
    law_limits: tuple[LawLimit, ...] = ()
    """The restrictions set by law, the whole process's first, then step by step."""
    model_sources: tuple[SourceRow, ...] = ()
    """The documents the model is built from (not the evidence behind the rules)."""
    assumed: tuple[str, ...] = ()
    """What the model marks as assumed, in words (``When reviews happen``, ``How long it
    takes at 'Assessment'``)."""
