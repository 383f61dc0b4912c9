"""From a workbook's sheets to a draft model: headers matched, steps named or numbered,
links from any of four places, gaps filled in and listed, every problem at its cell.

The sheets come as :class:`~.workbook_cells.Table` (rows of values, as read); this
module knows nothing of files. :class:`Builder` reads them in the order a model needs
(About, Teams, Sign-off levels, Sources, Steps, links, Start, kinds, each step, Waivers)
and collects every problem before anything is refused.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..model import schema as S
from ..model.blocks import find_blocks
from ..model.loader import STEP_ASSUMABLE as _STEP_ASSUMABLE
from ..model.loader import TOP_ASSUMABLE as _TOP_ASSUMABLE
from ..model.loader import did_you_mean
from ..model.objects import Pos, Step, Transition
from ..vocab import (
    ACTOR_KINDS,
    ALLOWED_USES,
    ARTEFACTS,
    NO_ACTOR_KINDS,
    OPTIONS,
    OUTCOMES,
    PERSON_LEVELS,
    STEP_KINDS,
    TELLS,
)
from .data import STEP_ORDER
from .workbook_cells import (
    ABOUT_KEYS,
    NO_TIME_KINDS,
    CellError,
    LinkText,
    Place,
    Row,
    Table,
    cell_text,
    column_letter,
    free_text,
    norm,
    num,
    parse_date,
    parse_days,
    parse_flag,
    parse_link,
    parse_number,
    parse_restrictions,
    parse_share,
    parse_word,
    parse_words,
    short,
    slug,
    split_top,
    split_values,
    unique,
    valid_id,
    word_of,
)

# --------------------------------------------------------------------------- headers and aliases


def _aliases(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, words in table.items():
        out[norm(key)] = key
        for word in words:
            out[norm(word)] = key
    return out


STEP_ALIASES = _aliases(
    {
        "id": ("ref", "reference", "step id", "key", "no", "number", "step no"),
        "name": ("step", "step name", "activity", "activity name", "task", "text", "title"),
        "kind": ("type", "step kind", "step type", "category"),
        "team": (
            "lane",
            "swimlane",
            "swim lane",
            "owner",
            "actor",
            "who",
            "responsible",
            "role",
            "department",
        ),
        "person": ("person involvement", "how the person takes part", "person takes part"),
        "days": (
            "duration",
            "duration (days)",
            "time",
            "time (days)",
            "time taken",
            "elapsed days",
            "lead time",
            "days taken",
        ),
        "forms": ("forms to fill in", "number of forms"),
        "asks": ("asks for", "questions", "information asked"),
        "tells": ("tells the person", "person is told"),
        "produces": ("outputs", "artefacts"),
        "approves": ("signs off", "approves what"),
        "authority": ("sign-off level", "approval level", "signed off by"),
        "outcome": ("end outcome",),
        "restrictions": ("restriction", "limits"),
        "note": ("notes", "comment", "comments", "description"),
        "branches": ("parallel branches", "at the same time"),
        "join": ("joins at", "waits at"),
        "source": ("sources", "document", "documents"),
        "assumed": ("assumptions", "assumed fields"),
        "next": ("next step", "next steps", "successors", "goes to", "then"),
        "predecessors": ("predecessor", "previous", "previous step", "previous steps", "after"),
        "shape": ("shape master", "shape type"),
    }
)
"""Steps: header (compared by :func:`norm`) -> field. ``shape`` helps guess a kind."""

LINK_ALIASES = _aliases(
    {
        "from": ("from step", "item", "source step"),
        "to": ("to step", "related item", "target", "target step"),
        "when": ("label", "condition", "if"),
        "share": ("probability", "percent", "percentage", "proportion", "likelihood", "chance"),
        "rework": ("loop", "loops back", "sent back"),
    }
)
START_ALIASES = _aliases({"to": ("step", "starts at", "start"), "when": ("group",), "share": ()})
TEAM_ALIASES = _aliases(
    {"id": ("ref", "team id"), "name": ("team", "team name", "lane"), "kind": ("type",)}
)
LEVEL_ALIASES = _aliases(
    {
        "id": ("ref", "level id"),
        "name": ("level", "level name", "sign-off level"),
        "limit": ("weekly limit", "limit (gbp)", "max", "maximum"),
    }
)
SOURCE_ALIASES = _aliases(
    {"id": ("ref",), "title": ("name",), "published": ("date",), "url": ("link",), "note": ()}
)
WAIVER_ALIASES = _aliases({"rule": ("rule id",), "step": ("step id",), "reason": ("why",)})
ABOUT_ALIASES = _aliases(
    {
        **{key: () for key, _ in ABOUT_KEYS},
        "council": ("council name", "local authority"),
        "title": ("process", "process name"),
        "as_of": ("date", "as at", "model date"),
        "start": ("starts at", "first step"),
    }
)
ROLE_ALIASES = {
    "steps": STEP_ALIASES,
    "links": LINK_ALIASES,
    "start": START_ALIASES,
    "teams": TEAM_ALIASES,
    "levels": LEVEL_ALIASES,
    "sources": SOURCE_ALIASES,
    "waivers": WAIVER_ALIASES,
}

SHEET_ROLES = _aliases(
    {
        "steps": ("activities", "process elements", "tasks", "process", "step list"),
        "links": ("connections", "transitions", "flows", "edges", "arrows"),
        "start": ("starts", "start groups", "groups"),
        "teams": ("lanes", "swimlanes", "actors", "owners"),
        "levels": ("sign-off levels", "authorities", "sign off", "approval levels"),
        "about": ("settings", "details"),
        "sources": ("documents",),
        "waivers": (),
        "ignore": ("read me", "lists", "instructions", "help"),
    }
)
"""Sheet name (compared by :func:`norm`) -> what it holds."""

KIND_ALIASES = {
    "signoff": "approval",
    "sign_off": "approval",
    "approve": "approval",
    "authorisation": "approval",
    "authorization": "approval",
    "financial": "financial_assessment",
    "referral": "contact",
    "plan": "planning",
    "arrange": "arranging",
    "assess": "assessment",
    "side_by_side": "parallel",
    "at_the_same_time": "parallel",
}
"""Other words for step kinds."""

PERSON_TEAM = ("person", "theperson", "thepersonandtheirfamily", "personandfamily")
"""Team cells taken to mean the person (an actor of kind ``person``)."""

STEP_ASSUMABLE = _STEP_ASSUMABLE

# --------------------------------------------------------------------------- sheets


@dataclass
class Sheet:
    """A table whose header row has been matched: field -> column, and its data rows."""

    table: Table
    columns: dict[str, int]
    rows: list[Row] = field(default_factory=list)


def _close(key: str, known: Sequence[str]) -> str | None:
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
    return match[0] if match else None


def match_header(table: Table, aliases: Mapping[str, str], problems: list[Problem]) -> Sheet:
    """The table's first row as headers, its other rows as data.

    A header close to a known one (a typo) is an error; others are ignored."""
    columns: dict[str, int] = {}
    if not table.rows:
        return Sheet(table, columns)
    header_row, values = table.rows[0]
    known = sorted(aliases)
    for column, value in enumerate(values, start=1):
        text = cell_text(value)
        key = norm(text or "")
        if not key:
            continue
        if key in aliases:
            name = aliases[key]
            if name in columns:
                problems.append(
                    table.place(header_row, column).problem(
                        f"two columns are both '{name}' (column {column_letter(columns[name])} "
                        "and this one): keep one"
                    )
                )
            else:
                columns[name] = column
            continue
        close = _close(key, known)
        if close is not None:
            problems.append(
                table.place(header_row, column).problem(
                    f"the column '{short(text)}' is not one sdsaudit reads (did you mean "
                    f"'{aliases[close]}'?): correct it, or give it another name to have it "
                    "ignored"
                )
            )
    first = min(columns.values(), default=1)
    sheet = Sheet(table, columns)
    for number, row_values in table.rows[1:]:
        cells = {
            name: (row_values[column - 1], column)
            for name, column in columns.items()
            if column <= len(row_values) and row_values[column - 1] is not None
        }
        row = Row(table, number, cells, first)
        if row.texts:
            sheet.rows.append(row)
    return sheet


def classify(tables: Sequence[Table]) -> dict[str, list[Table]]:
    """Which sheet is which: by its name, else by its headers (an edge list of ``Item,
    Related Item, Label`` or ``From, To`` is links; a sheet with a name column is steps)."""
    roles: dict[str, list[Table]] = {}
    for table in tables:
        role = SHEET_ROLES.get(norm(table.name))
        if role is None and table.rows:
            heads = {norm(cell_text(v) or "") for v in table.rows[0][1]}
            if {"item", "relateditem"} <= heads or {"from", "to"} <= heads:
                role = "links"
            elif heads & {"step", "activity", "task", "name", "stepname", "activityname", "text"}:
                role = "steps"
        if role and role != "ignore":
            roles.setdefault(role, []).append(table)
    return roles


# --------------------------------------------------------------------------- names


class Names:
    """Things referred to by id or by name (steps, teams, sign-off levels, sources).

    An id wins over a name; exact text wins over text compared without regard to case,
    spaces or punctuation. A name that two things share cannot be used: say which by id.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self.ids: dict[str, str] = {}
        self.ids_loose: dict[str, str] = {}
        self.labels: dict[str, str | None] = {}
        self.labels_loose: dict[str, str | None] = {}

    def add(self, ident: str, *labels: str) -> None:
        self.ids[ident] = ident
        self.ids_loose.setdefault(norm(ident), ident)
        for label in labels:
            for table, key in ((self.labels, label), (self.labels_loose, norm(label))):
                table[key] = None if table.get(key, ident) != ident else ident

    def __contains__(self, ident: str) -> bool:
        return ident in self.ids

    def find(self, text: str) -> str | None:
        """The id ``text`` names, ``None`` if none; :class:`CellError` if it names two."""
        if text in self.ids:
            return text
        loose = norm(text)
        for table, key in (
            (self.labels, text),
            (self.ids_loose, loose),
            (self.labels_loose, loose),
        ):
            if key in table:
                found = table[key]
                if found is None:
                    raise CellError(
                        f"two {self.what}s are called '{short(text)}': name one by its id"
                    )
                return found
        return None

    def find_quiet(self, text: str) -> str | None:
        try:
            return self.find(text)
        except CellError:
            return None

    def hint(self, text: str) -> str:
        return did_you_mean(text, [*self.ids, *(k for k, v in self.labels.items() if v)])


# --------------------------------------------------------------------------- the builder


@dataclass
class Link:
    """An arrow as read, and where."""

    to: str
    when: str | None
    share: float | None
    rework: bool
    place: Place


@dataclass
class StepRow:
    """A step as read, before its kind is settled and its gaps are filled."""

    id: str
    row: Row
    name: str
    kind: str | None = None
    links: list[Link] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)


Parse = Callable[[Any], Any]


class Builder:
    """Reads the sheets (by role) into the plain data of a model, collecting every problem
    in ``problems``, what must still be filled in in ``to_fill`` and notes on steps in
    ``comments``."""

    def __init__(self, path: str, roles: Mapping[str, list[Table]]) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.to_fill: list[str] = []
        self.comments: dict[str, list[str]] = {}
        self.top_assumed: list[str] = []
        self.about_places: list[Place] = [t.whole() for t in roles.get("about", ())]
        self.about_tables = list(roles.get("about", ()))
        self.sheets = {
            role: [match_header(t, ROLE_ALIASES[role], self.problems) for t in tables]
            for role, tables in roles.items()
            if role in ROLE_ALIASES
        }
        self.steps: list[StepRow] = []
        self.step_ids: set[str] = set()
        self.start_places: dict[str, Place] = {}
        self.step_names = Names("step")
        self.teams: dict[str, dict[str, str]] = {}
        self.team_names = Names("team")
        self.levels: list[dict[str, Any]] = []
        self.level_names = Names("sign-off level")
        self.sources: list[dict[str, Any]] = []
        self.source_names = Names("source")

    # ----------------------------------------------------------------- small helpers

    def error(self, place: Place, message: str) -> None:
        self.problems.append(place.problem(message))

    def fill(self, line: str) -> None:
        if line not in self.to_fill:
            self.to_fill.append(line)

    def assume_top(self, key: str) -> None:
        if key not in self.top_assumed:
            self.top_assumed.append(key)

    def rows(self, role: str) -> Iterator[Row]:
        for sheet in self.sheets.get(role, ()):
            yield from sheet.rows

    def has_rows(self, role: str) -> bool:
        return any(sheet.rows for sheet in self.sheets.get(role, ()))

    def has_column(self, role: str, name: str) -> bool:
        return any(name in sheet.columns for sheet in self.sheets.get(role, ()))

    def parsed(self, row: Row, key: str, parse: Parse) -> Any:
        """``parse`` of the cell's value; ``None`` (and the problem noted) if it fails."""
        try:
            return parse(row.value(key))
        except CellError as exc:
            self.error(row.at(key), str(exc))
            return None

    # ----------------------------------------------------------------- the whole model

    def build(self) -> dict[str, Any]:
        """The model's plain data (meaningful only when ``problems`` is empty)."""
        if not self.sheets.get("steps") and not self.sheets.get("links"):
            self.error(
                Place(self.path),
                "found no sheet of steps: name a sheet 'Steps' with a column 'name' (one row "
                "a step), or start from the template: sdsaudit init --format xlsx FILE",
            )
            return {}
        self.check_headers()
        about = self.read_about()
        self.read_teams()
        self.read_levels()
        self.read_sources()
        self.read_steps()
        self.read_links()
        if not self.steps:
            sheets = self.sheets.get("steps") or self.sheets.get("links") or []
            self.error(
                sheets[0].table.whole() if sheets else Place(self.path),
                "there are no steps: add one row a step, with at least its name",
            )
            return {}
        start = self.read_start(about.pop("start", None))
        self.settle_kinds()
        steps = [self.finish_step(s) for s in self.steps]
        waivers = self.read_waivers()
        self.check_blocks(steps)
        return self.assemble(about, start, steps, waivers)

    NEEDED = {
        "steps": (("name", "id"), "name, team, days, next"),
        "links": (("from", "to"), "from, to, when, share"),
    }
    """The columns a sheet cannot do without (any one of them), and an example header."""

    def check_headers(self) -> None:
        """A steps or links sheet whose first row names none of its needed columns is
        reported (its rows would otherwise be dropped without a word)."""
        for role, (needed, example) in self.NEEDED.items():
            for sheet in self.sheets.get(role, ()):
                if sheet.table.rows and not any(c in sheet.columns for c in needed):
                    row = sheet.table.rows[0][0]
                    self.error(
                        sheet.table.place(row, 1),
                        f"this sheet has no '{needed[0]}' column (nor '{needed[1]}'): its first "
                        f"row should name the columns, for example: {example}",
                    )
                    sheet.rows = []

    # ----------------------------------------------------------------- About

    def read_about(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for table in self.about_tables:
            for number, values in table.rows:
                key_text = cell_text(values[0]) if values else None
                if key_text is None or norm(key_text) in ("key", "setting"):
                    continue
                place = table.place(number, 1)
                key = ABOUT_ALIASES.get(norm(key_text))
                if key is None:
                    choices = [k for k, _ in ABOUT_KEYS]
                    self.error(
                        place,
                        f"'{short(key_text)}' is not a setting sdsaudit reads"
                        f"{did_you_mean(key_text, choices)}; use one of: {', '.join(choices)}",
                    )
                    continue
                if key in seen:
                    self.error(place, f"'{key}' is given twice (also in row {seen[key]}): keep one")
                    continue
                seen[key] = number
                value = values[1] if len(values) > 1 else None
                if cell_text(value) is None:
                    continue
                try:
                    out[key] = about_value(key, value)
                except CellError as exc:
                    self.error(table.place(number, 2), str(exc))
        placeholders = (
            ("council", "Unnamed council", "the council's name"),
            ("title", Path(self.path).stem, "the title of the process"),
            ("as_of", dt.date.today(), "the date the model describes"),
        )
        for key, placeholder, line in placeholders:
            if key not in out:
                out[key] = placeholder
                self.fill(f"{line} ({key}: written for now as '{placeholder}')")
        return out

    # ----------------------------------------------------------------- Teams, levels, sources

    def row_id(self, row: Row, label: str, taken: set[str], prefix: str) -> str | None:
        """The row's id: as written when valid and new, else made from its text."""
        written = row.text("id")
        if written is not None and valid_id(written):
            if written in taken:
                self.error(
                    row.at("id"),
                    f"the id '{short(written)}' is used by an earlier row too: ids must differ "
                    "(or leave the cell empty to have one made from the name)",
                )
                return None
            taken.add(written)
            return written
        return unique(slug(label or written or "", prefix), taken)

    def read_teams(self) -> None:
        taken: set[str] = set()
        for row in self.rows("teams"):
            name = row.text("name") or row.text("id") or ""
            ident = self.row_id(row, name, taken, "team")
            if ident is None:
                continue
            kind = "council"
            if row.text("kind") is None:
                self.fill(f"the kind of team '{name}' (Teams: taken as council)")
                self.assume_top("actors")
            else:
                word = self.parsed(
                    row, "kind", lambda v: parse_word(cell_text(v), ACTOR_KINDS, "a kind of team")
                )
                kind = word or "council"
            self.teams[ident] = {"name": name, "kind": kind}
            self.team_names.add(ident, name, *filter(None, [row.text("id")]))

    def read_levels(self) -> None:
        taken: set[str] = set()
        for row in self.rows("levels"):
            name = row.text("name") or row.text("id") or ""
            ident = self.row_id(row, name, taken, "level")
            if ident is None:
                continue
            level: dict[str, Any] = {"id": ident, "name": name}
            if row.text("limit") is not None:
                limit = self.parsed(
                    row,
                    "limit",
                    lambda v: parse_number(v, "a limit (weekly GBP)", maximum=S.MAX_LIMIT),
                )
                if limit is not None:
                    level["limit"] = limit
            self.levels.append(level)
            self.level_names.add(ident, name, *filter(None, [row.text("id")]))

    def read_sources(self) -> None:
        taken: set[str] = set()
        for row in self.rows("sources"):
            title = row.text("title")
            ident = self.row_id(row, title or "", taken, "source")
            if ident is None:
                continue
            if title is None:
                self.fill(f"the title of source '{ident}' (Sources)")
            source: dict[str, Any] = {"id": ident, "title": title or ident}
            if row.text("published") is not None:
                published = self.parsed(row, "published", lambda v: parse_date(v, "published"))
                if published is not None:
                    source["published"] = published
            for key in ("url", "note"):
                if row.text(key) is not None:
                    source[key] = row.free(key) if key == "note" else row.text(key)
            self.sources.append(source)
            self.source_names.add(ident, source["title"], *filter(None, [row.text("id")]))

    # ----------------------------------------------------------------- Steps

    def read_steps(self) -> None:
        """Every step row, with its id: as written when valid, else made from its name."""
        taken = self.step_ids
        kept: list[Row] = []
        for row in self.rows("steps"):
            written = row.text("id")
            if row.text("name") is None and written is None:
                self.error(
                    row.at("name"),
                    "this row has no name: give the step's name (or delete the row)",
                )
                continue
            if written is not None and valid_id(written):
                if written in taken:
                    self.error(
                        row.at("id"),
                        f"the id '{short(written)}' is used by an earlier step too: ids must "
                        "differ (or leave the cell empty to have one made from the name)",
                    )
                    continue
                taken.add(written)
            kept.append(row)
        for row in kept:
            written, name = row.text("id"), row.text("name")
            if written is not None and valid_id(written):
                ident = written
            else:  # made from the name; a reference such as '1.2' still finds it
                ident = unique(slug(name or written or "", "step"), taken)
            if name is None:
                self.fill(f"a name for step '{ident}' (Steps: its id stands in for now)")
            self.add_step(StepRow(ident, row, name or written or ident))

    def add_step(self, step: StepRow) -> None:
        self.steps.append(step)
        written = step.row.text("id")
        labels = [step.name] + ([written] if written and written != step.id else [])
        self.step_names.add(step.id, *labels)

    def find_step(self, text: str, place: Place) -> str | None:
        try:
            found = self.step_names.find(text)
        except CellError as exc:
            self.error(place, str(exc))
            return None
        if found is None:
            self.error(
                place,
                f"'{short(text)}' is not the id or name of any step{self.step_names.hint(text)}",
            )
        return found

    # ----------------------------------------------------------------- links

    def read_links(self) -> None:
        """Links from the Links sheet (or an edge list), then the ``next`` and
        ``predecessors`` columns; with none anywhere, one route in row order."""
        by_id = {s.id: s for s in self.steps}
        edge_list = not self.sheets.get("steps")
        for row in self.rows("links"):
            ends = [self.link_end(row, key, edge_list, by_id) for key in ("from", "to")]
            details = self.link_details(row)
            if ends[0] and ends[1] and details is not None:
                when, share, rework = details
                self.add_link(by_id[ends[0]], Link(ends[1], when, share, rework, row.at("to")))
        for step in list(self.steps):
            for key in ("next", "predecessors"):
                text = step.row.text(key)
                if text is None:
                    continue
                for link in self.cell_links(step.row, key, text):
                    if key == "next":
                        self.add_link(step, link)
                    else:
                        before, link.to = link.to, step.id
                        self.add_link(by_id[before], link)
        given = (
            self.has_rows("links")
            or self.has_column("steps", "next")
            or self.has_column("steps", "predecessors")
        )
        if not given and len(self.steps) > 1:
            self.link_in_row_order()

    def link_end(
        self, row: Row, key: str, edge_list: bool, by_id: dict[str, StepRow]
    ) -> str | None:
        text = row.text(key)
        if text is None:
            self.error(row.at(key), f"this link has no '{key}' step: fill it in")
            return None
        if edge_list and self.step_names.find_quiet(text) is None:
            # an edge list without a Steps sheet: its items are the steps
            step = StepRow(
                unique(slug(text, "step"), self.step_ids),
                Row(row.table, row.number, {}, row.cells[key][1]),
                text,
            )
            self.add_step(step)
            by_id[step.id] = step
        return self.find_step(text, row.at(key))

    def link_details(self, row: Row) -> tuple[str | None, float | None, bool] | None:
        """``when``, ``share`` and ``rework`` of a Links row (``None`` if one is wrong)."""
        share = rework = None
        if row.text("share") is not None:
            share = self.parsed(row, "share", parse_share)
            if share is None:
                return None
        if row.text("rework") is not None:
            rework = self.parsed(row, "rework", lambda v: parse_flag(v, "rework"))
            if rework is None:
                return None
        return row.text("when"), share, bool(rework)

    def cell_links(self, row: Row, key: str, text: str) -> list[Link]:
        """The links in a ``next`` (or ``predecessors``) cell: ids or names separated by
        ``;`` or line breaks (or ``,`` when that gives steps), each optionally followed by
        ``[when | share | rework]``."""
        place = row.at(key)
        out: list[Link] = []
        for item in split_top(text, ";\n"):
            found = self.link_item(item)
            if found is None:
                pieces = [self.link_item(p) for p in split_top(item, ",")]
                if len(pieces) > 1 and all(pieces):
                    out.extend(Link(p.to, p.when, p.share, p.rework, place) for p in pieces if p)
                    continue
                try:
                    self.find_step(parse_link(item).to, place)
                except CellError as exc:
                    self.error(place, str(exc))
                continue
            out.append(Link(found.to, found.when, found.share, found.rework, place))
        return out

    def link_item(self, item: str) -> LinkText | None:
        """The item as a link to a known step (its ``to`` an id), or ``None``."""
        try:
            parsed = parse_link(item)
        except CellError:
            return None
        found = self.step_names.find_quiet(parsed.to)
        return LinkText(found, parsed.when, parsed.share, parsed.rework) if found else None

    def add_link(self, step: StepRow, link: Link) -> None:
        for other in step.links:
            if other.to == link.to:
                if (other.when, other.share, other.rework) != (link.when, link.share, link.rework):
                    self.error(
                        link.place,
                        f"the link from '{step.id}' to '{link.to}' is given twice (also at "
                        f"{other.place.short()}): keep one",
                    )
                return
        step.links.append(link)

    def link_in_row_order(self) -> None:
        """No links anywhere: the steps are taken as one route, in row order."""
        for step, following in zip(self.steps, self.steps[1:], strict=False):
            step.links.append(Link(following.id, None, None, False, step.row.at("name")))
            step.assumed.append("next")
        self.fill(
            "the links between steps (there were none, so the steps are taken as one route "
            "in row order: add a Links sheet or a 'next' column)"
        )

    # ----------------------------------------------------------------- Start

    def read_start(self, about_start: str | None) -> Any:
        """One step id, or a list of groups; with no Start sheet, the first step."""
        entries: list[tuple[dict[str, Any], Place]] = []
        for row in self.rows("start"):
            text = row.text("to")
            if text is None:
                self.error(
                    row.at("to"), "this row has no step in 'to': where do these people start?"
                )
                continue
            entry: dict[str, Any] = {"to": self.find_step(text, row.at("to")) or ""}
            if row.text("when") is not None:
                entry["when"] = row.text("when")
            if row.text("share") is not None:
                share = self.parsed(row, "share", parse_share)
                if share is not None:
                    entry["share"] = num(share)
            entries.append((entry, row.at("to")))
            self.start_places.setdefault(entry["to"], row.at("to"))
        if len(entries) == 1 and set(entries[0][0]) == {"to"}:
            return entries[0][0]["to"]
        if entries:
            self.check_start(entries)
            return [entry for entry, _ in entries]
        if about_start is not None:
            found = self.find_step(about_start, self.about_places[0]) or ""
            self.start_places[found] = self.about_places[0]
            return found
        first = self.steps[0]
        self.start_places[first.id] = first.row.at("name")
        return first.id

    def check_start(self, entries: list[tuple[dict[str, Any], Place]]) -> None:
        seen: set[str] = set()
        for entry, place in entries:
            if "when" not in entry:
                self.error(
                    place,
                    "with more than one place to start, each needs 'when': the group of "
                    "people who start there",
                )
            elif entry["when"] in seen:
                self.error(place, f"the group '{short(entry['when'])}' starts twice: name it once")
            else:
                seen.add(entry["when"])
        shares = [e["share"] for e, _ in entries if "share" in e]
        total = sum(shares)
        if total > 1 + 1e-3 or (len(shares) == len(entries) and abs(total - 1) > 1e-3):
            self.error(
                entries[0][1],
                f"the shares of the groups add up to {total:g}: they are parts of all people, "
                "so at most 1, and exactly 1 when every group has one (or leave one empty to "
                "take what is left)",
            )

    # ----------------------------------------------------------------- kinds

    def settle_kinds(self) -> None:
        """Each step's kind: as written, or guessed from its words (and listed)."""
        for step in self.steps:
            if step.row.text("kind") is not None:
                step.kind = self.parsed(
                    step.row,
                    "kind",
                    lambda v: parse_word(cell_text(v), STEP_KINDS, "a kind of step", KIND_ALIASES),
                )
                continue
            step.kind, why = guess_kind(step.name, step.row.text("shape"), len(step.links))
            self.fill(f"the kind of step '{step.name}' (guessed: {step.kind}, {why})")
            self.comments.setdefault(step.id, []).append(f"kind guessed ({why}): check it")

    # ----------------------------------------------------------------- one step

    def finish_step(self, step: StepRow) -> dict[str, Any]:
        """The step as plain model data, each cell checked where it is."""
        row, kind = step.row, step.kind or "information"
        out: dict[str, Any] = {"id": step.id, "name": step.name, "kind": kind}
        if kind == "parallel":
            return self.finish_parallel(step, out)
        self.team_of(step, out)
        self.days_of(step, out)
        for key, parse in STEP_CELLS.items():
            self.put(out, row, key, parse)
        self.kind_only(step, out)
        for key in ("branches", "join"):
            if row.text(key) is not None:
                self.error(
                    row.at(key),
                    f"'{key}' is only for parallel steps, but this step is {kind}: clear the "
                    "cell, or change the kind to parallel",
                )
        self.sources_of(step, out)
        self.assumed_of(step, out)
        if row.text("note") is not None:
            out["note"] = row.free("note")
        self.links_of(step, out)
        return {key: out[key] for key in STEP_ORDER if key in out}

    def put(self, out: dict[str, Any], row: Row, key: str, parse: Parse) -> None:
        """``out[key]``: the cell parsed, when it is not empty and can be read."""
        if row.text(key) is not None:
            value = self.parsed(row, key, parse)
            if value is not None:
                out[key] = value

    def team_of(self, step: StepRow, out: dict[str, Any]) -> None:
        text = step.row.text("team")
        if text is None:
            if step.kind not in NO_ACTOR_KINDS:
                out["actor"] = self.default_team()
                step.assumed.append("actor")
                self.fill(f"the team that does '{step.name}' (taken as 'The council' for now)")
            return
        try:
            found = self.team_names.find(text)
        except CellError as exc:
            self.error(step.row.at("team"), str(exc))
            return
        if found is None and norm(text) not in PERSON_TEAM and self.has_rows("teams"):
            hint = self.team_names.hint(text)
            if hint:
                self.error(
                    step.row.at("team"),
                    f"'{short(text)}' is not a team in the Teams sheet{hint}: correct it, or "
                    "add the team there",
                )
                return
        out["actor"] = found or self.new_team(text)

    def default_team(self) -> str:
        if "council" not in self.teams:
            self.teams["council"] = {"name": "The council", "kind": "council"}
            self.team_names.add("council", "The council")
            self.assume_top("actors")
        return "council"

    def new_team(self, text: str) -> str:
        """A team named on Steps but not in Teams: added as a council team (or, for
        'the person', as the person)."""
        if norm(text) in PERSON_TEAM:
            person = next((k for k, t in self.teams.items() if t["kind"] == "person"), None)
            if person is None:
                person = unique("person", set(self.teams))
                self.teams[person] = {"name": "The person and their family", "kind": "person"}
            self.team_names.add(person, text)
            return person
        ident = unique(slug(text, "team"), set(self.teams))
        kind = guess_team_kind(text)
        self.teams[ident] = {"name": text, "kind": kind}
        self.team_names.add(ident, text)
        self.fill(f"the kind of team '{text}' (not in a Teams sheet: guessed as {kind})")
        self.assume_top("actors")
        return ident

    def days_of(self, step: StepRow, out: dict[str, Any]) -> None:
        if step.row.text("days") is None:
            if step.kind not in NO_TIME_KINDS:
                out["days"] = "unknown"
                step.assumed.append("days")
                self.fill(f"how long '{step.name}' takes (days)")
            return
        try:
            days = parse_days(step.row.value("days"))
        except CellError as exc:
            self.error(step.row.at("days"), str(exc))
            return
        if days is not None:
            out["days"] = days

    def kind_only(self, step: StepRow, out: dict[str, Any]) -> None:
        """``approves`` and ``authority`` (approval steps), ``outcome`` (end steps)."""
        row, kind = step.row, step.kind
        if kind == "approval":
            self.put(
                out, row, "approves", lambda v: parse_words(cell_text(v), ARTEFACTS, "an artefact")
            )
            self.authority_of(step, out)
            if row.text("approves") is None:
                out["approves"] = ["support_plan"]
                step.assumed.append("approves")
                self.fill(f"what '{step.name}' signs off (approves: taken as support_plan)")
        else:
            for key in ("approves", "authority"):
                if row.text(key) is not None:
                    self.error(
                        row.at(key),
                        f"'{key}' is only for approval steps, but this step is {kind}: clear "
                        "the cell, or change the kind to approval",
                    )
        if kind == "end":
            if row.text("outcome") is None:
                out["outcome"] = guess_outcome(step.name)
                step.assumed.append("outcome")
                self.fill(f"the outcome of '{step.name}' (guessed: {out['outcome']})")
            else:
                self.put(
                    out, row, "outcome", lambda v: parse_word(cell_text(v), OUTCOMES, "an outcome")
                )
        elif row.text("outcome") is not None:
            self.error(
                row.at("outcome"),
                f"'outcome' is only for end steps, but this step is {kind}: clear the cell, or "
                "change the kind to end",
            )

    def authority_of(self, step: StepRow, out: dict[str, Any]) -> None:
        text = step.row.text("authority")
        if text is None:
            if not self.levels:
                self.levels.append({"id": "sign_off", "name": "Sign-off"})
                self.level_names.add("sign_off", "Sign-off")
                self.assume_top("authorities")
                self.fill("the levels of sign-off (one level, 'Sign-off', stands in for now)")
            level = self.levels[0]
            out["authority"] = level["id"]
            step.assumed.append("authority")
            self.fill(f"who signs off at '{step.name}' (taken as '{level['name']}')")
            return
        try:
            found = self.level_names.find(text)
        except CellError as exc:
            self.error(step.row.at("authority"), str(exc))
            return
        if found is None and self.has_rows("levels"):
            self.error(
                step.row.at("authority"),
                f"'{short(text)}' is not a level in the Sign-off levels sheet"
                f"{self.level_names.hint(text)}: correct it, or add the level there",
            )
            return
        if found is None:
            found = unique(slug(text, "level"), {lv["id"] for lv in self.levels})
            self.levels.append({"id": found, "name": text})
            self.level_names.add(found, text)
            self.assume_top("authorities")
            self.fill(
                f"the sign-off level '{text}' (not in a Sign-off levels sheet: put the levels "
                "in order, lowest first, with their limits)"
            )
        out["authority"] = found

    def sources_of(self, step: StepRow, out: dict[str, Any]) -> None:
        text = step.row.text("source")
        if text is None:
            return
        ids: list[str] = []
        for item in split_values(text):
            found = self.source_of(step.row, item)
            if found and found not in ids:
                ids.append(found)
        if ids:
            out["source"] = ids[0] if len(ids) == 1 else ids

    def source_of(self, row: Row, item: str) -> str | None:
        try:
            found = self.source_names.find(item)
        except CellError as exc:
            self.error(row.at("source"), str(exc))
            return None
        if found is None and self.has_rows("sources"):
            self.error(
                row.at("source"),
                f"'{short(item)}' is not a source in the Sources sheet"
                f"{self.source_names.hint(item)}",
            )
            return None
        if found is None:
            found = unique(slug(item, "source"), {s["id"] for s in self.sources})
            self.sources.append({"id": found, "title": item})
            self.source_names.add(found, item)
            self.fill(f"the title of source '{item}' (not in a Sources sheet)")
        return found

    def links_of(self, step: StepRow, out: dict[str, Any]) -> None:
        if step.kind == "end":
            for link in step.links:
                self.error(
                    link.place,
                    f"'{step.name}' is an end step, so nothing follows it: remove the link to "
                    f"'{link.to}', or change its kind",
                )
            return
        if step.links:
            out["next"] = [transition(link) for link in step.links]
            self.check_shares(step)

    def check_shares(self, step: StepRow) -> None:
        given = [lk for lk in step.links if lk.share is not None]
        if not given:
            return
        total = sum(lk.share or 0 for lk in given)
        if total > 1 + 1e-3:
            self.error(
                given[-1].place,
                f"the shares of the links from '{step.name}' add up to {total:g}, more than 1: "
                "they are parts of all cases",
            )
        elif len(given) == len(step.links) and abs(total - 1) > 1e-3:
            self.error(
                given[-1].place,
                f"every link from '{step.name}' has a share, but they add up to {total:g}, "
                "not 1: adjust them, or leave one empty to take what is left",
            )

    def assumed_of(self, step: StepRow, out: dict[str, Any]) -> None:
        """The step's ``assumed``: the cell's words, then what was filled in here."""
        given: list[str] = []
        for item in split_values(step.row.text("assumed") or ""):
            word = word_of(item)
            word = {"team": "actor", "links": "next"}.get(word, word)
            if word not in STEP_ASSUMABLE:
                self.error(
                    step.row.at("assumed"),
                    f"'{short(item)}' is not a column that can be assumed"
                    f"{did_you_mean(word, STEP_ASSUMABLE)}; use any of: team, "
                    f"{', '.join(k for k in STEP_ASSUMABLE if k != 'actor')}",
                )
            elif word not in given:
                given.append(word)
        given += [w for w in step.assumed if w not in given]
        if given:
            out["assumed"] = given

    def finish_parallel(self, step: StepRow, out: dict[str, Any]) -> dict[str, Any]:
        """A parallel step: ``branches`` (or its links) and ``join``, nothing else."""
        row = step.row
        for key in PARALLEL_BLANK:
            if row.text(key) is not None and norm(row.text(key) or "") != "notgiven":
                self.error(
                    row.at(key),
                    f"'{step.name}' is a parallel step: it is passed at once, by nobody, so "
                    f"leave '{key}' empty (the steps of its branches have their own)",
                )
        out["branches"] = self.branches_of(step)
        join = row.text("join")
        if join is None:
            self.error(
                row.at("join"),
                f"'{step.name}' is a parallel step, so it needs 'join': the step where the case "
                "goes on when every branch is done",
            )
        out["join"] = (self.find_step(join, row.at("join")) if join else None) or ""
        self.sources_of(step, out)
        self.assumed_of(step, out)
        if row.text("note") is not None:
            out["note"] = row.free("note")
        return out

    def branches_of(self, step: StepRow) -> list[str]:
        row = step.row
        if row.text("branches") is None:
            branches = [link.to for link in step.links]
        else:
            branches = []
            for item in split_values(row.text("branches") or ""):
                found = self.find_step(item, row.at("branches"))
                if found and found not in branches:
                    branches.append(found)
            for link in step.links:
                self.error(
                    link.place,
                    f"'{step.name}' is a parallel step: its branches say where it goes, so "
                    f"remove this link to '{link.to}'",
                )
        if len(branches) < 2:
            self.error(
                row.at("branches"),
                f"'{step.name}' is a parallel step, so it needs two or more branches: the first "
                "step of each, in 'branches' (separated by ';')",
            )
        return branches

    # ----------------------------------------------------------------- waivers

    def read_waivers(self) -> list[dict[str, Any]]:
        out = []
        for row in self.rows("waivers"):
            rule, reason = row.text("rule"), row.text("reason")
            if rule is None or reason is None:
                key = "rule" if rule is None else "reason"
                what = "its rule id, such as AUTH-03" if rule is None else "why it is accepted"
                self.error(row.at(key), f"this waiver has no {key}: give {what}")
                continue
            waiver: dict[str, Any] = {"rule": rule.upper()}
            if row.text("step") is not None:
                found = self.find_step(row.text("step") or "", row.at("step"))
                if found:
                    waiver["step"] = found
            waiver["reason"] = reason
            out.append(waiver)
        return out

    # ----------------------------------------------------------------- parallel blocks

    def check_blocks(self, steps: list[dict[str, Any]]) -> None:
        """Parallel blocks checked as the loader checks them, each problem at its cell."""
        if self.problems or not any(s["kind"] == "parallel" for s in steps):
            return
        places: list[Place] = []

        def pos(place: Place) -> Pos:
            places.append(place)
            return Pos(str(len(places) - 1), 1, 1)

        rows = {s.id: s for s in self.steps}
        objects = []
        for s in steps:
            row = rows[s["id"]]
            links = tuple(
                Transition(t.to, t.when, t.share, t.rework, pos(t.place))
                for t in (row.links if s["kind"] not in ("parallel", "end") else ())
            )
            key = "branches" if s["kind"] == "parallel" else "name"
            objects.append(
                Step(
                    id=s["id"],
                    name=s["name"],
                    kind=s["kind"],
                    next=links,
                    branches=tuple(s.get("branches", ())),
                    join=s.get("join"),
                    pos=pos(row.row.at(key)),
                )
            )
        blocks, problems = find_blocks(objects)
        for where, message in problems:
            index = int(where.file) if where.file.isdigit() else -1
            self.error(places[index] if 0 <= index < len(places) else Place(self.path), message)
        for start, place in self.start_places.items():
            inside = [(b, b.branch_of(start)) for b in blocks if b.branch_of(start) is not None]
            for block, n in inside[:1]:
                self.error(
                    place,
                    f"cases start at '{start}', which is inside branch "
                    f"'{block.branches[n or 0][0]}' of the parallel step '{block.step}': a branch "
                    f"is entered only from its parallel step, so start at '{block.step}' or "
                    "before it",
                )

    # ----------------------------------------------------------------- the model

    def assemble(
        self, about: dict[str, Any], start: Any, steps: list[dict[str, Any]], waivers: list[Any]
    ) -> dict[str, Any]:
        if not any(t["kind"] == "person" for t in self.teams.values()):
            person = unique("person", set(self.teams))
            self.teams[person] = {"name": "The person and their family", "kind": "person"}
        data: dict[str, Any] = {key: about[key] for key in ("council", "title", "as_of")}
        data = {"sdsaudit": "1.1", **data}
        if "description" in about:
            data["description"] = about["description"]
        if self.sources:
            data["sources"] = self.sources
        assumed = list(about.get("assumed", []))
        assumed += [k for k in self.top_assumed if k not in assumed]
        if assumed:
            data["assumed"] = assumed
        if self.levels:
            data["authorities"] = self.levels
        data["actors"] = dict(self.teams)
        if "options" in about:
            data["options"] = about["options"]
        for prefix in ("policies", "targets"):
            nested = _nested(about, prefix + ".")
            if nested:
                data[prefix] = nested
        data["start"] = start
        data["steps"] = steps
        if waivers:
            data["waivers"] = waivers
        return data


STEP_CELLS: dict[str, Parse] = {
    "person": lambda v: parse_word(cell_text(v), PERSON_LEVELS, "how a person takes part"),
    "forms": lambda v: parse_number(v, "forms", maximum=S.MAX_COUNT, integer=True),
    "asks": lambda v: split_values(cell_text(v) or ""),
    "tells": lambda v: parse_words(cell_text(v), TELLS, "something a person is told"),
    "produces": lambda v: parse_words(cell_text(v), ARTEFACTS, "an artefact"),
    "restrictions": lambda v: parse_restrictions(cell_text(v) or ""),
}
"""The cells of a step read the same way whatever its kind."""

PARALLEL_BLANK = (
    "team",
    "person",
    "days",
    "forms",
    "asks",
    "tells",
    "produces",
    "approves",
    "authority",
    "outcome",
    "restrictions",
)
"""Cells a ``parallel`` step leaves empty: it is passed at once, by nobody."""

TOP_ASSUMABLE = _TOP_ASSUMABLE + tuple(f"policies.{k}" for k in S.POLICIES.keys)


def about_value(key: str, value: Any) -> Any:
    """One value of the About sheet, read as its key needs."""
    text = cell_text(value) or ""
    if key == "as_of":
        return parse_date(value, "as_of")
    if key == "description":
        return free_text(value)
    if key in ("council", "title", "start"):
        return text
    if key in ("options", "policies.allowed_uses"):
        if norm(text) == "none":
            return []
        if key == "options":
            return parse_words(text, OPTIONS, "a way to manage a budget")
        return parse_words(text, ALLOWED_USES, "an allowed use")
    if key == "policies.restrictions":
        return parse_restrictions(text)
    if key.endswith(("_default", "_published")):
        return parse_flag(value, key)
    if key.startswith("policies."):
        return parse_number(value, key, maximum=S.MAX_DAYS)
    if key.startswith("targets."):
        return parse_number(value, key, maximum=S.MAX_DAYS if "days" in key else S.MAX_COUNT)
    out = []
    for item in split_values(text):  # assumed
        word = item.replace(" ", "_")
        if word not in TOP_ASSUMABLE:
            raise CellError(
                f"'{short(item)}' cannot be assumed{did_you_mean(word, TOP_ASSUMABLE)}; use any "
                f"of: {', '.join(TOP_ASSUMABLE)}"
            )
        out.append(word)
    return out


def _nested(about: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, _ in ABOUT_KEYS:
        if key.startswith(prefix) and key in about:
            *path, last = key[len(prefix) :].split(".")
            target = out
            for part in path:
                target = target.setdefault(part, {})
            target[last] = about[key]
    return out


def transition(link: Link) -> Any:
    """A link as the format writes it: the id alone when nothing else is said."""
    if link.when is None and link.share is None and not link.rework:
        return link.to
    out: dict[str, Any] = {"to": link.to}
    if link.when is not None:
        out["when"] = link.when
    if link.share is not None:
        out["share"] = num(link.share)
    if link.rework:
        out["rework"] = True
    return out


# --------------------------------------------------------------------------- guessing kinds

KIND_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("financial_assessment", ("financial assessment", "financial", "means test", "charging")),
    ("approval", ("panel", "sign off", "sign-off", "signoff", "signs off", "approv", "authoris")),
    ("eligibility", ("eligib",)),
    ("advocacy", ("advoca",)),
    ("review", ("review",)),
    ("allocation", ("indicative budget", "allocation", "personal budget", "budget")),
    ("support", ("support in place", "support starts", "services start", "support begins")),
    ("planning", ("plan",)),
    ("assessment", ("assess",)),
    ("arranging", ("arrang", "set up", "broker", "commission")),
    ("contact", ("contact", "referral", "enquiry", "inquiry", "front door", "request")),
    ("wait", ("wait", "queue")),
    ("information", ("information", "advice", "leaflet")),
    ("decision", ("decide", "decision", "?")),
)
"""Words in a step's name that suggest its kind, tried in order."""

END_CUES = ("signpost", "not eligible", "ineligible", "withdr", "declin", "closed", "no further")
OUTCOME_CUES = (
    ("signpost", "signposted"),
    ("not eligible", "not_eligible"),
    ("ineligible", "not_eligible"),
    ("withdr", "withdrew"),
    ("declin", "declined"),
)


def guess_kind(name: str, shape: str | None, exits: int) -> tuple[str, str]:
    """A step's kind from its name (or a shape's name, when the sheet has one), and why."""
    words = name.lower()
    shape_word = norm(shape or "")
    if shape_word in ("decision", "diamond", "gateway", "exclusivegateway"):
        return "decision", "from its shape"
    if not exits and any(cue in words for cue in END_CUES):
        return "end", "from its name"
    for kind, cues in KIND_CUES:
        if any(cue in words for cue in cues):
            return kind, "from its name"
    if shape_word in ("terminator", "end", "stop", "endevent") or not exits:
        return "end", "as nothing follows it"
    if exits > 1:
        return "decision", "as it has several ways out"
    return "information", "as its name does not say"


TEAM_CUES = (
    ("panel", ("panel", "board")),
    ("finance", ("financ", "charging", "income", "benefit")),
    ("health", ("health", "nhs", "hospital", "clinic", "gp")),
    ("provider", ("provider", "agency", "home care", "care home")),
    ("voluntary", ("voluntary", "charity", "community group")),
    ("carer", ("carer",)),
)
"""Words in a team's name that suggest its kind (otherwise: council)."""


def guess_team_kind(name: str) -> str:
    words = name.lower()
    return next((kind for kind, cues in TEAM_CUES if any(c in words for c in cues)), "council")


def guess_outcome(name: str) -> str:
    words = name.lower()
    return next((outcome for cue, outcome in OUTCOME_CUES if cue in words), "other")
