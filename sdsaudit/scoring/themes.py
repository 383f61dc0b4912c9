"""Making it Real (2018) themes: each theme's rules (the rules that name it in their
``themes``, ``criteria/themes.yaml``) and its status for one model, with the evidence."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.findings import CheckResult, Finding
from ..model.catalogue import load_catalogue, load_theme_file

STATUSES = ("met", "partly met", "not met", "not assessed")
"""Making it Real theme statuses."""


@dataclass(frozen=True)
class Theme:
    """One Making it Real (2018) theme: our id, its name, gists, and the rules mapped to it."""

    id: str
    name: str
    gists: tuple[str, ...]
    rules: tuple[str, ...]


def load_themes(path: str | Path | None = None) -> tuple[Theme, ...]:
    """The Making it Real themes (``criteria/themes.yaml`` by default), each with its
    rules: the core rules that name it in their ``themes``, in catalogue order."""
    values = load_theme_file(path)
    rules = load_catalogue().rules
    return tuple(
        Theme(
            id=theme["id"],
            name=theme["name"],
            gists=tuple(theme["gists"]),
            rules=tuple(r.id for r in rules if theme["id"] in r.themes),
        )
        for theme in values["themes"]
    )


@dataclass(frozen=True)
class ThemeStatus:
    """A Making it Real theme's status and the evidence for it."""

    theme: str
    name: str
    status: str
    rules: tuple[str, ...]
    fired: tuple[str, ...]
    waived: tuple[str, ...]
    passed: tuple[str, ...]
    not_assessed: tuple[str, ...]
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "theme": self.theme,
            "name": self.name,
            "status": self.status,
            "rules": list(self.rules),
            "fired": list(self.fired),
            "waived": list(self.waived),
            "passed": list(self.passed),
            "not_assessed": list(self.not_assessed),
            "explanation": self.explanation,
        }


def theme_status(
    theme: Theme, result: CheckResult, rules_run: Collection[str] | None = None
) -> ThemeStatus:
    """The status of one Making it Real theme for ``result``, with its evidence.

    * ``not assessed``: none of the theme's rules could be assessed (not run, not
      assessable, or failed), or the theme has no rules;
    * ``met``: no assessed rule has an unwaived finding;
    * ``not met``: an unwaived finding of error severity, or unwaived findings
      from more than half of the assessed rules;
    * ``partly met``: anything in between.

    Waived findings are listed as evidence but do not count against the theme:
    the status records what the council has not yet accepted.
    """
    unassessed = {n.rule for n in result.notes}
    assessed = [
        r for r in theme.rules if r not in unassessed and (rules_run is None or r in rules_run)
    ]
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule, []).append(f)
    fired = tuple(r for r in assessed if any(not f.waived for f in by_rule.get(r, [])))
    waived = tuple(r for r in assessed if r not in fired and by_rule.get(r))
    passed = tuple(r for r in assessed if r not in fired and r not in waived)
    not_assessed = tuple(r for r in theme.rules if r not in assessed)
    errors = tuple(
        r for r in fired if any(not f.waived and f.severity == "error" for f in by_rule[r])
    )
    if not assessed:
        status = "not assessed"
        why = "none of its rules could be assessed for this model"
    elif not fired:
        status = "met"
        why = f"none of its {len(assessed)} assessed rules found a problem that is not waived"
    elif errors or 2 * len(fired) > len(assessed):
        status = "not met"
        why = (
            f"{', '.join(errors)} found an error"
            if errors
            else f"{len(fired)} of its {len(assessed)} assessed rules found problems "
            "(more than half)"
        )
    else:
        status = "partly met"
        why = f"{len(fired)} of its {len(assessed)} assessed rules found problems (half or fewer)"
    return ThemeStatus(
        theme=theme.id,
        name=theme.name,
        status=status,
        rules=theme.rules,
        fired=fired,
        waived=waived,
        passed=passed,
        not_assessed=not_assessed,
        explanation=why,
    )
