"""The survey format and analysis settings, read from ``criteria/survey.yaml``.

:func:`load_spec` reads the file once per process into a :class:`SurveySpec`: the
columns a survey CSV has (``docs/survey.md`` is the data dictionary), the closed
vocabularies and their labels, the indicators and how each is worked out, the
suppression threshold and the national POET figures. A mistake in the file stops
every command with its line and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from ..model import datafile as D
from ..model import schema as S
from ..model.loader import did_you_mean
from ..vocab import BLOCKS

MIN_GROUP = 10
"""Default suppression threshold: groups of fewer respondents are never shown.

``criteria/survey.yaml`` (``min_group``) and ``--min-group`` override it."""

NOT_STATED = ""
"""Cell key for respondents who left the breakdown question blank."""

NOT_APPLICABLE = "not_applicable"
"""The answer that leaves a respondent out of a share, as a blank does."""

EASE_SCORE = {"very_easy": 1, "easy": 2, "difficult": 3, "very_difficult": 4}
"""The score of each ease answer; "easy overall" is a mean of these."""


@dataclass(frozen=True)
class Column:
    """One column of the survey format.

    ``kind`` is ``id``, ``text``, ``date`` (the three must not be blank),
    ``choice`` (one value of ``vocabulary`` or blank), ``choices`` (values of
    ``vocabulary`` separated by ``;``, or blank) or ``free`` (never read).
    """

    name: str
    kind: str
    vocabulary: str | None = None
    optional: bool = False
    """Whether the column may be left out of the header altogether."""


@dataclass(frozen=True)
class IndicatorDef:
    """How one yes/no indicator is worked out (from ``criteria/survey.yaml``)."""

    id: str
    block: str | None
    label: str
    definition: str
    column: str | None = None
    yes: frozenset[str] = frozenset()


MEASURES = ("same", "different")
"""How a national figure's measure compares with the survey indicator set beside it."""

BOUNDS = ("about", "at_least")
"""Whether a national figure is a value (``about``) or a lower bound (``at_least``:
"more than 80%", "at least two thirds")."""


@dataclass(frozen=True)
class NationalFigure:
    """A national POET figure quoted in the evidence, with its source and year.

    ``question`` says what POET asked or counted; ``measure`` is ``same`` when the survey
    indicator counts the same thing (the only case where the two are compared) and
    ``different`` when it does not (both definitions are then shown, with no verdict).
    ``bound`` is ``at_least`` for a figure reported as a lower bound.
    """

    id: str
    statement: str
    figure: float
    indicator: str | None
    source: str
    year: int | None
    note: str
    question: str = ""
    measure: str = "same"
    bound: str = "about"


@dataclass(frozen=True)
class SurveySpec:
    """The survey format and analysis settings (``criteria/survey.yaml``)."""

    columns: tuple[Column, ...]
    vocabularies: Mapping[str, Mapping[str, str]]
    process_parts: Mapping[str, str]
    spending: Mapping[str, str]
    life_areas: Mapping[str, str]
    indicators: tuple[IndicatorDef, ...]
    outcome_factors: tuple[str, ...]
    national: tuple[NationalFigure, ...]
    national_odds: Mapping[str, NationalFigure]
    min_group: int = MIN_GROUP
    easy_overall_below: float = 2.5
    good_outcome_min_share_better: float = 0.5
    good_outcome_min_areas: int = 1

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def indicator(self, indicator_id: str) -> IndicatorDef:
        """The indicator with this id (``KeyError`` if none)."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def label(self, vocabulary: str, value: str) -> str:
        """The plain-English label of a vocabulary value."""
        return self.vocabularies[vocabulary].get(value, value)


# The format of criteria/survey.yaml (read by sdsaudit.model.datafile).

VOCABULARIES = ("group", "budget_option", "views", "knew", "yes_no", "ease", "helper", "outcome")
"""The vocabularies the survey columns use (``vocabularies`` in ``criteria/survey.yaml``)."""

DERIVED_INDICATORS = (
    "heard",
    "easy_overall",
    "simple",
    "spend_pa_or_community",
    "in_control",
    "good_outcome",
)
"""Indicators worked out in code from several answers (the others count one column)."""

_SHARE = S.Number(minimum=0, maximum=1, description="a share, from 0 to 1")
_LABELS = D.Table(value=D.Prose(), min_items=1, description="value: plain-English label")
NATIONAL_FIGURE = S.Record(
    name="national figure",
    keys={
        "id": S.Key(S.ID, default=""),
        "statement": S.Key(D.Prose(), required=True),
        "figure": S.Key(S.Number(minimum=0), required=True),
        "indicator": S.Key(D.Nullable(spec=S.ID)),
        "source": S.Key(D.Prose(), required=True),
        "year": S.Key(D.Nullable(spec=S.Number(minimum=1900, maximum=2100, integer=True))),
        "note": S.Key(D.Prose(fold=True), default=""),
        "question": S.Key(D.Prose(fold=True), default=""),
        "measure": S.Key(S.Word(words=MEASURES, vocabulary="measure"), default="same"),
        "bound": S.Key(S.Word(words=BOUNDS, vocabulary="bound"), default="about"),
    },
)
INDICATOR = S.Record(
    name="indicator",
    keys={
        "id": S.Key(S.ID, required=True),
        "block": S.Key(D.Nullable(spec=S.Word(words=BLOCKS, vocabulary="building block"))),
        "label": S.Key(D.Prose(), required=True),
        "derived": S.Key(S.Flag(), default=False),
        "definition": S.Key(D.Prose(fold=True), default=""),
        "column": S.Key(S.ID),
        "yes": S.Key(S.ListOf(item=D.Prose(), unique=True), default=()),
    },
)
SURVEY_FILE = S.Record(
    name="the survey file",
    keys={
        "min_group": S.Key(S.Number(minimum=1, integer=True), default=MIN_GROUP),
        "easy_overall_below": S.Key(S.Number(minimum=1, maximum=4), required=True),
        "good_outcome_min_share_better": S.Key(_SHARE, required=True),
        "good_outcome_min_areas": S.Key(S.Number(minimum=0, integer=True), required=True),
        "vocabularies": S.Key(
            S.Record(
                name="vocabularies",
                keys={name: S.Key(_LABELS, required=True) for name in VOCABULARIES},
            ),
            required=True,
        ),
        "process_parts": S.Key(_LABELS, required=True),
        "spending": S.Key(_LABELS, required=True),
        "life_areas": S.Key(_LABELS, required=True),
        "national": S.Key(D.Records(item=NATIONAL_FIGURE, unique_keys=("id",)), default=()),
        "national_odds": S.Key(D.Table(value=NATIONAL_FIGURE), default=MappingProxyType({})),
        "indicators": S.Key(
            D.Records(item=INDICATOR, unique_keys=("id",), min_items=1), required=True
        ),
        "outcome_factors": S.Key(S.ListOf(item=S.ID, unique=True), required=True),
    },
)


def load_spec(path: str | None = None) -> SurveySpec:
    """Read ``criteria/survey.yaml`` (or ``path``) into a :class:`SurveySpec`, once per process.

    Raises :class:`~sdsaudit.errors.ConfigError` with every problem found, each with its
    line and column.
    """
    return D.build(path or D.criteria_file("survey.yaml"), SURVEY_FILE, _survey_spec)


def _survey_spec(data: D.Entry, reader: D.Reader) -> SurveySpec:
    parts, spending, areas = data["process_parts"], data["spending"], data["life_areas"]
    columns = _columns(parts, spending, areas)
    _check_spec(data, {c.name: c for c in columns}, reader)
    return SurveySpec(
        columns=columns,
        vocabularies={name: dict(values) for name, values in data["vocabularies"].items()},
        process_parts=dict(parts),
        spending=dict(spending),
        life_areas=dict(areas),
        indicators=_indicators(data["indicators"], parts, areas),
        outcome_factors=tuple(data["outcome_factors"]),
        national=tuple(_national(item) for item in data["national"]),
        national_odds={k: _national(v) for k, v in data["national_odds"].items()},
        min_group=data["min_group"],
        easy_overall_below=float(data["easy_overall_below"]),
        good_outcome_min_share_better=float(data["good_outcome_min_share_better"]),
        good_outcome_min_areas=data["good_outcome_min_areas"],
    )


def _columns(
    parts: Mapping[str, str], spending: Mapping[str, str], areas: Mapping[str, str]
) -> tuple[Column, ...]:
    """The survey format: fixed columns, then one per part of the process, spending and
    life area named in ``criteria/survey.yaml``."""
    return (
        Column("respondent_id", "id"),
        Column("council", "text"),
        Column("survey_date", "date"),
        Column("group", "choice", "group"),
        Column("budget_option", "choice", "budget_option"),
        Column("views_planning", "choice", "views"),
        Column("views_budget", "choice", "views"),
        Column("knew_amount", "choice", "knew"),
        *(Column(name, "choice", "ease") for name in parts),
        Column("help_to_plan", "choice", "yes_no"),
        Column("help_from", "choices", "helper"),
        *(Column(name, "choice", "yes_no") for name in spending),
        *(Column(name, "choice", "outcome") for name in areas),
        Column("comment", "free", optional=True),
    )


def _indicators(
    items: list[D.Entry], parts: Mapping[str, str], areas: Mapping[str, str]
) -> tuple[IndicatorDef, ...]:
    """The declared indicators, then ``easy_<part>`` for each part of the process and
    ``better_<area>`` for each life area; one counting a column without a definition
    of its own is given one saying what it counts."""
    indicators = [
        IndicatorDef(
            id=item["id"],
            block=item["block"],
            label=item["label"],
            definition=item["definition"],
            column=item["column"],
            yes=frozenset(item["yes"]),
        )
        for item in items
    ]
    indicators += [
        IndicatorDef(
            f"easy_{part}", "simple", f"{label}: easy", "", part, frozenset({"very_easy", "easy"})
        )
        for part, label in parts.items()
    ]
    indicators += [
        IndicatorDef(f"better_{area}", None, f"{label}: better", "", area, frozenset({"better"}))
        for area, label in areas.items()
    ]
    return tuple(_defined(ind) for ind in indicators)


def _defined(ind: IndicatorDef) -> IndicatorDef:
    if ind.definition or not ind.column:
        return ind
    yes = " or ".join(f'"{v}"' for v in sorted(ind.yes))
    return replace(
        ind,
        definition=f"Share answering {yes} to {ind.column}, of those who answered it "
        "(blank and not applicable left out).",
    )


def _national(item: D.Entry) -> NationalFigure:
    return NationalFigure(
        id=item["id"],
        statement=item["statement"],
        figure=float(item["figure"]),
        indicator=item["indicator"],
        source=item["source"],
        year=item["year"] or None,
        note=item["note"],
        question=item["question"],
        measure=item["measure"],
        bound=item["bound"],
    )


def _check_spec(data: D.Entry, columns: Mapping[str, Column], reader: D.Reader) -> None:
    """What the declarations cannot say: the indicators name real columns and values, the
    code's own indicators are all declared, and the factors and national figures name
    indicators."""
    ease = set(data["vocabularies"]["ease"]) - set(EASE_SCORE) - {NOT_APPLICABLE}
    if ease:
        reader.fail(
            data["vocabularies"].at("ease"),
            f"the ease vocabulary has {', '.join(sorted(ease))}, which sdsaudit cannot score; "
            f"use {', '.join(EASE_SCORE)} and {NOT_APPLICABLE}",
        )
    ids = {item["id"] for item in data["indicators"]}
    ids |= {f"easy_{p}" for p in data["process_parts"]} | {
        f"better_{a}" for a in data["life_areas"]
    }
    for item in data["indicators"]:
        _check_indicator(item, columns, data["vocabularies"], reader)
    missing = [i for i in DERIVED_INDICATORS if i not in ids]
    if missing:
        reader.fail(
            data.at("indicators"),
            f"the indicators sdsaudit works out are not all declared: add {', '.join(missing)}",
        )
    factors = data["outcome_factors"]
    for factor, pos in zip(factors, factors.positions, strict=True):
        if factor not in ids:
            reader.fail(
                pos, f"the outcome factor '{factor}' is not an indicator{did_you_mean(factor, ids)}"
            )
    figures = [*data["national"], *data["national_odds"].values()]
    for figure in figures:
        if figure["indicator"] is not None and figure["indicator"] not in ids:
            reader.fail(
                figure.at("indicator"),
                f"the national figure's indicator '{figure['indicator']}' is not an indicator"
                f"{did_you_mean(figure['indicator'], ids)}",
            )


def _check_indicator(
    item: D.Entry, columns: Mapping[str, Column], vocabularies: D.Entry, reader: D.Reader
) -> None:
    if item["derived"]:
        if item["id"] not in DERIVED_INDICATORS:
            reader.fail(
                item.at("id"),
                f"'{item['id']}' is marked derived, but sdsaudit works out only "
                f"{', '.join(DERIVED_INDICATORS)}: give it a column and yes values instead",
            )
        return
    column = columns.get(item["column"] or "")
    if column is None or column.kind != "choice" or column.vocabulary is None:
        choices = [c.name for c in columns.values() if c.kind == "choice"]
        reader.fail(
            item.at("column"),
            f"indicator '{item['id']}' needs a column with one answer per respondent"
            f"{did_you_mean(item['column'] or '', choices)}; or mark it derived: true",
        )
        return
    allowed = vocabularies[column.vocabulary]
    for value in item["yes"]:
        if value not in allowed:
            reader.fail(
                item.at("yes"),
                f"'{value}' is not a value of {column.name} ({', '.join(allowed)})"
                f"{did_you_mean(value, allowed)}",
            )
    if not item["yes"]:
        reader.fail(item.pos, f"indicator '{item['id']}' has no yes values: give at least one")


def spec_column(spec: SurveySpec, name: str) -> Column:
    """The format column called ``name``."""
    for col in spec.columns:
        if col.name == name:
            return col
    raise KeyError(name)
