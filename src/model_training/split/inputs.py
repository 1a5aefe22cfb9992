"""What each split strategy needs of every row, and the split planned from it: the one place that dispatches on
the configured strategy (``random``: :mod:`~model_training.split.plan`; ``stratified``, ``group``, ``ordered``,
``hash``: :mod:`~model_training.split.stratified`, :mod:`~model_training.split.group`,
:mod:`~model_training.split.ordered`, :mod:`~model_training.split.hashed`).

The in-memory split takes a whole file's :func:`strategy_input` at once; the streaming split takes each
chunk's and joins them (:func:`merge_inputs`), which gives the same values, so both plan the same split
(:func:`plan_from_input`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_training.algorithm.labels import is_classification
from model_training.config.run import SPLIT_NAMES, RunConfig
from model_training.data.dataset import Dataset
from model_training.errors import SplitError
from model_training.split.group import group_split
from model_training.split.hashed import hash_fingerprints, hash_split_fingerprints
from model_training.split.ordered import ordered_split
from model_training.split.plan import SplitPlan, plan_split
from model_training.split.stratified import quantile_bins, stratified_split


def plan_strategy(
    dataset: Dataset, config: RunConfig, labels: np.ndarray | None = None
) -> tuple[SplitPlan, dict[str, float] | None]:
    """The split plan of the configured strategy for ``dataset``, and the achieved row fractions (see
    :func:`plan_from_input`).

    Args:
        labels: the rows' labels (float64, one a row), if already read.

    Raises:
        SplitError: the strategy cannot split these rows (naming the source).
    """
    if labels is None and config.split.strategy == "stratified":
        labels = dataset.numbers(config.label)
    return plan_from_input(dataset.num_rows, strategy_input(dataset, config, labels), config, dataset.source.uri)


def strategy_input(dataset: Dataset, config: RunConfig, labels: np.ndarray | None) -> Any:
    """What the configured strategy needs of every row of ``dataset``: nothing (random), the labels
    (stratified), the key or order column's text (group, ordered), or the rows' hash fingerprints (hash).
    Per-row values, so the inputs of consecutive chunks concatenate (:func:`merge_inputs`) to the whole
    file's."""
    split = config.split
    if split.strategy == "random":
        return None
    if split.strategy == "stratified":
        return labels
    if split.strategy == "group":
        return dataset.column(split.key or "")
    if split.strategy == "ordered":
        return dataset.column(split.order_by or "")
    texts = (dataset.column(split.key) if split.key else dataset.line_texts()).combine_chunks()
    return hash_fingerprints([v.encode("utf-8") for v in texts.to_pylist()], split.seed)


def merge_inputs(parts: list[Any]) -> Any:
    """The :func:`strategy_input` of consecutive chunks, as one."""
    if not parts or parts[0] is None:
        return None
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return pa.chunked_array([c.cast(pa.large_string()) for part in parts for c in part.chunks], type=pa.large_string())


def plan_from_input(n: int, values: Any, config: RunConfig, uri: str) -> tuple[SplitPlan, dict[str, float] | None]:
    """Plan the split of ``n`` rows from their :func:`strategy_input`.

    Returns:
        The plan, and each split's rows over ``n`` (``{"train": ..., "validation": ..., "test": ...}``) for every
        strategy but ``random`` (which meets the fractions by its cut points: ``None``).  Only group, ordered and
        hash can miss the requested fractions by more than a row; stratified's are recorded all the same.
        Stratified takes the labels as classes under a classification objective, and a quantity's deciles
        (:func:`~model_training.split.stratified.quantile_bins`) under the others.

    Raises:
        SplitError: the strategy cannot split these rows (its error, relocated to ``uri``: the message names it).
    """
    split = config.split
    if split.strategy == "random":
        return plan_split(n, split, uri), None
    try:
        if split.strategy == "stratified":
            classes = is_classification(config.training.hyperparameters.get("objective"))
            plan = stratified_split(values if classes else quantile_bins(values), split.fractions, split.seed)
        elif split.strategy == "group":
            keys = np.asarray(values.to_pylist(), dtype=object)
            plan, _ = group_split(keys, split.fractions, split.seed)
        elif split.strategy == "ordered":
            try:
                order: Any = pc.cast(values, pa.float64()).to_numpy()
            except pa.ArrowInvalid:
                order = np.asarray(values.to_pylist(), dtype=object)
            plan = ordered_split(order, split.fractions, split.seed, split.shuffle_train)
        else:
            plan, _ = hash_split_fingerprints(values, split.fractions)
    except SplitError as exc:
        raise exc.relocated(uri) from None
    achieved = {name: plan.rows(name) / n for name in SPLIT_NAMES}
    return plan, achieved
