"""Rows rendered from their own cuts (:meth:`~model_training.data.rowindex.RowIndex.take_rows`): the same bytes as
the whole file's element array, without building it (issue 16: 82 MB of offsets on 2 million rows, a sixth of the
in-memory split's peak beyond the source)."""

from __future__ import annotations

import numpy as np

from model_training.channels import channel_pieces, cut_fields, render_rows
from model_training.data.dataset import Dataset
from model_training.data.gather import take_elements
from model_training.ports import SourceInfo


def _dataset(rows: list[list[str]], ncols: int) -> Dataset:
    header = ",".join(f"c{i}" for i in range(ncols))
    data = (header + "\n" + "".join(",".join(r) + "\n" for r in rows)).encode()
    return Dataset(source=SourceInfo("x", "x", len(data), ""), columns=tuple(f"c{i}" for i in range(ncols)), raw=data,
                   data_start=len(header) + 1)  # fmt: skip


def test_take_rows_gives_what_the_element_array_gives() -> None:
    rng = np.random.default_rng(11)
    ncols = 8
    rows = [[str(rng.integers(0, 10 ** rng.integers(1, 6))) for _ in range(ncols)] for _ in range(300)]
    dataset = _dataset(rows, ncols)
    for _ in range(25):
        label = int(rng.integers(0, ncols))
        kept = sorted(set(rng.choice(ncols, rng.integers(1, ncols), replace=True).tolist()) - {label})
        if not kept:
            continue
        columns = [f"c{label}", *(f"c{k}" for k in kept)]
        cuts, pieces = channel_pieces(dataset, columns)
        idx = dataset.row_index(fields=cut_fields(cuts, ncols))
        assert idx is not None
        picked = rng.choice(len(rows), int(rng.integers(1, len(rows))), replace=bool(rng.integers(0, 2)))
        arr, template, k = idx.elements(cuts, pieces, cache=False)
        want = take_elements(arr, picked, template, k)
        got, per_row = idx.take_rows(picked, cuts, pieces)
        assert per_row == len(template)
        assert got.to_pylist() == want.to_pylist(), (label, kept)  # type: ignore[attr-defined]


def test_rendering_builds_no_whole_file_element_array() -> None:
    ncols = 5
    rows = [[str(i * 7 + j) for j in range(ncols)] for i in range(1000)]
    dataset = _dataset(rows, ncols)
    order = np.random.default_rng(3).permutation(1000)[:400]
    data, offsets = render_rows(dataset, order, ["c4", "c0", "c1", "c2"])
    assert bytes(data) == b"".join(f"{rows[i][4]},{rows[i][0]},{rows[i][1]},{rows[i][2]}\n".encode() for i in order)
    assert offsets.size == 401
    test, _ = render_rows(dataset, order[:10], None, index_base=5)
    assert bytes(test) == b"".join(f"{i + 5},{','.join(rows[i])}\n".encode() for i in order[:10])
    idx = dataset.built_row_index()
    assert idx is not None and not idx._elements  # nothing of rows x cuts kept
