"""A local job's channels read as the SageMaker XGBoost container reads them: every file under the channel's
folder up to 3 levels deep, names starting with ``_`` skipped, names starting with ``.`` failing the job, CSV with
the label in column 0, no header, an empty field a missing value; an empty channel fails the job.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from model_training.algorithm.hyperparameters import ParsedHyperparameters
from model_training.algorithm.labels import label_problem
from model_training.output.s3_store import S3Store
from model_training.training.failures import ChannelDataError, first_line
from model_training.training.xgboost_import import numpy_dmatrix
from model_training.uris import parse_s3_uri, path_from_uri

#: How many folder levels below a channel's folder the container reads files from.
MAX_CHANNEL_DEPTH = 3


def load_channel(name: str, uri: str, hp: ParsedHyperparameters) -> Any:
    """The channel ``name`` at ``uri`` (a folder or file; ``file://`` or ``s3://``) as an ``xgboost.DMatrix``, read
    as the container reads CSV: no header, the label in column 0 (then the weight, with ``csv_weights``), every
    column numeric, an empty field a missing value.

    Raises:
        ChannelDataError: no data files, a file that is not CSV, a column that is not numeric, files of
            different widths, no feature column, a row without a label, or labels the objective refuses.
    """
    return load_files(name, uri, channel_files(name, uri), hp)


def load_files(name: str, uri: str, files: list[tuple[str, Callable[[], bytes]]], hp: ParsedHyperparameters) -> Any:
    """The files ``files`` (``(relative name, reader)`` of :func:`channel_files`) of channel ``name`` at ``uri`` as
    one ``xgboost.DMatrix``, read as :func:`load_channel` reads a whole channel (one host's share of it, in a job
    of several instances).

    Raises:
        ChannelDataError: as :func:`load_channel`.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not files:
        raise ChannelDataError(f"the {name} channel at {uri} has no data files")
    tables = []
    for rel, read in files:
        data = read()
        if not data:
            continue
        try:
            table = pacsv.read_csv(pa.py_buffer(data), read_options=pacsv.ReadOptions(autogenerate_column_names=True))
        except pa.ArrowInvalid as exc:
            raise ChannelDataError(f"{name} channel file {rel}: {first_line(exc)}") from None
        bad = [
            i
            for i, t in enumerate(table.schema.types)
            if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t))
        ]
        if bad:
            raise ChannelDataError(f"{name} channel file {rel}: column {bad[0]} is not numeric")
        tables.append(table)
    if not tables:
        raise ChannelDataError(f"the {name} channel at {uri} is empty (0 bytes)")
    widths = {t.num_columns for t in tables}
    if len(widths) > 1:
        raise ChannelDataError(f"the {name} channel's files have different column counts: {sorted(widths)}")
    matrix = np.concatenate([_float32_rows(t) for t in tables])
    first_feature = 2 if hp.csv_weights else 1
    if matrix.shape[1] <= first_feature:
        raise ChannelDataError(f"the {name} channel has no feature columns")
    label = matrix[:, 0]
    if np.isnan(label).any():
        raise ChannelDataError(f"the {name} channel has rows without a label (column 0 is empty)")
    _check_labels(name, label, hp)
    weight = matrix[:, 1] if hp.csv_weights else None
    return numpy_dmatrix(matrix[:, first_feature:], label=label, weight=weight, missing=np.nan, nthread=-1)


def _float32_rows(table: Any) -> Any:
    """``table`` (numeric or all-null columns) as a C-ordered ``float32`` matrix of shape (rows, columns), a null
    ``NaN``: each value cast as numpy's ``astype(float32)`` casts it (to the nearest ``float32``).

    Through Arrow's own cast and ``RecordBatch.to_tensor`` (pyarrow 16), not ``Array.to_numpy``, which imports
    pandas (0.2-0.5 s) to convert one column."""
    import numpy as np
    import pyarrow as pa

    as_float32 = table.cast(pa.schema([pa.field(n, pa.float32()) for n in table.column_names]), safe=False)
    batches = [np.asarray(b.to_tensor(null_to_nan=True, row_major=True)) for b in as_float32.to_batches() if b.num_rows]
    if not batches:
        return np.empty((0, table.num_columns), dtype=np.float32)
    return batches[0] if len(batches) == 1 else np.concatenate(batches)


def _check_labels(name: str, label: Any, hp: ParsedHyperparameters) -> None:
    """Raise :class:`ChannelDataError` naming the first row whose label the objective refuses."""
    problem = label_problem(label, hp.objective, hp.num_class)
    if problem:
        row, reason = problem
        raise ChannelDataError(f"{reason} (row {row + 1} of the {name} channel)")


def channel_files(name: str, uri: str) -> list[tuple[str, Callable[[], bytes]]]:
    """The channel's data files as ``(relative name, reader)``, by the container's rules: every object
    under the prefix up to 3 folder levels deep, names starting with ``_`` skipped, ``.`` refused."""
    found: list[tuple[str, Callable[[], bytes]]] = []
    if uri.startswith("s3://"):
        bucket, prefix = parse_s3_uri(uri)
        store = S3Store(bucket)
        for key in store.list(prefix):
            found.append((key[len(prefix.rstrip("/")) + 1 :], functools.partial(store.read_bytes, key)))
    else:
        root = path_from_uri(uri)
        if root.is_file():
            return [(root.name, root.read_bytes)]
        if not root.is_dir():
            raise ChannelDataError(f"the {name} channel folder {root} does not exist")
        for path in sorted(root.rglob("*")):
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path.read_bytes))
    files = []
    for rel, read in sorted(found):
        parts = rel.split("/")
        if len(parts) > MAX_CHANNEL_DEPTH + 1 or any(part.startswith("_") for part in parts):
            continue
        if any(part.startswith(".") for part in parts):
            raise ChannelDataError(f"the {name} channel holds a hidden file {rel!r}, which fails the container")
        files.append((rel, read))
    return files
