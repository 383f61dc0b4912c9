"""The map file, the log's columns, and the columns sdsaudit refuses to read.

The map file (``MAP.yaml``) says which step of the model each activity of the log is::

    activities:                       # activity name in the log: step id in the model
      Contact recorded: first_contact
      Needs assessment completed: assessment
    ignore: [Case note added]         # activities that are no step (left out, counted)
    drop: [Worker name]               # columns never to read (see below)
    columns: {case_id: Case ref}      # the log's own names for the columns, if different

An activity that is neither mapped nor ignored is an error: it is reported, never guessed.

A column whose name looks like a person's name, date of birth, NHS (or CHI, or National
Insurance) number, postcode, address, e-mail or telephone number is refused unless the map
(``drop``) or the command line (``--drop``) names it: sdsaudit then never reads it. The
column of case ids may hold any identifier, since ids are hashed as they are read and never
written anywhere; the group column may not, since its values are shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import ModelError, Problem
from ..model.loader import did_you_mean
from ..model.objects import Model, Pos
from ..model.source import Map, Node, Scalar, Seq, describe, parse_file, truncate

ROLES = ("case_id", "activity", "timestamp", "end_timestamp", "group")
"""The columns of an event log, by the contract's names."""

REQUIRED_ROLES = ("case_id", "activity", "timestamp")

MAP_KEYS = ("activities", "ignore", "drop", "columns")

MAX_MAP_BYTES = 1024 * 1024


def normalised(name: str) -> str:
    """A column name without case, spaces or punctuation (``Event Start Date`` and
    ``event_start_date`` are the same column)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


_IDENTIFYING: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), why)
    for pattern, why in (
        (
            r"^(first|last|sur|fore|given|family|middle|full|maiden|preferred|known)names?$",
            "a name",
        ),
        (r"^(surname|forenames?|name|names)$", "a name"),
        (
            r"^(client|person|service ?user|customer|patient|resident|carer|child|adult)"
            r"(full)?names?$",
            "a name",
        ),
        (r"(dateofbirth|birthdate|^dob$|^birthday$|dateofbirh)", "a date of birth"),
        (
            r"(^nhs|nhsnumber|nhsno$|^chi(number|no)?$|nationalinsurance|^nino$)",
            "an NHS, CHI or National Insurance number",
        ),
        (r"(postcode|postalcode|^zip(code)?$)", "a postcode"),
        (r"(^address|addressline|streetaddress|homeaddress)", "an address"),
        (r"(email|emailaddress)", "an e-mail address"),
        (r"(phone|telephone|mobile)(number|no)?$", "a telephone number"),
    )
)


def identifying(column: str) -> str | None:
    """What personal detail ``column``'s name suggests it holds, or ``None``."""
    key = normalised(column)
    for pattern, why in _IDENTIFYING:
        if pattern.search(key.replace(" ", "")):
            return why
    return None


@dataclass(frozen=True)
class LogMap:
    """A read map file: each activity's step, activities to leave out, columns never to
    read, and the log's own name for each column (by role)."""

    path: str | None
    activities: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    ignore: frozenset[str] = frozenset()
    drop: tuple[str, ...] = ()
    columns: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    where: Mapping[str, Pos] = field(default_factory=lambda: MappingProxyType({}))
    """Where each activity is mapped (for errors about it)."""


def read_map(path: str, model: Model, *, activities_required: bool = True) -> LogMap:
    """Read and check the map file at ``path`` against ``model`` (every problem at once)."""
    document = parse_file(path, max_bytes=MAX_MAP_BYTES)
    problems = list(document.problems)
    root = document.root
    if not isinstance(root, Map):
        raise ModelError(
            [
                Problem(
                    path,
                    root.pos.line,
                    root.pos.column,
                    f"a map file is a mapping with 'activities:' (activity name: step id), "
                    f"not {describe(root)}",
                )
            ]
        )
    for key, key_node in root.keys.items():
        if key not in MAP_KEYS:
            problems.append(
                _at(
                    path,
                    key_node,
                    f"unknown key '{truncate(key)}'{did_you_mean(key, MAP_KEYS)}; a map file "
                    f"has {', '.join(MAP_KEYS)}",
                )
            )
    activities: dict[str, str] = {}
    where: dict[str, Pos] = {}
    node: Node | None = root.items.get("activities")
    if node is None:
        if activities_required:
            problems.append(
                Problem(
                    path,
                    root.pos.line,
                    root.pos.column,
                    "the map has no 'activities:': list each activity name of the log with "
                    "the id of its step in the model",
                )
            )
    elif not isinstance(node, Map):
        problems.append(
            _at(
                path,
                node,
                f"'activities' must be a mapping (activity: step id), not {describe(node)}",
            )
        )
    else:
        steps = model.step_by_id
        for name, value in node.items.items():
            name_node = node.keys[name]
            if not isinstance(value, Scalar) or value.is_null:
                problems.append(
                    _at(
                        path,
                        value,
                        f"the activity '{truncate(name)}' needs a step id, not {describe(value)}",
                    )
                )
                continue
            step = steps.get(value.value)
            if step is None:
                problems.append(
                    _at(
                        path,
                        value,
                        f"the model has no step '{truncate(value.value)}'"
                        f"{did_you_mean(value.value, list(steps))}",
                    )
                )
                continue
            if step.kind == "parallel":
                problems.append(
                    _at(
                        path,
                        value,
                        f"'{step.id}' is a parallel step, which nobody works at (it starts its "
                        "branches at once): map the activity to the first step of a branch",
                    )
                )
                continue
            activities[name] = step.id
            where[name] = name_node.pos
    ignore = _texts(path, root.items.get("ignore"), "ignore", problems)
    drop = _texts(path, root.items.get("drop"), "drop", problems)
    for name in ignore:
        if name in activities:
            problems.append(
                Problem(
                    path,
                    where[name].line,
                    where[name].column,
                    f"the activity '{truncate(name)}' is both mapped and ignored: keep one",
                )
            )
    columns: dict[str, str] = {}
    node = root.items.get("columns")
    if node is not None:
        if not isinstance(node, Map):
            problems.append(
                _at(
                    path,
                    node,
                    f"'columns' must be a mapping (role: column name), not {describe(node)}",
                )
            )
        else:
            for role, value in node.items.items():
                if role not in ROLES:
                    problems.append(
                        _at(
                            path,
                            node.keys[role],
                            f"unknown column role '{truncate(role)}'{did_you_mean(role, ROLES)}; "
                            f"the roles are {', '.join(ROLES)}",
                        )
                    )
                elif not isinstance(value, Scalar) or value.is_null:
                    problems.append(
                        _at(path, value, f"'{role}' needs a column name, not {describe(value)}")
                    )
                else:
                    columns[role] = value.value
    if problems:
        raise ModelError(problems)
    return LogMap(
        path,
        MappingProxyType(activities),
        frozenset(ignore),
        tuple(drop),
        MappingProxyType(columns),
        MappingProxyType(where),
    )


def _texts(path: str, node: Node | None, key: str, problems: list[Problem]) -> list[str]:
    if node is None:
        return []
    if not isinstance(node, Seq):
        problems.append(_at(path, node, f"'{key}' must be a list of names, not {describe(node)}"))
        return []
    out = []
    for item in node.items:
        if isinstance(item, Scalar) and not item.is_null:
            out.append(item.value)
        else:
            problems.append(
                _at(path, item, f"each entry of '{key}' is a name, not {describe(item)}")
            )
    return out


def _at(path: str, node: Node, message: str) -> Problem:
    return Problem(path, node.pos.line, node.pos.column, message)


# --------------------------------------------------------------------------- the columns


@dataclass(frozen=True)
class Columns:
    """Which column of the log holds each role (``None`` when absent), with its 1-based
    position for messages."""

    names: Mapping[str, str | None]
    numbers: Mapping[str, int]

    def number(self, role: str) -> int | None:
        name = self.names.get(role)
        return self.numbers.get(name) if name is not None else None


def choose_columns(
    path: str,
    header: Sequence[str],
    log_map: LogMap,
    *,
    group: str | None,
    drop: Sequence[str] = (),
    aliases: Mapping[str, Sequence[str]] | None = None,
    required: Sequence[str] = REQUIRED_ROLES,
) -> Columns:
    """Find each role's column in ``header`` and refuse columns that look like personal
    details (unless dropped). ``aliases`` gives other names a role may go by (a preset's);
    names are matched without regard to case, spaces or punctuation. Every problem at once."""
    problems: list[Problem] = []
    by_key: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for n, name in enumerate(header, 1):
        by_key.setdefault(normalised(name), name)
        numbers.setdefault(name, n)
    dropped = {normalised(d) for d in (*log_map.drop, *drop)}
    names: dict[str, str | None] = {}
    wanted = dict(log_map.columns)
    if group is not None:
        wanted["group"] = group
    for role in ROLES:
        candidates = [wanted[role]] if role in wanted else [role, *((aliases or {}).get(role, ()))]
        found = next((by_key[normalised(c)] for c in candidates if normalised(c) in by_key), None)
        names[role] = found
        if found is None and (role in required or role in wanted):
            given = wanted.get(role, role)
            hint = did_you_mean(given, list(header))
            problems.append(
                Problem(
                    path,
                    1,
                    None,
                    f"no column '{truncate(given)}'{hint}: the log needs a column for "
                    f"{role.replace('_', ' ')}"
                    + (
                        f" (the map names '{truncate(given)}')"
                        if role in log_map.columns
                        else " (or say its name under 'columns:' in the map)"
                    ),
                )
            )
        elif found is not None and normalised(found) in dropped:
            problems.append(
                Problem(
                    path,
                    1,
                    numbers[found],
                    f"the column '{truncate(found)}' is needed for {role.replace('_', ' ')} "
                    "but is also dropped: keep one",
                )
            )
    used = {n for r, n in names.items() if n is not None and r == "case_id"}
    for name in header:
        why = identifying(name)
        if why is None or name in used or normalised(name) in dropped:
            continue
        role_of = next((r for r, n in names.items() if n == name), None)
        problems.append(
            Problem(
                path,
                1,
                numbers[name],
                f"the column '{truncate(name)}' looks like {why}, which sdsaudit does not read "
                + (
                    f"(and its values would be shown as the {role_of.replace('_', ' ')}): "
                    "choose another column"
                    if role_of
                    else "(personal details never belong in a calibration): leave it out of the "
                    f"file, or add it to 'drop:' in the map (or --drop '{truncate(name)}') so "
                    "it is never read"
                ),
            )
        )
    if problems:
        raise ModelError(problems)
    return Columns(MappingProxyType(names), MappingProxyType(numbers))
