"""Reading a survey CSV: every kind of validation error, located by file, row and column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from sdsaudit.errors import ModelError
from sdsaudit.survey.reader import (
    MAX_COUNCIL_LENGTH,
    MAX_PROBLEMS,
    MAX_ROW_BYTES,
    SurveyError,
    read_survey,
    tally_survey,
)
from sdsaudit.survey.spec import load_spec

SPEC = load_spec()
COLUMNS = [c.name for c in SPEC.columns]


def base_row(n: int = 1, **changes: str) -> dict[str, str]:
    """A valid respondent; ``changes`` override columns."""
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        respondent_id=f"R{n:04d}",
        council="Testshire",
        survey_date="2025-06-01",
        group="person",
        budget_option="direct_payment",
        views_planning="fully",
        views_budget="fully",
        knew_amount="yes",
        help_to_plan="yes",
        help_from="council_worker",
    )
    for part in SPEC.process_parts:
        row[part] = "easy"
    for column in SPEC.spending:
        row[column] = "no"
    for area in SPEC.life_areas:
        row[area] = "better"
    row.update(changes)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or COLUMNS
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SurveyError) as info:
        read_survey(path)
    return [str(p) for p in info.value.problems]


def col(name: str) -> int:
    return COLUMNS.index(name) + 1


def test_a_valid_file_reads(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(n) for n in range(1, 13)])
    summary = read_survey(path)
    assert summary.respondents.value == 12


def test_survey_errors_are_model_errors_for_the_cli(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(knew_amount="maybe")])
    with pytest.raises(ModelError):
        read_survey(path)


def test_unknown_value_has_row_column_and_did_you_mean(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(1), base_row(2, knew_amount="yess")])
    (problem,) = problems_of(path)
    assert problem.startswith(
        f"{path}:3:{col('knew_amount')}: error: knew_amount: 'yess' is not one of"
    )
    assert "(did you mean 'yes'?)" in problem


def test_wrong_case_gets_a_hint(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(ease_planning="Very easy")])
    (problem,) = problems_of(path)
    assert f":2:{col('ease_planning')}:" in problem
    assert "(did you mean 'very_easy'?)" in problem


def test_every_bad_cell_is_reported_not_just_the_first(tmp_path):
    rows = [base_row(1, group="carers"), base_row(2, budget_option="dp", outcome_dignity="beter")]
    problems = problems_of(write_csv(tmp_path / "s.csv", rows))
    assert [p.split(": error")[0].split(":", 1)[1] for p in problems] == [
        f"2:{col('group')}",
        f"3:{col('budget_option')}",
        f"3:{col('outcome_dignity')}",
    ]
    assert "(did you mean 'carer'?)" in problems[0]
    assert "(did you mean 'better'?)" in problems[2]


def test_unknown_column_in_header(tmp_path):
    columns = [("knew_amout" if c == "knew_amount" else c) for c in COLUMNS]
    rows = [{("knew_amout" if k == "knew_amount" else k): v for k, v in base_row().items()}]
    problems = problems_of(write_csv(tmp_path / "s.csv", rows, columns))
    assert any(
        p.endswith("the header lacks the column 'knew_amount'") and ":1: error" in p
        for p in problems
    )
    assert any(
        f":1:{col('knew_amount')}: error: unknown column 'knew_amout' (did you mean "
        "'knew_amount'?)" in p
        for p in problems
    )


def test_missing_required_column(tmp_path):
    columns = [c for c in COLUMNS if c != "ease_changes"]
    (problem,) = problems_of(write_csv(tmp_path / "s.csv", [base_row()], columns))
    assert problem == f"{tmp_path / 's.csv'}:1: error: the header lacks the column 'ease_changes'"


def test_comment_column_may_be_left_out(tmp_path):
    columns = [c for c in COLUMNS if c != "comment"]
    path = write_csv(tmp_path / "s.csv", [base_row(n) for n in range(1, 11)], columns)
    assert read_survey(path).respondents.value == 10


def test_duplicate_column(tmp_path):
    path = tmp_path / "s.csv"
    header = ",".join(COLUMNS + ["group"])
    values = base_row()
    path.write_text(header + "\n" + ",".join(values[c] for c in COLUMNS) + ",person\n")
    (problem,) = problems_of(path)
    assert f":1:{len(COLUMNS) + 1}: error: column 'group' appears twice" in problem


def test_blank_respondent_id_council_and_date(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(respondent_id="", council=" ", survey_date="")])
    problems = problems_of(path)
    assert [p.split(": error: ")[1] for p in problems] == [
        "respondent_id is blank: every row needs one",
        "council is blank: every row needs one",
        "survey_date is blank: every row needs one",
    ]
    assert f":2:{col('respondent_id')}:" in problems[0]


@pytest.mark.parametrize(
    "value,message",
    [
        ("03/04/2025", "survey_date '03/04/2025' is not a date written YYYY-MM-DD"),
        ("2025-02-30", "survey_date '2025-02-30' is not a real date"),
        ("20250401", "is not a date written YYYY-MM-DD"),
    ],
)
def test_bad_dates(tmp_path, value, message):
    (problem,) = problems_of(write_csv(tmp_path / "s.csv", [base_row(survey_date=value)]))
    assert f":2:{col('survey_date')}: error: " in problem
    assert message in problem


def test_duplicate_respondent_ids_name_both_rows(tmp_path):
    rows = [base_row(1), base_row(2), base_row(1), base_row(3), base_row(1)]
    problems = problems_of(write_csv(tmp_path / "s.csv", rows))
    assert problems == [
        f"{tmp_path / 's.csv'}:4:1: error: respondent_id 'R0001' is used again (first on line 2); "
        "each respondent needs one row with a unique id",
        f"{tmp_path / 's.csv'}:6:1: error: respondent_id 'R0001' is used again (first on line 2); "
        "each respondent needs one row with a unique id",
    ]


def test_many_unique_ids_raise_no_false_duplicate(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(n) for n in range(1, 3001)])
    assert tally_survey(path, SPEC).rows == 3000


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(n) for n in range(1, 11)])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_survey(path).respondents.value == 10


def test_utf16_is_refused(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row()])
    path.write_bytes(path.read_text().encode("utf-16"))
    (problem,) = problems_of(path)
    assert (
        problem == f"{path}:1:1: error: the file is saved as UTF-16; save it as UTF-8 "
        "(in Excel: Save As, CSV UTF-8)"
    )


def test_windows_1252_is_located_in_its_row_and_cell(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(1), base_row(2, comment="caf\u00e9 visits")])
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:3:{col('comment')}: error: byte 0xE9 is not valid UTF-8")
    assert "Windows-1252" in problem


def test_wrong_number_of_cells(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(1)])
    with path.open("a") as handle:
        handle.write("R9,Testshire,2025-01-01,person\n")
    (problem,) = problems_of(path)
    assert f"{path}:3:5: error: this row has 4 cells but the header has {len(COLUMNS)}" in problem


def test_unclosed_quote_names_the_lines_it_swallowed(tmp_path):
    rows = [base_row(1), base_row(2, comment='starts "here'), base_row(3)]
    path = write_csv(tmp_path / "s.csv", rows)
    text = path.read_text().replace('"starts ""here"', '"starts here')
    path.write_text(text)
    (problem,) = problems_of(path)
    assert problem.startswith(
        f"{path}:3: error: this row cannot be read as CSV (unexpected end of data); a quote mark"
    )


def test_a_row_that_swallows_the_next_line_says_so(tmp_path):
    rows = [base_row(1, comment='one "two'), base_row(2)]
    path = write_csv(tmp_path / "s.csv", rows)
    text = path.read_text().replace('"one ""two"', '"one')
    path.write_text(text + '",\n')  # the quote closes a line later, leaving too many cells
    (problem,) = problems_of(path)
    assert ":2:" in problem and "it runs from line 2 to line 4" in problem


def test_a_comment_over_several_lines_keeps_later_rows_located(tmp_path):
    rows = [base_row(1, comment="line one\nline two\nline three"), base_row(2, group="martian")]
    (problem,) = problems_of(write_csv(tmp_path / "s.csv", rows))
    assert f":5:{col('group')}:" in problem


def test_nul_character(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(comment="a\x00b")])
    (problem,) = problems_of(path)
    assert f":2:{col('comment')}: error: a NUL character" in problem


def test_empty_file(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:1:1: error: the file is empty")


def test_header_but_no_rows(tmp_path):
    (problem,) = problems_of(write_csv(tmp_path / "s.csv", []))
    assert problem.endswith(":2: error: the file has a header but no respondents")


def test_semicolon_separated_file(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(";".join(COLUMNS) + "\n")
    (problem,) = problems_of(path)
    assert "uses ';' between columns" in problem


def test_help_from_takes_several_helpers_but_not_nobody_with_others(tmp_path):
    rows = [
        base_row(1, help_from="council_worker; family_friends"),
        base_row(2, help_from="nobody;peer"),
        base_row(3, help_from="council_worker;peerr"),
    ]
    problems = problems_of(write_csv(tmp_path / "s.csv", rows))
    assert len(problems) == 2
    assert f":3:{col('help_from')}: error: help_from: 'nobody' cannot be combined" in problems[0]
    assert f":4:{col('help_from')}:" in problems[1] and "(did you mean 'peer'?)" in problems[1]


def test_problems_are_capped_with_a_count_of_the_rest(tmp_path):
    rows = [base_row(n, group="nobody") for n in range(1, MAX_PROBLEMS + 51)]
    problems = problems_of(write_csv(tmp_path / "s.csv", rows))
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].endswith(
        "error: ... and 50 more problems not shown; fix these first and run again"
    )


def test_missing_file_and_folder(tmp_path):
    assert problems_of(tmp_path / "nope.csv") == [
        f"{tmp_path / 'nope.csv'}: error: no such file: check the path"
    ]
    assert "is a folder" in problems_of(tmp_path)[0]


def test_values_are_trimmed_and_blanks_are_missing_answers(tmp_path):
    rows = [base_row(n, knew_amount=" yes ", views_budget="") for n in range(1, 11)]
    summary = read_survey(write_csv(tmp_path / "s.csv", rows))
    assert summary.overall("knew_amount").count == 10
    assert summary.overall("views_budget_fully").status == "empty"


def test_windows_line_endings_are_fine(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(n) for n in range(1, 11)])
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert read_survey(path).respondents.value == 10


def test_old_mac_line_endings_are_explained(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(n) for n in range(1, 11)])
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    (problem,) = problems_of(path)
    assert problem == (
        f"{path}:1:1: error: the header cannot be read as CSV: its lines end in a "
        "lone carriage return (old Mac line endings); save it again as CSV UTF-8"
    )


# --------------------------------------------------------------------------- limits


def tally_problems(path: Path, **options: int) -> list[str]:
    with pytest.raises(SurveyError) as info:
        tally_survey(path, SPEC, **options)
    return [str(p) for p in info.value.problems]


def test_a_council_name_over_the_limit_is_refused_without_quoting_it(tmp_path):
    long = "12 Acacia Avenue " * 6
    path = write_csv(tmp_path / "s.csv", [base_row(1), base_row(2, council=long)])
    assert problems_of(path) == [
        f"{path}:3:{col('council')}: error: council is {len(long.strip())} characters long; "
        f"a council's name has at most {MAX_COUNCIL_LENGTH}"
    ]
    ok = write_csv(tmp_path / "ok.csv", [base_row(1, council="C" * MAX_COUNCIL_LENGTH)])
    assert tally_survey(ok, SPEC).councils == {"C" * MAX_COUNCIL_LENGTH: 1}


def _row_of(length: int, tmp_path: Path) -> Path:
    """A file whose third line (the second respondent) is ``length`` bytes with its line
    break, made long by its comment (a column never read)."""
    path = write_csv(tmp_path / "s.csv", [base_row(1), base_row(2)])
    lines = path.read_bytes().splitlines(keepends=True)
    pad = length - len(lines[2])
    comment = COLUMNS.index("comment")
    cells = lines[2].rstrip(b"\n").split(b",")
    cells[comment] = b"c" * pad
    lines[2] = b",".join(cells) + b"\n"
    path.write_bytes(b"".join(lines))
    assert len(lines[2]) == length
    return path


def test_a_row_of_the_longest_length_is_read_and_one_byte_more_is_refused(tmp_path):
    assert tally_survey(_row_of(MAX_ROW_BYTES, tmp_path), SPEC).rows == 2
    path = _row_of(MAX_ROW_BYTES + 1, tmp_path)
    assert tally_problems(path) == [
        f"{path}:3:{col('comment')}: error: this line is longer than 64 KiB, the most one "
        "respondent's row may take: check that the file is the survey saved as CSV, one "
        "respondent on each line"
    ]


def test_a_row_left_open_is_refused_where_it_starts_once_it_passes_the_limit(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(1), base_row(2, comment="x")])
    text = path.read_text(encoding="utf-8").replace(",x", ',"never closed\n', 1)
    path.write_text(text + "more text\n" * 10_000, encoding="utf-8")
    (problem,) = tally_problems(path)
    assert problem.startswith(f"{path}:3: error: this row runs on for ")
    assert problem.endswith(
        "lines and more than 64 KiB, the most one respondent's row may take: a quote mark "
        '(") may be left open; check this row'
    )


def test_the_file_size_limit_is_named_at_the_line_where_it_falls(tmp_path):
    path = write_csv(tmp_path / "s.csv", [base_row(n) for n in range(1, 31)])
    lines = path.read_bytes().splitlines(keepends=True)
    limit = sum(len(line) for line in lines[:11]) + 3  # 3 bytes into line 12
    assert tally_problems(path, max_bytes=limit) == [
        f"{path}:12:1: error: the file is larger than {limit:,} bytes, the most sdsaudit "
        "reads for one survey (the limit falls on this line): split it, for example by "
        "year, and read each part"
    ]
    assert tally_survey(path, SPEC, max_bytes=len(path.read_bytes())).rows == 30


def test_reading_leaves_the_csv_field_limit_as_it_was(tmp_path):
    before = csv.field_size_limit()
    tally_survey(write_csv(tmp_path / "s.csv", [base_row(1)]), SPEC)
    tally_problems(_row_of(MAX_ROW_BYTES + 1, tmp_path))
    assert csv.field_size_limit() == before


def test_a_short_row_and_a_repeated_id_in_a_late_column_are_both_reported(tmp_path):
    # the second pass used to index the short row's missing id cell: "internal error"
    columns = [c for c in COLUMNS if c != "respondent_id"] + ["respondent_id"]
    path = write_csv(tmp_path / "s.csv", [base_row(1), base_row(2), base_row(1)], columns)
    path.write_text(path.read_text(encoding="utf-8") + "a,b\n", encoding="utf-8")
    problems = problems_of(path)
    assert [p.split(": error: ")[0] for p in problems] == [
        f"{path}:4:{len(columns)}",
        f"{path}:5:3",
    ]
    assert "respondent_id 'R0001' is used again (first on line 2)" in problems[0]


def test_ids_past_the_candidate_cap_are_said_to_be_unchecked(tmp_path, monkeypatch):
    monkeypatch.setattr("sdsaudit.survey.reader.MAX_CANDIDATES", 3)
    rows = [base_row(n) for n in range(1, 7) for _ in range(2)]  # each id twice
    path = write_csv(tmp_path / "s.csv", rows)
    problems = problems_of(path)
    again = [p for p in problems if "is used again" in p]
    assert len(again) == 3 and again[0].startswith(f"{path}:3:1:")
    assert problems[-1] == (
        f"{path}:9:1: error: from this row on, respondent ids are not checked for repeats: "
        "more than 3 may be used again; each respondent needs one row with a unique id"
    )
