"""The streaming split: sources larger than memory, split in bounded memory, byte-identical to the
in-memory split.

The source is never held whole.  Three passes:

1. **Validate and count** (:mod:`~model_training.split.first_pass`).  The source is read in chunks re-cut at row
   boundaries (:func:`~model_training.data.chunks.row_chunks`, about :data:`CHUNK_BYTES` each); every chunk is
   parsed and checked by the very functions the in-memory split uses (its line numbers offset to the whole
   file's), its rows are counted, the distinct labels kept under a classification objective (the classes; what
   ``num_class`` is inferred from, before anything is written) with every row's class in a byte where they fit
   one (:func:`~model_training.split.labels.class_codes`), and what the strategy needs of each row is kept
   (nothing for ``random``; the label for ``stratified``; 8 bytes of hash for ``hash``; the key or order column
   for ``group`` and ``ordered``).
   The source is hashed as it is read: a local file's identity is this hash (pass 1 is run by the pipeline
   before its "already done" check), so that it is read twice in all, as an S3 object is.
2. **Plan and scatter.**  The split is planned from those, by the same functions (``random``: the same
   seeded permutation of the row count), and turned into every row's rank in the output (4 or 8 bytes a
   row).  The source is read a second time (the same S3 version, pinned; a local file must hash the same),
   each chunk's rows are rendered by :func:`~model_training.channels.render_rows` (the in-memory renderer)
   and appended to temporary bucket files, each holding a contiguous range of one output file's rows
   (about :data:`BUCKET_BYTES`); each split's labels are summarised as they pass (the minimum, maximum and
   exact sum: :class:`~model_training.split.labels.LabelTally`), or, for classes kept in pass 1, counted from the
   plan before pass 2 starts (:func:`~model_training.split.labels.class_summaries`): pass 2 does not read them.
3. **Assemble.**  Each output file is written in order: bucket by bucket, its rows put in output order,
   streamed to the store (to S3 as a multipart upload).

Each pass uses both cores: the next chunk is read, hashed and indexed on a worker thread while this one is
validated or scattered (:func:`~model_training.data.chunks.read_ahead`); in pass 2 a chunk's rows are rendered
on two more threads while the chunk before is appended to its buckets (and its fields are located from the
lines' ends: :func:`~model_training.data.rowindex.scan`'s ``checked``); the next bucket is read and put in
order while this one is written (:meth:`~model_training.split.buckets.Buckets.in_order`).

Memory: two chunks (this one and the next), two chunks' renderings and two buckets (tens of MB) plus the per-row rank and
strategy inputs (12 bytes a row for ``random``: 240 MB at 20 million rows; a classification's class codes, one byte
a row, until the plan is made).  Temporary disk: about the size of the
output, in ``tmp_dir`` (a Lambda's ``/tmp``: configure its ephemeral storage above the input's size).
"""

from __future__ import annotations

import errno
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from model_training.algorithm.hyperparameters import ParsedHyperparameters
from model_training.algorithm.labels import is_classification
from model_training.channels import render_rows, test_header
from model_training.config.run import SPLIT_NAMES, RunConfig, StreamOptions
from model_training.data.chunks import ChunkSource, chunk_datasets, read_ahead
from model_training.data.header import parse_header
from model_training.errors import ConfigurationError, DatasetError, TransientError
from model_training.hashing import HashBehind, hash_pieces
from model_training.ports import OutputFile, SourceInfo, SplitLabels
from model_training.processes import sweep_dead
from model_training.progress import Reporter
from model_training.split.buckets import Buckets
from model_training.split.first_pass import FirstPass, first_pass
from model_training.split.inputs import plan_from_input
from model_training.split.labels import LabelTally, class_summaries, counts_classes
from model_training.split.layout import BucketLayout, FileBuckets, output_ranks
from model_training.split.method import PreparedSplit
from model_training.validation.rows import (
    check_label_classes,
    index_rows,
    inferred_hyperparameters,
    inferred_settings,
)

#: Bytes of source per chunk (re-cut at a row boundary).
CHUNK_BYTES = StreamOptions.chunk_bytes
#: Bytes of output per temporary bucket.
BUCKET_BYTES = 16 * 1024 * 1024
T = TypeVar("T")

#: The streaming split's temporary folders: ``{TMP_PREFIX}{pid}-...`` in ``MODEL_TRAINING_TMP_DIR`` (or ``/tmp``).
TMP_PREFIX = "model-training-"


class StreamingSplit:
    """The split of a source larger than memory, in three passes that never hold it whole (the module's
    docstring); byte-identical to :class:`~model_training.split.in_memory.InMemorySplit`.

    Args:
        source: read twice, in pieces (an S3 source stays pinned to one version).
        info: the source's identity (a local file's SHA-256 must match the bytes read).
        chunk_bytes: source bytes per chunk (a row longer than 32 chunks is refused).
        bucket_bytes: output bytes per temporary bucket.
        tmp_dir: where the buckets go (default: the system's temporary folder), in a folder named
            ``model-training-{pid}-...``, removed when the split ends however it ends; the folders of
            processes that are gone (a killed run's) are removed first.
        first: pass 1's result, when the caller ran it already
            (:func:`~model_training.split.first_pass.first_pass`: a local file is identified by it, so that it is read
            and hashed once less); ``info`` must then be its identity.
    """

    def __init__(
        self,
        source: ChunkSource,
        info: SourceInfo,
        *,
        chunk_bytes: int = CHUNK_BYTES,
        bucket_bytes: int = BUCKET_BYTES,
        tmp_dir: str | None = None,
        first: FirstPass | None = None,
    ) -> None:
        self.source = source
        self.first = first
        self.info = info
        self.chunk_bytes = chunk_bytes
        self.bucket_bytes = bucket_bytes
        self.tmp_dir = tmp_dir

    @contextmanager
    def prepare(self, config: RunConfig, hp: ParsedHyperparameters, rep: Reporter) -> Iterator[PreparedSplit]:
        """Pass 1 (validate and count) and pass 2 (plan, then scatter the rendered rows into temporary
        buckets); the outputs are pass 3 (each file assembled from its buckets, in order).

        Raises:
            DatasetError: as the in-memory split (the same messages and line numbers), or the source changed
                between the two reads; nothing is written then.
            SplitError: the strategy cannot split these rows.
        """
        source, info = self.source, self.info
        first, self.first = self.first or first_pass(source, info, config, hp, self.chunk_bytes, rep), None
        if info.sha256 and first.sha256 != info.sha256:  # a local file: the run id was made from another content
            raise _changed(info.uri)
        if not info.sha256 and first.sha256:  # an S3 object: record the hash of the bytes split, as in memory
            info = replace(info, sha256=first.sha256)
        n = first.rows
        hyperparameters: dict[str, str] = {}
        if is_classification(hp.objective):
            check_label_classes(info.uri, config, hp, first.classes, first.labels_first)
            hyperparameters = inferred_hyperparameters(info.uri, config, hp, first.classes)
        inferred = inferred_settings(first.drop, hyperparameters)
        plan, achieved = plan_from_input(n, first.inputs, config, info.uri)
        first.inputs = None
        counted = None  # each split's classes counted now, from pass 1's codes: pass 2 need not read the labels
        if first.codes is not None and counts_classes(hp.objective, first.classes):
            counted = class_summaries(first.codes, {split: plan.indices[split] for split in SPLIT_NAMES})
        first.codes = None
        sizes = {split: int(plan.indices[split].size) for split in SPLIT_NAMES}
        rank = output_ranks(plan, n)
        del plan
        layout = BucketLayout.build(sizes, n, info.size_bytes, config, self.bucket_bytes)
        folder = Path(self.tmp_dir or tempfile.gettempdir())
        sweep_dead(folder, TMP_PREFIX)  # what killed runs left (named by their process id)
        # removed on any exit that runs Python's cleanup: an error, an interruption, SIGTERM (the command line
        # turns it into SystemExit); only SIGKILL leaves it, for the next run's sweep
        try:
            temporary = tempfile.TemporaryDirectory(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=folder)
        except OSError as exc:  # a full disk stays an OSError (a temporary failure); a folder that cannot be is a setting
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            raise ConfigurationError(
                f"the streaming split's temporary folder {folder} cannot be used ({exc.strerror})",
                "set MODEL_TRAINING_TMP_DIR to a writable folder with free space about the input's size "
                "(unset, the system's temporary folder)",
            ) from None
        with temporary as tmp:
            buckets = Buckets(Path(tmp), layout.count)
            try:
                scatter = partial(
                    _scatter_rows, source, info, config, hp, first, rank, layout, buckets, self.chunk_bytes, rep, counted
                )
                labels = _unless_changed(source, info, first, self.chunk_bytes, scatter)
                del scatter  # it holds the rank
            finally:
                buckets.close()
            del rank
            yield PreparedSplit(
                info, labels, inferred, achieved, lambda: _assembled(layout, buckets, first.header, first.source_index)
            )


# ------------------------------------------------------------------------------------------------ pass 2


def _unless_changed(source: ChunkSource, info: SourceInfo, first: FirstPass, chunk_bytes: int, scatter: Callable[[], T]) -> T:
    """Pass 2 (``scatter``: :func:`_scatter_rows`).  Pass 2 trusts what pass 1 checked (the rows' fields, their
    number, the label's values), so a source that changed in between can fail it anywhere (a value that does not
    parse, more rows than ranked): such a failure is the "changed" error when the source no longer hashes as in
    pass 1."""
    try:
        return scatter()
    except (OSError, TransientError):  # reading the source or writing the buckets: no value pass 1 checked
        raise
    except Exception as exc:
        # hashed as pass 1 hashed it (its bytes before any inflating); a source that cannot be read again says so
        if hash_pieces(source.chunks(chunk_bytes))[1] != first.sha256:
            raise _changed(info.uri) from exc
        raise


def _scatter_rows(
    source: ChunkSource,
    info: SourceInfo,
    config: RunConfig,
    hp: ParsedHyperparameters,
    first: FirstPass,
    rank: np.ndarray,
    layout: BucketLayout,
    buckets: Buckets,
    chunk_bytes: int,
    rep: Reporter,
    counted: dict[str, SplitLabels] | None = None,
) -> dict[str, SplitLabels]:
    """Pass 2: render every row into its bucket; returns each split's labels, summarised as they pass (``counted``:
    their summaries, counted from pass 1's class codes already: the labels are not read again).  A chunk's rows are
    rendered on two worker threads (pyarrow's ``take`` releases the GIL) while the chunk before is appended to
    its buckets here."""
    digest = HashBehind()
    tallies = {split: LabelTally(classes=counts_classes(hp.objective, first.classes)) for split in SPLIT_NAMES}
    split_of_file = np.array([SPLIT_NAMES.index(f.split) for f in layout.files])
    per_bucket_of_file = np.array([x.bucket_rows for x in layout.files], dtype=np.int64)
    first_bucket_of_file = np.array([x.first_bucket for x in layout.files], dtype=np.int64)
    bucket_type = np.uint16 if layout.count <= 1 << 16 else np.int64
    row0 = 0
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, Future[tuple[memoryview, np.ndarray]]]] = []
    with (
        rep.task("splitting (pass 2 of 3)", total=info.size_bytes, unit="bytes") as advance,
        ThreadPoolExecutor(2, thread_name_prefix="render") as pool,
    ):
        chunks = read_ahead(
            chunk_datasets(source, info, chunk_bytes, digest),
            lambda item: index_rows(item[0], first.columns, config, check=False, checked=True),
        )
        for dataset, chunk, _ in chunks:
            index_rows(dataset, first.columns, config, check=False, checked=True)  # checked in pass 1
            m = dataset.num_rows
            if row0 + m > first.rows:  # more rows than pass 1 counted (and ranked)
                raise _changed(info.uri)
            labels = dataset.numbers(config.label) if counted is None else None
            q = rank[row0 : row0 + m].astype(np.int64)
            f = np.searchsorted(layout.starts, q, side="right") - 1
            within = q - layout.starts[f]
            # 16-bit bucket numbers (MAX_BUCKETS): numpy's stable sort of them is a radix sort, in linear time
            bucket = (first_bucket_of_file[f] + within // per_bucket_of_file[f]).astype(bucket_type)
            split_ids = split_of_file[f]
            rendering = []
            for k, split in enumerate(SPLIT_NAMES):
                mine = split_ids == k
                if not mine.any():
                    continue
                if labels is not None:
                    tallies[split].add(labels[mine])
                local = np.flatnonzero(mine)
                order = local[np.argsort(bucket[local], kind="stable")]
                columns = None if split == "test" else first.columns
                job = pool.submit(render_rows, dataset, order, columns, index_base=row0, source_index=first.source_index)
                rendering.append((order, bucket, within, job))
            _append_rendered(pending, buckets)  # the chunk before, while this one renders
            pending = rendering
            row0 += m
            advance(len(chunk))
        _append_rendered(pending, buckets)
    if digest.hexdigest() != first.sha256 or row0 != first.rows:
        raise _changed(info.uri)
    return counted if counted is not None else {split: tally.result() for split, tally in tallies.items()}


def _append_rendered(
    rendered: list[tuple[np.ndarray, np.ndarray, np.ndarray, Future[tuple[memoryview, np.ndarray]]]], buckets: Buckets
) -> None:
    """Append a chunk's rendered rows to their buckets: each ``(order, bucket, within, rendering)`` is one split's
    rows (chunk row numbers, sorted by bucket), every chunk row's bucket and position in its file, and the rows'
    rendering (:func:`~model_training.channels.render_rows`)."""
    for order, bucket, within, job in rendered:
        data, offsets = job.result()
        b_sorted = bucket[order]
        edges = np.flatnonzero(np.diff(b_sorted)) + 1
        bounds = np.concatenate([[0], edges, [order.size]])
        lengths = np.diff(offsets)
        for a, z in itertools.pairwise(bounds):
            buckets.append(int(b_sorted[a]), data[int(offsets[a]) : int(offsets[z])], within[order[a:z]], lengths[a:z])


def _changed(uri: str) -> DatasetError:
    return DatasetError(
        "the source changed while the streaming split read it",
        "do not modify the file while it is being split; run again",
        uri=uri,
    )


# ------------------------------------------------------------------------------------------------ pass 3


def _assembled(layout: BucketLayout, buckets: Buckets, header: bytes, source_index: bool) -> Iterator[OutputFile]:
    """Pass 3: each output file's ``(name, key, chunks)``, its buckets' rows in output order."""
    for file in layout.files:
        yield file.name, file.key, _file_chunks(file, buckets, header, source_index)


def _file_chunks(file: FileBuckets, buckets: Buckets, header: bytes, source_index: bool) -> Iterator[bytes | memoryview]:
    """The file's bytes: its header (the test file), then each bucket's rows in output order
    (:meth:`~model_training.split.buckets.Buckets.in_order`: the next bucket is read while this one is written)."""
    if file.split == "test":
        yield _test_header_from(header, source_index)
    expected = 0
    for data, rows in buckets.in_order(file.first_bucket, file.buckets):
        expected += rows
        if rows:
            yield data
        del data
    if expected != file.rows:
        raise RuntimeError(f"{file.key}: {expected} rows assembled, {file.rows} planned")  # a bug, not bad input


def _test_header_from(header: bytes, source_index: bool) -> bytes:
    """The test file's header row, from the source's header bytes."""
    names, _ = parse_header("", header)
    return test_header(names, source_index=source_index)
