"""Benchmark: ranks with ties, quartiles by hand, ordering, anonymisation, the command and
the accessible page."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdsaudit.cli import main
from sdsaudit.model.loader import load_model, load_model_text
from sdsaudit.stocktake.benchmark import (
    benchmark_models,
    letters,
    rank,
    rank_words,
    render_benchmark,
    summarise,
)
from tests.browser import axe_violations, format_violations, max_horizontal_overflow

from .models import ROOT
from .test_patch import MODEL

COUNCILS = sorted((ROOT / "examples" / "benchmark").glob("*.yaml"))
runner = CliRunner()


# --------------------------------------------------------------------------- ranks and spread


def test_ranks_higher_is_better_with_ties():
    assert rank([70, 90, 70, 50], higher_is_better=True) == [2, 1, 2, 4]


def test_ranks_fewer_is_better_with_ties_and_missing():
    assert rank([3, 1, None, 1, 2], higher_is_better=False) == [4, 1, None, 1, 3]


def test_quartiles_by_hand():
    # inclusive method on 1..5: positions 1 + (5 - 1) * q -> 2, 3, 4
    s = summarise([5, 1, 4, 2, 3])
    assert (s.minimum, s.lower_quartile, s.median, s.upper_quartile, s.maximum) == (1, 2, 3, 4, 5)
    # 10, 20, 30, 40: positions 1.75, 2.5, 3.25 -> 17.5, 25, 32.5
    s = summarise([40, 10, None, 30, 20])
    assert (s.n, s.lower_quartile, s.median, s.upper_quartile) == (4, 17.5, 25, 32.5)


def test_one_value_and_none():
    assert summarise([7]).as_dict() == {
        "n": 1,
        "min": 7,
        "lower_quartile": 7,
        "median": 7,
        "upper_quartile": 7,
        "max": 7,
    }
    assert summarise([None]).median is None


def test_rank_words_and_letters():
    assert [rank_words(n, 12) for n in (1, 2, 3, 4, 11, 12, 21, 22, None)] == [
        "1st of 12",
        "2nd of 12",
        "3rd of 12",
        "4th of 12",
        "11th of 12",
        "12th of 12",
        "21st of 12",
        "22nd of 12",
        "not ranked",
    ]
    assert letters(28)[:3] == ["A", "B", "C"] and letters(28)[25:] == ["Z", "AA", "AB"]


# --------------------------------------------------------------------------- a small benchmark


def small(name: str, text: str):
    return load_model_text(text.replace("Testshire Council", name), f"{name.lower()}.yaml")


@pytest.fixture(scope="module")
def trio():
    good = small("Brightwell Council", MODEL.replace("person: informed", "person: leads"))
    same = small("Alderford Council", MODEL.replace("person: informed", "person: leads"))
    poor = small(
        "Cinderby Council",
        MODEL.replace("    name: Planning\n", "    name: Planning\n    days: 30\n"),
    )
    return [good, poor, same]


def test_named_rows_are_alphabetical_whatever_the_input_order(trio):
    for models in (trio, trio[::-1]):
        bench = benchmark_models(models)
        assert [r.label for r in bench.rows] == [
            "Alderford Council",
            "Brightwell Council",
            "Cinderby Council",
        ]


def test_equal_councils_share_a_rank(trio):
    bench = benchmark_models(trio)
    heard = {r.label: r.ranks["heard"] for r in bench.rows}
    assert heard == {"Alderford Council": 1, "Brightwell Council": 1, "Cinderby Council": 3}
    days = {r.label: r.ranks["expected_days_to_support"] for r in bench.rows}
    assert days["Cinderby Council"] == 3 and days["Alderford Council"] == 1
    assert all("steps" not in r.ranks for r in bench.rows)


def test_anonymised_letters_follow_the_figures_not_the_input(trio):
    first = benchmark_models(trio, anonymise=True)
    second = benchmark_models(trio[::-1], anonymise=True)
    assert first.as_dict() == second.as_dict()
    assert [r.label for r in first.rows] == ["Council A", "Council B", "Council C"]
    # the worst council (slow planning, person only informed) comes last
    assert first.rows[-1].values["heard"] < first.rows[0].values["heard"]
    assert all(r.council is None and r.path is None and r.title is None for r in first.rows)


def test_csv_has_a_row_per_council_and_the_spread(trio):
    files = render_benchmark(benchmark_models(trio))
    rows = list(csv.DictReader(io.StringIO(files["benchmark.csv"])))
    assert [r["row"] for r in rows] == ["council"] * 3 + [
        "lower quartile",
        "median",
        "upper quartile",
    ]
    assert rows[0]["council"] == "Alderford Council" and rows[0]["heard_rank"] == "1"


def test_csv_defuses_formulas():
    evil = small("=HYPERLINK(1)", MODEL)
    plain = small("Plain Council", MODEL)
    text = render_benchmark(benchmark_models([evil, plain]))["benchmark.csv"]
    assert "'=HYPERLINK(1)" in text


# --------------------------------------------------------------------------- anonymisation


def identifying_words(paths: list[Path]) -> set[str]:
    """Council names, titles, paths and file names, and the distinctive words of names."""
    words: set[str] = set()
    generic = {
        "council",
        "county",
        "borough",
        "city",
        "islands",
        "district",
        "the",
        "of",
        "and",
        "bay",
    }
    for path in paths:
        model = load_model(str(path))
        words |= {model.council, model.title, str(path), path.name, path.stem}
        words |= {w for w in re.findall(r"[A-Za-z]+", model.council) if w.lower() not in generic}
    return words


def test_anonymised_outputs_name_no_council(tmp_path):
    result = runner.invoke(
        main, ["benchmark", *map(str, COUNCILS), "-o", str(tmp_path), "--anonymise"]
    )
    assert result.exit_code == 0, result.output
    assert len(COUNCILS) >= 5
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(tmp_path.iterdir()))
    for word in identifying_words(COUNCILS):
        assert word.lower() not in text.lower(), word
    assert "Council E" in text


def test_named_outputs_do_name_them(tmp_path):
    result = runner.invoke(main, ["benchmark", *map(str, COUNCILS), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "benchmark.json").read_text())
    names = [c["council"] for c in data["councils"]]
    assert names == sorted(names, key=str.casefold)
    assert data["method"]["quartiles"] == 'statistics.quantiles(values, n=4, method="inclusive")'
    assert all(data["summary"][k]["n"] == len(COUNCILS) for k in ("heard", "simple"))


# --------------------------------------------------------------------------- the command


def test_refuses_to_overwrite_and_needs_two_models(tmp_path):
    args = ["benchmark", *map(str, COUNCILS[:2]), "-o", str(tmp_path)]
    assert runner.invoke(main, args).exit_code == 0
    again = runner.invoke(main, args)
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    assert runner.invoke(main, [*args, "--force"]).exit_code == 0
    one = runner.invoke(main, ["benchmark", str(COUNCILS[0]), "-o", str(tmp_path / "x")])
    assert one.exit_code == 2 and "at least two models" in one.output
    assert not (tmp_path / "x").exists()


def test_invalid_models_are_all_reported(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MODEL.replace("kind: contact", "kind: contcat"))
    worse = tmp_path / "worse.yaml"
    worse.write_text(bad.read_text())
    result = runner.invoke(main, ["benchmark", str(bad), str(worse), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output.count("did you mean 'contact'?") == 2


# --------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    models = [load_model(str(p)) for p in COUNCILS]
    for name, anonymise in (("named", False), ("anonymised", True)):
        (out / f"{name}.html").write_text(
            render_benchmark(benchmark_models(models, anonymise=anonymise))["benchmark.html"],
            encoding="utf-8",
        )
    return out


@pytest.mark.parametrize("name", ["named", "anonymised"])
def test_axe_finds_nothing(pages, name):
    violations = axe_violations(pages / f"{name}.html")
    assert violations == [], format_violations(violations)


@pytest.mark.parametrize("name", ["named", "anonymised"])
def test_reflows_at_320px(pages, name):
    assert max_horizontal_overflow(pages / f"{name}.html", width=320) == 0


def test_page_structure(pages):
    html = (pages / "named.html").read_text()
    assert html.count("<h1") == 1 and '<html lang="en-GB">' in html
    assert html.count("<table") == html.count("<caption") == 3
    assert "script-src 'none'" in html


@pytest.mark.parametrize("folder,extra", [("out", []), ("out-anonymised", ["--anonymise"])])
def test_the_benchmark_examples_are_current(tmp_path, monkeypatch, folder, extra):
    monkeypatch.chdir(ROOT)
    paths = [str(p.relative_to(ROOT)) for p in COUNCILS]
    result = runner.invoke(main, ["benchmark", *paths, "-o", str(tmp_path), *extra])
    assert result.exit_code == 0, result.output
    for name in ("benchmark.csv", "benchmark.json", "benchmark.md", "benchmark.html"):
        shipped = ROOT / "examples" / "benchmark" / folder / name
        assert (tmp_path / name).read_text() == shipped.read_text(), (
            f"{shipped} is out of date: run scripts/update-examples.sh and review the diff"
        )
