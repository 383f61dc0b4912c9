"""The process model: frozen, typed objects for every part of the format.

Each object keeps the position (file, line, column) where it was written, so
findings and errors can point back at the YAML. Objects are built only by
:mod:`sdsaudit.model.loader`; everything else reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..vocab import DEFAULT_TARGETS, PERSON_LEVELS  # noqa: F401 - re-exported

if TYPE_CHECKING:
    from .blocks import Block


@dataclass(frozen=True, order=True)
class Pos:
    """Where something was written: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = Pos("<built>", 0, 0)


@dataclass(frozen=True)
class Authority:
    """One level of sign-off, lowest first in ``Model.authorities``."""

    id: str
    name: str
    limit: float | None = None
    pos: Pos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Actor:
    """A person, team or body that does steps."""

    id: str
    name: str
    kind: str
    pos: Pos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Transition:
    """An arrow from one step to the next."""

    to: str
    when: str | None = None
    share: float | None = None
    rework: bool = False
    pos: Pos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Text:
    """A plain-English string that keeps its position (restrictions).

    A restriction's ``basis`` says who set it: ``council`` (the council's own choice,
    which it can change) or ``law`` (a limit the law imposes, with ``ref`` naming it).
    """

    text: str
    pos: Pos = field(default=NOWHERE, compare=False)
    basis: str = "council"
    ref: str | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Step:
    """One step of the process."""

    id: str
    name: str
    kind: str
    actor: str | None = None
    person: str = "absent"
    days: float = 0.0
    forms: int = 0
    asks: tuple[str, ...] = ()
    tells: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    approves: tuple[str, ...] = ()
    authority: str | None = None
    restrictions: tuple[Text, ...] = ()
    outcome: str | None = None
    note: str | None = None
    next: tuple[Transition, ...] = ()
    pos: Pos = field(default=NOWHERE, compare=False)
    days_unknown: bool = False
    """``days: unknown``: nobody has published the time (``days`` is then 0, a lower bound)."""
    days_given: bool = True
    """Whether the file gives ``days`` at all (format version 1's default of 0 otherwise)."""
    branches: tuple[str, ...] = ()
    """A ``parallel`` step's branches: the first step of each, all started at once."""
    join: str | None = None
    """A ``parallel`` step's join: where the case goes on when its last branch arrives."""
    sources: tuple[str, ...] = ()
    """Ids from the model's ``sources`` where this step is documented."""
    assumed: tuple[str, ...] = ()
    """This step's keys that no source states (the modeller's assumption)."""

    @property
    def person_level(self) -> int:
        """``person`` as a number: 0 (absent) to 4 (leads)."""
        return PERSON_LEVELS.index(self.person)


@dataclass(frozen=True)
class ReviewPolicy:
    """When reviews happen: first after ``first_days``, then every ``interval_days``."""

    first_days: float | None = None
    interval_days: float | None = None
    pos: Pos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Policies:
    """Council-wide policies. ``None`` means "not given" (rules say not assessable)."""

    allowed_uses: tuple[str, ...] | None = None
    restrictions: tuple[Text, ...] = ()
    prepaid_card_default: bool | None = None
    allocation_method_published: bool | None = None
    review: ReviewPolicy | None = None
    dp_review: ReviewPolicy | None = None
    pos: Pos = field(default=NOWHERE, compare=False)

    @property
    def dp_first_review_days(self) -> float | None:
        """When a direct payment is first reviewed: ``dp_review`` if the model gives it,
        else with the plan's first review (``review``), as guidance asks them to align."""
        for policy in (self.dp_review, self.review):
            if policy is not None and policy.first_days is not None:
                return policy.first_days
        return None


@dataclass(frozen=True)
class Targets:
    """The council's own thresholds; defaults from the format."""

    max_handoffs: float = DEFAULT_TARGETS["max_handoffs"]
    max_approvals: float = DEFAULT_TARGETS["max_approvals"]
    max_days_to_support: float = DEFAULT_TARGETS["max_days_to_support"]
    max_forms: float = DEFAULT_TARGETS["max_forms"]
    pos: Pos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Waiver:
    """An accepted finding: ``rule`` (and ``step`` if given) with a reason."""

    rule: str
    reason: str
    step: str | None = None
    pos: Pos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class StartEntry:
    """Where one group of people starts: ``start`` as a list (format 1.1). A model whose
    ``start`` is a single step id has one entry with no ``when``."""

    to: str
    when: str | None = None
    share: float | None = None
    pos: Pos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Source:
    """A document the model is built from (format 1.1 ``sources``)."""

    id: str
    title: str
    published: dt.date | None = None
    url: str | None = None
    note: str | None = None
    pos: Pos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Model:
    """A whole council process (format version 1 or 1.1).

    ``start`` is the first entry's step; ``entries`` holds every entry (one unless
    ``start`` was given as a list of groups, when ``grouped`` is true).
    """

    council: str
    title: str
    as_of: dt.date
    start: str
    steps: tuple[Step, ...]
    actors: Mapping[str, Actor] = field(default_factory=lambda: MappingProxyType({}))
    authorities: tuple[Authority, ...] = ()
    options: tuple[str, ...] | None = None
    policies: Policies = field(default_factory=Policies)
    targets: Targets = field(default_factory=Targets)
    waivers: tuple[Waiver, ...] = ()
    description: str | None = None
    version: str = "1"
    path: str = "<model>"
    pos: Pos = field(default=NOWHERE, compare=False)
    entries: tuple[StartEntry, ...] = ()
    grouped: bool = False
    sources: tuple[Source, ...] = ()
    assumed: tuple[str, ...] = ()
    """Top-level keys (or ``policies.KEY``) that are the modeller's assumption."""

    def __post_init__(self) -> None:
        # a model built or changed in code (dataclasses.replace) may set ``start`` alone
        if not self.entries or (not self.grouped and self.entries[0].to != self.start):
            object.__setattr__(self, "entries", (StartEntry(self.start),))

    @property
    def starts(self) -> tuple[str, ...]:
        """The step of every start entry, in file order (distinct)."""
        return tuple(dict.fromkeys(e.to for e in self.entries))

    @cached_property
    def blocks(self) -> tuple[Block, ...]:
        """The parallel blocks, innermost first (:mod:`sdsaudit.model.blocks`)."""
        from .blocks import find_blocks

        return tuple(find_blocks(self.steps)[0])

    @cached_property
    def step_by_id(self) -> Mapping[str, Step]:
        """Steps keyed by id (in file order)."""
        return MappingProxyType({s.id: s for s in self.steps})

    def step(self, step_id: str) -> Step:
        """The step with this id (``KeyError`` if none)."""
        return self.step_by_id[step_id]

    def actor_of(self, step: Step) -> Actor | None:
        """The actor doing ``step``, if it has one."""
        return self.actors.get(step.actor) if step.actor else None

    @property
    def top_authority(self) -> Authority | None:
        """The last (highest) authority, if any."""
        return self.authorities[-1] if self.authorities else None
