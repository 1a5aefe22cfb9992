"""A folder of CSV part files is one dataset, split as if the parts were concatenated in key order."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from model_training.config.run import StreamOptions, build_config
from model_training.data.local import LocalSource
from model_training.data.parts import PartsSource, is_part_name
from model_training.errors import DatasetError
from model_training.events import ObjectRef, skip_reason
from model_training.output.local_store import LocalStore
from model_training.pipeline import run_pipeline
from model_training.training.jobs import TrainingTarget
from tests.fixtures import write_csv

TARGET = TrainingTarget(image="local", model_output_root="file:///tmp/model-output")


def split(source: object, root: Path, *, stream: bool = False, **settings: object) -> dict[str, bytes]:
    config = build_config(run_date=dt.date(2026, 1, 1), **settings)
    options = StreamOptions(above_bytes=0, chunk_bytes=64 * 1024) if stream else StreamOptions(above_bytes=None)
    run_pipeline(source, config, store=LocalStore(root), backend=None, target=TARGET, stream=options)  # type: ignore[arg-type]
    return {p.relative_to(root).as_posix().split("/", 5)[-1]: p.read_bytes() for p in sorted(root.rglob("part-*"))}


def write_parts(folder: Path, bank: bytes, cuts: int = 5) -> None:
    header, body = bank.split(b"\n", 1)
    lines = body.splitlines(keepends=True)
    step = len(lines) // cuts + 1
    folder.mkdir()
    for i in range(cuts):
        chunk = b"".join(lines[i * step : (i + 1) * step])
        name = f"part-{i:05d}-4f1c-c000.csv"
        data = header + b"\n" + chunk
        if i == 1:  # a gzip part
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        elif i == 2:  # no line break after its last row
            (folder / name).write_bytes(data.rstrip(b"\n"))
        else:
            (folder / name).write_bytes(data)
    (folder / "part-00009-empty.csv").write_bytes(header + b"\n")  # an empty partition: header only
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / ".part-00000-4f1c-c000.csv.crc").write_bytes(b"crc")
    (folder / "manifest.json").write_text('{"split": {"seed": 1729}}')


def test_a_folder_of_parts_splits_like_the_concatenated_file(tmp_path: Path, bank_csv: Path) -> None:
    bank = bank_csv.read_bytes()
    write_parts(tmp_path / "parts", bank)
    whole = split(LocalSource(bank_csv), tmp_path / "whole")
    from_parts = split(PartsSource(folder=tmp_path / "parts"), tmp_path / "from-parts")
    streamed = split(PartsSource(folder=tmp_path / "parts"), tmp_path / "streamed", stream=True)
    assert whole == from_parts == streamed
    assert len(whole) == 3


def test_parts_are_listed_in_key_order_without_markers(tmp_path: Path, bank_csv: Path) -> None:
    write_parts(tmp_path / "parts", bank_csv.read_bytes())
    names = [p.uri.rsplit("/", 1)[-1] for p in PartsSource(folder=tmp_path / "parts").parts()]
    assert names == [
        "part-00000-4f1c-c000.csv",
        "part-00001-4f1c-c000.csv.gz",
        "part-00002-4f1c-c000.csv",
        "part-00003-4f1c-c000.csv",
        "part-00004-4f1c-c000.csv",
        "part-00009-empty.csv",
    ]
    assert not is_part_name("_SUCCESS") and not is_part_name("x/.a.crc") and not is_part_name("manifest.json")


def test_a_part_with_another_header_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "part-00000.csv").write_text("x,y\n1,0\n2,1\n")
    (folder / "part-00001.csv").write_text("x,z\n3,0\n")
    with pytest.raises(DatasetError, match=r"part-00001\.csv: its header differs") as err:
        split(PartsSource(folder=folder), tmp_path / "out", label="y", drop=())
    assert "'x,y'" in err.value.hint and "'x,z'" in err.value.hint


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_errors_name_the_part_and_its_line(tmp_path: Path, stream: bool) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "part-00000.csv").write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(50)))
    (folder / "part-00001.csv").write_text("x,y\n1,0\n2,1\nabc,0\n")
    with pytest.raises(DatasetError) as err:
        split(PartsSource(folder=folder), tmp_path / "out", stream=stream, label="y", drop=())
    assert err.value.message.startswith((folder / "part-00001.csv").resolve().as_uri())
    assert "line 4 (line 54 of the dataset)" in err.value.message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("part-*"))


def test_an_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_bytes(b"")
    with pytest.raises(DatasetError, match="no CSV part files"):
        split(PartsSource(folder=tmp_path / "empty"), tmp_path / "out")


def test_the_trigger_splits_a_folder_on_its_success_marker_and_skips_its_parts() -> None:
    marker = ObjectRef(bucket="b", key="exports/bank/_SUCCESS")
    part = ObjectRef(bucket="b", key="exports/bank/part-00000-4f1c-c000.csv")
    assert skip_reason(marker, "automl/{date}/training/{dataset}") is None
    assert "_SUCCESS" in (skip_reason(part, "automl/{date}/training/{dataset}") or "")
    assert skip_reason(ObjectRef(bucket="b", key="bank.csv"), "automl/{date}/training/{dataset}") is None


def _parts(folder: Path, *texts: str | bytes) -> Path:
    folder.mkdir()
    for i, text in enumerate(texts):
        (folder / f"part-{i:05d}.csv").write_bytes(text.encode() if isinstance(text, str) else text)
    return folder


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_a_header_only_first_part_without_a_line_break_is_an_empty_partition(tmp_path: Path, stream: bool) -> None:
    rows = "".join(f"{i},{i % 2}\n" for i in range(60))
    folder = _parts(tmp_path / "parts", "x,y", "x,y\n" + rows)
    files = split(PartsSource(folder=folder), tmp_path / "out", stream=stream, label="y", drop=())
    assert sum(v.count(b"\n") for k, v in files.items() if "test" not in k) + files["test/part-00000"].count(b"\n") - 1 == 60


def test_a_part_without_its_header_is_named(tmp_path: Path) -> None:
    folder = _parts(tmp_path / "parts", "x,y\n1,0\n2,1\n", "1,1\n1,0\n")  # a data row cannot be a header
    with pytest.raises(DatasetError, match=r"part-00001\.csv: its first line is not the dataset's header") as err:
        split(PartsSource(folder=folder), tmp_path / "out", label="y", drop=())
    assert "'x,y'" in err.value.hint
    other = _parts(tmp_path / "other", "x,y\n1,0\n2,1\n", "0,0.5\n1,1.0\n")  # one that can: a header that differs
    with pytest.raises(DatasetError, match=r"part-00001\.csv: its header differs") as err:
        split(PartsSource(folder=other), tmp_path / "out", label="y", drop=())
    assert "'x,y'" in err.value.hint and "'0,0.5'" in err.value.hint


def test_a_part_with_cr_line_ends_is_explained(tmp_path: Path) -> None:
    folder = _parts(tmp_path / "parts", "x,y\n1,0\n2,1\n", "x,y\r3,0\r4,1\r")
    with pytest.raises(DatasetError, match=r"part-00001\.csv: its lines end with \\r alone") as err:
        split(PartsSource(folder=folder), tmp_path / "out", label="y", drop=())
    assert "\\n or \\r\\n" in err.value.hint


def test_a_different_header_is_shown_where_it_differs(tmp_path: Path) -> None:
    long = ",".join(f"column_{i}" for i in range(40))
    other = long.replace("column_30", "column_3O")
    folder = _parts(tmp_path / "parts", f"{long}\n" + ",".join("1" * 40) + "\n", f"{other}\n" + ",".join("1" * 40) + "\n")
    with pytest.raises(DatasetError) as err:
        split(PartsSource(folder=folder), tmp_path / "out", label="column_0", drop=())
    assert "column_30" in err.value.hint and "column_3O" in err.value.hint


def test_a_column_named_like_a_line_does_not_confuse_the_part_locator(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 2}\n" for i in range(50))
    folder = _parts(tmp_path / "parts", "line 2,y\n" + rows, "line 2,y\n1,0\nx,1\n")
    with pytest.raises(DatasetError) as err:
        split(PartsSource(folder=folder), tmp_path / "out", label="y", drop=())
    assert err.value.message.startswith((folder / "part-00001.csv").resolve().as_uri())
    assert "feature 'line 2' on line 3 (line 53 of the dataset)" in err.value.message


def test_a_broken_symlink_among_the_parts_is_refused(tmp_path: Path) -> None:
    folder = _parts(tmp_path / "parts", "x,y\n1,0\n2,1\n")
    (folder / "part-00001.csv").symlink_to(tmp_path / "missing.csv")
    with pytest.raises(DatasetError, match="broken symbolic link"):
        split(PartsSource(folder=folder), tmp_path / "out", label="y", drop=())


@pytest.mark.parametrize(
    "second_header",
    ["\ufeffx,y\n", "\nx,y\n", '"x","y"\n', "x,y\r\n"],
    ids=["bom", "blank-line-first", "quoted", "crlf"],
)
def test_a_part_whose_header_is_written_differently_is_the_same_header(tmp_path: Path, second_header: str) -> None:
    rows = [f"{i},{i % 2}\n" for i in range(60)]
    whole = write_csv(tmp_path / "whole.csv", "x,y\n" + "".join(rows))
    folder = _parts(tmp_path / "parts", "x,y\n" + "".join(rows[:30]), second_header + "".join(rows[30:]))
    assert split(PartsSource(folder=folder), tmp_path / "a", label="y", drop=()) == split(
        LocalSource(whole), tmp_path / "b", label="y", drop=()
    )


def test_a_part_of_blank_lines_is_an_empty_partition_and_errors_still_locate(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 2}\n" for i in range(50))
    folder = _parts(tmp_path / "parts", "x,y\n" + rows, "\n\n\n", "x,y\n1,0\nx,1\n")
    with pytest.raises(DatasetError) as err:
        split(PartsSource(folder=folder), tmp_path / "out", label="y", drop=())
    assert err.value.message.startswith((folder / "part-00002.csv").resolve().as_uri())
    assert "on line 3 (line 53 of the dataset)" in err.value.message
