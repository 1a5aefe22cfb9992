"""The byte-wise check that every value of a block's numeric fields is a number (:func:`numbers_ok`), for the
row index's scan (:func:`~model_training.data.rowindex.scan`): a handful of passes over byte classes (which may
follow which, and runs from a ``.`` or an exponent), no value parsed.  It errs only towards "maybe not": the
caller then runs the exact check (``tests/test_rowindex.py`` compares the two on random and adversarial text).
"""

from __future__ import annotations

import numpy as np

#: Fields longer than this (in bytes) are left to the exact check: a decimal of up to 308 digits is always
#: finite, and an exponent of two digits on a mantissa of fewer than 200 digits cannot overflow either.
MAX_FIELD_BYTES = 200

_DOT, _PLUS, _MINUS, _LOWER_E, _UPPER_E = 46, 43, 45, 101, 69


def numbers_ok(
    c: np.ndarray,
    nl: np.ndarray,
    starts: np.ndarray,
    commas: np.ndarray,
    grid: np.ndarray,
    bounds: dict[int, tuple[np.ndarray, np.ndarray]],
    numeric: frozenset[int],
    required: frozenset[int],
    digit: np.ndarray,
    dot: np.ndarray,
    delim: np.ndarray | None,
) -> bool:
    """Whether every value of the ``numeric`` fields in block ``c`` matches ``NUMERIC_PATTERN``
    (``[+-]?(digits[.digits*]|.digits)([eE][+-]?digits)?``) and is certainly finite, and no ``required``
    field is empty.  ``delim`` (commas and line breaks) is ``None`` for a plain block: only digits, '.',
    ',' and line breaks.

    Finite for sure: a plain decimal of at most 308 bytes, or a mantissa of at most
    :data:`MAX_FIELD_BYTES` bytes with an exponent of at most two digits; longer values are left to the
    exact check.
    """
    for f in required:
        fs, fe = bounds[f]
        if (fs == fe).any():
            return False
    plain = delim is None
    limit = 308 if plain else MAX_FIELD_BYTES
    if int((nl - starts).max()) > limit:  # some field may be long: look at the field lengths
        gaps = np.diff(commas)
        if gaps.size and int(gaps.max()) - 1 > limit:
            return False
        if int((grid[:, 0] - starts).max()) > limit:
            return False
        if int((nl - grid[:, -1]).max()) - 1 > limit:
            return False
    if plain and _plain_numbers_fine(digit, dot):
        return True
    bad = np.zeros(c.size, dtype=bool)
    mid = bad[1:-1]  # a view: positions 1 .. n-2 (position 0 starts a line, the last byte is a line break)
    if delim is not None:
        sign = (c == _PLUS) | (c == _MINUS)
        exp = (c == _LOWER_E) | (c == _UPPER_E)
        bad |= ~(digit | dot | delim | sign | exp)
        bad[0] |= bool(exp[0]) or bool(sign[0] and not (digit[1] or dot[1]))
        prev_delim, prev_exp, prev_digit = delim[:-2], exp[:-2], digit[:-2]
        next_digit, next_dot, next_sign = digit[2:], dot[2:], sign[2:]
        # a sign starts the mantissa (a digit or '.' follows) or the exponent (a digit follows)
        mid |= sign[1:-1] & ~((prev_delim & (next_digit | next_dot)) | (prev_exp & next_digit))
        # an exponent follows a digit, or a '.' that follows a digit; a digit or a sign comes next
        before_dot = np.zeros(c.size - 2, dtype=bool)
        before_dot[1:] = dot[1:-2] & digit[:-3]
        mid |= exp[1:-1] & ~((prev_digit | before_dot) & (next_digit | next_sign))
        # after the exponent only a sign and at most two digits: no '.', no second exponent, nothing overflows
        bad |= _run_hits(exp, digit | sign, dot | exp)
        first = np.zeros(c.size, dtype=bool)  # the exponent's first digit
        first[1:] = exp[:-1] & digit[1:]
        first[2:] |= exp[:-2] & sign[1:-1] & digit[2:]
        bad[2:] |= first[:-2] & digit[1:-1] & digit[2:]  # a third digit
    # a '.' has a digit beside it ('5.', '.5'), and is the field's only one
    mid |= dot[1:-1] & ~(digit[:-2] | digit[2:])
    bad[0] |= bool(dot[0] and not digit[1])
    bad |= _run_hits(dot, digit, dot)
    if not bad.any():
        return True
    # something looked wrong: is it in a numeric field?  (text columns left out of the channels may hold anything)
    where = np.flatnonzero(bad)
    row = np.searchsorted(nl, where)
    col = np.searchsorted(commas, where) - row * grid.shape[1]
    return not np.isin(col, np.fromiter(numeric, dtype=np.int64)).any()


def _plain_numbers_fine(digit: np.ndarray, dot: np.ndarray) -> bool:
    """For a block of digits, '.', ',' and line breaks only: whether every field has a digit beside each
    '.' and at most one '.' (then every field matches the pattern).  The common case, in as few passes as
    possible; ``False`` sends the block to the general check, which finds the field."""
    if not dot.any():
        return True
    nondigit = ~digit
    if bool(dot[0]) and not bool(digit[1]):
        return False
    lonely = dot[1:-1] & nondigit[:-2]
    lonely &= nondigit[2:]
    if lonely.any():
        return False
    cur = dot  # runs from each '.' over digits must not reach another '.'
    k = 0
    while True:
        k += 1
        if k >= dot.size:
            return True
        step = cur[:-1]
        if (step & dot[k:]).any():
            return False
        cur = step & digit[k:]
        if not cur.any():
            return True


def _run_hits(begin: np.ndarray, through: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """Positions of ``hit`` reached from a ``begin`` position by steps over ``through`` bytes only."""
    out = np.zeros(begin.size, dtype=bool)
    cur = begin
    k = 0
    while True:
        k += 1
        if k >= begin.size:
            return out
        step = cur[:-1]
        out[k:] |= step & hit[k:]
        cur = step & through[k:]
        if not cur.any():
            return out
