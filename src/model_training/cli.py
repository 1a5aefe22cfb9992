"""The ``model-training`` command line (typer + rich).

Exit codes: 0 success; 1 bad input or configuration (one ``error:`` line and a ``hint:`` line, no
traceback); 2 a usage error (unknown option, missing argument); 3 the training job failed; 70 an
unexpected internal error (set ``MODEL_TRAINING_DEBUG=1`` for the traceback); 75 a temporary failure
(another process holds the run, or the machine failed it: disk full, out of memory): run again; 143
terminated by SIGTERM (temporary and partial files removed first).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from model_training.errors import ModelTrainingError
from model_training.output.layout import DEFAULT_OUTPUT

app = typer.Typer(
    name="model-training",
    help="Split a CSV into SageMaker XGBoost train/validation channels and a test file, then train.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
jobs_app = typer.Typer(
    help="Training jobs: the local backend's records, or SageMaker's (--backend sagemaker).", no_args_is_help=True
)
app.add_typer(jobs_app, name="jobs")
manifest_app = typer.Typer(help="The per-dataset manifest.json: its schema, and checking one.", no_args_is_help=True)
app.add_typer(manifest_app, name="manifest")
config_app = typer.Typer(help="The effective configuration of a run, and where each value comes from.", no_args_is_help=True)
app.add_typer(config_app, name="config")

# soft_wrap: long paths and messages stay on one line in logs and pipes (tables fold instead)
# markup=False: text from the data (values, column names, paths) is printed as it is, never read as
# rich markup ("[/x]" in a value once crashed the error printer); styles are applied with Text.
out = Console(soft_wrap=True, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)


def _styled(*parts: str | tuple[str, str]) -> Text:
    return Text.assemble(*parts)


class RichReporter:
    """Progress bars on stderr for reading, writing and training rounds."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None, unit: str = "") -> Iterator[Callable[[float], None]]:
        task_id = self.progress.add_task(description, total=total)
        try:
            yield lambda amount: self.progress.advance(task_id, amount)
        finally:
            if total is not None:
                self.progress.update(task_id, completed=total)

    def info(self, message: str) -> None:
        self.progress.console.print(message)


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,  # bars are noise in logs and pipes
    )


OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Output folder.", show_default=True)]


class Backend(StrEnum):
    """Where training jobs run."""

    local = "local"
    sagemaker = "sagemaker"


BackendOpt = Annotated[
    Backend,
    typer.Option("--backend", "-b", help="Where training jobs run: local (XGBoost here) or sagemaker.", show_default=True),
]


@app.command()
def run(
    source: Annotated[
        str,
        typer.Argument(
            help="The CSV to split: a file, s3://bucket/key, or a folder of part files (a directory, s3://bucket/prefix/).",
            show_default=False,
        ),
    ],
    label: Annotated[str | None, typer.Option(help="Label column (default y_yes).")] = None,
    drop: Annotated[
        list[str] | None, typer.Option(help="Column to leave out of train/validation; repeat or comma-separate (default y_no).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Shuffle seed (default 1729).")] = None,
    fractions: Annotated[str | None, typer.Option(help="train,validation,test fractions (default 0.7,0.2,0.1).")] = None,
    strategy: Annotated[str | None, typer.Option(help="random | stratified | group | ordered | hash (default random).")] = None,
    key: Annotated[str | None, typer.Option(help="group/hash: the key column.")] = None,
    order_by: Annotated[str | None, typer.Option(help="ordered: the time or number column.")] = None,
    manifest_file: Annotated[
        Path | None, typer.Option("--manifest", help="The dataset's manifest.json (default: found beside the data).")
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="Output folder, or s3://bucket/prefix.")] = str(DEFAULT_OUTPUT),
    backend: BackendOpt = Backend.local,
    model_output: Annotated[
        str | None, typer.Option(help="Model output root (s3://bucket); default: the SSM parameter, or the output folder.")
    ] = None,
    role_arn: Annotated[str | None, typer.Option(help="SageMaker execution role (default: the SSM parameter).")] = None,
    no_train: Annotated[bool, typer.Option("--no-train", help="Split and write only; do not train.")] = False,
    date: Annotated[
        str | None, typer.Option(help="Run date YYYY-MM-DD for the output prefix and model path (default today).")
    ] = None,
    hyperparameter: Annotated[
        list[str] | None, typer.Option("--hyperparameter", "-H", help="KEY=VALUE over the defaults; repeatable.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--in-memory",
            help="Split in bounded memory (three passes: the source read twice, the rows put in order through "
            "temporary files) or in memory; default: stream sources above MODEL_TRAINING_STREAM_ABOVE_MB (2048). "
            "Both write the same bytes.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Split SOURCE, write the channels and the test file, train, and print a summary.

    Settings come from, lowest first: defaults, MODEL_TRAINING_* environment variables, SSM (against AWS),
    the dataset's manifest.json, these flags. With a local SOURCE and output folder and the local backend,
    everything happens on this machine. With s3:// URIs and --backend sagemaker it does from a laptop what the
    Lambda function does (endpoints from boto3's configuration).
    """
    split_options = {"strategy": strategy, "key": key, "order_by": order_by}
    _guarded(
        lambda: _run(
            source, split_options, label, drop, seed, fractions, manifest_file, output, backend.value, model_output, role_arn,
            no_train, date, hyperparameter, quiet, stream,
        )
    )  # fmt: skip


def _run(
    source: str,
    split_options: dict[str, Any],
    label: str | None,
    drop: list[str] | None,
    seed: int | None,
    fractions: str | None,
    manifest_file: Path | None,
    output: str,
    backend: str,
    model_output: str | None,
    role_arn: str | None,
    no_train: bool,
    date: str | None,
    hyperparameter: list[str] | None,
    quiet: bool,
    stream: bool | None = None,
) -> None:
    from model_training.config.run import StreamOptions
    from model_training.config.settings import settings_from_env
    from model_training.output.layout import OutputLayout
    from model_training.wiring import run_local

    options = settings_from_env().stream_options()
    if stream is not None:
        options = StreamOptions(above_bytes=0 if stream else None, tmp_dir=options.tmp_dir)

    local = not source.startswith("s3://") and not output.startswith("s3://") and backend == "local" and not model_output
    if backend == "sagemaker" and not output.startswith("s3://"):
        raise ModelTrainingError(
            "SageMaker reads its channels from S3", "give --output s3://bucket/prefix with --backend sagemaker"
        )
    resolution = _resolve(source, split_options, label, drop, seed, fractions, date, hyperparameter, manifest_file, aws=not local)
    config = resolution.config
    manifest = resolution.manifest.record() if resolution.manifest else None
    with _progress(quiet) as progress:
        if local:
            result = run_local(
                Path(source),
                config,
                OutputLayout(Path(output)),
                train=not no_train,
                reporter=RichReporter(progress),
                manifest=manifest,
                stream=options,
            )
        else:
            result = _run_anywhere(
                source, config, output, backend, model_output, role_arn, no_train, RichReporter(progress), manifest, options
            )
    if resolution.manifest:
        out.print(f"manifest: {_shown(resolution.manifest.uri)}")
    _print_summary(result, Path(output))


def _resolve(
    source: str,
    split_options: dict[str, Any],
    label: str | None,
    drop: list[str] | None,
    seed: int | None,
    fractions: str | None,
    date: str | None,
    hyperparameter: list[str] | None,
    manifest_file: Path | None,
    *,
    aws: bool,
) -> Any:
    """Every setting, by precedence: defaults < environment < SSM (against AWS) < manifest < these flags."""
    from model_training.config.manifest_files import find_manifest
    from model_training.config.resolve import env_settings, resolve
    from model_training.config.run import parse_fractions
    from model_training.config.settings import settings_from_env, ssm_layer, training_limits

    ssm: dict[str, Any] = {}
    ssm_default = None
    limits = None  # the environment's ceilings; against AWS, the SSM parameter's over them
    if aws:
        ssm, ssm_default = ssm_layer(settings_from_env())
        limits = training_limits(settings_from_env())
    cli = {
        "label": label,
        "drop": tuple(c.strip() for item in drop for c in item.split(",") if c.strip()) if drop is not None else None,
        "seed": seed,
        "fractions": parse_fractions(fractions) if fractions is not None else None,
        "hyperparameters": _parse_hyperparameters(hyperparameter) if hyperparameter else None,
        **split_options,
    }
    manifest = find_manifest(source, explicit=manifest_file, ssm_default=ssm_default)
    return resolve(run_date=_parse_date(date), env=env_settings(), ssm=ssm, manifest=manifest, cli=cli, limits=limits)


def _run_anywhere(
    source: str,
    config: Any,
    output: str,
    backend: str,
    model_output: str | None,
    role_arn: str | None,
    no_train: bool,
    reporter: RichReporter,
    manifest: dict[str, Any] | None,
    stream: Any = None,
) -> Any:
    """A run with an S3 source or output, or on SageMaker: the Lambda's path, driven from the command line."""
    from model_training.pipeline import run
    from model_training.wiring import cli_context

    ctx = cli_context(
        source,
        config,
        output=output,
        backend=backend,
        model_output=model_output,
        role_arn=role_arn,
        train=not no_train,
        reporter=reporter,
        manifest=manifest,
        stream=stream,
    )
    return run(ctx)


@app.command()
def invoke(
    event_file: Annotated[Path, typer.Argument(help="A Lambda event as JSON (S3, SQS, SNS or EventBridge).", readable=False)],
) -> None:
    """Run the Lambda handler on EVENT_FILE against whatever endpoint boto3 is configured for (AWS,
    MinIO, moto: AWS_ENDPOINT_URL), and print its JSON response. Exit 1 if any object failed."""
    _guarded(lambda: _invoke(event_file))


def _invoke_handler(handle: Callable[..., dict[str, Any]], event_file: Path) -> dict[str, Any]:
    try:
        event = json.loads(event_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelTrainingError(f"{event_file}: no such file", "give the path of an event JSON file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelTrainingError(f"{event_file}: not JSON ({exc})", "give a Lambda event as JSON") from None
    try:
        return handle(event, None)
    except RuntimeError as exc:  # RetryableError: Lambda would retry the event
        raise ModelTrainingError(str(exc), "a transient failure: run it again") from None


def _invoke(event_file: Path) -> None:
    from model_training.handler import handle, logger

    handler = logger.registered_handler
    stream = handler.setStream(sys.stderr) if isinstance(handler, logging.StreamHandler) else None  # stdout: the response only
    try:
        response = _invoke_handler(handle, event_file)
    finally:
        if stream is not None and isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    out.print_json(json.dumps(response, default=str))
    if any(r.get("status") == "failed" for r in response.get("results", [])):
        raise typer.Exit(1)


@app.command()
def demo(
    output: OutputOpt = DEFAULT_OUTPUT,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Run the whole job on scikit-learn's bundled breast-cancer data (no network, no AWS)."""
    _guarded(lambda: _demo(output, quiet))


def _demo(output: Path, quiet: bool) -> None:
    from model_training.demo import DEMO_LABEL, run_offline_demo

    out.print(f"demo: scikit-learn's breast-cancer data (label {DEMO_LABEL}) through the whole stage, offline")
    with _progress(quiet) as progress:
        outcome = run_offline_demo(output, say=out.print, reporter=RichReporter(progress))
    job = outcome["job"]
    metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
    if job["TrainingJobStatus"] != "Completed":
        raise ModelTrainingError(f"the demo's training job failed: {job.get('FailureReason')}", "see the job's log")
    mirror = outcome["mirror"].absolute()
    run_dir = mirror / outcome["result"]["run_record"][len("s3://") :].rsplit("/", 1)[0]
    out.print(f"local copies of what the stage wrote (the endpoint has stopped), under {mirror}:")
    out.print(f"run folder: {run_dir}")
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        out.print(f"    {path.relative_to(run_dir).as_posix()}")
    model = outcome["model"]
    out.print(f"model:      {model.absolute() if model else '(none)'}")
    if model:
        for path in sorted(p for p in model.parent.iterdir() if p.is_file() and p != model):
            out.print(f"    beside it: {path.name}")
    where = "" if output == DEFAULT_OUTPUT else f" -o {output}"
    out.print(f"job record: {_prog()} jobs describe {job['TrainingJobName']}{where}")
    if "validation:auc" in metrics:
        out.print(_styled((f"validation AUC {metrics['validation:auc']:.4f}", "bold green")))


@manifest_app.command("schema")
def manifest_schema_command() -> None:
    """Print the manifest's JSON Schema."""
    from model_training.config.manifest import manifest_schema

    out.print_json(json.dumps(manifest_schema()))


@manifest_app.command("check")
def manifest_check(file: Annotated[Path, typer.Argument(help="A manifest.json to validate.", readable=False)]) -> None:
    """Validate FILE (unknown keys are listed with the closest valid name; hyperparameters by the
    container's rules). Exit 1 if it is invalid."""
    _guarded(lambda: _manifest_check(file))


def _manifest_check(file: Path) -> None:
    import datetime as dt

    from model_training.config.manifest_files import load_manifest_file
    from model_training.config.resolve import resolve

    source = load_manifest_file(file)
    resolve(run_date=dt.date.today(), manifest=source)  # the values too, not only the shape
    out.print(f"{file}: valid manifest (sha256 {source.sha256[:16]}...)")


@config_app.command("show")
def config_show(
    source: Annotated[str, typer.Argument(help="The CSV (a file or s3://bucket/key) whose run to describe.")],
    manifest_file: Annotated[Path | None, typer.Option("--manifest", help="A manifest.json instead of the one found.")] = None,
    label: Annotated[str | None, typer.Option()] = None,
    drop: Annotated[list[str] | None, typer.Option()] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    fractions: Annotated[str | None, typer.Option()] = None,
    strategy: Annotated[str | None, typer.Option()] = None,
    key: Annotated[str | None, typer.Option()] = None,
    order_by: Annotated[str | None, typer.Option()] = None,
    date: Annotated[str | None, typer.Option()] = None,
    hyperparameter: Annotated[list[str] | None, typer.Option("--hyperparameter", "-H")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective configuration a run of SOURCE would use, and where each value came from
    (default, environment, ssm, manifest, command line)."""
    options = {"strategy": strategy, "key": key, "order_by": order_by}
    _guarded(lambda: _config_show(source, options, label, drop, seed, fractions, date, hyperparameter, manifest_file, as_json))


def _config_show(
    source: str,
    options: dict[str, Any],
    label: str | None,
    drop: list[str] | None,
    seed: int | None,
    fractions: str | None,
    date: str | None,
    hyperparameter: list[str] | None,
    manifest_file: Path | None,
    as_json: bool,
) -> None:
    resolution = _resolve(
        source, options, label, drop, seed, fractions, date, hyperparameter, manifest_file, aws=source.startswith("s3://")
    )
    from model_training.config.resolve import flatten

    flat = flatten(resolution.config.model_dump(mode="json"))
    if as_json:
        document = {
            "config": resolution.config.model_dump(mode="json"),
            "origins": resolution.origins,
            "manifest": resolution.manifest.record() if resolution.manifest else None,
        }
        out.print_json(json.dumps(document))
        return
    out.print(f"manifest: {_shown(resolution.manifest.uri) if resolution.manifest else '(none found)'}")
    width = max(len(k) for k in flat)
    for name, value in flat.items():
        shown = json.dumps(value) if not isinstance(value, str) else value
        out.print(f"{name:<{width}}  {shown:<24}  ({resolution.origins.get(name, 'default')})")


@jobs_app.command("list")
def jobs_list(output: OutputOpt = DEFAULT_OUTPUT, backend: BackendOpt = Backend.local) -> None:
    """List training jobs, newest first (local records, or SageMaker's)."""
    _guarded(lambda: _jobs_list(output, backend.value))


def _jobs_list(output: Path, backend: str) -> None:
    jobs = _backend(output, backend).list_training_jobs()
    if not jobs:
        out.print(f"no training jobs ({backend})")
        return
    table = Table()
    table.add_column("TrainingJobName", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("created", overflow="fold")
    table.add_column("validation metrics", overflow="fold")
    for job in jobs:
        metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
        shown = " ".join(f"{k.removeprefix('validation:')}={v:.4f}" for k, v in metrics.items() if k.startswith("validation:"))
        created = str(job.get("CreationTime", ""))[:19].replace("T", " ")
        table.add_row(job["TrainingJobName"], job["TrainingJobStatus"], created, shown)
    out.print(table)


@jobs_app.command("describe")
def jobs_describe(
    name: Annotated[str, typer.Argument(help="TrainingJobName")],
    output: OutputOpt = DEFAULT_OUTPUT,
    backend: BackendOpt = Backend.local,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole record as JSON.")] = False,
) -> None:
    """Show one training job: status, failure reason, final metrics, model artifact, timings."""
    _guarded(lambda: _jobs_describe(name, output, backend.value, as_json))


def _backend(output: Path, backend: str) -> Any:
    from model_training.output.layout import OutputLayout
    from model_training.training.local import LocalTrainingBackend
    from model_training.training.sagemaker import SageMakerBackend

    if backend == "local":
        return LocalTrainingBackend(OutputLayout(output).jobs)
    if backend == "sagemaker":
        return SageMakerBackend()
    raise ModelTrainingError(f"--backend {backend!r} is not a backend", "use --backend local or --backend sagemaker")


def _jobs_describe(name: str, output: Path, backend: str, as_json: bool) -> None:
    job = _backend(output, backend).describe_training_job(name)
    if as_json:
        out.print_json(json.dumps(job, default=str))
        return
    rows: list[tuple[str, str]] = [
        ("TrainingJobName", job["TrainingJobName"]),
        ("TrainingJobStatus", f"{job['TrainingJobStatus']} ({job.get('SecondaryStatus', '')})"),
    ]
    if job.get("FailureReason"):
        rows.append(("FailureReason", job["FailureReason"]))
    for key in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "TrainingTimeInSeconds"):
        if key in job:
            rows.append((key, str(job[key])))
    for metric in job.get("FinalMetricDataList", []):
        rows.append((metric["MetricName"], f"{float(metric['Value']):.6f}"))
    if "ModelArtifacts" in job:
        rows.append(("S3ModelArtifacts", job["ModelArtifacts"]["S3ModelArtifacts"]))
    image = job.get("AlgorithmSpecification", {}).get("TrainingImage")
    if image:
        rows.append(("TrainingImage", image))
    for key in ("XGBoostVersion", "ServingImage"):  # the local backend's: which release trained, which image serves
        if job.get(key):
            rows.append((key, str(job[key])))
    rows.append(("HyperParameters", json.dumps(job.get("HyperParameters", {}))))
    if job.get("LogFile"):
        rows.append(("log", job["LogFile"]))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:  # one line each, never wrapped mid-path: made to be copied
        out.print(f"{key:<{width}}  {value}")


def _shown(uri: str) -> str:
    """A local path for file:// URIs (what a user can open), the URI itself otherwise."""
    from model_training.uris import path_from_uri

    return str(path_from_uri(uri)) if uri.startswith("file://") else uri


def _print_summary(result: Any, output: Path) -> None:
    from model_training.uris import path_from_uri

    record = result.record
    if result.duplicate:
        what = "already split (--no-train)" if record.status == "committed" else "already done"
        out.print(_styled((f"run {record.run_id} was {what} for the same input and configuration: showing its record", "yellow")))
    table = Table(title=f"run {record.run_id}")
    table.add_column("split")
    table.add_column("rows", justify="right")
    table.add_column("positives", justify="right")
    table.add_column("file (in the run folder)", overflow="fold")
    for split, info in record.splits.items():
        file = record.files.get(split)
        parts = [k for k in record.files if k.startswith(f"{split}/part-")]
        if file:
            shown = file.uri[len(result.run_uri) :].lstrip("/")
        elif parts:
            shown = f"{split}/ ({len(parts)} part files)"
        else:
            shown = "(none: fraction 0)"
        table.add_row(split, str(info.rows), "" if info.positives is None else str(info.positives), shown)
    out.print(table)
    strategy = record.config.get("split", {}).get("strategy", "random")
    if record.achieved_fractions and strategy != "random":
        achieved = ", ".join(f"{k} {v:.4f}" for k, v in record.achieved_fractions.items())
        out.print(f"split: {strategy}; achieved fractions {achieved}")
    out.print(f"run folder: {_shown(result.run_uri)}")
    out.print(f"run record: {_shown(result.run_uri + '/run.json')}")
    training = record.training
    if training is None:
        out.print("training: not requested (--no-train)")
        return
    out.print(f"training job: {training.job_name} ({training.status}, {training.backend})")
    for name, value in sorted(training.final_metrics.items()):
        if name.startswith("validation:"):
            out.print(f"  {name} = {value:.4f}")
    if training.model_artifact:
        out.print(f"model: {_shown(training.model_artifact)}")
        if training.model_artifact.startswith("file://"):
            model = path_from_uri(training.model_artifact)
            others = sorted(p.name for p in model.parent.iterdir() if p.is_file() and p != model) if model.parent.is_dir() else []
            if others:
                out.print(f"  beside it: {', '.join(others)}")
    where = "" if output == DEFAULT_OUTPUT else f" -o {output}"
    if training.backend == "sagemaker":
        where += " --backend sagemaker"
    out.print(f"job record: {_prog()} jobs describe {training.job_name}{where}")
    if training.failure_reason:
        out.print(_styled(("failure: ", "red"), training.failure_reason))


def _prog() -> str:
    """How the user invoked us (``.venv/bin/model-training`` when it is not on PATH), for commands we print."""
    import shutil

    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "model-training" and os.sep in argv0:
        on_path = shutil.which("model-training")
        if not on_path or os.path.realpath(on_path) != os.path.realpath(argv0):
            return argv0
    return "model-training"


def _parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ModelTrainingError(f"--date {text!r} is not a date", "use YYYY-MM-DD, e.g. 2026-01-31") from None


def _parse_hyperparameters(items: list[str]) -> dict[str, str]:
    parsed = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ModelTrainingError(f"--hyperparameter {item!r} is not KEY=VALUE", "e.g. -H num_round=200 -H max_depth=6")
        parsed[key.strip()] = value.strip()
    return parsed


def _guarded(action: Callable[[], None]) -> None:
    try:
        action()
    except typer.Exit:
        raise
    except ModelTrainingError as exc:
        err.print(_styled(("error:", "bold red"), " ", exc.message))
        if exc.hint:
            err.print(_styled(("hint:", "bold"), " ", exc.hint))
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:  # the output folder: missing, a file, read-only, full
        where = exc.filename or "the output folder"
        err.print(_styled(("error:", "bold red"), f" {where}: {exc.strerror or exc}"))
        err.print(_styled(("hint:", "bold"), " check that the output folder (-o) is a writable directory with free space"))
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:
        if os.environ.get("MODEL_TRAINING_DEBUG"):
            raise
        err.print(_styled(("internal error:", "bold red"), f" {type(exc).__name__}: {exc}"))
        err.print(_styled(("hint:", "bold"), " this is a bug; rerun with MODEL_TRAINING_DEBUG=1 for the traceback and report it"))
        raise typer.Exit(70) from None


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the ``model-training`` console script.  SIGTERM raises ``SystemExit(143)``, so every
    ``finally`` runs before the process ends: temporary folders and partially written files are removed."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    app(prog_name="model-training")


if __name__ == "__main__":  # pragma: no cover
    main()
