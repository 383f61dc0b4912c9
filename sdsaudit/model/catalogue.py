"""The rule catalogue: each rule's data in one entry of ``criteria/rules.yaml``.

An entry holds everything about a rule that is not logic: id, slug, title, building
blocks, Making it Real themes, severity, rationale, evidence, recommendation, the
options the rule reads (with their defaults), what a finding costs in the scores
(``score``) and whether ``sdsaudit redesign`` proposes a change for it (``fix``). The
logic of each rule lives in :mod:`sdsaudit.rules`. This module declares the format of
``rules.yaml``, ``gap.yaml`` (the GAP rules and their thresholds) and ``themes.yaml``,
reads them with :mod:`sdsaudit.model.datafile` and builds the typed objects.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import UsageError
from ..vocab import BLOCKS, SEVERITIES
from . import datafile as D
from . import schema as S

AT_MODES = ("each", "last", "later", "none")
"""Which of a finding's steps lose points (the ``at`` of a rule's ``score``)."""

GAP_THRESHOLDS = (
    "knew_amount_min",
    "views_fully_min",
    "council_managed_max",
    "information_easy_min",
    "agreeing_easy_min",
    "pa_or_community_min",
)
"""The thresholds the GAP rules compare with (``thresholds`` in ``criteria/gap.yaml``)."""


@dataclass(frozen=True)
class FindingWeight:
    """What one rule's findings cost (the ``score`` of its catalogue entry)."""

    rule: str
    at: str
    step: Mapping[str, int]
    overall: Mapping[str, int]
    cap: Mapping[str, int]
    reason: str
    per_subject: bool = False
    extra: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Fix:
    """What ``sdsaudit redesign`` does about a rule's findings: ``proposed`` (``text`` says
    which change it tries) or not (``text`` says why not, as the redesign shows it)."""

    proposed: bool
    text: str


@dataclass(frozen=True)
class RuleInfo:
    """One rule's metadata, as written in ``criteria/rules.yaml``."""

    id: str
    slug: str
    title: str
    severity: str
    blocks: tuple[str, ...]
    themes: tuple[str, ...]
    rationale: str
    evidence: str
    recommendation: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    question: str = ""
    """A question for a co-production group, drawn from this finding."""
    score: FindingWeight | None = field(default=None, compare=False)
    """What a finding costs in the scores (``None``: the default for its severity)."""
    fix: Fix | None = None
    """Whether redesign proposes a change for it (``None`` for the GAP rules)."""

    @property
    def family(self) -> str:
        return self.id.split("-")[0]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "slug": self.slug,
            "title": self.title,
            "severity": self.severity,
            "blocks": list(self.blocks),
            "themes": list(self.themes),
            "rationale": self.rationale,
            "evidence": self.evidence,
            "recommendation": self.recommendation,
            "options": dict(self.options),
            "question": self.question,
        }


@dataclass(frozen=True)
class Catalogue:
    """All rules, in catalogue order."""

    rules: tuple[RuleInfo, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)

    def get(self, rule_id: str) -> RuleInfo:
        """The rule with this id or slug; :class:`UsageError` with a suggestion if none."""
        for rule in self.rules:
            if rule_id in (rule.id, rule.slug) or rule_id.upper() == rule.id:
                return rule
        raise UsageError(
            f"unknown rule '{rule_id}'{D.did_you_mean(rule_id.upper(), self.ids)}; "
            "run 'sdsaudit rules' for the list"
        )

    def select(
        self, select: list[str] | None = None, ignore: list[str] | None = None
    ) -> tuple[RuleInfo, ...]:
        """Rules chosen by ids, slugs, family prefixes (``AUTH``) or globs (``SEQ-0*``).

        A pattern matching no rule is a :class:`UsageError` with a suggestion.
        """
        chosen = list(self.rules)
        if select:
            chosen = [r for r in self.rules if any(self._match(p, r) for p in select)]
        for pattern in (select or []) + (ignore or []):
            if not any(self._match(pattern, r) for r in self.rules):
                self.get(pattern)  # raises with a did-you-mean
        if ignore:
            chosen = [r for r in chosen if not any(self._match(p, r) for p in ignore)]
        return tuple(chosen)

    @staticmethod
    def _match(pattern: str, rule: RuleInfo) -> bool:
        p = pattern.strip()
        return (
            p.upper() == rule.id
            or p == rule.slug
            or p.upper() == rule.family
            or fnmatch.fnmatchcase(rule.id, p.upper())
            or fnmatch.fnmatchcase(rule.slug, p)
        )


# --------------------------------------------------------------------------- the format

RULE_ID = S.Text(
    pattern=r"^[A-Z]+-[0-9]{2}$", hint="a family in capitals, '-' and two digits, such as AUTH-03"
)
SLUG = S.Text(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", hint="lower-case words joined by '-'")
POINTS = S.Number(minimum=0, integer=True, description="whole points")
BLOCK = S.Word(words=BLOCKS, vocabulary="building block")
BLOCK_POINTS = D.Table(key=BLOCK, value=POINTS, description="points by building block")
NO_POINTS: Mapping[str, int] = MappingProxyType({})

SCORE = S.Record(
    name="score",
    description="what a finding of the rule costs (docs/scoring.md)",
    keys={
        "at": S.Key(S.Word(words=AT_MODES, vocabulary="'at' mode"), required=True),
        "step": S.Key(BLOCK_POINTS, required=True),
        "overall": S.Key(BLOCK_POINTS, required=True),
        "cap": S.Key(BLOCK_POINTS, default=NO_POINTS),
        "per_subject": S.Key(S.Flag(), default=False),
        "extra": S.Key(D.Table(value=POINTS), default=NO_POINTS),
        "reason": S.Key(D.Prose(fold=True), required=True),
    },
)
FIX = D.OneOf(
    name="fix",
    description="'proposed: the change redesign tries', or 'none: why it proposes nothing'",
    keys={"proposed": D.Prose(fold=True), "none": D.Prose(fold=True)},
)
_RULE_KEYS = {
    "id": S.Key(RULE_ID, required=True),
    "slug": S.Key(SLUG, required=True),
    "title": S.Key(D.Prose(), required=True),
    "severity": S.Key(S.Word(words=SEVERITIES, vocabulary="severity"), required=True),
    "blocks": S.Key(S.ListOf(item=BLOCK, unique=True), required=True),
    "themes": S.Key(
        S.ListOf(item=D.Ref(ref="theme", vocabulary="Making it Real theme"), unique=True),
        required=True,
    ),
    "rationale": S.Key(D.Prose(), required=True),
    "evidence": S.Key(D.Prose(), required=True),
    "recommendation": S.Key(D.Prose(), required=True),
    "options": S.Key(
        D.Table(value=S.Number(minimum=0), description="option name: default"),
        default=NO_POINTS,
    ),
    "question": S.Key(D.Prose(), default=""),
}
RULE = S.Record(
    name="rule",
    keys={**_RULE_KEYS, "score": S.Key(SCORE), "fix": S.Key(FIX, required=True)},
)
RULES_FILE = S.Record(
    name="the rule catalogue",
    keys={
        "rules": S.Key(
            D.Records(item=RULE, unique_keys=("id", "slug"), min_items=1), required=True
        ),
    },
)
THRESHOLD = S.Record(
    name="threshold",
    keys={
        "value": S.Key(S.Number(minimum=0, maximum=1, description="a share"), required=True),
        "rules": S.Key(S.ListOf(item=RULE_ID, unique=True, min_items=1), required=True),
        "rationale": S.Key(D.Prose(), required=True),
    },
)
GAP_FILE = S.Record(
    name="the gap rules file",
    keys={
        "rules": S.Key(
            D.Records(item=S.Record(name="gap rule", keys=_RULE_KEYS), unique_keys=("id", "slug")),
            required=True,
        ),
        "thresholds": S.Key(
            S.Record(
                name="thresholds",
                keys={name: S.Key(THRESHOLD, required=True) for name in GAP_THRESHOLDS},
            ),
            required=True,
        ),
    },
)
THEME = S.Record(
    name="theme",
    keys={
        "id": S.Key(S.Text(pattern=r"^MIR-[A-Z]+$", hint="'MIR-' and capitals"), required=True),
        "name": S.Key(D.Prose(fold=True), required=True),
        "gists": S.Key(S.ListOf(item=D.Prose(fold=True), min_items=1), required=True),
    },
)
THEMES_FILE = S.Record(
    name="the themes file",
    keys={
        "version": S.Key(S.Number(minimum=1, maximum=1, integer=True), required=True),
        "themes": S.Key(D.Records(item=THEME, unique_keys=("id",), min_items=1), required=True),
    },
)


# --------------------------------------------------------------------------- reading


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """The core rules (``criteria/rules.yaml`` unless ``path``). Read once per process.

    Raises :class:`~sdsaudit.errors.ConfigError` with every problem, each positioned.
    """
    file = path or D.criteria_file("rules.yaml")
    return D.build(file, RULES_FILE, _catalogue, refs={"theme": theme_ids()})


def load_gap_rules(path: Path | str | None = None) -> Catalogue:
    """The survey gap rules (the ``rules`` of ``criteria/gap.yaml`` unless ``path``)."""
    file = path or D.criteria_file("gap.yaml")
    return D.build(file, GAP_FILE, _catalogue, refs={"theme": theme_ids()})


def load_gap_thresholds(path: Path | str | None = None) -> Mapping[str, float]:
    """Threshold name -> value (the ``thresholds`` of ``criteria/gap.yaml`` unless ``path``)."""
    file = path or D.criteria_file("gap.yaml")
    return D.build(file, GAP_FILE, _thresholds, refs={"theme": theme_ids()})


def load_theme_file(path: Path | str | None = None) -> Any:
    """The checked contents of ``criteria/themes.yaml`` (or ``path``)."""
    return D.load(path or D.criteria_file("themes.yaml"), THEMES_FILE)


def theme_ids() -> tuple[str, ...]:
    """The Making it Real theme ids a rule may name (from ``criteria/themes.yaml``)."""
    return tuple(theme["id"] for theme in load_theme_file()["themes"])


def waivable_rule_ids() -> frozenset[str]:
    """Every rule id a model's waiver may name: the core catalogue's and the survey
    gap rules' (``criteria/gap.yaml``), which run when a survey is given."""
    gap = D.criteria_file("gap.yaml")
    return frozenset(load_catalogue().ids) | frozenset(load_gap_rules().ids if gap.exists() else ())


def _catalogue(values: D.Entry, reader: D.Reader) -> Catalogue:
    return Catalogue(tuple(_rule(entry, reader) for entry in values["rules"]))


def _rule(entry: D.Entry, reader: D.Reader) -> RuleInfo:
    score = entry.get("score")
    fix = entry.get("fix")
    return RuleInfo(
        id=entry["id"],
        slug=entry["slug"],
        title=entry["title"],
        severity=entry["severity"],
        blocks=tuple(sorted(entry["blocks"], key=BLOCKS.index)),
        themes=tuple(entry["themes"]),
        rationale=entry["rationale"],
        evidence=entry["evidence"],
        recommendation=entry["recommendation"],
        options=dict(entry["options"]),
        question=entry["question"],
        score=_score(entry, score, reader) if score is not None else None,
        fix=Fix(fix[0] == "proposed", fix[1]) if fix is not None else None,
    )


def _score(rule: D.Entry, score: D.Entry, reader: D.Reader) -> FindingWeight:
    for part in ("step", "overall"):
        stray = [b for b in score[part] if b not in rule["blocks"]]
        if stray:
            reader.fail(
                score.at(part),
                f"the score of {rule['id']} takes points off {', '.join(stray)}, which "
                f"{'is' if len(stray) == 1 else 'are'} not among its blocks "
                f"({', '.join(rule['blocks']) or 'none'})",
            )
    return FindingWeight(
        rule=rule["id"],
        at=score["at"],
        step=MappingProxyType(dict(score["step"])),
        overall=MappingProxyType(dict(score["overall"])),
        cap=MappingProxyType(dict(score["cap"])),
        reason=score["reason"],
        per_subject=score["per_subject"],
        extra=MappingProxyType(dict(score["extra"])),
    )


def _thresholds(values: D.Entry, reader: D.Reader) -> Mapping[str, float]:
    ids = {rule["id"] for rule in values["rules"]}
    out = {}
    for name, threshold in values["thresholds"].items():
        for rule in threshold["rules"]:
            if rule not in ids:
                reader.fail(
                    threshold.at("rules"),
                    f"the threshold {name} names {rule}, which is not a rule of this file"
                    f"{D.did_you_mean(rule, ids)}",
                )
        out[name] = float(threshold["value"])
    return MappingProxyType(out)
