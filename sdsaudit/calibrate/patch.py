"""``calibrated.patch.yaml``: the model with its days and shares set to what was observed.

It is an ordinary scenario patch (``docs/patches.md``): ``sdsaudit whatif MODEL
calibrated.patch.yaml`` gives "the process as recorded" the same findings, scores, map and
report as the model. Only ``set`` changes are used:

* ``days``: each step's **mean** observed days (one decimal), because the model's times add
  up to an average (its expected days to support is a mean); a step with ``days: unknown``
  or no ``days`` gets the observed figure too. Steps whose figures are hidden (fewer than
  ``--min-group`` cases) are left as they are, and so are support, end and parallel steps,
  whose days the model never counts.
* ``next``: for a step whose every arrow has a shown share, each arrow's share set to the
  share of the cases that left by the model's arrows (the arrows the log shows but the model
  lacks are not added: they are listed in a comment, for the council to judge). Conditions
  (``when``) and "sent back" (``rework``) stay as they were.

A value that would not change is left out (a patch may not set what is already there).
:func:`check_patch` applies it to the model (the tests do).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..model.objects import Model, Step
from ..model.source import dump
from ..stocktake.patch import parse_patch
from ..stocktake.patch_apply import apply_patch_text
from ..words import number
from .calibration import Calibration, TransitionFigure


def patch_data(model: Model, calibration: Calibration) -> tuple[dict[str, Any], list[str]]:
    """The patch as plain data, and comment lines for what it leaves out."""
    changes: list[dict[str, Any]] = []
    by_step = {s.step: s for s in calibration.steps}
    arrows: dict[str, list[TransitionFigure]] = {}
    for t in calibration.transitions:
        arrows.setdefault(t.source, []).append(t)
    for step in model.steps:
        fig = by_step.get(step.id)
        # a review comes after support: its days never count towards the time to support
        if fig is not None and fig.compared and step.kind != "review" and fig.mean_days is not None:
            observed = round(fig.mean_days, 1)
            if step.days_unknown or not step.days_given or float(step.days) != observed:
                was = (
                    "unknown"
                    if step.days_unknown
                    else "not given"
                    if not step.days_given
                    else number(step.days)
                )
                changes.append(
                    {
                        "set": {"step": step.id, "days": _num(observed)},
                        "reason": (
                            f"Observed over {fig.cases:,} cases: mean {number(observed)} days, "
                            f"median {number(round(fig.median_days or 0, 1))} ({fig.basis}); "
                            f"the model said {was}"
                        ),
                    }
                )
        mine = arrows.get(step.id, [])
        if len(step.next) < 2 or len(mine) != len(step.next):
            continue
        if any(t.share is None for t in mine) or not any(t.exits for t in mine):
            continue
        shares = _shares([float(t.share or 0) for t in mine], _main_way(step))
        current = [round(float(t.share), 4) if t.share is not None else None for t in step.next]
        if current == shares:
            continue
        left = sum(t.exits or 0 for t in mine)
        entries = []
        for transition, share in zip(step.next, shares, strict=True):
            entry: dict[str, Any] = {"to": transition.to}
            if transition.when is not None:
                entry["when"] = transition.when
            entry["share"] = _num(share)
            if transition.rework:
                entry["rework"] = True
            entries.append(entry)
        changes.append(
            {
                "set": {"step": step.id, "next": entries},
                "reason": (
                    f"Observed: {left:,} times a case left by the model's arrows"
                    + (
                        "; the cases that left by arrows the model lacks are counted on "
                        f"the way to '{step.next[_main_way(step)].to}'"
                        if round(sum(float(t.share or 0) for t in mine), 4) < 1
                        else ""
                    )
                ),
            }
        )
    comments = [
        f"  {t.source} -> {t.target}: {t.cases:,} cases"
        for t in calibration.unmodelled
        if t.cases is not None
    ]
    hidden = sum(1 for t in calibration.unmodelled if t.cases is None)
    if hidden:
        comments.append(
            f"  and {hidden} more, each taken by fewer than {calibration.min_group} cases"
        )
    data = {
        "sdsaudit_patch": 1,
        "title": f"The process as recorded in {calibration.log}",
        "description": (
            f"The days and shares of {calibration.council}'s model as observed in "
            f"{calibration.log} ({_cases(calibration)}), made by sdsaudit calibrate."
        ),
        "changes": changes,
    }
    return data, comments


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _cases(calibration: Calibration) -> str:
    return (
        f"{calibration.cases:,} cases" if calibration.cases is not None else "too few cases to show"
    )


def _main_way(step: Step) -> int:
    """The arrow that takes the cases leaving by arrows the model lacks: the one forward
    arrow with no condition, else the first forward arrow, else the first."""
    forward = [n for n, t in enumerate(step.next) if not t.rework]
    plain = [n for n in forward if step.next[n].when is None]
    if len(plain) == 1:
        return plain[0]
    return forward[0] if forward else 0


def _shares(observed: Sequence[float], main: int) -> list[float]:
    """Each arrow's observed share of all exits, what is left (exits by arrows the model
    lacks) added to the ``main`` arrow, rounded to 4 places adding up to exactly 1
    (largest remainder)."""
    values = list(observed)
    values[main] += max(0.0, 1.0 - sum(values))
    total = sum(values)
    raw = [v * 10_000 / total for v in values]
    floors = [int(r) for r in raw]
    left = 10_000 - sum(floors)
    for i in sorted(range(len(raw)), key=lambda i: (floors[i] - raw[i], i))[:left]:
        floors[i] += 1
    return [f / 10_000 for f in floors]


def patch_text(model: Model, calibration: Calibration) -> str | None:
    """The text of ``calibrated.patch.yaml``, or ``None`` when nothing observed differs."""
    data, comments = patch_data(model, calibration)
    if not data["changes"]:
        return None
    head = [
        f"# The process as recorded: {calibration.council}'s model ({calibration.model_path})",
        f"# with the days and shares observed in {calibration.log}. Try it with:",
        f"#   sdsaudit whatif {calibration.model_path} calibrated.patch.yaml",
    ]
    if comments:
        head += [
            "# Seen in the log but not in the model (not added here: add them to the model",
            "# if they are part of the process):",
            *(f"#{c}" for c in comments),
        ]
    return "\n".join(head) + "\n" + dump(data)


def check_patch(model_text: str, model_path: str, text: str) -> None:
    """Apply the patch to the model (raises :class:`~sdsaudit.errors.ModelError` if it is
    not a valid patch for ``whatif``: a bug, since it is made from the model itself)."""
    apply_patch_text(model_text, parse_patch(text, "calibrated.patch.yaml"), model_path=model_path)
