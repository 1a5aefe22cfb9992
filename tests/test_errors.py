"""Errors carry their location as fields (uri, line, column), render their messages from them, and can be
rendered again about another location (a part file of a dataset) without reading a message back."""

from __future__ import annotations

import datetime as dt
import pickle
import re
from pathlib import Path

import pytest

from model_training.config.run import StreamOptions, build_config
from model_training.data.inflate import DecompressedTooLargeError
from model_training.data.local import read_local_source
from model_training.data.parsing import parse_csv
from model_training.data.parts import PartsSource, located
from model_training.errors import (
    COLUMN,
    LINE,
    ConfigurationError,
    DatasetError,
    RunBusyError,
    SplitError,
    TimeBudgetError,
)
from model_training.output.local_store import LocalStore
from model_training.pipeline import run_pipeline
from model_training.training.jobs import TrainingTarget
from tests.fixtures import write_csv

SRC = Path(__file__).resolve().parents[1] / "src" / "model_training"
TARGET = TrainingTarget(image="local", model_output_root="file:///tmp/model-output")


def _label_error() -> DatasetError:
    return DatasetError(
        ("label 2 is outside [0, 1] (column ", COLUMN, ", ", LINE, ")"),
        "fix the label upstream",
        uri="s3://bucket/data.csv",
        line=32,
        column="y",
        log_message=("a label does not fit (column ", COLUMN, ", ", LINE, ")"),
    )


# -- fields --------------------------------------------------------------------------------------


def test_an_error_without_a_location_has_empty_fields_and_its_text_as_message() -> None:
    exc = ConfigurationError("fractions '1,2' have 2 values, expected 3", "give three numbers")
    assert (exc.uri, exc.line, exc.column, exc.dataset_line) == (None, None, None, None)
    assert exc.message == exc.log_message == "fractions '1,2' have 2 values, expected 3"
    assert exc.hint == "give three numbers"
    assert str(exc) == "fractions '1,2' have 2 values, expected 3 (give three numbers)"
    assert exc.retryable is False and exc.exit_code == 1


def test_retryable_and_exit_code_are_the_class_s() -> None:
    assert DatasetError("x").retryable is False
    busy = RunBusyError("the run is being written", uri="s3://bucket/data.csv")
    assert busy.retryable is True and busy.exit_code == 75 and busy.uri == "s3://bucket/data.csv"
    budget = TimeBudgetError("inflating the gzip data stopped after 10 bytes: 3 s left", uri="s3://bucket/data.csv.gz")
    assert budget.message == "s3://bucket/data.csv.gz: inflating the gzip data stopped after 10 bytes: 3 s left"
    assert budget.retryable is True and "timeout" in budget.hint


def test_the_message_is_rendered_from_the_fields() -> None:
    exc = _label_error()
    assert (exc.uri, exc.line, exc.column, exc.dataset_line) == ("s3://bucket/data.csv", 32, "y", None)
    assert exc.message == "s3://bucket/data.csv: label 2 is outside [0, 1] (column 'y', line 32)"
    assert exc.log_message == "s3://bucket/data.csv: a label does not fit (column 'y', line 32)"
    assert exc.args == (exc.message,)


def test_a_uri_alone_is_the_message_s_prefix() -> None:
    exc = DatasetError("the object is empty", "upload a CSV file", uri="/data/in.csv")
    assert exc.message == "/data/in.csv: the object is empty" and exc.uri == "/data/in.csv" and exc.line is None
    assert DatasetError("the gzip data is corrupt", uri="").message == "the gzip data is corrupt"  # no object: no prefix


def test_an_error_of_several_problems_reads_as_a_header_and_a_line_each() -> None:
    """The command line printed it as one line of 600 characters; ``message`` and ``str()`` (logs, the Lambda
    function's report) stay one line."""
    problems = [
        DatasetError(
            ("feature ", COLUMN, " on ", LINE, " is not a number: 'setosa'"), "drop it", uri="f.csv", line=2, column="s"
        ),
        DatasetError(("feature ", COLUMN, " on ", LINE, " is not a number: 'S000'"), "drop it", uri="f.csv", line=2, column="i"),
    ]
    exc = DatasetError.of(problems, "columns the training job cannot read as numbers")
    assert exc.message_lines() == [
        "f.csv: columns the training job cannot read as numbers (2 problems):",
        "feature 's' on line 2 is not a number: 'setosa'",
        "feature 'i' on line 2 is not a number: 'S000'",
    ]
    assert exc.message == (
        "f.csv: columns the training job cannot read as numbers (2 problems): feature 's' on line 2 is not a number: "
        "'setosa'; feature 'i' on line 2 is not a number: 'S000'"
    )
    assert str(exc) == f"{exc.message} (drop it)"
    assert problems[0].message_lines() == [problems[0].message]  # one problem: its message
    many = ConfigurationError.of([ConfigurationError(f"problem {i}") for i in range(25)], "invalid configuration")
    assert many.message_lines()[0] == "invalid configuration (25 problems):"
    assert many.message_lines()[1:] == [*(f"problem {i}" for i in range(20)), "and 5 more"]


def test_a_template_needs_the_fields_it_places() -> None:
    with pytest.raises(ValueError, match="line"):
        DatasetError((LINE, " has 3 fields"), uri="a.csv")
    with pytest.raises(ValueError, match="column"):
        DatasetError(("column ", COLUMN, " is empty"), uri="a.csv", line=2)


# -- relocated -----------------------------------------------------------------------------------


def test_relocated_renders_the_same_text_about_another_location() -> None:
    exc = _label_error()
    moved = exc.relocated("s3://bucket/parts/part-00001.csv", 3, dataset_line=32)
    assert type(moved) is DatasetError and moved.hint == exc.hint and moved.column == "y"
    assert (moved.uri, moved.line, moved.dataset_line) == ("s3://bucket/parts/part-00001.csv", 3, 32)
    assert moved.message == (
        "s3://bucket/parts/part-00001.csv: label 2 is outside [0, 1] (column 'y', line 3 (line 32 of the dataset))"
    )
    assert (
        moved.log_message
        == "s3://bucket/parts/part-00001.csv: a label does not fit (column 'y', line 3 (line 32 of the dataset))"
    )
    assert str(moved) == f"{moved.message} (fix the label upstream)"
    assert exc.message == "s3://bucket/data.csv: label 2 is outside [0, 1] (column 'y', line 32)"  # unchanged
    assert moved.relocated("s3://bucket/data.csv", 32).message == exc.message  # and back: nothing was parsed


def test_relocated_keeps_the_class_and_its_own_attributes() -> None:
    exc = DecompressedTooLargeError("s3://bucket/big.csv.gz", 1000, in_memory=True)
    moved = exc.relocated("s3://bucket/other.csv.gz")
    assert type(moved) is DecompressedTooLargeError and moved.limit == 1000 and moved.in_memory
    assert moved.message == exc.message.replace("big.csv.gz", "other.csv.gz")


def test_relocated_names_an_object_an_error_had_none_of() -> None:
    exc = SplitError("4 rows are too few for fractions 0.7,0.2,0.1", "add rows")
    moved = exc.relocated("file:///data/in.csv")
    assert moved.message == moved.log_message == "file:///data/in.csv: 4 rows are too few for fractions 0.7,0.2,0.1"


def test_an_error_survives_pickling_with_its_fields() -> None:
    exc = pickle.loads(pickle.dumps(_label_error()))
    assert exc.message == _label_error().message and (exc.uri, exc.line, exc.column) == ("s3://bucket/data.csv", 32, "y")
    assert exc.relocated("p.csv", 2).message == "p.csv: label 2 is outside [0, 1] (column 'y', line 2)"


# -- the raise sites give the fields ---------------------------------------------------------------


def _parse(tmp_path: Path, content: str | bytes) -> DatasetError:
    info, data = read_local_source(write_csv(tmp_path / "d.csv", content))
    with pytest.raises(DatasetError) as err:
        parse_csv(info, data).row_index()
    return err.value


def test_a_ragged_row_gives_its_uri_and_line(tmp_path: Path) -> None:
    exc = _parse(tmp_path, "a,b,c\n1,2,3\n\n4,5\n")
    assert exc.uri == (tmp_path / "d.csv").resolve().as_uri() and exc.line == 4 and exc.column is None
    assert exc.message == f"{exc.uri}: line 4 has 2 fields, the header has 3"


def test_invalid_utf8_gives_its_line_and_column(tmp_path: Path) -> None:
    exc = _parse(tmp_path, b"a,b,c\n1,2,3\n1,\xff,3\n")
    assert (exc.line, exc.column) == (3, "b")
    assert exc.message == f"{exc.uri}: line 3 (column 'b') is not valid UTF-8 (byte 3 of the line)"


def test_a_header_without_names_gives_its_line(tmp_path: Path) -> None:
    exc = _parse(tmp_path, "\n\n,,\n1,2,3\n")
    assert exc.line == 3 and exc.message == f"{exc.uri}: line 3 has no column names"


# -- a folder of part files ----------------------------------------------------------------------


def _split(source: PartsSource, root: Path, *, stream: bool) -> None:
    config = build_config(run_date=dt.date(2026, 1, 1), label="y", drop=())
    options = StreamOptions(above_bytes=0, chunk_bytes=64 * 1024) if stream else StreamOptions(above_bytes=None)
    run_pipeline(source, config, store=LocalStore(root), backend=None, target=TARGET, stream=options)


def _folder(path: Path, *texts: str) -> Path:
    path.mkdir()
    for i, text in enumerate(texts):
        (path / f"part-{i:05d}.csv").write_text(text)
    return path


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_a_part_folder_s_error_keeps_its_fields_about_the_part(tmp_path: Path, stream: bool) -> None:
    rows = "".join(f"{i},{i % 2}\n" for i in range(50))
    folder = _folder(tmp_path / "parts", "x,y\n" + rows, "x,y\n1,0\n2,1\nabc,0\n")
    with pytest.raises(DatasetError) as err:
        _split(PartsSource(folder=folder), tmp_path / "out", stream=stream)
    exc = err.value
    part = (folder / "part-00001.csv").resolve().as_uri()
    assert (exc.uri, exc.line, exc.dataset_line, exc.column) == (part, 4, 54, "x")
    assert exc.message == f"{part}: feature 'x' on line 4 (line 54 of the dataset) is not a number: 'abc'"
    assert exc.log_message == f"{part}: feature 'x' on line 4 (line 54 of the dataset) is not a number (value withheld from logs)"


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_a_label_error_in_a_part_names_the_part_its_line_and_column(tmp_path: Path, stream: bool) -> None:
    rows = "".join(f"{i},{i % 2}\n" for i in range(50))
    folder = _folder(tmp_path / "parts", "x,y\n" + rows, "x,y\n1,0\n2,7\n")
    with pytest.raises(DatasetError) as err:
        _split(PartsSource(folder=folder), tmp_path / "out", stream=stream)
    part = (folder / "part-00001.csv").resolve().as_uri()
    assert (err.value.uri, err.value.line, err.value.dataset_line, err.value.column) == (part, 3, 53, "y")
    assert err.value.message.endswith("(column 'y', line 3 (line 53 of the dataset))")


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_text_columns_in_several_parts_are_each_named_in_their_part(tmp_path: Path, stream: bool) -> None:
    rows = "".join(f"{i},{i},{i % 2}\n" for i in range(50))
    folder = _folder(tmp_path / "parts", "x,z,y\n" + rows, "x,z,y\n1,1,0\nabc,2,1\n", "x,z,y\n1,1,0\n2,2,1\n3,def,0\n")
    with pytest.raises(DatasetError) as err:
        _split(PartsSource(folder=folder), tmp_path / "out", stream=stream)
    exc, (second, third) = err.value, [(folder / f"part-0000{i}.csv").resolve().as_uri() for i in (1, 2)]
    assert exc.uri == PartsSource(folder=folder).uri
    assert [(e.uri, e.line, e.dataset_line, e.column) for e in exc.errors] == [(second, 3, 53, "x"), (third, 4, 56, "z")]
    assert exc.message.endswith(
        f"(2 problems): {second}: feature 'x' on line 3 (line 53 of the dataset) is not a number: 'abc'; "
        f"{third}: feature 'z' on line 4 (line 56 of the dataset) is not a number: 'def'"
    )


def test_located_leaves_an_error_about_a_part_or_without_a_line_alone(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "parts", "x,y\n1,0\n", "x,y\n2,1\n")
    source = PartsSource(folder=folder)
    part = (folder / "part-00001.csv").resolve().as_uri()  # it starts with the folder's URI
    about_part = DatasetError(("its first line is not the dataset's header (", LINE, " has no column names)"), uri=part, line=1)
    assert located(about_part, source) is about_part
    no_line = DatasetError("the file has a header but no data rows", uri=source.uri)
    assert located(no_line, source) is no_line
    past_end = DatasetError((LINE, " has 3 fields, the header has 2"), uri=source.uri, line=99)
    assert located(past_end, source) is past_end
    first = located(DatasetError((LINE, " has 3 fields, the header has 2"), uri=source.uri, line=2), source)
    assert (
        first.message
        == f"{(folder / 'part-00000.csv').resolve().as_uri()}: line 2 (line 2 of the dataset) has 3 fields, the header has 2"
    )
    second = located(DatasetError((LINE, " has 3 fields, the header has 2"), uri=source.uri, line=3), source)
    assert (second.uri, second.line, second.dataset_line) == (part, 2, 3)


def test_nothing_reads_a_message_back() -> None:
    """No module parses an error's message (a regular expression over it, or cutting it up): the location is
    in the fields."""
    reading = re.compile(
        r"re\.\w+\([^)]*\.(message|log_message)\b"
        r"|\.(message|log_message)\s*\.\s*(split|rsplit|partition|rpartition|startswith|endswith|index|find|removeprefix)\("
    )
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if reading.search(line)
    ]
    assert offenders == []
