"""``sdsaudit survey`` end to end: exit codes, files, no personal data, accessible HTML, and
the committed Exampleshire example kept up to date."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdsaudit.cli import main
from tests.test_survey_read import base_row, write_csv

ROOT = Path(__file__).resolve().parent.parent
SURVEY = "examples/exampleshire/survey.csv"
MODEL = "examples/exampleshire/process.yaml"
EXAMPLE_OUT = ROOT / "examples" / "exampleshire" / "survey"
FILES = ("survey.json", "survey.md", "survey.html")


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_survey_without_a_model_exits_0(in_repo, tmp_path):
    result = run("survey", SURVEY, "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"survey {SURVEY}: 600 respondents\n")
    assert "gap checks" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    assert json.loads((tmp_path / "survey.json").read_text())["gaps"] is None


def test_survey_with_a_model_reports_gaps_and_exits_0_below_fail_on(in_repo, tmp_path):
    result = run("survey", SURVEY, "--model", MODEL, "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"{MODEL}:71: GAP-01 warning: The model tells" in result.output
    assert f"{MODEL}:80: GAP-02 warning: The person leads planning" in result.output
    data = json.loads((tmp_path / "survey.json").read_text())
    assert [f["rule"] for f in data["gaps"]["findings"]] == ["GAP-01", "GAP-02"]


def test_fail_on_warning_exits_1(in_repo, tmp_path):
    result = run("survey", SURVEY, "--model", MODEL, "-o", str(tmp_path), "--fail-on", "warning")
    assert result.exit_code == 1


def test_refuses_to_overwrite_without_force(in_repo, tmp_path):
    assert run("survey", SURVEY, "-o", str(tmp_path)).exit_code == 0
    result = run("survey", SURVEY, "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "refusing to overwrite" in result.output
    assert run("survey", SURVEY, "-o", str(tmp_path), "--force").exit_code == 0


def test_invalid_survey_exits_2_with_located_errors(tmp_path):
    path = write_csv(tmp_path / "bad.csv", [base_row(1), base_row(2, group="carers")])
    result = run("survey", str(path), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert (
        f"{path}:3:4: error: group: 'carers' is not one of carer, person (did you mean "
        "'carer'?)" in result.output
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_invalid_model_exits_2(in_repo, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sdsaudit: 1\ncouncil: X\n")
    result = run("survey", SURVEY, "--model", str(bad), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and f"{bad}" in result.output


def test_min_group_must_be_positive(in_repo, tmp_path):
    result = run("survey", SURVEY, "-o", str(tmp_path), "--min-group", "0")
    assert result.exit_code == 2


def test_min_group_raises_the_threshold_everywhere(in_repo, tmp_path):
    result = run("survey", SURVEY, "--model", MODEL, "-o", str(tmp_path), "--min-group", "601")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "survey.html").read_text()
    assert "fewer than 601 people: not shown" in html
    data = json.loads((tmp_path / "survey.json").read_text())
    assert data["survey"]["respondents"] is None
    assert {c["status"] for c in data["gaps"]["checks"]} <= {"not assessable", "no claim"}
    assert not re.search(r'"share": 0\.\d', (tmp_path / "survey.json").read_text())


def test_no_personal_data_in_any_output(in_repo, tmp_path):
    assert run("survey", SURVEY, "--model", MODEL, "-o", str(tmp_path)).exit_code == 0
    with open(ROOT / SURVEY, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = {r["respondent_id"] for r in rows}
    comments = {r["comment"] for r in rows if r["comment"]}
    dates = {r["survey_date"] for r in rows}
    assert comments and len(ids) == 600
    for name in FILES:
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "EX-" not in text
        assert not any(c in text for c in comments), name
        assert not any(d in text for d in dates), name
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text), name


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_is_accessible_and_self_contained(in_repo, tmp_path):
    assert run("survey", SURVEY, "--model", MODEL, "-o", str(tmp_path)).exit_code == 0
    html = (tmp_path / "survey.html").read_text()
    page = _Page()
    page.feed(html)
    tags = [t for t, _ in page.tags]
    attrs = page.tags
    assert ("html", {"lang": "en-GB"}) in attrs
    assert tags.count("h1") == 1
    csp = [a for t, a in attrs if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp[0]["content"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert tags.count("table") == tags.count("caption") > 10
    assert all(a.get("scope") in ("col", "row") for t, a in attrs if t == "th")
    svgs = [a for t, a in attrs if t == "svg"]
    assert len(svgs) == 3 and all(a["role"] == "img" for a in svgs)
    assert tags.count("title") == 1 + 3 and tags.count("desc") == 3
    for t, a in attrs:
        if t == "svg":
            for ref in a["aria-labelledby"].split():
                assert f'id="{ref}"' in html
    ids = [a["id"] for _, a in attrs if "id" in a]
    assert len(ids) == len(set(ids))
    assert "fewer than 10 people: not shown" in html


def test_markdown_marks_suppression(in_repo, tmp_path):
    assert run("survey", SURVEY, "-o", str(tmp_path)).exit_code == 0
    text = (tmp_path / "survey.md").read_text()
    assert text.startswith("# Exampleshire County Council")
    assert "| A family carer; individual service fund | fewer than 10 people: not shown |" in text


def _generator():
    spec = importlib.util.spec_from_file_location(
        "survey_generate", ROOT / "examples" / "survey" / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_example_survey_is_what_the_generator_writes(tmp_path):
    generate = _generator()
    generate.write(tmp_path / "survey.csv", generate.generate())
    assert (tmp_path / "survey.csv").read_bytes() == (ROOT / SURVEY).read_bytes()


def test_committed_example_outputs_are_up_to_date(in_repo, tmp_path):
    # Regenerate deliberately with:
    #   sdsaudit survey examples/exampleshire/survey.csv \
    #     --model examples/exampleshire/process.yaml -o examples/exampleshire/survey --force
    assert run("survey", SURVEY, "--model", MODEL, "-o", str(tmp_path)).exit_code == 0
    for name in FILES:
        assert (tmp_path / name).read_text() == (EXAMPLE_OUT / name).read_text(), name


def test_report_with_survey_adds_experience_and_gap_findings(in_repo, tmp_path):
    result = run("report", MODEL, "--survey", SURVEY, "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text()
    assert '<h2 id="experience">Experience: what people said</h2>' in html
    assert html.count("<h1") == 1
    page = _Page()
    page.feed(html)
    ids = [a["id"] for _, a in page.tags if "id" in a]
    assert len(ids) == len(set(ids))
    data = json.loads((tmp_path / "report.json").read_text())
    rules = [f["rule"] for m in data["models"] for f in m["findings"]]
    assert {"GAP-01", "GAP-02"} <= set(rules)
    # report.json carries the survey's figures, as survey.json has them, not only findings
    survey = data["models"][0]["survey"]
    assert survey["survey"]["respondents"] == 600
    assert {i["id"] for i in survey["survey"]["indicators"]} >= {"heard", "simple", "in_control"}
    assert survey["survey"]["adjusted_odds"]["status"] == "shown"
    assert [c["rule"] for c in survey["gaps"]["checks"] if c["status"] == "gap"] == [
        "GAP-01",
        "GAP-02",
    ]
    assert "## Experience: what people said" in (tmp_path / "report.md").read_text()
    for name in ("report.html", "report.md", "report.json"):
        assert "EX-" not in (tmp_path / name).read_text()
    strict = run(
        "report", MODEL, "--survey", SURVEY, "-o", str(tmp_path), "--force", "--fail-on", "warning"
    )
    assert strict.exit_code == 1


def test_report_without_survey_has_no_experience(in_repo, tmp_path):
    assert run("report", MODEL, "-o", str(tmp_path)).exit_code == 0
    assert 'id="experience"' not in (tmp_path / "report.html").read_text()
    assert "survey" not in json.loads((tmp_path / "report.json").read_text())["models"][0]


def test_experience_view_serialises_to_json(in_repo):
    from sdsaudit.model.loader import load_model
    from sdsaudit.survey.experience import build_experience
    from sdsaudit.survey.gaps import check_gaps
    from sdsaudit.survey.reader import read_survey

    summary = read_survey(SURVEY)
    view = build_experience(summary, check_gaps(load_model(MODEL), summary))
    data = json.loads(json.dumps(view.as_dict()))
    assert [b["id"] for b in data["blocks"]] == ["heard", "simple", "in_control"]
    assert data["gap"]["findings"][0]["rule"] == "GAP-01"
    assert "EX-" not in json.dumps(data)
