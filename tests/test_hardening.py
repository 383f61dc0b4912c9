"""Regressions from the hostile-input attack (issue 17): each test is built from one
reproduction. Every command must end with exit 0, 1 or 2 and a plain message, never
"internal error", and must bound what it reads, holds and writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdsaudit.errors import ModelError, UsageError
from sdsaudit.model.source import read_bytes
from sdsaudit.render.jinja import md_block, md_inline

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
        ("    days: 21\n", "    days: 1e309\n", "56:11"),
        ("    forms: 1\n", f"    forms: {HUGE}\n", "57:12"),
        ("{first_days: 56,", f"{{first_days: {HUGE},", "35:24"),
        ("    days: 21\n", "    days: 1e308\n", "56:11"),
        ("max_days_to_support: 28", "max_days_to_support: 1e400", "39:"),
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


# ---------------------------------------------------------------- 6, 7, 10. writing output


def _two_models(tmp_path: Path, *names: str) -> list[str]:
    paths = []
    for name in names:
        path = tmp_path / "in" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
        paths.append(str(path))
    return paths


def test_model_file_names_never_lead_outside_or_collide(tmp_path: Path) -> None:
    models = _two_models(tmp_path, "...yaml", "x.yaml")
    models += [str(tmp_path / "in" / "x.yaml"), *_two_models(tmp_path, "x-2.yaml")]
    out = tmp_path / "out"
    done = _sdsaudit("report", *models, "-o", str(out))
    assert done.returncode in (0, 1), done.stderr
    folders = sorted(p.name for p in out.iterdir())
    assert len(folders) == 4 and all(not f.startswith(".") for f in folders)
    assert all((out / f / "report.html").is_file() for f in folders)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


def test_a_planted_folder_link_is_not_followed(tmp_path: Path) -> None:
    models = _two_models(tmp_path, "a.yaml", "b.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "a").symlink_to(elsewhere)
    done = _sdsaudit("report", *models, "-o", str(out), "--force")
    assert done.returncode == 2
    assert b"symbolic link" in done.stderr and b"internal error" not in done.stderr
    assert list(elsewhere.iterdir()) == [] and not (out / "b").exists()


def test_a_dangling_link_counts_as_an_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").symlink_to(tmp_path / "nowhere")
    done = _sdsaudit("report", str(EXAMPLE), "-o", str(out))
    assert done.returncode == 2 and b"refusing to overwrite" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]


@pytest.mark.parametrize(
    "args",
    [
        ["report", str(EXAMPLE), "-o", "{file}"],
        ["report", str(EXAMPLE), "-o", "{file}/under"],
        ["map", str(EXAMPLE), "-o", "{folder}"],
        ["map", str(EXAMPLE), "-o", "{file}/map.svg"],
        ["init", "{folder}"],
        ["report", str(EXAMPLE), "-o", "/proc/sdsaudit-cannot-write-here"],
        ["compare", str(EXAMPLE), str(EXAMPLE), "-o", "{file}"],
    ],
)
def test_unwritable_outputs_get_a_plain_message(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "file.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    places = {"file": str(tmp_path / "file.txt"), "folder": str(tmp_path / "folder")}
    done = _sdsaudit(*(a.format(**places) for a in args))
    assert done.returncode == 2, done.stderr
    assert b"error:" in done.stderr and b"internal error" not in done.stderr
    assert (tmp_path / "file.txt").read_text(encoding="utf-8") == "mine"


def test_a_failed_write_leaves_the_old_set_and_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from sdsaudit import files

    out = tmp_path / "out"
    files.write_set(out, {"a.txt": "old a", "b.txt": "old b"})

    def full_disk(staging: Path, payloads: object) -> None:
        (staging / "a.txt").write_text("half", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_stage", full_disk)
    with pytest.raises(UsageError, match="No space left on device; nothing was changed"):
        files.write_set(out, {"a.txt": "new a", "b.txt": "new b"}, force=True)
    assert (out / "a.txt").read_text() == "old a" and (out / "b.txt").read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staging_left_by_a_killed_run_is_removed_by_the_next(tmp_path: Path) -> None:
    from sdsaudit import files

    proc = subprocess.Popen(["true"])  # a finished child: its pid names no live run
    proc.wait()
    abandoned = tmp_path / f"{files.STAGING_PREFIX}{proc.pid}-abc"
    abandoned.mkdir()
    (abandoned / "report.html").write_text("half", encoding="utf-8")
    files.write_set(tmp_path / "out", {"a.txt": "a"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_two_reports_started_together_give_one_set_and_one_refusal(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sdsaudit", "report", str(EXAMPLE), "-o", str(out)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in runs if p.stderr]
    codes = sorted(code for code, _ in results)
    assert codes[0] in (0, 1) and codes[1] == 2, results
    assert any(b"refusing to overwrite" in err for _, err in results)
    assert sorted(p.name for p in out.iterdir()) == [
        "map.svg",
        "report.html",
        "report.json",
        "report.md",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ---------------------------------------------------------------- 4. Markdown as GitHub renders it

ACTIVE = re.compile(r"<(a|img|pre|script|iframe|table|h[1-6]|ol|ul|blockquote)\b", re.I)


def _github(markdown: str) -> str:
    import cmarkgfm
    from cmarkgfm.cmark import Options

    # UNSAFE: show raw HTML as GitHub's sanitiser would receive it, so nothing is hidden
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


@pytest.mark.parametrize(
    "text",
    [
        "see [a [nested] link](javascript:alert(1)) and [x\\](y)](z)",
        "![remote](https://tracker.example/pixel.png)",
        "```\nthe rest of the report becomes code",
        "plain https://example.org/x?a=1|2, www.example.com. and me@example.org!",
        "<script>alert(1)</script> &lt;b&gt; [ref]: https://x",
        "1. a list\n\n# a heading\n\n> a quote\n\n    indented code",
    ],
)
def test_text_from_a_model_stays_inert_in_github_markdown(text: str) -> None:
    for rendered in (md_inline(text), md_block(text)):
        html = _github(str(rendered))
        assert not ACTIVE.search(html), (text, rendered, html)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
@settings(max_examples=300, deadline=None)
def test_no_text_makes_a_link_image_or_block_in_github_markdown(text: str) -> None:
    for rendered in (md_inline(text), md_block(text)):
        assert not ACTIVE.search(_github(str(rendered)))


def test_a_description_with_links_and_a_fence_stays_inert_in_report_md(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    hostile = (
        "description: |\n  Read [this [one]](javascript:alert(1)) and https://x.example/a\n"
        "  ![t](https://tracker.example/p.png)\n\n  ```\n  unclosed\n"
    )
    model = tmp_path / "m.yaml"
    model.write_text(text.replace("as_of:", hostile + "as_of:", 1), encoding="utf-8")
    out = tmp_path / "out"
    done = _sdsaudit("report", str(model), "-o", str(out))
    assert done.returncode in (0, 1), done.stderr
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "and `https://x.example/a`" in markdown and "unclosed" in markdown
    html = _github(markdown)
    assert not re.search(r"<a\b|<img\b|<pre\b", html)


# ---------------------------------------------------------------- 11. terminal escapes; nits

SURVEY = ROOT / "examples" / "exampleshire" / "survey.csv"


def test_escape_codes_in_a_survey_cell_never_reach_the_terminal(tmp_path: Path) -> None:
    lines = SURVEY.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[3] = "\x1b[2J\x1b[Hall rows valid\u202e"  # the group column
    survey = tmp_path / "survey.csv"
    survey.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    done = _sdsaudit("survey", str(survey), "-o", str(tmp_path / "out"))
    assert done.returncode == 2
    assert b"\x1b" not in done.stderr and "\u202e".encode() not in done.stderr
    assert b"\\x1b[2J" in done.stderr  # shown, harmlessly


def test_an_empty_select_is_an_error_not_every_rule() -> None:
    done = _sdsaudit("check", str(EXAMPLE), "--select", "")
    assert done.returncode == 2 and b"--select names no rule" in done.stderr


def test_standard_input_can_be_named_only_once() -> None:
    done = _sdsaudit("check", "-", "-", stdin=EXAMPLE.read_bytes())
    assert done.returncode == 2 and b"can be given only once" in done.stderr


def test_kind_words_take_the_right_article(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    model = tmp_path / "m.yaml"
    model.write_text(text.replace("    kind: end\n", "    kind: end\n    authority: panel\n", 1))
    done = _sdsaudit("validate", str(model))
    assert done.returncode == 2 and b"is an end step" in done.stderr, done.stderr


# ---------------------------------------------------------------- 5. redesign


def test_a_kind_brought_in_and_taken_away_again_is_not_counted_as_fixed(tmp_path: Path) -> None:
    model = ROOT / "tests" / "data" / "redesign-introduced-then-fixed.yaml"
    done = _sdsaudit("redesign", str(model), "-o", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert (
        "2 changes" in text and "Findings fixed (count before and after): SEQ-01 1 to 0\n" in text
    )
    fixed = json.loads((tmp_path / "out" / "redesign.json").read_text(encoding="utf-8"))["fixed"]
    assert set(fixed) == {"SEQ-01"}


# ---------------------------------------------------------------- 1. the map's box cap


def _chain_model(n: int, prefix: str = "s") -> str:
    """A valid model: a chain of ``n`` assessment steps with ids ``<prefix><i>``."""
    steps = [
        f"  - {{id: {prefix}{i}, name: Step {i}, kind: assessment, actor: team, days: 1, "
        f"next: [{f'{prefix}{i + 1}' if i + 1 < n else 'done'}]}}"
        for i in range(n)
    ]
    return (
        "sdsaudit: 1\ncouncil: Chain Council\ntitle: A long chain\nas_of: 2026-04-01\n"
        "actors: {person: {name: Person, kind: person}, team: {name: Team, kind: council}}\n"
        f"start: {prefix}0\nsteps:\n" + "\n".join(steps) + "\n"
        "  - {id: done, name: Support, kind: support, next: [r]}\n"
        "  - {id: r, name: Review, kind: review, actor: team, next: [done]}\n"
    )


@pytest.mark.parametrize("prefix", ["subgraph_", "digraph_", "node_", "edge_", "graph_"])
def test_ids_that_look_like_dot_keywords_still_count_as_boxes(tmp_path: Path, prefix: str) -> None:
    model = tmp_path / "m.yaml"
    model.write_text(_chain_model(400, prefix), encoding="utf-8")
    # the command runs in a fresh interpreter, which reports its own peak memory as it
    # ends (the kernel's figure for a child started from this large test process would
    # count the parent's pages it started with)
    code = (
        "import runpy, sys\n"
        "sys.argv = ['sdsaudit', 'map', sys.argv[1], '-o', sys.argv[2]]\n"
        "try:\n    runpy.run_module('sdsaudit', run_name='__main__')\n"
        "finally:\n    sys.stderr.write(" + PEAK + ")\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(model), str(tmp_path / "m.svg")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "more than the 250" in done.stderr
    peak = int(done.stderr.rsplit("peak=", 1)[1])
    assert peak < 500_000  # KiB: no layout was attempted


def test_dot_runs_under_a_memory_limit() -> None:
    import resource

    from sdsaudit.render import draw as processmap

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only reports its limit
        processmap._limit_memory()
        os._exit(0 if resource.getrlimit(resource.RLIMIT_AS)[0] == processmap.DOT_MEMORY else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert processmap.DOT_MEMORY <= 1 << 30


# ---------------------------------------------------------------- 2. outputs linear in the model


def _benchmark_chain(n: int) -> str:
    """``benchmarks/generate.py``'s chain of ``n`` steps: routes with dozens of approvals,
    assessments and forms, so the findings about a whole route name dozens of steps."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    return str(generate.chain(n))


def test_score_json_and_the_report_grow_in_step_with_the_model(tmp_path: Path) -> None:
    from sdsaudit.api import score_output, write_reports

    sizes: dict[int, list[int]] = {}
    for n in (200, 400):
        model = tmp_path / f"chain-{n}.yaml"
        model.write_text(_benchmark_chain(n), encoding="utf-8")
        out = tmp_path / f"report-{n}"
        write_reports([str(model)], out, max_nodes=0)  # the map in words at both sizes
        score = score_output(str(model), fmt="json")
        sizes[n] = [len(score.encode())]
        sizes[n] += [(out / name).stat().st_size for name in ("report.md", "report.json")]
        if n == 400:
            # a step's lines each quote a bounded number of steps, however long the route
            for row in json.loads(score)["steps"]:
                for reason in row["reasons"]:
                    assert len(reason["text"]) <= 300 and len(reason["steps"]) <= 4, reason
    for small, large in zip(sizes[200], sizes[400], strict=True):
        assert large <= 2.2 * small, sizes


# ---------------------------------------------------------------- 8, 9 (survey). council values and survey size


_EXAMPLE_SURVEY = ROOT / "examples" / "exampleshire" / "survey.csv"


def _survey_header() -> list[str]:
    import csv

    with open(_EXAMPLE_SURVEY, encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def test_a_council_cell_typed_by_one_respondent_reaches_no_output(tmp_path: Path) -> None:
    # item 8: an address and an NHS number typed as one respondent's council reached
    # survey.md, survey.html and survey.json word for word
    import csv
    import io

    secrets = ("12 Acacia Avenue", "EX1 2AB", "943 476 5919", "LEAK-0001", "2025-06-13")
    text = _EXAMPLE_SURVEY.read_text(encoding="utf-8")
    header, row = next(csv.reader(io.StringIO(text))), next(csv.DictReader(io.StringIO(text)))
    row.update(
        respondent_id="LEAK-0001",
        survey_date="2025-06-13",
        council="12 Acacia Avenue, EX1 2AB; NHS 943 476 5919",
    )
    extra = io.StringIO()
    csv.DictWriter(extra, fieldnames=header, lineterminator="\n").writerow(row)
    path = tmp_path / "survey.csv"
    path.write_text(text + extra.getvalue(), encoding="utf-8")
    out = tmp_path / "out"
    done = _sdsaudit("survey", str(path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    for name in ("survey.json", "survey.md", "survey.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert not [s for s in secrets if s in text], name
    assert not [s for s in secrets if s.encode() in done.stdout]
    councils = json.loads((out / "survey.json").read_text(encoding="utf-8"))["survey"]["councils"]
    # the 600 would give the one away by subtraction from the 601 shown in all
    assert [(c["council"], c["status"]) for c in councils] == [
        ("Exampleshire County Council", "secondary"),
        ("Councils not named, each given by fewer than 10 respondents", "small"),
    ]


def _distinct_councils(path: Path, rows: int) -> Path:
    header = _survey_header()
    blank = [""] * len(header)
    at = {name: header.index(name) for name in ("respondent_id", "council", "survey_date")}
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join(header) + "\n")
        for k in range(rows):
            blank[at["respondent_id"]], blank[at["council"]] = f"R{k}", f"Council {k:07d}"
            blank[at["survey_date"]] = "2025-05-01"
            handle.write(",".join(blank) + "\n")
    return path


def test_distinct_council_names_are_held_in_flat_memory(tmp_path: Path) -> None:
    # item 8: a million different council names cost 1.35 GB and all reached the outputs
    from sdsaudit.survey.reader import read_survey
    from sdsaudit.survey.spec import load_spec
    from sdsaudit.survey.tally import MAX_COUNCILS

    load_spec()  # read once per process: not part of what is measured
    peaks = []
    for rows in (2_000, 10_000):
        path = _distinct_councils(tmp_path / f"c{rows}.csv", rows)
        tracemalloc.start()
        summary = read_survey(path)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        ((name, count),) = summary.councils
        assert name.endswith(f"or first given after {MAX_COUNCILS:,} other names")
        assert count.value == rows
        assert "Council 0" not in json.dumps(summary.as_dict())
    # 8,000 more names cost nothing more (they took 1.8 MB more before)
    assert peaks[1] < peaks[0] + 300_000, peaks


PEAK = "'peak=' + next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))"
"""Python text: this process's own peak memory in KiB (``VmHWM``), as ``peak=N``."""


def _rss_after_reading(path: Path) -> tuple[str, int]:
    """The first problem reading ``path`` gives, and the reading process's peak memory (KiB),
    in a fresh interpreter so that nothing else has raised it."""
    code = (
        "import resource, sys\n"
        "from sdsaudit.survey.reader import SurveyError, read_survey\n"
        "try:\n    read_survey(sys.argv[1]); print('read')\n"
        "except SurveyError as e:\n    print(str(e).splitlines()[0])\n"
        "print((" + PEAK + ")[5:])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    message, rss = done.stdout.splitlines()
    return message, int(rss)


def test_a_50_mb_single_line_survey_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    # item 9: a 600 MB single-line survey used 1.3 GB; at 50 MB it used about 150 MB more
    # than reading a small file, holding the line as bytes and again as text
    big = tmp_path / "line.csv"
    with open(big, "wb") as handle:
        for _ in range(50):
            handle.write(b"x" * (1 << 20))
    message, rss = _rss_after_reading(big)
    assert message == (
        f"{big}:1:1: error: this line is longer than 64 KiB, the most one respondent's row "
        "may take: check that the file is the survey saved as CSV, one respondent on each line"
    )
    small = tmp_path / "small.csv"
    small.write_bytes(b"x" * 1000 + b"\n")
    _, rss_small = _rss_after_reading(small)
    assert rss - rss_small < 10 * 1024, (rss, rss_small)


def test_a_row_of_many_fields_over_many_lines_is_refused_in_bounded_memory(
    tmp_path: Path,
) -> None:
    # item 9: quoted fields that each hold a line break make one row of millions of cells
    from sdsaudit.survey.reader import SurveyError, read_survey
    from sdsaudit.survey.spec import load_spec

    load_spec()
    path = tmp_path / "open.csv"
    path.write_bytes(",".join(_survey_header()).encode() + b"\n" + b'"a\n",' * 4_000_000)
    tracemalloc.start()
    with pytest.raises(SurveyError) as info:
        read_survey(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(info.value).startswith(f"{path}:2: error: this row runs on for ")
    assert "more than 64 KiB" in str(info.value)
    assert peak < 4_000_000, peak  # the 2 MiB id filter and one row of 64 KiB


def test_a_survey_over_the_size_limit_is_refused_where_the_limit_falls(tmp_path: Path) -> None:
    # item 9: the bytes read are bounded whatever the file, with the limit named
    from sdsaudit.survey.reader import SurveyError, read_survey

    lines = _EXAMPLE_SURVEY.read_bytes().splitlines(keepends=True)
    limit = sum(len(line) for line in lines[:100])
    with pytest.raises(SurveyError) as info:
        read_survey(_EXAMPLE_SURVEY, max_bytes=limit)
    assert str(info.value).startswith(
        f"{_EXAMPLE_SURVEY}:101:1: error: the file is larger than {limit:,} bytes, the most "
        "sdsaudit reads for one survey"
    )
