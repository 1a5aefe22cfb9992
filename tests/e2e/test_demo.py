from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from model_training.cli import app
from model_training.demo import write_demo_dataset


def test_demo_dataset_is_deterministic(tmp_path: Path) -> None:
    a = write_demo_dataset(tmp_path / "a").read_bytes()
    b = write_demo_dataset(tmp_path / "b").read_bytes()
    assert a == b
    lines = a.decode().splitlines()
    assert len(lines) == 570
    assert lines[0].endswith(",malignant") and lines[0].count(",") == 30
    assert sum(line.endswith(",1") for line in lines[1:]) == 212


def test_demo_runs_end_to_end_and_ends_with_the_auc(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["demo", "--output", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    last = res.output.strip().splitlines()[-1]
    assert last.startswith("validation AUC ")
    assert float(last.split()[2]) > 0.9
    assert "model: " in res.output and "model.tar.gz" in res.output
    assert list((tmp_path / "out").rglob("model.tar.gz"))
    again = CliRunner().invoke(app, ["demo", "--output", str(tmp_path / "out")])
    assert again.exit_code == 0 and "already done" in again.output
