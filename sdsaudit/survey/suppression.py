"""Small-group suppression: which cells of a breakdown to hide, and why.

A cell of fewer than ``min_group`` respondents is hidden (``small``); because
totals are shown, the smallest other cells are hidden too (``secondary``) so that
a hidden cell cannot be worked out by subtraction. :mod:`.summary` applies this
to every breakdown, distribution and count it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def hidden_cells(sizes: Mapping[Any, int], min_group: int) -> dict[Any, str]:
    """Which cells of one breakdown to hide, and why (``small`` or ``secondary``).

    Cells of 1 to ``min_group - 1`` people are hidden (primary suppression).
    Because the cells add up to a total that is shown, a lone hidden cell could
    be worked out by subtraction, so the smallest shown cells are hidden too
    until at least two cells are hidden and together they hold at least
    ``min_group`` people (secondary suppression). Empty cells hide nobody and
    stay shown.
    """
    hidden = {k: "small" for k, n in sizes.items() if 0 < n < min_group}
    _protect(list(sizes), sizes, hidden, min_group)
    return hidden


def hidden_table(sizes: Mapping[tuple[Any, Any], int], min_group: int) -> dict[tuple, str]:
    """:func:`hidden_cells` for a two-way table: the same protection for every row and
    every column, repeated until nothing changes, since row and column totals are
    both shown (so no hidden cell is alone in its row or column)."""
    hidden = {k: "small" for k, n in sizes.items() if 0 < n < min_group}
    lines = [[k for k in sizes if k[0] == r] for r in sorted({k[0] for k in sizes})] + [
        [k for k in sizes if k[1] == c] for c in sorted({k[1] for k in sizes})
    ]
    while any([_protect(keys, sizes, hidden, min_group) for keys in lines]):
        pass
    return hidden


def _protect(
    keys: list[Any], sizes: Mapping[Any, int], hidden: dict[Any, str], min_group: int
) -> bool:
    """Hide the smallest shown cells of one line (row, column or whole breakdown) until
    its hidden cells are at least two and hold at least ``min_group`` people, or all
    are hidden. Returns whether anything was hidden."""
    line_hidden = [k for k in keys if k in hidden and sizes[k] > 0]
    if not line_hidden:
        return False
    shown = sorted((sizes[k], str(k), k) for k in keys if sizes[k] > 0 and k not in hidden)
    changed = False
    while shown and (len(line_hidden) < 2 or sum(sizes[k] for k in line_hidden) < min_group):
        _, _, key = shown.pop(0)
        hidden[key] = "secondary"
        line_hidden.append(key)
        changed = True
    return changed
