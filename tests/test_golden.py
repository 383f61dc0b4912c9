"""Golden files: every example's report and map, regenerated and compared byte for byte.

After a deliberate change, rewrite them and review the diff::

    python -m pytest tests/test_golden.py --update-golden
    git diff examples/
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sdsaudit.api import REPORT_FILES, write_reports

ROOT = Path(__file__).resolve().parent.parent


def golden_cases() -> list[tuple[str, str]]:
    """(model, golden folder) pairs, paths relative to the repository root."""
    cases = [("examples/exampleshire/process.yaml", "examples/exampleshire/report")]
    for model in sorted((ROOT / "process_models").glob("*.yaml")):
        cases.append((f"process_models/{model.name}", f"examples/reference/{model.stem}"))
    return cases


@pytest.mark.parametrize("model,folder", golden_cases(), ids=[c[1] for c in golden_cases()])
def test_report_matches_golden(model, folder, tmp_path, monkeypatch, update_golden):
    # run from the root so the model path written into the reports is the relative one
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    write_reports([model], out)
    golden = ROOT / folder
    if update_golden:
        golden.mkdir(parents=True, exist_ok=True)
        for name in REPORT_FILES:
            (golden / name).write_bytes((out / name).read_bytes())
    assert sorted(p.name for p in golden.iterdir()) == sorted(REPORT_FILES), (
        f"{folder} should hold exactly {REPORT_FILES}; run pytest tests/test_golden.py "
        "--update-golden"
    )
    for name in REPORT_FILES:
        fresh, kept = (out / name).read_bytes(), (golden / name).read_bytes()
        assert fresh == kept, (
            f"{folder}/{name} differs from a fresh run; if the change is intended, run "
            "python -m pytest tests/test_golden.py --update-golden and review git diff"
        )


def test_reports_are_deterministic(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    model = "examples/exampleshire/process.yaml"
    write_reports([model], tmp_path / "a")
    write_reports([model], tmp_path / "b")
    for name in REPORT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
