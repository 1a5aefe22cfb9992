"""The one pipeline both entry points run: identify -> claim -> validate and plan -> write the splits ->
commit ``run.json`` -> create the training job -> record it.  This module orchestrates only: each step
lives in the part that owns it and returns here.

Order of effects (what a crash at any point leaves behind):

1. Nothing is written until the source is read, parsed and validated and the split is planned.
2. The split files are written atomically and verified (size, SHA-256); a retry rewrites them byte
   for byte, since the run id and the paths depend only on the input and the configuration.
3. ``run.json`` is written with status ``committed`` only after every split file is verified: a run
   without it is incomplete, whatever files exist.
4. The training job is created only after that, with a name derived from the run id, so a second
   attempt finds the job instead of starting another; ``run.json`` is rewritten with the outcome.  With a
   ``tuning`` section, the run's tuning job takes the training job's place (:mod:`~model_training.training.tuning_run`:
   created once by its name, its search run locally, its best model copied once to the model output).

Of concurrent deliveries of one run, the one holding the run's claim (:mod:`~model_training.output.claims`)
writes and trains; the others find its result or fail retryably.

The split's own modules (numpy, pyarrow) are imported by the steps that split, not here: a delivery that finds its
run done (a duplicate) reads ``run.json`` only, and the Lambda function's first invocation pays for every import.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from model_training.algorithm.hyperparameters import ParsedHyperparameters, parse_hyperparameters
from model_training.budget import READ_BYTES_PER_SECOND, WRITE_BYTES_PER_SECOND, check_time_budget
from model_training.config.run import RunConfig, StreamOptions
from model_training.data.inflate import inflate_time_left
from model_training.data.local import LocalSource
from model_training.data.parts import PartsSource, located
from model_training.errors import ConfigurationError, DatasetError, environment_failure
from model_training.output import claims
from model_training.output.commit import commit_record, read_record, write_verified
from model_training.output.runrecord import RUN_RECORD_NAME, RunRecord, compute_run_id
from model_training.ports import Source, SourceInfo, Store, TrainingBackend, split_files
from model_training.progress import NullReporter, Reporter
from model_training.split.size import in_memory_size
from model_training.tags import MAX_TAG_VALUE_CHARS
from model_training.training.jobs import TrainingTarget, find_job, raise_if_failed, record_job_outcome, train, training_record
from model_training.training.tuning_jobs import find_tuning_job
from model_training.training.tuning_outcome import FINAL_TUNING_STATUSES, is_final
from model_training.training.tuning_run import tune

if TYPE_CHECKING:
    from model_training.data.dataset import Dataset
    from model_training.split.first_pass import FirstPass
    from model_training.split.method import SplitMethod


@dataclass(frozen=True)
class RunContext:
    """What one run is given (built by :mod:`~model_training.wiring` from a URI and settings).

    Attributes:
        source: where the CSV comes from.
        config: the effective configuration (part of the run id).
        store: where the split files and ``run.json`` go.
        backend: where the training job runs (``None``: split only).
        target: the training job's image, model output location, role and region.
        reporter: progress and notes for whoever listens.
        manifest: where the manifest that applied came from (URI, hash or eTag), for ``run.json``.
        time_left: seconds left in the Lambda invocation (``None``: no budget).
        stream: when and how to split by streaming.
    """

    source: Source
    config: RunConfig
    store: Store
    backend: TrainingBackend | None
    target: TrainingTarget
    reporter: Reporter = field(default_factory=NullReporter)
    manifest: dict[str, Any] | None = None
    time_left: Callable[[], float] | None = None
    stream: StreamOptions = field(default_factory=StreamOptions)


@dataclass(frozen=True)
class RunResult:
    """The outcome of a run.

    Attributes:
        record: the run record as written last.
        duplicate: the run was already complete; nothing was written or started this time.
        run_uri: the run folder's URI.
    """

    record: RunRecord
    duplicate: bool
    run_uri: str


@dataclass(frozen=True)
class _Place:
    """Where a run's files go, from its source's identity and its configuration."""

    info: SourceInfo
    run_id: str
    prefix: str  # {config prefix}/{run_id}
    record_key: str  # {prefix}/run.json
    uri: str  # the run folder's URI
    store: Store  # tagging every object with the run's lineage


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
    """:func:`run` with its context given as arguments."""
    rep = reporter or NullReporter()
    return run(RunContext(source, config, store, backend, target, rep, manifest, time_left, stream or StreamOptions()))


def run(ctx: RunContext) -> RunResult:
    """Read, validate and split the source; write the channels, the test file and ``run.json`` to the store;
    then create the training job (none without a backend).

    Sources larger than ``ctx.stream.above_bytes`` (estimated in memory: :func:`in_memory_size`) are split by
    streaming (bounded memory, the same bytes); smaller ones in memory.  A second call with the same source
    version and configuration finds ``run.json`` (and the job) and returns ``duplicate=True`` without writing
    or starting anything; for S3 sources this is decided from a ``HeadObject``, before the object is read.

    Raises:
        ModelTrainingError: bad input or configuration (before anything is written), or
            :class:`~model_training.errors.RunFailedError` when the training job failed (after the commit).
        TimeBudgetError: too little of the invocation left for the next step (before the step).
    """
    collecting = gc.isenabled()
    gc.disable()  # a run makes few cyclic objects; the collector's passes over the imported modules cost 3%
    budget = inflate_time_left.set(ctx.time_left)  # gzip data stops inflating when the time is nearly spent
    try:
        return _run(ctx)
    finally:
        inflate_time_left.reset(budget)
        if collecting:
            gc.enable()


def _run(ctx: RunContext) -> RunResult:
    if ctx.backend is not None:
        ctx.backend.preflight(ctx.config.training.algorithm_version, tuning=ctx.config.tuning is not None)
    size = ctx.source.size()
    expanded = in_memory_size(ctx.source, size)  # a gzip source's estimated inflated size: what the time estimates use
    streaming = ctx.stream.above_bytes is not None and expanded > ctx.stream.above_bytes
    # a local file or folder is read in full to be identified (its hash); an S3 source by a HeadObject or a listing
    local_folder = isinstance(ctx.source, PartsSource) and ctx.source.folder is not None
    reads_to_identify = isinstance(ctx.source, LocalSource) or local_folder
    if reads_to_identify:
        _tune_allocator(streaming)
    check_time_budget(ctx.time_left, "reading", size / READ_BYTES_PER_SECOND)
    info, early, streaming_after_all = _identify(ctx, streaming)
    place = _place(ctx, info)

    done = _done_before(ctx, place)
    if done is not None:
        return done  # an S3 source read for its identity and run.json only: numpy and pyarrow not imported
    if not reads_to_identify:
        _tune_allocator(streaming)
    streaming = streaming_after_all
    # one delivery writes the run and creates its job: the others stop here, before writing anything
    claim = claims.acquire(
        place.store,
        place.prefix,
        time_left=ctx.time_left,
        done=lambda: _finished(read_record(place.store, place.record_key, ctx.reporter), ctx.backend),
        what=f"run {place.run_id} ({info.uri})",
    )
    if claim is None:  # the holder finished it while this delivery waited
        finished = read_record(place.store, place.record_key, ctx.reporter)
        assert finished is not None
        raise_if_failed(finished, place.uri, earlier=True)
        return RunResult(record=finished, duplicate=True, run_uri=place.uri)
    try:
        existing = read_record(place.store, place.record_key, ctx.reporter)  # again, under the claim
        if _finished(existing, ctx.backend) and not _search_ended(existing, ctx.backend):
            assert existing is not None
            raise_if_failed(existing, place.uri, earlier=True)
            return RunResult(record=existing, duplicate=True, run_uri=place.uri)
        # committed (split only, or a crash before the job was recorded): train it; else split and commit
        record = existing or _split_and_commit(ctx, place, early, streaming, expanded)
        if ctx.backend is None:
            return RunResult(record=record, duplicate=False, run_uri=place.uri)
        if ctx.config.tuning is not None:  # a search instead of one training job
            check_time_budget(ctx.time_left, "starting the tuning job", 0)
            record, duplicate = tune(record, ctx.config, ctx.backend, ctx.target, place.store, place.record_key, ctx.reporter)
        else:
            check_time_budget(ctx.time_left, "starting the training job", 0)
            record, duplicate = train(record, ctx.config, ctx.backend, ctx.target, place.store, place.record_key, ctx.reporter)
    finally:
        claim.release()
    raise_if_failed(record, place.uri, earlier=duplicate)
    return RunResult(record=record, duplicate=duplicate, run_uri=place.uri)


def _tune_allocator(streaming: bool) -> None:
    """:func:`~model_training.data.gather.tune_allocator`, before the first large read: imported here, since its
    module imports numpy, which a delivery that finds its run done never needs."""
    from model_training.data.gather import tune_allocator

    tune_allocator(streaming=streaming)


def _identify(ctx: RunContext, streaming: bool) -> tuple[SourceInfo, Dataset | FirstPass | None, bool]:
    """The source's identity; for a local file split in memory its dataset, already read and checked, for one
    streamed the streaming split's pass 1 (else ``None``: read later); and whether to stream after all (gzip
    data inflating past the in-memory limit).

    A local file is identified by its hash, which needs every byte anyway: split in memory, it is read, hashed
    on a worker thread while its rows are indexed and checked; streamed, its hash is pass 1's (which validates
    and counts the rows), so that it is read twice, not three times.  The errors come out the same, earlier.
    """
    source, rep = ctx.source, ctx.reporter
    if streaming and isinstance(source, LocalSource):
        from model_training.split.first_pass import first_pass

        first = first_pass(source, source.unhashed(), ctx.config, _hyperparameters(ctx.config), ctx.stream.chunk_bytes, rep)
        return source.identified_by(first.size_bytes, first.sha256), first, True
    with rep.task(f"reading {source.display_name}", total=source.size(), unit="bytes") as advance:
        if streaming or not isinstance(source, LocalSource):
            return source.identify(on_bytes=advance, keep=not streaming), None, streaming
        data, identified = source.read_then_hash(on_bytes=advance)
    from model_training.split.in_memory import parse_in_memory
    from model_training.validation.columns import output_columns
    from model_training.validation.rows import validate_rows

    early = parse_in_memory(identified(wait=False), data, ctx.stream)
    del data
    if early is None:  # gzip data inflating past the in-memory limit: streamed instead
        return identified(), None, True
    validate_rows(early, output_columns(early, ctx.config), ctx.config, _hyperparameters(ctx.config))
    info = identified()
    return info, early.with_source(info), False


def _hyperparameters(config: RunConfig) -> ParsedHyperparameters:
    return parse_hyperparameters(config.training.hyperparameters, config.training.algorithm_version, infer_num_class=True)


def _place(ctx: RunContext, info: SourceInfo) -> _Place:
    """The run's id and keys.

    Raises:
        ConfigurationError: the test file's S3 URI would not fit the ``Testing`` tag.
    """
    run_id = compute_run_id(info, ctx.config)
    store = ctx.store.with_tags({"RunId": run_id, "SourceObject": info.uri})  # lineage on every object written
    prefix = f"{ctx.config.prefix(info.name)}/{run_id}"
    test_uri = store.uri(f"{prefix}/{split_files('test')[0][1]}")
    if test_uri.startswith("s3://") and len(test_uri) > MAX_TAG_VALUE_CHARS:
        raise ConfigurationError(
            f"the test file's URI would be {len(test_uri)} characters: {test_uri[:80]}...",
            "SageMaker tag values (the Testing tag) hold 256: use a shorter output prefix or bucket name",
        )
    return _Place(info, run_id, prefix, f"{prefix}/{RUN_RECORD_NAME}", store.uri(prefix), store)


def _done_before(ctx: RunContext, place: _Place) -> RunResult | None:
    """The result of an earlier delivery of this run that left nothing to do, found without the claim."""
    existing = read_record(place.store, place.record_key, ctx.reporter)
    if _finished(existing, ctx.backend) and not _search_ended(existing, ctx.backend):
        assert existing is not None
        raise_if_failed(existing, place.uri, earlier=True)
        return RunResult(record=existing, duplicate=True, run_uri=place.uri)
    if existing is None or ctx.backend is None or ctx.config.tuning is not None:
        return None  # a search not recorded yet is found (or resumed) under the claim
    # committed, but the job not recorded: a delivery that died after creating the job, or one creating it now
    job = find_job(existing, ctx.config, ctx.backend, ctx.target, place.store)
    if job is None or (job["TrainingJobStatus"] == "InProgress" and ctx.backend.runs_jobs):
        return None
    record = existing
    if not claims.held(place.store, place.prefix):  # a live holder records the job itself
        record = read_record(place.store, place.record_key, ctx.reporter) or existing
        if not _finished(record, ctx.backend):
            record = record_job_outcome(record, job, ctx.backend.backend_name, place.store, place.record_key)
    else:
        record = record.model_copy(update={"training": training_record(job, ctx.backend.backend_name)})
    raise_if_failed(record, place.uri, earlier=True)
    return RunResult(record=record, duplicate=True, run_uri=place.uri)


def _finished(record: RunRecord | None, backend: TrainingBackend | None) -> bool:
    """Whether ``record`` leaves nothing to do: its job is recorded, or it is committed and nothing trains.  A
    local search recorded ``started`` (its best model not copied: the copy failed) is not: this delivery copies it."""
    if record is None:
        return False
    if record.status == "started" and record.tuning is not None and backend is not None and backend.runs_jobs:
        return False
    return record.status != "committed" or backend is None


def _search_ended(record: RunRecord | None, backend: TrainingBackend | None) -> bool:
    """Whether ``record`` is a run recorded ``started`` with a search that SageMaker runs (a backend that runs no
    search itself) and that has ended since, or whose best model is still to be copied: the tuning job's
    state-change event has not recorded it (a run outside the Lambda function's folders, which the event skips, or an
    event not delivered yet), so this delivery (the command line run again) records it and copies the best model."""
    if record is None or record.status != "started" or record.tuning is None or backend is None or backend.runs_jobs:
        return False
    if is_final(record.tuning):
        return True  # ended, its best model not copied yet
    found = find_tuning_job(backend, record.tuning.job_name)
    return found is not None and found["HyperParameterTuningJobStatus"] in FINAL_TUNING_STATUSES


def _split_and_commit(
    ctx: RunContext, place: _Place, dataset: Dataset | FirstPass | None, streaming: bool, size: int
) -> RunRecord:
    """Split the source, write and verify its files, and commit ``run.json`` (under the run's claim).

    Args:
        dataset: the source, already read and checked (a local file split in memory), or the streaming split's
            pass 1 over it (a local file streamed).
        size: the source's size in bytes, inflated (estimated) for gzip: the streaming split's time estimate.

    Raises:
        DatasetError, SplitError: as the split method raises them (a folder of part files' errors name the part
            and its line).
        EnvironmentFailure: the machine failed the split (out of memory, a full disk).
    """
    from model_training.validation.rows import check_classes_for_auc

    ctx.store.sweep(place.prefix)  # what a killed run left: temporary files, a partial split
    config = ctx.config
    hp = _hyperparameters(config)
    try:
        method = _method(ctx, place.info, dataset, streaming, size)
        with method.prepare(config, hp, ctx.reporter) as prepared:
            searched = config.tuning.objective_metric if config.tuning is not None else None
            check_classes_for_auc(prepared.source.uri, prepared.labels, hp, searched)
            files = write_verified(place.store, place.prefix, prepared.outputs())
    except DatasetError as exc:
        if isinstance(ctx.source, PartsSource):
            raise located(exc, ctx.source) from None
        raise
    except (MemoryError, OSError) as exc:
        failure = environment_failure(exc, f"splitting {place.info.uri}")
        if failure is exc:
            raise
        raise failure from exc
    return commit_record(
        place.store,
        place.record_key,
        place.run_id,
        prepared.source,
        config,
        labels=prepared.labels,
        achieved=prepared.achieved,
        manifest=ctx.manifest,
        files=files,
        inferred=prepared.inferred,
    )


def _method(ctx: RunContext, info: SourceInfo, dataset: Dataset | FirstPass | None, streaming: bool, size: int) -> SplitMethod:
    """In memory or streaming, with the time each needs checked against the budget."""
    from model_training.split.first_pass import FirstPass
    from model_training.split.in_memory import InMemorySplit, parse_in_memory
    from model_training.split.streaming import StreamingSplit

    if isinstance(dataset, FirstPass):  # a local file streamed: pass 1 identified it
        check_time_budget(ctx.time_left, "splitting and writing", 2 * size / WRITE_BYTES_PER_SECOND)
        return StreamingSplit(ctx.source, info, chunk_bytes=ctx.stream.chunk_bytes, tmp_dir=ctx.stream.tmp_dir, first=dataset)

    if dataset is None and not streaming:
        info, data = ctx.source.read()
        dataset = parse_in_memory(info, data, ctx.stream)
        del data
        streaming = dataset is None  # gzip data inflating past the in-memory limit: streamed instead
    if streaming or dataset is None:
        check_time_budget(ctx.time_left, "splitting and writing", 3 * size / WRITE_BYTES_PER_SECOND)
        return StreamingSplit(ctx.source, info, chunk_bytes=ctx.stream.chunk_bytes, tmp_dir=ctx.stream.tmp_dir)
    check_time_budget(ctx.time_left, "splitting and writing", len(dataset.raw) / WRITE_BYTES_PER_SECOND)
    return InMemorySplit(dataset)


__all__ = ["RunContext", "RunResult", "run", "run_pipeline"]
