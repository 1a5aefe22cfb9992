"""The streaming split's pass 1 (:func:`first_pass`): every chunk of the source validated by the functions the
in-memory split uses, its rows counted, its classes and what the strategy needs of each row kept, the source hashed
as it is read (:class:`FirstPass`); :mod:`~model_training.split.streaming` makes the other two passes.  The errors
are the in-memory split's, in its order: the rows' structure and numbers first, then the labels' fit (with the
hint drawn from every label), whichever chunk each is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model_training.algorithm.labels import MAX_SUGGESTED_CLASSES, is_classification
from model_training.config.run import RunConfig
from model_training.data.checks import NonNumericError
from model_training.data.chunks import ChunkSource, chunk_datasets, read_ahead
from model_training.errors import DatasetError
from model_training.hashing import HashBehind
from model_training.ports import SourceInfo
from model_training.progress import Reporter
from model_training.split.inputs import merge_inputs, strategy_input
from model_training.split.labels import class_codes
from model_training.validation.columns import index_column, index_note, inferred_drop, output_columns
from model_training.validation.rows import (
    LabelFitProblem,
    check_rows,
    column_problems,
    index_rows,
    label_fit_problem,
    numeric_error,
)


@dataclass
class FirstPass:
    """What pass 1 found of the source and keeps for passes 2 and 3 (:func:`first_pass`).

    Attributes:
        rows: the data rows.
        header: the header's bytes, line break included (each chunk of pass 2 is parsed with it in front).
        columns: the ``train``/``validation`` columns, label first.
        labels_first: the first row's label (for a message).
        inputs: what the strategy needs of every row (:func:`~model_training.split.inputs.merge_inputs`), until
            the plan is made.
    """

    rows: int
    header: bytes
    columns: list[str]
    labels_first: float
    classes: np.ndarray  # the distinct labels under a classification objective (binary: the smallest three), else empty
    drop: tuple[str, ...] | None  # inferred_drop
    inputs: Any
    sha256: str
    size_bytes: int  # the bytes read (and hashed)
    source_index: bool  # the source's first column is its index (the test file's index column)
    codes: np.ndarray | None = None  # under a classification objective, every row's class in a byte (class_codes)


def first_pass(source: ChunkSource, info: SourceInfo, config: RunConfig, hp: Any, chunk_bytes: int, rep: Reporter) -> FirstPass:
    """Pass 1: validate every chunk; count the rows; keep the strategy's per-row inputs.  Columns holding a value
    that is not a number are reported together, as in memory: after the first, the rest of the source is read for
    the other columns' first such values.  The returned ``sha256`` and ``size_bytes`` are of the bytes read.

    Raises:
        DatasetError: a row or column the run cannot use (as in memory), or no data rows.
    """
    digest = HashBehind()
    rows = 0
    header = b""
    columns: list[str] = []
    classes = np.zeros(0)
    classify = is_classification(hp.objective)
    binary = (hp.objective or "").startswith("binary:")
    drop: tuple[str, ...] | None = None
    first_label = 0.0
    inputs: list[Any] = []
    codes: list[np.ndarray] | None = [] if classify else None  # class_codes of each chunk, while all have them
    source_index = False
    bad: dict[str, NonNumericError] = {}  # column -> its first value that is not a number
    deferred: LabelFitProblem | None = None  # the first label that does not fit: reported once every row is checked
    values = _DistinctLabels()
    with rep.task("validating (pass 1 of 3)", total=info.size_bytes, unit="bytes") as advance:
        chunks = read_ahead(
            chunk_datasets(source, info, chunk_bytes, digest),
            lambda item: index_rows(item[0], output_columns(item[0], config), config),  # what validate_rows indexes
        )
        for dataset, chunk, head in chunks:
            header = head
            if not columns:
                columns = output_columns(dataset, config)
                drop = inferred_drop(dataset, config)
                source_index = index_column(dataset, config) is not None
                if note := index_note(dataset, config):
                    rep.info(note)
            if bad or deferred is not None:  # the split is refused: only what in memory reports first is looked for
                index_rows(dataset, columns, config, check=False)  # a malformed row is reported as in memory
                bad.update((str(p.column), p) for p in column_problems(dataset, columns, config, skip=bad.keys()))
                if not bad and deferred is not None:  # a label that did not fit: in memory, numbers come first
                    labels = dataset.numbers(config.label)
                    values.add(labels)
                    later = label_fit_problem(dataset, config, hp, labels)
                    if deferred.stratified and later is not None and not later.stratified:
                        deferred = later  # in memory, the objective's rule is checked on every row first
            else:
                try:
                    check_rows(dataset, columns, config, hp)
                except DatasetError as exc:
                    found = exc.errors or (exc,)
                    if not all(isinstance(p, NonNumericError) for p in found):
                        raise
                    bad = {str(p.column): p for p in found if isinstance(p, NonNumericError)}
                else:
                    labels = dataset.numbers(config.label)
                    distinct = values.add(labels)
                    deferred = label_fit_problem(dataset, config, hp, labels)
                    if deferred is None:
                        if rows == 0:
                            first_label = float(labels[0])
                        if classify:  # the classes only: a continuous label's distinct values are as many as its rows
                            classes = np.union1d(classes, np.unique(labels) if distinct is None else distinct)
                            if binary and classes.size > 3:  # enough to tell 0/1 classes from probabilities (counts_classes)
                                classes = classes[:3]
                        inputs.append(strategy_input(dataset, config, labels))
                        if codes is not None:
                            chunk_codes = class_codes(labels)
                            codes = None if chunk_codes is None else [*codes, chunk_codes]
            rows += dataset.num_rows
            advance(len(chunk))
    if bad:
        position = {name: i for i, name in enumerate(columns)}
        raise numeric_error(sorted(bad.values(), key=lambda p: position[str(p.column)]), config, drop, hp.objective)
    if deferred is not None:  # its hint drawn from every label, as in memory
        raise deferred.reported(values.values, hp.objective)
    sha = digest.hexdigest()
    if rows == 0:
        raise DatasetError("the file has a header but no data rows", "upload a CSV file with data rows", uri=info.uri)
    merged = merge_inputs(inputs)
    kept = np.concatenate(codes) if codes else None
    return FirstPass(rows, header, columns, first_label, classes, drop, merged, sha, digest.size_bytes, source_index, kept)


class _DistinctLabels:
    """The distinct labels of the rows seen, as far as a hint's suggested objective needs them
    (:func:`~model_training.algorithm.labels.suggested_objective` looks at the set of values only, and at more than
    :data:`~model_training.algorithm.labels.MAX_SUGGESTED_CLASSES` + 2 of them suggests a quantity whatever the rest)."""

    def __init__(self) -> None:
        self.values = np.zeros(0)

    def add(self, labels: np.ndarray) -> np.ndarray | None:
        """Add ``labels``; returns their distinct values, unless enough are known already (``None``)."""
        if self.values.size > MAX_SUGGESTED_CLASSES + 2:
            return None
        distinct = np.unique(labels)
        self.values = np.union1d(self.values, distinct)
        return distinct
