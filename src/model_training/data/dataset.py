"""Read and validate the source CSV.

The source is read as text: every value keeps the exact characters it had in the source (no float
round trip), so the split files can be byte-identical to the original stage's output and never lose
precision.  Values that go to the ``train``/``validation`` channels are then checked to be numeric,
because the built-in XGBoost container reads every CSV field as a number (its ``data_utils``: column 0
is the label, an empty field is a missing value).
"""

from __future__ import annotations

import contextvars
import csv
import difflib
import gzip
import hashlib
import io
import math
import mmap
import os
import re
import shlex
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from model_training.errors import DatasetError
from model_training.hashing import hash_pieces
from model_training.ports import SourceInfo

if TYPE_CHECKING:
    from model_training.data.rowindex import RowIndex

#: The default of ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``: the most bytes a gzip source may inflate to (8 GiB,
#: as ``MODEL_TRAINING_MAX_OBJECT_BYTES``: what a Lambda function's memory or ``/tmp`` can split).
MAX_DECOMPRESSED_BYTES = 8 * 1024**3
#: Seconds left in the invocation below which inflating stops (the time budget's margin).
INFLATE_MARGIN_SECONDS = 10.0
#: The time budget of the run in progress (seconds left, a callable), checked while gzip data inflates.
inflate_time_left: contextvars.ContextVar[Callable[[], float] | None] = contextvars.ContextVar("inflate_time_left", default=None)


def max_decompressed_bytes(env: Mapping[str, str] | None = None) -> int:
    """``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES`` (bytes), or :data:`MAX_DECOMPRESSED_BYTES` if unset.

    Raises:
        ConfigurationError: not a whole number of at least 1.
    """
    from model_training.errors import ConfigurationError

    text = (os.environ if env is None else env).get("MODEL_TRAINING_MAX_DECOMPRESSED_BYTES", "").strip()
    if not text:
        return MAX_DECOMPRESSED_BYTES
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(
            f"MODEL_TRAINING_MAX_DECOMPRESSED_BYTES={text[:40]!r} is not a whole number of bytes", "fix the environment variable"
        )
    return int(text)


class DecompressedTooLargeError(DatasetError):
    """Gzip data inflates to more than a limit: ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES`` (the run is
    refused), or, in memory, the size above which the split streams (:attr:`in_memory`: the pipeline then
    streams instead; nothing is refused).

    Attributes:
        limit: the limit, in bytes.
        in_memory: the limit was the in-memory split's, not the absolute one.
    """

    def __init__(self, uri: str, limit: int, *, in_memory: bool = False) -> None:
        self.limit, self.in_memory = limit, in_memory
        if in_memory:
            super().__init__(
                f"{uri}: the gzip data inflates to more than {limit} bytes, the in-memory split's limit",
                "split it by streaming (--stream), or raise MODEL_TRAINING_STREAM_ABOVE_MB",
            )
        else:
            super().__init__(
                f"{uri}: the gzip data inflates to more than {limit} bytes, the limit set by "
                "MODEL_TRAINING_MAX_DECOMPRESSED_BYTES (a compression bomb, or a larger dataset than allowed)",
                "raise MODEL_TRAINING_MAX_DECOMPRESSED_BYTES if the data is genuine (the split needs memory or /tmp "
                "space of about the inflated size), or upload the CSV uncompressed",
            )


def check_inflate_time(uri: str, inflated: int) -> None:
    """Stop inflating when the run's time budget (:data:`inflate_time_left`) is nearly spent.

    Raises:
        TimeBudgetError: less than :data:`INFLATE_MARGIN_SECONDS` left (retryable: the object is not judged).
    """
    time_left = inflate_time_left.get()
    if time_left is None:
        return
    left = time_left()
    if left < INFLATE_MARGIN_SECONDS:
        from model_training.errors import TimeBudgetError

        raise TimeBudgetError(f"{uri}: inflating the gzip data stopped after {inflated} bytes: {left:.0f} s left")


def gunzip(data: bytes, uri: str, *, memory_limit: int | None = None, piece_bytes: int = 8 * 1024 * 1024) -> bytes:
    """Inflate gzip ``data`` (multi-member and zero padding accepted, as :func:`gzip.decompress`) in pieces,
    never past a limit: :func:`max_decompressed_bytes`, or ``memory_limit`` if smaller; the time budget is
    checked after every piece (:func:`check_inflate_time`).

    Raises:
        DecompressedTooLargeError: the data inflates past a limit (``in_memory`` when ``memory_limit`` was it).
        DatasetError: corrupt or truncated gzip data.
        TimeBudgetError: too little time left to go on.
    """
    limit = max_decompressed_bytes()
    in_memory = memory_limit is not None and memory_limit < limit
    if memory_limit is not None:
        limit = min(limit, memory_limit)
    out = bytearray()
    reader = gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")
    try:
        while piece := reader.read(piece_bytes):
            out += piece
            if len(out) > limit:
                raise DecompressedTooLargeError(uri, limit, in_memory=in_memory)
            check_inflate_time(uri, len(out))
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{uri}: the gzip data is corrupt ({exc})", "upload the file again") from None
    return cast(bytes, out)


#: A decimal number as the XGBoost container's CSV parser reads it: optional sign, digits with an
#: optional fraction, optional exponent.  ``nan``/``inf`` and thousands separators are refused.
NUMERIC_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_READ_CHUNK = 8 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Dataset:
    """A source CSV: its header, its bytes, and (on demand) an index of its rows or a table of its values.

    Plain CSV (no quotes, no carriage returns, no blank lines) is read through a byte-level
    :class:`~model_training.data.rowindex.RowIndex` (:meth:`row_index`); anything else is parsed by pyarrow into
    :attr:`table`, which also gives the exact error for a file the index refuses.

    Attributes:
        source: the object's identity.
        columns: the header's column names, in source order.
        raw: the source bytes (decompressed; ending with ``\n`` when ``data_start >= 0``).
        header_lines: the lines up to and including the header (leading blank lines count).
        parsed: the pyarrow table, if it was parsed up front (see :attr:`table`).
        data_start: byte offset of the first data row, or -1 if the rows are not plain CSV.
        line_offset: added to every line number in messages (a chunk of a larger file, or a part file).
    """

    source: SourceInfo
    columns: tuple[str, ...]
    raw: bytes = field(default=b"", repr=False)
    header_lines: int = 1
    parsed: pa.Table | None = field(default=None, repr=False)
    data_start: int = -1
    line_offset: int = 0

    @cached_property
    def table(self) -> pa.Table:
        """A pyarrow table of ``len(columns)`` string columns; its column names are positional (``c0``,
        ``c1`` ...) so that header names never clash inside pyarrow.  Parsed on first use for plain CSV.

        Raises:
            DatasetError: as :func:`parse_csv`, for rows the byte-level index could not vouch for.
        """
        if self.parsed is not None:
            return self.parsed
        return _parse_table(self.source.uri, self.raw, list(self.columns), self.header_lines, self.line_offset)

    @cached_property
    def index(self) -> dict[str, int]:
        """Column name -> position (a dict: looking names up one by one in a 100,000-column header must
        not be quadratic)."""
        return {name: i for i, name in enumerate(self.columns)}

    def row_index(self, fields: Iterable[int] = (), numeric: Iterable[int] = (), required: Iterable[int] = ()) -> RowIndex | None:
        """The byte-level index of the data rows locating ``fields`` and having checked ``numeric`` (see
        :func:`~model_training.data.rowindex.scan`), or ``None`` if the rows are not plain CSV.  One scan
        answers later calls that ask for no more."""
        if self.data_start < 0:
            return None
        known = self.__dict__.get("_row_index", False)
        if known is None:
            return None
        fields, numeric, required = set(fields), set(numeric), set(required)
        if known:
            if known.covers(fields, numeric, required):
                return known
            fields |= known.bounds.keys()
            numeric |= known.numeric
            required |= known.required
        from model_training.data import rowindex

        idx = rowindex.scan(self.raw, self.data_start, len(self.columns), fields, numeric, required)
        self.__dict__["_row_index"] = idx
        return idx

    @property
    def num_rows(self) -> int:
        """Data rows (the header is not counted)."""
        if self.parsed is None and "table" not in self.__dict__:
            idx = self.row_index()
            if idx is not None:
                return idx.rows
        return self.table.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        """The text values of column ``name``."""
        f = self.index[name]
        if self.parsed is None and "table" not in self.__dict__:
            idx = self.row_index(fields=[f])
            if idx is not None:
                return pa.chunked_array([idx.field_bytes(f).cast(pa.large_string())])  # type: ignore[attr-defined]
        return self.table.column(f)

    def numbers(self, name: str) -> np.ndarray:
        """Column ``name`` as float64, shape ``(num_rows,)`` (its values must have been checked numeric;
        computed once)."""
        cache: dict[str, np.ndarray] = self.__dict__.setdefault("_number_cache", {})
        if name not in cache:
            cache[name] = self._numbers(name)
        return cache[name]

    def _numbers(self, name: str) -> np.ndarray:
        f = self.index[name]
        idx = self.row_index(fields=[f]) if self.parsed is None and "table" not in self.__dict__ else None
        if idx is not None and idx.numeric_ok and f in idx.numeric:
            values = _short_decimals(np.frombuffer(idx.data, dtype=np.uint8), *idx.field_range(f))
            if values is not None:
                return values
        return pc.cast(self.column(name), pa.float64()).to_numpy()

    def line_texts(self) -> pa.ChunkedArray:
        """Every data row's text without its line break (values as in the source, quoted where needed)."""
        idx = self.row_index() if self.parsed is None and "table" not in self.__dict__ else None
        if idx is not None:
            last = len(self.columns) - 1
            arr, template, k = idx.elements([(0, 0), (last, 1)], [((0, 0), (last, 1))], cache=False)
            from model_training.data.rowindex import take_elements

            lines = take_elements(arr, np.arange(idx.rows, dtype=np.int64), template, k)
            return pa.chunked_array([lines.cast(pa.large_string())])  # type: ignore[attr-defined]
        return pa.chunked_array([pc.binary_join_element_wise(*[c.combine_chunks() for c in self.table.columns], ",")])

    def with_source(self, source: SourceInfo) -> Dataset:
        """The same dataset with another identity (its hash known now), keeping what was computed."""
        from dataclasses import replace

        other = replace(self, source=source)
        for name in ("_row_index", "index", "table", "_number_cache"):
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    def line_of_row(self, row: int) -> int:
        """The 1-based line on which data row ``row`` (0-based) starts, counting the header, blank lines
        and quoted line breaks (a scan of the source: for error messages)."""
        plain = self.data_start >= 0 and self.row_index() is not None
        if not self.raw or plain:  # plain CSV: one line per row, no blank lines
            return row + 1 + self.header_lines + self.line_offset
        for index, line, _ in _rows_with_lines(self.raw, self.header_lines):
            if index == row:
                return line + self.line_offset
        return row + 1 + self.header_lines + self.line_offset


def read_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> bytearray:
    """The bytes of the file at ``path``, read into one buffer (no second copy at any moment).

    Above 64 MiB (on Linux and macOS) the buffer is an anonymous memory map filled by two threads with
    ``preadv`` at their own offsets: the pages fault in on two cores and no zero-filled ``bytearray`` is
    written first (484 MB: 0.16 s against 0.33-0.9 s on the benchmark machine).  The map supports every
    operation the parser uses on the source (slices, ``find``, the buffer protocol).  A file that changes
    size while it is read is read again, plainly.

    Raises:
        OSError: it cannot be read.
    """
    with path.open("rb", buffering=0) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size >= 64 << 20 and hasattr(os, "preadv") and hasattr(mmap, "MAP_ANONYMOUS"):
            mapped = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            view = memoryview(mapped)
            fd = fh.fileno()

            def fill(half: int) -> int:
                lo, hi = size * half // 2, size * (half + 1) // 2
                pos = lo
                while pos < hi:
                    n = os.preadv(fd, [view[pos : min(hi, pos + _READ_CHUNK)]], pos)
                    if n == 0:
                        break
                    if on_bytes:
                        on_bytes(n)
                    pos += n
                return pos - lo

            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(2, thread_name_prefix="read") as pool:
                filled = sum(pool.map(fill, (0, 1)))
            view.release()
            if filled == size and os.fstat(fd).st_size == size:
                return cast(bytearray, mapped)
            mapped.close()
            fh.seek(0)
            return bytearray(fh.read())
        buffer = bytearray(size)
        view = memoryview(buffer)
        filled = 0
        while filled < size and (n := fh.readinto(view[filled : filled + _READ_CHUNK])):
            filled += n
            if on_bytes:
                on_bytes(n)
        view.release()
        if filled < size or fh.read(1):  # it shrank or grew while we read it: read it again, plainly
            fh.seek(0)
            buffer = bytearray(fh.read())
        return buffer


def _short_decimals(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """The values of fields that are all ``d``, or all ``d.d`` (a digit; or a digit, a point and a digit:
    the 0/1 and 0.0/1.0 labels), computed from their bytes; ``None`` for any other form.  ``d.e`` is
    ``(10 d + e) / 10``, which IEEE division rounds to exactly ``float("d.e")``."""
    lengths = ends - starts
    first = data[starts] - np.uint8(48)
    if (first > 9).any():
        return None
    if (lengths == 1).all():
        return first.astype(np.float64)
    if not (lengths == 3).all() or (data[starts + 1] != 46).any():
        return None
    last = data[starts + 2] - np.uint8(48)
    if (last > 9).any():
        return None
    tenths = first * np.uint8(10)
    tenths += last
    return tenths.astype(np.float64) / 10


def dataset_name(path: str) -> str:
    """The dataset name of a source path or key: its file name without ``.csv`` / ``.csv.gz``, with
    every character other than letters, digits, ``.``, ``_`` and ``-`` replaced by ``-`` and leading
    dots removed, so that it is safe in a key, a folder name and a SageMaker tag value (the
    ``Testing`` tag holds the test file's URI)."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".csv.gz", ".csv"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    safe = re.sub(r"[^\w.-]+", "-", base).strip("-").lstrip(".")
    # at most 80 characters: keys stay far below S3's 1,024 bytes and the Testing tag below SageMaker's 256
    return safe[:80].rstrip("-.") or "dataset"


def local_source_size(path: Path) -> int:
    """The size in bytes of the local source file ``path``.

    Raises:
        DatasetError: it does not exist, is not a file, or cannot be read.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file", "check the path") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})", "check the path and its permissions") from None
    if not path.is_file():
        raise DatasetError(f"{path}: not a file", "give the path of a CSV file")
    return st.st_size


def read_local_source(path: Path, on_bytes: Callable[[int], None] | None = None) -> tuple[SourceInfo, bytes]:
    """Read a local file into memory (:func:`read_file`) and hash it.

    Args:
        path: the CSV file.
        on_bytes: called with the number of bytes read after each chunk (progress reporting).

    Returns:
        The source's identity and its bytes.

    Raises:
        DatasetError: the file does not exist or cannot be read.
    """
    resolved, buffer = _read_checked(path, on_bytes)
    info = SourceInfo(
        uri=resolved.as_uri(), name=dataset_name(str(resolved)), size_bytes=len(buffer), sha256=hashlib.sha256(buffer).hexdigest()
    )
    return info, cast(bytes, buffer)


def _read_checked(path: Path, on_bytes: Callable[[int], None] | None) -> tuple[Path, bytearray]:
    """The resolved path and :func:`read_file`'s buffer, with a missing or unreadable file as a
    :class:`DatasetError`."""
    local_source_size(path)  # a clear error for a missing path or a folder
    try:
        resolved = path.resolve(strict=True)
        return resolved, read_file(resolved, on_bytes)
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file", "check the path") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})", "check the path and its permissions") from None


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
            ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``; see :func:`gunzip`).

    Raises:
        DecompressedTooLargeError: gzip data inflating past a limit (:func:`gunzip`).
        DatasetError: empty object, no data rows, invalid UTF-8 (with line and column), a UTF-16/UTF-32
            file or a zip archive or other binary format (:func:`check_text`), duplicate or empty column
            names, a header name holding a NUL byte, another control character or a second byte-order mark
            (with its column), a ``;``- or tab-separated file, or a row with a different number of fields
            than the header (with its line).
    """
    obj = source.uri
    if not data[:1_000_000].strip() and not bytes(data).strip():  # the full scan only for files that start blank
        raise DatasetError(f"{obj}: the object is empty", "upload a CSV file with a header row and data rows")
    if data[:2] == b"\x1f\x8b":  # gzip, whatever the name says (.csv.gz, or a gzip body under .csv)
        data = gunzip(data, obj, memory_limit=memory_limit)
        if not data[:1_000_000].strip() and not bytes(data).strip():
            raise DatasetError(f"{obj}: the object is empty (after gzip decompression)", "upload a CSV with data rows")
    header, header_lines = _parse_header(obj, data)
    start = _plain_data_start(data, header_lines)
    if start is not None:
        if data[-1:] != b"\n":
            data = bytes(data) + b"\n"  # one copy, for the rare file without a final line break
        dataset = Dataset(
            source=source, columns=tuple(header), raw=data, header_lines=header_lines, data_start=start, line_offset=line_offset
        )
        if lazy or dataset.row_index() is not None:
            return dataset
    table = _parse_table(obj, data, header, header_lines, line_offset)
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


def _parse_table(obj: str, data: bytes, header: list[str], header_lines: int, line_offset: int = 0) -> pa.Table:
    """The rows as a pyarrow table of string columns named ``c0``, ``c1`` ..."""
    positional = [f"c{i}" for i in range(len(header))]
    bad_rows: list[pacsv.InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append(row)
        return "error"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(block_size=16 * 1024 * 1024),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=data.find(b'"') >= 0),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        if bad_rows or "Expected" in str(exc):
            _raise_ragged(obj, data, header, header_lines, line_offset)
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            _raise_invalid_utf8(obj, data, header, line_offset)
        if "skip" in str(exc) or "Empty CSV" in str(exc):  # a header line without a line break after it
            raise DatasetError(f"{obj}: the file has a header but no data rows", "upload a CSV file with data rows") from None
        raise DatasetError(f"{obj}: not a readable CSV file ({_arrow_reason(exc)})", "save the data as UTF-8 CSV") from None
    if table.column_names != header:
        raise DatasetError(f"{obj}: the header could not be read consistently", "check the quoting of the first line")
    table = table.rename_columns(positional)
    if table.num_rows == 0:
        raise DatasetError(f"{obj}: the file has a header but no data rows", "upload a CSV file with data rows")
    return table


#: What to do about a missing column, by its role (the command-line flag that sets it).
_MISSING_COLUMN_ACTION = {
    "label": "choose the label column with --label NAME",
    "drop": "name the columns to leave out with --drop NAME, or --drop '' to drop none",
}


def require_columns(dataset: Dataset, names: Sequence[str], role: str) -> None:
    """Check that every name in ``names`` is a column of ``dataset``.

    Raises:
        DatasetError: naming the missing column, the closest existing names, and the columns that exist.
    """
    for name in names:
        if name not in dataset.index:
            close = difflib.get_close_matches(name, dataset.columns, n=3)
            suggestion = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
            action = _MISSING_COLUMN_ACTION.get(role, "check the column name")
            shown = ", ".join(_short_name(c) for c in dataset.columns[:100])
            more = f" and {len(dataset.columns) - 100} more" if len(dataset.columns) > 100 else ""
            raise DatasetError(
                f"{dataset.source.uri}: the {role} column {name!r} is not in the header",
                f"{suggestion}{action}; the columns are: {shown}{more}",
            )


def _short_name(name: str) -> str:
    text = repr(name) if "," in name else name
    return text if len(text) <= 60 else text[:50] + f"... ({len(name)} chars)"


def check_numeric(dataset: Dataset, names: Sequence[str], *, allow_empty: bool, role: str = "column") -> None:
    """Check that every value of the named columns is a finite decimal number (:data:`NUMERIC_PATTERN`,
    within the range of a 64-bit float).

    Args:
        allow_empty: accept empty fields (the container reads them as missing values).

    Raises:
        DatasetError: naming the column, the first offending line (1-based, counting the header and
            any blank lines) and the value.
    """
    fields = [dataset.index[name] for name in names]
    idx = dataset.row_index(numeric=fields, required=() if allow_empty else fields)
    if idx is not None and idx.numeric_ok:
        return
    for name in names:
        col = dataset.column(name)
        if _all_finite_numbers(col):
            continue
        ok = pc.match_substring_regex(col, NUMERIC_PATTERN)
        ok = pc.and_(ok, _finite_where(col, ok))
        if allow_empty:
            ok = pc.or_(ok, pc.equal(pc.utf8_length(col), 0))
        if pc.all(ok).as_py():
            continue
        row = pc.index(ok, False).as_py()
        value = col[row].as_py()
        if value == "":
            what = "empty"
        elif re.fullmatch(NUMERIC_PATTERN, value):
            what = f"too large for a 64-bit float: {value[:40]!r}"
        else:
            what = f"not a number: {value[:40]!r}"
        hint = (
            "the label must be a number on every row (0 or 1 for binary:logistic)"
            if role == "label"
            else f"every train/validation value must be numeric (empty means missing); leave the column out with "
            f"--drop {shlex.quote(name)} or encode it upstream"
        )
        if value in ("True", "False", "true", "false"):
            hint = (
                "booleans are not converted (True/False is what pandas' get_dummies writes since pandas 2): "
                "write them as 1/0 upstream, e.g. get_dummies(..., dtype=int)"
            )
        line = dataset.line_of_row(row)
        kind = what.split(":", 1)[0]
        raise DatasetError(
            f"{dataset.source.uri}: {role} {name!r} on line {line} is {what}",
            hint,
            log_message=f"{dataset.source.uri}: {role} {name!r} on line {line} is {kind} (value withheld from logs)",
        )


def _all_finite_numbers(col: pa.ChunkedArray) -> bool:
    # Fast path (about 4x faster than the pattern): pyarrow's float parser accepts exactly the decimal
    # forms of NUMERIC_PATTERN plus nan/inf, which the finiteness test then refuses.  Any failure
    # (including an empty field) falls back to the pattern, which is the rule.
    try:
        return bool(pc.all(pc.is_finite(pc.cast(col, pa.float64()))).as_py())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False


def _finite_where(col: pa.ChunkedArray, matches: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """True where a value that matches the pattern is also within float64's range (``1e400`` is not)."""
    candidates = pc.if_else(matches, col, "0")
    try:
        return pc.is_finite(pc.cast(candidates, pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. a number with millions of digits
        values = [_finite_float(v) for v in candidates.to_pylist()]
        return pa.array(values, type=pa.bool_())


def _finite_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except (OverflowError, ValueError):
        return False


def _rows_with_lines(data: bytes, header_lines: int) -> Iterator[tuple[int, int, list[str]]]:
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
    csv.field_size_limit(_FIELD_LIMIT)
    for _, line, fields in _rows_with_lines(data, header_lines):
        if len(fields) != len(header):
            raise DatasetError(
                f"{obj}: line {line + line_offset} has {len(fields)} fields, the header has {len(header)}",
                "every row needs one value per header column (check for stray or missing commas and unclosed quotes)",
            )
    raise DatasetError(f"{obj}: a row has a different number of fields than the header", "check for unclosed quotes") from None


def _raise_invalid_utf8(obj: str, data: bytes, header: list[str], line_offset: int = 0) -> NoReturn:
    for number, line in enumerate(re.split(rb"\r\n|\r|\n", data), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            field = line[: exc.start].count(b",")
            column = f" (column {header[field]!r})" if field < len(header) else ""
            raise DatasetError(
                f"{obj}: line {number + line_offset}{column} is not valid UTF-8 (byte {exc.start + 1} of the line)",
                "save the file as UTF-8",
            ) from None
    raise DatasetError(f"{obj}: the file is not valid UTF-8", "save the file as UTF-8")


_FIELD_LIMIT = 2**31 - 1

#: Formats uploaded under a ``.csv`` name now and then, by their first bytes: what the file is, what to do.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (
        b"PK\x03\x04",
        "a zip archive (an .xlsx workbook is one), not CSV",
        "unzip it (or save the sheet as CSV UTF-8) and upload the CSV",
    ),
    (b"PK\x05\x06", "an empty zip archive, not CSV", "upload the CSV file itself"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document (.xls), not CSV", "save the sheet as CSV UTF-8 and upload that"),
    (b"PAR1", "a Parquet file, not CSV", "write it as CSV upstream (e.g. pandas read_parquet(...).to_csv(index=False))"),
    (b"%PDF-", "a PDF document, not CSV", "upload the data as a CSV file"),
    (b"BZh", "bzip2-compressed data, not CSV", "decompress it, or compress the CSV with gzip (.csv.gz)"),
    (b"\xfd7zXZ\x00", "xz-compressed data, not CSV", "decompress it, or compress the CSV with gzip (.csv.gz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data, not CSV", "decompress it, or compress the CSV with gzip (.csv.gz)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive, not CSV", "extract it and upload the CSV"),
    (b"SQLite format 3\x00", "an SQLite database, not CSV", "export the table as CSV and upload that"),
)
#: Control characters no header name may hold (tab, line feed and carriage return are the CSV's own).
_BAD_NAME_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")


def _looks_binary(head: bytes) -> bool:
    """Whether ``head`` is not text: a control byte no CSV holds, or bytes that are not UTF-8."""
    if re.search(rb"[\x00-\x08\x0e-\x1f]", head):
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 3  # a character cut at the end of the sample is not a sign
    return False


def _utf16_or_32(head: bytes) -> str | None:
    """``UTF-16``/``UTF-32`` and the byte order (and whether a byte-order mark says so) if ``head`` is
    that encoding, judged by its byte-order mark or, without one, by where its NUL bytes fall (text of
    Latin letters in UTF-16LE has a NUL after every letter)."""
    for bom, name in (
        (b"\xff\xfe\x00\x00", "UTF-32 (little-endian, with a byte-order mark)"),
        (b"\x00\x00\xfe\xff", "UTF-32 (big-endian, with a byte-order mark)"),
        (b"\xff\xfe", "UTF-16 (little-endian, with a byte-order mark)"),
        (b"\xfe\xff", "UTF-16 (big-endian, with a byte-order mark)"),
    ):
        if head.startswith(bom):
            return name
    sample = head[: len(head) // 4 * 4]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    by_position = [sample[i::4].count(0) / (len(sample) // 4) for i in range(4)]
    if by_position[0] < 0.1 and min(by_position[1:]) > 0.6:
        return "UTF-32 (little-endian, no byte-order mark)"
    if by_position[3] < 0.1 and min(by_position[:3]) > 0.6:
        return "UTF-32 (big-endian, no byte-order mark)"
    even, odd = (by_position[0] + by_position[2]) / 2, (by_position[1] + by_position[3]) / 2
    if even < 0.1 and odd > 0.4:
        return "UTF-16 (little-endian, no byte-order mark)"
    if odd < 0.1 and even > 0.4:
        return "UTF-16 (big-endian, no byte-order mark)"
    return None


def check_text(obj: str, data: bytes) -> None:
    """Refuse data that is not UTF-8 text before its header is read, saying what it is.

    Raises:
        DatasetError: the data is UTF-16 or UTF-32 (by its byte-order mark, or by its NUL bytes), or a zip
            archive, an .xls workbook, Parquet, PDF, bzip2/xz/zstd/7-Zip data or an SQLite database (by its
            first bytes).
    """
    head = bytes(data[:4096])
    encoding = _utf16_or_32(head)
    if encoding:
        raise DatasetError(
            f"{obj}: the file is {encoding}, not UTF-8",
            "save it as UTF-8 (Excel: Save As 'CSV UTF-8'; pandas: to_csv(..., encoding='utf-8')) and use that file",
        )
    if _looks_binary(head):
        for magic, what, action in _MAGIC:
            if head.startswith(magic):
                raise DatasetError(f"{obj}: this is {what}", action)


def _header_bytes(data: bytes) -> bytes:
    """The bytes that hold the header: up to its line break when the first MiB has no quote (the first
    non-blank line), else the first 64 MiB (a quoted header may span lines)."""
    head = data[: 1 << 20]
    if b'"' not in head:
        pos = 0
        while (end := head.find(b"\n", pos)) >= 0:
            line = head[pos:end]
            if (line[3:] if pos == 0 and line.startswith(_BOM) else line).strip():  # a BOM alone is a blank line
                return data[: end + 1]
            pos = end + 1
    return data[: 64 * 1024 * 1024]


def _parse_header(obj: str, data: bytes) -> tuple[list[str], int]:
    """The header's column names and the number of lines up to and including it (leading blank lines
    and quoted line breaks count)."""
    csv.field_size_limit(_FIELD_LIMIT)
    check_text(obj, data)
    # The header is near the start; invalid bytes become U+FFFD and are reported below.
    text = _header_bytes(data).decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    names: list[str] = []
    try:
        for names in reader:
            if names:
                break
    except csv.Error as exc:
        raise DatasetError(
            f"{obj}: line 1 cannot be read as a CSV header ({exc})", "check the quoting of the first line"
        ) from None
    header_lines = reader.line_num
    if not names or all(not n.strip() for n in names):
        raise DatasetError(f"{obj}: line {max(header_lines, 1)} has no column names", "the first line must be the header row")
    if "\ufffd" in "".join(names):
        raise DatasetError(f"{obj}: line {header_lines} is not valid UTF-8", "save the file as UTF-8")
    if len(names) == 1:
        for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if sep in names[0]:
                raise DatasetError(
                    f"{obj}: the header is one column that contains {label}: the file looks {sep!r}-separated",
                    "the stage reads comma-separated files: convert it upstream (e.g. pandas read_csv(sep=';').to_csv())",
                )
    for position, name in enumerate(names, 1):
        if bad := _BAD_NAME_CHARS.search(name):
            char = bad.group()
            what = {"\ufeff": "a second byte-order mark", "\x00": "a NUL byte"}.get(char, f"the control character {char!r}")
            why = " (a NUL after every letter means the file is UTF-16: save it as UTF-8)" if char == "\x00" else ""
            raise DatasetError(
                f"{obj}: header column {position} ({_shown_name(name)}) holds {what}",
                f"remove it from the header row{why}: column names are copied into the test file and read by the next stages",
            )
    empty = [i + 1 for i, n in enumerate(names) if not n]
    if empty:
        raise DatasetError(
            f"{obj}: header column {empty[0]} has no name", "every column needs a name (an index column? remove it upstream)"
        )
    seen: set[str] = set()
    dups = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dups:
        raise DatasetError(f"{obj}: duplicate column names in the header: {', '.join(dups)}", "rename them")
    return names, header_lines


def _shown_name(name: str, limit: int = 40) -> str:
    """A column name for a message: quoted, control characters escaped, cut at ``limit`` characters."""
    return repr(name[:limit]) + (f" ({len(name)} characters)" if len(name) > limit else "")


def _arrow_reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


class LocalSource:
    """A CSV file on this machine as the source of a run.

    Its identity needs the content hash, so :meth:`identify` reads the file (once; :meth:`read` reuses it).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._read: tuple[SourceInfo, bytes] | None = None
        self._info: SourceInfo | None = None

    @property
    def display_name(self) -> str:
        return self.path.name

    def size(self) -> int:
        """Size in bytes (raises :class:`DatasetError` if the file is missing)."""
        return local_source_size(self.path)

    def identify(self, on_bytes: Callable[[int], None] | None = None, *, keep: bool = True) -> SourceInfo:
        """The file's identity (URI, size, SHA-256).  With ``keep=False`` (the streaming split) the file is
        hashed chunk by chunk and not kept in memory."""
        if self._read is None:
            if not keep:
                if self._info is None:
                    size, sha = hash_pieces(self.chunks(_READ_CHUNK), on_bytes)
                    resolved = self.path.resolve()
                    self._info = SourceInfo(resolved.as_uri(), dataset_name(str(resolved)), size, sha)
                return self._info
            self._read = read_local_source(self.path, on_bytes)
        return self._read[0]

    def read(self, on_bytes: Callable[[int], None] | None = None) -> tuple[SourceInfo, bytes]:
        """The file's identity and bytes."""
        self.identify(on_bytes)
        assert self._read is not None
        return self._read

    def read_then_hash(self, on_bytes: Callable[[int], None] | None = None) -> tuple[bytes, Callable[..., SourceInfo]]:
        """The file's bytes now, and a function that returns its identity once a worker thread has hashed
        them (``identified(wait=False)``: the identity without the hash, for messages meanwhile).

        Raises:
            DatasetError: the file does not exist or cannot be read.
        """
        resolved, buffer = _read_checked(self.path, on_bytes)
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(1, thread_name_prefix="sha256")
        digest = pool.submit(lambda: hashlib.sha256(buffer).hexdigest())
        pool.shutdown(wait=False)
        base = SourceInfo(uri=resolved.as_uri(), name=dataset_name(str(resolved)), size_bytes=len(buffer), sha256="")
        data = cast(bytes, buffer)

        def identified(wait: bool = True) -> SourceInfo:
            if not wait:
                return base
            info = SourceInfo(base.uri, base.name, base.size_bytes, digest.result())
            self._read = (info, data)
            return info

        return data, identified

    def sample(self, size: int) -> bytes:
        """The file's first ``size`` bytes (for estimates; ``b""`` if it cannot be read)."""
        try:
            with self.path.open("rb") as fh:
                return fh.read(size)
        except OSError:
            return b""

    def chunks(self, size: int) -> Iterator[bytes]:
        """The file's bytes in pieces of ``size`` bytes (the streaming split).

        Raises:
            DatasetError: the file cannot be read.
        """
        try:
            with self.path.open("rb") as fh:
                while piece := fh.read(size):
                    yield piece
        except FileNotFoundError:
            raise DatasetError(f"{self.path}: no such file", "check the path") from None
        except OSError as exc:
            raise DatasetError(f"{self.path}: cannot read ({exc.strerror})", "check the path and its permissions") from None


class S3Source:
    """An S3 object as the source of a run, read with boto3 (streamed; no s3fs).

    Args:
        bucket, key: the object (``key`` already URL-decoded).
        version_id: read exactly this version (from the event), if given.
        etag: the ``eTag`` the event reported; when there is no version id, the read requires it
            (``IfMatch``), so the bytes split are the bytes the event announced; with a version id, that
            version's ``ETag`` must equal it (:meth:`identify` refuses the event otherwise).
        max_bytes: refuse objects larger than this before downloading them (``None``: no limit).
    """

    def __init__(
        self, bucket: str, key: str, *, version_id: str | None = None, etag: str | None = None, max_bytes: int | None = None
    ) -> None:
        self.bucket, self.key = bucket, key
        self.version_id, self.etag = version_id, etag
        self.max_bytes = max_bytes
        self._info: SourceInfo | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def display_name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def _call(self, method: str, **kwargs: object) -> dict:
        from model_training import aws

        args: dict[str, object] = {"Bucket": self.bucket, "Key": self.key, **kwargs}
        if self.version_id:
            args["VersionId"] = self.version_id
        elif self.etag:
            args["IfMatch"] = f'"{self.etag}"'
        try:
            return getattr(aws.client("s3"), method)(**args)
        except Exception as exc:
            code = aws.error_code(exc)
            if code in ("NoSuchKey", "404", "NotFound", "NoSuchVersion", "405", "MethodNotAllowed"):
                raise DatasetError(  # 405: the version is a delete marker
                    f"{self.uri}: the object version no longer exists (deleted after the event?)",
                    "nothing to do for this event; upload the file again to start a run",
                ) from None
            if code in ("PreconditionFailed", "412"):
                raise DatasetError(
                    f"{self.uri}: the object changed after the event (its eTag is no longer {self.etag})",
                    "the newer version has its own event and run",
                ) from None
            if code in ("InvalidArgument", "400", "BadRequest"):
                raise DatasetError(
                    f"{self.uri}: S3 refused the read ({code}; a malformed versionId?)", "check the event's object version"
                ) from None
            if code in ("AccessDenied", "403", "Forbidden"):
                raise DatasetError(f"{self.uri}: access denied", "grant the function s3:GetObject on the input prefix") from None
            raise

    def size(self) -> int:
        """Size in bytes (``HeadObject``)."""
        return self.identify().size_bytes

    def identify(self, on_bytes: Callable[[int], None] | None = None, *, keep: bool = True) -> SourceInfo:
        """The object's identity from a ``HeadObject``: URI, size, ``ETag``, ``VersionId`` (``keep`` is
        for :class:`LocalSource`'s sake: nothing is downloaded here).

        Raises:
            DatasetError: the object is missing, changed, unreadable, or larger than ``max_bytes``; with a
                version id: the version or the object was deleted, or its ``ETag`` is not the event's.
        """
        if self._info is None:
            head = self._call("head_object")
            if self.version_id:
                self._check_event_version(head)
            size = int(head["ContentLength"])
            if self.max_bytes is not None and size > self.max_bytes:
                raise DatasetError(
                    f"{self.uri}: {size} bytes is more than the configured maximum of {self.max_bytes} bytes",
                    "raise MODEL_TRAINING_MAX_OBJECT_BYTES (objects above MODEL_TRAINING_STREAM_ABOVE_MB are streamed: "
                    "the function's ephemeral storage must hold about the object's size), or run the split from a "
                    "larger machine: model-training run s3://... --output s3://... --backend sagemaker",
                )
            self._info = SourceInfo(
                uri=self.uri,
                name=dataset_name(self.key),
                size_bytes=size,
                sha256="",
                etag=str(head.get("ETag", "")).strip('"') or None,
                version_id=head.get("VersionId") or self.version_id,
            )
        return self._info

    def _check_event_version(self, head: dict) -> None:
        """The event's version is the object: its ``ETag`` is the event's ``eTag`` (when the event gives one;
        quotes ignored, a multipart ``-N`` ETag compared as text), and the object has not been deleted since
        (its latest version is not a delete marker: ``HeadObject`` without a version answers 404).

        Raises:
            DatasetError: the eTags differ, or the object was deleted after the event (not retried).
        """
        from model_training import aws

        found = str(head.get("ETag", "")).strip('"')
        if self.etag and found != self.etag.strip('"'):
            raise DatasetError(
                f"{self.uri}: version {self.version_id} has eTag {found}, but the event says {self.etag.strip(chr(34))}",
                "the event does not describe this object version (a forged or corrupted event?): not processed",
            )
        try:
            aws.client("s3").head_object(Bucket=self.bucket, Key=self.key)
        except Exception as exc:
            if aws.error_code(exc) in ("NoSuchKey", "404", "NotFound", "405", "MethodNotAllowed"):
                raise DatasetError(
                    f"{self.uri}: the object version no longer exists (the object was deleted after the event: "
                    "its latest version is a delete marker)",
                    "nothing to do for this event; upload the file again to start a run",
                ) from None
            raise

    def sample(self, size: int) -> bytes:
        """The object's first ``size`` bytes (a ranged ``GetObject`` of the identified version)."""
        info = self.identify()
        if not self.version_id and info.etag:
            self.etag = info.etag
        if info.size_bytes == 0:
            return b""
        return bytes(self._call("get_object", Range=f"bytes=0-{size - 1}")["Body"].read())

    def chunks(self, size: int) -> Iterator[bytes]:
        """The object's bytes in pieces of about ``size`` bytes, from one ``GetObject`` of the very version
        identified (its ``VersionId``, or ``IfMatch`` its ``ETag``): the streaming split reads it twice."""
        info = self.identify()
        if not self.version_id and info.etag:
            self.etag = info.etag
        body = self._call("get_object")["Body"]
        yield from iter(lambda: body.read(size), b"")

    def read(self, on_bytes: Callable[[int], None] | None = None) -> tuple[SourceInfo, bytes]:
        """Download the object (streamed in 8 MiB chunks, hashed as it arrives)."""
        info = self.identify()
        if not self.version_id and info.etag:
            self.etag = info.etag  # read the very bytes that were identified
        body = self._call("get_object")["Body"]
        digest = hashlib.sha256()
        buffer = bytearray()
        for chunk in iter(lambda: body.read(_READ_CHUNK), b""):
            digest.update(chunk)
            buffer += chunk
            if on_bytes:
                on_bytes(len(chunk))
        data = cast(bytes, buffer)
        info = SourceInfo(info.uri, info.name, len(data), digest.hexdigest(), info.etag, info.version_id)
        self._info = info
        return info, data
