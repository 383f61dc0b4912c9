"""The rule catalogue: rule metadata kept as data in ``criteria/rules.yaml``.

Metadata (id, slug, title, building blocks, Making it Real themes, severity,
rationale, evidence, recommendation, options) lives in the data file; the
logic of each rule lives in :mod:`sdsaudit.rules`. This module only reads and
checks the data.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ModelError, Problem, UsageError
from .findings import BLOCKS, SEVERITIES
from .resources import data_dir
from .source import Map, parse_file, to_plain


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


_REQUIRED = ("id", "slug", "title", "severity", "rationale", "evidence", "recommendation")
_LISTS = ("blocks", "themes")
"""Keys that must be present but may be empty lists (the audit's own rule, WAIVER-01, bears on no
building block or theme, so it never changes a score or a theme status)."""


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
        from .loader import did_you_mean

        raise UsageError(
            f"unknown rule '{rule_id}'{did_you_mean(rule_id.upper(), self.ids)}; "
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


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read the catalogue (cached for the default path)."""
    return _load(str(path)) if path else _load_default()


@cache
def _load_default() -> Catalogue:
    return _load(str(data_dir("criteria") / "rules.yaml"))


@cache
def waivable_rule_ids() -> frozenset[str]:
    """Every rule id a model's waiver may name: the core catalogue's and the survey
    gap rules' (``criteria/gap.yaml``), which run when a survey is given."""
    gap = data_dir("criteria") / "gap.yaml"
    return frozenset(_load_default().ids) | frozenset(_load(str(gap)).ids if gap.exists() else ())


def _load(path: str) -> Catalogue:
    root = parse_file(path).root
    assert isinstance(root, Map)
    problems: list[Problem] = []
    rules: list[RuleInfo] = []
    seen: set[str] = set()
    rules_node = root.items.get("rules")
    items = getattr(rules_node, "items", [])
    for node in items:
        data = to_plain(node)
        where = (node.pos.line, node.pos.column)
        if not isinstance(data, dict):
            problems.append(Problem(path, *where, "each rule must be a mapping"))
            continue
        missing = [k for k in _REQUIRED if not data.get(k)]
        missing += [k for k in _LISTS if not isinstance(data.get(k), list)]
        if missing:
            problems.append(
                Problem(path, *where, f"rule {data.get('id')} lacks {', '.join(missing)}")
            )
            continue
        if data["id"] in seen or data["slug"] in seen:
            problems.append(
                Problem(path, *where, f"rule id or slug {data['id']}/{data['slug']} is used twice")
            )
            continue
        seen.update((data["id"], data["slug"]))
        if data["severity"] not in SEVERITIES or any(b not in BLOCKS for b in data["blocks"]):
            problems.append(
                Problem(path, *where, f"rule {data['id']} has an unknown severity or block")
            )
            continue
        rules.append(
            RuleInfo(
                id=data["id"],
                slug=data["slug"],
                title=data["title"],
                severity=data["severity"],
                blocks=tuple(sorted(data["blocks"], key=BLOCKS.index)),
                themes=tuple(data["themes"]),
                rationale=data["rationale"].strip(),
                evidence=data["evidence"].strip(),
                recommendation=data["recommendation"].strip(),
                options=_numbers(data.get("options") or {}),
                question=(data.get("question") or "").strip(),
            )
        )
    if problems or not rules:
        raise ModelError(problems or [Problem(path, 1, 1, "the catalogue holds no rules")])
    return Catalogue(tuple(rules))


def _numbers(options: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in options.items():
        try:
            out[key] = float(value) if "." in str(value) else int(value)
        except (TypeError, ValueError):
            out[key] = value
    return out
