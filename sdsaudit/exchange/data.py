"""The plain data of a model, both ways: from a loaded model (for export) and from an
importer's draft to commented YAML (for import).

A :class:`Draft` is what every importer builds: the model's keys in the format's
order, what the source could not say (``to_fill``, one plain line each), and notes to
write as comments above steps. :func:`write_draft` writes it as format-1.1 YAML and
checks it with the loader, so an import either writes a valid model or says why not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model.loader import load_model_text
from ..model.objects import Model, Step, Text
from ..stocktake.patch import Raw
from ..stocktake.patch_write import emit_model
from ..vocab import DEFAULT_TARGETS

TOP_ORDER = (
    "sdsaudit",
    "council",
    "title",
    "as_of",
    "description",
    "sources",
    "assumed",
    "authorities",
    "actors",
    "options",
    "policies",
    "targets",
    "start",
    "steps",
    "waivers",
)
"""The order of the top-level keys in a written model."""

STEP_ORDER = (
    "id",
    "name",
    "kind",
    "actor",
    "person",
    "days",
    "forms",
    "asks",
    "tells",
    "produces",
    "approves",
    "authority",
    "restrictions",
    "outcome",
    "branches",
    "join",
    "source",
    "assumed",
    "note",
    "next",
)
"""The order of a step's keys in a written model."""


@dataclass
class Draft:
    """A model an importer has built: plain data in the format's shape, what a person
    must still fill in, and comments to write above steps (by step id)."""

    data: dict[str, Any]
    source: str
    to_fill: list[str] = field(default_factory=list)
    step_comments: dict[str, list[str]] = field(default_factory=dict)


def _restriction(text: Text) -> Any:
    if text.basis == "council" and text.ref is None:
        return text.text
    out: dict[str, Any] = {"text": text.text, "basis": text.basis}
    if text.ref:
        out["ref"] = text.ref
    return out


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def step_data(step: Step) -> dict[str, Any]:
    """One step as the format writes it (keys in :data:`STEP_ORDER`, defaults left out)."""
    out: dict[str, Any] = {"id": step.id, "name": step.name, "kind": step.kind}
    if step.kind == "parallel":
        out["branches"] = list(step.branches)
        out["join"] = step.join
    if step.actor:
        out["actor"] = step.actor
    if step.kind not in ("parallel", "support", "end") or step.person != "absent":
        if step.kind != "parallel":
            out["person"] = step.person
    if step.days_unknown:
        out["days"] = "unknown"
    elif step.days_given and step.kind != "parallel":
        out["days"] = _number(step.days)
    if step.forms:
        out["forms"] = step.forms
    for key in ("asks", "tells", "produces", "approves"):
        values = getattr(step, key)
        if values:
            out[key] = list(values)
    if step.authority:
        out["authority"] = step.authority
    if step.restrictions:
        out["restrictions"] = [_restriction(r) for r in step.restrictions]
    if step.outcome:
        out["outcome"] = step.outcome
    if step.sources:
        out["source"] = step.sources[0] if len(step.sources) == 1 else list(step.sources)
    if step.assumed:
        out["assumed"] = list(step.assumed)
    if step.note:
        out["note"] = step.note
    if step.next:
        out["next"] = [_transition(t.to, t.when, t.share, t.rework) for t in step.next]
    return {k: out[k] for k in STEP_ORDER if k in out}


def _transition(to: str, when: str | None, share: float | None, rework: bool) -> Any:
    if when is None and share is None and not rework:
        return to
    out: dict[str, Any] = {"to": to}
    if when is not None:
        out["when"] = when
    if share is not None:
        out["share"] = _number(share)
    if rework:
        out["rework"] = True
    return out


def model_data(model: Model) -> dict[str, Any]:
    """The whole model as the plain data of format 1.1: what every exporter writes from.

    Loading what :func:`write_data` writes from it gives back a model with the same
    findings, metrics and scores."""
    out: dict[str, Any] = {
        "sdsaudit": "1.1",
        "council": model.council,
        "title": model.title,
        "as_of": model.as_of,
    }
    if model.description:
        out["description"] = model.description
    if model.sources:
        out["sources"] = [
            {
                k: v
                for k, v in (
                    ("id", s.id),
                    ("title", s.title),
                    ("published", s.published),
                    ("url", s.url),
                    ("note", s.note),
                )
                if v is not None
            }
            for s in model.sources
        ]
    if model.assumed:
        out["assumed"] = list(model.assumed)
    if model.authorities:
        out["authorities"] = [
            {"id": a.id, "name": a.name, **({"limit": _number(a.limit)} if a.limit else {})}
            for a in model.authorities
        ]
    out["actors"] = {a.id: {"name": a.name, "kind": a.kind} for a in model.actors.values()}
    if model.options is not None:
        out["options"] = list(model.options)
    policies = _policies(model)
    if policies:
        out["policies"] = policies
    targets = {
        k: _number(getattr(model.targets, k))
        for k in DEFAULT_TARGETS
        if getattr(model.targets, k) != DEFAULT_TARGETS[k]
    }
    if targets:
        out["targets"] = targets
    if model.grouped:
        out["start"] = [
            {"to": e.to, "when": e.when, **({"share": e.share} if e.share is not None else {})}
            for e in model.entries
        ]
    else:
        out["start"] = model.start
    out["steps"] = [step_data(s) for s in model.steps]
    if model.waivers:
        out["waivers"] = [
            {"rule": w.rule, **({"step": w.step} if w.step else {}), "reason": w.reason}
            for w in model.waivers
        ]
    return out


def _policies(model: Model) -> dict[str, Any]:
    p = model.policies
    out: dict[str, Any] = {}
    if p.allowed_uses is not None:
        out["allowed_uses"] = list(p.allowed_uses)
    if p.restrictions:
        out["restrictions"] = [_restriction(r) for r in p.restrictions]
    if p.prepaid_card_default is not None:
        out["prepaid_card_default"] = p.prepaid_card_default
    if p.allocation_method_published is not None:
        out["allocation_method_published"] = p.allocation_method_published
    for name in ("review", "dp_review"):
        policy = getattr(p, name)
        if policy is not None:
            out[name] = {
                k: _number(v)
                for k, v in (
                    ("first_days", policy.first_days),
                    ("interval_days", policy.interval_days),
                )
                if v is not None
            }
    return out


_NULL_WORDS = ("", "~", "null", "Null", "NULL")


def _plain(value: Any) -> Any:
    """Text written plainly where that is safe (the writer quotes the rest), dates as
    ``2026-04-01``."""
    if isinstance(value, dt.date):
        return Raw(value.isoformat())
    if isinstance(value, str):
        return Raw(value, plain=value not in _NULL_WORDS)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def write_data(
    data: Mapping[str, Any],
    header: list[str] | None = None,
    step_comments: Mapping[str, list[str]] | None = None,
) -> str:
    """Plain model data as YAML text (format 1.1), with comments."""
    ordered = {k: _plain(data[k]) for k in TOP_ORDER if k in data}
    ordered.update({k: _plain(v) for k, v in data.items() if k not in ordered})
    text, _, _ = emit_model(ordered, header=header or ())
    if step_comments:
        text = _with_step_comments(text, ordered, step_comments)
    return text


def _with_step_comments(
    text: str, data: Mapping[str, Any], comments: Mapping[str, list[str]]
) -> str:
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("- id: ") and line.startswith("  - "):
            sid = stripped[len("- id: ") :].strip().strip('"')
            out.extend(f"  # {c}" for c in comments.get(sid, ()))
        out.append(line)
    return "\n".join(out)


def write_draft(draft: Draft, header: list[str] | None = None) -> tuple[str, Model]:
    """The draft as commented format-1.1 YAML, and the model the loader reads from it.

    Raises :class:`~sdsaudit.errors.ModelError` (positions in the written text) when
    the draft is not a valid model."""
    text = write_data(draft.data, header, draft.step_comments)
    return text, load_model_text(text, draft.source)
