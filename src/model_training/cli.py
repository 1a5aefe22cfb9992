"""The ``model-training`` command line (typer + rich).

Exit codes: 0 success; 1 bad input or configuration (one ``error:`` line and a ``hint:`` line, no
traceback); 2 a usage error (unknown option, missing argument); 3 the training job failed; 70 an
unexpected internal error (set ``MODEL_TRAINING_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from model_training.errors import ModelTrainingError

DEFAULT_OUTPUT = Path("model-training-output")

app = typer.Typer(
    name="model-training",
    help="Split a CSV into SageMaker XGBoost train/validation channels and a test file, then train.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
jobs_app = typer.Typer(help="Training jobs (the local backend's records).", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")

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


@app.command()
def run(
    source: Annotated[Path, typer.Argument(help="The CSV file to split (header row, comma-separated).", readable=False)],
    label: Annotated[str | None, typer.Option(help="Label column (default y_yes).")] = None,
    drop: Annotated[
        list[str] | None, typer.Option(help="Column to leave out of train/validation; repeat or comma-separate (default y_no).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Shuffle seed (default 1729).")] = None,
    fractions: Annotated[str | None, typer.Option(help="train,validation,test fractions (default 0.7,0.2,0.1).")] = None,
    output: OutputOpt = DEFAULT_OUTPUT,
    no_train: Annotated[bool, typer.Option("--no-train", help="Split and write only; do not train.")] = False,
    date: Annotated[
        str | None, typer.Option(help="Run date YYYY-MM-DD for the output prefix and model path (default today).")
    ] = None,
    hyperparameter: Annotated[
        list[str] | None, typer.Option("--hyperparameter", "-H", help="KEY=VALUE over the defaults; repeatable.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Split SOURCE, write the channels and the test file, train locally, and print a summary."""
    _guarded(lambda: _run(source, label, drop, seed, fractions, output, no_train, date, hyperparameter, quiet))


def _run(
    source: Path,
    label: str | None,
    drop: list[str] | None,
    seed: int | None,
    fractions: str | None,
    output: Path,
    no_train: bool,
    date: str | None,
    hyperparameter: list[str] | None,
    quiet: bool,
) -> None:
    from model_training.config import build_config, parse_fractions
    from model_training.pipeline import OutputLayout, run_local

    config = build_config(
        label=label,
        drop=tuple(c.strip() for item in drop for c in item.split(",") if c.strip()) if drop is not None else None,
        seed=seed,
        fractions=parse_fractions(fractions) if fractions is not None else None,
        run_date=_parse_date(date),
        hyperparameters=_parse_hyperparameters(hyperparameter) if hyperparameter else None,
    )
    with _progress(quiet) as progress:
        result = run_local(source, config, OutputLayout(output), train=not no_train, reporter=RichReporter(progress))
    _print_summary(result, output)


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
    out.print(f"run record: {outcome['mirror'].absolute() / outcome['result']['run_record'][len('s3://') :]}")
    out.print(f"model:      {outcome['model'].absolute() if outcome['model'] else '(none)'}")
    out.print(
        f"job record: {_prog()} jobs describe {job['TrainingJobName']}" + ("" if output == DEFAULT_OUTPUT else f" -o {output}")
    )
    if "validation:auc" in metrics:
        out.print(_styled((f"validation AUC {metrics['validation:auc']:.4f}", "bold green")))


@jobs_app.command("list")
def jobs_list(output: OutputOpt = DEFAULT_OUTPUT) -> None:
    """List the local training jobs, newest first."""
    _guarded(lambda: _jobs_list(output))


def _jobs_list(output: Path) -> None:
    from model_training.pipeline import OutputLayout
    from model_training.training.local import LocalTrainingBackend

    jobs = LocalTrainingBackend(OutputLayout(output).jobs).list_training_jobs()
    if not jobs:
        out.print(f"no training jobs in {OutputLayout(output).jobs}")
        return
    table = Table()
    table.add_column("TrainingJobName", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("created", overflow="fold")
    table.add_column("validation metrics", overflow="fold")
    for job in jobs:
        metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
        shown = " ".join(f"{k.removeprefix('validation:')}={v:.4f}" for k, v in metrics.items() if k.startswith("validation:"))
        created = job.get("CreationTime", "")[:19].replace("T", " ")
        table.add_row(job["TrainingJobName"], job["TrainingJobStatus"], created, shown)
    out.print(table)


@jobs_app.command("describe")
def jobs_describe(
    name: Annotated[str, typer.Argument(help="TrainingJobName")],
    output: OutputOpt = DEFAULT_OUTPUT,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole record as JSON.")] = False,
) -> None:
    """Show one training job: status, failure reason, final metrics, model artifact, timings."""
    _guarded(lambda: _jobs_describe(name, output, as_json))


def _jobs_describe(name: str, output: Path, as_json: bool) -> None:
    from model_training.pipeline import OutputLayout
    from model_training.training.local import LocalTrainingBackend

    job = LocalTrainingBackend(OutputLayout(output).jobs).describe_training_job(name)
    if as_json:
        out.print_json(json.dumps(job))
        return
    table = Table(show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("TrainingJobName", job["TrainingJobName"])
    table.add_row("TrainingJobStatus", job["TrainingJobStatus"])
    if job.get("FailureReason"):
        table.add_row("FailureReason", job["FailureReason"])
    for key in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "TrainingTimeInSeconds"):
        if key in job:
            table.add_row(key, str(job[key]))
    for metric in job.get("FinalMetricDataList", []):
        table.add_row(metric["MetricName"], f"{metric['Value']:.6f}")
    if "ModelArtifacts" in job:
        table.add_row("S3ModelArtifacts", job["ModelArtifacts"]["S3ModelArtifacts"])
    table.add_row("HyperParameters", json.dumps(job.get("HyperParameters", {})))
    if job.get("LogFile"):
        table.add_row("log", job["LogFile"])
    out.print(table)


def _print_summary(result: Any, output: Path) -> None:
    from model_training.training.local import path_from_uri

    record = result.record
    if result.duplicate:
        what = "already split (--no-train)" if record.status == "committed" else "already done"
        out.print(_styled((f"run {record.run_id} was {what} for the same input and configuration: showing its record", "yellow")))
    run_dir = path_from_uri(result.run_uri)
    table = Table(title=f"run {record.run_id}")
    table.add_column("split")
    table.add_column("rows", justify="right")
    table.add_column("positives", justify="right")
    table.add_column("file (in the run folder)", overflow="fold")
    for split, info in record.splits.items():
        file = record.files.get(split)
        shown = path_from_uri(file.uri).relative_to(run_dir).as_posix() if file else "(none: fraction 0)"
        table.add_row(split, str(info.rows), "" if info.positives is None else str(info.positives), shown)
    out.print(table)
    out.print(f"run folder: {run_dir}")
    out.print(f"run record: {run_dir / 'run.json'}")
    training = record.training
    if training is None:
        out.print("training: not requested (--no-train)")
        return
    out.print(f"training job: {training.job_name} ({training.status})")
    for name, value in sorted(training.final_metrics.items()):
        if name.startswith("validation:"):
            out.print(f"  {name} = {value:.4f}")
    if training.model_artifact:
        model = path_from_uri(training.model_artifact)
        out.print(f"model: {model}")
        others = sorted(p.name for p in model.parent.iterdir() if p.is_file() and p != model) if model.parent.is_dir() else []
        if others:
            out.print(f"  beside it: {', '.join(others)}")
    where = "" if output == DEFAULT_OUTPUT else f" -o {output}"
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


def main() -> None:
    """Entry point of the ``model-training`` console script."""
    app(prog_name="model-training")


if __name__ == "__main__":  # pragma: no cover
    main()
