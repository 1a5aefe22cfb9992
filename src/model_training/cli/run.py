"""``model-training run``: split a CSV, write the channels and the test file, train, and print a summary.

The command gathers the flags into :class:`~model_training.cli.options.RunOptions`; :func:`run_split` resolves the
settings, hands the run to :mod:`model_training.wiring` (on this machine, or the Lambda's path) and prints the
summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from model_training.cli.guard import guarded
from model_training.cli.options import (
    Backend,
    BackendOpt,
    ConfigFlags,
    DateOpt,
    DropOpt,
    FractionsOpt,
    HyperparameterOpt,
    IndexColumnOpt,
    KeyOpt,
    LabelOpt,
    ManifestOpt,
    MaxTrialsOpt,
    ModelOutputOpt,
    NoManifestOpt,
    NoTrainOpt,
    OrderByOpt,
    QuietOpt,
    RoleArnOpt,
    RunOptions,
    RunOutputOpt,
    SeedOpt,
    SourceArg,
    StrategyOpt,
    StreamOpt,
    TuningOpt,
    VersionIdOpt,
)
from model_training.cli.render import RichReporter, describe_command, out, print_summary, progress_bars, shown
from model_training.cli.resolve import resolve_settings
from model_training.errors import RunFailedError
from model_training.output.layout import DEFAULT_OUTPUT

if TYPE_CHECKING:
    from model_training.config.resolve import Resolution
    from model_training.config.run import StreamOptions
    from model_training.pipeline import RunResult


def run(
    source: SourceArg,
    label: LabelOpt = None,
    drop: DropOpt = None,
    index_column: IndexColumnOpt = None,
    seed: SeedOpt = None,
    fractions: FractionsOpt = None,
    strategy: StrategyOpt = None,
    key: KeyOpt = None,
    order_by: OrderByOpt = None,
    manifest: ManifestOpt = None,
    no_manifest: NoManifestOpt = False,
    output: RunOutputOpt = str(DEFAULT_OUTPUT),
    backend: BackendOpt = Backend.local,
    model_output: ModelOutputOpt = None,
    role_arn: RoleArnOpt = None,
    no_train: NoTrainOpt = False,
    date: DateOpt = None,
    hyperparameter: HyperparameterOpt = None,
    tuning: TuningOpt = None,
    max_trials: MaxTrialsOpt = None,
    quiet: QuietOpt = False,
    stream: StreamOpt = None,
    version_id: VersionIdOpt = None,
) -> None:
    """Split SOURCE, write the channels and the test file, train, and print a summary.

    Settings come from, lowest first: defaults, MODEL_TRAINING_* environment variables, SSM (against AWS), the
    dataset's manifest.json, these flags. With a local SOURCE and output folder and the local backend, everything
    happens on this machine. With s3:// URIs and --backend sagemaker it does from a laptop what the Lambda
    function does (endpoints from boto3's configuration).

    Exit codes: 0 done (or already done), 1 bad input or configuration, 2 a usage error (a flag that does not
    parse), 3 the training job failed, 70 an internal error (MODEL_TRAINING_DEBUG=1 shows it), 75 a temporary
    failure (run again), 141 standard output closed, 143 terminated (SIGTERM).
    """
    flags = ConfigFlags(
        source=source,
        label=label,
        drop=drop,
        seed=seed,
        fractions=fractions,
        strategy=strategy,
        key=key,
        order_by=order_by,
        date=date,
        hyperparameters=hyperparameter,
        manifest=manifest,
        no_manifest=no_manifest,
        tuning=tuning,
        max_trials=max_trials,
        index_column=index_column.value if index_column is not None else None,
    )
    options = RunOptions(
        flags=flags,
        output=output,
        backend=backend.value,
        model_output=model_output,
        role_arn=role_arn,
        train=not no_train,
        quiet=quiet,
        stream=stream,
        version_id=version_id,
    )
    guarded(lambda: run_split(options))


def run_split(options: RunOptions) -> None:
    """Resolve the settings, run (:func:`~model_training.wiring.run_local` when :attr:`RunOptions.local`, else
    :func:`~model_training.wiring.cli_context` and :func:`~model_training.pipeline.run`) and print the summary.

    Raises:
        ModelTrainingError: ``--backend sagemaker`` with a local output folder, or ``--version-id`` with a source that
            is not one S3 object (before any setting is read), or as
            the settings (:func:`~model_training.cli.resolve.resolve_settings`) and the run raise it.
    """
    from model_training.wiring import check_backend_output, check_version_id

    stream = stream_options(options.stream)
    check_backend_output(options.backend, options.output)  # before any setting is read
    check_version_id(options.flags.source, options.version_id)
    resolution = resolve_settings(options.flags, aws=not options.local)
    manifest = resolution.manifest.record() if resolution.manifest else None
    try:
        result = _run(options, resolution, manifest, stream)
    except RunFailedError as exc:  # its hint's command shows the job: with this run's -o, or --backend sagemaker
        command = describe_command(exc.job_name, options.output, sagemaker=options.backend == "sagemaker")
        raise exc.with_command(command) from None
    if resolution.manifest:
        out.print(f"manifest: {shown(resolution.manifest.uri)}")
    print_summary(result, options.output)
    if result.record.tuning is not None:
        from model_training.cli.render_tuning import print_search

        print_search(result.record.tuning, options.output)


def _run(options: RunOptions, resolution: Resolution, manifest: dict[str, Any] | None, stream: StreamOptions) -> RunResult:
    """The run itself, as :func:`run_split` describes it."""
    from model_training.output.layout import OutputLayout
    from model_training.pipeline import run as run_pipeline
    from model_training.wiring import cli_context, run_local

    with progress_bars(options.quiet) as progress:
        reporter = RichReporter(progress)
        if options.local:
            result = run_local(
                Path(options.flags.source),
                resolution.config,
                OutputLayout(Path(options.output)),
                train=options.train,
                reporter=reporter,
                manifest=manifest,
                stream=stream,
            )
        else:  # an S3 source or output, or SageMaker: the Lambda's path, driven from here
            context = cli_context(
                options.flags.source,
                resolution.config,
                output=options.output,
                backend=options.backend,
                model_output=options.model_output,
                role_arn=options.role_arn,
                train=options.train,
                reporter=reporter,
                manifest=manifest,
                stream=stream,
                version_id=options.version_id,
            )
            result = run_pipeline(context)
    return result


def stream_options(stream: bool | None) -> StreamOptions:
    """The environment's stream options (:meth:`~model_training.config.settings.StageSettings.stream_options`),
    ``--stream`` (always stream) or ``--in-memory`` (never) over their threshold.

    Raises:
        ConfigurationError: an environment variable that does not parse.
    """
    from model_training.config.run import StreamOptions
    from model_training.config.settings import settings_from_env

    options: StreamOptions = settings_from_env().stream_options()
    if stream is not None:
        options = StreamOptions(above_bytes=0 if stream else None, tmp_dir=options.tmp_dir)
    return options
