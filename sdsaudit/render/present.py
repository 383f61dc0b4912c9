"""What the map, the report and the stock-take show alike, worked out once.

Finding numbers (:func:`number_findings`: ``[3]`` on the map is problem 3 in the
report), the order of steps (:func:`step_order`), lanes (:func:`lanes`: the team or
person that shows each step), the names of building blocks and measures, and text
made fit to show (:func:`clean` for one line of printable text, :func:`esc` for inside
a graphviz label, :func:`readable` for a message that quotes step ids). Nothing here
draws or renders; :mod:`sdsaudit.render.map`, :mod:`sdsaudit.render.report` and the
stock-take build on it.
"""

from __future__ import annotations

import html
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ..analysis.findings import BLOCKS, SEVERITIES, CheckResult, Finding
from ..model.objects import Model, Step
from ..vocab import BLOCK_NAMES as BLOCK_NAMES

MODEL_NOTES = "model"
"""Where a finding about the model itself (no building block, no points) is listed: after
the three building blocks."""

LISTED = (*BLOCKS, MODEL_NOTES)
"""The order findings are listed and numbered in."""

METRIC_LABELS = {
    "steps": "Steps in the process",
    "approvals_max": "Most sign-offs on one route to support",
    "handoffs_max": "Most hand-offs between teams on one route",
    "forms_max": "Most forms the person fills in on one route",
    "assessments_max": "Most assessments on one route",
    "expected_days_to_support": "Typical days from first contact to support (average)",
    "worst_days_to_support": "Longest route to support, in days",
    "share_reaching_support": "Share of people who reach support",
    "share_withdrawing": "Share of people who give up before support",
}
"""Each measure's plain-English label."""

# ----------------------------------------------------------------------------- numbering


@dataclass(frozen=True)
class NumberedFinding:
    """A finding with the number it carries on the map and in the report."""

    number: int
    block: str
    finding: Finding


FIELD_WORDS = {
    # a step's own keys
    "name": "its name",
    "actor": "who does it",
    "person": "the person's part",
    "days": "how long it takes",
    "forms": "the forms to fill in",
    "asks": "what it asks for",
    "tells": "what it tells the person",
    "produces": "what it produces",
    "approves": "what it signs off",
    "authority": "who signs off",
    "restrictions": "its restrictions",
    "outcome": "its outcome",
    "note": "its note",
    "next": "where it leads",
    "branches": "what happens at the same time",
    "join": "where the case goes on",
    # the whole model's keys
    "options": "which ways of managing the money are offered",
    "targets": "the council's targets",
    "authorities": "who can sign off, and up to what amount",
    "actors": "the teams",
    "start": "where each group of people starts, and its share",
    "policies": "the council's policies",
    "policies.allowed_uses": "what budgets may be spent on",
    "policies.restrictions": "the restrictions on how budgets are used",
    "policies.prepaid_card_default": "whether direct payments go on a prepaid card by default",
    "policies.allocation_method_published": "whether the council publishes how it works out "
    "budgets",
    "policies.review": "when reviews happen",
    "policies.review.first_days": "when the first review happens",
    "policies.review.interval_days": "how often support is reviewed",
    "policies.dp_review": "when direct payments are reviewed",
    "policies.dp_review.first_days": "when a direct payment is first reviewed",
    "policies.dp_review.interval_days": "how often direct payments are reviewed",
}
"""A model's keys in plain words, for what it leaves out and what it assumes."""


def field_words(key: str) -> str:
    """A model's key in plain words (``days`` is ``how long it takes``, ``policies.review``
    is ``when reviews happen``); a key with no words of its own is named by its last part,
    underscores as spaces, in quotes."""
    if key in FIELD_WORDS:
        return FIELD_WORDS[key]
    return "'" + key.rsplit(".", 1)[-1].replace("_", " ") + "'"


def primary_block(finding: Finding) -> str:
    """The building block a finding is listed under: its first in report order, or
    :data:`MODEL_NOTES` for a note about the model itself."""
    for block in BLOCKS:
        if block in finding.blocks:
            return block
    return MODEL_NOTES


def number_findings(result: CheckResult | None) -> tuple[NumberedFinding, ...]:
    """Number the findings that count (not waived), grouped by building block.

    Order: building block (heard, simple, in control, then notes about the model
    itself, which have none), then severity (errors
    first), then the engine's own order. The map's badges and the report's
    numbered list both use this, so ``[3]`` on the map is finding 3 in the text.
    """
    if result is None:
        return ()
    live = [(i, f) for i, f in enumerate(result.findings) if not f.waived]
    live.sort(
        key=lambda item: (
            LISTED.index(primary_block(item[1])),
            -SEVERITIES.index(item[1].severity),
            item[0],
        )
    )
    return tuple(NumberedFinding(n, primary_block(f), f) for n, (_, f) in enumerate(live, start=1))


def numbers_by_step(numbered: Iterable[NumberedFinding]) -> dict[str, list[int]]:
    """Finding numbers per step id, ascending."""
    out: dict[str, list[int]] = {}
    for item in numbered:
        for step_id in dict.fromkeys(item.finding.steps):
            out.setdefault(step_id, []).append(item.number)
    return out


# ----------------------------------------------------------------------------- order and lanes


def step_order(model: Model) -> list[Step]:
    """Steps in breadth-first order from the start (following ``next`` in file order),
    then any unreachable steps in file order. Deterministic.

    A model whose ``start`` is a list of groups is walked from every group's first step
    at once, in file order. At a ``parallel`` step the walk goes into every branch in
    turn, each branch breadth-first up to the join, and only then on to the join: the
    steps that happen at the same time are listed together, branch by branch, before
    the step that waits for all of them."""
    by_id = model.step_by_id
    blocks = {b.step: b for b in model.blocks}
    seen: dict[str, None] = {}

    def walk(firsts: Iterable[str], stop: str | None) -> None:
        queue = deque(s for s in firsts if s in by_id)
        while queue:
            step_id = queue.popleft()
            if step_id in seen or step_id == stop:
                continue
            seen[step_id] = None
            block = blocks.get(step_id)
            if block is not None:
                for branch in block.branches:
                    walk(branch[:1], block.join)
                after = [block.join]
            else:
                after = _onward(by_id[step_id])
            queue.extend(to for to in after if to in by_id and to not in seen)

    walk(model.starts, None)
    order = [model.step(s) for s in seen]
    order.extend(s for s in model.steps if s.id not in seen)
    return order


def _onward(step: Step) -> list[str]:
    """Where a case goes from ``step``: its ``next`` steps; from a ``parallel`` step (one
    the loader found no block for), its branches and then its join."""
    if step.kind == "parallel":
        return [*step.branches, *([step.join] if step.join else [])]
    return [t.to for t in step.next]


def person_actor_ids(model: Model) -> list[str]:
    """Ids of actors of kind ``person``, in file order."""
    return [a.id for a in model.actors.values() if a.kind == "person"]


def lane_of(model: Model, step: Step) -> str | None:
    """The actor whose lane shows ``step``. Steps without an actor (support in
    place, end points) are outcomes for the person, so they sit in the person's lane.

    A ``parallel`` step has no actor: it is no one's work, only the point where the
    work splits. It sits in the lane of the step that leads into it (the first such
    step in file order), so the split is drawn where the case is when it happens; a
    parallel step nothing leads into sits in its join's lane."""
    seen: set[str] = set()
    while step.kind == "parallel" and not step.actor and step.id not in seen:
        seen.add(step.id)
        before = next((s for s in model.steps if step.id in _onward(s)), None)
        if before is None and step.join and step.join in model.step_by_id:
            before = model.step(step.join)
        if before is None:
            break
        step = before
    if step.actor and step.actor in model.actors:
        return step.actor
    people = person_actor_ids(model)
    return people[0] if people else None


def lanes(model: Model) -> list[tuple[str | None, list[Step]]]:
    """Lanes in order of first appearance from ``start``, each with its steps in that order."""
    grouped: dict[str | None, list[Step]] = {}
    for step in step_order(model):
        grouped.setdefault(lane_of(model, step), []).append(step)
    return list(grouped.items())


def lane_name(model: Model, actor_id: str | None) -> str:
    """A lane's name as the map and the report show it: its actor's name, cleaned."""
    actor = model.actors.get(actor_id) if actor_id else None
    return clean(actor.name) if actor else "No team named"


def team_of(model: Model, step: Step) -> str:
    """The team a step belongs to, as the map draws it: its actor's lane, or for a step with
    no actor (support in place, an end) the person's own lane."""
    return lane_name(model, lane_of(model, step))


# ----------------------------------------------------------------------------- cleaning

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """One line of printable text: control characters dropped, whitespace runs
    (newlines included) made single spaces."""
    return _SPACE.sub(" ", _CONTROL.sub("", str(text))).strip()


def esc(text: str) -> str:
    """Text for inside a graphviz HTML-like label: cleaned, HTML-escaped, and with
    backslashes doubled, because graphviz expands ``\\N``, ``\\G`` and friends even
    inside HTML-like labels (and after entity decoding), and ``\\\\`` is its literal
    backslash."""
    return html.escape(clean(text), quote=True).replace("\\", "\\\\")


_QUOTED = re.compile(r"""(["'])([A-Za-z0-9_.-]+)\1(?: \(([^()]*)\))?""")


def readable(model: Model, text: str) -> str:
    """``text`` with each quoted step id replaced by the step's name, first letter capital.

    Messages and score reasons quote steps by id (``"sign_off"``), which is exact
    but not how people talk; the report shows the name ("Team manager signs off
    plan and budget") instead. The JSON keeps the ids. A name in brackets after the
    id that says the same as the step's name (``"panel_review" (Funding panel)``)
    is dropped, so the report does not say it twice.
    """

    def name(match: re.Match[str]) -> str:
        quote, key, after = match.groups()
        if key not in model.step_by_id:
            return match.group(0)
        shown = clean(model.step(key).name)
        same = after is not None and clean(after).casefold() == shown.casefold()
        rest = "" if after is None or same else f" ({after})"
        return f"{quote}{shown}{quote}{rest}"

    return capital(_QUOTED.sub(name, text))


def capital(text: str) -> str:
    """``text`` with its first letter a capital (the rest as it is)."""
    return text[:1].upper() + text[1:]
