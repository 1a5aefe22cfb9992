"""The streaming split writes the same bytes as the in-memory split, in bounded memory.

Byte-identity is checked on the bank data cut into about 40 chunks, for every strategy, and on files that
take the general (quoted, CRLF, blank-line) path in some chunks and the byte-level path in others; errors
name the same line as in memory.
"""

from __future__ import annotations

import datetime as dt
import gzip
import random
from pathlib import Path
from typing import Any

import pytest

from model_training.config.run import StreamOptions, build_config
from model_training.data.chunks import row_chunks
from model_training.data.inflate import decompressed
from model_training.data.local import LocalSource
from model_training.errors import DatasetError, command_line
from model_training.output.local_store import LocalStore
from model_training.pipeline import run_pipeline
from model_training.training.jobs import TrainingTarget
from tests.fixtures import write_csv

TARGET = TrainingTarget(image="local", model_output_root="file:///tmp/model-output")
CHUNK = 256 * 1024


def split(src: Path, root: Path, *, stream: bool, chunk: int = CHUNK, **settings: Any) -> dict[str, bytes]:
    config = build_config(run_date=dt.date(2026, 1, 1), **settings)
    options = StreamOptions(above_bytes=0, chunk_bytes=chunk) if stream else StreamOptions(above_bytes=None)
    result = run_pipeline(LocalSource(src), config, store=LocalStore(root), backend=None, target=TARGET, stream=options)
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("part-*"))}
    record = (root / result.record.prefix / "run.json").read_text().replace(str(root), "ROOT")
    files["run.json"] = record.encode()
    return files


def both(src: Path, tmp_path: Path, **kw: Any) -> tuple[dict[str, bytes], dict[str, bytes]]:
    return split(src, tmp_path / "memory", stream=False, **kw), split(src, tmp_path / "stream", stream=True, **kw)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"strategy": "stratified"},
        {"strategy": "hash"},
        {"strategy": "hash", "key": "age"},
        {"strategy": "group", "key": "age"},
        {"strategy": "ordered", "order_by": "campaign"},
        {"fractions": (0.8, 0.2, 0.0)},
    ],
    ids=["random", "stratified", "hash-row", "hash-key", "group", "ordered", "no-test"],
)
def test_streaming_is_byte_identical_to_in_memory(bank_csv: Path, tmp_path: Path, settings: dict[str, Any]) -> None:
    if "fractions" in settings:
        from decimal import Decimal

        settings = {"fractions": tuple(Decimal(str(f)) for f in settings["fractions"])}
    memory, stream = both(bank_csv, tmp_path, **settings)
    assert bank_csv.stat().st_size > 30 * CHUNK  # many chunks
    assert list(memory) == list(stream)
    for name in memory:
        assert memory[name] == stream[name], name


def test_sharded_channels_stream_to_the_same_parts(bank_csv: Path, tmp_path: Path) -> None:
    memory, stream = both(bank_csv, tmp_path, instance_count=3)
    parts = [k for k in memory if "/train/part-" in k]
    assert len(parts) == 3
    assert memory == stream


def test_general_path_chunks_give_the_same_bytes(tmp_path: Path) -> None:
    # quotes, CRLF and blank lines in the middle of the file: those chunks take pyarrow's path, the
    # others the byte-level one; both render a row the same way
    plain = "".join(f"{i % 7},{i * 0.5},{i % 2}\n" for i in range(6000))
    odd = '"1",2.5,1\r\n\n"3","4",0\r\n'
    src = write_csv(tmp_path / "mixed.csv", "a,b,y\n" + plain + odd + plain)
    memory, stream = both(src, tmp_path, label="y", drop=(), chunk=16 * 1024)
    assert memory == stream


def test_gzip_sources_stream(tmp_path: Path, bank_csv: Path) -> None:
    src = tmp_path / "bank.csv.gz"
    src.write_bytes(gzip.compress(bank_csv.read_bytes()[:2_000_000].rsplit(b"\n", 1)[0] + b"\n"))
    memory, stream = both(src, tmp_path)
    assert memory == stream


def test_errors_name_the_same_line_as_in_memory(tmp_path: Path) -> None:
    rows = [f"{i},{i % 2}\n" for i in range(20000)]
    rows[15000] = "oops,1\n"
    src = write_csv(tmp_path / "bad.csv", "x,y\n" + "".join(rows))
    messages = []
    for stream in (False, True):
        with pytest.raises(DatasetError) as err:
            split(src, tmp_path / str(stream), stream=stream, label="y", drop=(), chunk=8 * 1024)
        messages.append(err.value.message)
        assert not any((tmp_path / str(stream)).rglob("part-*"))  # nothing written
    assert messages[0] == messages[1]
    assert "line 15002" in messages[1]


def test_row_chunks_cut_after_a_line_break_outside_quotes() -> None:
    data = b'h\n1\n"a\nb"\n2\n' * 50
    chunks = list(row_chunks([data[i : i + 7] for i in range(0, len(data), 7)], 16, "x"))
    assert b"".join(chunks) == data
    for chunk in chunks:
        assert chunk.endswith(b"\n") and chunk.count(b'"') % 2 == 0


def test_an_unclosed_quote_cannot_be_streamed() -> None:
    with pytest.raises(DatasetError, match="no line break outside quotes"):
        list(row_chunks([b'a,b\n"1,2\n'] + [b"3,4\n" * 100] * 100, 64, "s3://b/k.csv"))


@pytest.mark.parametrize(
    "name,text",
    [
        ("cr-only", "a,b,y\r" + "".join(f"{i},{i * 0.5},{i % 2}\r" for i in range(3000))),
        ("bom-blank-header", "\ufeff\n\na,b,y\n" + "".join(f"{i},{i * 0.5},{i % 2}\n" for i in range(3000))),
        ("empty-lines", "a,b,y\n" + "\n" * 9000 + "".join(f"{i},{i * 0.5},{i % 2}\n" for i in range(3000))),
    ],
)
def test_odd_but_valid_files_stream_to_the_same_bytes(tmp_path: Path, name: str, text: str) -> None:
    src = write_csv(tmp_path / f"{name}.csv", text)
    memory, stream = both(src, tmp_path, label="y", drop=(), chunk=4096)
    assert memory == stream and len(memory) == 4


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("spaces", b"a,b,y\n" + b"1,2,0\n" * 50 + b"   \n" * 5000 + b"1,2,1\n" * 50, "line 52 has 1 fields"),
        ("blank", b" \n\n  \n", "the object is empty"),
        ("gzip-blank", gzip.compress(b" \n\n", mtime=0), "the object is empty (after gzip decompression)"),
        ("gzip-empty", gzip.compress(b"", mtime=0), "the object is empty (after gzip decompression)"),
        ("gzip-truncated", gzip.compress(b"a,b,y\n1,2,0\n" * 100, mtime=0)[:-9], "Compressed file ended"),
        ("gzip-garbage", gzip.compress(b"a,b,y\n1,2,0\n", mtime=0) + b"garbage", "Not a gzipped file"),
        ("cr-only-bad", b"a,b,y\r" + b"1,2,0\r" * 40 + b"x,2,0\r" + b"1,2,1\r" * 40, "on line 42 is not a number"),
    ],
)
def test_bad_files_get_the_same_error_in_both_modes(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    src = write_csv(tmp_path / f"{name}.csv", data)
    messages = []
    for stream in (False, True):
        with pytest.raises(DatasetError) as err:
            split(src, tmp_path / str(stream), stream=stream, label="y", drop=(), chunk=1024)
        messages.append(err.value.message)
    assert messages[0] == messages[1]
    assert message in messages[1]


def test_a_zero_padded_gzip_streams(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "padded.csv.gz", gzip.compress(b"a,b,y\n" + b"1,2,0\n3,4,1\n" * 200) + b"\0" * 512)
    memory, stream = both(src, tmp_path, label="y", drop=())
    assert memory == stream


def test_narrow_rows_stream_in_small_chunks(tmp_path: Path) -> None:
    # a few bytes a row: chunks are cut by rows too, so the row index stays small
    from model_training.data.chunks import MAX_CHUNK_ROWS, RowChunks

    data = b"y,x\n" + b"0,1\n1,0\n" * 400_000
    chunks = list(RowChunks([data[i : i + (8 << 20)] for i in range(0, len(data), 8 << 20)], 8 << 20))
    assert b"".join(chunks) == data
    assert max(c.count(b"\n") for c in chunks) <= 2 * MAX_CHUNK_ROWS + 1


def test_multi_member_gzip_is_read_whole() -> None:
    data = gzip.compress(b"a,b\n1,2\n") + gzip.compress(b"3,4\n")
    assert b"".join(decompressed([data[:5], data[5:]])) == b"a,b\n1,2\n3,4\n"
    with pytest.raises(DatasetError, match=r"corrupt|truncated"):
        list(decompressed([data[:12] + b"garbage" * 10]))
    with pytest.raises(DatasetError, match="Compressed file ended"):  # worded as gzip.decompress words it
        list(decompressed([data[: len(data) - 6]]))


def test_a_local_file_streamed_is_read_twice_and_refused_if_it_changes_between(
    tmp_path: Path, bank_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pass 1 hashes the file as it validates it: that hash is its identity (no read of its own); pass 2 must read
    # the same bytes
    src = tmp_path / "bank.csv"
    src.write_bytes(bank_csv.read_bytes()[:500_000].rsplit(b"\n", 1)[0] + b"\n")
    reads = {"n": 0, "change": False}
    original = LocalSource.chunks

    def chunks(self: LocalSource, size: int):  # type: ignore[no-untyped-def]
        reads["n"] += 1
        if reads["n"] == 2 and reads["change"]:
            src.write_bytes(src.read_bytes().replace(b"\n56,", b"\n57,", 1))
        yield from original(self, size)

    monkeypatch.setattr(LocalSource, "chunks", chunks)
    split(src, tmp_path / "once", stream=True)
    assert reads["n"] == 2  # pass 1 and pass 2
    reads.update(n=0, change=True)
    with pytest.raises(DatasetError, match="changed while the streaming split read it"):
        split(src, tmp_path / "out", stream=True)
    assert not any((tmp_path / "out").rglob("part-*"))


def test_when_to_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    from model_training.config.settings import settings_from_env

    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    assert settings_from_env({}).stream_options().above_bytes == 2 * 1024**3
    assert settings_from_env({"MODEL_TRAINING_STREAM_ABOVE_MB": "0"}).stream_options().above_bytes == 0
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3008")  # in a Lambda: a third of its memory
    assert settings_from_env({}).stream_options().above_bytes == 3008 * 1024**2 // 3
    assert settings_from_env({"MODEL_TRAINING_TMP_DIR": "/scratch"}).stream_options().tmp_dir == "/scratch"


def test_the_command_line_streams_on_request(bank_csv: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from model_training.cli import app

    outputs = {}
    for flag in ("--stream", "--in-memory"):
        result = CliRunner().invoke(app, ["run", str(bank_csv), flag, "--no-train", "-q", "-o", str(tmp_path / flag)])
        assert result.exit_code == 0, result.output
        outputs[flag] = {p.relative_to(tmp_path / flag): p.read_bytes() for p in (tmp_path / flag).rglob("part-*")}
    assert outputs["--stream"] == outputs["--in-memory"] and len(outputs["--stream"]) == 3


def test_narrow_rows_and_gzip_count_for_more_than_their_bytes(tmp_path: Path, bank_csv: Path) -> None:
    from model_training.split.size import ROW_WEIGHT_BYTES, in_memory_size

    narrow = tmp_path / "narrow.csv.gz"
    narrow.write_bytes(gzip.compress(b"y,x\n" + b"0,1\n1,0\n" * 500_000))  # 4 MB of rows in a few KB
    size = narrow.stat().st_size
    assert in_memory_size(LocalSource(narrow), size) >= 900_000 * ROW_WEIGHT_BYTES > 100 * size
    assert in_memory_size(LocalSource(bank_csv), bank_csv.stat().st_size) == bank_csv.stat().st_size  # wide rows: bytes


def test_a_row_longer_than_the_streaming_limit_names_its_line(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 2},x\n" for i in range(20))
    src = write_csv(tmp_path / "long.csv", "a,y,note\n" + rows + "1,0," + "z" * 3_000_000 + "\n" + rows)
    with pytest.raises(DatasetError, match=r"line 22 is longer than 2 MiB") as err:
        split(src, tmp_path / "s", stream=True, label="y", drop=("note",), chunk=64 * 1024)
    assert "--in-memory" in err.value.hint
    assert split(src, tmp_path / "m", stream=False, label="y", drop=("note",))  # in memory it fits


def _three_text_columns(path: Path) -> Path:
    """A CSV whose columns job, marital and education each hold one text value, on lines 12, 1502 and 2902: in
    different chunks of a streaming split of 16 KiB chunks (the file is about 65 KB)."""
    lines = ["job,age,marital,education,y_no,y_yes"]
    for i in range(3000):
        job = "admin." if i == 10 else str(i % 7)
        marital = "married" if i == 1500 else str(i % 3)
        education = "tertiary" if i == 2900 else "" if i % 11 == 0 else str(i % 4)
        lines.append(f"{job},{i},{marital},{education},{1 - i % 2},{i % 2}")
    return write_csv(path, "\n".join(lines) + "\n")


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_every_text_column_is_reported_at_once_with_the_drop_list_to_paste(tmp_path: Path, stream: bool) -> None:
    """Issue 13: text columns were reported one per run (three runs for three columns)."""
    src = _three_text_columns(tmp_path / "people.csv")
    with pytest.raises(DatasetError) as err:
        split(src, tmp_path / "refused", stream=stream, chunk=16 * 1024)
    exc = err.value
    assert [(e.column, e.line) for e in exc.errors] == [("job", 12), ("marital", 1502), ("education", 2902)]
    assert exc.message == (
        f"{src.resolve().as_uri()}: columns the training job cannot read as numbers (3 problems): "
        "feature 'job' on line 12 is not a number: 'admin.'; feature 'marital' on line 1502 is not a number: 'married'; "
        "feature 'education' on line 2902 is not a number: 'tertiary'"
    )
    assert "'admin.'" not in exc.log_message and "feature 'education' on line 2902 is not a number" in exc.log_message
    hint = exc.hint_in(command_line)
    assert "leave them out with --drop y_no,job,marital,education, or encode them upstream" in hint
    assert not (tmp_path / "refused").exists() or not any((tmp_path / "refused").rglob("part-*"))
    # the list is the run's drop list with the columns added: pasted as it is, the run goes through
    files = split(src, tmp_path / "dropped", stream=stream, chunk=16 * 1024, drop=("y_no", "job", "marital", "education"))
    train = next(v for k, v in files.items() if k.endswith("train/part-00000"))
    assert train.count(b"\n") == 2100 and train.split(b"\n")[0].count(b",") == 1  # the label and age


def test_a_later_chunk_s_malformed_row_is_reported_as_in_memory(tmp_path: Path) -> None:
    # once a text column is found, the streaming split reads on for the other columns' problems; a malformed row
    # after it is what the in-memory split reports (it parses the whole file first), so the streaming split too
    rows = "".join(f"{'x' if i == 3 else i},{i % 2},{1 - i % 2}\n" for i in range(2000))
    src = write_csv(tmp_path / "d.csv", "a,y_no,y_yes\n" + rows + "1,2\n")
    with pytest.raises(DatasetError, match="line 2002 has 2 fields, the header has 3"):
        split(src, tmp_path / "m", stream=False)
    with pytest.raises(DatasetError, match="line 2002 has 2 fields, the header has 3"):
        split(src, tmp_path / "s", stream=True, chunk=4 * 1024)


@pytest.mark.parametrize("quotes", [False, True])
@pytest.mark.parametrize("newline", [b"\n", b"\r"])
def test_chunks_joined_to_the_header_are_the_chunks_cut_plainly(quotes: bool, newline: bytes) -> None:
    """Once the header is known the chunks come joined to it in one copy (``views``' ``prefixed``); a chunk is
    the same rows either way, at any piece size (pieces smaller and larger than a chunk, a row across pieces)."""
    from model_training.data.chunks import RowChunks

    rng = random.Random(len(newline) + quotes)
    rows = [
        b"%d,%d" % (i, rng.randrange(10**6)) + (b',"x%sy"' % newline if quotes and i % 97 == 0 else b",z") for i in range(20_000)
    ]
    data = b"h1,h2,h3" + newline + newline.join(rows) + newline
    for chunk_bytes, piece_bytes in ((4096, 1000), (4096, 4096), (4096, 7000), (65536, 4096), (4096, 9000)):
        pieces = [data[i : i + piece_bytes] for i in range(0, len(data), piece_bytes)]
        plain = [bytes(c) for c in RowChunks(pieces, chunk_bytes)]
        header = b"h1,h2,h3" + newline
        joined = RowChunks(pieces, chunk_bytes)
        got = []
        for chunk, prefixed in joined.views():
            if prefixed:
                assert isinstance(chunk, bytes) and chunk.startswith(header)
                got.append(chunk[len(header) :])
            else:
                got.append(bytes(chunk))
            joined.prefix = header
        assert got == plain, (chunk_bytes, piece_bytes)
        assert b"".join(got) == data


def test_a_buckets_output_order_is_the_stable_sort_of_its_positions() -> None:
    # pass 3 inverts a bucket's positions by one scatter (a contiguous range of its file's positions, each once:
    # issue 16); anything else (which a correct pass 2 never writes) is still sorted, stably
    import numpy as np

    from model_training.split.buckets import output_order

    rng = np.random.default_rng(3)
    for positions in (
        rng.permutation(1000) + 5000,  # a bucket: a contiguous range, shuffled
        np.array([7]),
        np.array([3, 1, 2, 2]),  # a position twice: sorted, ties in row order
        np.array([10, 30, 20]),  # not contiguous
        np.array([2, 0, 0, 3]),  # contiguous span, but a gap and a repeat
    ):
        positions = positions.astype(np.int64)
        assert output_order(positions).tolist() == np.argsort(positions, kind="stable").tolist()
