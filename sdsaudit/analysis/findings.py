"""Findings: what the rules report. Frozen dataclasses with one serialiser each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..vocab import BLOCKS, SEVERITIES  # noqa: F401 - re-exported for the rule layers


@dataclass(frozen=True)
class Finding:
    """One problem a rule found in a model.

    ``rule``, ``slug``, ``severity`` and ``blocks`` are stamped by the engine from
    the catalogue, never by the rule itself. ``steps`` are step ids in a stable
    order (empty for a finding about the model as a whole). ``subject`` holds the
    extra words the finding is about (an artefact, a topic, an option), so that
    findings can be matched year on year and by scoring.
    """

    rule: str
    slug: str
    severity: str
    blocks: tuple[str, ...]
    steps: tuple[str, ...]
    message: str
    path: str = ""
    line: int | None = None
    subject: tuple[str, ...] = ()
    waived: bool = False
    waiver_reason: str | None = None
    assumptions: tuple[Assumption, ...] = ()

    @property
    def rests_on_assumption(self) -> bool:
        """Whether something the finding rests on is marked ``assumed`` in the model."""
        return bool(self.assumptions)

    @property
    def key(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """Identity across runs and years: rule, steps and subject."""
        return (self.rule, self.steps, self.subject)

    @property
    def counts(self) -> bool:
        """Whether it can change the exit code (waived findings never do)."""
        return not self.waived

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (keys as in ``docs/cli.md``)."""
        return {
            "rule": self.rule,
            "slug": self.slug,
            "severity": self.severity,
            "blocks": list(self.blocks),
            "steps": list(self.steps),
            "line": self.line,
            "message": self.message,
            "subject": list(self.subject),
            "waived": self.waived,
            "waiver_reason": self.waiver_reason,
            "assumptions": [a.as_dict() for a in self.assumptions],
        }


@dataclass(frozen=True)
class Assumption:
    """What a finding rests on that the model marks as assumed: some fields of a step,
    or (``step`` ``None``) a top-level key such as ``policies.review``."""

    fields: tuple[str, ...]
    step: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.step is None:
            return {"field": self.fields[0]}
        return {"step": self.step, "fields": list(self.fields)}


@dataclass(frozen=True)
class Issue:
    """What a rule function yields: the engine turns it into a :class:`Finding`.

    A rule names the steps and says what is wrong; it cannot set its own id or
    severity.
    """

    steps: tuple[str, ...]
    message: str
    subject: tuple[str, ...] = ()
    line: int | None = None
    rests_on: tuple[str, ...] = ()
    """Top-level keys the finding rests on (``targets``, ``policies.review`` ...)."""
    timed: tuple[str, ...] = ()
    """Steps whose days count toward the figure the finding is about."""


@dataclass(frozen=True)
class NotAssessable:
    """Yielded by a rule when the model lacks the data it needs."""

    reason: str


@dataclass(frozen=True)
class RuleNote:
    """A rule that could not be assessed, or that crashed, for one model."""

    rule: str
    kind: str  # "not_assessable" or "rule_error"
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class CheckResult:
    """Everything ``check`` learns about one model."""

    path: str
    council: str
    title: str
    as_of: str
    findings: tuple[Finding, ...]
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: tuple[RuleNote, ...] = ()

    @property
    def rule_errors(self) -> tuple[RuleNote, ...]:
        return tuple(n for n in self.notes if n.kind == "rule_error")

    def as_dict(self) -> dict[str, Any]:
        """The per-model JSON object of ``check --format json``."""
        return {
            "path": self.path,
            "council": self.council,
            "title": self.title,
            "as_of": self.as_of,
            "findings": [f.as_dict() for f in self.findings],
            "metrics": dict(self.metrics),
            "not_assessed": [n.as_dict() for n in self.notes if n.kind == "not_assessable"],
            "rule_errors": [n.as_dict() for n in self.rule_errors],
        }
