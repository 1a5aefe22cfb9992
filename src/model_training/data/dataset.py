"""The source CSV as the split sees it (:class:`Dataset`): its header, its bytes, and, computed on demand and
kept, a byte-level index of its rows or a pyarrow table of its values.

Every value keeps the exact characters it had in the source (no float round trip), so the split files can be
byte-identical to the original stage's output and never lose precision.  :func:`~model_training.data.parsing.parse_csv`
makes a dataset from a source's bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_training.data.gather import take_elements
from model_training.data.rowindex import RowIndex, scan
from model_training.data.table import parse_table, rows_with_lines
from model_training.ports import SourceInfo

T = TypeVar("T")

#: Held while a :class:`Dataset` computes a value for its cache (:meth:`Dataset.cached`).
_COMPUTING = threading.RLock()


@dataclass(frozen=True)
class Dataset:
    """A source CSV: its header, its bytes, and (on demand) an index of its rows or a table of its values.

    Plain CSV (no quotes, no carriage returns, no blank lines) is read through a byte-level
    :class:`~model_training.data.rowindex.RowIndex` (:meth:`row_index`); anything else is parsed by pyarrow into
    :attr:`table`, which also gives the exact error for a file the index refuses.

    What is computed from the rows is kept in one cache, by key (:meth:`cached`), and carried over whole by
    :meth:`with_source`.  The keys in use: ``row_index`` (:meth:`row_index`; ``None`` once the rows proved not
    plain), ``table`` (:attr:`table`), ``index`` (:attr:`index`), ``numbers`` (:meth:`numbers`, a dict by
    column name), and the renderer's ``channel_lines`` and ``render_table``
    (:mod:`model_training.channels`).  The cache is the dataset's only mutable state; it takes no part in
    equality.

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
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """The value kept under ``key``; the first call computes it with ``compute()`` and keeps it.  First
        computations hold one lock (for every dataset and key, re-entrant): threads asking at once compute a
        value once.  An exception from ``compute`` reaches the caller and nothing is kept."""
        if key in self._cache:
            return self._cache[key]
        with _COMPUTING:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    @property
    def table(self) -> pa.Table:
        """A pyarrow table of ``len(columns)`` string columns; its column names are positional (``c0``,
        ``c1`` ...) so that header names never clash inside pyarrow.  Parsed on first use for plain CSV.

        Raises:
            DatasetError: as :func:`~model_training.data.table.parse_table`, for rows the byte-level index
                could not vouch for.
        """
        if self.parsed is not None:
            return self.parsed
        return self.cached(
            "table", lambda: parse_table(self.source.uri, self.raw, list(self.columns), self.header_lines, self.line_offset)
        )

    @property
    def index(self) -> dict[str, int]:
        """Column name -> position (a dict: looking names up one by one in a 100,000-column header must
        not be quadratic)."""
        return self.cached("index", lambda: {name: i for i, name in enumerate(self.columns)})

    def row_index(
        self, fields: Iterable[int] = (), numeric: Iterable[int] = (), required: Iterable[int] = (), *, checked: bool = False
    ) -> RowIndex | None:
        """The byte-level index of the data rows locating ``fields`` and having checked ``numeric`` (see
        :func:`~model_training.data.rowindex.scan`, and its ``checked``: these bytes' rows were checked before),
        or ``None`` if the rows are not plain CSV.  One scan answers later calls that ask for no more."""
        if self.data_start < 0:
            return None
        known = self._cache.get("row_index", False)
        if known is None:
            return None
        fields, numeric, required = set(fields), set(numeric), set(required)
        if known:
            if known.covers(fields, numeric, required):
                return known
            fields |= known.bounds.keys()
            numeric |= known.numeric
            required |= known.required
        idx = scan(self.raw, self.data_start, len(self.columns), fields, numeric, required, checked=checked)
        self._cache["row_index"] = idx
        return idx

    def built_row_index(self) -> RowIndex | None:
        """The row index a call of :meth:`row_index` built already, or ``None`` if none did (or the rows are not
        plain CSV); never scans."""
        return self._cache.get("row_index")

    def _indexed(self) -> bool:
        """Whether the rows are read through the row index: no table was parsed (up front or since)."""
        return self.parsed is None and "table" not in self._cache

    @property
    def num_rows(self) -> int:
        """Data rows (the header is not counted)."""
        if self._indexed():
            idx = self.row_index()
            if idx is not None:
                return idx.rows
        return self.table.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        """The text values of column ``name``."""
        f = self.index[name]
        if self._indexed():
            idx = self.row_index(fields=[f])
            if idx is not None:
                return pa.chunked_array([idx.field_bytes(f).cast(pa.large_string())])  # type: ignore[attr-defined]
        return self.table.column(f)

    def numbers(self, name: str) -> np.ndarray:
        """Column ``name`` as float64, shape ``(num_rows,)`` (its values must have been checked numeric;
        computed once)."""
        cache: dict[str, np.ndarray] = self.cached("numbers", dict)
        if name not in cache:
            cache[name] = self._numbers(name)
        return cache[name]

    def _numbers(self, name: str) -> np.ndarray:
        f = self.index[name]
        idx = self.row_index(fields=[f]) if self._indexed() else None
        if idx is not None:  # checked numeric or not: _short_decimals vouches for every byte it reads
            values = _short_decimals(np.frombuffer(idx.data, dtype=np.uint8), *idx.field_range(f))
            if values is not None:
                return values
        return pc.cast(self.column(name), pa.float64()).to_numpy()

    def line_texts(self) -> pa.ChunkedArray:
        """Every data row's text without its line break (values as in the source, quoted where needed)."""
        idx = self.row_index() if self._indexed() else None
        if idx is not None:
            last = len(self.columns) - 1
            arr, template, k = idx.elements([(0, 0), (last, 1)], [((0, 0), (last, 1))], cache=False)
            lines = take_elements(arr, np.arange(idx.rows, dtype=np.int64), template, k)
            return pa.chunked_array([lines.cast(pa.large_string())])  # type: ignore[attr-defined]
        return pa.chunked_array([pc.binary_join_element_wise(*[c.combine_chunks() for c in self.table.columns], ",")])

    def with_source(self, source: SourceInfo) -> Dataset:
        """The same dataset with another identity (its hash known now), keeping everything computed (the
        whole cache: its entries are shared, not copied)."""
        other = replace(self, source=source)
        other._cache.update(self._cache)
        return other

    def line_of_row(self, row: int) -> int:
        """The 1-based line on which data row ``row`` (0-based) starts, counting the header, blank lines
        and quoted line breaks (a scan of the source: for error messages)."""
        plain = self.data_start >= 0 and self.row_index() is not None
        if not self.raw or plain:  # plain CSV: one line per row, no blank lines
            return row + 1 + self.header_lines + self.line_offset
        for index, line, _ in rows_with_lines(self.raw, self.header_lines):
            if index == row:
                return line + self.line_offset
        return row + 1 + self.header_lines + self.line_offset


def _short_decimals(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """The values of fields that are all ``d``, or all ``d.d`` (a digit; or a digit, a point and a digit:
    the 0/1 and 0.0/1.0 labels), computed from their bytes; ``None`` for any other form.  ``d.e`` is
    ``(10 d + e) / 10``, which IEEE division rounds to exactly ``float("d.e")``.

    Each field's first three bytes are read in one gather (a little-endian 4-byte word at its start: one cache
    miss a row, not three), where every field has four bytes of ``data`` from its start."""
    lengths = ends - starts
    if starts.size == 0 or int(starts.max()) + 4 > data.size:
        return _short_decimals_bytewise(data, starts, lengths)
    words = np.ndarray(shape=(data.size - 3,), dtype="<u4", buffer=data, strides=(1,))[starts]
    first = (words & 0xFF).astype(np.uint8) - np.uint8(48)
    if (first > 9).any():
        return None
    if (lengths == 1).all():
        return first.astype(np.float64)
    if not (lengths == 3).all() or ((words >> 8) & 0xFF != 46).any():
        return None
    last = ((words >> 16) & 0xFF).astype(np.uint8) - np.uint8(48)
    return _tenths(first, last)


def _short_decimals_bytewise(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray | None:
    """:func:`_short_decimals` a byte at a time (fields that end less than four bytes before the data does)."""
    first = data[starts] - np.uint8(48)
    if (first > 9).any():
        return None
    if (lengths == 1).all():
        return first.astype(np.float64)
    if not (lengths == 3).all() or (data[starts + 1] != 46).any():
        return None
    last = data[starts + 2] - np.uint8(48)
    return _tenths(first, last)


def _tenths(first: np.ndarray, last: np.ndarray) -> np.ndarray | None:
    """``first.last`` as float64 (digits, uint8), or ``None`` if a ``last`` is not a digit."""
    if (last > 9).any():
        return None
    tenths = first * np.uint8(10)
    tenths += last
    return tenths.astype(np.float64) / 10
