"""The core rules: one small pure function per rule, in a module of its family.

A rule's function lives in its family's module (``AUTH`` in :mod:`.auth`, ``SEQ`` in
:mod:`.sequencing` ...) and is named by the rule's slug (``redundant-approval`` is
:func:`.auth.redundant_approval`), so the catalogue entry in ``criteria/rules.yaml``
is the only list of rules: :func:`registry` finds each entry's function by its id's
family and its slug.

Each function takes the shared :class:`~sdsaudit.analysis.graph.Context` and the rule's
options (catalogue defaults, overridden by the model's ``targets``) and yields
:class:`~sdsaudit.analysis.findings.Issue` (the steps it is about, in a stable order, and
a message quoting the offender) or :class:`~sdsaudit.analysis.findings.NotAssessable`.
A rule never sets its own id or severity: the engine stamps them from
``criteria/rules.yaml``. The exact meaning of every rule is ``docs/rules.md``;
the docstrings repeat it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import auth, control, handoffs, heard, modelling, sequencing, simple, structure
from ._shared import Result, Rule

if TYPE_CHECKING:
    from ...model.catalogue import RuleInfo

__all__ = ["FAMILIES", "Result", "Rule", "registry", "rule_function", "rule_functions"]

FAMILIES: dict[str, ModuleType] = {
    "STRUCT": structure,
    "AUTH": auth,
    "SEQ": sequencing,
    "HAND": handoffs,
    "SIMPLE": simple,
    "HEARD": heard,
    "CONTROL": control,
    "MODEL": modelling,
}
"""Rule id prefix -> the module holding that family's rules."""


def rule_function(rule_id: str, slug: str) -> Rule | None:
    """The function of rule ``rule_id``: in its family's module, named by its slug."""
    module = FAMILIES.get(rule_id.rsplit("-", 1)[0])
    function = getattr(module, slug.replace("-", "_"), None) if module else None
    return function if inspect.isfunction(function) else None


def rule_functions(module: ModuleType) -> dict[str, Any]:
    """The rules a family module defines: its public functions, by name."""
    return {
        name: f
        for name, f in vars(module).items()
        if inspect.isfunction(f) and f.__module__ == module.__name__ and not name.startswith("_")
    }


def registry(rules: Iterable[RuleInfo]) -> dict[str, Rule]:
    """Rule id -> function for each catalogue entry that has one (the engine reports the
    others as rules without code)."""
    return {info.id: f for info in rules if (f := rule_function(info.id, info.slug)) is not None}


def __getattr__(name: str) -> Any:
    # ``RULES``: the registry of the shipped catalogue, built on first use (reading the
    # catalogue at import would make importing the package do I/O).
    if name == "RULES":
        from ...model.catalogue import load_catalogue

        return registry(load_catalogue().rules)
    raise AttributeError(name)
