"""The streaming split: sources larger than memory, split in bounded memory, byte-identical to the
in-memory split.

The source is never held whole.  Three passes:

1. **Validate and count.**  The source is read in chunks re-cut at row boundaries (:func:`row_chunks`,
   about :data:`CHUNK_BYTES` each); every chunk is parsed and checked by the very functions the in-memory
   split uses (its line numbers offset to the whole file's), its rows are counted, and what the strategy
   needs of each row is kept (nothing for ``random``; the label for ``stratified``; 8 bytes of hash for
   ``hash``; the key or order column for ``group`` and ``ordered``).
2. **Plan and scatter.**  The split is planned from those, by the same functions (``random``: the same
   seeded permutation of the row count), and turned into every row's rank in the output (4 or 8 bytes a
   row).  The source is read a second time (the same S3 version, pinned; a local file must hash the same),
   each chunk's rows are rendered by :func:`~model_training.channels.render_rows` (the in-memory renderer)
   and appended to temporary bucket files, each holding a contiguous range of one output file's rows
   (about :data:`BUCKET_BYTES`).
3. **Assemble.**  Each output file is written in order: bucket by bucket, its rows put in output order,
   streamed to the store (to S3 as a multipart upload).

Memory: a chunk, its rendering and a bucket (tens of MB) plus the per-row rank and strategy inputs
(12 bytes a row for ``random``: 240 MB at 20 million rows).  Temporary disk: about the size of the
output, in ``tmp_dir`` (a Lambda's ``/tmp``: configure its ephemeral storage above the input's size).
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import re
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from model_training.channels import render_rows, test_header
from model_training.config.run import SPLIT_NAMES, RunConfig, StreamOptions
from model_training.data.dataset import Dataset, SourceInfo, _header_bytes, _parse_header, parse_csv
from model_training.errors import DatasetError
from model_training.hashing import HashBehind
from model_training.progress import Reporter

#: Bytes of source per chunk (re-cut at a row boundary).
CHUNK_BYTES = StreamOptions.chunk_bytes
#: Bytes of output per temporary bucket.
BUCKET_BYTES = 16 * 1024 * 1024
#: The streaming split's temporary folders: ``{TMP_PREFIX}{pid}-...`` in ``MODEL_TRAINING_TMP_DIR`` (or ``/tmp``).
TMP_PREFIX = "model-training-"
#: At most this many buckets (open files) in all: very large inputs get larger buckets.
MAX_BUCKETS = 256


class StreamSource(Protocol):
    """A source that can be read in pieces (:class:`~model_training.data.dataset.LocalSource`,
    :class:`~model_training.data.dataset.S3Source`)."""

    def chunks(self, size: int) -> Iterator[bytes]: ...


@dataclass
class _Pass1:
    rows: int
    header: bytes
    columns: list[str]
    labels_first: float
    classes: np.ndarray
    inputs: Any
    sha256: str


def split_streaming(
    source: StreamSource,
    info: SourceInfo,
    config: RunConfig,
    *,
    store: Any,
    run_id: str,
    run_prefix: str,
    record_key: str,
    rep: Reporter,
    manifest: dict[str, Any] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    bucket_bytes: int = BUCKET_BYTES,
    tmp_dir: str | None = None,
) -> Any:
    """Split ``source`` as :func:`~model_training.pipeline.run_pipeline` does in memory, in three passes
    that never hold it whole; returns the committed :class:`~model_training.output.runrecord.RunRecord`.

    Args:
        chunk_bytes: source bytes per chunk (a row longer than 8 chunks is refused).
        bucket_bytes: output bytes per temporary bucket.
        tmp_dir: where the buckets go (default: the system's temporary folder), in a folder named
            ``model-training-{pid}-...``, removed when the split ends however it ends; the folders of
            processes that are gone (a killed run's) are removed first.

    Raises:
        DatasetError: as the in-memory split (the same messages and line numbers), or the source changed
            between the two reads; nothing is written then.
    """
    from model_training import pipeline
    from model_training.algorithm.hyperparameters import parse_hyperparameters

    hp = parse_hyperparameters(config.training.hyperparameters, config.training.algorithm_version)
    first = _validate_and_count(source, info, config, hp, chunk_bytes, rep)
    if info.sha256 and first.sha256 != info.sha256:  # a local file: the run id was made from another content
        raise _changed(info.uri)
    if not info.sha256 and first.sha256:  # an S3 object: record the hash of the bytes split, as in memory
        info = replace(info, sha256=first.sha256)
    n = first.rows
    pipeline.check_label_classes(info.uri, config, hp, first.classes, first.labels_first)
    plan, achieved = pipeline.plan_from_input(n, first.inputs, config, info.uri)
    first.inputs = None
    sizes = {split: int(plan.indices[split].size) for split in SPLIT_NAMES}
    rank = _ranks(plan, n)
    del plan
    layout = _Layout.build(sizes, n, info.size_bytes, config, bucket_bytes)
    from model_training.output.claims import sweep_dead

    folder = Path(tmp_dir or tempfile.gettempdir())
    sweep_dead(folder, TMP_PREFIX)  # what killed runs left (named by their process id)
    # removed on any exit that runs Python's cleanup: an error, an interruption, SIGTERM (the command line
    # turns it into SystemExit); only SIGKILL leaves it, for the next run's sweep
    with tempfile.TemporaryDirectory(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=folder) as tmp:
        buckets = _Buckets(Path(tmp), layout.count)
        try:
            counts = _scatter(source, info, config, first, rank, layout, buckets, chunk_bytes, rep)
        finally:
            buckets.close()
        del rank
        splits = pipeline.split_records(counts)
        pipeline.check_classes_for_auc(info.uri, splits, hp)
        files = pipeline.write_verified(store, run_prefix, _assembled(layout, buckets, first.header))
    return pipeline.commit_record(store, record_key, run_id, run_prefix, info, config, splits, achieved, manifest, files)


# -------------------------------------------------------------------------------------------- reading


def decompressed(pieces: Iterable[bytes], uri: str = "", piece_bytes: int = 8 * 1024 * 1024) -> Iterator[bytes]:
    """``pieces`` as they are, or gunzipped (in pieces of at most ``piece_bytes``, so that a highly
    compressed source cannot inflate into one huge piece) if they start with the gzip magic.  Python's
    ``gzip`` module reads them, as ``gzip.decompress`` does in memory: multi-member files and zero padding
    are accepted, and errors carry the same text.

    The inflated bytes are bounded by ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``
    (:func:`~model_training.data.dataset.max_decompressed_bytes`), and the run's time budget is checked after
    every piece (:func:`~model_training.data.dataset.check_inflate_time`).

    Raises:
        DatasetError: corrupt or truncated gzip data (naming ``uri``, worded as the in-memory split words it).
        DecompressedTooLargeError: the data inflates past ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``.
        TimeBudgetError: too little time left to go on inflating.
    """
    from model_training.data.dataset import DecompressedTooLargeError, check_inflate_time, max_decompressed_bytes

    where = f"{uri}: " if uri else ""
    it = iter(pieces)
    head = b""
    for piece in it:
        head += piece
        if len(head) >= 2:
            break
    if head[:2] != b"\x1f\x8b":
        if head:
            first, head = head, b""
            yield first
            del first
        yield from it
        return
    reader = gzip.GzipFile(fileobj=_PiecesFile(_chain([head], it)), mode="rb")
    limit = max_decompressed_bytes()
    inflated = 0
    try:
        while out := reader.read(piece_bytes):
            inflated += len(out)
            if inflated > limit:
                raise DecompressedTooLargeError(uri, limit)
            check_inflate_time(uri, inflated)
            yield out
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{where}the gzip data is corrupt ({exc})", "upload the file again") from None


def _chain(first: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


class _PiecesFile(io.RawIOBase):
    """A read-only file over an iterator of byte pieces (for :class:`gzip.GzipFile`)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._piece = memoryview(b"")
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at >= len(self._piece):
            piece = next(self._pieces, b"")
            if not piece:
                return 0
            self._piece, self._at = memoryview(piece), 0
        n = min(len(buffer), len(self._piece) - self._at)
        buffer[:n] = self._piece[self._at : self._at + n]
        self._at += n
        return n


#: A row may be at most this many chunks long (a longer one cannot be held in bounded memory).
MAX_ROW_CHUNKS = 32
#: At most about this many rows per chunk and per bucket: the row index and the bucket's order cost tens of
#: bytes a row, so narrow rows (a few bytes each) must come in smaller chunks for memory to stay bounded.
MAX_CHUNK_ROWS = 200_000


class _RowTooLong(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


class RowChunks:
    """Re-cut a byte stream into chunks of about ``chunk_bytes`` that end just after a line break outside
    quotes (so a quoted field with a line break is never cut); the first chunk starts with the header.

    The line break is ``\n`` (which also ends ``\r\n`` lines), or ``\r`` for a source whose first chunk
    has ``\r`` and no ``\n`` (old Mac line ends, which the in-memory split reads too): :attr:`newline`.

    Raises (while iterating):
        _RowTooLong: no row boundary within :data:`MAX_ROW_CHUNKS` chunks.
    """

    def __init__(self, pieces: Iterable[bytes], chunk_bytes: int) -> None:
        self.pieces = pieces
        self.chunk_bytes = chunk_bytes
        self.max_row_bytes = MAX_ROW_CHUNKS * chunk_bytes
        self.newline = b"\n"
        self._sized = False

    def __iter__(self) -> Iterator[bytes]:
        parts: list[bytes] = []
        size = 0
        for piece in self.pieces:
            parts.append(piece)
            size += len(piece)
            if size < self.chunk_bytes:
                continue
            buf = b"".join(parts)
            self._decide(buf)
            cut = _row_boundary(buf, self.newline)
            if cut == 0:
                if len(buf) > self.max_row_bytes:
                    raise _RowTooLong(len(buf))
                parts, size = [buf], len(buf)
                continue
            yield from self._cut(buf, cut)
            rest = buf[cut:]
            parts, size = ([rest] if rest else []), len(rest)
        if parts:
            buf = b"".join(parts)
            self._decide(buf)
            yield from self._cut(buf, len(buf))

    def _decide(self, buf: bytes) -> None:
        """From the first buffer: the line break, and chunks of at most about :data:`MAX_CHUNK_ROWS` rows."""
        if self._sized:
            return
        self._sized = True
        if buf.find(b"\n") < 0 and buf.find(b"\r") >= 0:
            self.newline = b"\r"
        rows = buf.count(self.newline)
        if rows:
            by_rows = int(MAX_CHUNK_ROWS * len(buf) / rows)
            self.chunk_bytes = max(min(64 * 1024, self.chunk_bytes), min(self.chunk_bytes, by_rows))

    def _cut(self, buf: bytes, cut: int) -> Iterator[bytes]:
        """``buf[:cut]`` (which ends a row) in chunks of about :attr:`chunk_bytes`."""
        start = 0
        while cut - start > 2 * self.chunk_bytes:
            sub = _row_boundary(buf[start : start + self.chunk_bytes], self.newline)
            if sub == 0:
                break
            yield buf[start : start + sub]
            start += sub
        if cut > start:
            yield buf[start:cut]


def row_chunks(pieces: Iterable[bytes], chunk_bytes: int, uri: str) -> Iterator[bytes]:
    """:class:`RowChunks` with its errors as :class:`DatasetError` (for callers that have no line number)."""
    try:
        yield from RowChunks(pieces, chunk_bytes)
    except _RowTooLong as exc:
        raise DatasetError(
            f"{uri}: no line break outside quotes in {exc.size} bytes: the streaming split cannot cut it into rows",
            "check for an unclosed quote, or split it in memory (--in-memory)",
        ) from None


def _row_boundary(buf: bytes, newline: bytes = b"\n") -> int:
    """The offset just after the last line break of ``buf`` that is outside quotes (0: none), for a
    ``buf`` that starts outside quotes (a ``""`` inside a quoted field keeps the parity)."""
    pos = buf.rfind(newline)
    if buf.find(b'"') < 0:
        return pos + 1
    while pos >= 0:
        if buf.count(b'"', 0, pos) % 2 == 0:
            return pos + 1
        pos = buf.rfind(newline, 0, pos)
    return 0


def _datasets(
    source: StreamSource, info: SourceInfo, chunk_bytes: int, digest: HashBehind
) -> Iterator[tuple[Dataset, bytes, bytes]]:
    """``(dataset, chunk, header)`` for every chunk of data rows: the chunk parsed with the header in
    front of it, its line numbers offset to the file's.  ``digest`` hashes the source's bytes as read.

    Raises:
        DatasetError: as :func:`~model_training.data.dataset.parse_csv` words it for the same file (an empty
            object, a header without rows), or a row too long to hold in bounded memory.
    """
    raw = _Peeked(_hashed(source.chunks(chunk_bytes), digest))
    chunks = RowChunks(decompressed(raw, info.uri), chunk_bytes)
    header = b""
    header_lines = 0
    lines_before = 0
    pending = b""  # leading blank chunks, kept until the header shows up
    newline = b"\n"
    try:
        for chunk in chunks:
            newline = chunks.newline
            if not header:
                chunk = pending + chunk
                if _NOT_BLANK.search(chunk) is None:  # no header yet: blank so far
                    pending = chunk
                    continue
                pending = b""
                _, header_lines = _parse_header(info.uri, _header_bytes(chunk))
                cut = 0
                for _ in range(header_lines):
                    cut = chunk.find(newline, cut) + 1
                    if cut == 0:
                        raise DatasetError(f"{info.uri}: the file has a header but no data rows", _NO_ROWS_HINT)
                header, chunk = chunk[:cut], chunk[cut:]
            if _NOT_LINE_BREAK.search(chunk) is None:  # empty lines only: not rows, but they count as lines
                lines_before += chunk.count(newline)
                continue
            dataset = parse_csv(info, header + chunk, line_offset=lines_before, lazy=True)
            yield dataset, chunk, header
            index = dataset.__dict__.get("_row_index")  # indexed by the consumer: plain rows are one line each
            lines_before += index.rows if index else chunk.count(newline)
    except _RowTooLong as exc:
        line = header_lines + lines_before + 1
        raise DatasetError(
            f"{info.uri}: line {line} is longer than {exc.size // 2**20} MiB without a line break outside quotes: "
            "the streaming split holds a row at a time",
            "check for an unclosed quote; a row this long can be split in memory (--in-memory)",
        ) from None
    if not header:
        if raw.head[:2] == b"\x1f\x8b":
            raise DatasetError(f"{info.uri}: the object is empty (after gzip decompression)", "upload a CSV with data rows")
        raise DatasetError(f"{info.uri}: the object is empty", "upload a CSV file with a header row and data rows")


class _Peeked:
    """An iterator of pieces that keeps its first piece's first bytes (:attr:`head`) once started."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self.head = b""

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._pieces:
            if len(self.head) < 2:
                self.head += piece[:2]
            yield piece


_NO_ROWS_HINT = "upload a CSV file with data rows"
_NOT_BLANK = re.compile(rb"[^\s]")
_NOT_LINE_BREAK = re.compile(rb"[^\r\n]")


def _hashed(pieces: Iterator[bytes], digest: HashBehind) -> Iterator[bytes]:
    for piece in pieces:
        digest.update(piece)
        yield piece


# ------------------------------------------------------------------------------------------------ pass 1


def _validate_and_count(
    source: StreamSource, info: SourceInfo, config: RunConfig, hp: Any, chunk_bytes: int, rep: Reporter
) -> _Pass1:
    """Pass 1: validate every chunk; count the rows; keep the strategy's per-row inputs."""
    from model_training import pipeline

    digest = HashBehind()
    rows = 0
    header = b""
    columns: list[str] = []
    classes = np.zeros(0)
    first_label = 0.0
    inputs: list[Any] = []
    with rep.task("validating (pass 1 of 3)", total=info.size_bytes, unit="bytes") as advance:
        for dataset, chunk, head in _datasets(source, info, chunk_bytes, digest):
            header = head
            if not columns:
                columns = pipeline.output_columns(dataset, config)
            labels = pipeline.validate_rows(dataset, columns, config, hp)
            if rows == 0:
                first_label = float(labels[0])
            classes = np.union1d(classes, np.unique(labels))
            inputs.append(pipeline.strategy_input(dataset, config, labels))
            rows += dataset.num_rows
            advance(len(chunk))
    sha = digest.hexdigest()
    if rows == 0:
        raise DatasetError(f"{info.uri}: the file has a header but no data rows", "upload a CSV file with data rows")
    return _Pass1(rows, header, columns, first_label, classes, pipeline.merge_inputs(inputs), sha)


# ------------------------------------------------------------------------------------------------ pass 2


def _ranks(plan: Any, n: int) -> np.ndarray:
    """Each source row's position in the output order (train rows, then validation, then test)."""
    rank = np.empty(n, dtype=np.uint32 if n < 2**32 else np.int64)
    offset = 0
    step = 1 << 20  # in slices: no n-long temporary
    for split in SPLIT_NAMES:
        rows = plan.indices[split]
        for i in range(0, rows.size, step):
            part = rows[i : i + step]
            rank[part] = np.arange(offset + i, offset + i + part.size, dtype=rank.dtype)
        offset += rows.size
    return rank


@dataclass
class _File:
    name: str  # the run record's file name (train, or train/part-00001 ...)
    key: str  # the key under the run prefix
    split: str
    start: int  # first output rank
    rows: int
    first_bucket: int
    bucket_rows: int
    buckets: int


@dataclass
class _Layout:
    files: list[_File]
    starts: np.ndarray  # first rank of each file, ascending
    count: int  # buckets in all

    @classmethod
    def build(cls, sizes: dict[str, int], n: int, source_bytes: int, config: RunConfig, bucket_bytes: int) -> _Layout:
        from model_training import pipeline

        files: list[_File] = []
        offset = 0
        bucket = 0
        row_bytes = max(source_bytes / max(n, 1), 1.0)
        bucket_bytes = max(bucket_bytes, int(source_bytes * 1.2 / MAX_BUCKETS))
        for split in SPLIT_NAMES:
            size = sizes[split]
            if size == 0:
                offset += size
                continue
            parts = 1 if split == "test" else pipeline.part_count(size, n, source_bytes, config)
            part_sizes = [len(p) for p in np.array_split(np.arange(size), parts)] if parts > 1 else [size]
            for (name, key), rows in zip(pipeline.split_files(split, parts), part_sizes, strict=True):
                per_bucket = max(1, min(MAX_CHUNK_ROWS * 5, int(bucket_bytes / row_bytes)))
                count = max(1, -(-rows // per_bucket))
                files.append(_File(name, key, split, offset, rows, bucket, per_bucket, count))
                bucket += count
                offset += rows
        return cls(files, np.array([f.start for f in files], dtype=np.int64), bucket)


class _Buckets:
    """Temporary bucket files: each row's rendered line appended to its bucket's data file, and its
    position in its output file (int64) and length (int64) to the bucket's index file."""

    def __init__(self, folder: Path, count: int) -> None:
        self.folder = folder
        self._open: dict[int, tuple[Any, Any]] = {}
        self.count = count

    def paths(self, bucket: int) -> tuple[Path, Path]:
        return self.folder / f"{bucket:06d}.rows", self.folder / f"{bucket:06d}.index"

    def append(self, bucket: int, data: memoryview, positions: np.ndarray, lengths: np.ndarray) -> None:
        handles = self._open.get(bucket)
        if handles is None:
            rows_path, index_path = self.paths(bucket)
            handles = (rows_path.open("ab"), index_path.open("ab"))
            self._open[bucket] = handles
        handles[0].write(data)
        handles[1].write(np.stack([positions, lengths], axis=1).astype(np.int64).tobytes())

    def close(self) -> None:
        for rows_fh, index_fh in self._open.values():
            rows_fh.close()
            index_fh.close()
        self._open.clear()

    def read(self, bucket: int) -> tuple[bytes, np.ndarray, np.ndarray]:
        rows_path, index_path = self.paths(bucket)
        if not rows_path.exists():
            return b"", np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        index = np.frombuffer(index_path.read_bytes(), dtype=np.int64).reshape(-1, 2)
        return rows_path.read_bytes(), index[:, 0], index[:, 1]


def _scatter(
    source: StreamSource,
    info: SourceInfo,
    config: RunConfig,
    first: _Pass1,
    rank: np.ndarray,
    layout: _Layout,
    buckets: _Buckets,
    chunk_bytes: int,
    rep: Reporter,
) -> dict[str, dict[float, int]]:
    """Pass 2: render every row into its bucket; returns each split's label counts."""
    from model_training import pipeline

    digest = HashBehind()
    counts: dict[str, dict[float, int]] = {split: {} for split in SPLIT_NAMES}
    split_of_file = np.array([SPLIT_NAMES.index(f.split) for f in layout.files])
    row0 = 0
    with rep.task("splitting (pass 2 of 3)", total=info.size_bytes, unit="bytes") as advance:
        for dataset, chunk, _ in _datasets(source, info, chunk_bytes, digest):
            pipeline.index_rows(dataset, first.columns, config, check=False)  # checked in pass 1
            m = dataset.num_rows
            labels = dataset.numbers(config.label)
            q = rank[row0 : row0 + m].astype(np.int64)
            f = np.searchsorted(layout.starts, q, side="right") - 1
            starts = layout.starts[f]
            within = q - starts
            per_bucket = np.array([x.bucket_rows for x in layout.files], dtype=np.int64)[f]
            first_bucket = np.array([x.first_bucket for x in layout.files], dtype=np.int64)[f]
            bucket = first_bucket + within // per_bucket
            split_ids = split_of_file[f]
            for k, split in enumerate(SPLIT_NAMES):
                mine = split_ids == k
                if not mine.any():
                    continue
                for value, c in pipeline.label_counts(labels[mine]).items():
                    counts[split][value] = counts[split].get(value, 0) + c
                local = np.flatnonzero(mine)
                order = local[np.argsort(bucket[local], kind="stable")]
                data, offsets = render_rows(dataset, order, None if split == "test" else first.columns, index_base=row0)
                b_sorted = bucket[order]
                edges = np.flatnonzero(np.diff(b_sorted)) + 1
                bounds = np.concatenate([[0], edges, [order.size]])
                lengths = np.diff(offsets)
                for a, z in itertools.pairwise(bounds):
                    buckets.append(int(b_sorted[a]), data[int(offsets[a]) : int(offsets[z])], within[order[a:z]], lengths[a:z])
            row0 += m
            advance(len(chunk))
    if digest.hexdigest() != first.sha256 or row0 != first.rows:
        raise _changed(info.uri)
    return counts


def _changed(uri: str) -> DatasetError:
    return DatasetError(
        f"{uri}: the source changed while the streaming split read it",
        "do not modify the file while it is being split; run again",
    )


# ------------------------------------------------------------------------------------------------ pass 3


def _assembled(layout: _Layout, buckets: _Buckets, header: bytes) -> Iterator[tuple[str, str, Iterable[bytes | memoryview]]]:
    """Pass 3: each output file's ``(name, key, chunks)``, its buckets' rows in output order."""
    for file in layout.files:
        yield file.name, file.key, _file_chunks(file, buckets, header)


def _file_chunks(file: _File, buckets: _Buckets, header: bytes) -> Iterator[bytes | memoryview]:
    import pyarrow as pa
    import pyarrow.compute as pc

    from model_training.data.rowindex import int64_array, memory_pool

    if file.split == "test":
        yield _test_header_from(header)
    expected = 0
    for b in range(file.first_bucket, file.first_bucket + file.buckets):
        data, positions, lengths = buckets.read(b)
        if positions.size == 0:
            continue
        expected += positions.size
        offsets = np.zeros(positions.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        arr = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), positions.size, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
        ordered = pc.take(arr, int64_array(np.argsort(positions, kind="stable")), memory_pool=memory_pool())
        bufs = ordered.buffers()
        offs = np.frombuffer(bufs[1], dtype=np.int64)[: len(ordered) + 1]
        yield memoryview(bufs[2])[int(offs[0]) : int(offs[-1])]
        del data, arr, ordered
        os.unlink(buckets.paths(b)[0])
    if expected != file.rows:
        raise RuntimeError(f"{file.key}: {expected} rows assembled, {file.rows} planned")  # a bug, not bad input


def _test_header_from(header: bytes) -> bytes:
    """The test file's header row, from the source's header bytes."""
    names, _ = _parse_header("", header)
    return test_header(names)
