"""``check --baseline``: only what is new since last year's report counts.

A baseline is a ``report.json`` or ``check --format json`` file. Each model is paired
with the baseline model of the same path, else the same council; its findings are
matched as the stock-take matches them (:func:`~.compare.match_findings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..analysis.findings import CheckResult, Finding
from ..model import datafile as D
from ..model import schema as S
from ..words import plural
from .compare import match_findings

# --------------------------------------------------------------------------- check --baseline


BASELINE_FINDING = D.Open(
    name="finding",
    keys={
        "rule": S.Key(S.Text(), required=True),
        "steps": S.Key(S.ListOf(item=S.Text()), default=()),
        "subject": S.Key(D.Nullable(spec=S.ListOf(item=S.Text())), default=()),
    },
)
BASELINE = D.Open(
    name="the baseline (a report.json or 'check --format json' file)",
    description="what check --baseline reads; other keys are passed over",
    keys={
        "models": S.Key(
            S.ListOf(
                item=D.Open(
                    name="a model of the baseline",
                    keys={
                        "path": S.Key(D.Nullable(spec=S.Text())),
                        "council": S.Key(D.Nullable(spec=S.Text())),
                        "findings": S.Key(S.ListOf(item=BASELINE_FINDING), required=True),
                    },
                )
            ),
            required=True,
        )
    },
)


def read_baseline(path: str) -> list[D.Entry]:
    """The models of a ``report.json`` or ``check --format json`` file, checked for shape
    (with :data:`BASELINE`; keys it does not need are passed over).

    Raises :class:`~sdsaudit.errors.ModelError` with every problem: with line and column
    for bad JSON, else with the path to the value (such as ``models[0].findings``).
    """
    return list(D.load_json(path, BASELINE, what="the baseline")["models"])


def _baseline_finding(data: Mapping[str, Any]) -> Finding:
    """The parts of a baseline finding that matching uses (rule, steps, subject)."""
    return Finding(
        rule=data["rule"],
        slug="",
        severity="",
        blocks=(),
        steps=tuple(data["steps"]),
        message="",
        subject=tuple(data["subject"] or ()),
    )


def _baseline_for(
    result: CheckResult, models: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    for key in ("path", "council"):
        found = [m for m in models if m.get(key) == getattr(result, key)]
        if len(found) == 1:
            return found[0]
    return None


@dataclass(frozen=True)
class BaselineRun:
    """``check --baseline``: the results cut down to findings new since the baseline."""

    results: tuple[CheckResult, ...]
    known: int
    unmatched: tuple[str, ...]

    def summary(self, baseline: str) -> str:
        new = sum(1 for r in self.results for f in r.findings if f.counts)
        text = (
            f"sdsaudit: {plural(new, 'finding')} new since the baseline {baseline} "
            f"({self.known} already in it)"
        )
        if self.unmatched:
            text += (
                f"; no baseline for {', '.join(self.unmatched)}, so all of "
                f"{'its' if len(self.unmatched) == 1 else 'their'} findings count as new"
            )
        return text


def new_since_baseline(results: Sequence[CheckResult], baseline_path: str) -> BaselineRun:
    """Keep only the findings not in the baseline (matched as in :func:`match_findings`).

    Each result is paired with the baseline model of the same path, else of the same
    council (last year's file may have another name). Findings of a model with no
    baseline all count as new.
    """
    models = read_baseline(baseline_path)
    out: list[CheckResult] = []
    known = 0
    unmatched: list[str] = []
    for result in results:
        base = _baseline_for(result, models)
        if base is None:
            unmatched.append(result.path)
            out.append(result)
            continue
        changes = match_findings([_baseline_finding(f) for f in base["findings"]], result.findings)
        known += len(changes.persisting)
        out.append(replace(result, findings=changes.new))
    return BaselineRun(tuple(out), known, tuple(unmatched))
