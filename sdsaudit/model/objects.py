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

from ..vocab import DEFAULT_TARGETS, PERSON_LEVELS  # noqa: F401 - re-exported


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
    """A plain-English string that keeps its position (restrictions)."""

    text: str
    pos: Pos = field(default=NOWHERE, compare=False)

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
class Model:
    """A whole council process (format version 1)."""

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
    version: int = 1
    path: str = "<model>"
    pos: Pos = field(default=NOWHERE, compare=False)

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
