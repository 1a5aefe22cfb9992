"""The ``group`` split strategy (split by key): every distinct key value lands in exactly one split.

The rule is scikit-learn's ``GroupShuffleSplit`` (groups in a seeded random order; but balanced on rows, not on
the number of groups) and SageMaker Data Wrangler's "Split by key" transform (no key value in two splits).
What the strategies share is in :mod:`~model_training.split.shared`.
"""

from __future__ import annotations

import numpy as np

from model_training.config.run import SPLIT_NAMES
from model_training.config.split import format_fractions
from model_training.errors import Setting, SplitError
from model_training.split.plan import SplitPlan
from model_training.split.shared import Fractions, encode, exact_fractions, one_dimensional, plan_of


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
    keys = one_dimensional(keys, "keys")
    exact = exact_fractions(fractions)
    n = keys.size
    active = [k for k in range(3) if exact[k] > 0]
    codes, sizes = encode(keys)
    groups = sizes.size
    if groups < len(active):
        names = [SPLIT_NAMES[k] for k in active[groups:]]
        have = "1 distinct key value" if groups == 1 else f"{groups} distinct key values"
        raise SplitError(
            f"{n} rows with {have} are too few for fractions {format_fractions(fractions)}: every key value stays in one"
            f" split, so the {' and '.join(names)} split would be empty",
            (
                f"a split by key with these fractions needs at least {len(active)} distinct key values"
                " (one per split with a non-zero fraction); add rows with other keys or change ",
                Setting("fractions"),
            ),
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
    return plan_of(parts), achieved


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


__all__ = ["group_split"]
