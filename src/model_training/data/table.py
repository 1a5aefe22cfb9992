"""The rows of a CSV that is not plain (quotes, carriage returns, blank lines) parsed by pyarrow into a table of
text columns (:func:`parse_table`), and the error text for rows it refuses: the line of a row with the wrong
number of fields, the line and column of bytes that are not UTF-8.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import NoReturn

import pyarrow as pa
import pyarrow.csv as pacsv

from model_training.data.header import CSV_FIELD_LIMIT
from model_training.errors import COLUMN, LINE, DatasetError


def parse_table(obj: str, data: bytes, header: list[str], header_lines: int, line_offset: int = 0) -> pa.Table:
    """The rows as a pyarrow table of string columns named ``c0``, ``c1`` ... (positional: header names never
    clash inside pyarrow).

    Args:
        obj: the source's URI, for messages.
        data: the source's bytes (inflated), header included.
        header: the header's column names (:func:`~model_training.data.header.parse_header`).
        header_lines: the lines up to and including the header.
        line_offset: added to every line number in messages (``data`` is a chunk of a larger source).

    Raises:
        DatasetError: a row with a different number of fields than the header (with its line), bytes that
            are not UTF-8 (with line, column and byte), a header without data rows, a header pyarrow reads
            differently, anything else pyarrow refuses (its reason, cut at 200 characters).
    """
    positional = [f"c{i}" for i in range(len(header))]
    # no invalid_row_handler: pyarrow decodes a row's text for it, and a row with bytes that are not UTF-8 made the
    # handler fail inside pyarrow (a traceback on standard error); its "Expected N columns" error says as much
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(block_size=16 * 1024 * 1024),
            parse_options=pacsv.ParseOptions(newlines_in_values=data.find(b'"') >= 0),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        if "Expected" in str(exc):
            _raise_ragged(obj, data, header, header_lines, line_offset)
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            _raise_invalid_utf8(obj, data, header, line_offset)
        if "skip" in str(exc) or "Empty CSV" in str(exc):  # a header line without a line break after it
            raise DatasetError("the file has a header but no data rows", "upload a CSV file with data rows", uri=obj) from None
        raise DatasetError(f"not a readable CSV file ({_arrow_reason(exc)})", "save the data as UTF-8 CSV", uri=obj) from None
    if table.column_names != header:
        raise DatasetError("the header could not be read consistently", "check the quoting of the first line", uri=obj)
    table = table.rename_columns(positional)
    if table.num_rows == 0:
        raise DatasetError("the file has a header but no data rows", "upload a CSV file with data rows", uri=obj)
    return table


def rows_with_lines(data: bytes, header_lines: int) -> Iterator[tuple[int, int, list[str]]]:
    """``(row index, first line, fields)`` of every data row, as pyarrow counts rows (blank lines are
    skipped) and as an editor counts lines (a quoted line break starts a new line).  Used on error
    paths only: it is a pure-Python scan."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    prev_line = 0
    row = -1
    for fields in reader:
        start = prev_line + 1
        prev_line = reader.line_num
        if reader.line_num <= header_lines or not fields:
            continue
        row += 1
        yield row, start, fields


def _raise_ragged(obj: str, data: bytes, header: list[str], header_lines: int, line_offset: int = 0) -> NoReturn:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    for _, line, fields in rows_with_lines(data, header_lines):
        if len(fields) != len(header):
            raise DatasetError(
                (LINE, f" has {len(fields)} fields, the header has {len(header)}"),
                "every row needs one value per header column (check for stray or missing commas and unclosed quotes)",
                uri=obj,
                line=line + line_offset,
            )
    raise DatasetError("a row has a different number of fields than the header", "check for unclosed quotes", uri=obj) from None


def _raise_invalid_utf8(obj: str, data: bytes, header: list[str], line_offset: int = 0) -> NoReturn:
    for number, line in enumerate(re.split(rb"\r\n|\r|\n", data), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            field = line[: exc.start].count(b",")
            column = header[field] if field < len(header) else None
            raise DatasetError(
                (
                    LINE,
                    *((" (column ", COLUMN, ")") if column is not None else ()),
                    f" is not valid UTF-8 (byte {exc.start + 1} of the line)",
                ),
                "save the file as UTF-8",
                uri=obj,
                line=number + line_offset,
                column=column,
            ) from None
    raise DatasetError("the file is not valid UTF-8", "save the file as UTF-8", uri=obj)


def _arrow_reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
