"""A source's bytes made a :class:`~model_training.data.dataset.Dataset` (:func:`parse_csv`): inflated if gzip,
checked to be UTF-8 text with a header row, its rows left to the byte-level row index when they are plain CSV
and parsed by pyarrow otherwise.
"""

from __future__ import annotations

from model_training.data.dataset import Dataset
from model_training.data.header import parse_header
from model_training.data.inflate import GZIP_MAGIC, gunzip
from model_training.data.table import parse_table
from model_training.errors import DatasetError
from model_training.ports import SourceInfo


def parse_csv(
    source: SourceInfo, data: bytes, *, line_offset: int = 0, lazy: bool = False, memory_limit: int | None = None
) -> Dataset:
    """Parse CSV bytes (comma-separated, header row) into a :class:`Dataset`.

    A UTF-8 byte-order mark, CRLF or CR line endings, blank lines (also before the header), quoted
    fields with commas or line breaks, and a missing final newline are accepted.  Plain CSV (no ``"``, no
    ``\r``) is only checked here for its header; its rows are indexed when first used
    (:meth:`Dataset.row_index`), and the errors below come from there.

    Args:
        line_offset: added to the line numbers of messages (``data`` is a chunk of a larger source).
        lazy: do not index plain rows yet: the caller calls :meth:`Dataset.row_index` with what it needs
            (one scan instead of two) and reads :attr:`Dataset.table` if that returns ``None``.
        memory_limit: gzip ``data`` may inflate to at most this many bytes (besides
            ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``; see :func:`~model_training.data.inflate.gunzip`).

    Raises:
        DecompressedTooLargeError: gzip data inflating past a limit (:func:`~model_training.data.inflate.gunzip`).
        DatasetError: empty object, corrupt gzip data, no data rows, invalid UTF-8 (with line and column), a
            UTF-16/UTF-32 file or a zip archive or other binary format
            (:func:`~model_training.data.encoding.check_text`), duplicate or empty column names, a header name
            holding a NUL byte, another control character or a second byte-order mark (with its column), a
            ``;``- or tab-separated file, or a row with a different number of fields than the header (with
            its line).
        TimeBudgetError: too little time left to inflate gzip data.
    """
    obj = source.uri
    if not data[:1_000_000].strip() and not bytes(data).strip():  # the full scan only for files that start blank
        raise DatasetError("the object is empty", "upload a CSV file with a header row and data rows", uri=obj)
    if data[:2] == GZIP_MAGIC:  # gzip, whatever the name says (.csv.gz, or a gzip body under .csv)
        data = gunzip(data, obj, memory_limit=memory_limit)
        if not data[:1_000_000].strip() and not bytes(data).strip():
            raise DatasetError("the object is empty (after gzip decompression)", "upload a CSV with data rows", uri=obj)
    header, header_lines = parse_header(obj, data)
    start = _plain_data_start(data, header_lines)
    if start is not None:
        if data[-1:] != b"\n":
            data = bytes(data) + b"\n"  # one copy, for the rare file without a final line break
        dataset = Dataset(
            source=source, columns=tuple(header), raw=data, header_lines=header_lines, data_start=start, line_offset=line_offset
        )
        if lazy or dataset.row_index() is not None:
            return dataset
    table = parse_table(obj, data, header, header_lines, line_offset)
    return Dataset(
        source=source, columns=tuple(header), raw=data, header_lines=header_lines, parsed=table, line_offset=line_offset
    )


def _plain_data_start(data: bytes, header_lines: int) -> int | None:
    """Byte offset of the first data row when the header lines end with ``\n`` and hold no quote or
    ``\r`` (the rows are checked for those by the row index, block by block)."""
    pos = 0
    for _ in range(header_lines):
        pos = data.find(b"\n", pos) + 1
        if pos == 0:
            return None
    head = data[:pos]
    if b'"' in head or b"\r" in head:
        return None
    return pos if pos < len(data) else None
