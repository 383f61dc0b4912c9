"""Disclosure control (issue 16, point 6): secondary suppression hides the fewest figures
needed, and no hidden figure can be worked out from the figures shown.

The check that nothing can be worked out is exact and independent of the code's own
method: every figure shown is a linear equation in the table's cells, and a hidden
figure can be worked out exactly when its equation is a combination of those
(elimination over fractions). The code decides by bridges in a graph instead
(``sdsaudit/survey/suppression.py``); the two must agree.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction
from itertools import combinations
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sdsaudit.survey.suppression import ALL, hidden_cells, hidden_table, with_totals
from tests.survey_truth import respondent, save

M = 10


# --------------------------------------------------------------------------- the oracle


def rank(vectors: Sequence[Mapping[Hashable, int]]) -> int:
    """The rank of sparse vectors, by elimination over fractions."""
    pivots: dict[Hashable, dict[Hashable, Fraction]] = {}
    found = 0
    for vector in vectors:
        row = {k: Fraction(v) for k, v in vector.items() if v}
        for key, pivot in pivots.items():
            if row.get(key):
                factor = row[key] / pivot[key]
                for k, v in pivot.items():
                    row[k] = row.get(k, Fraction(0)) - factor * v
                row = {k: v for k, v in row.items() if v}
        if row:
            pivots[min(row, key=repr)] = row
            found += 1
    return found


def determined(target: Mapping[Hashable, int], published: list[Mapping[Hashable, int]]) -> bool:
    """Whether the figure ``target`` (a sum of cells) follows from the ``published`` ones."""
    return rank([*published, target]) == rank(published)


def form(key: tuple, cells: Sequence[tuple]) -> dict[tuple, int]:
    """The cells a table key adds up: a cell itself, or a row, column or grand total."""
    r, c = key
    return {k: 1 for k in cells if (r == ALL or k[0] == r) and (c == ALL or k[1] == c)}


def table_leaks(
    sizes: Mapping[tuple, int], hidden: Mapping[tuple, str], inner_shown: bool = True
) -> list[tuple]:
    """The hidden keys of a two-way table (with totals) that the shown keys give away."""
    cells = [k for k, n in sizes.items() if n > 0]
    full = with_totals({k: sizes[k] for k in cells})
    published = [form(k, cells) for k in full if k not in hidden and (inner_shown or ALL in k)]
    return [k for k in hidden if determined(form(k, cells), published)]


def mass_ok(sizes: Mapping[tuple, int], hidden: Mapping[tuple, str]) -> bool:
    """Every row and column (totals included) that hides a figure hides at least ``M``
    people, or hides all it can."""
    cells = [k for k, n in sizes.items() if n > 0]
    full = with_totals({k: sizes[k] for k in cells})
    lines: dict[tuple, list[tuple]] = {}
    for r, c in full:
        lines.setdefault(("row", r), []).append((r, c))
        lines.setdefault(("col", c), []).append((r, c))
    for keys in lines.values():
        held = [k for k in keys if k in hidden]
        free = [k for k in keys if k not in hidden and k != (ALL, ALL)]
        if held and sum(full[k] for k in held) < M and free:
            return False
    return True


TABLES = st.dictionaries(
    st.tuples(st.sampled_from("pcn"), st.sampled_from("abcde")),
    st.one_of(st.integers(1, 9), st.integers(10, 400), st.just(0)),
    min_size=1,
    max_size=15,
)


@settings(max_examples=150, deadline=None)
@given(TABLES)
def test_no_hidden_figure_of_a_table_can_be_worked_out(sizes):
    hidden = hidden_table(sizes, M)
    if with_totals(sizes)[(ALL, ALL)] >= M:
        assert (ALL, ALL) not in hidden
    assert table_leaks(sizes, hidden) == []
    assert mass_ok(sizes, hidden)
    for key, n in with_totals(sizes).items():
        if 0 < n < M:
            assert hidden.get(key) == "small", key


@settings(max_examples=60, deadline=None)
@given(TABLES)
def test_no_table_hides_more_figures_than_it_needs(sizes):
    # Brute force: no choice of fewer secondary figures meets the same two rules.
    hidden = hidden_table(sizes, M)
    primary = {k: v for k, v in hidden.items() if v == "small"}
    secondary = [k for k, v in hidden.items() if v == "secondary"]
    full = with_totals({k: n for k, n in sizes.items() if n > 0})
    candidates = [k for k, n in full.items() if k not in primary and k != (ALL, ALL) and n > 0]
    for fewer in range(len(secondary)):
        for extra in combinations(candidates, fewer):
            trial = {**primary, **dict.fromkeys(extra, "secondary")}
            assert table_leaks(sizes, trial) or not mass_ok(sizes, trial), (sizes, extra)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=2), st.integers(0, 60), max_size=12))
def test_no_hidden_figure_of_a_one_way_breakdown_can_be_worked_out(sizes):
    assume(sum(sizes.values()) >= M)  # below that the summary hides every figure
    hidden = hidden_cells(sizes, M)
    cells = [k for k, n in sizes.items() if n > 0]
    published = [{k: 1 for k in cells}] + [{k: 1} for k in cells if k not in hidden]
    assert not [k for k in hidden if determined({k: 1}, published)]
    held = sum(sizes[k] for k in hidden)
    assert not hidden or held >= M or len(hidden) == len(cells)


def test_the_other_shown_totals_of_an_unpublished_table_are_protected():
    # Only the totals published (a breakdown by group and another by option): hiding
    # a group's total needs another group's total hidden, not a cell.
    sizes = {("p", "a"): 300, ("p", "b"): 60, ("c", "a"): 4, ("c", "b"): 3, ("n", "a"): 40}
    hidden = hidden_table(sizes, M, inner_shown=False)
    assert hidden[("c", ALL)] == "small" and hidden[("n", ALL)] == "secondary"
    assert table_leaks(sizes, hidden, inner_shown=False) == []


# --------------------------------------------------------------------------- the old rule


def old_hidden_table(sizes, min_group):
    """The rule before issue 16: the smallest shown cell of every row and column, again
    and again until nothing changes."""
    hidden = {k: "small" for k, n in sizes.items() if 0 < n < min_group}
    lines = [[k for k in sizes if k[0] == r] for r in sorted({k[0] for k in sizes})] + [
        [k for k in sizes if k[1] == c] for c in sorted({k[1] for k in sizes})
    ]

    def protect(keys):
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

    while any([protect(keys) for keys in lines]):
        pass
    return hidden


PLANTED = {
    ("person", "direct_payment"): 300,
    ("person", "individual_service_fund"): 60,
    ("person", "council_managed"): 400,
    ("person", "mixed"): 7,
    ("carer", "direct_payment"): 80,
    ("carer", "individual_service_fund"): 8,
    ("carer", "council_managed"): 500,
    ("carer", "mixed"): 90,
}


def test_fewer_cells_are_hidden_than_by_the_old_rule():
    old = old_hidden_table(PLANTED, M)
    new = hidden_table(PLANTED, M)
    # The old rule hid the 300 people on a direct payment; the new one shows them.
    assert old[("person", "direct_payment")] == "secondary"
    assert ("person", "direct_payment") not in new
    assert sorted(k for k in new if ALL not in k) == [
        ("carer", "individual_service_fund"),
        ("carer", "mixed"),
        ("person", "individual_service_fund"),
        ("person", "mixed"),
    ]
    assert len(new) == 4 < len(old) == 6
    assert table_leaks(PLANTED, new) == []


# --------------------------------------------------------------------------- a whole survey


def _survey(tmp_path: Path) -> dict:
    """A survey of these group sizes (no blanks, so every figure's total is a group
    size and could give one away), through the real reader, summary and outputs."""
    rows = []
    sizes = {
        ("person", "direct_payment"): 300,
        ("person", "individual_service_fund"): 150,
        ("person", "council_managed"): 620,
        ("person", "mixed"): 4,
        ("person", ""): 12,
        ("carer", "direct_payment"): 40,
        ("carer", "individual_service_fund"): 30,
        ("carer", "council_managed"): 12,
        ("carer", "mixed"): 3,
        ("carer", ""): 3,
        ("", "council_managed"): 10,
    }
    n = 0
    for (group, option), size in sizes.items():
        for _ in range(size):
            n += 1
            rows.append(respondent(n, heard=n % 3 == 0, group=group, budget_option=option))
    path = save(tmp_path / "s.csv", rows)
    from sdsaudit.api import write_survey

    write_survey(str(path), tmp_path / "out")
    return {
        "sizes": sizes,
        "data": json.loads((tmp_path / "out" / "survey.json").read_text())["survey"],
        "page": (tmp_path / "out" / "survey.md").read_text(),
    }


def test_no_group_size_can_be_worked_out_from_anything_the_survey_shows(tmp_path):
    survey = _survey(tmp_path)
    sizes, data = survey["sizes"], survey["data"]
    cells = list(sizes)
    answered_option = [k for k in cells if k[1] != ""]

    def key_of(breakdown: str, cell_key: str) -> tuple:
        if breakdown == "group":
            return (cell_key, ALL)
        if breakdown == "budget_option":
            return (ALL, cell_key)
        group, option = cell_key.split("|")
        return (group, option)

    published: list[dict] = [form((ALL, ALL), cells)]
    hidden: list[tuple] = []
    for breakdown in data["breakdowns"]:
        for cell in breakdown["cells"]:
            key = key_of(breakdown["id"], cell["key"])
            if cell["status"] == "shown":
                published.append(form(key, cells))
            else:
                hidden.append(key)
            for ind, est in cell["indicators"].items():
                if est["status"] != "shown":
                    continue
                if ind == "council_managed":
                    published.append({k: 1 for k in form(key, cells) if k[1] != ""})
                    published.append({k: 1 for k in form(key, cells) if k[1] == "council_managed"})
                else:  # no blanks: every other figure's total is the group's size
                    published.append(form(key, cells))
    (option,) = [a for a in data["answers"] if a["id"] == "budget_option"]
    if option["respondents"] is not None:
        published.append({k: 1 for k in answered_option})
    if option["blank"] is not None:
        published.append({k: 1 for k in cells if k[1] == ""})
    for value in option["values"]:
        if value["status"] == "shown":
            published.append({k: 1 for k in cells if k[1] == value["value"]})
    (managed,) = [i for i in data["indicators"] if i["id"] == "council_managed"]
    if managed["overall"]["status"] == "shown":
        published.append({k: 1 for k in answered_option})
        published.append({k: 1 for k in cells if k[1] == "council_managed"})

    assert hidden, "the planted survey has small groups"
    leaks = [k for k in hidden if determined(form(k, cells), published)]
    assert leaks == []
    # the two leaks: a small mix (7 of all) and the blank options
    page = survey["page"]
    assert "| A mix of these | fewer than 10 people: not shown |" in page
    assert "| Left blank (not counted in the shares) |  | 15 |" in page  # 15: shown, not hidden


def test_a_hidden_group_where_nobody_answered_says_not_shown(tmp_path):
    rows = [respondent(n) for n in range(1, 41)]
    rows += [
        respondent(100 + n, group="carer", budget_option="mixed", knew_amount="")
        for n in range(1, 6)
    ]
    from sdsaudit.survey.reader import read_survey

    summary = read_survey(save(tmp_path / "s.csv", rows))
    cells = {c.key: c for c in summary.breakdown("group").cells}
    knew = cells["carer"].get("knew_amount")
    assert knew.status == "small"  # not "no answers", which would tell something
    assert cells["person"].get("knew_amount").status == "secondary"


def test_a_search_cut_short_still_hides_safely(monkeypatch):
    from sdsaudit.survey import suppression

    monkeypatch.setattr(suppression, "SEARCH_LIMIT", 3)
    sizes = {**PLANTED, ("person", ""): 3, ("carer", ""): 2, ("", "council_managed"): 5}
    hidden = hidden_table(sizes, M)
    assert table_leaks(sizes, hidden) == [] and mass_ok(sizes, hidden)
