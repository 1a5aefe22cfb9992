"""Locating the fields of rows already checked by walking from each line's ends (:func:`located_from_line_ends`),
for the row index's scan of bytes whose rows were checked before (:func:`~model_training.data.rowindex.scan`'s
``checked``: the streaming split's pass 2).  Pre-processed files keep the label and the columns left out at a
line's ends, so the channel cuts are a few bytes from a line break: a handful of steps over every row at once,
instead of finding every comma of the block.
"""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np

_COMMA = 44

#: A scan of checked rows finds the first and the last this many commas of a line by walking from its ends; a
#: field further inside needs every comma found.
END_COMMAS = 4
#: Steps (each one byte, for every row of a block at once) that walk may take in a block before finding every
#: comma is cheaper: long values at a line's ends.
WALK_STEPS = 64

_Located = dict[int, tuple[np.ndarray, np.ndarray]]


def located_from_line_ends(
    c: np.ndarray, starts: np.ndarray, nl: np.ndarray, ncols: int, fields: list[int]
) -> _Located | Literal[False] | None:
    """For checked rows of plain text (the caller counted the block's commas and looked for quotes, carriage returns
    and bytes that are not UTF-8): ``fields``' ``(start, end)`` offsets in block ``c`` (``(rows,)`` int64 each, from
    the block's start), found by walking from the lines' ends (``starts``: each line's first byte, ``nl``: its line
    break); ``None`` if a line has fewer commas than the header's fields need (as far as the walk sees: not plain
    CSV); ``False`` if walking does not pay here (a field inside the line, long values at its ends): find every
    comma instead."""
    last = ncols - 2  # the last comma's number in a line
    needed = {i for f in fields for i in (f - 1, f) if 0 <= i <= last}
    if any(END_COMMAS <= i < last - END_COMMAS + 1 for i in needed):
        return False
    commas: dict[int, np.ndarray] = {}
    steps = 0
    forward = sorted(i for i in needed if i < END_COMMAS)  # from each line's start
    backward = sorted((i for i in needed if i >= END_COMMAS), reverse=True)  # from its line break
    for wanted, at, step in ((forward, starts.copy(), 1), (backward, nl - 1, -1)):
        number = 0 if step == 1 else last
        for target in wanted:
            while True:
                if (at >= nl).any() or (at < starts).any():  # a line with fewer commas than the header says
                    return None
                off = c[at] != _COMMA  # the rows not at a comma yet
                if not off.any():
                    if number == target:
                        commas[number] = at.copy()
                        break
                    off[:] = True  # at comma ``number``: step past it, towards the next one
                    number += step
                steps += 1
                if steps > WALK_STEPS:
                    return False
                if step == 1:
                    at += off
                else:
                    at -= off
    numbers = sorted(commas)
    for a, b in itertools.pairwise(numbers):
        # the walks from a line's two ends met: it has fewer commas than the header says (the rows were checked, but
        # a source changed since may hold such a line); cuts out of order would make pyarrow read outside the data
        if (commas[a] >= commas[b]).any():
            return None
    bounds: _Located = {}
    for f in fields:
        bounds[f] = (starts if f == 0 else commas[f - 1] + 1, nl if f == ncols - 1 else commas[f])
    return bounds
