"""A byte-level index of a CSV's data rows, and a vectorised check that numeric fields are numbers.

This is what makes the split run near I/O speed: instead of parsing 100 million values into pyarrow
strings (about 40 ns each), the data rows are indexed by the positions of their line breaks and commas,
found with numpy in blocks of :data:`BLOCK_BYTES` on every core, and every value of the numeric columns is
checked against :data:`~model_training.data.checks.NUMERIC_PATTERN` with a handful of byte-wise passes
(:func:`~model_training.data.numeric_bytes.numbers_ok`).  A row's output line is then cut out
of the source bytes (:meth:`RowIndex.elements`, :func:`~model_training.data.gather.take_elements`), so values
keep their source text.

The index applies to the plain CSV that pre-processing writes: no ``"`` and no carriage return in the
data rows, no blank lines, the header's number of fields on every row.  Anything else (and any value the
byte check cannot vouch for) returns ``None`` / ``numeric_ok=False``, and the caller takes the general
pyarrow path, which gives the exact error or the same bytes.  The check errs only that way: a value it
accepts matches the pattern (``tests/test_rowindex.py`` compares the two on random and adversarial text).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from model_training.data.line_ends import located_from_line_ends
from model_training.data.numeric_bytes import MAX_FIELD_BYTES, numbers_ok

#: Bytes per block of the scan: small enough for the byte masks to stay in a core's L2 cache.
BLOCK_BYTES = 1 << 20
_NL, _COMMA, _DOT, _QUOTE, _CR = 10, 44, 46, 34, 13
__all__ = ["MAX_FIELD_BYTES", "RowIndex", "scan"]


@dataclass
class RowIndex:
    """Where every data row, and the fields asked for, are in the source bytes.

    Attributes:
        data: the source bytes (ending with ``\\n``).
        ncols: the header's number of fields.
        starts: ``(rows,)`` int64, byte offset of each data row's first byte.
        ends: ``(rows,)`` int64, byte offset of each data row's ``\\n``.
        bounds: field number -> ``(start, end)`` int64 arrays of ``(rows,)``: the field's bytes are
            ``data[start:end]`` (see :meth:`field_range` for any field located, the first and last too).
        numeric: the field numbers checked to be numbers; ``numeric_ok`` says whether all of them passed.
        required: the numeric fields checked to be non-empty as well.
    """

    data: bytes
    ncols: int
    starts: np.ndarray
    ends: np.ndarray
    bounds: dict[int, tuple[np.ndarray, np.ndarray]]
    numeric: frozenset[int] = frozenset()
    required: frozenset[int] = frozenset()
    numeric_ok: bool = True
    _elements: dict[tuple[tuple[int, int], ...], object] = field(default_factory=dict, repr=False)

    @property
    def rows(self) -> int:
        """Number of data rows."""
        return int(self.starts.size)

    def covers(self, fields: Iterable[int], numeric: Iterable[int] = (), required: Iterable[int] = ()) -> bool:
        """Whether this index already locates ``fields`` and checked ``numeric`` (and ``required``)."""
        return set(fields) <= self.bounds.keys() and set(numeric) <= self.numeric and set(required) <= self.required

    def field_range(self, f: int) -> tuple[np.ndarray, np.ndarray]:
        """``(start, end)`` byte offsets of field ``f`` in every row (it must have been located, or be the
        first or last field)."""
        return self._position(f, 0), self._position(f, 1)

    def field_bytes(self, f: int) -> object:
        """Field ``f`` of every row, as a pyarrow ``large_binary`` array of ``rows`` values (gathered with
        numpy into one new buffer: for the label and key columns, which are short)."""
        import pyarrow as pa

        fs, fe = self.field_range(f)
        lengths = fe - fs
        offsets = np.zeros(self.rows + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        total = int(offsets[-1])
        source = np.repeat(fs - offsets[:-1], lengths)
        source += np.arange(total, dtype=np.int64)
        values = np.frombuffer(self.data, dtype=np.uint8)[source]
        return pa.LargeBinaryArray.from_buffers(pa.large_binary(), self.rows, [None, pa.py_buffer(offsets), pa.py_buffer(values)])

    def elements(
        self,
        cuts: Sequence[tuple[int, int]],
        pieces: Sequence[tuple[tuple[int, int], tuple[int, int]]],
        *,
        cache: bool = True,
    ) -> tuple[object, np.ndarray, int]:
        """A ``large_binary`` array that cuts every row at ``cuts``, and the template that renders
        ``pieces`` (in order) from one row's elements.

        A cut ``(f, 0)`` is the start of field ``f``, ``(f, 1)`` its end (the comma or the line break after
        it), ``(f, 2)`` one byte later.  The array has ``K`` elements per row (``K`` = distinct cuts, the
        line's start always included; the next line's start is the next row's first cut, since plain rows
        have no blank line between them) and is built without copying the data: element ``i*K + e`` is
        ``data[cut_e : cut_e+1]`` (its last element ends where the next row starts).

        Returns:
            ``(array, template, K)``: row ``i``'s output is the concatenation of elements
            ``i*K + template``.
        """
        import pyarrow as pa

        symbols = _symbols(cuts, self.ncols)
        key = tuple(symbols)
        arr = self._elements.get(key)
        template = _template(symbols, pieces, self.ncols)
        if arr is None:
            n, k = self.rows, len(symbols)
            offsets = np.empty(n * k + 1, dtype=np.int64)
            grid = offsets[: n * k].reshape(n, k)
            for j, (f, side) in enumerate(symbols):
                grid[:, j] = self._position(f, side)
            offsets[-1] = self.ends[-1] + 1
            arr = pa.LargeBinaryArray.from_buffers(
                pa.large_binary(), n * k, [None, pa.py_buffer(offsets), pa.py_buffer(self.data)]
            )
            if cache:
                self._elements.clear()  # one cut layout at a time: the offsets are rows x K x 8 bytes
                self._elements[key] = arr
        return arr, template, len(symbols)

    def take_rows(
        self, rows: np.ndarray, cuts: Sequence[tuple[int, int]], pieces: Sequence[tuple[tuple[int, int], tuple[int, int]]]
    ) -> tuple[object, int]:
        """The rendering of ``rows`` (row numbers, in output order) that :meth:`elements` and
        :func:`~model_training.data.gather.take_elements` give, without the whole file's element array: only these
        rows' cuts are gathered (``len(rows) x (K + 1)`` offsets, against ``rows x K`` for the whole file: 82 MB
        on 2 million rows of 5 cuts), then their pieces taken.

        Returns:
            ``(array, per_row)``: a ``large_binary`` array of ``len(rows) * per_row`` elements, each row's in turn
            (their concatenation is the row's rendering).
        """
        import pyarrow as pa

        from model_training.data.gather import take_elements

        symbols = _symbols(cuts, self.ncols)
        template = _template(symbols, pieces, self.ncols)
        rows = rows.astype(np.int64, copy=False)
        m, k = rows.size, len(symbols) + 1
        # per row: its K cuts, then the start of the next line; the element from there to the next row's first
        # cut (a gap, of any length, never taken) joins the rows into one array over the source bytes
        offsets = np.empty(m * k + 1, dtype=np.int64)
        grid = offsets[: m * k].reshape(m, k)
        for j, (f, side) in enumerate(symbols):
            grid[:, j] = self._position_at(f, side, rows)
        grid[:, -1] = self.ends[rows] + 1
        offsets[-1] = len(self.data)  # pyarrow checks that the offsets end at or after where they start
        arr = pa.LargeBinaryArray.from_buffers(pa.large_binary(), m * k, [None, pa.py_buffer(offsets), pa.py_buffer(self.data)])
        return take_elements(arr, np.arange(m, dtype=np.int64), template, k), len(template)

    def _position_at(self, f: int, side: int, rows: np.ndarray | slice) -> np.ndarray:
        """The byte offsets of cut ``(f, side)`` (:meth:`elements`) in the rows ``rows`` (row numbers, or a slice)."""
        if side == 0:
            if f == 0:
                return self.starts[rows]
            return self.bounds[f][0][rows] if f in self.bounds else self.bounds[f - 1][1][rows] + 1
        if f == self.ncols - 1:
            end = self.ends[rows]
        else:
            end = self.bounds[f][1][rows] if f in self.bounds else self.bounds[f + 1][0][rows] - 1
        return end if side == 1 else end + 1

    def _position(self, f: int, side: int) -> np.ndarray:
        """The byte offsets of cut ``(f, side)`` in every row."""
        return self._position_at(f, side, slice(None))


def _name(cut: tuple[int, int], ncols: int) -> tuple[int, int]:
    # (f, 2) and (f + 1, 0) are the same byte: one name for it, so that no element is counted twice
    f, side = cut
    return (f + 1, 0) if side == 2 and f + 1 < ncols else cut


def _symbols(cuts: Iterable[tuple[int, int]], ncols: int) -> list[tuple[int, int]]:
    return sorted(({_name(c, ncols) for c in cuts} | {(0, 0)}) - {(ncols - 1, 2)})


def _template(
    symbols: list[tuple[int, int]], pieces: Iterable[tuple[tuple[int, int], tuple[int, int]]], ncols: int
) -> np.ndarray:
    """The elements (of one row's ``len(symbols)`` cut at ``symbols``, the last ending at the next line) whose
    concatenation renders ``pieces``, in order."""
    position = {s: k for k, s in enumerate(symbols)}
    position[(ncols - 1, 2)] = len(symbols)
    return np.concatenate([np.arange(position[_name(a, ncols)], position[_name(b, ncols)], dtype=np.int64) for a, b in pieces])


# ------------------------------------------------------------------------------------------------ scan


def scan(
    data: bytes,
    start: int,
    ncols: int,
    fields: Iterable[int] = (),
    numeric: Iterable[int] = (),
    required: Iterable[int] = (),
    *,
    checked: bool = False,
) -> RowIndex | None:
    """Index the data rows of ``data`` (which start at byte ``start``) and check the numeric fields.

    Args:
        data: the source bytes; must end with ``\\n``.
        ncols: the header's number of fields (at least 2).
        fields: field numbers (0-based) whose positions are wanted.
        numeric: field numbers whose every value must match
            :data:`~model_training.data.checks.NUMERIC_PATTERN` (an empty value is allowed unless the field is
            also in ``required``); values in other fields are not looked at.
        required: numeric fields that must not be empty.
        checked: these bytes' rows were checked before (the streaming split's pass 2: pass 1 checked them, and
            the bytes must hash the same), and no value is to be checked: the fields asked for are then located
            by walking from each line's ends where they are among the first or last four
            (:func:`~model_training.data.line_ends.located_from_line_ends`), instead of by finding every comma.

    Returns:
        The index, with ``numeric_ok`` False if a value may be invalid (the caller then runs the exact
        check for the error message); ``None`` if the rows are not plain CSV (a quote, a carriage return,
        a blank line, a row with a different number of fields, non-UTF-8 bytes): the caller takes the
        general path.  Work is spread over the machine's cores (numpy releases the GIL).
    """
    if ncols < 2 or data[-1:] != b"\n" or start >= len(data):
        return None
    fields = sorted(set(fields) | set(required))
    numeric_set, required_set = frozenset(numeric), frozenset(required)
    a = np.frombuffer(data, dtype=np.uint8)
    blocks = list(_blocks(data, start))
    workers = min(len(blocks), os.cpu_count() or 1, 8)

    quick = checked and not numeric_set

    def one(block: tuple[int, int]) -> _Block | None:
        return _scan_block(a, block[0], block[1], ncols, fields, numeric_set, required_set, quick)

    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, blocks))
    else:
        results = [one(b) for b in blocks]
    if any(r is None for r in results):
        return None
    parts: list[_Block] = results  # type: ignore[assignment]
    starts = np.concatenate([p.starts for p in parts])
    ends = np.concatenate([p.ends for p in parts])
    bounds = {}
    for f in fields:  # one array at a time, freeing the blocks' pieces as it goes: peak memory stays low
        bounds[f] = (np.concatenate([p.bounds[f][0] for p in parts]), np.concatenate([p.bounds[f][1] for p in parts]))
        for p in parts:
            del p.bounds[f]
    return RowIndex(
        data=data,
        ncols=ncols,
        starts=starts,
        ends=ends,
        bounds=bounds,
        numeric=numeric_set,
        required=required_set,
        numeric_ok=all(p.numeric_ok for p in parts),
    )


@dataclass
class _Block:
    starts: np.ndarray
    ends: np.ndarray
    bounds: dict[int, tuple[np.ndarray, np.ndarray]]
    numeric_ok: bool


def _blocks(data: bytes, start: int) -> Iterable[tuple[int, int]]:
    """``[s, e)`` ranges of about :data:`BLOCK_BYTES` that end just after a ``\\n``."""
    size = len(data)
    s = start
    while s < size:
        e = data.find(b"\n", min(s + BLOCK_BYTES, size) - 1)
        e = size if e < 0 else e + 1
        yield s, e
        s = e


def _scan_block(
    a: np.ndarray,
    s: int,
    e: int,
    ncols: int,
    fields: list[int],
    numeric: frozenset[int],
    required: frozenset[int],
    quick: bool = False,
) -> _Block | None:
    c = a[s:e]
    is_nl = c == _NL
    nl = np.flatnonzero(is_nl)
    starts = np.empty_like(nl)
    starts[0] = 0
    starts[1:] = nl[:-1] + 1
    if quick:  # rows checked before: the commas counted, not found (unless the walk does not pay)
        if int(np.count_nonzero(c == _COMMA)) != nl.size * (ncols - 1) or _not_plain_text(c):
            return None
        located = located_from_line_ends(c, starts, nl, ncols, fields)
        if located is not False:
            return None if located is None else _Block(starts=starts + s, ends=nl + s, bounds={
                f: (fs + s, fe + s) for f, (fs, fe) in located.items()}, numeric_ok=True)  # fmt: skip
    is_comma = c == _COMMA
    commas = np.flatnonzero(is_comma)
    if commas.size != nl.size * (ncols - 1):
        return None
    grid = commas.reshape(nl.size, ncols - 1)
    # with the right total, "every row's commas lie inside the row" means every row has ncols - 1 of them
    # (and no row is blank: pyarrow would skip it, the general path does the same)
    if (grid[:, 0] < starts).any() or (grid[:, -1] > nl).any():
        return None
    bounds: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for f in fields:
        fs = starts if f == 0 else grid[:, f - 1] + 1
        fe = nl if f == ncols - 1 else grid[:, f]
        bounds[f] = (fs + s, fe + s)
    ok = True
    digit = (c - np.uint8(48)) < 10
    dot = c == _DOT
    # only digits, '.', ',' and line breaks (ASCII, no sign, no exponent): counted, not or-ed (faster)
    plain = int(np.count_nonzero(digit)) + int(np.count_nonzero(dot)) + commas.size + nl.size == c.size
    if not plain and _not_plain_text(c):
        return None
    if numeric:
        delim = None if plain else is_comma | is_nl
        ok = numbers_ok(c, nl, starts, commas, grid, bounds, numeric, required, digit, dot, delim)
    return _Block(starts=starts + s, ends=nl + s, bounds=bounds, numeric_ok=ok)


def _not_plain_text(c: np.ndarray) -> bool:
    """Whether block ``c`` holds a quote or a carriage return (quoted fields, CR line ends) or bytes that are not
    UTF-8: rows for pyarrow's parser.  Valid UTF-8 never splits a line, so a block decodes on its own."""
    if (c == _QUOTE).any() or (c == _CR).any():
        return True
    if c.max() >= 0x80:
        try:
            c.tobytes().decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False
