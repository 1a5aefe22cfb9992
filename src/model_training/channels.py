"""Render split rows as the files the training job and the evaluation stage read.

* ``train``/``validation`` channels: SageMaker's built-in XGBoost CSV format (``sagemaker-xgboost.md``,
  "Channel data"): the label in column 0, then the feature columns in source order, no header, no
  index, ``\\n`` line endings.
* ``test`` file: every source column (labels included), a header row, and the 0-based source row
  index as an unnamed first column, as the original wrote it with ``DataFrame.to_csv`` and as the
  evaluation stage reads it back (``index_col=0``).

Values are written with the exact text they had in the source.  Fields that contain a comma, a double
quote or a line break are quoted the way pandas' ``to_csv`` (``csv.QUOTE_MINIMAL``) quotes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_training.dataset import Dataset

#: Rows rendered per chunk: bounds the extra memory of rendering to a few tens of MB.
CHUNK_ROWS = 131_072
_NEEDS_QUOTES = r'[,"\r\n]'


def channel_columns(columns: Sequence[str], label: str, drop: Sequence[str]) -> list[str]:
    """The columns of a ``train``/``validation`` file: ``label`` first, then every other column in source
    order except ``label`` and ``drop``."""
    left_out = {label, *drop}
    return [label, *(c for c in columns if c not in left_out)]


def render_channel(dataset: Dataset, rows: np.ndarray, columns: Sequence[str]) -> Iterator[bytes]:
    """Yield the bytes of a channel file (no header) holding ``rows`` (source row indices, in output
    order) and ``columns``, in chunks of at most :data:`CHUNK_ROWS` rows.

    Each source row's line is rendered once, in source order (a sequential pass over the columns), and the
    split's rows are then gathered as whole lines: one random access per row instead of one per value,
    which is what makes a shuffled split fast."""
    lines = _channel_lines(dataset, tuple(columns))
    for start in range(0, len(rows), CHUNK_ROWS):
        yield _join_lines([lines.take(pa.array(rows[start : start + CHUNK_ROWS]))])


def render_test(dataset: Dataset, rows: np.ndarray) -> Iterator[bytes]:
    """Yield the bytes of the test file: a header row (an empty first name for the index column), then
    for each row its 0-based source index and every source column."""
    yield (",".join(["", *(_quote_text(c) for c in dataset.columns)]) + "\n").encode("utf-8")
    table = _render_ready(dataset)
    for start in range(0, len(rows), CHUNK_ROWS):
        idx = rows[start : start + CHUNK_ROWS]
        part = table.take(pa.array(idx))
        index_col = pc.cast(pa.array(idx, type=pa.int64()), pa.string())
        yield _join_lines([index_col, *(c.combine_chunks() for c in part.columns)])


def _channel_lines(dataset: Dataset, columns: tuple[str, ...]) -> pa.Array:
    """Every source row rendered as a channel line (without its line break), in source order; cached per
    column list, so train and validation share one rendering."""
    cache: dict[tuple[str, ...], pa.Array] = dataset.__dict__.setdefault("_channel_lines", {})
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
    cached = dataset.__dict__.get("_render_table")
    if cached is not None:
        return cached
    table = dataset.table
    if not dataset.raw or b'"' in dataset.raw:
        table = pa.table([_quoted(c) for c in table.columns], names=table.column_names)
    dataset.__dict__["_render_table"] = table
    return table


def _quoted(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    needs = pc.match_substring_regex(arr, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return arr
    escaped = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(needs, escaped, arr)


def _join_lines(cols: list[pa.Array]) -> bytes:
    if not cols or len(cols[0]) == 0:
        return b""
    lines = pc.binary_join_element_wise(*cols, ",")
    lines = pc.binary_join_element_wise(lines, "\n", "")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    data = lines.buffers()[2]
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()


def _quote_text(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
