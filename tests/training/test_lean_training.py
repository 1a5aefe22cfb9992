"""A local run trains without importing scikit-learn or pandas (:mod:`model_training.training.xgboost_import`),
the model and metrics are the same as with them imported, and the learning curve is still drawn.

Each run is a ``model-training run`` in a child process of its own: what a process has imported is the point."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from model_training.training.local_channels import _float32_rows
from model_training.training.xgboost_import import hidden, import_visible

#: Runs the CLI on argv[1] into argv[2] (more arguments passed on), then reports on stderr which of the
#: optional libraries the process had imported.  ``{pre}``: what the process imports first.
CHILD = """
import runpy, sys
{pre}
source, out, *more = sys.argv[1:]
sys.argv = ["model-training", "run", source, "--output", out, "-q", "--date", "2026-01-01", *more]
try:
    runpy.run_module("model_training.cli", run_name="__main__")
finally:
    loaded = [m for m in ("sklearn", "pandas", "scipy.stats", "matplotlib") if m in sys.modules]
    print("LOADED " + ",".join(loaded), file=sys.stderr)
"""


def bank_like_csv(path: Path, rows: int = 400) -> Path:
    """A CSV the stage splits with its defaults (label ``y_yes``, ``y_no`` dropped), learnable, some values missing."""
    rng = np.random.RandomState(3)
    x = rng.normal(size=(rows, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    lines = ["a,b,c,d,y_no,y_yes"]
    for i in range(rows):
        values = ["" if (i % 37 == 5 and j == 2) else f"{x[i, j]:.6f}" for j in range(4)]
        lines.append(",".join([*values, str(1 - y[i]), str(y[i])]))
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(source: Path, out: Path, *more: str, pre: str = "") -> set[str]:
    """Run ``model-training run`` in a child process; returns the optional libraries it had imported."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(pre=pre), str(source), str(out), *more],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    line = next(line for line in proc.stderr.splitlines() if line.startswith("LOADED "))
    return set(filter(None, line[len("LOADED ") :].split(",")))


def job_output(out: Path) -> Path:
    return next(out.rglob("model.tar.gz")).parent


@pytest.fixture(scope="module")
def lean_and_full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str], Path, set[str]]:
    folder = tmp_path_factory.mktemp("lean")
    source = bank_like_csv(folder / "data.csv")
    lean = run_cli(source, folder / "lean")
    full = run_cli(source, folder / "full", pre="import sklearn, pandas")
    return folder / "lean", lean, folder / "full", full


def test_a_local_run_imports_neither_scikit_learn_nor_pandas(lean_and_full: tuple[Path, set[str], Path, set[str]]) -> None:
    _, lean, _, full = lean_and_full
    assert not lean & {"sklearn", "pandas", "scipy.stats"}
    assert {"sklearn", "pandas"} <= full  # the comparison run did have them


def test_the_model_and_metrics_are_the_same_as_with_them_imported(
    lean_and_full: tuple[Path, set[str], Path, set[str]],
) -> None:
    lean_out, _, full_out, _ = lean_and_full
    lean, full = job_output(lean_out), job_output(full_out)
    assert (lean / "model.tar.gz").read_bytes() == (full / "model.tar.gz").read_bytes()
    assert json.loads((lean / "metrics.json").read_text()) == json.loads((full / "metrics.json").read_text())


def test_the_learning_curve_is_still_drawn(lean_and_full: tuple[Path, set[str], Path, set[str]]) -> None:
    lean_out, lean, _, _ = lean_and_full
    png = (job_output(lean_out) / "learning-curve.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert "matplotlib" in lean


def test_a_metric_the_container_computes_with_scikit_learn_still_works(tmp_path: Path) -> None:
    """``accuracy`` is computed with scikit-learn (container_metrics), imported after XGBoost was imported
    without it: the import works and the values are the ones of a process that had scikit-learn from the start."""
    source = bank_like_csv(tmp_path / "data.csv")
    more = ("-H", "eval_metric=accuracy")
    lean = run_cli(source, tmp_path / "lean", *more)
    full = run_cli(source, tmp_path / "full", *more, pre="import sklearn, pandas")
    assert "sklearn" in full
    assert "sklearn" in lean
    metrics = json.loads((job_output(tmp_path / "lean") / "metrics.json").read_text())
    assert {"train:accuracy", "validation:accuracy"} <= set(metrics["final"])
    assert metrics == json.loads((job_output(tmp_path / "full") / "metrics.json").read_text())
    lean_model = (job_output(tmp_path / "lean") / "model.tar.gz").read_bytes()
    assert lean_model == (job_output(tmp_path / "full") / "model.tar.gz").read_bytes()


def test_hidden_modules_import_again_after_the_block() -> None:
    name = "tabnanny"  # a standard module nothing here imports
    if name in sys.modules:
        pytest.skip(f"{name} is imported already")
    with hidden((name, "json")):
        with pytest.raises(ImportError):
            importlib.import_module(name)
        assert importlib.import_module("json")  # imported before the block: left alone
    assert name not in sys.modules
    assert import_visible(name).__name__ == name
    del sys.modules[name]


def test_channel_values_become_float32_as_numpy_casts_them() -> None:
    """Arrow's cast and ``to_tensor`` give the bytes of the former column-by-column ``astype(float32)``: nulls
    as NaN, integers beyond 2**24 and doubles rounded to the nearest float32, overflow to infinity."""
    table = pa.Table.from_batches(
        [
            pa.record_batch(
                {
                    "a": pa.array([1, None, 2**40 + 1, -(2**25) - 1], pa.int64()),
                    "b": pa.array([None, None, None, None], pa.null()),
                    "c": pa.array([0.1, None, 1e300, -3.4e39], pa.float64()),
                }
            ),
            pa.record_batch(
                {"a": pa.array([7], pa.int64()), "b": pa.array([None], pa.null()), "c": pa.array([2.5], pa.float64())}
            ),
        ]
    )
    with np.errstate(over="ignore"):  # -3.4e39 is beyond float32: -inf, as Arrow's cast gives it
        expected = np.column_stack([c.to_numpy(zero_copy_only=False).astype(np.float32) for c in table.columns])
    got = _float32_rows(table)
    assert got.dtype == np.float32 and got.shape == (5, 3) and got.flags["C_CONTIGUOUS"]
    assert got.tobytes() == expected.tobytes()
    assert _float32_rows(table.slice(0, 0)).shape == (0, 3)
