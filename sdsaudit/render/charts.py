"""The pieces of a page's tables and bar charts, already in words and in numbers ready to
draw: what the calibration page (:mod:`sdsaudit.calibrate.view`) and the survey's
experience section (:mod:`sdsaudit.survey.experience`) hand to their templates alike.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """A table row: a label and its cells, already in words."""

    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A captioned table: ``head`` names the columns after the row label."""

    id: str
    caption: str
    corner: str
    head: tuple[str, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its label, its figure in words and its geometry (a bar from
    the axis, a line for its interval, and where its text goes). ``model_x`` places a
    mark for what the model says, when there is one; ``shown`` is false for a figure held
    back (the text says why)."""

    label: str
    text: str
    shown: bool
    y: float
    width: float
    low_x: float
    high_x: float
    text_x: float
    model_x: float | None = None


@dataclass(frozen=True)
class Tick:
    """A mark on the axis and its label."""

    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    """An accessible horizontal bar chart: a title and a description for screen readers,
    its size, and its bars and ticks."""

    id: str
    title: str
    desc: str
    width: int
    height: int
    bar_x: int
    bar_height: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
