"""The ``ordered`` split strategy: a time-based holdout, the oldest rows train and the newest test.

The rule is SageMaker Data Wrangler's "Ordered split".  Text order values are read as ISO-8601 dates and
timestamps by :mod:`~model_training.split.times`; what the strategies share is in
:mod:`~model_training.split.shared`.
"""

from __future__ import annotations

import math
from typing import NoReturn

import numpy as np

from model_training.config.split import format_fractions
from model_training.errors import Setting, SplitError
from model_training.split.plan import SplitPlan, cut_points
from model_training.split.shared import Fractions, exact_fractions, one_dimensional, plan_of
from model_training.split.times import UnreadableTime, parse_timestamps


def ordered_split(order_values: np.ndarray, fractions: Fractions, seed: int, shuffle_train: bool = False) -> SplitPlan:
    """Time-based holdout: the oldest rows train, then validation, the newest rows test.

    Rule (Data Wrangler's "Ordered split"):

    1. Rows are sorted stably by their order value (equal values keep source order).
    2. The cuts start at :func:`model_training.split.plan.cut_points` (``int(0.7 n)``, ``int(0.9 n)`` for the
       defaults: with distinct values the split is exactly the random strategy's sizes, in time order).
    3. Equal order values never straddle a boundary: each cut moves to a tie boundary (a position between
       two different values).  The pair of boundaries chosen minimises the rows moved,
       ``|b1 - cut1| + |b2 - cut2|``; among equally near ones it keeps the achieved cumulative fractions
       closest to the requested ones (``|b - c * n|``, in float), then takes the earlier first cut.  The
       cuts move just as far as needed to give every split with a non-zero fraction at least one row.
    4. Train, validation and test keep time order; ``shuffle_train`` shuffles the rows inside train with
       ``numpy.random.RandomState(seed)`` (the seed is used for nothing else).

    Args:
        order_values: shape ``(n,)``; numbers (int or float; NaN refused), ``datetime64`` values (NaT
            refused), or ISO-8601 dates/timestamps as strings (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, with
            ``T`` or a space and ``hh[:mm[:ss[.fffffffff]]]``, optionally ``Z`` or ``±hh[:mm]``; values
            with an offset are converted to UTC, values without one are taken as UTC: the rule of
            :mod:`~model_training.split.times`).
        fractions: ``(train, validation, test)``.
        seed: ``0 <= seed < 2**32``; only used with ``shuffle_train``.
        shuffle_train: shuffle the rows inside train.

    Raises:
        SplitError: an order value cannot be parsed (naming the first bad row, 0-based, and its value), or
            there are fewer distinct order values than splits with a non-zero fraction (naming the number
            needed).
    """
    values = one_dimensional(order_values, "order_values")
    exact = exact_fractions(fractions)
    key = _order_key(values)
    n = key.size
    order = np.argsort(key, kind="stable").astype(np.int64)
    ordered = key[order]
    bounds = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1, [n])) if n else np.zeros(1, np.int64)
    distinct = bounds.size - 1
    has_validation, has_test = exact[1] > 0, exact[2] > 0
    need = 1 + has_validation + has_test
    if distinct < need:
        have = "1 distinct order value" if distinct == 1 else f"{distinct} distinct order values"
        rows = "1 row" if n == 1 else f"{n} rows"
        raise SplitError(
            f"{rows} with {have} are too few for fractions {format_fractions(fractions)}: equal order values stay in one split,"
            f" so {need - distinct} of the splits with a non-zero fraction would be empty",
            (
                f"an ordered split with these fractions needs at least {need} distinct order values; add rows with"
                " other values, order by a finer column, or change ",
                Setting("fractions"),
            ),
        )
    first_cut, second_cut = cut_points(n, fractions)
    c1 = float(exact[0]) * n
    c2 = float(exact[0] + exact[1]) * n
    moved1 = np.abs(bounds - first_cut)
    moved2 = np.abs(bounds - second_cut)
    off1 = np.abs(bounds - c1)
    off2 = np.abs(bounds - c2)
    i_values = np.arange(1, distinct - has_validation - has_test + 1)
    if not has_validation and not has_test:
        i, j = distinct, distinct
    else:
        if not has_validation:  # validation empty: both cuts at the same boundary
            j_values = i_values
        elif not has_test:  # test empty: the second cut is the end
            j_values = np.full(i_values.size, distinct)
        else:  # the second cut's cost is unimodal in j, so its best j >= i + 1 is the clipped optimum
            best_j = int(np.lexsort((np.arange(distinct + 1), off2, moved2))[0])
            j_values = np.clip(best_j, i_values + 1, distinct - 1)
        moved = moved1[i_values] + moved2[j_values]
        off = off1[i_values] + off2[j_values]
        t = int(np.lexsort((i_values, off, moved))[0])
        i, j = int(i_values[t]), int(j_values[t])
    b1, b2 = int(bounds[i]), int(bounds[j])
    train = order[:b1]
    if shuffle_train:
        train = train[np.random.RandomState(seed).permutation(train.size)]
    return plan_of([train, order[b1:b2], order[b2:]])


def _order_key(values: np.ndarray) -> np.ndarray:
    """Sortable numbers for the order values (float64, int64/uint64, or int64 datetime counts)."""
    kind = values.dtype.kind
    if kind in "iub":
        return values.astype(np.int64) if kind == "b" else values
    if kind == "f":
        bad = np.flatnonzero(np.isnan(values))
        if bad.size:
            _bad_order_value(int(bad[0]), values[bad[0]].item(), "a missing (NaN) number")
        return values.astype(np.float64)
    if kind in "Mm":
        bad = np.flatnonzero(np.isnat(values))
        if bad.size:
            _bad_order_value(int(bad[0]), str(values[bad[0]]), "a missing (NaT) time")
        return values.view(np.int64)
    if kind in "US" or kind == "O":
        items = values.tolist()
        if kind == "O" and items and all(_is_number(v) for v in items):
            return _order_key(np.asarray(items, dtype=np.float64))
        if items and _numeric_text(items[0]):  # a column of numbers with a stray value: name that one
            for row, item in enumerate(items):
                if not _numeric_text(item):
                    _bad_order_value(row, item, "not a number, though the column's first value is one")
        try:
            return parse_timestamps(items)
        except UnreadableTime as exc:
            _bad_order_value(exc.row, items[exc.row], exc.reason)
    raise TypeError(f"order values must be numbers, datetime64 or ISO-8601 strings, not {values.dtype}")


def _numeric_text(value: object) -> bool:
    """Whether ``value`` is a number or the text of a finite number."""
    if _is_number(value):
        return True
    try:
        return math.isfinite(float(value.decode() if isinstance(value, bytes) else str(value)))
    except (ValueError, UnicodeDecodeError):
        return False


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _bad_order_value(row: int, value: object, why: str) -> NoReturn:
    raise SplitError(
        f"order value {value!r} in row {row} (0-based) is {why}",
        "an ordered split needs numbers or ISO-8601 dates/timestamps (e.g. 2024-05-31 or 2024-05-31T12:00:00Z)"
        " in every row; fix or drop the row, or order by another column",
    ) from None


__all__ = ["ordered_split"]
