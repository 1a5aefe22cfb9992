"""Each split's labels as ``run.json`` records them (:class:`~model_training.ports.SplitLabels`): the rows per
class under a classification objective (``multi:``; ``binary:`` when every label is 0 or 1: :func:`counts_classes`),
else the rows, the smallest, largest and mean label (a regression label, or a ``binary:`` one that is a probability,
has as many values as rows: counting them would write megabytes).  The in-memory split summarises each split at
once (:func:`split_summaries`); the streaming split adds chunk by chunk in bounded memory (:class:`LabelTally`);
both record the same values.  Classes that fit a byte (:func:`class_codes`: whole numbers from 0 to 255) are counted
from one byte a row in both (:func:`class_summaries`), the streaming split's kept from its first pass.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from model_training.algorithm.labels import is_classification
from model_training.ports import SplitLabels


def label_counts(labels: np.ndarray) -> dict[float, int]:
    """Rows per label value, in ascending order (counted by numeric value: "1" and "1.0" are the same class).

    Labels that are all tenths between 0 and 409.5 (0/1, class numbers, 0.5 ...) are counted with
    ``bincount`` in linear time; others are sorted (``numpy.unique``).
    """
    if labels.size > 4096:
        tenths = np.rint(labels * 10)
        if tenths.min() >= 0 and tenths.max() < 4096 and (tenths / 10 == labels).all():
            counts = np.bincount(tenths.astype(np.int64))
            return {float(v / 10): int(counts[v]) for v in np.flatnonzero(counts)}
    values, counts = np.unique(labels, return_counts=True)
    return {float(v): int(c) for v, c in zip(values, counts, strict=True)}


class LabelTally:
    """One split's labels, added chunk by chunk (:meth:`add`) in bounded memory, summarised as ``run.json``
    records them (:meth:`result`, a :class:`~model_training.ports.SplitLabels`): the rows per class under a
    classification objective (``classes``), else the rows, the smallest, largest and mean label.

    The mean is that of the exact sum (:func:`exact_sum`), rounded once: the in-memory and the streaming split,
    which add the rows in other pieces, record the same value.
    """

    def __init__(self, *, classes: bool) -> None:
        self.counts: dict[float, int] | None = {} if classes else None
        self.rows = 0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.total = Fraction(0)

    def add(self, labels: np.ndarray) -> None:
        """Add ``labels`` (float64, finite); a zero is recorded without its sign (``-0`` as ``0.0``)."""
        if labels.size == 0:
            return
        self.rows += int(labels.size)
        if self.counts is not None:
            for value, c in label_counts(labels).items():
                self.counts[value] = self.counts.get(value, 0) + c
            return
        # + 0.0 makes -0.0 zero: of equal values min and max keep the one met first, so the sign would depend on
        # the order the pieces came in (the in-memory and the streaming split add them in other pieces)
        self.minimum = min(self.minimum, float(labels.min()) + 0.0)
        self.maximum = max(self.maximum, float(labels.max()) + 0.0)
        self.total += exact_sum(labels)

    def result(self) -> SplitLabels:
        if self.counts is not None:
            return SplitLabels(rows=self.rows, counts=dict(sorted(self.counts.items())))
        if not self.rows:
            return SplitLabels(rows=0)
        # float() of a Fraction divides its integers, which Python rounds correctly
        return SplitLabels(rows=self.rows, minimum=self.minimum, maximum=self.maximum, mean=float(self.total / self.rows))


def tally(labels: np.ndarray, *, classes: bool) -> SplitLabels:
    """:class:`LabelTally`'s summary of ``labels`` at once."""
    counter = LabelTally(classes=classes)
    counter.add(labels)
    return counter.result()


#: Values :func:`exact_sum` takes at a time: its temporaries stay small (some 50 MB), and its float64 sums of
#: that many integers below 2**27 stay below 2**53, so they are exact.
_EXACT_SLICE = 1 << 20
#: Every finite float64 is ``m * 2**(e - 53)`` with ``numpy.frexp``'s ``e >= -1073`` and an integer ``|m| < 2**53``.
_LOWEST_EXPONENT = -1073 - 53


def exact_sum(values: np.ndarray) -> Fraction:
    """The exact sum of finite float64 ``values``.

    Each value is ``m * 2**(e - 53)`` with an integer ``|m| < 2**53`` (:func:`numpy.frexp`); the integers are cut
    in a high and a low part of 27 and 26 bits and summed per exponent by ``bincount`` (float64 sums that stay
    exact, see :data:`_EXACT_SLICE`), then put together as one Python integer over ``2**1126``.
    """
    total = 0
    for start in range(0, values.size, _EXACT_SLICE):
        mantissa, exponent = np.frexp(values[start : start + _EXACT_SLICE])
        ints = np.ldexp(mantissa, 53).astype(np.int64)  # exact: |ints| < 2**53
        bins = exponent.astype(np.int64) - 53 - _LOWEST_EXPONENT
        high, low = ints >> 26, ints & ((1 << 26) - 1)  # ints == high * 2**26 + low
        highs, lows = np.bincount(bins, weights=high), np.bincount(bins, weights=low)
        for k in np.flatnonzero((highs != 0) | (lows != 0)).tolist():
            total += ((int(highs[k]) << 26) + int(lows[k])) << k
    return Fraction(total, 1 << -_LOWEST_EXPONENT)


def counts_classes(objective: str | None, classes: np.ndarray) -> bool:
    """Whether ``run.json`` counts the rows of each label value: under a classification objective whose labels are
    classes (``classes``: the distinct labels of the whole file; ``binary:`` takes any label in [0, 1], a
    probability, and counts them only when every one is 0 or 1)."""
    if not is_classification(objective):
        return False
    return not (objective or "").startswith("binary:") or bool(np.isin(classes, (0.0, 1.0)).all())


def class_codes(labels: np.ndarray) -> np.ndarray | None:
    """``labels`` as one byte a row when every one is a whole number from 0 to 255 (the classes of a
    classification objective, as a rule); ``None`` otherwise.  What the streaming split keeps of the labels in
    pass 1 to count each split's classes (:func:`class_summaries`) without reading them again."""
    if labels.size and (labels.min() < 0 or labels.max() > 255 or (labels != np.floor(labels)).any()):
        return None
    return labels.astype(np.uint8)


def class_summaries(codes: np.ndarray, plan_rows: dict[str, np.ndarray]) -> dict[str, SplitLabels]:
    """Each split's :class:`~model_training.ports.SplitLabels`, its rows per class counted, from every row's
    :func:`class_codes` and each split's row indices (``plan_rows``): what :func:`split_summaries` records of the
    same labels, counted with ``bincount``."""
    summaries = {}
    for split, rows in plan_rows.items():
        counts = np.bincount(codes[rows])
        summaries[split] = SplitLabels(rows=int(rows.size), counts={float(v): int(counts[v]) for v in np.flatnonzero(counts)})
    return summaries


def distinct_labels(labels: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
    """The distinct values of ``labels``, ascending (float64), from their :func:`class_codes` where given."""
    if codes is not None:
        return np.flatnonzero(np.bincount(codes)).astype(np.float64)
    return np.array(list(label_counts(labels)), dtype=np.float64)


def split_summaries(
    labels: np.ndarray, plan_rows: dict[str, np.ndarray], classes: bool, codes: np.ndarray | None = None
) -> dict[str, SplitLabels]:
    """Each split's :class:`~model_training.ports.SplitLabels` from all the rows' ``labels`` and each split's
    row indices (``plan_rows``); classes are counted where ``classes`` (:func:`counts_classes`), from the labels'
    :func:`class_codes` where given (:func:`class_summaries`: the same counts, without a pass over every label)."""
    if classes and codes is not None:
        return class_summaries(codes, plan_rows)
    return {split: tally(labels[rows], classes=classes) for split, rows in plan_rows.items()}
