"""One reader for every data file: sdsaudit's own ``criteria/*.yaml`` and a user's baseline.

Each shipped file reads cleanly; a broken copy of each, read through the function the
program uses, gives a :class:`ConfigError` whose lines name the file, line and column;
each file is parsed once per process; and no malformed baseline gives an internal error.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sdsaudit import resources
from sdsaudit.cli import main
from sdsaudit.errors import ConfigError, ModelError
from sdsaudit.model import datafile as D
from sdsaudit.model import schema as S
from sdsaudit.model.catalogue import load_catalogue, load_gap_rules, waivable_rule_ids
from sdsaudit.scoring.themes import load_themes
from sdsaudit.scoring.weights import load_weights
from sdsaudit.stocktake.baseline import read_baseline
from sdsaudit.survey.gaps import load_gap_catalogue, load_thresholds
from sdsaudit.survey.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
CRITERIA = ROOT / "criteria"
SURVEY_CSV = ROOT / "examples" / "exampleshire" / "survey.csv"


def read_gap(path: Path) -> Any:
    """gap.yaml holds the gap rules and their thresholds: the program reads both."""
    return load_gap_catalogue(str(path)), load_thresholds(str(path))


READERS: dict[str, Callable[[Path], Any]] = {
    "rules.yaml": load_catalogue,
    "gap.yaml": read_gap,
    "themes.yaml": load_themes,
    "weights.yaml": load_weights,
    "survey.yaml": lambda path: load_spec(str(path)),
}


# --------------------------------------------------------------------------- the shipped files


def test_every_shipped_criteria_file_reads_cleanly():
    assert sorted(p.name for p in CRITERIA.glob("*.yaml")) == sorted(READERS)
    for name, reader in READERS.items():
        reader(CRITERIA / name)  # raises on any problem
    assert len(load_catalogue().rules) == len(load_catalogue(CRITERIA / "rules.yaml").rules)
    assert set(load_thresholds()) and load_gap_catalogue().ids and load_spec().indicators


# --------------------------------------------------------------------------- broken copies

# (file, text to replace, its replacement, part of the message expected)
BROKEN = [
    # rules.yaml
    ("rules.yaml", "    severity: error\n", "", "rule is missing the required key 'severity'"),
    ("rules.yaml", "    blocks: [simple]\n", "    blocks: simple\n", "'blocks' should be a list"),
    (
        "rules.yaml",
        "    rationale: >\n      No case starting",
        "    rationale_: >\n      No case starting",
        "unknown key 'rationale_' in rule (did you mean 'rationale'?)",
    ),
    ("rules.yaml", "max_approvals: 1\n", "max_approvals: -1\n", "below the smallest allowed (0)"),
    (
        "rules.yaml",
        "themes: [MIR-FLEXIBLE]\n",
        "themes: [MIR-FLEXIBEL]\n",
        "'MIR-FLEXIBEL' is not a known Making it Real theme (did you mean 'MIR-FLEXIBLE'?)",
    ),
    (
        "rules.yaml",
        "      step: {simple: 20}\n",
        "      step: {heard: 20}\n",
        "the score of STRUCT-01 takes points off heard, which is not among its blocks",
    ),
    (
        "rules.yaml",
        "      none: a stale waiver is removed by hand\n",
        "      none: a stale waiver is removed by hand\n      proposed: remove it\n",
        "fix should have exactly one key, 'proposed' or 'none'",
    ),
    (
        "rules.yaml",
        "    slug: dead-end\n",
        "    slug: unreachable-step\n",
        "slug 'unreachable-step' is listed twice",
    ),
    # gap.yaml
    ("gap.yaml", "    severity: warning\n", "", "gap rule is missing the required key 'severity'"),
    (
        "gap.yaml",
        "    value: 0.60\n",
        "    value: sixty\n",
        "'value' should be a number, not 'sixty'",
    ),
    (
        "gap.yaml",
        "  knew_amount_min:\n",
        "  knew_amount_mim:\n",
        "unknown key 'knew_amount_mim' in thresholds (did you mean 'knew_amount_min'?)",
    ),
    ("gap.yaml", "    value: 0.60\n", "    value: 1.6\n", "above the largest allowed (1)"),
    (
        "gap.yaml",
        "    rules: [GAP-01]\n",
        "    rules: [GAP-10]\n",
        "names GAP-10, which is not a rule",
    ),
    # themes.yaml
    ("themes.yaml", "    name: Workforce\n", "", "theme is missing the required key 'name'"),
    ("themes.yaml", "themes:\n", "themes: all of them\nthemes_:\n", "'themes' should be a list"),
    (
        "themes.yaml",
        "  - id: MIR-INFO\n    name:",
        "  - id: MIR-INFO\n    nmae:",
        "unknown key 'nmae' in theme (did you mean 'name'?)",
    ),
    (
        "themes.yaml",
        "version: 1\n",
        "version: 2\n",
        "'version' is 2, above the largest allowed (1)",
    ),
    # weights.yaml
    (
        "weights.yaml",
        "  points: 100\n  reason: Every score",
        "  reason: Every score",
        "base is missing the required key 'points'",
    ),
    ("weights.yaml", "points_per_form: 5", "points_per_form: five", "should be a whole number"),
    (
        "weights.yaml",
        "  points: 100\n",
        "  pionts: 100\n",
        "unknown key 'pionts' in base (did you mean 'points'?)",
    ),
    ("weights.yaml", "  points: 100\n", "  points: 120\n", "above the largest allowed (100)"),
    (
        "weights.yaml",
        "    rule: CONTROL-01\n",
        "    rule: CONTROL-10\n",
        "'CONTROL-10' is not a known rule with a score",
    ),
    # survey.yaml
    (
        "survey.yaml",
        "easy_overall_below: 2.5\n",
        "",
        "missing the required key 'easy_overall_below'",
    ),
    ("survey.yaml", "min_group: 10\n", "min_group: ten\n", "'min_group' should be a whole number"),
    (
        "survey.yaml",
        "min_group: 10\n",
        "min_grup: 10\n",
        "unknown key 'min_grup' in the survey file (did you mean 'min_group'?)",
    ),
    (
        "survey.yaml",
        "good_outcome_min_share_better: 0.5\n",
        "good_outcome_min_share_better: 1.5\n",
        "above the largest allowed (1)",
    ),
    (
        "survey.yaml",
        '    "yes": [fully]\n',
        '    "yes": [fuly]\n',
        "'fuly' is not a value of views_planning",
    ),
    (
        "survey.yaml",
        "outcome_factors: [heard,",
        "outcome_factors: [herd,",
        "'herd' is not an indicator (did you mean 'heard'?)",
    ),
    ("survey.yaml", "  - id: easy_overall\n", "  - id: easy_overal\n", "add easy_overall"),
]


def broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (CRITERIA / name).read_text(encoding="utf-8")
    assert old in text, f"{name} no longer holds {old!r}: update the test"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "name, old, new, expected", BROKEN, ids=[f"{b[0]}: {b[3][:40]}" for b in BROKEN]
)
def test_a_broken_criteria_file_is_a_positioned_config_error(tmp_path, name, old, new, expected):
    path = broken_copy(tmp_path, name, old, new)
    with pytest.raises(ConfigError) as caught:
        READERS[name](path)
    problems = caught.value.problems
    assert any(expected in p.message for p in problems), [p.message for p in problems]
    for problem in problems:
        assert problem.file == str(path) and problem.line and problem.column, problem
    lines = caught.value.lines()
    assert lines[0].startswith(f"{path}:{problems[0].line}:{problems[0].column}: error: ")
    assert "sdsaudit's own data file" in lines[-1] and str(path) in lines[-1]
    assert "reinstall" in lines[-1] and "report" in lines[-1]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    path = tmp_path / "weights.yaml"
    text = (CRITERIA / "weights.yaml").read_text(encoding="utf-8")
    text = text.replace("points_per_form: 5", "points_per_form: five")
    text = text.replace("  points: 100\n", "  points: 120\n  colour: red\n")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_weights(path)
    assert len(caught.value.problems) == 3


def test_a_yaml_syntax_error_in_a_criteria_file_is_a_config_error(tmp_path):
    path = broken_copy(tmp_path, "survey.yaml", "min_group: 10\n", "min_group: [10\n")
    with pytest.raises(ConfigError) as caught:
        load_spec(str(path))
    assert caught.value.problems[0].line


@pytest.fixture
def criteria_copy(tmp_path, monkeypatch) -> Path:
    """A copy of criteria/ that the program reads instead of the shipped one."""
    folder = tmp_path / "criteria"
    shutil.copytree(CRITERIA, folder)
    real = resources.data_dir
    monkeypatch.setattr(
        resources, "data_dir", lambda name: folder if name == "criteria" else real(name)
    )
    return folder


def test_sdsaudit_survey_with_a_broken_spec_exits_2_with_the_position(criteria_copy, tmp_path):
    spec = criteria_copy / "survey.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("process_parts:", "process_part:"), encoding="utf-8")
    line = text[: text.index("process_parts:")].count("\n") + 1
    result = CliRunner().invoke(main, ["survey", str(SURVEY_CSV), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"{spec}:{line}:1: error: unknown key 'process_part'" in result.output
    assert "(did you mean 'process_parts'?)" in result.output
    assert "sdsaudit's own data file" in result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


def test_sdsaudit_check_with_a_broken_catalogue_exits_2(criteria_copy):
    rules = criteria_copy / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("severity: error", "severity: fatal", 1),
        encoding="utf-8",
    )
    model = ROOT / "examples" / "exampleshire" / "process.yaml"
    result = CliRunner().invoke(main, ["check", str(model)])
    assert result.exit_code == 2
    assert f"{rules}:" in result.output and "'fatal' is not a known severity" in result.output
    assert "internal error" not in result.output


def test_each_criteria_file_is_parsed_once(criteria_copy, monkeypatch):
    parsed: list[str] = []
    real = D.parse_file

    def counting(path: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(D, "parse_file", counting)
    for _ in range(2):
        load_catalogue(), load_gap_rules(), load_gap_catalogue(), load_thresholds()
        waivable_rule_ids(), load_weights(), load_themes(), load_spec()
    assert sorted(parsed) == sorted(READERS)


def test_a_changed_file_is_read_again(tmp_path):
    path = tmp_path / "themes.yaml"
    shutil.copy(CRITERIA / "themes.yaml", path)
    assert load_themes(path)[0].name == "Wellbeing and independence"
    text = path.read_text(encoding="utf-8").replace("Wellbeing and independence", "Wellbeing")
    path.write_text(text + "\n", encoding="utf-8")  # a different size, whatever the clock
    assert load_themes(path)[0].name == "Wellbeing"


# --------------------------------------------------------------------------- generated docs


def generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "generate_docs", ROOT / "scripts" / "generate-docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_rule_tables_in_the_docs_are_generated_from_the_catalogue():
    docs = generator()
    assert docs.stale() == [], (
        f"the rule tables of {', '.join(docs.stale())} differ from criteria/rules.yaml: "
        f"run {docs.COMMAND}"
    )
    scoring = (ROOT / "docs" / "scoring.md").read_text(encoding="utf-8")
    patches = (ROOT / "docs" / "patches.md").read_text(encoding="utf-8")
    assert "<!-- generated: rule weights -->" in scoring
    assert "<!-- generated: redesign changes -->" in patches
    assert "<!-- generated: redesign leaves -->" in patches
    for rule in load_catalogue().rules:
        assert f"| {rule.id} |" in scoring, rule.id
        assert f"| {rule.id} " in patches, rule.id


def test_a_changed_score_makes_the_docs_stale():
    docs = generator()
    catalogue = load_catalogue()
    rule = catalogue.rules[0]
    assert rule.score is not None
    changed = replace(rule, score=replace(rule.score, step={"simple": 99}))
    text = (ROOT / "docs" / "scoring.md").read_text(encoding="utf-8")
    new = docs.generate(text, replace(catalogue, rules=(changed, *catalogue.rules[1:])))
    assert new != text and f"| {rule.id} | {rule.title} | each | simple 99 |" in new


# --------------------------------------------------------------------------- the reader itself

PART = S.Record(
    name="part",
    keys={
        "name": S.Key(D.Prose(fold=True), required=True),
        "weight": S.Key(D.Exact(minimum=0), default=1),
        "note": S.Key(D.Nullable(spec=S.Text())),
        "kind": S.Key(D.OneOf(name="kind", keys={"plain": S.Flag(), "odd": D.Prose()})),
    },
)
PARTS = S.Record(
    name="the parts file",
    keys={"parts": S.Key(D.Records(item=PART, unique_keys=("name",)), required=True)},
)


def read_text(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "parts.yaml"
    path.write_text(text, encoding="utf-8")
    return D.load(path, PARTS)


def test_the_reader_fills_defaults_and_keeps_positions(tmp_path):
    parts = read_text(
        tmp_path, "parts:\n  - name: >\n      two\n      lines\n    weight: 0.1\n  - {name: b}\n"
    )["parts"]
    assert parts[0]["name"] == "two lines" and parts[0]["weight"] == D.Fraction(1, 10)
    assert parts[1]["weight"] == 1 and parts[1]["note"] is None and parts[1]["kind"] is None
    assert parts.positions[1].line == 6 and parts[0].at("weight").line == 5


def test_the_reader_reports_every_problem_with_its_position(tmp_path):
    with pytest.raises(ConfigError) as caught:
        read_text(
            tmp_path,
            "parts:\n"
            "  - {name: a, wieght: 2}\n"
            "  - {name: a, weight: -1, note: null}\n"
            "  - {name: c, kind: {plain: true, odd: x}}\n"
            "  - {name: d, kind: {}}\n",
        )
    got = {(p.line, p.message) for p in caught.value.problems}
    assert (
        2,
        "unknown key 'wieght' in part (did you mean 'weight'?); allowed keys: name, weight, note, kind",
    ) in got
    assert (3, "the name 'a' is listed twice in 'parts' (first at line 2); remove one") in got
    assert (3, "'weight' is -1, below the smallest allowed (0)") in got
    assert (4, "kind should have exactly one key, 'plain' or 'odd'") in got
    assert (5, "kind should have exactly one key, 'plain' or 'odd'") in got
    assert len(got) == 5


# --------------------------------------------------------------------------- baselines (user files)


def write(tmp_path: Path, data: bytes | str) -> str:
    path = tmp_path / "baseline.json"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


GOOD = {"models": [{"path": "m.yaml", "findings": [{"rule": "AUTH-03", "steps": ["a", "b"]}]}]}


def test_a_baseline_with_a_byte_order_mark_is_read(tmp_path):
    models = read_baseline(write(tmp_path, b"\xef\xbb\xbf" + json.dumps(GOOD).encode()))
    assert models[0]["findings"][0]["steps"] == ["a", "b"]
    assert models[0]["findings"][0]["subject"] == ()


def test_a_baseline_keeps_only_what_it_needs(tmp_path):
    data = {"sdsaudit_version": "9", "models": [{**GOOD["models"][0], "scores": {"x": 1}}]}
    assert read_baseline(write(tmp_path, json.dumps(data)))[0]["path"] == "m.yaml"


MALFORMED = [
    ("[]", "should be a mapping of keys (models), not a list"),
    ("1", "should be a mapping of keys (models), not the text '1'"),
    ("null", "should be a mapping of keys (models), not nothing"),
    ('"models"', "should be a mapping of keys (models)"),
    ("{}", "is missing the required key 'models'"),
    ('{"models": {}}', "'models' should be a list"),
    ('{"models": [1]}', "an item of 'models' should be a mapping"),
    ('{"models": [{"findings": "none"}]}', "not the text 'none' (at models[0].findings)"),
    (
        '{"models": [{"findings": [{"steps": []}]}]}',
        "missing the required key 'rule' (at models[0].findings[0])",
    ),
    ('{"models": [{"findings": [{"rule": "A-01", "steps": "a"}]}]}', "'steps' should be a list"),
    (
        '{"models": [{"findings": [{"rule": ["A-01"]}]}]}',
        "'rule' should be a single value, not a list",
    ),
    ('{"models": [{"findings": [{"rule": ""}]}]}', "'rule' is empty"),
    (
        '{"models": [{"path": 3, "findings": [{"rule": "A-01", "subject": [{}]}]}]}',
        "an item of 'subject'",
    ),
    ("", "is not valid JSON"),
    ('{"models": [}', "is not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested more than"),
    ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested more than"),
    ("[" * 60 + "]" * 60, "nested more than"),
]


@pytest.mark.parametrize("text, expected", MALFORMED, ids=[m[1][:40] for m in MALFORMED])
def test_a_malformed_baseline_is_a_plain_model_error(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ModelError) as caught:
        read_baseline(path)
    assert not isinstance(caught.value, ConfigError)
    messages = [p.message for p in caught.value.problems]
    assert any(expected in m for m in messages), messages
    assert all(p.file == path for p in caught.value.problems)


def test_a_baseline_in_another_encoding_is_a_plain_model_error(tmp_path):
    for data in (b"\xff\xfe{\x00}\x00", b'{"models": ["\xe9"]}'):
        with pytest.raises(ModelError) as caught:
            read_baseline(write(tmp_path, data))
        assert "UTF" in caught.value.problems[0].message


def test_check_with_a_deeply_nested_baseline_exits_2(tmp_path):
    path = write(tmp_path, "[" * 100_000 + "]" * 100_000)
    model = ROOT / "examples" / "exampleshire" / "process.yaml"
    result = CliRunner().invoke(main, ["check", str(model), "--baseline", path])
    assert result.exit_code == 2
    assert f"{path}: error: the baseline is nested more than" in result.output
    assert "internal error" not in result.output
