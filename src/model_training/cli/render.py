"""What the command line prints (rich): the consoles, progress bars, the run summary, the effective
configuration, the demo's outcome and the ``error:``/``hint:`` lines (jobs: :mod:`~model_training.cli.render_jobs`;
searches: :mod:`~model_training.cli.render_tuning`).

Nothing here decides anything: each function is handed what a command got from below and shows it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from model_training.output.layout import DEFAULT_OUTPUT

if TYPE_CHECKING:
    from model_training.config.resolve import Resolution
    from model_training.pipeline import RunResult

# soft_wrap: long paths and messages stay on one line in logs and pipes (tables fold instead)
# markup=False: text from the data (values, column names, paths) is printed as it is, never read as
# rich markup ("[/x]" in a value once crashed the error printer); styles are applied with Text.
out = Console(soft_wrap=True, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text from plain parts and ``(text, style)`` pairs (the text never read as markup)."""
    return Text.assemble(*parts)


class RichReporter:
    """Progress bars on stderr for reading, writing and training rounds (a
    :class:`~model_training.progress.Reporter`)."""

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


def progress_bars(quiet: bool) -> Progress:
    """The progress display on stderr; shown only on a terminal and without ``quiet`` (bars are noise in logs and
    pipes)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
    )


def print_error(message: str, hint: str | None, *, label: str = "error:", problems: Sequence[str] = ()) -> None:
    """The ``error:`` line (or ``label``), one indented line per problem of an error that reports several, and,
    when there is one, the ``hint:`` line, on stderr."""
    err.print(styled((label, "bold red"), " ", message))
    for problem in problems:
        err.print(f"  {problem}")
    if hint:
        err.print(styled(("hint:", "bold"), " ", hint))


def shown(uri: str) -> str:
    """A local path for file:// URIs (what a user can open), the URI itself otherwise."""
    from model_training.uris import path_from_uri

    return str(path_from_uri(uri)) if uri.startswith("file://") else uri


def program_name() -> str:
    """How the user invoked us (``.venv/bin/model-training`` when it is not on PATH), for commands we print."""
    import shutil

    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "model-training" and os.sep in argv0:
        on_path = shutil.which("model-training")
        if not on_path or os.path.realpath(on_path) != os.path.realpath(argv0):
            return argv0
    return "model-training"


def describe_command(job_name: str, output: str, *, sagemaker: bool = False) -> str:
    """The ``jobs describe`` command line that shows ``job_name``, each word quoted for a POSIX shell
    (``shlex.quote``: a URI stays as it is): ``--backend sagemaker`` for a SageMaker job; for a local job ``-o
    output`` when the run's output is a folder other than the default (a run whose output is ``s3://...`` keeps its
    local job records in the default folder: :func:`~model_training.wiring.jobs_folder`)."""
    return jobs_command(["describe", job_name], output, sagemaker=sagemaker)


def jobs_command(words: list[str], output: str, *, sagemaker: bool = False) -> str:
    """A ``jobs`` command line (``words`` after ``jobs``: ``["list"]``, ``["describe", NAME]``) that reads the jobs
    of ``output`` (or SageMaker's), quoted as :func:`describe_command` quotes it."""
    import shlex

    words = [program_name(), "jobs", *words]
    if sagemaker:
        words += ["--backend", "sagemaker"]
    elif not output.startswith("s3://") and Path(output) != DEFAULT_OUTPUT:
        words += ["-o", output]
    return shlex.join(words)


def print_summary(result: RunResult, output: str) -> None:
    """A run's summary: its splits (rows, the label column of :func:`label_column`, files), run folder and record,
    and the training job's outcome."""
    from model_training.uris import path_from_uri

    record = result.record
    if result.duplicate:
        what = "already split (--no-train)" if record.status == "committed" else "already done"
        out.print(styled((f"run {record.run_id} was {what} for the same input and configuration: showing its record", "yellow")))
    table = Table(title=f"run {record.run_id}")
    table.add_column("split")
    table.add_column("rows", justify="right")
    objective = str(record.config.get("training", {}).get("hyperparameters", {}).get("objective", ""))
    heading, labels = label_column(record.splits, objective)
    table.add_column(heading, justify="right")
    table.add_column("file (in the run folder)", overflow="fold")
    for split, info in record.splits.items():
        file = record.files.get(split)
        parts = [k for k in record.files if k.startswith(f"{split}/part-")]
        if file:
            where = file.uri[len(result.run_uri) :].lstrip("/")
        elif parts:
            where = f"{split}/ ({len(parts)} part files)"
        else:
            where = "(none: fraction 0)"
        table.add_row(split, str(info.rows), labels[split], where)
    out.print(table)
    strategy = record.config.get("split", {}).get("strategy", "random")
    if record.achieved_fractions and strategy != "random":
        achieved = ", ".join(f"{k} {v:.4f}" for k, v in record.achieved_fractions.items())
        out.print(f"split: {strategy}; achieved fractions {achieved}")
    out.print(f"run folder: {shown(result.run_uri)}")
    out.print(f"run record: {shown(result.run_uri + '/run.json')}")
    training = record.training
    if training is None:
        if record.tuning is None:  # a search is shown by render_tuning.print_search
            out.print("training: not requested (--no-train)")
        return
    out.print(f"training job: {training.job_name} ({training.status}, {training.backend})")
    for name, value in sorted(training.final_metrics.items()):
        if name.startswith("validation:"):
            out.print(f"  {name} = {value:.4f}")
    validation = record.splits.get("validation")
    if validation is None or validation.rows == 0:
        fractions = ",".join(str(f) for f in record.config.get("split", {}).get("fractions", ()))
        out.print(f"  no validation split (fractions {fractions}): no validation metric")
    if training.model_artifact:
        out.print(f"model: {shown(training.model_artifact)}")
        if training.model_artifact.startswith("file://"):
            model = path_from_uri(training.model_artifact)
            others = sorted(p.name for p in model.parent.iterdir() if p.is_file() and p != model) if model.parent.is_dir() else []
            if others:
                out.print(f"  beside it: {', '.join(others)}")
    out.print(f"job record: {describe_command(training.job_name, output, sagemaker=training.backend == 'sagemaker')}")
    if training.failure_reason:
        out.print(styled(("failure: ", "red"), training.failure_reason))


def label_column(splits: Mapping[str, Any], objective: str) -> tuple[str, dict[str, str]]:
    """The summary's label column: its heading and each split's cell, from ``run.json``'s ``splits`` (``rows``;
    ``label_counts`` and, for 0/1 labels, ``positives``; or, in records that have it, ``label_summary``: a
    quantity's ``min``, ``max`` and ``mean``) and the run's ``objective``.

    ``classes`` under a ``multi:`` objective (how many label values a split holds); ``positives`` when every
    split that has rows counts them (the rows labelled 1; ``0`` for an empty split); ``label mean (min to
    max)`` when a split summarises its label as a quantity; else ``positives`` with ``-`` in every cell (not
    applicable).  An empty split shows ``0`` where a count applies and ``-`` where a value would."""
    filled = [info for info in splits.values() if getattr(info, "rows", 0)]
    if objective.startswith("multi:"):
        return "classes", {split: str(len(getattr(info, "label_counts", None) or {})) for split, info in splits.items()}
    if filled and all(getattr(info, "positives", None) is not None for info in filled):
        return "positives", {split: str(getattr(info, "positives", None) or 0) for split, info in splits.items()}
    if any(getattr(info, "label_summary", None) is not None for info in filled):
        cells = {}
        for split, info in splits.items():
            summary = getattr(info, "label_summary", None)
            cells[split] = f"{summary.mean:.4g} ({summary.min:g} to {summary.max:g})" if summary is not None else "-"
        return "label mean (min to max)", cells
    return "positives", dict.fromkeys(splits, "-")


def print_config(
    resolution: Resolution,
    *,
    columns: list[str],
    as_json: bool,
    inferred: Mapping[str, Any] | None = None,
    no_manifest: bool = False,
) -> None:
    """The effective configuration and where each value came from: as JSON (``config``, ``origins``,
    ``manifest``, ``columns``, ``inferred``), or the manifest's location, the source's columns as a hint lists them
    (the first 100, then how many more: :func:`~model_training.data.checks.columns_text`), then one line per setting
    (name, value, origin).

    Args:
        inferred: what the run will take from the data instead of a setting, shaped as ``run.json``'s ``inferred``
            (:func:`~model_training.wiring.inferred_from_header`): ``drop`` is shown in place of the configured one,
            its origin naming the default columns the file does not have; ``hyperparameters.num_class`` (``None``:
            not known before the labels are read) after the configured hyperparameters.
        no_manifest: ``--no-manifest`` was given (the manifest line says so, not ``(none found)``).
    """
    from model_training.config.resolve import flatten
    from model_training.data.checks import columns_text

    inferred = inferred or {}
    flat = flatten(resolution.config.model_dump(mode="json"))
    if as_json:
        document = {
            "config": resolution.config.model_dump(mode="json"),
            "origins": resolution.origins,
            "manifest": resolution.manifest.record() if resolution.manifest else None,
            "columns": columns,
            "inferred": dict(inferred),
        }
        out.print_json(json.dumps(document))
        return
    none = "(none: --no-manifest)" if no_manifest else "(none found)"
    out.print(f"manifest: {shown(resolution.manifest.uri) if resolution.manifest else none}")
    out.print(f"columns ({len(columns)}): {columns_text(columns)}")
    rows = [(name, value, resolution.origins.get(name, "default")) for name, value in flat.items()]
    if "drop" in inferred:  # the default drop columns the file does not have are not dropped
        missing = ", ".join(c for c in resolution.config.drop if c not in inferred["drop"])
        rows[list(flat).index("drop")] = ("drop", inferred["drop"], f"default {missing}, not in the file")
    for name, value in inferred.get("hyperparameters", {}).items():  # after the configured hyperparameters
        last = max(i for i, (n, _, _) in enumerate(rows) if n.startswith("training.hyperparameters."))
        shown_value = "largest label + 1" if name == "num_class" and value is None else value
        rows.insert(last + 1, (f"training.hyperparameters.{name}", shown_value, "inferred from the labels"))
    width = max(len(name) for name, _, _ in rows)
    for name, value, origin in rows:
        text = json.dumps(value) if not isinstance(value, str) else value
        out.print(f"{name:<{width}}  {text:<24}  ({origin})")


def print_demo(outcome: dict[str, Any], output: Path) -> None:
    """Where the demo's files are (local copies of both buckets under ``outcome["mirror"]``), the model, the job's
    ``jobs describe`` command and its validation AUC; ``outcome`` as
    :func:`~model_training.demo.run_offline_demo` returns it."""
    job = outcome["job"]
    metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
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
    out.print(f"job record: {describe_command(job['TrainingJobName'], str(output))}")
    if "validation:auc" in metrics:
        out.print(styled((f"validation AUC {metrics['validation:auc']:.4f}", "bold green")))
