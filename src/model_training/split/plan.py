"""Seeded, exact, deterministic assignment of rows to the train/validation/test splits: the plan every
strategy returns, the ``random`` strategy, and the one "too few rows" check (:func:`require_rows`).

The ``random`` strategy is the original stage's: the row order is ``numpy.random.RandomState(seed).permutation(n)``
(what pandas' ``DataFrame.sample(frac=1, random_state=seed)`` draws), cut at ``int(0.7 n)`` and ``int(0.9 n)``
for the default fractions (:func:`cut_points`); rows inside each split keep the shuffled order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from model_training.config.run import SPLIT_NAMES
from model_training.config.split import SplitConfig, format_fractions
from model_training.errors import Setting, SplitError


@dataclass(frozen=True)
class SplitPlan:
    """Which source rows (0-based, header excluded) go to which split, in output order.

    Attributes:
        indices: ``{"train": integer array, "validation": ..., "test": ...}`` (int64, or uint32 from
            :func:`seeded_permutation`); together a permutation of
            ``range(n)``.
    """

    indices: dict[str, np.ndarray]

    def rows(self, split: str) -> int:
        """Number of rows in ``split``."""
        return int(self.indices[split].size)


def cut_points(n: int, fractions: tuple[Decimal, Decimal, Decimal]) -> tuple[int, int]:
    """The two cut positions in a shuffled order of ``n`` rows.

    ``cut_k = int(float(c_k) * n)`` where ``c_k`` is the exact decimal cumulative fraction (0.7, then
    0.9 for the defaults).  Summing the fractions as decimals first matters: in floats 0.7 + 0.2 is
    0.8999999999999999, which cuts one row early for n = 30; and computing ``float * n`` (rather than
    exact rational arithmetic) is what reproduces the original's ``int(0.7 * n)`` to the row.
    """
    c1 = fractions[0]
    c2 = fractions[0] + fractions[1]
    first = min(int(float(c1) * n), n)
    second = min(int(float(c2) * n), n)
    if fractions[2] == 0:  # fractions summing to 1 within 1e-9 must still leave no test rows
        second = n
    return first, second


def minimum_rows(fractions: tuple[Decimal, Decimal, Decimal]) -> int:
    """The smallest row count from which on every split with a non-zero fraction gets at least one row.

    Floored cuts are not monotonic (52 rows can leave a 1% validation split empty while 51 do not), so
    this is the smallest ``n`` such that every count from ``n`` on works; beyond ``2 / min(fraction)``
    rows every count works, which bounds the search.
    """
    smallest = min(f for f in fractions if f > 0)
    limit = int(2 / smallest) + 2
    if limit > 5_000_000:  # fractions below ~4e-7: the exact answer is not worth 40 MB of arrays
        return limit
    n = np.arange(1, limit + 1, dtype=np.int64)
    c1 = float(fractions[0])
    c2 = float(fractions[0] + fractions[1])
    first = np.minimum(np.floor(c1 * n), n)
    second = n if fractions[2] == 0 else np.minimum(np.floor(c2 * n), n)
    sizes = (first, second - first, n - second)
    works = np.ones(limit, dtype=bool)
    for size, f in zip(sizes, fractions, strict=True):
        if f > 0:
            works &= size > 0
    failing = np.flatnonzero(~works)
    return int(failing[-1] + 2) if failing.size else 1


def plan_split(n: int, config: SplitConfig, source: str = "") -> SplitPlan:
    """Assign ``n`` rows to the splits with the configured strategy.

    Args:
        source: the source's URI, for the error message.

    Raises:
        SplitError: a split with a non-zero fraction would be empty; the message states the minimum rows.
    """
    require_rows(_sizes(n, config.fractions), config.fractions, lambda: minimum_rows(config.fractions), source=source)
    order = seeded_permutation(n, config.seed)
    first, second = cut_points(n, config.fractions)
    return SplitPlan(indices={"train": order[:first], "validation": order[first:second], "test": order[second:]})


def require_rows(
    sizes: Sequence[int],
    fractions: tuple[Decimal, Decimal, Decimal],
    minimum: Callable[[], int],
    *,
    strategy: str = "",
    source: str = "",
) -> None:
    """Refuse a split that leaves a split with a non-zero fraction without rows ("too few rows").

    Args:
        sizes: the rows each split would get, ``(train, validation, test)``; their sum is the row count.
        fractions: the configured ``(train, validation, test)`` fractions.
        minimum: the smallest row count from which on every count works for this strategy and these
            fractions (called only when a split is empty).
        strategy: the strategy's name, when the minimum is its own (``"stratified"``).
        source: the source's URI, for the message.

    Raises:
        SplitError: "[source: ]N rows are too few for fractions 0.7,0.2,0.1: the validation split would be
            empty", with the minimum in the hint.
    """
    empty = [name for name, size, f in zip(SPLIT_NAMES, sizes, fractions, strict=True) if size == 0 and f > 0]
    if not empty:
        return
    n = sum(sizes)
    rows = "1 row is" if n == 1 else f"{n} rows are"
    which = f"a {strategy} split with these fractions" if strategy else "these fractions"
    raise SplitError(
        f"{rows} too few for fractions {format_fractions(fractions)}: the {' and '.join(empty)} split would be empty",
        (f"{minimum()} rows or more always work for {which}; add rows or change ", Setting("fractions")),
        uri=source,
    )


def seeded_permutation(n: int, seed: int) -> np.ndarray:
    """``numpy.random.RandomState(seed).permutation(n)``, the same values, as uint32 when ``n < 2**32``.

    ``permutation`` shuffles ``arange(n)`` in place (Fisher-Yates, one draw per position whatever the
    dtype), so shuffling a uint32 ``arange`` gives the same order in half the memory: 80 MB instead of
    160 MB at 20 million rows, which is what keeps the streaming split within its memory bound.
    """
    order = np.arange(n, dtype=np.uint32 if n < 2**32 else np.int64)
    np.random.RandomState(seed).shuffle(order)
    return order


def _sizes(n: int, fractions: tuple[Decimal, Decimal, Decimal]) -> tuple[int, int, int]:
    first, second = cut_points(n, fractions)
    return first, second - first, n - second


__all__ = ["SplitPlan", "cut_points", "minimum_rows", "plan_split", "require_rows", "seeded_permutation"]
