"""The one place that turns what a user or an event names (a URI, an output, a backend) and the stage's
settings into the parts a run is made of: a source, a store, a training backend and a training target,
put together as a :class:`~model_training.pipeline.RunContext`.

Used by all three entry points: the command line (:func:`cli_context`, :func:`run_local`, :func:`jobs_backend`,
:func:`source_columns`, :func:`job_run_record`), the Lambda handler (:func:`object_source`, :func:`lambda_context`,
:func:`record_job_event`) and the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model_training.algorithm.images import image_uri
from model_training.config.run import RunConfig, StreamOptions
from model_training.config.settings import AwsTargets, StageSettings, resolve_targets, settings_from_env
from model_training.data.local import LocalSource
from model_training.data.parts import PartsSource, part_source
from model_training.data.s3 import S3Source
from model_training.errors import ConfigurationError, DatasetError, ModelTrainingError, Setting
from model_training.events import ObjectRef, is_dataset_marker
from model_training.job_events import JobRef
from model_training.output.layout import DEFAULT_OUTPUT, OutputLayout
from model_training.output.local_store import LocalStore
from model_training.output.s3_store import S3Store
from model_training.pipeline import RunContext, RunResult, run
from model_training.ports import Source, SourceInfo, Store, TrainingBackend
from model_training.progress import NullReporter, Reporter
from model_training.training.jobs import TrainingTarget
from model_training.training.outcome import Outcome
from model_training.training.request import LOCAL_IMAGE
from model_training.uris import parse_s3_uri

if TYPE_CHECKING:
    from model_training.training.job_record import RecordedRun
    from model_training.training.local import LocalTrainingBackend
    from model_training.training.sagemaker import SageMakerBackend


def open_source(uri: str, *, max_bytes: int | None = None, version_id: str | None = None) -> Source:
    """The source ``uri`` names: a folder of part files (a directory, or ``s3://bucket/prefix/``), an S3 object
    (``s3://bucket/key``, its version ``version_id`` or the latest, refused above ``max_bytes``), or a local file.

    Raises:
        ConfigurationError: ``version_id`` given for a source that is not one S3 object.
    """
    check_version_id(uri, version_id)
    parts = part_source(uri)
    if parts is not None:
        return parts
    if uri.startswith("s3://"):
        bucket, key = parse_s3_uri(uri)
        return S3Source(bucket, key, version_id=version_id, max_bytes=max_bytes)
    return LocalSource(Path(uri))


def check_version_id(uri: str, version_id: str | None) -> None:
    """Refuse a version id for a source that is not one S3 object (a local file, a folder of part files).

    Raises:
        ConfigurationError: ``version_id`` given, and ``uri`` is not ``s3://bucket/key``.
    """
    if version_id is not None and (not uri.startswith("s3://") or uri.endswith("/")):
        raise ConfigurationError(
            f"{uri} is not one S3 object: a version id pins an s3://bucket/key object only",
            ("drop ", Setting("version_id", version_id)),
        )


def source_columns(uri: str) -> list[str]:
    """The column names of the source ``uri`` names (:func:`open_source`), from its header alone: its first bytes
    (:func:`~model_training.data.header.read_header`), never its rows.

    Raises:
        DatasetError: the source does not exist or cannot be read (a ``HeadObject`` on S3), or its first bytes are
            not a CSV header.
    """
    from model_training.data.header import read_header

    source = open_source(uri)
    source.size()  # a missing file or object says so here (a local file's sample would be empty)
    return read_header(source, uri)


def check_columns(uri: str, columns: list[str], config: RunConfig) -> None:
    """Check that the columns ``config`` names (label, drop, features, split key, order_by) are among ``columns``,
    the header of ``uri``, as a run checks them first (:func:`~model_training.validation.columns.output_columns`).

    Raises:
        DatasetError: as :func:`~model_training.validation.columns.output_columns` (the hint lists the columns that exist).
    """
    from model_training.data.dataset import Dataset
    from model_training.data.names import dataset_name
    from model_training.validation.columns import output_columns

    header = Dataset(source=SourceInfo(uri=uri, name=dataset_name(uri), size_bytes=0, sha256=""), columns=tuple(columns))
    output_columns(header, config)


def inferred_from_header(uri: str, columns: list[str], config: RunConfig) -> dict[str, object]:
    """What a run of ``uri`` under ``config`` will take from the data instead of a setting, as far as the header
    ``columns`` tells: ``run.json``'s ``inferred`` without the values the rows give
    (:func:`~model_training.validation.rows.inferred_from_header`: ``{"drop": [], "hyperparameters": {"num_class": None}}``)."""
    from model_training.algorithm.hyperparameters import parse_hyperparameters
    from model_training.data.dataset import Dataset
    from model_training.data.names import dataset_name
    from model_training.validation import rows

    header = Dataset(source=SourceInfo(uri=uri, name=dataset_name(uri), size_bytes=0, sha256=""), columns=tuple(columns))
    training = config.training
    hp = parse_hyperparameters(training.hyperparameters, training.algorithm_version, infer_num_class=True)
    return rows.inferred_from_header(header, config, hp)


def object_source(ref: ObjectRef, max_bytes: int | None) -> S3Source | PartsSource:
    """The source an event's object names: that object pinned to the event's version and ``eTag``, or, for a
    ``_SUCCESS`` marker, the folder of part files it completes.

    Raises:
        DatasetError: the folder's parts hold more than ``max_bytes`` bytes (``MODEL_TRAINING_MAX_OBJECT_BYTES``;
            ``None``: no limit).
    """
    if not is_dataset_marker(ref):
        return S3Source(
            ref.bucket, ref.key, version_id=ref.version_id, etag=ref.etag, size=ref.size, event=True, max_bytes=max_bytes
        )
    source = PartsSource(bucket=ref.bucket, prefix=ref.key.rsplit("/", 1)[0])
    size = source.size()
    if max_bytes is not None and size > max_bytes:
        raise DatasetError(
            f"{size} bytes is more than the configured maximum of {max_bytes} bytes",
            "raise MODEL_TRAINING_MAX_OBJECT_BYTES (the function's ephemeral storage must hold about the dataset's size), "
            "or set MODEL_TRAINING_PROCESSING_IMAGE and MODEL_TRAINING_PROCESSING_ROLE_ARN so that a SageMaker "
            "Processing job splits it",
            uri=source.uri,
        )
    return source


def open_store(output: str, settings: StageSettings) -> Store:
    """The store ``output`` names: ``s3://bucket/prefix`` (encrypted as the settings say) or a local folder.

    Raises:
        ConfigurationError: a local output folder the run would leave (:meth:`OutputLayout.check`).
    """
    if output.startswith("s3://"):
        bucket, prefix = parse_s3_uri(output)
        return S3Store(bucket, root=prefix, sse=settings.sse, kms_key_id=settings.kms_key_id)
    layout = OutputLayout(Path(output))
    layout.check()
    return LocalStore(layout.root)


def local_context(
    source: Path,
    config: RunConfig,
    layout: OutputLayout,
    *,
    train: bool = True,
    reporter: Reporter | None = None,
    manifest: dict[str, Any] | None = None,
    stream: StreamOptions | None = None,
) -> RunContext:
    """A run entirely on this machine: the local file (or folder of part files) ``source``, the output folder
    ``layout.root``, and the local XGBoost backend (``train=False``: split only).

    Raises:
        ConfigurationError: the output folder would send files outside it (:meth:`OutputLayout.check`).
    """
    layout.check()
    rep = reporter or NullReporter()
    from model_training.training.local import LocalTrainingBackend  # XGBoost is imported when a job runs

    return RunContext(
        source=open_source(str(source)),
        config=config,
        store=LocalStore(layout.root),
        backend=LocalTrainingBackend(layout.jobs, reporter=rep) if train else None,
        target=TrainingTarget(
            image=LOCAL_IMAGE.format(version=config.training.algorithm_version),
            model_output_root=layout.model_output.absolute().as_uri(),
        ),
        reporter=rep,
        manifest=manifest,
        stream=stream or StreamOptions(),
    )


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
    """Split ``source`` under ``layout.root`` and train with the local XGBoost backend (:func:`local_context`);
    see :func:`~model_training.pipeline.run` for what it returns and raises."""
    return run(local_context(source, config, layout, train=train, reporter=reporter, manifest=manifest, stream=stream))


def check_backend_output(backend: str, output: str) -> None:
    """Refuse a SageMaker run whose output is not in S3, before anything else is read.

    Raises:
        ModelTrainingError: ``backend`` is ``sagemaker`` and ``output`` is not an ``s3://`` URI.
    """
    if backend == "sagemaker" and not output.startswith("s3://"):
        raise ModelTrainingError(
            "SageMaker reads its channels from S3",
            ("give ", Setting("output", "s3://bucket/prefix"), " with ", Setting("backend", "sagemaker")),
        )


def cli_context(
    source: str,
    config: RunConfig,
    *,
    output: str,
    backend: str,
    model_output: str | None,
    role_arn: str | None,
    train: bool,
    reporter: Reporter,
    manifest: dict[str, Any] | None,
    stream: StreamOptions | None = None,
    version_id: str | None = None,
) -> RunContext:
    """A run with an S3 source or output, or on SageMaker: the Lambda's path, driven from the command line.

    The model output root and the role default to the SSM parameters' (against AWS); a local store's model
    output is its ``model-output`` folder.

    Raises:
        ModelTrainingError: ``backend`` is ``sagemaker`` and the output is not in S3.
        ConfigurationError: a local output folder the run would leave, or an SSM parameter that cannot be read.
    """
    check_backend_output(backend, output)
    settings = settings_from_env()
    s3_output = output.startswith("s3://")
    src = open_source(source, max_bytes=settings.max_object_bytes, version_id=version_id)
    store = open_store(output, settings)
    if backend == "sagemaker" and (model_output is None or role_arn is None):
        targets = resolve_targets(settings)
        model_output = model_output or f"s3://{targets.model_output_bucket}"
        role_arn = role_arn or targets.role_arn
    if model_output is None:
        model_output = OutputLayout(Path(output)).model_output.absolute().as_uri() if not s3_output else None
    if model_output is None:
        model_output = f"s3://{resolve_targets(settings).model_output_bucket}"
    trainer: TrainingBackend
    if backend == "sagemaker":
        from model_training.training.sagemaker import SageMakerBackend

        trainer = SageMakerBackend()
        image = image_uri(settings.region, config.training.algorithm_version)
    else:
        from model_training.training.local import LocalTrainingBackend

        trainer = LocalTrainingBackend(jobs_folder(output), reporter=reporter)
        image = LOCAL_IMAGE.format(version=config.training.algorithm_version)
    return RunContext(
        source=src,
        config=config,
        store=store,
        backend=trainer if train else None,
        target=TrainingTarget(image=image, model_output_root=model_output, role_arn=role_arn, region=settings.region),
        reporter=reporter,
        manifest=manifest,
        stream=stream or StreamOptions(),
    )


def lambda_context(
    source: Source,
    config: RunConfig,
    settings: StageSettings,
    targets: AwsTargets,
    *,
    reporter: Reporter,
    manifest: dict[str, Any] | None,
    time_left: Callable[[], float] | None,
) -> RunContext:
    """The Lambda function's run: splits to the data bucket (encrypted as the settings say), the job on
    SageMaker with the region's algorithm image, the model to the model output bucket."""
    from model_training.training.sagemaker import SageMakerBackend

    return RunContext(
        source=source,
        config=config,
        store=S3Store(targets.data_bucket, sse=settings.sse, kms_key_id=settings.kms_key_id),
        backend=SageMakerBackend(),
        target=TrainingTarget(
            image=image_uri(settings.region, config.training.algorithm_version),
            model_output_root=f"s3://{targets.model_output_bucket}",
            role_arn=targets.role_arn,
            region=settings.region,
        ),
        reporter=reporter,
        manifest=manifest,
        time_left=time_left,
        stream=settings.stream_options(),
    )


def jobs_folder(output: str) -> Path:
    """Where the local backend keeps the job records of runs whose output is ``output``: the folder's
    ``training-jobs/``; for an ``s3://`` output, the default output folder's (a local job's record stays on the
    machine that trained it)."""
    return OutputLayout(DEFAULT_OUTPUT if output.startswith("s3://") else Path(output)).jobs


def jobs_backend(output: str, backend: str) -> LocalTrainingBackend | SageMakerBackend:
    """The backend whose training jobs ``jobs list`` and ``jobs describe`` show: ``local``, the records in
    :func:`jobs_folder` of ``output``; ``sagemaker``, SageMaker's (endpoint and region from boto3's configuration;
    ``output`` is not used).

    Raises:
        ModelTrainingError: ``backend`` is neither; the local records' output folder does not exist.
    """
    from model_training.training.local import LocalTrainingBackend
    from model_training.training.sagemaker import SageMakerBackend

    if backend == "local":
        folder = jobs_folder(output)
        if not folder.parent.is_dir():
            kept = f" (where runs with the output {output} keep their local job records)" if output.startswith("s3://") else ""
            raise ModelTrainingError(
                f"the output folder {folder.parent}{kept} does not exist",
                "give -o the folder a run wrote to (model-training run ... -o DIR), or --backend sagemaker for SageMaker's jobs",
            )
        return LocalTrainingBackend(folder)
    if backend == "sagemaker":
        return SageMakerBackend()
    raise ModelTrainingError(
        f"--backend {backend!r} is not a backend", ("use ", Setting("backend", "local"), " or ", Setting("backend", "sagemaker"))
    )


def record_job_event(ref: JobRef, settings: StageSettings, *, time_left: Callable[[], float] | None) -> Outcome:
    """Record the state of the job a SageMaker event names in its run's ``run.json``: a training job's
    (:func:`~model_training.training.outcome.record_training_outcome`), or a tuning job's, whose best model a
    completed search copies to the model output bucket the SSM parameter names
    (:func:`~model_training.training.tuning_events.record_tuning_event`).  The job as SageMaker (boto3's endpoint)
    describes it, the run in the data bucket the SSM parameter names, under the input prefix.

    Raises:
        ConfigurationError: an SSM parameter cannot be read; S3 refused the best model's copy.
        ValueError: ``ref`` is of a job kind the stage does not record (the events module decodes none such).
        RunBusyError, TransientError, TrainingJobError: see the two functions.
    """
    from model_training.training.outcome import record_training_outcome
    from model_training.training.sagemaker import SageMakerBackend
    from model_training.training.tuning_events import record_tuning_event

    if ref.kind not in ("training", "tuning"):
        raise ValueError(f"{ref.kind} jobs' outcomes are not recorded")
    targets = resolve_targets(settings)
    store = S3Store(targets.data_bucket, sse=settings.sse, kms_key_id=settings.kms_key_id)
    common: dict[str, Any] = {
        "store": store,
        "bucket": targets.data_bucket,
        "input_prefix": settings.prefix,
        "time_left": time_left,
    }
    if ref.kind == "tuning":
        return record_tuning_event(
            ref.name, jobs=SageMakerBackend(), model_output_root=f"s3://{targets.model_output_bucket}", **common
        )
    return record_training_outcome(ref.name, jobs=SageMakerBackend(), **common)


def job_run_record(job: dict[str, Any], output: str = str(DEFAULT_OUTPUT)) -> RecordedRun | None:
    """The run record of a training job this stage started, for ``jobs describe``
    (:func:`~model_training.training.job_record.read_job_run_record`): ``run.json`` beside the job's ``train`` channel,
    in S3 or a local folder, with the reason when it cannot be read; an ``s3://`` record that cannot be read is read
    from the output folder's copy of its bucket (``{output}/s3/{bucket}/{key}``, the demo's), if it is there.
    ``None`` for a job without a ``train`` channel."""
    from model_training.training.job_record import read_job_run_record

    copies = None if output.startswith("s3://") else OutputLayout(Path(output)).s3_copies
    return read_job_run_record(job, copies)
