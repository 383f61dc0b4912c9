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


@dataclass(frozen=True)
class FindingGroup:
    """The findings listed under one building block."""

    block: str
    name: str
    meaning: str
    findings: tuple[FindingView, ...]


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
    step_notes: bool = False
    """Whether any step has a note (the step table leaves the column out otherwise)."""
