"""Found by adversarial testing (breaker 1203): a file refused by the streaming split must be refused with the error
the in-memory split gives, whichever chunk holds the problem."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest

from model_training.config.run import StreamOptions, build_config
from model_training.data.local import LocalSource
from model_training.errors import DatasetError
from model_training.output.local_store import LocalStore
from model_training.pipeline import run_pipeline
from model_training.training.jobs import TrainingTarget
from tests.fixtures import write_csv

TARGET = TrainingTarget(image="local", model_output_root="file:///tmp/model-output")


def error_of(src: Path, root: Path, *, stream: bool, **settings: Any) -> DatasetError:
    config = build_config(run_date=dt.date(2026, 1, 1), **settings)
    options = StreamOptions(above_bytes=0, chunk_bytes=4096) if stream else StreamOptions(above_bytes=None)
    with pytest.raises(DatasetError) as err:
        run_pipeline(LocalSource(src), config, store=LocalStore(root), backend=None, target=TARGET, stream=options)
    assert not list(root.rglob("part-*"))
    return err.value


ROWS = "".join(f"{i},{i % 2}\n" for i in range(3000))  # about 25 KB: six chunks of 4 KiB


@pytest.mark.parametrize(
    "text",
    [
        # the labels of the first chunk are 0, 1, 2 (class numbers), of the whole file a quantity (2.5 at the end)
        "a,y\n" + "".join(f"{i},{i % 3}\n" for i in range(3000)) + "1,2.5\n",
        # a label outside [0, 1] in the first chunk, a text value in the last: in memory the text value is reported
        "a,y\n1,2\n" + ROWS + "abc,1\n",
        # ... and a row with a field too many in the last: in memory the malformed row is reported
        "a,y\n1,2\n" + ROWS + "1,1,1\n",
        # a fractional label (stratified) in the first chunk, a label outside [0, 1] in the last: in memory the latter
        "a,y\n1,0.5\n" + ROWS + "1,7\n",
    ],
    ids=["hint-from-every-label", "label-then-text", "label-then-malformed", "fraction-then-range"],
)
def test_a_label_problem_in_an_early_chunk_is_reported_as_in_memory(tmp_path: Path, text: str) -> None:
    src = write_csv(tmp_path / "data.csv", text)
    settings: dict[str, Any] = {"label": "y", "drop": ()}
    if "0.5" in text:
        settings["strategy"] = "stratified"
    memory = error_of(src, tmp_path / "memory", stream=False, **settings)
    stream = error_of(src, tmp_path / "stream", stream=True, **settings)
    assert stream.message == memory.message
    assert stream.hint == memory.hint


def test_checked_rows_with_fewer_commas_are_never_located_out_of_order() -> None:
    # pass 2 trusts pass 1's rows; a source changed in between may hold a row of 3 commas (and another of 11, so that
    # the block's count is right): walked from both ends for fields 1, 2 and 5, its commas are met twice, and cuts
    # out of order made pyarrow's take read and free memory it does not own (the process died: free(): invalid size)
    from model_training.data.rowindex import scan

    rows = [",".join(str(i + j) for j in range(8)) for i in range(20)]
    rows[5] = rows[5].replace(",", ";", 4)
    rows[9] += ",1,2,3,4"
    header = ",".join(f"c{j}" for j in range(8))
    data = (header + "\n" + "\n".join(rows) + "\n").encode()
    idx = scan(data, len(header) + 1, 8, fields=[1, 2, 5], checked=True)
    if idx is not None:  # the general path (None) would find the malformed rows
        cuts = [idx.starts, *(side for f in (1, 2, 5) for side in idx.field_range(f)), idx.ends]
        for before, after in itertools.pairwise(cuts):
            assert (before <= after).all()


def test_a_row_squeezed_between_the_passes_is_refused_as_changed_not_a_crash(tmp_path: Path) -> None:
    # the same change through the whole streaming split, in a child process (it died of it)
    import subprocess
    import sys

    script = f"""
import datetime as dt
from pathlib import Path
from model_training.config.run import StreamOptions, build_config
from model_training.data.local import LocalSource
from model_training.errors import DatasetError
from model_training.output.local_store import LocalStore
from model_training.pipeline import run_pipeline
from model_training.training.jobs import TrainingTarget

tmp = Path({str(tmp_path)!r})
names = ["c0", "y", *(f"c{{j}}" for j in range(2, 8))]
rows = [",".join(str(i % 2) if j == 1 else str(i + j) for j in range(8)) for i in range(20000)]
src = tmp / "d.csv"
src.write_text(",".join(names) + "\\n" + "\\n".join(rows) + "\\n")
reads = {{"n": 0}}
original = LocalSource.chunks

def chunks(self, size):
    reads["n"] += 1
    if reads["n"] == 2:
        lines = src.read_bytes().split(b"\\n")
        lines[5] = lines[5].replace(b",", b";", 4)
        lines[9] = lines[9] + b",1" * 4
        src.write_bytes(b"\\n".join(lines))
    yield from original(self, size)

LocalSource.chunks = chunks
config = build_config(run_date=dt.date(2026, 1, 1), label="y", drop=("c0", "c6", "c7"))
try:
    run_pipeline(LocalSource(src), config, store=LocalStore(tmp / "out"), backend=None,
                 target=TrainingTarget(image="local", model_output_root="file:///tmp/model-output"),
                 stream=StreamOptions(above_bytes=0, chunk_bytes=256 * 1024))
except DatasetError as exc:
    print(exc.message)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "changed while the streaming split read it" in done.stdout
    assert not any((tmp_path / "out").rglob("part-*"))


@pytest.mark.parametrize("stream", [False, True], ids=["memory", "stream"])
def test_a_malformed_row_with_bytes_that_are_not_utf8_prints_no_traceback(tmp_path: Path, stream: bool) -> None:
    # pyarrow decodes an invalid row's text for the invalid-row handler: bytes that are not UTF-8 made the handler
    # fail inside pyarrow, which printed "Exception ignored in: <function parse_table.<locals>.on_invalid ...>" and
    # a traceback on standard error, before the (right) error
    import subprocess
    import sys

    src = write_csv(tmp_path / "data.csv", b"a,t,y\n1,x,0\n2,\xff,1,9\n3,x,0\n")
    mode = "--stream" if stream else "--in-memory"
    args = ["run", str(src), "--label", "y", "--drop", "t", "--no-train", "-q", mode, "-o", str(tmp_path / "out")]
    done = subprocess.run([sys.executable, "-m", "model_training.cli", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "line 3 has 4 fields, the header has 3" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


@pytest.mark.parametrize("kind", ["missing", "a-file"])
def test_an_unusable_temporary_folder_is_named_as_the_setting_not_the_output_folder(tmp_path: Path, kind: str) -> None:
    # the streaming split's temporary folder (MODEL_TRAINING_TMP_DIR) missing or a file: the error was a bare OSError,
    # which the command line reported with "check that the output folder (-o) is a writable directory"
    from model_training.errors import ConfigurationError

    src = write_csv(tmp_path / "data.csv", "a,y\n" + ROWS)
    folder = tmp_path / "nowhere" / "tmp"
    if kind == "a-file":
        folder = write_csv(tmp_path / "tmp-file", "x")
    config = build_config(run_date=dt.date(2026, 1, 1), label="y", drop=())
    options = StreamOptions(above_bytes=0, chunk_bytes=4096, tmp_dir=str(folder))
    with pytest.raises(ConfigurationError) as err:
        run_pipeline(LocalSource(src), config, store=LocalStore(tmp_path / "out"), backend=None, target=TARGET, stream=options)
    assert "MODEL_TRAINING_TMP_DIR" in str(err.value) and str(folder) in str(err.value)
    assert not any((tmp_path / "out").rglob("part-*"))


def files_of(src: Path, root: Path, *, stream: bool, **settings: Any) -> dict[str, bytes]:
    config = build_config(run_date=dt.date(2026, 1, 1), **settings)
    options = StreamOptions(above_bytes=0, chunk_bytes=64) if stream else StreamOptions(above_bytes=None)
    result = run_pipeline(LocalSource(src), config, store=LocalStore(root), backend=None, target=TARGET, stream=options)
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("part-*"))}
    files["run.json"] = (root / result.record.prefix / "run.json").read_text().replace(str(root), "ROOT").encode()
    return files


@pytest.mark.parametrize("rows_end", [b"\n", b"\r\n"], ids=["lf-rows", "crlf-rows"])
def test_a_header_ending_in_a_carriage_return_streams_to_the_same_bytes(tmp_path: Path, rows_end: bytes) -> None:
    # the header's line ends with a bare CR, the rows' with LF: the streaming split cut the header at the first LF,
    # so the first data row became part of the header put in front of every chunk, and was split once per chunk
    text = b"a,t,y\r" + b"".join(b"%d,x,%d%s" % (i, i % 2, rows_end) for i in range(40))
    src = write_csv(tmp_path / "data.csv", text)
    memory = files_of(src, tmp_path / "memory", stream=False, label="y", drop=("t",))
    stream = files_of(src, tmp_path / "stream", stream=True, label="y", drop=("t",))
    assert stream == memory


@pytest.mark.parametrize(
    "text",
    [
        b"a,y\n" + b"".join(b"%d,%d%s" % (i, i % 2, b"\r" if i % 3 == 0 else b"\n") for i in range(3000)) + b"abc,1\n",
        b"a,y\r\n" + b"".join(b"%d,%d\r\n%s" % (i, i % 2, b"\r" if i % 7 == 0 else b"") for i in range(3000)) + b"abc,1\r\n",
    ],
    ids=["cr-and-lf-rows", "crlf-rows-and-cr-blank-lines"],
)
def test_lines_ended_by_a_bare_carriage_return_are_counted_as_in_memory(tmp_path: Path, text: bytes) -> None:
    # the streaming split counted the lines of chunks it parsed with pyarrow by their LFs only: an error's line, in a
    # file whose lines end in both ways, was some lines short of the in-memory split's
    src = write_csv(tmp_path / "data.csv", text)
    memory = error_of(src, tmp_path / "memory", stream=False, label="y", drop=())
    stream = error_of(src, tmp_path / "stream", stream=True, label="y", drop=())
    assert memory.line == text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")  # the last line
    assert stream.message == memory.message


def test_the_buckets_stay_within_max_buckets_however_many_rows() -> None:
    # every bucket holds its two files open while pass 2 appends to it (rows scatter to all of them): 600 million
    # narrow rows (a 2.4 GB source) made 600 buckets, 1,200 open files, past Lambda's limit of 1,024 (EMFILE, a
    # "temporary failure" every retry meets again)
    from model_training.split.layout import MAX_BUCKETS, BucketLayout

    config = build_config(run_date=dt.date(2026, 1, 1))
    for n, size in [(20_000_000, 80_000_000), (600_000_000, 2_400_000_000), (2_000_000_000, 8_000_000_000)]:
        sizes = {"train": n * 7 // 10, "validation": n * 2 // 10, "test": n - n * 7 // 10 - n * 2 // 10}
        layout = BucketLayout.build(sizes, n, size, config, 16 * 1024 * 1024)
        assert layout.count <= MAX_BUCKETS, (n, layout.count)
        assert sum(f.rows for f in layout.files) == n
        assert all(f.buckets * f.bucket_rows >= f.rows for f in layout.files)


def test_buckets_of_more_rows_than_a_chunk_stream_to_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the same rule on a small file: few buckets allowed, so each holds more rows than the usual cap
    from model_training.split import layout

    monkeypatch.setattr(layout, "MAX_BUCKETS", 8)
    monkeypatch.setattr(layout, "MAX_CHUNK_ROWS", 20)
    src = write_csv(tmp_path / "data.csv", "a,y\n" + ROWS)
    memory = files_of(src, tmp_path / "memory", stream=False, label="y", drop=())
    stream = files_of(src, tmp_path / "stream", stream=True, label="y", drop=())
    assert stream == memory


def test_a_file_of_cr_lines_with_a_quoted_lf_streams_as_in_memory(tmp_path: Path) -> None:
    # lines end in CR; one quoted value holds an LF: the first chunk "has an LF", so the streaming split cut rows at
    # LFs only, found none outside quotes, and refused the file as one row too long ("line 1 is longer than ...")
    rows = [b"%d,x,%d" % (i, i % 2) for i in range(8000)]
    rows[2] = b'2,"two\nlines",0'
    src = write_csv(tmp_path / "data.csv", b"a,t,y\r" + b"\r".join(rows) + b"\r")
    config = build_config(run_date=dt.date(2026, 1, 1), label="y", drop=("t",))

    def files(root: Path, options: StreamOptions) -> dict[str, bytes]:
        run_pipeline(LocalSource(src), config, store=LocalStore(root), backend=None, target=TARGET, stream=options)
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("part-*"))}

    memory = files(tmp_path / "memory", StreamOptions(above_bytes=None))
    stream = files(tmp_path / "stream", StreamOptions(above_bytes=0, chunk_bytes=1024))  # rows of at most 32 KiB
    assert stream == memory
