"""The ``hash`` split strategy: a row's split is a function of a fingerprint of its key alone.

The rule is TFX ExampleGen's ``hash_buckets`` output config: stable across runs, file orders and chunkings.
What the strategies share is in :mod:`~model_training.split.shared`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from model_training.config.run import SPLIT_NAMES
from model_training.config.split import format_fractions
from model_training.errors import Setting, SplitError
from model_training.split.plan import SplitPlan
from model_training.split.shared import Fractions, exact_fractions, plan_of


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
    exact = exact_fractions(fractions)
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
            f"the hash split of {rows} with fractions {format_fractions(fractions)} left the {names} split empty ({expected})",
            (
                "hash splits meet the fractions only in expectation: a split with fraction f is empty with probability"
                f" (1 - f)^n; {math.ceil(1 / smallest)} rows are needed to expect one row and {math.ceil(5 / smallest)}"
                " to make an empty split unlikely (below 1%); add rows, change ",
                Setting("fractions"),
                " or use another strategy",
            ),
        )
    return plan_of(parts), counts


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


__all__ = ["hash_fingerprints", "hash_split", "hash_split_fingerprints"]
