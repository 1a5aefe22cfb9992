"""The split carried out in memory: the whole file read once, indexed, validated, planned and rendered
(:class:`InMemorySplit`); the estimate that decides whether a source fits is :func:`~model_training.split.size.in_memory_size`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from model_training.algorithm.hyperparameters import ParsedHyperparameters
from model_training.algorithm.labels import is_classification
from model_training.channels import CHUNK_ROWS, part_count, render_channel, render_test, split_files
from model_training.config.run import SPLIT_NAMES, RunConfig, StreamOptions
from model_training.data.dataset import Dataset
from model_training.data.inflate import DecompressedTooLargeError
from model_training.data.parsing import parse_csv
from model_training.ports import Chunk, OutputFile, SourceInfo
from model_training.progress import Reporter
from model_training.split.inputs import plan_strategy
from model_training.split.labels import class_codes, counts_classes, distinct_labels, split_summaries
from model_training.split.method import PreparedSplit
from model_training.split.plan import SplitPlan
from model_training.validation.columns import (
    index_column,
    index_note,
    inferred_drop,
    output_columns,
)
from model_training.validation.rows import (
    check_label_classes,
    inferred_hyperparameters,
    inferred_settings,
    validate_rows,
)


def parse_in_memory(info: SourceInfo, data: bytes, options: StreamOptions) -> Dataset | None:
    """``data`` parsed (lazily: rows are indexed when first needed), or ``None`` if it is gzip data that inflates
    past the in-memory split's limit (``options.above_bytes``): the caller streams it instead (the estimate from
    its first 64 KiB was low).

    Raises:
        DatasetError: as :func:`~model_training.data.parsing.parse_csv`, including
            ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES`` exceeded.
    """
    try:
        return parse_csv(info, data, lazy=True, memory_limit=options.above_bytes)
    except DecompressedTooLargeError as exc:
        if exc.in_memory:
            return None
        raise


class InMemorySplit:
    """The split of a whole file held in memory (``dataset``: parsed, its rows indexed on first use)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    @contextmanager
    def prepare(self, config: RunConfig, hp: ParsedHyperparameters, rep: Reporter) -> Iterator[PreparedSplit]:
        """Validate every row, plan the split and summarise each split's labels; the outputs render from memory.

        Raises:
            DatasetError: a row or column the run cannot use (the first problem's line and column), or labels
                that leave ``num_class`` undecided.
            SplitError: the strategy cannot split these rows.
        """
        dataset = self.dataset
        uri = dataset.source.uri
        columns = output_columns(dataset, config)
        with ThreadPoolExecutor(1, thread_name_prefix="plan") as pool:
            planned: list[Future[tuple[SplitPlan, dict[str, float] | None]]] = []

            def draw() -> None:  # a random split's plan needs the row count only: drawn while the values are checked
                if config.split.strategy == "random":
                    planned.append(pool.submit(plan_strategy, dataset, config))

            labels = validate_rows(dataset, columns, config, hp, indexed=draw)
            hyperparameters: dict[str, str] = {}
            counted = False
            codes = None
            if is_classification(hp.objective):
                codes = class_codes(labels)  # classes in a byte a row: counted with bincount
                classes = distinct_labels(labels, codes)
                check_label_classes(uri, config, hp, classes, float(labels[0]))
                hyperparameters = inferred_hyperparameters(uri, config, hp, classes)
                counted = counts_classes(hp.objective, classes)
            inferred = inferred_settings(inferred_drop(dataset, config), hyperparameters)
            plan, achieved = planned[0].result() if planned else plan_strategy(dataset, config, labels)
        plan_rows = {split: plan.indices[split] for split in SPLIT_NAMES}
        summaries = split_summaries(labels, plan_rows, counted, codes)
        if note := index_note(dataset, config):
            rep.info(note)
        source_index = index_column(dataset, config) is not None
        yield PreparedSplit(
            dataset.source, summaries, inferred, achieved, lambda: _outputs(dataset, plan, columns, config, rep, source_index)
        )


def _outputs(
    dataset: Dataset, plan: SplitPlan, columns: list[str], config: RunConfig, rep: Reporter, source_index: bool
) -> Iterator[OutputFile]:
    for split in SPLIT_NAMES:
        rows = plan.indices[split]
        if rows.size == 0:  # only a split whose fraction is 0 can be empty (every strategy refuses the others)
            continue
        with rep.task(f"writing {split}", total=int(rows.size), unit="rows") as advance:
            if split == "test":
                ((name, key),) = split_files(split)
                test = render_test(dataset, rows, source_index=source_index)
                yield name, key, _counting(test, advance, int(rows.size), header=True)
                continue
            parts = part_count(int(rows.size), dataset.num_rows, dataset.source.size_bytes, config)
            for (name, key), part_rows in zip(split_files(split, parts), np.array_split(rows, parts), strict=True):
                yield name, key, _counting(render_channel(dataset, part_rows, columns), advance, int(part_rows.size))


def _counting(chunks: Iterable[Chunk], advance: Callable[[int], None], rows: int, *, header: bool = False) -> Iterator[Chunk]:
    """Pass ``chunks`` through, advancing the progress by the rows each holds (:data:`CHUNK_ROWS` each, the
    header chunk none)."""
    for i, chunk in enumerate(chunks):
        if not (header and i == 0):
            step = min(CHUNK_ROWS, rows)
            rows -= step
            advance(step)
        yield chunk
