"""Workbooks (``.xlsx``) and CSV step lists, both ways: ``sdsaudit import``, ``export``
and ``init --format xlsx``.

The template (:func:`template`) has a sheet of steps, one of links between them, and small
sheets for where cases begin, the teams, the sign-off levels, the council's settings
(``About``), sources and waivers, with drop-down lists for every closed vocabulary and a
``Read me``. :func:`read` also takes workbooks that are not quite the template: headers
are matched without regard to case, spaces or punctuation, with common aliases (``Lane``
for team, ``Activity`` for name, ``Duration (days)`` for days, ``Predecessors`` as the
reverse of ``Next``, ``Item, Related Item, Label`` as a list of links); steps may be
referred to by name; what a workbook leaves out is filled in and listed in ``to_fill``.
A CSV file is one sheet of steps with a ``next`` column.

Safety: a file over ``max_bytes`` is refused unread; a workbook's declared unzipped size,
compression ratio and number of parts are checked before openpyxl opens it, and rows are
capped (:data:`~.workbook_cells.MAX_ROWS`); formulas are read as their cached values and
never run; text written into a spreadsheet never becomes a formula.

The work is shared with three private modules: :mod:`.workbook_cells` (the template's
shape and what a cell holds), :mod:`.workbook_build` (sheets to a draft model) and
:mod:`.workbook_write` (a model to a workbook or CSV).
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from openpyxl import load_workbook

from ..errors import ModelError, Problem
from ..model.objects import Model
from .data import Draft, model_data
from .workbook_build import Builder, classify
from .workbook_cells import (
    MAX_COLUMNS,
    MAX_PARTS,
    MAX_RATIO,
    MAX_ROWS,
    MAX_UNZIPPED,
    RATIO_FLOOR,
    Table,
    sheet_ref,
    short,
)
from .workbook_write import write_csv, write_xlsx

__all__ = ["read", "template", "write"]


def read(path: str, *, page: str | None = None, max_bytes: int) -> Draft:
    """A workbook (``.xlsx``) or CSV step list as a draft model; every problem at once,
    each at its cell (``FILE.xlsx:Steps!D7``, ``FILE.csv`` row 7 column 4)."""
    data = read_bytes(path, max_bytes)
    if Path(path).suffix.lower() == ".csv":
        roles = {"steps": [read_csv_table(path, data)]}
    else:
        roles = classify(read_xlsx_tables(path, data))
    builder = Builder(path, roles)
    model = builder.build()
    if builder.problems:
        raise ModelError(builder.problems)
    return Draft(model, path, builder.to_fill, builder.comments)


def write(model: Model, *, fmt: str) -> bytes:
    """The model as a workbook in the template (``xlsx``) or a CSV step list (``csv``)."""
    data = model_data(model)
    return write_csv(data) if fmt == "csv" else write_xlsx(data)


def template() -> bytes:
    """The empty workbook of ``sdsaudit init --format xlsx``."""
    return write_xlsx({})


# --------------------------------------------------------------------------- reading files


def _too_big(path: str, max_bytes: int, size: int) -> ModelError:
    return ModelError(
        [
            Problem(
                path,
                None,
                None,
                f"the file is {size:,} bytes, more than the limit of {max_bytes:,}: "
                "raise the limit with --max-bytes if it really is this large",
            )
        ]
    )


def read_bytes(path: str, max_bytes: int) -> bytes:
    """The file's bytes, refused before reading when larger than ``max_bytes``."""
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise _too_big(path, max_bytes, size)
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except IsADirectoryError:
        raise ModelError([Problem(path, None, None, "is a folder, not a file")]) from None
    except FileNotFoundError:
        raise ModelError([Problem(path, None, None, "no such file: check the path")]) from None
    except PermissionError:
        raise ModelError(
            [Problem(path, None, None, "cannot be read (permission denied)")]
        ) from None
    if len(data) > max_bytes:
        raise _too_big(path, max_bytes, len(data))
    if not data:
        raise ModelError([Problem(path, None, None, "the file is empty")])
    return data


def check_zip(path: str, data: bytes) -> None:
    """Refuse a workbook that is not a zip, or whose parts would unzip too large."""

    def refuse(message: str) -> ModelError:
        return ModelError([Problem(path, None, None, message)])

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        kind = (
            "an older .xls workbook or a password-protected one"
            if data[:4] == (b"\xd0\xcf\x11\xe0")
            else "not a workbook"
        )
        raise refuse(
            f"cannot be read as an Excel workbook (.xlsx): it is {kind}. Save it from your "
            "spreadsheet as an Excel workbook (.xlsx) without a password, or as CSV"
        ) from None
    if len(parts) > MAX_PARTS:
        raise refuse(f"the workbook has {len(parts):,} parts, more than {MAX_PARTS:,}: refused")
    total = sum(p.file_size for p in parts)
    if total > MAX_UNZIPPED:
        raise refuse(
            f"the workbook would unzip to {total:,} bytes, more than the limit of "
            f"{MAX_UNZIPPED:,}: refused before opening it (it may be a zip bomb). Split it "
            "into smaller workbooks"
        )
    for part in parts:
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * max(1, part.compress_size):
            raise refuse(
                f"the workbook's part '{short(part.filename)}' would unzip to "
                f"{part.file_size:,} bytes from {part.compress_size:,}, more than {MAX_RATIO} "
                "times its size: refused before opening it (it may be a zip bomb)"
            )


def read_xlsx_tables(path: str, data: bytes) -> list[Table]:
    """Every sheet's rows (values only; formulas as their cached values, never run)."""
    check_zip(path, data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise ModelError(
            [Problem(path, None, None, f"cannot be read as an Excel workbook: {_reason(exc)}")]
        ) from None
    tables = []
    try:
        for sheet in book.worksheets:
            tables.append(Table(path, sheet.title, _sheet_rows(path, sheet)))
    except ModelError:
        raise
    except Exception as exc:  # a part that is not valid XML, an entity declaration ...
        raise ModelError(
            [Problem(path, None, None, f"cannot be read as an Excel workbook: {_reason(exc)}")]
        ) from None
    finally:
        book.close()
    return tables


def _reason(exc: BaseException) -> str:
    """Why openpyxl could not read the file, in a line (the XML safety refusal named
    even when openpyxl wraps it in its own error)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return (
                "a part of it declares XML entities or a document type, which sdsaudit does "
                "not read (for safety); save it again from your spreadsheet"
            )
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip().split("\n")[0]
    name = type(exc).__name__
    return short(f"{text} ({name})" if text else name, 160)


def _sheet_rows(path: str, sheet: Any) -> list[tuple[int, tuple[Any, ...]]]:
    declared = getattr(sheet, "max_row", None)
    if isinstance(declared, int) and declared > MAX_ROWS + 1:
        raise _too_many_rows(path, sheet.title)
    max_col = getattr(sheet, "max_column", None)
    width = min(max_col, MAX_COLUMNS) if isinstance(max_col, int) and max_col > 0 else MAX_COLUMNS
    rows: list[tuple[int, tuple[Any, ...]]] = []
    number = 0
    for number, values in enumerate(
        sheet.iter_rows(values_only=True, max_col=width, max_row=MAX_ROWS + 2), start=1
    ):
        if any(v is not None and v != "" for v in values):
            if number > MAX_ROWS + 1:
                raise _too_many_rows(path, sheet.title)
            rows.append((number, tuple(values)))
    return rows


def _too_many_rows(path: str, sheet: str) -> ModelError:
    return ModelError(
        [
            Problem(
                f"{path}:{sheet_ref(sheet)}",
                None,
                None,
                f"the sheet has more than {MAX_ROWS:,} rows: sdsaudit reads at most "
                f"{MAX_ROWS:,} a sheet. Delete the rows below your steps (empty rows "
                "with formatting count too), or split the process",
            )
        ]
    )


def read_csv_table(path: str, data: bytes) -> Table:
    """A CSV file's rows: UTF-8 with or without a byte-order mark, ``,`` ``;`` or tab."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ModelError(
            [
                Problem(
                    path,
                    line,
                    None,
                    "the file is not UTF-8 text: save it from your spreadsheet as "
                    "'CSV UTF-8 (comma delimited)'",
                )
            ]
        ) from None
    if "\x00" in text:
        raise ModelError([Problem(path, None, None, "the file is not text (it holds NUL bytes)")])
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    rows: list[tuple[int, tuple[Any, ...]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if number > MAX_ROWS + 1:
                raise ModelError(
                    [
                        Problem(
                            path,
                            number,
                            None,
                            f"the file has more than {MAX_ROWS:,} rows: sdsaudit reads at most "
                            f"{MAX_ROWS:,}. Split the process",
                        )
                    ]
                )
            values = tuple(v if v.strip() else None for v in record[:MAX_COLUMNS])
            if any(v is not None for v in values):
                rows.append((number, values))
    except csv.Error as exc:
        raise ModelError(
            [Problem(path, number + 1, None, f"cannot be read as CSV: {short(str(exc), 120)}")]
        ) from None
    return Table(path, Path(path).stem, rows, is_csv=True)
