"""Our channels, as the container reads them: the image's own ``data_utils`` (file discovery, the CSV
sniffing, ``DMatrix`` loading) finds every row and value we wrote, for a channel of one part file and one
sharded into several, under each image's libraries.

With several part files the container links them into one folder and XGBoost reads that folder in
directory order, not key order (seen here: parts 0, 2, 4, 1, 3, 5), so the comparison is of what is read
(shape, label counts, sums of the values), not of row order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.oracle import envs

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module", params=[1, 3], ids=["one-part", "three-parts"])
def channels(request: pytest.FixtureRequest, bank_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run folder of a split-only run of the bank data, with 1 or 3 part files per channel."""
    out = tmp_path_factory.mktemp("channels")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_TRAINING_") or k == "MODEL_TRAINING_SHARED_DATA"}
    env["MODEL_TRAINING_INSTANCE_COUNT"] = str(request.param)
    cli = "from model_training.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", cli, "run", str(bank_csv), "--output", str(out), "--date", "2026-06-01", "--no-train"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (record,) = out.glob("automl/2026-06-01/training/bank-preprocessed/*/run.json")
    parts = sorted((record.parent / "train").iterdir())
    assert len(parts) == request.param
    return record.parent


def _ours(folder: Path) -> dict:
    """What we wrote, read as XGBoost stores it (float32), independent of row order."""
    matrix = np.concatenate([np.loadtxt(p, delimiter=",", dtype=np.float32, ndmin=2) for p in sorted(folder.iterdir())])
    labels, counts = np.unique(matrix[:, 0], return_counts=True)
    features = matrix[:, 1:].astype(np.float64)
    return {
        "rows": matrix.shape[0],
        "columns": matrix.shape[1] - 1,
        "labels": {repr(float(v)): int(c) for v, c in zip(labels, counts, strict=True)},
        "sum": float(features.sum()),
        "sum_squares": float((features * features).sum()),
    }


@pytest.mark.parametrize("version", envs.VERSIONS)
@pytest.mark.parametrize("channel", ["train", "validation"])
def test_the_containers_data_utils_reads_every_row_we_wrote(channels: Path, channel: str, version: str, oracles) -> None:
    theirs = oracles(version).run("channel.py", {"path": str(channels / channel), "content_type": "text/csv"})
    ours = _ours(channels / channel)
    assert {k: theirs[k] for k in ("rows", "columns", "labels")} == {k: ours[k] for k in ("rows", "columns", "labels")}
    assert theirs["sum"] == pytest.approx(ours["sum"], rel=1e-12)
    assert theirs["sum_squares"] == pytest.approx(ours["sum_squares"], rel=1e-12)
    expected_rows = json.loads((channels / "run.json").read_text())["splits"][channel]["rows"]
    assert theirs["rows"] == expected_rows


@pytest.mark.parametrize("version", envs.VERSIONS)
def test_concurrent_loads_of_part_files_each_read_their_own_folder(version: str, oracles, tmp_path: Path) -> None:
    """The container links a channel's part files into one fixed folder under /tmp; two loads at once (two test
    workers) read each other's files unless the scripts hold input_lock.py's lock (a 'three-parts' case once read
    17500 rows of 12 columns from another session's folder)."""
    from concurrent.futures import ThreadPoolExecutor

    folders = []
    for k, (rows, columns) in enumerate([(40, 3), (70, 6)]):
        folder = tmp_path / f"channel-{k}"
        folder.mkdir()
        for part in range(3):
            lines = [",".join([str((r + part) % 2), *(f"{part}.{c}" for c in range(columns))]) for r in range(rows)]
            (folder / f"part-{part:05d}").write_text("\n".join(lines) + "\n")
        folders.append((folder, 3 * rows, columns))
    jobs = [folders[i % 2] for i in range(8)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(lambda job: oracles(version).run("channel.py", {"path": str(job[0])}), jobs))
    assert [(r["rows"], r["columns"]) for r in results] == [(rows, columns) for _, rows, columns in jobs]
