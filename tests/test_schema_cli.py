"""The JSON Schema, the init/validate commands, exit codes, and data found from a wheel."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from sdsaudit.cli import main
from sdsaudit.model.loader import load_model
from sdsaudit.model.schema import json_schema

from .models import EXAMPLE, ROOT, shipped_models

runner = CliRunner()


def run(*args: str, input: str | None = None):
    return runner.invoke(main, list(args), input=input)


def test_schema_is_valid_draft_2020_12():
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


class _Yaml12(yaml.SafeLoader):
    """PyYAML reading booleans as YAML 1.2 does (``true``/``false`` only), as sdsaudit and
    editors do: ``when: Yes`` is the word "Yes", not true."""


_Yaml12.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _as_json(path: Path) -> object:
    # yaml.load turns dates into date objects; JSON has only strings
    return json.loads(
        json.dumps(
            yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12),  # a safe loader
            default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v),
        )
    )


def test_there_are_shipped_models():
    names = {p.name for p in shipped_models()}
    assert {
        "process.yaml",
        "lean.yaml",
        "traditional.yaml",
        "scottish.yaml",
        "starter.yaml",
    } <= names


@pytest.mark.parametrize("path", shipped_models(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_model_validates_both_ways(path):
    load_model(str(path))
    jsonschema.Draft202012Validator(json_schema()).validate(_as_json(path))


def test_yes_and_no_stay_words_for_the_schema_too(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("a: Yes\nb: no\nc: true\nd: False\n", encoding="utf-8")
    assert _as_json(path) == {"a": "Yes", "b": "no", "c": True, "d": False}


def test_schema_rejects_what_the_loader_rejects():
    validator = jsonschema.Draft202012Validator(json_schema())
    data = _as_json(EXAMPLE)
    data["steps"][0]["kind"] = "contcat"
    assert not validator.is_valid(data)
    data = _as_json(EXAMPLE)
    data["steps"][5]["outcome"] = "withdrew"  # outcome on a non-end step
    assert not validator.is_valid(data)
    data = _as_json(EXAMPLE)
    del data["steps"][5]["approves"]  # sign_off is an approval
    assert not validator.is_valid(data)


def test_validate_exit_codes(tmp_path):
    assert run("validate", str(EXAMPLE)).exit_code == 0
    assert run("validate", str(EXAMPLE)).output == ""
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("kind: approval", "kind: aproval"))
    result = run("validate", str(EXAMPLE), str(bad))
    assert result.exit_code == 2
    assert f"{bad}:" in result.output and "did you mean 'approval'?" in result.output
    assert run("validate", str(tmp_path / "missing.yaml")).exit_code == 2


def test_validate_reads_stdin():
    assert run("validate", "-", input=EXAMPLE.read_text()).exit_code == 0
    result = run("validate", "-", input="a: &x 1\n")
    assert result.exit_code == 2 and result.output.startswith("<stdin>:1:4: error:")


def test_max_bytes_option(tmp_path):
    result = run("--max-bytes", "100", "validate", str(EXAMPLE))
    assert result.exit_code == 2 and "larger than the limit of 100 bytes" in result.output


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "new" / "model.yaml"
    assert run("init", str(target)).exit_code == 0
    text = target.read_text()
    assert text.count("#") > 20  # commented for council staff
    load_model(str(target))
    target.write_text("my work\n")
    result = run("init", str(target))
    assert result.exit_code == 2 and "refusing to overwrite" in result.output
    assert target.read_text() == "my work\n"
    assert run("init", str(target), "--force").exit_code == 0
    load_model(str(target))


def test_bad_option_is_exit_2():
    assert run("validate").exit_code == 2
    assert run("nonsense").exit_code == 2


def test_internal_errors_do_not_show_tracebacks(monkeypatch):
    import sdsaudit.api

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(sdsaudit.api, "validate_models", boom)
    result = run("validate", str(EXAMPLE))
    assert result.exit_code == 2
    assert (
        "internal error: RuntimeError: kaboom" in result.output and "Traceback" not in result.output
    )


def test_console_entry_points():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "sdsaudit", "--version"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and "sdsaudit" in done.stdout


def test_data_folders_found_from_a_wheel(tmp_path):
    """Build the wheel and import sdsaudit from it: criteria/, templates/ and process_models/ come inside."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("sdsaudit-*.whl"))
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    assert "sdsaudit/criteria/rules.yaml" in names
    assert "sdsaudit/process_models/starter.yaml" in names
    assert any(n.startswith("sdsaudit/templates/") for n in names)
    code = (
        "import sdsaudit.resources as r; "
        "print(r.data_dir('criteria')); print(r.data_dir('templates')); print(r.data_dir('process_models'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
    )
    assert done.returncode == 0, done.stderr
    for line in done.stdout.split():
        assert line.startswith(str(unpacked / "sdsaudit")), line


def test_data_folders_found_from_a_checkout():
    from sdsaudit.resources import data_dir

    assert data_dir("criteria") == ROOT / "criteria"
    assert data_dir("templates") == ROOT / "templates"
