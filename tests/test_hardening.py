"""Regressions from the hostile-input attack (issue 17): each test is built from one
reproduction. Every command must end with exit 0, 1 or 2 and a plain message, never
"internal error", and must bound what it reads, holds and writes."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import pytest

from sdsaudit.errors import ModelError
from sdsaudit.source import read_bytes


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
