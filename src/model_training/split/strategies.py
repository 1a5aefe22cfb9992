"""Split strategies beyond ``random``: stratified, by key (group), ordered (time-based) and hash.

Every function here is pure (numpy arrays in, :class:`~model_training.split.plan.SplitPlan` out, no I/O) and
deterministic for a given input and seed.  ``fractions`` are the configured ``(train, validation, test)``
decimals (non-negative, summing to 1 within :data:`~model_training.config.run.FRACTION_TOLERANCE`, train > 0);
a zero fraction means an empty split.  Where a split with a non-zero fraction would end up empty, a
:class:`~model_training.errors.SplitError` names the minimum that is needed.

Where the rules come from:

* ``stratified_split``: scikit-learn's ``StratifiedShuffleSplit`` (per-class counts by floor plus largest
  remainder, rows of a class drawn by a seeded permutation), extended to three splits whose totals are
  exact too; SageMaker Data Wrangler's "Stratified split" transform.
* ``group_split``: scikit-learn's ``GroupShuffleSplit`` (groups in a seeded random order; but balanced on
  rows, not on the number of groups) and Data Wrangler's "Split by key" transform (no key value in two
  splits).
* ``ordered_split``: Data Wrangler's "Ordered split" (a time-based holdout: oldest rows train, newest test).
* ``hash_split``: TFX ExampleGen's ``hash_buckets`` output config (a row's split is a function of a
  fingerprint of its key alone, so it is stable across runs, file orders and chunkings).

Fractions are handled as exact rationals (``Fraction(Decimal)``) normalised by their sum, so a zero
fraction stays exactly zero and a sum like ``0.3333333333 + 0.6666666666`` cannot leave a stray row.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import NoReturn

import numpy as np

from model_training.config.run import SPLIT_NAMES
from model_training.errors import SplitError
from model_training.split.plan import SplitPlan, cut_points

Fractions = tuple[Decimal, Decimal, Decimal]

#: Above this many candidate row counts the exact "minimum rows" search gives way to its upper bound.
_MINIMUM_SEARCH_LIMIT = 1_000_000


# --------------------------------------------------------------------------------------------- stratified


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
    labels = _one_dimensional(labels, "labels")
    exact = _exact_fractions(fractions)
    numerators, denominator = _common_denominator(exact)
    n = labels.size
    totals = _largest_remainder(n, numerators, denominator)
    empty = _empty_splits(totals, exact)
    if empty:
        need = _largest_remainder_minimum(numerators, denominator)
        rows = "1 row is" if n == 1 else f"{n} rows are"
        raise SplitError(
            f"{rows} too few for fractions {_fmt(fractions)}: the {' and '.join(empty)} split would be empty",
            f"{need} rows or more always work for a stratified split with these fractions; add rows or change --fractions",
        )
    codes, counts = _encode(labels)
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
    return _plan(parts)


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


# ------------------------------------------------------------------------------------------------- group


def group_split(keys: np.ndarray, fractions: Fractions, seed: int) -> tuple[SplitPlan, dict[str, float]]:
    """Split by key: every distinct key value lands in exactly one split (no leakage between splits).

    Rule (scikit-learn ``GroupShuffleSplit``'s seeded group order, Data Wrangler's "Split by key"):

    1. The distinct key values (groups) are taken in a seeded random order
       (``numpy.random.RandomState(seed).permutation``) and each is given to the split with the largest
       remaining deficit ``fraction * n - rows so far`` (ties: the earlier split); splits with a zero
       fraction get no group.
    2. A split with a non-zero fraction that got no group receives the group (from a split with two or
       more) whose move hurts the balance least.
    3. Local search: while moving one group, or swapping two groups, between two splits lowers
       ``sum(|rows_k - fraction_k * n|)``, the best such move is made (never emptying a split; ties go to
       the group earlier in the seeded order).  This undoes most of the greedy pass's overshoot by a
       large group late in the order: the achieved fractions are as close as single moves and swaps
       can get them, which for many small groups is within a row or two.
    4. Rows inside each split: a seeded shuffle.

    Unlike ``GroupShuffleSplit`` (which takes a fraction of the *groups*), the balance is on rows.

    Args:
        keys: shape ``(n,)``; the key column's values, any hashable dtype.
        fractions: ``(train, validation, test)``.
        seed: ``0 <= seed < 2**32``.

    Returns:
        The plan and the achieved row fractions ``{"train": rows / n, "validation": ..., "test": ...}``.

    Raises:
        SplitError: fewer distinct key values than splits with a non-zero fraction; the message states
            the number needed.
    """
    keys = _one_dimensional(keys, "keys")
    exact = _exact_fractions(fractions)
    n = keys.size
    active = [k for k in range(3) if exact[k] > 0]
    codes, sizes = _encode(keys)
    groups = sizes.size
    if groups < len(active):
        names = [SPLIT_NAMES[k] for k in active[groups:]]
        have = "1 distinct key value" if groups == 1 else f"{groups} distinct key values"
        raise SplitError(
            f"{n} rows with {have} are too few for fractions {_fmt(fractions)}: every key value stays in one"
            f" split, so the {' and '.join(names)} split would be empty",
            f"a split by key with these fractions needs at least {len(active)} distinct key values"
            " (one per split with a non-zero fraction); add rows with other keys or change --fractions",
        )
    rng = np.random.RandomState(seed)
    order = rng.permutation(groups)
    rank = np.empty(groups, dtype=np.int64)
    rank[order] = np.arange(groups)
    targets = [float(f) * n for f in exact]

    assign = np.empty(groups, dtype=np.int64)
    filled = [0, 0, 0]
    size_list = sizes.tolist()
    for g in order.tolist():
        k = max(active, key=lambda k: (targets[k] - filled[k], -k))
        assign[g] = k
        filled[k] += size_list[g]

    _fill_empty_splits(sizes, assign, filled, targets, active, rank)
    _rebalance(sizes, assign, filled, targets, active, rank)

    row_split = assign[codes]
    parts = []
    for k in range(3):
        rows = np.flatnonzero(row_split == k)
        parts.append(rows[rng.permutation(rows.size)])
    achieved = {name: (filled[k] / n) for k, name in enumerate(SPLIT_NAMES)}
    return _plan(parts), achieved


def _fill_empty_splits(
    sizes: np.ndarray, assign: np.ndarray, filled: list[int], targets: list[float], active: list[int], rank: np.ndarray
) -> None:
    for k in active:
        if np.any(assign == k):
            continue
        best: tuple[float, int, int] | None = None
        for i in active:
            members = np.flatnonzero(assign == i)
            if i == k or members.size < 2:
                continue
            s = sizes[members]
            change = np.abs(filled[i] - s - targets[i]) + np.abs(filled[k] + s - targets[k])
            pick = members[np.lexsort((rank[members], change))[0]]
            candidate = (float(change[members == pick][0]), int(rank[pick]), int(pick))
            if best is None or candidate < best:
                best = candidate
        assert best is not None  # there are at least as many groups as active splits
        g = best[2]
        filled[int(assign[g])] -= int(sizes[g])
        filled[k] += int(sizes[g])
        assign[g] = k


def _rebalance(
    sizes: np.ndarray, assign: np.ndarray, filled: list[int], targets: list[float], active: list[int], rank: np.ndarray
) -> None:
    """Best-improvement local search over single-group moves and two-group swaps (see ``group_split``)."""
    for _ in range(4 * sizes.size + 100):
        best: tuple[float, int, int, int, int, int, int] | None = None  # (change, kind, i, j, rank g, g, h)
        members = {k: np.flatnonzero(assign == k) for k in active}
        for i in active:
            for j in active:
                if i == j:
                    continue
                now = abs(filled[i] - targets[i]) + abs(filled[j] - targets[j])
                excess, deficit = filled[i] - targets[i], targets[j] - filled[j]
                # Representatives: per distinct size, the group earliest in the seeded order.
                mi = _representatives(members[i], sizes, rank)
                mj = _representatives(members[j], sizes, rank)
                si, sj = sizes[mi], sizes[mj]
                if members[i].size >= 2:  # a move must not empty split i
                    pos = np.searchsorted(si, [excess, deficit])
                    near = np.unique(np.clip(np.concatenate([pos - 1, pos]), 0, si.size - 1))
                    change = np.abs(filled[i] - si[near] - targets[i]) + np.abs(filled[j] + si[near] - targets[j]) - now
                    t = int(np.lexsort((rank[mi[near]], change))[0])
                    g = int(mi[near[t]])
                    candidate = (float(change[t]), 0, i, j, int(rank[g]), g, -1)
                    if best is None or candidate < best:
                        best = candidate
                if i < j:  # a swap (g from i to j, h from j to i) moves si - sj rows from i to j
                    wanted = np.concatenate([si - excess, si - deficit])
                    pos = np.searchsorted(sj, wanted)
                    rows_g = np.tile(np.arange(si.size), 2)
                    pairs_g = np.concatenate([rows_g, rows_g])
                    pairs_h = np.clip(np.concatenate([pos - 1, pos]), 0, sj.size - 1)
                    moved = si[pairs_g] - sj[pairs_h]
                    change = np.abs(filled[i] - moved - targets[i]) + np.abs(filled[j] + moved - targets[j]) - now
                    t = int(np.lexsort((rank[mj[pairs_h]], rank[mi[pairs_g]], change))[0])
                    g, h = int(mi[pairs_g[t]]), int(mj[pairs_h[t]])
                    candidate = (float(change[t]), 1, i, j, int(rank[g]), g, h)
                    if best is None or candidate < best:
                        best = candidate
        if best is None or best[0] > -1e-9:
            return
        _, kind, i, j, _, g, h = best
        assign[g] = j
        filled[i] -= int(sizes[g])
        filled[j] += int(sizes[g])
        if kind == 1:
            assign[h] = i
            filled[j] -= int(sizes[h])
            filled[i] += int(sizes[h])


def _representatives(members: np.ndarray, sizes: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """One group per distinct size (the earliest in the seeded order), sorted by size."""
    ordered = members[np.lexsort((rank[members], sizes[members]))]
    s = sizes[ordered]
    keep = np.ones(ordered.size, dtype=bool)
    keep[1:] = s[1:] != s[:-1]
    return ordered[keep]


# ----------------------------------------------------------------------------------------------- ordered

_ISO_8601 = re.compile(
    r"(?P<date>\d{4}(?:-\d{2}(?:-\d{2})?)?)"
    r"(?:[T ](?P<time>\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?)(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?"
)


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
            with an offset are converted to UTC, values without one are taken as UTC).
        fractions: ``(train, validation, test)``.
        seed: ``0 <= seed < 2**32``; only used with ``shuffle_train``.
        shuffle_train: shuffle the rows inside train.

    Raises:
        SplitError: an order value cannot be parsed (naming the first bad row, 0-based, and its value), or
            there are fewer distinct order values than splits with a non-zero fraction (naming the number
            needed).
    """
    values = _one_dimensional(order_values, "order_values")
    exact = _exact_fractions(fractions)
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
            f"{rows} with {have} are too few for fractions {_fmt(fractions)}: equal order values stay in one split,"
            f" so {need - distinct} of the splits with a non-zero fraction would be empty",
            f"an ordered split with these fractions needs at least {need} distinct order values; add rows with"
            " other values, order by a finer column, or change --fractions",
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
    return _plan([train, order[b1:b2], order[b2:]])


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
        return _parse_timestamps(items)
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


def _parse_timestamps(items: Sequence[object]) -> np.ndarray:
    """ISO-8601 strings to int64 counts of one common numpy datetime unit (offsets applied)."""
    naive: list[str] = []
    offsets: list[int] = []  # minutes east of UTC
    years: list[int] = []
    for row, item in enumerate(items):
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else item
        match = _ISO_8601.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            _first_unparseable(naive, items)  # an earlier row numpy cannot read comes first
            _bad_order_value(row, item, "not an ISO-8601 date or timestamp")
        time, zone = match["time"], match["zone"]
        naive.append(match["date"] + ("T" + time if time else ""))
        offset = _offset_minutes(zone)
        if abs(offset) > 14 * 60 or (zone and len(zone) > 3 and int(zone.replace(":", "")[3:5] or 0) >= 60):
            _bad_order_value(row, item, "its UTC offset is not a real one (at most +14:00, minutes below 60)")
        offsets.append(offset)
        years.append(int(match["date"][:4]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = np.array(naive, dtype="datetime64")
    except (ValueError, Warning, OverflowError):
        _first_unparseable(naive, items)
        raise
    unit = np.datetime_data(parsed.dtype)[0]
    if unit in ("ns", "ps", "fs", "as"):  # sub-microsecond units only span 1678-2261
        outside = [row for row, year in enumerate(years) if not 1678 <= year <= 2261]
        if outside:
            _bad_order_value(outside[0], items[outside[0]], "outside 1678-2261, the range of nanosecond timestamps")
    if any(offsets):
        parsed = parsed - np.asarray(offsets, dtype=np.int64).astype("timedelta64[m]")
    return parsed.view(np.int64)


def _first_unparseable(naive: list[str], items: Sequence[object]) -> None:
    """Raise for the first of ``naive`` (ISO-8601 shaped) that numpy cannot read (e.g. 2024-02-30)."""
    for row, text in enumerate(naive):
        try:
            np.datetime64(text)
        except ValueError as exc:
            reason = str(exc).split(" in datetime string")[0].lower()
            _bad_order_value(row, items[row], f"not a valid date or time ({reason})")


def _offset_minutes(zone: str | None) -> int:
    if not zone or zone == "Z":
        return 0
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) > 2 else 0)
    return -minutes if zone[0] == "-" else minutes


def _bad_order_value(row: int, value: object, why: str) -> NoReturn:
    raise SplitError(
        f"order value {value!r} in row {row} (0-based) is {why}",
        "an ordered split needs numbers or ISO-8601 dates/timestamps (e.g. 2024-05-31 or 2024-05-31T12:00:00Z)"
        " in every row; fix or drop the row, or order by another column",
    )


# -------------------------------------------------------------------------------------------------- hash


def hash_split(row_keys: Sequence[bytes] | np.ndarray, fractions: Fractions, seed: int) -> tuple[SplitPlan, dict[str, int]]:
    """Split by a stable hash of each row's key (TFX ExampleGen ``hash_buckets``).

    Rule: a row with key ``key`` (bytes; ``str`` is encoded as UTF-8) gets
    ``u = int.from_bytes(sha256(b"<seed>:" + key).digest()[:8], "big") / 2**64`` in ``[0, 1)`` and goes to
    train if ``u < f_train``, to validation if ``u < f_train + f_validation``, else to test (exact rational
    thresholds).  The split of a row depends on its key and the seed only: the same key lands in the same
    split whatever the file order, chunking or number of rows, and equal keys (duplicate rows, when the key
    is the row's text) always land together.  TFX uses a FarmHash fingerprint modulo the bucket count; we
    use SHA-256 (in the standard library, stable across platforms and versions).  Rows inside each split
    keep source order.  Sizes meet the fractions only in expectation (binomially: the standard deviation
    of a split's count is ``sqrt(n f (1 - f))``, about 93 rows for train on 41188 rows at 0.7).

    Args:
        row_keys: ``n`` keys: a list of ``bytes``/``str``, or an array of dtype ``S``/``U``/object (numpy
            ``S`` arrays drop trailing NUL bytes).
        fractions: ``(train, validation, test)``.
        seed: any integer.

    Returns:
        The plan and the achieved counts ``{"train": rows, "validation": rows, "test": rows}``.

    Raises:
        SplitError: a split with a non-zero fraction got no row; the hint states the rows needed to expect
            one row (``ceil(1 / f)``) and to make an empty split unlikely (``ceil(5 / f)``: probability
            below 1%).
    """
    return hash_split_fingerprints(hash_fingerprints(row_keys, seed), fractions)


def hash_fingerprints(row_keys: Sequence[bytes] | np.ndarray, seed: int) -> np.ndarray:
    """The ``u * 2**64`` of :func:`hash_split` for each key: ``(n,)`` uint64 (computed chunk by chunk by the
    streaming split, which keeps 8 bytes per row instead of the keys)."""
    items = row_keys.tolist() if isinstance(row_keys, np.ndarray) else list(row_keys)
    prefix = b"%d:" % seed
    sha256 = hashlib.sha256
    digests = b"".join([sha256(prefix + _key_bytes(key)).digest()[:8] for key in items])
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)


def hash_split_fingerprints(u: np.ndarray, fractions: Fractions) -> tuple[SplitPlan, dict[str, int]]:
    """:func:`hash_split` from the rows' fingerprints (:func:`hash_fingerprints`)."""
    exact = _exact_fractions(fractions)
    n = int(u.size)
    below_first = _below(u, exact[0])
    below_second = _below(u, exact[0] + exact[1])
    split_of = np.where(below_first, 0, np.where(below_second, 1, 2))
    parts = [np.flatnonzero(split_of == k) for k in range(3)]
    counts = {name: int(part.size) for name, part in zip(SPLIT_NAMES, parts, strict=True)}
    empty = [k for k in range(3) if exact[k] > 0 and parts[k].size == 0]
    if empty:
        names = " and ".join(SPLIT_NAMES[k] for k in empty)
        smallest = min(exact[k] for k in empty)
        expected = ", ".join(f"{float(exact[k]) * n:.3g} rows expected in {SPLIT_NAMES[k]}" for k in empty)
        rows = "1 row" if n == 1 else f"{n} rows"
        raise SplitError(
            f"the hash split of {rows} with fractions {_fmt(fractions)} left the {names} split empty ({expected})",
            "hash splits meet the fractions only in expectation: a split with fraction f is empty with probability"
            f" (1 - f)^n; {math.ceil(1 / smallest)} rows are needed to expect one row and {math.ceil(5 / smallest)}"
            " to make an empty split unlikely (below 1%); add rows, change --fractions or use another strategy",
        )
    return _plan(parts), counts


def _key_bytes(key: object) -> bytes:
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, bytearray | memoryview):
        return bytes(key)
    raise TypeError(f"row keys must be bytes or str, not {type(key).__name__}")


def _below(u: np.ndarray, cumulative: Fraction) -> np.ndarray:
    """``u / 2**64 < cumulative`` exactly, for uint64 ``u``."""
    threshold = -((-cumulative.numerator << 64) // cumulative.denominator)  # ceil(cumulative * 2**64)
    if threshold >= 1 << 64:
        return np.ones(u.size, dtype=bool)
    return u < np.uint64(threshold)


# ----------------------------------------------------------------------------------------------- helpers


def _exact_fractions(fractions: Fractions) -> tuple[Fraction, Fraction, Fraction]:
    """The fractions as exact rationals normalised to sum exactly 1 (zero stays zero)."""
    if len(fractions) != 3:
        raise ValueError(f"expected three fractions (train, validation, test), got {len(fractions)}")
    values = [Fraction(f) for f in fractions]
    if any(v < 0 for v in values) or values[0] <= 0:
        raise ValueError(f"fractions must be non-negative with train > 0, got {_fmt(fractions)}")
    total = sum(values, Fraction(0))
    return values[0] / total, values[1] / total, values[2] / total


def _common_denominator(exact: tuple[Fraction, Fraction, Fraction]) -> tuple[tuple[int, int, int], int]:
    denominator = math.lcm(*(f.denominator for f in exact))
    a, b, c = (f.numerator * (denominator // f.denominator) for f in exact)
    return (a, b, c), denominator


def _empty_splits(totals: tuple[int, int, int], exact: tuple[Fraction, Fraction, Fraction]) -> list[str]:
    return [name for name, t, f in zip(SPLIT_NAMES, totals, exact, strict=True) if t == 0 and f > 0]


def _encode(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class/group codes per row (int64, shape ``(n,)``) and the row count per code."""
    try:
        _, codes, counts = np.unique(values, return_inverse=True, return_counts=True)
        return codes.reshape(-1).astype(np.int64), counts.astype(np.int64)
    except TypeError:  # values that do not sort together (e.g. None and str): first-appearance order
        mapping: dict[object, int] = {}
        codes = np.fromiter((mapping.setdefault(v, len(mapping)) for v in values.tolist()), dtype=np.int64, count=values.size)
        return codes, np.bincount(codes, minlength=len(mapping)).astype(np.int64)


def _one_dimensional(values: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _plan(parts: list[np.ndarray]) -> SplitPlan:
    return SplitPlan(indices={name: np.asarray(part, dtype=np.int64) for name, part in zip(SPLIT_NAMES, parts, strict=True)})


def _fmt(fractions: Fractions) -> str:
    return ",".join(str(f) for f in fractions)


__all__ = ["group_split", "hash_split", "ordered_split", "stratified_split"]
