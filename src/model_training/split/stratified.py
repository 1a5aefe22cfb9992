"""The ``stratified`` split strategy: every split keeps the label's class proportions.

The rule is scikit-learn's ``StratifiedShuffleSplit`` (per-class counts by floor plus largest remainder, rows of
a class drawn by a seeded permutation), extended to three splits whose totals are exact too; SageMaker Data
Wrangler's "Stratified split" transform.  What the strategies share is in :mod:`~model_training.split.shared`.

What the classes are depends on the objective (:func:`~model_training.split.inputs.plan_from_input`): under a
classification objective (``binary:``, ``multi:``) the label's values (whole numbers: a fractional label is
refused, naming its line); under the others (``reg:``, ``count:``, ``survival:``, ``rank:``) the label is a
quantity, whose every value would be a class of its own, so it is stratified by its deciles instead
(:func:`quantile_bins`): each split keeps the label's distribution, bin by bin, as scikit-learn users do with
``pandas.qcut`` before ``StratifiedShuffleSplit``.
"""

from __future__ import annotations

import math

import numpy as np

from model_training.split.plan import SplitPlan, require_rows
from model_training.split.shared import ExactFractions, Fractions, encode, exact_fractions, one_dimensional, plan_of

#: Above this many candidate row counts the exact "minimum rows" search gives way to its upper bound.
_MINIMUM_SEARCH_LIMIT = 1_000_000
#: The quantile bins a quantity is stratified by (deciles).
LABEL_BINS = 10


def quantile_bins(labels: np.ndarray, bins: int = LABEL_BINS) -> np.ndarray:
    """The stratification classes of a quantity: each row's bin among the label's ``bins``-quantiles, as int64
    codes of shape ``(n,)``.

    Rule: the cuts are the label's ``k / bins`` quantiles for ``k = 1 .. bins - 1`` by the inverted empirical
    distribution function (``numpy.quantile(..., method="inverted_cdf")``: each cut is a value of the label,
    the smallest whose share of rows at or below it reaches ``k / bins``), without repeats; a row's bin is the
    number of cuts below its value.  So a bin holds the values in ``(cut[k-1], cut[k]]``, equal values share a
    bin, and a label with fewer values than ``bins`` gets a bin per value at most.  It depends only on the
    multiset of labels, not on their order: the in-memory and the streaming split bin alike.

    Args:
        labels: shape ``(n,)``, finite numbers.
    """
    labels = one_dimensional(labels, "labels")
    if labels.size == 0:
        return np.zeros(0, dtype=np.int64)
    cuts = np.unique(np.quantile(labels, np.arange(1, bins) / bins, method="inverted_cdf"))
    return np.searchsorted(cuts, labels, side="left").astype(np.int64)


def stratified_split(labels: np.ndarray, fractions: Fractions, seed: int) -> SplitPlan:
    """Split so that every split keeps the label's class proportions (stratified shuffle split).

    Rule (scikit-learn ``StratifiedShuffleSplit``'s ``_approximate_mode`` generalised to three splits;
    Data Wrangler's "Stratified split"):

    1. Split totals: largest remainder of ``fractions * n`` (floors, then the leftover rows to the largest
       remainders; equal remainders go to the earlier split).  Each total is ``floor`` or ``ceil`` of
       ``fraction * n``.
    2. Per class ``c`` with ``n_c`` rows: ``floor(fraction * n_c)`` rows to every split, and the class's
       ``n_c - sum(floors)`` leftover rows one each to distinct splits with a non-zero remainder.  Classes
       are visited in a seeded random order and give their leftover rows to the splits whose running
       totals lag furthest behind ``fraction * rows so far`` (ties: larger remainder, then earlier split).
       Then leftover rows are moved between splits (cheapest first, along augmenting paths of at most two
       steps) until the split totals equal those of step 1 exactly.  Such a rounding always exists for
       three splits (the column sums of a 2-D controlled rounding may take any floor/ceil value that adds
       up), so every count is ``floor`` or ``ceil`` of ``fraction * n_c``: it differs from the exact share
       by less than one row.
    3. Which rows of a class go where: a seeded permutation within the class, cut by the counts.
    4. The order inside each split: a seeded shuffle (classes are interleaved, not blocked).

    One ``numpy.random.RandomState(seed)`` drives steps 2-4 in that order.

    Args:
        labels: shape ``(n,)``; the label column's values, any hashable dtype (float64, str, object).  NaN
            labels form one class.
        fractions: ``(train, validation, test)``.
        seed: ``0 <= seed < 2**32``.

    Returns:
        The plan; its split sizes are the step-1 totals.

    Raises:
        SplitError: a split with a non-zero fraction would be empty; the message states the minimum rows
            from which on every row count works.
    """
    labels = one_dimensional(labels, "labels")
    numerators, denominator = _common_denominator(exact_fractions(fractions))
    n = labels.size
    totals = _largest_remainder(n, numerators, denominator)
    require_rows(totals, fractions, lambda: _largest_remainder_minimum(numerators, denominator), strategy="stratified")
    codes, counts = encode(labels)
    rng = np.random.RandomState(seed)
    class_order = rng.permutation(counts.size)
    per_class = _allocate_classes(counts, numerators, denominator, totals, class_order)

    # Rows grouped by class (class code order), in a seeded random order within each class.
    shuffled = rng.permutation(n)
    grouped = shuffled[np.argsort(codes[shuffled], kind="stable")]
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    position = np.arange(n, dtype=np.int64) - starts
    cls = np.repeat(np.arange(counts.size), counts)
    first = per_class[cls, 0]
    second = first + per_class[cls, 1]
    split_of = np.where(position < first, 0, np.where(position < second, 1, 2))
    parts = []
    for k in range(3):
        rows = grouped[split_of == k]
        parts.append(rows[rng.permutation(rows.size)])
    return plan_of(parts)


def _allocate_classes(
    counts: np.ndarray, numerators: tuple[int, int, int], denominator: int, totals: tuple[int, int, int], class_order: np.ndarray
) -> np.ndarray:
    """Per-class split counts, shape ``(classes, 3)``: floor/ceil of ``fraction * n_c``, columns summing to ``totals``."""
    sizes, size_index = np.unique(counts, return_inverse=True)
    floors_by_size, remainders_by_size = [], []
    for s in sizes.tolist():
        floors = [m * s // denominator for m in numerators]
        floors_by_size.append(floors)
        remainders_by_size.append([m * s - f * denominator for m, f in zip(numerators, floors, strict=True)])
    size_index = size_index.reshape(-1)
    base = np.asarray(floors_by_size, dtype=np.int64).reshape(-1, 3)[size_index]
    remainder = np.asarray([[r / denominator for r in rs] for rs in remainders_by_size], dtype=np.float64).reshape(-1, 3)
    remainder = remainder[size_index]
    allowed = remainder > 0
    leftover = counts - base.sum(axis=1)

    # Greedy pass: the leftover rows of each class to the splits lagging furthest behind their share.
    extra = np.zeros((counts.size, 3), dtype=bool)
    lag = [0, 0, 0]  # denominator * (rows given to split k - fraction_k * rows seen)
    picks_class: list[int] = []
    picks_split: list[int] = []
    index_list = size_index.tolist()
    leftover_list = leftover.tolist()
    for c in class_order.tolist():
        rems = remainders_by_size[index_list[c]]
        for k in range(3):
            lag[k] -= rems[k]
        d = leftover_list[c]
        if d:
            chosen = sorted((k for k in range(3) if rems[k] > 0), key=lambda k: (lag[k], -rems[k], k))[:d]
            for k in chosen:
                lag[k] += denominator
                picks_class.append(c)
                picks_split.append(k)
    extra[np.asarray(picks_class, dtype=np.int64), np.asarray(picks_split, dtype=np.int64)] = True

    # Repair: move leftover rows until the split totals are exactly the largest-remainder totals.
    rank = np.empty(counts.size, dtype=np.int64)
    rank[class_order] = np.arange(counts.size)
    surplus = base.sum(axis=0) + extra.sum(axis=0) - np.asarray(totals, dtype=np.int64)

    def movable(i: int, j: int) -> np.ndarray:
        """Classes that could move a leftover row from split i to split j, cheapest first."""
        candidates = np.flatnonzero(extra[:, i] & ~extra[:, j] & allowed[:, j])
        cost = remainder[candidates, i] - remainder[candidates, j]
        return candidates[np.lexsort((rank[candidates], cost))]

    def move(classes: np.ndarray, i: int, j: int) -> None:
        extra[classes, i] = False
        extra[classes, j] = True

    while surplus.any():
        over = [k for k in range(3) if surplus[k] > 0]
        under = [k for k in range(3) if surplus[k] < 0]
        done = False
        for i in over:
            for j in under:
                direct = movable(i, j)
                if direct.size:
                    q = int(min(surplus[i], -surplus[j], direct.size))
                    move(direct[:q], i, j)
                    surplus[i] -= q
                    surplus[j] += q
                    done = True
                    break
            if done:
                break
        if done:
            continue
        for i in over:
            for j in under:
                middle = 3 - i - j
                first_leg, second_leg = movable(i, middle), movable(middle, j)
                q = int(min(surplus[i], -surplus[j], first_leg.size, second_leg.size))
                if q:
                    move(first_leg[:q], i, middle)
                    move(second_leg[:q], middle, j)
                    surplus[i] -= q
                    surplus[j] += q
                    done = True
                    break
            if done:
                break
        if not done:  # pragma: no cover - ruled out by the controlled-rounding argument in the docstring
            raise AssertionError(f"stratified allocation cannot reach the split totals {totals}")
    return base + extra


def _common_denominator(exact: ExactFractions) -> tuple[tuple[int, int, int], int]:
    """The fractions as integer numerators over their least common denominator."""
    denominator = math.lcm(*(f.denominator for f in exact))
    a, b, c = (f.numerator * (denominator // f.denominator) for f in exact)
    return (a, b, c), denominator


def _largest_remainder(n: int, numerators: tuple[int, int, int], denominator: int) -> tuple[int, int, int]:
    """``n`` rows apportioned by largest remainder; equal remainders favour the earlier split."""
    floors = [m * n // denominator for m in numerators]
    remainders = [m * n - f * denominator for m, f in zip(numerators, floors, strict=True)]
    for k in sorted(range(3), key=lambda k: (-remainders[k], k))[: n - sum(floors)]:
        floors[k] += 1
    return floors[0], floors[1], floors[2]


def _largest_remainder_minimum(numerators: tuple[int, int, int], denominator: int) -> int:
    """The smallest row count from which on largest remainder leaves no non-zero split empty."""
    bound = max(-(-denominator // m) for m in numerators if m > 0)  # floor(f * n) >= 1 for every f > 0
    if bound > _MINIMUM_SEARCH_LIMIT:
        return bound
    for n in range(bound - 1, 0, -1):
        totals = _largest_remainder(n, numerators, denominator)
        if any(t == 0 and m > 0 for t, m in zip(totals, numerators, strict=True)):
            return n + 1
    return 1


__all__ = ["LABEL_BINS", "quantile_bins", "stratified_split"]
