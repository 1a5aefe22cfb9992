"""Render split rows as the files the training job and the evaluation stage read.

* ``train``/``validation`` channels: SageMaker's built-in XGBoost CSV format (``text/csv``, as the
  algorithm's documentation and its container's CSV reader define it): the label in column 0, then the
  feature columns in source order, no header, no index, ``\\n`` line endings.
* ``test`` file: every source column (labels included), a header row, and the 0-based source row
  index as an unnamed first column, as pandas' ``DataFrame.to_csv`` writes it and as the evaluation
  stage reads it back (``index_col=0``).  A source that has an index column of its own (a pandas
  ``to_csv()`` without ``index=False``, or a test file fed back: see :mod:`model_training.validation`) keeps
  it as the test file's index column instead of the row numbers: the file is what pandas writes for
  ``read_csv(source, index_col=0).iloc[rows]``, one index column, never two.

Values are written with the exact text they had in the source.  Fields that contain a comma, a double
quote or a line break are quoted the way pandas' ``to_csv`` (``csv.QUOTE_MINIMAL``) quotes them.

Each channel is written as one or more part files (:func:`~model_training.ports.split_files`, :func:`part_count`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_training.config.run import RunConfig
from model_training.data.dataset import Dataset
from model_training.data.gather import int64_array, memory_pool
from model_training.ports import split_files as split_files  # the split methods name their files by it

#: Rows rendered per chunk: bounds the extra memory of rendering to a few tens of MB.
CHUNK_ROWS = 32_768
_NEEDS_QUOTES = r'[,"\r\n]'


def part_count(rows: int, total_rows: int, source_bytes: int, config: RunConfig) -> int:
    """How many part files a channel of ``rows`` rows is written as: enough to keep each near
    ``part_size_mb`` (estimated from the source's ``source_bytes`` over ``total_rows``), and with
    ``instance_count`` > 1 a multiple of the instances (at least one each), so that ``ShardedByS3Key``, which
    gives each instance every N-th object, gives every instance the same number of parts (rows within one
    row a part); never more parts than rows.  One part (``part-00000``) in the common case."""
    estimate = source_bytes * rows / max(total_rows, 1)
    by_size = max(1, int(np.ceil(estimate / (config.training.part_size_mb * 2**20))))
    instances = config.training.instance_count
    if instances > 1:
        by_size = -(-by_size // instances) * instances  # rounded up to a multiple of the instances
    return max(1, min(rows, by_size))


def channel_columns(columns: Sequence[str], label: str, drop: Sequence[str]) -> list[str]:
    """The columns of a ``train``/``validation`` file: ``label`` first, then every other column in source
    order except ``label`` and ``drop``."""
    left_out = {label, *drop}
    return [label, *(c for c in columns if c not in left_out)]


Cut = tuple[int, int]


def channel_pieces(dataset: Dataset, columns: Sequence[str]) -> tuple[list[Cut], list[tuple[Cut, Cut]]]:
    """How a channel line is cut out of a source line (see :meth:`~model_training.data.rowindex.RowIndex.elements`):
    the label field, a comma, each run of consecutive kept fields (commas between them included), and the
    line break; returns ``(cuts, pieces)``."""
    ncols = len(dataset.columns)
    label = dataset.index[columns[0]]
    kept = [dataset.index[c] for c in columns[1:]]
    runs: list[list[int]] = []
    for f in kept:
        if runs and f == runs[-1][1] + 1:
            runs[-1][1] = f
        else:
            runs.append([f, f])
    # a source comma to put between pieces: the one after the label, or after a run
    ends = [label, *(b for _, b in runs)]
    comma = next((f for f in ends if f < ncols - 1), 0)
    comma_piece = ((comma, 1), (comma, 2))
    pieces = [((label, 0), (label, 1))]
    for a, b in runs:
        pieces += [comma_piece, ((a, 0), (b, 1))]
    pieces.append(((ncols - 1, 1), (ncols - 1, 2)))
    cuts = sorted({cut for piece in pieces for cut in piece})
    return cuts, pieces


def cut_fields(cuts: Sequence[tuple[int, int]], ncols: int) -> list[int]:
    """The fields whose positions a row index needs for ``cuts`` (a line's start and end it has anyway)."""
    return sorted({f for f, side in cuts if not (side == 0 and f == 0) and not (side >= 1 and f == ncols - 1)})


def render_channel(dataset: Dataset, rows: np.ndarray, columns: Sequence[str]) -> Iterator[memoryview]:
    """Yield the bytes of a channel file (no header) holding ``rows`` (source row indices, in output
    order) and ``columns``, in chunks of at most :data:`CHUNK_ROWS` rows (see :func:`render_rows`)."""
    yield from _prefetched(lambda part: render_rows(dataset, part, columns)[0], rows)


def render_test(
    dataset: Dataset, rows: np.ndarray, index_base: int = 0, *, source_index: bool = False
) -> Iterator[bytes | memoryview]:
    """Yield the bytes of the test file: :func:`test_header`, then the rows (see :func:`render_rows`)."""
    yield test_header(dataset.columns, source_index=source_index)
    yield from _prefetched(lambda part: render_rows(dataset, part, None, index_base, source_index=source_index)[0], rows)


def test_header(columns: Sequence[str], *, source_index: bool = False) -> bytes:
    """The test file's header row: an empty name for the index column, then the source's column names (but its
    own index column's, with ``source_index``: that column is the index)."""
    names = columns[1:] if source_index else columns
    return (",".join(["", *(_quote_text(c) for c in names)]) + "\n").encode("utf-8")


def render_rows(
    dataset: Dataset, rows: np.ndarray, columns: Sequence[str] | None, index_base: int = 0, *, source_index: bool = False
) -> tuple[memoryview, np.ndarray]:
    """Render ``rows`` (indices into ``dataset``, in output order) as channel lines of ``columns``, or, with
    ``columns=None``, as test-file lines (the row's source index ``index_base + row``, then every source
    column; with ``source_index``, the source's first column is its index: every source column as it is).
    The one renderer of both the in-memory and the streaming split: a line depends only on its source row (and
    its index), which is what makes the two modes byte-identical.

    Plain CSV: each line is cut out of the source bytes (label, comma, runs of kept fields, line break)
    by one pyarrow ``take``.  Otherwise every source row's line is rendered once from the parsed table
    (quoted where needed) and gathered.

    Returns:
        ``(data, offsets)``: the lines back to back, and ``len(rows) + 1`` int64 offsets into ``data``
        where each row's line starts (the last is ``len(data)``).
    """
    if len(rows) == 0:
        return memoryview(b""), np.zeros(1, dtype=np.int64)
    ncols = len(dataset.columns)
    if columns is not None:
        cuts, pieces = channel_pieces(dataset, columns)
        idx = dataset.row_index(fields=cut_fields(cuts, ncols))
        if idx is not None:
            return _with_row_offsets(*idx.take_rows(rows, cuts, pieces))
        lines = _channel_lines(dataset, tuple(columns)).take(int64_array(rows))
        return _with_row_offsets(pc.binary_join_element_wise(lines, "\n", ""), 1)
    last = ncols - 1
    numbers = int64_array(rows.astype(np.int64) + index_base).cast(pa.large_string()).cast(pa.large_binary())  # type: ignore[attr-defined]
    idx = dataset.row_index()
    if idx is not None:
        lines, per_row = idx.take_rows(rows, [(0, 0), (last, 2)], [((0, 0), (last, 2))])
        if source_index:
            return _with_row_offsets(lines, per_row)
        comma = _binary_scalar(b",")
        return _with_row_offsets(pc.binary_join_element_wise(numbers, lines, comma, memory_pool=memory_pool()), 1)
    part = _render_ready(dataset).take(int64_array(rows))
    cols = [
        *(() if source_index else (numbers.cast(pa.large_string()),)),
        *(c.combine_chunks().cast(pa.large_string()) for c in part.columns),
    ]
    joined = pc.binary_join_element_wise(*cols, pa.scalar(",", pa.large_string()))
    return _with_row_offsets(
        pc.binary_join_element_wise(joined, pa.scalar("\n", pa.large_string()), pa.scalar("", pa.large_string())), 1
    )


def _binary_scalar(value: bytes) -> object:
    """``pa.scalar(value, pa.large_binary())`` without ``pa.scalar``'s look for pandas (see
    :func:`~model_training.data.gather.int64_array`)."""
    offsets = np.array([0, len(value)], dtype=np.int64)
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, pa.py_buffer(offsets), pa.py_buffer(value)])[0]


def _with_row_offsets(arr: object, per_row: int) -> tuple[memoryview, np.ndarray]:
    """The data of a binary/string array with ``per_row`` elements per row, and each row's offset."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    width = np.int64 if pa.types.is_large_binary(arr.type) or pa.types.is_large_string(arr.type) else np.int32  # type: ignore[attr-defined]
    bufs = arr.buffers()  # type: ignore[attr-defined]
    offsets = np.frombuffer(bufs[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]  # type: ignore[attr-defined, arg-type]
    rows = offsets[::per_row].astype(np.int64) - int(offsets[0])
    data = memoryview(bufs[2])[int(offsets[0]) : int(offsets[-1])] if bufs[2] is not None else memoryview(b"")
    return data, rows


def _prefetched(render: Callable[[np.ndarray], memoryview], rows: np.ndarray) -> Iterator[memoryview]:
    """``render`` each chunk of :data:`CHUNK_ROWS` rows, two ahead on two threads (pyarrow's ``take``
    releases the GIL), yielding the results in order: memory stays at a few chunks."""
    if len(rows) <= CHUNK_ROWS:
        if len(rows):
            yield render(rows)
        return
    with ThreadPoolExecutor(2) as pool:
        pending: deque[Future[memoryview]] = deque()
        for start in range(0, len(rows), CHUNK_ROWS):
            pending.append(pool.submit(render, rows[start : start + CHUNK_ROWS]))
            if len(pending) > 2:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _channel_lines(dataset: Dataset, columns: tuple[str, ...]) -> pa.Array:
    """Every source row rendered as a channel line (without its line break), in source order; cached per
    column list, so train and validation share one rendering."""
    cache: dict[tuple[str, ...], pa.Array] = dataset.cached("channel_lines", dict)
    if columns not in cache:
        table = _render_ready(dataset)
        joined = pc.binary_join_element_wise(*[table.column(dataset.index[c]) for c in columns], ",")
        cache.clear()  # one rendering at a time: memory stays at one copy of the data
        cache[columns] = joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined
    return cache[columns]


def _render_ready(dataset: Dataset) -> pa.Table:
    """The dataset's table with every value in its CSV form (quoted where needed), computed once.

    A value needs quotes only if it holds a comma, a quote or a line break; in a source without a single
    ``"`` byte, none can (such a value would have had to be quoted in the source), so the check is skipped.
    """

    def render() -> pa.Table:
        table = dataset.table
        if not dataset.raw or dataset.raw.find(b'"') >= 0:
            table = pa.table([_quoted(c) for c in table.columns], names=table.column_names)
        return table

    return dataset.cached("render_table", render)


def _quoted(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    needs = pc.match_substring_regex(arr, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return arr
    escaped = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(needs, escaped, arr)


def _quote_text(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
