"""The closed vocabularies of sdsaudit, each defined once: the format's words (actor and
step kinds, budget options, what a person is told ...), the building blocks and
severities with the names people read, and who counts as the person's side.

Everything else imports these names from here; the JSON Schema, the loader, the rules,
the scores and the reports all read the same tuples.
"""

from __future__ import annotations

FORMAT_VERSION = 1
FORMAT_VERSIONS = ("1", "1.1")
"""The format versions this sdsaudit reads, oldest first."""

ACTOR_KINDS = (
    "person",
    "carer",
    "council",
    "finance",
    "panel",
    "health",
    "provider",
    "voluntary",
    "other",
)
OPTIONS = ("direct_payment", "individual_service_fund", "council_managed", "mixed")
ALLOWED_USES = (
    "personal_assistants",
    "community_activities",
    "leisure",
    "equipment",
    "short_breaks",
    "employment_support",
    "technology",
    "traditional_services",
)
STEP_KINDS = (
    "contact",
    "information",
    "assessment",
    "eligibility",
    "financial_assessment",
    "allocation",
    "planning",
    "advocacy",
    "approval",
    "arranging",
    "support",
    "review",
    "decision",
    "wait",
    "end",
    "parallel",
)
TELLS = (
    "process",
    "charging_rules",
    "eligibility_decision",
    "reasons",
    "indicative_budget",
    "contribution",
    "final_budget",
    "options",
    "support_plan",
    "review_outcome",
)
ARTEFACTS = (
    "assessment",
    "eligibility_decision",
    "financial_assessment",
    "indicative_budget",
    "support_plan",
    "final_budget",
    "direct_payment_agreement",
    "review_record",
)
OUTCOMES = ("not_eligible", "signposted", "withdrew", "declined", "other")
ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*$"

# Which step keys belong to which kinds. The loader and the JSON Schema both read this.
NO_ACTOR_KINDS = ("support", "end", "parallel")
"""Kinds that need no ``actor`` (every other kind requires one)."""
KIND_ONLY_KEYS = {
    "approves": ("approval",),
    "authority": ("approval",),
    "outcome": ("end",),
    "branches": ("parallel",),
    "join": ("parallel",),
}
"""Keys allowed only on these kinds."""
KIND_REQUIRED_KEYS = {
    "approval": ("approves", "authority"),
    "end": ("outcome",),
    "parallel": ("branches", "join"),
}
"""Keys these kinds must have (besides ``actor`` and ``next``)."""
PARALLEL_KEYS = ("id", "name", "kind", "branches", "join", "note", "source", "assumed")
"""The only keys a ``parallel`` step may have: it is passed at once, by nobody."""
RESTRICTION_BASES = ("council", "law")
"""Who set a restriction: the council (its own choice) or the law."""
NO_NEXT_KINDS = ("end", "parallel")
"""Kinds that must not have ``next``. Other kinds may lack it: that is a dead end,
reported by rule STRUCT-02 rather than refused by the loader."""

PERSON_LEVELS = ("absent", "informed", "consulted", "involved", "leads")
"""How the person takes part in a step, lowest first."""

DEFAULT_TARGETS = {"max_handoffs": 3, "max_approvals": 1, "max_days_to_support": 28, "max_forms": 2}
"""The council's targets when a model gives none."""

PERSON_SIDE = ("person", "carer")
"""Actor kinds on the person's side: moving work to or from them is not a hand-off."""

SEVERITIES = ("info", "warning", "error")
"""Lowest first; ``--fail-on`` compares by position in this tuple."""

FAIL_ON = (*reversed(SEVERITIES), "never")
"""The choices of ``--fail-on``: a severity, or never."""

BLOCKS = ("heard", "simple", "in_control")
"""The three building blocks, in the order reports show them."""

BLOCK_NAMES = {"heard": "Heard", "simple": "Simple", "in_control": "In control"}
"""How each building block is written for people, at the start of a sentence or a label."""
