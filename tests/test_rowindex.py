"""The byte-level row index: it accepts a value only if the exact rule (``NUMERIC_PATTERN``, finite)
does, it refuses what is not plain CSV, and the lines it cuts are the lines a naive renderer writes."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from model_training.data import rowindex
from model_training.data.checks import NUMERIC_PATTERN
from model_training.data.gather import take_elements
from model_training.data.rowindex import scan

PATTERN = re.compile(NUMERIC_PATTERN)


def exact(value: str, required: bool) -> bool:
    if value == "":
        return not required
    if not PATTERN.match(value):
        return False
    try:
        return math.isfinite(float(value))
    except (OverflowError, ValueError):
        return False


def index_of(rows: list[list[str]], **kw: object) -> rowindex.RowIndex | None:
    header = ",".join(f"c{i}" for i in range(len(rows[0])))
    data = (header + "\n" + "".join(",".join(r) + "\n" for r in rows)).encode()
    return scan(data, len(header) + 1, len(rows[0]), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("alphabet", ["0123456789.+-eE x", "0123456789.", "01.eE-"], ids=["any", "plain", "signs"])
def test_the_byte_check_never_accepts_what_the_pattern_refuses(alphabet: str) -> None:
    rng = np.random.default_rng(20261129)
    letters = list(alphabet)
    styles = ["{:g}", "{:.3e}", "{:.0f}.", "{:.6f}", "{:+.2f}", "{:.1E}"]

    def value() -> str:
        if rng.random() < 0.6:  # mostly random text: the adversarial part
            return "".join(rng.choice(letters, rng.integers(0, 7)))
        text = styles[rng.integers(0, len(styles))].format(rng.normal() * 10.0 ** rng.integers(-3, 4))
        return text.lstrip("0") if rng.random() < 0.2 and text.startswith("0.") else text

    tried = accepted = 0
    for _ in range(1500):
        rows = [[value() for _ in range(3)] for _ in range(6)]
        for numeric, required in (((0, 1, 2), (0,)), ((1,), ())):
            idx = index_of(rows, numeric=numeric, required=required)
            if idx is None:  # not plain CSV: the general path decides
                continue
            truth = all(exact(r[c], c in required) for r in rows for c in numeric)
            tried += 1
            accepted += idx.numeric_ok
            assert not (idx.numeric_ok and not truth), rows  # (it may defer a valid one: 3-digit exponents)
    assert tried > 1000 and accepted > 10


@pytest.mark.parametrize(
    "value,ok",
    [("1.5", True), ("5.", True), (".5", True), ("0", True), ("1.2.3", False), (".", False), ("1..2", False), ("..", False),
     ("-1e-05", True), ("1e+99", True), ("1e400", False), ("1e", False), ("+", False), ("1-2", False), ("e5", False),
     ("1e5.5", False), ("1.e5", True), (".e5", False), ("-.5", True), ("--1", False), ("9" * 250, True), ("1" * 309, True),
     ("9" * 400, False), ("1" * 150 + "e99", True)],
)  # fmt: skip
def test_values_in_a_long_plain_file(value: str, ok: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # the odd value sits in a later block of a file cut into many, between plain rows
    monkeypatch.setattr(rowindex, "BLOCK_BYTES", 256)
    rows = [[f"{i}.25", f"{i % 2}"] for i in range(200)]
    rows[150][0] = value
    idx = index_of(rows, numeric=(0, 1), required=(1,))
    assert idx is not None
    assert exact(value, False) == ok
    plain = set(value) <= set("0123456789.")
    vouched = len(value) <= (308 if plain else rowindex.MAX_FIELD_BYTES)  # longer: left to the exact check
    assert idx.numeric_ok == (ok and vouched)


def test_a_bad_value_in_a_column_that_is_not_numeric_is_fine() -> None:
    rows = [["1", "a.b.c", "0"], ["2", "x", "1"]]
    idx = index_of(rows, numeric=(0, 2), required=(2,))
    assert idx is not None and idx.numeric_ok


@pytest.mark.parametrize(
    "text",
    ['a,b\n"1",2\n', "a,b\r\n1,2\r\n", "a,b\n1,2\n\n3,4\n", "a,b\n1,2,3\n", "a,b\n1\n", "a,b\n1,\xff\n"],
    ids=["quote", "crlf", "blank-line", "extra-field", "missing-field", "bad-utf8"],
)
def test_what_is_not_plain_csv_goes_to_the_general_path(text: str) -> None:
    data = text.encode("latin-1")
    assert scan(data, data.index(b"\n") + 1, 2) is None


def test_cut_lines_equal_a_naive_rendering() -> None:
    rng = np.random.default_rng(7)
    ncols = 9
    rows = [[str(rng.integers(0, 10 ** rng.integers(1, 5))) for _ in range(ncols)] for _ in range(500)]
    for _ in range(20):
        label = int(rng.integers(0, ncols))
        kept = sorted(set(rng.choice(ncols, rng.integers(1, ncols), replace=True).tolist()) - {label})
        if not kept:
            continue
        from model_training.channels import channel_pieces, cut_fields
        from model_training.data.dataset import Dataset
        from model_training.ports import SourceInfo

        header = ",".join(f"c{i}" for i in range(ncols))
        data = (header + "\n" + "".join(",".join(r) + "\n" for r in rows)).encode()
        dataset = Dataset(source=SourceInfo("x", "x", len(data), ""), columns=tuple(f"c{i}" for i in range(ncols)), raw=data,
                          data_start=len(header) + 1)  # fmt: skip
        columns = [f"c{label}", *(f"c{k}" for k in kept)]
        cuts, pieces = channel_pieces(dataset, columns)
        idx = dataset.row_index(fields=cut_fields(cuts, ncols))
        assert idx is not None
        arr, template, k = idx.elements(cuts, pieces)
        order = rng.permutation(len(rows))
        out = take_elements(arr, order, template, k)
        got = b"".join(v.as_py() for v in out)  # type: ignore[attr-defined]
        want = "".join(",".join([rows[i][label], *(rows[i][c] for c in kept)]) + "\n" for i in order).encode()
        assert got == want, (label, kept)


@pytest.mark.parametrize("ncols", [2, 3, 5, 9, 14])
def test_checked_rows_are_located_as_a_full_scan_locates_them(ncols: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass 2 of the streaming split scans rows pass 1 checked: the fields near a line's ends are found by walking
    from its ends, and every position is the one a full scan finds (any field, any value length, across blocks)."""
    monkeypatch.setattr(rowindex, "BLOCK_BYTES", 512)
    rng = np.random.default_rng(ncols)
    for trial in range(40):
        width = int(rng.integers(0, 12)) if trial % 4 else 80  # long values: the walk gives way to the full scan
        rows = [[str(rng.integers(0, 10 ** rng.integers(1, 3)))[: 1 + width] + "5" * int(rng.integers(0, width + 1))
                 if rng.random() > 0.1 else "" for _ in range(ncols)] for _ in range(int(rng.integers(1, 60)))]  # fmt: skip
        fields = sorted(set(rng.choice(ncols, int(rng.integers(1, ncols + 1))).tolist()))
        full = index_of(rows, fields=fields)
        quick = index_of(rows, fields=fields, checked=True)
        assert full is not None and quick is not None
        assert np.array_equal(full.starts, quick.starts) and np.array_equal(full.ends, quick.ends)
        for f in fields:
            for side in (0, 1):
                assert np.array_equal(full.field_range(f)[side], quick.field_range(f)[side]), (f, side, rows)


@pytest.mark.parametrize(
    "text",
    ['a,b,c\n"1",2,3\n', "a,b,c\r\n1,2,3\r\n", "a,b,c\n1,2,3\n\n3,4,5\n", "a,b,c\n1,2,3,4\n5,6\n", "a,b,c\n1,2\n",
     "a,b,c\n1,2,\xff\n"],
    ids=["quote", "crlf", "blank-line", "counts-that-add-up", "missing-field", "bad-utf8"],
)  # fmt: skip
def test_checked_rows_that_are_not_plain_csv_still_go_to_the_general_path(text: str) -> None:
    """Pass 2's bytes may have changed since pass 1 (the hashes then differ and the run stops): rows that are not
    plain CSV are still refused, and the quick scan never yields positions outside a line."""
    data = text.encode("latin-1")
    for fields in ([0], [2], [1, 2], [0, 1, 2]):
        idx = scan(data, data.index(b"\n") + 1, 3, fields, checked=True)
        if text.endswith("5,6\n"):  # each line's commas are not counted: only those the walk passes are seen
            for f in fields if idx is not None else ():
                start, end = idx.field_range(f)
                assert (idx.starts <= start).all() and (start <= end).all() and (end <= idx.ends).all()
            continue
        assert idx is None, fields
