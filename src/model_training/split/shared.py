"""What the split strategies beyond ``random`` share: their inputs checked, the fractions as exact rationals,
codes for a column's values, and the plan built from the three splits' rows.

Every strategy (:mod:`~model_training.split.stratified`, :mod:`~model_training.split.group`,
:mod:`~model_training.split.ordered`, :mod:`~model_training.split.hashed`) is pure (numpy arrays in,
:class:`~model_training.split.plan.SplitPlan` out, no I/O) and deterministic for a given input and seed.
``fractions`` are the configured ``(train, validation, test)`` decimals (non-negative, summing to 1 within
:data:`~model_training.config.run.FRACTION_TOLERANCE`, train > 0); a zero fraction means an empty split.  Where
a split with a non-zero fraction would end up empty, a :class:`~model_training.errors.SplitError` names the
minimum that is needed.

Fractions are handled as exact rationals (``Fraction(Decimal)``) normalised by their sum, so a zero fraction
stays exactly zero and a sum like ``0.3333333333 + 0.6666666666`` cannot leave a stray row.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np

from model_training.config.run import SPLIT_NAMES
from model_training.config.split import format_fractions
from model_training.split.plan import SplitPlan

#: The configured ``(train, validation, test)`` fractions.
Fractions = tuple[Decimal, Decimal, Decimal]
#: The fractions as exact rationals summing to exactly 1.
ExactFractions = tuple[Fraction, Fraction, Fraction]


def exact_fractions(fractions: Fractions) -> ExactFractions:
    """The fractions as exact rationals normalised to sum exactly 1 (zero stays zero).

    Raises:
        ValueError: not three fractions, a negative one, or train not above 0 (the configuration refuses
            these before a strategy runs).
    """
    if len(fractions) != 3:
        raise ValueError(f"expected three fractions (train, validation, test), got {len(fractions)}")
    values = [Fraction(f) for f in fractions]
    if any(v < 0 for v in values) or values[0] <= 0:
        raise ValueError(f"fractions must be non-negative with train > 0, got {format_fractions(fractions)}")
    total = sum(values, Fraction(0))
    return values[0] / total, values[1] / total, values[2] / total


def encode(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class/group codes per row (int64, shape ``(n,)``) and the row count per code.

    Codes follow the sorted order of the distinct values; values that do not sort together (e.g. ``None`` and
    ``str``) are coded in order of first appearance instead.
    """
    try:
        _, codes, counts = np.unique(values, return_inverse=True, return_counts=True)
        return codes.reshape(-1).astype(np.int64), counts.astype(np.int64)
    except TypeError:  # values that do not sort together (e.g. None and str): first-appearance order
        mapping: dict[object, int] = {}
        codes = np.fromiter((mapping.setdefault(v, len(mapping)) for v in values.tolist()), dtype=np.int64, count=values.size)
        return codes, np.bincount(codes, minlength=len(mapping)).astype(np.int64)


def one_dimensional(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` as an array of shape ``(n,)``.

    Raises:
        ValueError: it has another number of dimensions (``name`` says which argument).
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def plan_of(parts: list[np.ndarray]) -> SplitPlan:
    """The plan whose ``train``, ``validation`` and ``test`` rows are ``parts`` (in that order), as int64."""
    return SplitPlan(indices={name: np.asarray(part, dtype=np.int64) for name, part in zip(SPLIT_NAMES, parts, strict=True)})
