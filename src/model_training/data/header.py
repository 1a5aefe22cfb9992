"""The header row of a source CSV: the bytes that hold it (:func:`header_bytes`) and its column names
(:func:`parse_header`), refused with the line and column at fault when they cannot be a dataset's header; and a
source's header read from its first bytes alone (:func:`read_header`).
"""

from __future__ import annotations

import csv
import io
import re
import zlib

from model_training.data.encoding import BOM, check_text
from model_training.data.inflate import GZIP_MAGIC
from model_training.errors import LINE, DatasetError
from model_training.ports import Source

#: The largest field Python's :mod:`csv` module is allowed to read (its default, 128 KiB, is too small for a
#: quoted header or row of a wide file).
CSV_FIELD_LIMIT = 2**31 - 1
#: Control characters no header name may hold (tab, line feed and carriage return are the CSV's own).
_BAD_NAME_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")


def header_bytes(data: bytes) -> bytes:
    """The bytes that hold the header: up to its line break when the first MiB has no quote (the first
    non-blank line), else the first 64 MiB (a quoted header may span lines)."""
    head = data[: 1 << 20]
    if b'"' not in head:
        pos = 0
        while (end := head.find(b"\n", pos)) >= 0:
            line = head[pos:end]
            if (line[3:] if pos == 0 and line.startswith(BOM) else line).strip():  # a BOM alone is a blank line
                return data[: end + 1]
            pos = end + 1
    return data[: 64 * 1024 * 1024]


def parse_header(obj: str, data: bytes) -> tuple[list[str], int]:
    """The header's column names and the number of lines up to and including it (leading blank lines
    and quoted line breaks count).

    Args:
        obj: the source's URI, for messages.
        data: the source's bytes (inflated), or at least those of :func:`header_bytes`.

    Raises:
        DatasetError: not UTF-8 text (:func:`~model_training.data.encoding.check_text`), a first line that
            cannot be read as CSV, no column names, a name that is not valid UTF-8, a single column holding
            semicolons, tabs or pipes (another separator), a name holding a NUL byte, another control
            character or a second byte-order mark (with its column), an empty name other than the first (an empty
            first name is a pandas index column: whether to accept one is the run's ``index_column`` setting,
            judged with the configuration in :func:`model_training.validation.columns.index_column`), duplicate names.
    """
    csv.field_size_limit(CSV_FIELD_LIMIT)
    check_text(obj, data)
    # The header is near the start; invalid bytes become U+FFFD and are reported below.
    text = header_bytes(data).decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    names: list[str] = []
    try:
        for names in reader:
            if names:
                break
    except csv.Error as exc:
        raise DatasetError(
            (LINE, f" cannot be read as a CSV header ({exc})"), "check the quoting of the first line", uri=obj, line=1
        ) from None
    header_lines = reader.line_num
    if not names or all(not n.strip() for n in names):
        raise DatasetError(
            (LINE, " has no column names"), "the first line must be the header row", uri=obj, line=max(header_lines, 1)
        )
    if "\ufffd" in "".join(names):
        raise DatasetError((LINE, " is not valid UTF-8"), "save the file as UTF-8", uri=obj, line=header_lines)
    if len(names) == 1:
        for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if sep in names[0]:
                raise DatasetError(
                    f"the header is one column that contains {label}: the file looks {sep!r}-separated",
                    "the stage reads comma-separated files: convert it upstream (e.g. pandas read_csv(sep=';').to_csv())",
                    uri=obj,
                )
    for position, name in enumerate(names, 1):
        if bad := _BAD_NAME_CHARS.search(name):
            char = bad.group()
            what = {"\ufeff": "a second byte-order mark", "\x00": "a NUL byte"}.get(char, f"the control character {char!r}")
            why = " (a NUL after every letter means the file is UTF-16: save it as UTF-8)" if char == "\x00" else ""
            raise DatasetError(
                f"header column {position} ({_shown_name(name)}) holds {what}",
                f"remove it from the header row{why}: column names are copied into the test file and read by the next stages",
                uri=obj,
                column=name,
            )
    empty = [i + 1 for i, n in enumerate(names) if not n and i > 0]
    if empty:
        raise DatasetError(f"header column {empty[0]} has no name", "every column needs a name", uri=obj)
    seen: set[str] = set()
    dups = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dups:
        raise DatasetError(f"duplicate column names in the header: {', '.join(dups)}", "rename them", uri=obj)
    return names, header_lines


def _shown_name(name: str, limit: int = 40) -> str:
    """A column name for a message: quoted, control characters escaped, cut at ``limit`` characters."""
    return repr(name[:limit]) + (f" ({len(name)} characters)" if len(name) > limit else "")


def read_header(source: Source, uri: str, *, first: int = 1 << 16, most: int = 64 << 20) -> list[str]:
    """The column names of ``source``'s header, read from its first bytes only: ``first`` bytes (one ranged
    ``GetObject`` on S3), eight times more while they hold no whole line, up to ``most``; gzip data is inflated
    as far as those bytes go.  What a ``config show`` reads, never the rows.

    Args:
        uri: the source as messages name it.

    Raises:
        DatasetError: gzip data that does not inflate, or as :func:`parse_header` (not UTF-8 text, not a header).
    """
    size = first
    while True:
        head = source.sample(size)
        whole = len(head) < size
        text = head
        if head[:2] == GZIP_MAGIC:
            try:
                text = zlib.decompressobj(wbits=47).decompress(head, most)
            except zlib.error as exc:
                raise DatasetError(f"gzip data that does not inflate ({exc})", "check the file", uri=uri) from None
            whole = whole and len(text) < most
        if not whole:
            text = text[: text.rfind(b"\n") + 1]  # whole lines only: never a character cut in two
        if whole or size >= most or text.lstrip(BOM + b" \t\r\n"):
            return parse_header(uri, text or head)[0]
        size *= 8
