"""Wording helpers: numbers, plurals and lists as people write them.

Every module that puts a figure or a list into a sentence uses these, and the report
templates get them as jinja filters (``number``, ``plural``, ``plural_word``,
``join_and``), so a figure reads the same in a rule's message, a score's reason, a map
and a report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from fractions import Fraction

__all__ = [
    "a_or_an",
    "date_words",
    "join_and",
    "number",
    "plural",
    "plural_word",
    "quoted",
    "tidy",
]


def tidy(value: float | Fraction, places: int | None = None) -> int | float:
    """A figure as a number for people: rounded to ``places`` decimals when given, and a
    whole number when it is one (``tidy(28.0) == 28``, ``tidy(83.94, 1) == 83.9``)."""
    figure = float(value) if places is None else round(float(value), places)
    return int(figure) if figure.is_integer() else figure


def number(value: float | Fraction, places: int | None = None) -> str:
    """:func:`tidy` as text: ``"28"``, ``"0.5"``, ``"83.9"``."""
    return str(tidy(value, places))


def plural(count: float | Fraction, word: str, many: str | None = None) -> str:
    """``"1 step"``, ``"3 steps"``, ``"0.5 days"``; ``many`` for irregular plurals."""
    return f"{number(count)} {word if count == 1 else many or word + 's'}"


def plural_word(count: float | Fraction, word: str, many: str | None = None) -> str:
    """The word alone, as :func:`plural` writes it: ``"step"`` for 1, else ``"steps"`` (or
    ``many``), for a sentence that puts the figure somewhere else or says none."""
    return word if count == 1 else many or word + "s"


def a_or_an(word: str) -> str:
    """``"an end"``, ``"an approval"``, ``"a review"`` (by the first letter, which is right
    for every word of the format's vocabularies)."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def join_and(words: Iterable[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def quoted(names: Iterable[str]) -> str:
    """Names in double quotes, joined: ``"a", "b" and "c"`` (how messages name steps)."""
    return join_and(f'"{name}"' for name in names)


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def date_words(day: dt.date | None) -> str:
    """A date as people write it, ``1 March 2024`` (empty for ``None``)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}" if day is not None else ""
