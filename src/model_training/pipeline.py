"""The one pipeline both entry points run: read -> validate -> split -> write channels -> run record ->
training job.

Order of effects (what a crash at any point leaves behind):

1. Nothing is written until the source is read, parsed and validated and the split is planned.
2. The split files are written atomically and verified (size, SHA-256); a retry rewrites them byte
   for byte, since the run id and the paths depend only on the input and the configuration.
3. ``run.json`` is written with status ``committed`` only after every split file is verified: a run
   without it is incomplete, whatever files exist.
4. The training job is created only after that, with a name derived from the run id, so a second
   attempt finds the job instead of starting another; ``run.json`` is rewritten with the outcome.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_training.algorithm.hyperparameters import ParsedHyperparameters, parse_hyperparameters
from model_training.algorithm.images import IMAGE_XGBOOST, image_version
from model_training.algorithm.labels import label_problem
from model_training.channels import CHUNK_ROWS, channel_columns, channel_pieces, cut_fields, render_channel, render_test
from model_training.config.run import SPLIT_NAMES, TESTING_TAG_MARK, RunConfig, StreamOptions
from model_training.data.dataset import Dataset, LocalSource, SourceInfo, check_numeric, parse_csv, require_columns
from model_training.errors import (
    ConfigurationError,
    DatasetError,
    ModelTrainingError,
    SplitError,
    TimeBudgetError,
    TrainingJobExistsError,
    environment_failure,
)
from model_training.output import claims
from model_training.output.runrecord import (
    RUN_RECORD_NAME,
    FileRecord,
    RunRecord,
    SplitRecord,
    TrainingRecord,
    compute_run_id,
    library_versions,
)
from model_training.output.storage import Chunk, LocalStore, StoredObject
from model_training.progress import NullReporter, Reporter
from model_training.split.plan import SplitPlan, plan_split
from model_training.training.naming import job_name as make_job_name
from model_training.training.request import LOCAL_IMAGE, build_training_request


def split_files(split: str, parts: int = 1) -> list[tuple[str, str]]:
    """The files split ``split`` is written as: ``(name in run.json's files, key under {prefix}/{run_id}/)``.

    The one place output names are made.  Keys are Hadoop-style part names without an extension:
    ``train/part-00000``, ``validation/part-00000``, ``test/part-00000`` (``train/part-00001`` ... when a
    channel is sharded).  No output key ends in ``.csv``/``.csv.gz`` or is a ``_SUCCESS`` marker, so no
    S3 notification or EventBridge rule that delivers inputs (by suffix) delivers one of our own outputs.
    The XGBoost container reads every file of a channel whatever its name, and the deployment and
    evaluation stages find the test file through the ``Testing`` tag's URI.  The run-record name is the
    split itself for a single file, else ``{split}/part-NNNNN``.

    Args:
        split: ``train``, ``validation`` or ``test``.
        parts: number of part files (>= 1; the test split is always one).
    """
    keys = [f"{split}/part-{i:05d}" for i in range(max(parts, 1))]
    return [(split, keys[0])] if len(keys) == 1 else [(key, key) for key in keys]


class Source(Protocol):
    """Where the CSV comes from (:class:`~model_training.data.dataset.LocalSource`, `S3Source`)."""

    @property
    def display_name(self) -> str: ...

    def size(self) -> int: ...

    def identify(self, on_bytes: Callable[[int], None] | None = None, *, keep: bool = True) -> SourceInfo: ...

    def read(self, on_bytes: Callable[[int], None] | None = None) -> tuple[SourceInfo, bytes]: ...

    def chunks(self, size: int) -> Iterator[bytes]: ...

    def sample(self, size: int) -> bytes: ...


class Store(Protocol):
    """Where outputs go (:class:`~model_training.output.storage.LocalStore`, :class:`~model_training.output.storage.S3Store`)."""

    def uri(self, key: str) -> str: ...

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def write(self, key: str, chunks: Iterable[Chunk]) -> StoredObject: ...

    def write_bytes(self, key: str, data: bytes) -> StoredObject: ...

    def verify(self, obj: StoredObject) -> bool: ...

    def with_tags(self, tags: dict[str, str]) -> Store: ...

    def create_exclusive(self, key: str, data: bytes) -> bool: ...

    def age_seconds(self, key: str) -> float | None: ...

    def delete(self, key: str) -> None: ...


class TrainingBackend(Protocol):
    """Runs training jobs (:class:`~model_training.training.local.LocalTrainingBackend`,
    :class:`~model_training.training.sagemaker.SageMakerBackend`)."""

    backend_name: str
    #: Jobs run in this process (local): an ``InProgress`` job is run by the delivery holding the run claim.
    runs_jobs: bool

    def preflight(self, algorithm_version: str) -> None:
        """Raise a :class:`~model_training.errors.ModelTrainingError` if this backend cannot train a job for
        ``algorithm_version`` as the image would; called before anything of a run is written."""
        ...

    def create_training_job(self, request: dict[str, Any]) -> str: ...

    def find_training_job(self, name: str) -> dict[str, Any] | None: ...

    def run_training_job(self, name: str) -> dict[str, Any]: ...


class RunFailedError(ModelTrainingError):
    """The training job of a run ended ``Failed`` (the run record says why)."""

    exit_code = 3


@dataclass(frozen=True)
class OutputLayout:
    """Where a local run writes.

    Attributes:
        root: the output folder (default ``./model-training-output``); split files and ``run.json``
            go under ``{root}/{prefix}/{run_id}/``.
        model_output: the model output folder; models go to ``{model_output}/{YYYY-MM-DD}/output/
            {TrainingJobName}/output/model.tar.gz`` (the key the deployment stage expects).
        jobs: the local training backend's job records.
    """

    root: Path

    @property
    def model_output(self) -> Path:
        return self.root / "model-output"

    @property
    def jobs(self) -> Path:
        return self.root / "training-jobs"

    def check(self) -> None:
        """Refuse an output folder the run would leave, before anything is written.

        Raises:
            ConfigurationError: ``root`` is a symbolic link to nothing, or not a folder; ``model-output/`` or
                ``training-jobs/`` inside it resolves outside it (a symbolic link: models and job records
                would be written there; a link inside the output folder is fine).
        """
        import os

        if self.root.is_symlink() and not self.root.exists():
            raise ConfigurationError(
                f"the output folder {self.root} is a symbolic link to {os.readlink(self.root)}, which does not exist",
                "create the folder it points to, remove the link, or give another output folder (-o)",
            )
        if self.root.exists() and not self.root.is_dir():
            raise ConfigurationError(f"the output folder {self.root} is not a folder", "give a folder as the output (-o)")
        root = self.root.resolve()
        for folder in (self.model_output, self.jobs):
            resolved = folder.resolve()
            if resolved != root and root not in resolved.parents:
                link = f"a symbolic link to {os.readlink(folder)}" if folder.is_symlink() else f"under a link, at {resolved}"
                raise ConfigurationError(
                    f"{folder} is {link}, outside the output folder {self.root}: "
                    f"{'models' if folder == self.model_output else 'job records'} would be written there",
                    f"remove the link {folder} (or give -o the folder you mean): a run writes only inside its output folder",
                )


@dataclass(frozen=True)
class RunResult:
    """The outcome of :func:`run_local`.

    Attributes:
        record: the run record as written last.
        duplicate: the run was already complete; nothing was written or started this time.
        run_uri: the run folder's URI.
    """

    record: RunRecord
    duplicate: bool
    run_uri: str


@dataclass(frozen=True)
class TrainingTarget:
    """Where and how the training job runs: what goes into the ``CreateTrainingJob`` request besides
    the channels and hyperparameters.

    Attributes:
        image: ``AlgorithmSpecification.TrainingImage``.
        model_output_root: the model output location; ``S3OutputPath`` is ``{root}/{YYYY-MM-DD}/output``
            (``pipeline-contracts.md``: the deployment stage depends on that key).
        role_arn: ``RoleArn`` (SageMaker only).
        region: the ``Region`` tag.

    Resources, spot, KMS keys, network isolation and extra tags are settings of the run
    (:class:`~model_training.config.run.TrainingConfig`), part of its id.
    """

    image: str
    model_output_root: str
    role_arn: str | None = None
    region: str | None = None


def run_local(
    source: Path,
    config: RunConfig,
    layout: OutputLayout,
    *,
    train: bool = True,
    reporter: Reporter | None = None,
    manifest: dict[str, Any] | None = None,
    stream: StreamOptions | None = None,
) -> RunResult:
    """Split the local file ``source`` (or the folder of part files, :mod:`~model_training.data.parts`) into
    train/validation/test files under ``layout.root`` and train with the local XGBoost backend (see
    :func:`run_pipeline`).

    Raises:
        ConfigurationError: also when the output folder would send files outside it (:meth:`OutputLayout.check`).
    """
    from model_training.data.parts import part_source
    from model_training.training.local import LocalTrainingBackend

    layout.check()
    rep = reporter or NullReporter()
    target = TrainingTarget(
        image=LOCAL_IMAGE.format(version=config.training.algorithm_version),
        model_output_root=layout.model_output.absolute().as_uri(),
    )
    return run_pipeline(
        part_source(str(source)) or LocalSource(source),
        config,
        store=LocalStore(layout.root),
        backend=LocalTrainingBackend(layout.jobs, reporter=rep) if train else None,
        target=target,
        reporter=rep,
        manifest=manifest,
        stream=stream,
    )


def run_pipeline(
    source: Source,
    config: RunConfig,
    *,
    store: Store,
    backend: TrainingBackend | None,
    target: TrainingTarget,
    reporter: Reporter | None = None,
    manifest: dict[str, Any] | None = None,
    time_left: Callable[[], float] | None = None,
    stream: StreamOptions | None = None,
) -> RunResult:
    """Read, validate and split ``source``; write the channels, the test file and ``run.json`` to
    ``store``; then create the training job on ``backend`` (``None``: split only).

    Sources larger than ``stream.above_bytes`` are split by :mod:`~model_training.split.streaming` (bounded
    memory, the same bytes); smaller ones in memory.

    A second call with the same source version and configuration finds ``run.json`` (and the job) and
    returns ``duplicate=True`` without writing or starting anything; for S3 sources this is decided
    from a ``HeadObject``, before the object is downloaded.

    Args:
        manifest: where the manifest that applied came from (URI, hash or eTag), for ``run.json``.
        stream: when and how to stream (default :class:`StreamOptions`: above 2 GiB).
        time_left: seconds left in the Lambda invocation; before each expensive step it is compared with
            an estimate (:func:`check_time_budget`), and :class:`~model_training.errors.TimeBudgetError` is
            raised before the step rather than being killed during it.

    Returns:
        The run's result.

    Raises:
        ModelTrainingError: bad input or configuration (before anything is written), or
            :class:`RunFailedError` when the training job failed (after the split was committed).
    """
    import gc

    from model_training.data.dataset import inflate_time_left

    collecting = gc.isenabled()
    gc.disable()  # a run makes few cyclic objects; the collector's passes over the imported modules cost 3%
    budget = inflate_time_left.set(time_left)  # gzip data stops inflating when the time is nearly spent
    try:
        return _run_pipeline(source, config, store, backend, target, reporter, manifest, time_left, stream)
    finally:
        inflate_time_left.reset(budget)
        if collecting:
            gc.enable()


def _run_pipeline(
    source: Source,
    config: RunConfig,
    store: Store,
    backend: TrainingBackend | None,
    target: TrainingTarget,
    reporter: Reporter | None,
    manifest: dict[str, Any] | None,
    time_left: Callable[[], float] | None,
    stream: StreamOptions | None,
) -> RunResult:
    from model_training.data.rowindex import tune_allocator

    rep = reporter or NullReporter()
    if backend is not None:
        backend.preflight(config.training.algorithm_version)
    options = stream or StreamOptions()
    size = source.size()
    expanded = in_memory_size(source, size)  # a gzip source's estimated inflated size: what the time estimates use
    streaming = options.above_bytes is not None and expanded > options.above_bytes
    tune_allocator(streaming=streaming)
    check_time_budget(time_left, "reading", size / READ_BYTES_PER_SECOND)
    early: Dataset | None = None
    if not streaming and isinstance(source, LocalSource):
        # a local file is identified by its hash, which needs every byte anyway: read it, hash it on a
        # worker thread while its rows are indexed and checked (the errors come out the same, earlier)
        with rep.task(f"reading {source.display_name}", total=size, unit="bytes") as advance:
            data, identified = source.read_then_hash(on_bytes=advance)
        early = _parse_in_memory(identified(wait=False), data, options)
        del data
        if early is None:  # gzip data inflating past the in-memory limit: streamed instead
            streaming = True
            info = identified()
        else:
            hp = parse_hyperparameters(config.training.hyperparameters, config.training.algorithm_version)
            validate_rows(early, output_columns(early, config), config, hp)
            info = identified()
            early = early.with_source(info)
    else:
        with rep.task(f"reading {source.display_name}", total=size, unit="bytes") as advance:
            info = source.identify(on_bytes=advance, keep=not streaming)
    run_id = compute_run_id(info, config)
    store = store.with_tags({"RunId": run_id, "SourceObject": info.uri})  # lineage on every object written
    run_prefix = f"{config.prefix(info.name)}/{run_id}"
    record_key = f"{run_prefix}/{RUN_RECORD_NAME}"
    run_uri = store.uri(run_prefix)

    test_uri = store.uri(f"{run_prefix}/{split_files('test')[0][1]}")
    if test_uri.startswith("s3://") and len(test_uri) > 256:
        raise ConfigurationError(
            f"the test file's URI would be {len(test_uri)} characters: {test_uri[:80]}...",
            "SageMaker tag values (the Testing tag) hold 256: use a shorter output prefix or bucket name",
        )
    existing = _existing_record(store, record_key, rep)
    if _finished(existing, backend):
        assert existing is not None
        _raise_if_failed(existing, run_uri, earlier=True)
        return RunResult(record=existing, duplicate=True, run_uri=run_uri)
    if existing is not None and backend is not None:
        # committed, but the job not recorded: a delivery that died after creating the job, or one creating it now
        job = _job_of(existing, config, backend, target, store)
        if job is not None and (job["TrainingJobStatus"] != "InProgress" or not backend.runs_jobs):
            record = existing
            if not claims.held(store, run_prefix):  # a live holder records the job itself
                record = _existing_record(store, record_key, rep) or existing
                if not _finished(record, backend):
                    record = record_job_outcome(record, job, backend.backend_name, store, record_key)
            else:
                record = record.model_copy(update={"training": _training_record(job, backend.backend_name)})
            _raise_if_failed(record, run_uri, earlier=True)
            return RunResult(record=record, duplicate=True, run_uri=run_uri)

    # one delivery writes the run and creates its job: the others stop here, before writing anything
    claim = claims.acquire(
        store,
        run_prefix,
        time_left=time_left,
        done=lambda: _finished(_existing_record(store, record_key, rep), backend),
        what=f"run {run_id} ({info.uri})",
    )
    if claim is None:  # the holder finished it while this delivery waited
        finished = _existing_record(store, record_key, rep)
        assert finished is not None
        _raise_if_failed(finished, run_uri, earlier=True)
        return RunResult(record=finished, duplicate=True, run_uri=run_uri)
    try:
        existing = _existing_record(store, record_key, rep)  # again, under the claim
        if _finished(existing, backend):
            assert existing is not None
            _raise_if_failed(existing, run_uri, earlier=True)
            return RunResult(record=existing, duplicate=True, run_uri=run_uri)
        if existing is not None:
            record = existing  # committed (split only, or a crash before the job was recorded): train it
        else:
            sweep = getattr(store, "sweep", None)
            if sweep is not None:
                sweep(run_prefix)  # what a killed run left: temporary files, a partial split
            try:
                record = _split(
                    source,
                    info,
                    config,
                    store,
                    run_id,
                    run_prefix,
                    record_key,
                    rep,
                    manifest,
                    options,
                    streaming,
                    expanded,
                    time_left,
                    early,
                )
            except DatasetError as exc:
                from model_training.data.parts import PartsSource, located

                if isinstance(source, PartsSource):
                    raise located(exc, source) from None
                raise
            except (MemoryError, OSError) as exc:
                failure = environment_failure(exc, f"splitting {info.uri}")
                if failure is exc:
                    raise
                raise failure from exc

        if backend is None:
            return RunResult(record=record, duplicate=False, run_uri=run_uri)
        check_time_budget(time_left, "starting the training job", 0)
        record, duplicate = _train(record, config, backend, target, store, record_key, rep)
    finally:
        claim.release()
    _raise_if_failed(record, run_uri, earlier=duplicate)
    return RunResult(record=record, duplicate=duplicate, run_uri=run_uri)


def _finished(record: RunRecord | None, backend: TrainingBackend | None) -> bool:
    """Whether ``record`` leaves nothing to do: its job is recorded, or it is committed and nothing trains."""
    return record is not None and (record.status != "committed" or backend is None)


def _split(
    source: Source,
    info: SourceInfo,
    config: RunConfig,
    store: Store,
    run_id: str,
    run_prefix: str,
    record_key: str,
    rep: Reporter,
    manifest: dict[str, Any] | None,
    options: StreamOptions,
    streaming: bool,
    size: int,
    time_left: Callable[[], float] | None,
    dataset: Dataset | None = None,
) -> RunRecord:
    """Split and commit a run, streaming or in memory (``dataset``: the source, already read and checked).
    ``size``: the source's size in bytes, inflated (estimated) for gzip, for the time estimate of streaming."""
    if dataset is None and not streaming:
        info, data = source.read()
        dataset = _parse_in_memory(info, data, options)
        del data
        streaming = dataset is None  # gzip data inflating past the in-memory limit: streamed instead
    if streaming:
        from model_training.split.streaming import split_streaming

        check_time_budget(time_left, "splitting and writing", 3 * size / WRITE_BYTES_PER_SECOND)
        return split_streaming(
            source,
            info,
            config,
            store=store,
            run_id=run_id,
            run_prefix=run_prefix,
            record_key=record_key,
            rep=rep,
            manifest=manifest,
            chunk_bytes=options.chunk_bytes,
            tmp_dir=options.tmp_dir,
        )
    assert dataset is not None
    check_time_budget(time_left, "splitting and writing", len(dataset.raw) / WRITE_BYTES_PER_SECOND)
    return _split_and_commit(dataset, config, store, run_id, run_prefix, record_key, rep, manifest)


def _parse_in_memory(info: SourceInfo, data: bytes, options: StreamOptions) -> Dataset | None:
    """:func:`parse_csv` of ``data``, or ``None`` if it is gzip data that inflates past the in-memory split's
    limit (``options.above_bytes``): the caller streams it instead (the estimate from its first 64 KiB was low).

    Raises:
        DatasetError: as :func:`parse_csv`, including ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES`` exceeded.
    """
    from model_training.data.dataset import DecompressedTooLargeError

    try:
        return parse_csv(info, data, lazy=True, memory_limit=options.above_bytes)
    except DecompressedTooLargeError as exc:
        if exc.in_memory:
            return None
        raise


#: What a row costs in memory in the in-memory split, beyond its bytes (offsets, positions, labels), in
#: bytes of source it is worth: narrow rows make a small file large in memory.
ROW_WEIGHT_BYTES = 70


def in_memory_size(source: Source, size: int) -> int:
    """The size the in-memory split should be judged by, in bytes: ``size``, or more for a gzip source
    (its expansion, estimated from the first 64 KiB) or for narrow rows (``ROW_WEIGHT_BYTES`` a row, the
    rows estimated from the first 64 KiB).  A 116 KB gzip of 20 million 4-byte rows is an 80 MB file of
    1.4 GB in memory, and is streamed."""
    import zlib

    sample = getattr(source, "sample", None)
    head = sample(1 << 16) if sample is not None and size else b""
    if not head:
        return size
    text, expanded = head, size
    if head[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(wbits=47)
        try:
            text = inflater.decompress(head, 1 << 24)
        except zlib.error:
            return size
        used = len(head) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
        expanded = int(size * len(text) / max(used, 1))
    rows = expanded * text.count(b"\n") / max(len(text), 1)
    return max(expanded, int(rows * ROW_WEIGHT_BYTES))


#: Conservative throughputs for the time-budget estimates (a Lambda reads S3 at a few hundred MB/s).
READ_BYTES_PER_SECOND = 50e6
WRITE_BYTES_PER_SECOND = 20e6
#: Seconds kept in reserve on top of every estimate (uploads finishing, run.json, the response).
TIME_MARGIN_SECONDS = 10.0


def check_time_budget(time_left: Callable[[], float] | None, step: str, estimate_seconds: float) -> None:
    """Raise :class:`TimeBudgetError` if less than ``estimate_seconds`` plus a margin is left."""
    if time_left is None:
        return
    left = time_left()
    needed = estimate_seconds + TIME_MARGIN_SECONDS
    if left < needed:
        raise TimeBudgetError(f"{step} needs about {needed:.0f} s and {left:.0f} s are left in this invocation")


def _existing_record(store: Store, record_key: str, rep: Reporter) -> RunRecord | None:
    """The run record, if one was committed; an unreadable one (a partial write by another tool, an
    older schema) counts as none: the run is redone, which rewrites the same bytes."""
    if not store.exists(record_key):
        return None
    try:
        return RunRecord.model_validate_json(store.read_bytes(record_key))
    except ValueError:
        rep.info(f"{store.uri(record_key)} cannot be read as a run record: redoing the run")
        return None


def _raise_if_failed(record: RunRecord, run_uri: str, *, earlier: bool) -> None:
    training = record.training
    if training is None or training.status != "Failed":
        return
    when = " earlier" if earlier else ""
    raise RunFailedError(
        f"training job {training.job_name} failed{when}: {training.failure_reason}",
        f"the split is kept under {run_uri}; see: model-training jobs describe {training.job_name}. Job names are "
        "unique, as on SageMaker: to train again, change a setting (e.g. a hyperparameter or --date)",
    )


def _split_and_commit(
    dataset: Dataset,
    config: RunConfig,
    store: Store,
    run_id: str,
    run_prefix: str,
    record_key: str,
    rep: Reporter,
    manifest: dict[str, Any] | None = None,
) -> RunRecord:
    columns = output_columns(dataset, config)
    hp = parse_hyperparameters(config.training.hyperparameters, config.training.algorithm_version)
    labels = validate_rows(dataset, columns, config, hp)
    check_label_classes(dataset.source.uri, config, hp, np.array(list(label_counts(labels))), float(labels[0]))
    plan, achieved = plan_strategy(dataset, config, labels)
    splits = split_records({split: label_counts(labels[plan.indices[split]]) for split in SPLIT_NAMES})
    check_classes_for_auc(dataset.source.uri, splits, hp)

    def outputs() -> Iterator[tuple[str, str, Iterable[Chunk]]]:
        for split in SPLIT_NAMES:
            rows = plan.indices[split]
            if rows.size == 0:  # only a split whose fraction is 0 can be empty (plan_split checks)
                continue
            with rep.task(f"writing {split}", total=int(rows.size), unit="rows") as advance:
                if split == "test":
                    ((name, key),) = split_files(split)
                    yield name, key, _counting(render_test(dataset, rows), advance, int(rows.size), header=True)
                    continue
                parts = part_count(int(rows.size), dataset.num_rows, dataset.source.size_bytes, config)
                for (name, key), part_rows in zip(split_files(split, parts), np.array_split(rows, parts), strict=True):
                    chunks = _counting(render_channel(dataset, part_rows, columns), advance, int(part_rows.size))
                    yield name, key, chunks

    files = write_verified(store, run_prefix, outputs())
    return commit_record(store, record_key, run_id, run_prefix, dataset.source, config, splits, achieved, manifest, files)


def output_columns(dataset: Dataset, config: RunConfig) -> list[str]:
    """The ``train``/``validation`` columns (label first), after checking that every configured column exists.

    Raises:
        DatasetError: a configured column is missing, or no feature is left.
    """
    require_columns(dataset, [config.label], "label")
    require_columns(dataset, list(config.drop), "drop")
    if config.features is not None:
        require_columns(dataset, list(config.features), "feature")
    for role, name in (("split key", config.split.key), ("order_by", config.split.order_by)):
        if name:
            require_columns(dataset, [name], role)
    columns = channel_columns(dataset.columns, config.label, config.drop)
    if config.features is not None:
        wanted = set(config.features)
        columns = [config.label, *(c for c in columns[1:] if c in wanted)]
    if len(columns) < 2:
        raise DatasetError(
            f"{dataset.source.uri}: no feature columns are left besides the label {config.label!r}",
            "the model needs at least one feature: drop fewer columns (--drop)",
        )
    return columns


def validate_rows(dataset: Dataset, columns: list[str], config: RunConfig, hp: ParsedHyperparameters) -> np.ndarray:
    """Check every row of ``dataset`` (a whole file, or one chunk of it): the CSV structure, a number in
    every label and feature value, a label that fits the objective.  Returns the labels as float64.

    Raises:
        DatasetError: naming the line and column of the first problem.
    """
    index_rows(dataset, columns, config)
    check_numeric(dataset, [config.label], allow_empty=False, role="label")
    check_numeric(dataset, columns[1:], allow_empty=True, role="feature")
    labels = dataset.numbers(config.label)
    problem = label_problem(labels, hp.objective, hp.num_class)
    if problem:
        row, reason = problem
        line = dataset.line_of_row(row)
        raise DatasetError(
            f"{dataset.source.uri}: {reason} (column {config.label!r}, line {line})",
            "fix the label upstream, or choose an objective that fits it with -H objective=...",
            log_message=f"{dataset.source.uri}: a label does not fit {hp.objective} (column {config.label!r}, line {line})",
        )
    return labels


def check_label_classes(uri: str, config: RunConfig, hp: ParsedHyperparameters, classes: np.ndarray, first: float) -> None:
    """A classification objective needs two label values or more (``classes``: the distinct labels;
    ``first``: the first row's label, for the message)."""
    objective = hp.objective or ""
    if objective.startswith(("binary:", "multi:")) and len(classes) < 2:
        raise DatasetError(
            f"{uri}: the label {config.label!r} has a single class ({first:g}) on every row: nothing to learn for {objective}",
            "check the label column and the upstream filter that produced the file",
        )


def label_counts(labels: np.ndarray) -> dict[float, int]:
    """Rows per label value, in ascending order (counted by numeric value: "1" and "1.0" are the same class).

    Labels that are all tenths between 0 and 409.5 (0/1, class numbers, 0.5 ...) are counted with
    ``bincount`` in linear time; others are sorted (``numpy.unique``).
    """
    if labels.size > 4096:
        tenths = np.rint(labels * 10)
        if tenths.min() >= 0 and tenths.max() < 4096 and (tenths / 10 == labels).all():
            counts = np.bincount(tenths.astype(np.int64))
            return {float(v / 10): int(counts[v]) for v in np.flatnonzero(counts)}
    values, counts = np.unique(labels, return_counts=True)
    return {float(v): int(c) for v, c in zip(values, counts, strict=True)}


def split_records(counts: dict[str, dict[float, int]]) -> dict[str, SplitRecord]:
    """The run record's per-split summary from each split's :func:`label_counts`."""
    out = {}
    for split in SPLIT_NAMES:
        per_label = counts.get(split, {})
        label_counts_text = {_label_text(v): c for v, c in sorted(per_label.items())}
        positives = per_label.get(1.0, 0) if set(per_label) <= {0.0, 1.0} else None
        out[split] = SplitRecord(rows=sum(per_label.values()), label_counts=label_counts_text, positives=positives)
    return out


def commit_record(
    store: Store,
    record_key: str,
    run_id: str,
    run_prefix: str,
    source: SourceInfo,
    config: RunConfig,
    splits: dict[str, SplitRecord],
    achieved: dict[str, float] | None,
    manifest: dict[str, Any] | None,
    files: dict[str, StoredObject],
) -> RunRecord:
    """Write ``run.json`` with status ``committed`` (after every split file was verified)."""
    record = RunRecord(
        run_id=run_id,
        status="committed",
        source={
            "uri": source.uri,
            "name": source.name,
            "size_bytes": source.size_bytes,
            "sha256": source.sha256,
            **({"etag": source.etag} if source.etag else {}),
            **({"version_id": source.version_id} if source.version_id else {}),
            "identity": source.identity(),
        },
        config=config.model_dump(mode="json"),
        prefix=run_prefix,
        splits=splits,
        achieved_fractions=achieved,
        manifest=manifest,
        files={k: FileRecord(key=v.key, uri=v.uri, size_bytes=v.size_bytes, sha256=v.sha256) for k, v in files.items()},
        versions=library_versions(),
    )
    store.write_bytes(record_key, record.to_json())
    return record


def write_verified(store: Store, run_prefix: str, outputs: Iterable[tuple[str, str, Iterable[Chunk]]]) -> dict[str, StoredObject]:
    """Write each ``(name, key, chunks)`` of ``outputs`` under ``run_prefix``, in turn; each file is verified
    (:meth:`Store.verify`: size and SHA-256) on a worker thread while the next one is rendered.

    If writing fails (or is interrupted), the files this call wrote are deleted again before the error
    propagates, so a failed run leaves no partial split.

    Raises:
        ModelTrainingError: a written file does not read back as written.
    """
    from concurrent.futures import ThreadPoolExecutor

    files: dict[str, StoredObject] = {}
    attempted: list[str] = []
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="verify") as pool:
            checks = []
            for name, key, chunks in outputs:
                attempted.append(f"{run_prefix}/{key}")
                obj = store.write(attempted[-1], chunks)
                files[name] = obj
                checks.append((obj, pool.submit(store.verify, obj)))
            for obj, check in checks:
                if not check.result():
                    raise ModelTrainingError(f"{obj.uri}: the written file does not match what was rendered", "retry the run")
    except BaseException:
        for written in attempted:  # a failed run leaves no split file behind (best effort: a kill leaves them)
            with contextlib.suppress(Exception):
                store.delete(written)
        raise
    return files


def training_request(record: RunRecord, config: RunConfig, target: TrainingTarget, store: Store) -> dict[str, Any]:
    """The ``CreateTrainingJob`` request of a committed run (``sagemaker-xgboost.md``, "Request").

    Tags, in this order: ``Project=MLOps``, ``Region``, ``Testing`` (the test file's URI: the deployment
    stage takes the first tag whose key contains ``Testing``), ``RunId``, ``Source``, ``ServingImage`` (the
    job's own ``AlgorithmSpecification.TrainingImage``: the image that must serve the model), then the
    run's extra tags.

    Raises:
        ConfigurationError: the request would carry a key containing ``Testing`` other than the stage's
            own ``Testing`` tag, or more than SageMaker's 50 tags (the configuration's checks prevent both).
    """
    channels: dict[str, str] = {
        split: store.uri(f"{record.prefix}/{split}") + "/" for split in ("train", "validation") if record.splits[split].rows
    }
    tags = {"Project": "MLOps"}
    if target.region:
        tags["Region"] = target.region
    if "test" in record.files:
        tags["Testing"] = record.files["test"].uri  # the deployment stage reads the test file's URI from this tag
    training = config.training
    # the model must be served by the image that trained it (XGBoost 0.72 of xgboost:latest cannot load it)
    tags.update({"RunId": record.run_id, "Source": _tag_value(record.source["uri"]), "ServingImage": target.image})
    tags.update(training.tags)
    _check_tags(tags)
    request = build_training_request(
        job_name=make_job_name(record.source["name"], record.run_id),
        image=target.image,
        hyperparameters=config.training.hyperparameters,
        channels=channels,
        output_path=f"{target.model_output_root.rstrip('/')}/{config.run_date.isoformat()}/output",
        role_arn=target.role_arn,
        instance_type=training.instance_type,
        instance_count=training.instance_count,
        volume_size_gb=training.volume_size_gb,
        max_runtime_seconds=training.max_runtime_seconds,
        tags=tags,
    )
    if training.output_kms_key_id:
        request["OutputDataConfig"]["KmsKeyId"] = training.output_kms_key_id
    if training.volume_kms_key_id:
        request["ResourceConfig"]["VolumeKmsKeyId"] = training.volume_kms_key_id
    if training.use_spot:
        request["EnableManagedSpotTraining"] = True
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = training.max_wait_seconds or training.max_runtime_seconds
    if training.enable_network_isolation:
        request["EnableNetworkIsolation"] = True
    if training.enable_inter_container_traffic_encryption:
        request["EnableInterContainerTrafficEncryption"] = True
    if training.vpc_subnets:
        request["VpcConfig"] = {"Subnets": list(training.vpc_subnets), "SecurityGroupIds": list(training.vpc_security_groups)}
    return request


def _job_of(record: RunRecord, config: RunConfig, backend: TrainingBackend, target: TrainingTarget, store: Store) -> Any:
    """The training job of a committed run, if it exists (``DescribeTrainingJob`` on its deterministic name)."""
    return backend.find_training_job(training_request(record, config, target, store)["TrainingJobName"])


def _train(
    record: RunRecord,
    config: RunConfig,
    backend: TrainingBackend,
    target: TrainingTarget,
    store: Store,
    record_key: str,
    rep: Reporter,
) -> tuple[RunRecord, bool]:
    """Create the run's job unless it exists (called under the run claim), run it (locally) and record it."""
    request = training_request(record, config, target, store)
    name = request["TrainingJobName"]
    duplicate = backend.find_training_job(name) is not None
    if not duplicate:
        try:
            backend.create_training_job(request)
        except TrainingJobExistsError:
            duplicate = True  # created outside the claim (by hand, or an older version of the stage)
    if duplicate:
        rep.info(f"training job {name} exists already: not starting another")
    job = backend.run_training_job(name)
    return record_job_outcome(record, job, backend.backend_name, store, record_key), duplicate


def record_job_outcome(record: RunRecord, job: dict[str, Any], backend: str, store: Store, record_key: str) -> RunRecord:
    """Rewrite ``run.json`` with the training job's state (a ``DescribeTrainingJob``-shaped ``job``):
    status ``started`` while it runs, ``complete`` once it has ended."""
    training = _training_record(job, backend)
    finished = training.status in ("Completed", "Failed", "Stopped")
    done = record.model_copy(update={"status": "complete" if finished else "started", "training": training})
    store.write_bytes(record_key, done.to_json())
    return done


def _training_record(job: dict[str, Any], backend: str) -> TrainingRecord:
    """The run record's ``training`` of a ``DescribeTrainingJob``-shaped ``job``."""
    metrics = {m["MetricName"]: float(m["Value"]) for m in job.get("FinalMetricDataList", [])}
    image = job.get("AlgorithmSpecification", {}).get("TrainingImage", "")
    return TrainingRecord(
        backend=backend,
        job_name=job["TrainingJobName"],
        status=job["TrainingJobStatus"],
        serving_image=job.get("ServingImage", image) or None,
        xgboost_version=job.get("XGBoostVersion", IMAGE_XGBOOST.get(image_version(image))) if image else None,
        failure_reason=job.get("FailureReason"),
        final_metrics=metrics,
        model_artifact=job.get("ModelArtifacts", {}).get("S3ModelArtifacts"),
        training_seconds=job.get("TrainingTimeInSeconds"),
    )


def _check_tags(tags: dict[str, str]) -> None:
    """Refuse a training job's tags that the deployment stage would misread, or SageMaker would refuse.

    Raises:
        ConfigurationError: a key other than ``Testing`` contains ``Testing``; more than 50 tags.
    """
    others = [k for k in tags if TESTING_TAG_MARK in k and k != "Testing"]
    if others:
        raise ConfigurationError(
            f"the training job's tag {others[0]!r} contains {TESTING_TAG_MARK!r}: the deployment stage takes the first "
            f"such tag as the test file's URI",
            f"rename the extra tag (training.tags): its key must not contain {TESTING_TAG_MARK!r}",
        )
    if len(tags) > 50:
        raise ConfigurationError(f"the training job would carry {len(tags)} tags", "SageMaker allows 50: drop extra tags")


def _tag_value(text: str) -> str:
    # SageMaker tag values: at most 256 characters of letters, digits, spaces and _ . : / = + - @
    return re.sub(r"[^\w\s.:/=+\-@]", "_", text)[-256:]


def part_count(rows: int, total_rows: int, source_bytes: int, config: RunConfig) -> int:
    """How many part files a channel of ``rows`` rows is written as: enough to keep each near
    ``part_size_mb``, and with ``instance_count`` > 1 at least one per instance, so that ``ShardedByS3Key``
    gives every instance a similar share (``sagemaker-xgboost.md``); never more parts than rows.
    One part (``part-00000``, as the original stage's single file) in the common case."""
    estimate = source_bytes * rows / max(total_rows, 1)
    by_size = int(np.ceil(estimate / (config.training.part_size_mb * 2**20)))
    by_instances = config.training.instance_count if config.training.instance_count > 1 else 1
    return max(1, min(rows, max(by_size, by_instances)))


def plan_strategy(
    dataset: Dataset, config: RunConfig, labels: np.ndarray | None = None
) -> tuple[SplitPlan, dict[str, float] | None]:
    """The split plan of the configured strategy, and the achieved row fractions where a strategy meets
    the requested ones only as closely as the data allows (group, ordered, hash)."""
    if labels is None and config.split.strategy == "stratified":
        labels = dataset.numbers(config.label)
    return plan_from_input(dataset.num_rows, strategy_input(dataset, config, labels), config, dataset.source.uri)


def strategy_input(dataset: Dataset, config: RunConfig, labels: np.ndarray | None) -> Any:
    """What the configured strategy needs of every row of ``dataset``: nothing (random), the labels
    (stratified), the key or order column's text (group, ordered), or the rows' hash fingerprints (hash).
    Per-row values, so the inputs of consecutive chunks concatenate (:func:`merge_inputs`) to the whole
    file's."""
    from model_training.split import strategies

    split = config.split
    if split.strategy == "random":
        return None
    if split.strategy == "stratified":
        return labels
    if split.strategy == "group":
        return dataset.column(split.key or "")
    if split.strategy == "ordered":
        return dataset.column(split.order_by or "")
    texts = (dataset.column(split.key) if split.key else dataset.line_texts()).combine_chunks()
    return strategies.hash_fingerprints([v.encode("utf-8") for v in texts.to_pylist()], split.seed)


def merge_inputs(parts: list[Any]) -> Any:
    """The :func:`strategy_input` of consecutive chunks, as one."""
    if not parts or parts[0] is None:
        return None
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return pa.chunked_array([c.cast(pa.large_string()) for part in parts for c in part.chunks], type=pa.large_string())


def plan_from_input(n: int, values: Any, config: RunConfig, uri: str) -> tuple[SplitPlan, dict[str, float] | None]:
    """Plan the split of ``n`` rows from their :func:`strategy_input`."""
    from model_training.split import strategies

    split = config.split
    if split.strategy == "random":
        return plan_split(n, split, uri), None
    try:
        if split.strategy == "stratified":
            plan = strategies.stratified_split(values, split.fractions, split.seed)
        elif split.strategy == "group":
            keys = np.asarray(values.to_pylist(), dtype=object)
            plan, _ = strategies.group_split(keys, split.fractions, split.seed)
        elif split.strategy == "ordered":
            try:
                order: Any = pc.cast(values, pa.float64()).to_numpy()
            except pa.ArrowInvalid:
                order = np.asarray(values.to_pylist(), dtype=object)
            plan = strategies.ordered_split(order, split.fractions, split.seed, split.shuffle_train)
        else:
            plan, _ = strategies.hash_split_fingerprints(values, split.fractions)
    except SplitError as exc:
        raise SplitError(f"{uri}: {exc.message}", exc.hint) from None
    achieved = {name: plan.rows(name) / n for name in SPLIT_NAMES}
    return plan, achieved


def check_classes_for_auc(uri: str, splits: dict[str, SplitRecord], hp: ParsedHyperparameters) -> None:
    """``auc`` needs both classes in every split it is computed on (the container fails the job otherwise)."""
    if "auc" not in hp.eval_metrics:
        return
    for split in ("train", "validation"):
        record = splits[split]
        if record.rows and len(record.label_counts) < 2:
            only = next(iter(record.label_counts), "?")
            raise DatasetError(
                f"{uri}: the {split} split has only one class (label {only}, {record.rows} rows): AUC is undefined",
                "add rows of the other class, change --seed or --fractions, or use another eval_metric (-H eval_metric=logloss)",
            )


def index_rows(dataset: Dataset, columns: list[str], config: RunConfig, *, check: bool = True) -> None:
    """Index the rows once for everything the run needs: the channel cuts, the label and key columns, and
    (``check``) the numeric check of the label (non-empty) and the features.  Rows that are not plain CSV
    are parsed by pyarrow instead, which raises the exact error for a malformed file."""
    ncols = len(dataset.columns)
    label = dataset.index[config.label]
    keys = [dataset.index[n] for n in (config.split.key, config.split.order_by) if n]
    cuts, _ = channel_pieces(dataset, columns)
    features = [dataset.index[c] for c in columns[1:]]
    numeric, required = ([label, *features], [label]) if check else ([], [])
    idx = dataset.row_index(fields=[*cut_fields(cuts, ncols), label, *keys], numeric=numeric, required=required)
    if idx is None:
        dataset.table  # noqa: B018 - parses the rows, raising DatasetError for a malformed file


def _label_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _counting(chunks: Iterable[Chunk], advance: Any, rows: int, *, header: bool = False) -> Iterator[Chunk]:
    """Pass ``chunks`` through, advancing the progress by the rows each holds (:data:`CHUNK_ROWS` each, the
    header chunk none)."""
    for i, chunk in enumerate(chunks):
        if not (header and i == 0):
            step = min(CHUNK_ROWS, rows)
            rows -= step
            advance(step)
        yield chunk


__all__ = ["OutputLayout", "RunFailedError", "RunResult", "StreamOptions", "run_local"]
