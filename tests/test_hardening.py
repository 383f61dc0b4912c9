"""Regressions from the hostile-input attack (issue 17): each test is built from one
reproduction. Every command must end with exit 0, 1 or 2 and a plain message, never
"internal error", and must bound what it reads, holds and writes."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from sdsaudit.errors import ModelError
from sdsaudit.source import read_bytes

from .models import ROOT


def _sdsaudit(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "sdsaudit", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
    )


# ---------------------------------------------------------------- 9. unbounded reads


def test_a_device_that_reports_no_size_is_read_only_up_to_the_limit() -> None:
    tracemalloc.start()
    with pytest.raises(ModelError, match="larger than the limit of 1,024 bytes"):
        read_bytes("/dev/zero", max_bytes=1024)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000


def test_check_of_dev_zero_is_refused_plainly() -> None:
    done = _sdsaudit("check", "/dev/zero")
    assert done.returncode == 2
    assert b"larger than the limit" in done.stderr and b"internal error" not in done.stderr


def test_a_pipe_longer_than_the_limit_is_refused() -> None:
    done = _sdsaudit("--max-bytes", "1000", "check", "-", stdin=b"#" * 5000)
    assert done.returncode == 2
    assert b"larger than the limit of 1,000 bytes" in done.stderr


# ---------------------------------------------------------------- 3. numbers that overflow

EXAMPLE = ROOT / "examples" / "exampleshire" / "process.yaml"
HUGE = "9" * 310


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("    days: 21\n", "    days: 1e309\n", "47:11"),
        ("    forms: 1\n", f"    forms: {HUGE}\n", "48:12"),
        ("{first_days: 56,", f"{{first_days: {HUGE},", "29:24"),
        ("    days: 21\n", "    days: 1e308\n", "47:11"),
        ("max_days_to_support: 28", "max_days_to_support: 1e400", "30:"),
    ],
)
def test_numbers_beyond_the_format_limits_are_refused_where_they_stand(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    model = tmp_path / "model.yaml"
    model.write_text(text.replace(old, new, 1), encoding="utf-8")
    for command in ("validate", "check", "score", "report"):
        args = [command, str(model)] + (
            ["-o", str(tmp_path / "out")] if command == "report" else []
        )
        done = _sdsaudit(*args)
        assert done.returncode == 2, (command, done.stderr)
        err = done.stderr.decode()
        assert f"model.yaml:{where}" in err and "largest allowed" in err
        assert "internal error" not in err


def test_a_patch_setting_a_huge_number_is_refused_at_its_line(tmp_path: Path) -> None:
    patch = tmp_path / "patch.yaml"
    patch.write_text(
        f"sdsaudit_patch: 1\ntitle: t\nchanges:\n  - set: {{step: assessment, days: {HUGE}}}\n",
        encoding="utf-8",
    )
    done = _sdsaudit("whatif", str(EXAMPLE), str(patch))
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "patch.yaml:4:" in err and "largest allowed is 36500" in err
