"""Hostile and broken YAML: located, plain-English messages, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from sdsaudit.errors import ModelError
from sdsaudit.model.source import parse_file, parse_text


def problem(text: str | bytes, tmp_path: Path, **kw) -> str:
    path = tmp_path / "m.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ModelError) as info:
        parse_file(str(path), **kw)
    lines = info.value.lines()
    return lines[0].replace(str(path), "m.yaml")


def test_anchor_rejected(tmp_path):
    assert problem("a: &x 1\nb: 2\n", tmp_path).startswith(
        "m.yaml:1:4: error: the anchor '&x' is not allowed"
    )


def test_alias_rejected(tmp_path):
    # an alias without an anchor: the parser still reports the alias itself
    assert "the alias '*x' is not allowed" in problem("a: *x\n", tmp_path)


def test_merge_key_rejected(tmp_path):
    assert problem("a:\n  <<: {b: 1}\n", tmp_path).startswith(
        "m.yaml:2:3: error: merge keys ('<<') are not allowed"
    )


def test_explicit_tag_rejected(tmp_path):
    line = problem("a: !!python/object:os.system x\n", tmp_path)
    assert line.startswith("m.yaml:1:4: error: the tag") and "is not allowed" in line


def test_alias_bomb_fails_fast_and_small(tmp_path):
    lol = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lol.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lol) + "\n")
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ModelError) as info:
        parse_file(str(path))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "anchor '&a' is not allowed" in str(info.value)
    assert elapsed < 0.5
    assert peak < 10 * 1024 * 1024


def test_self_referencing_alias(tmp_path):
    assert "is not allowed" in problem("a: &a [*a]\n", tmp_path)


@pytest.mark.parametrize("depth", [60, 5000])
def test_depth_cap(tmp_path, depth):
    # 60 trips sdsaudit's own cap; 5000 may trip libyaml's first, with the same message
    assert "nested more than 40 levels" in problem(
        "a: " + "[" * depth + "]" * depth + "\n", tmp_path
    )


def test_scalars_kept_as_text():
    doc = parse_text("a: no\nb: 1.10\nc: 12:30\nd: '007'\n")
    values = {k: (v.value, v.plain) for k, v in doc.root.items.items()}
    assert values == {
        "a": ("no", True),
        "b": ("1.10", True),
        "c": ("12:30", True),
        "d": ("007", False),
    }


def test_utf8_with_bom(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: caf\xc3\xa9\n")
    assert parse_file(str(path)).root.items["a"].value == "café"


def test_latin1_gives_position_and_fix(tmp_path):
    line = problem(b"a: ok\nb: caf\xe9\n", tmp_path)
    assert (
        line.startswith("m.yaml:2:7: error: byte 0xE9 is not valid UTF-8")
        and "save it as UTF-8" in line
    )


def test_utf16_gives_fix(tmp_path):
    line = problem("a: b\n".encode("utf-16"), tmp_path)
    assert line.startswith("m.yaml:1:1: error: the file is saved as UTF-16; save it as UTF-8")


def test_nul_and_control_characters(tmp_path):
    assert problem("a: b\x00c\n", tmp_path).startswith(
        "m.yaml:1:5: error: a NUL character is not allowed"
    )
    assert "control character U+0007" in problem("a: b\x07\n", tmp_path)


def test_empty_file(tmp_path):
    assert "the file is empty" in problem("", tmp_path)
    assert "the file is empty" in problem("# just a comment\n", tmp_path)


def test_several_documents(tmp_path):
    assert problem("a: 1\n---\nb: 2\n", tmp_path).startswith(
        "m.yaml:2:1: error: this file holds more than one YAML document"
    )


def test_top_level_not_mapping(tmp_path):
    assert "top level of a model must be a mapping" in problem("- a\n- b\n", tmp_path)
    assert "but this file holds the text 'hello'" in problem("hello\n", tmp_path)


def test_tabs(tmp_path):
    assert problem("a:\n\tb: 1\n", tmp_path) == (
        "m.yaml:2:1: error: a tab is used to indent this line; "
        "YAML needs spaces: replace the tab with spaces"
    )


def test_unclosed_quote(tmp_path):
    assert problem('a: "hello\nb: 2\n', tmp_path).startswith(
        "m.yaml:1:4: error: this quoted text is never closed"
    )


def test_size_limit_before_parsing(tmp_path):
    line = problem("a: " + "x" * 2000 + "\n", tmp_path, max_bytes=1000)
    assert "larger than the limit of 1,000 bytes" in line and "--max-bytes" in line


def test_missing_file(tmp_path):
    with pytest.raises(ModelError) as info:
        parse_file(str(tmp_path / "nope.yaml"))
    assert "no such file" in str(info.value)


def test_cli_never_shows_a_traceback(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("a: &x [*x]\n")
    run = subprocess.run(
        [sys.executable, "-m", "sdsaudit", "validate", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith(f"{path}:1:4: error:")
