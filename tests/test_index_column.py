"""A pandas index column (``DataFrame.to_csv()`` without ``index=False``, or our own test file fed back) is taken
as the source's index by default: left out of train and validation, its values the test file's index, with a
note saying so; ``index_column`` says otherwise (issue 13)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from model_training.cli import app
from model_training.config.manifest_files import load_manifest_file
from model_training.config.resolve import env_settings, resolve
from model_training.config.run import StreamOptions, build_config
from model_training.data.local import LocalSource
from model_training.errors import DatasetError, command_line
from model_training.output.local_store import LocalStore
from model_training.pipeline import run_pipeline
from model_training.training.jobs import TrainingTarget
from tests.fixtures import write_csv

TARGET = TrainingTarget(image="local", model_output_root="file:///tmp/model-output")
DAY = dt.date(2026, 3, 4)


class Notes:
    """A reporter (the pipeline's ``Reporter`` protocol) that keeps the notes it is given."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def task(self, description: str, total: float | None = None, unit: str = "") -> Any:
        import contextlib

        return contextlib.nullcontext(lambda amount: None)

    def info(self, message: str) -> None:
        self.notes.append(message)


def frame_csv(index_name: str = "", rows: int = 40, start: int = 100) -> str:
    """What pandas writes for a frame of ``rows`` rows (index ``start``, ``start + 1`` ...) with ``to_csv()``: the
    index first, under ``index_name`` ('' for an unnamed index, 'Unnamed: 0' for one read back without index_col)."""
    lines = [f"{index_name},age,balance,y_no,y_yes"]
    lines += [f"{start + i},{20 + i},{i * 7 % 13},{1 - i % 2},{i % 2}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def split(src: Path, root: Path, *, stream: bool = False, reporter: Any = None, **settings: Any) -> dict[str, bytes]:
    config = build_config(run_date=DAY, **settings)
    options = StreamOptions(above_bytes=0, chunk_bytes=512) if stream else StreamOptions(above_bytes=None)
    run_pipeline(LocalSource(src), config, store=LocalStore(root), backend=None, target=TARGET, stream=options, reporter=reporter)
    return {p.relative_to(root).as_posix().split("/", 4)[-1]: p.read_bytes() for p in sorted(root.rglob("part-*"))}


@pytest.mark.parametrize("name", ["", "Unnamed: 0"])
@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_a_pandas_index_is_left_out_of_the_channels_and_is_the_test_file_s_index(tmp_path: Path, name: str, stream: bool) -> None:
    src = write_csv(tmp_path / "frame.csv", frame_csv(name))
    notes = Notes()
    files = split(src, tmp_path / "out", stream=stream, reporter=notes)
    by_split = {key.split("/")[-2]: data.decode() for key, data in files.items()}
    # train/validation: the label, then age and balance (no index column, no y_no)
    first_train = by_split["train"].splitlines()[0].split(",")
    assert len(first_train) == 3 and int(first_train[1]) - 20 in range(40)
    # the test file: one unnamed index column holding the source's index values, then the other columns
    header, *rows = by_split["test"].splitlines()
    assert header == ",age,balance,y_no,y_yes"
    for row in rows:
        index, age = (int(v) for v in row.split(",")[:2])
        assert index - 100 == age - 20  # the source's own index value, not the row number
    (note,) = notes.notes
    assert f"the first column ({name!r}) is an index column" in note and "index_column" in note


def test_the_test_file_fed_back_keeps_its_index_and_gets_no_second_one(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "frame.csv", frame_csv(rows=400))
    first = split(src, tmp_path / "first")
    test_file = write_csv(tmp_path / "test.csv", next(v for k, v in first.items() if k.endswith("test/part-00000")))
    again = split(test_file, tmp_path / "again")
    header, *rows = next(v for k, v in again.items() if k.endswith("test/part-00000")).decode().splitlines()
    assert header == ",age,balance,y_no,y_yes"
    original = {r.split(",")[0] for r in test_file.read_text().splitlines()[1:]}
    assert {r.split(",")[0] for r in rows} <= original


def test_the_setting_silences_the_note_or_refuses_the_file(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "frame.csv", frame_csv())
    notes = Notes()
    assert split(src, tmp_path / "quiet", reporter=notes, index_column="index") == split(src, tmp_path / "auto")
    assert notes.notes == []
    with pytest.raises(DatasetError) as err:
        split(src, tmp_path / "refused", index_column="error")
    uri = src.resolve().as_uri()
    assert (
        err.value.message == f"{uri}: header column 1 has no name: an index column (pandas' to_csv writes one unless index=False)"
    )
    assert err.value.hint_in(command_line) == (
        "write the file with index=False, or leave the column out as the index with --index-column auto"
    )
    assert not any((tmp_path / "refused").rglob("part-*"))


def test_an_unnamed_column_elsewhere_is_still_refused(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "gap.csv", "age,,y_no,y_yes\n" + "".join(f"{i},{i},0,1\n1,{i},1,0\n" for i in range(20)))
    with pytest.raises(DatasetError, match="header column 2 has no name"):
        split(src, tmp_path / "out")


def test_a_first_column_the_configuration_names_is_not_an_index(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "frame.csv", frame_csv("Unnamed: 0"))
    files = split(src, tmp_path / "out", features=("Unnamed: 0", "age"))
    train = next(v for k, v in files.items() if k.endswith("train/part-00000")).decode().splitlines()
    assert all(int(line.split(",")[1]) >= 100 for line in train)  # the column is a feature, as asked


def test_the_setting_comes_from_every_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_TRAINING_INDEX_COLUMN", "error")
    assert resolve(run_date=DAY, env=env_settings()).config.index_column == "error"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"index_column": "index"}))
    assert resolve(run_date=DAY, env=env_settings(), manifest=load_manifest_file(manifest)).config.index_column == "index"
    data = write_csv(tmp_path / "frame.csv", frame_csv())
    res = CliRunner().invoke(app, ["config", "show", str(data), "--index-column", "auto", "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    assert shown["config"]["index_column"] == "auto" and shown["origins"]["index_column"] == "command line"
    res = CliRunner().invoke(app, ["run", str(data), "--index-column", "sometimes", "-q"])
    assert res.exit_code == 2 and "sometimes" in res.output


def test_the_column_without_a_name_is_listed_as_the_index(tmp_path: Path) -> None:
    """Column lists began with a bare comma (``columns (5): , age, …``; ``the columns are: , age, …``)."""
    data = write_csv(tmp_path / "frame.csv", frame_csv())
    res = CliRunner().invoke(app, ["config", "show", str(data), "--label", "target"])
    assert res.exit_code == 1, res.output
    assert "columns (5): '' (index), age, balance, y_no, y_yes\n" in res.stdout
    assert "the columns are: '' (index), age, balance, y_no, y_yes" in res.stderr
