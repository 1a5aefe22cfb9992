"""What ``jobs list`` and ``jobs describe`` print of training jobs: the listing (training jobs, then tuning jobs,
each tuning job's trials under it with ``--trials``) and one job's description with what its run records of it.

A job name is never broken over two lines: it is made to be copied; nor is a creation time.  Where a table does not
fit the width (80 columns in a pipe), the metrics wrap at spaces, then go to a line of their own under each job, then
the creation time goes there too; a name longer than the width overflows it.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from model_training.cli.render import describe_command, out, shown
from model_training.output.layout import DEFAULT_OUTPUT

if TYPE_CHECKING:
    from model_training.output.runrecord import RunRecord
    from model_training.training.job_record import RecordedRun

#: A table's width besides its cells' text: 1 space each side of a cell, and a border before every column and after
#: the last.
_PADDING, _BORDER = 2, 1

#: How ``jobs list`` counts a tuning job's training jobs, under its table.
COUNTED = "jobs: its training jobs, completed/all (a local search's untuned trial 000 included)"


def trials_of(tuning_jobs: Sequence[dict[str, Any]], jobs: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each tuning job's training jobs among ``jobs``, in trial order: those named as its trials
    (``{tuning job}-{NNN}-{8 hex}``, SageMaker's naming and the local backend's)."""
    from model_training.training.local_tuning_records import trial_number

    found: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for job in jobs:
        for tuning in tuning_jobs:
            number = trial_number(tuning["HyperParameterTuningJobName"], job["TrainingJobName"])
            if number is not None:
                found.setdefault(tuning["HyperParameterTuningJobName"], []).append((number, job))
                break
    return {name: [job for _, job in sorted(trials, key=lambda t: t[0])] for name, trials in found.items()}


def print_job_listing(jobs: list[dict[str, Any]], tuning_jobs: list[dict[str, Any]], where: str, *, trials: bool) -> None:
    """``jobs list``: the training jobs that are not a search's trials (``ListTrainingJobs`` summaries, newest
    first), then the tuning jobs (``HyperParameterTuningJobSummary``); with ``trials``, each tuning job's trials in a
    table of their own under it, else how many are not listed.  ``where`` the jobs were looked for (a folder, or
    SageMaker) when there are none."""
    searches = trials_of(tuning_jobs, jobs)
    in_searches = {job["TrainingJobName"] for found in searches.values() for job in found}
    own = [job for job in jobs if job["TrainingJobName"] not in in_searches]
    if own or not tuning_jobs:
        print_jobs(own, where)
    if not tuning_jobs:
        return
    print_tuning_jobs(tuning_jobs)
    if trials:
        for tuning in tuning_jobs:
            name = tuning["HyperParameterTuningJobName"]
            if searches.get(name):
                print_jobs(searches[name], where, title=f"trials of tuning job {name}")
    elif in_searches:
        count = len(in_searches)
        out.print(f"their {count} training jobs are not listed: --trials lists them; jobs describe TUNING-JOB shows a search")


def print_jobs(jobs: list[dict[str, Any]], where: str, *, title: str | None = None) -> None:
    """Training jobs (``ListTrainingJobs`` summaries) as a table: name, status, creation time, validation metrics;
    ``where`` they were looked for (a folder, or SageMaker) when there are none.  Names are never broken (see the
    module's documentation)."""
    if not jobs:
        out.print(f"no training jobs in {where}")
        return
    heads = ("TrainingJobName", "status", "created", "validation metrics")
    rows = []
    for job in jobs:
        metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
        values = " ".join(f"{k.removeprefix('validation:')}={v:.4f}" for k, v in metrics.items() if k.startswith("validation:"))
        created = str(job.get("CreationTime", ""))[:19].replace("T", " ")
        rows.append((job["TrainingJobName"], job["TrainingJobStatus"], created, values))
    widths = [max(len(row[i]) for row in (heads, *rows)) for i in range(3)]
    longest_word = max(len(word) for text in (heads[3], *(row[3] for row in rows)) for word in text.split())
    if _width([*widths, longest_word]) <= out.width:  # the metrics in a column of their own, wrapped at spaces
        table = _table(heads, title)
        for row in rows:
            table.add_row(*row)
        out.print(table)
        return
    # the metrics on a second line under each job, wrapped to the name's width; the creation time too where the
    # three columns do not fit
    times = _width(widths) <= out.width
    table = _table(heads[:3] if times else heads[:2], title)
    for name, status, created, values in rows:
        table.add_row(name, status, *([created] if times else []))
        lines = [] if times else [f"created {created}"]
        lines += textwrap.wrap(values, max(widths[0] - 2, 1), break_long_words=False, break_on_hyphens=False)
        if lines:
            table.add_row("\n".join(f"  {line}" for line in lines), *[""] * (len(table.columns) - 1))
    narrowest = _width(widths[:2])  # a name is never broken: wider than the width if it must
    out.print(table, width=max(out.width, narrowest))


def _width(cells: Sequence[int]) -> int:
    """A table's width for columns of these widths."""
    return sum(cells) + len(cells) * (_PADDING + _BORDER) + _BORDER


def _table(heads: Sequence[str], title: str | None) -> Table:
    """A jobs table of these columns: the name, the status and the time never wrapped, the metrics wrapped at
    spaces."""
    table = Table(title=title)
    table.add_column(heads[0], no_wrap=True, overflow="ignore")
    for head in heads[1:3]:
        table.add_column(head, no_wrap=True)
    if len(heads) > 3:
        table.add_column(heads[3], overflow="fold")
    return table


def print_tuning_jobs(jobs: list[dict[str, Any]]) -> None:
    """``HyperParameterTuningJobSummary`` rows (name, status, strategy, created, training jobs completed / in all,
    counted as :data:`COUNTED` says)."""
    table = Table(title="tuning jobs")
    table.add_column("HyperParameterTuningJobName", no_wrap=True, overflow="ignore")  # never broken: see the module
    for head in ("status", "strategy", "created"):
        table.add_column(head, overflow="fold")
    table.add_column("jobs", justify="right", overflow="fold")
    for job in jobs:
        counters = job.get("TrainingJobStatusCounters") or {}
        total = sum(int(v) for v in counters.values())
        created = str(job.get("CreationTime", ""))[:19].replace("T", " ")
        table.add_row(
            job["HyperParameterTuningJobName"],
            job["HyperParameterTuningJobStatus"],
            str(job.get("Strategy", "")),
            created,
            f"{counters.get('Completed', 0)}/{total}",
        )
    out.print(table)
    out.print(COUNTED)


def print_job(
    job: dict[str, Any], *, as_json: bool, recorded: RecordedRun | None = None, output: str = str(DEFAULT_OUTPUT)
) -> None:
    """One training job (a ``DescribeTrainingJob`` response): the whole record as JSON, or its status, failure
    reason, timings, final metrics, model artifact, image and hyperparameters one per line; then what its run's
    ``run.json`` records of it (``recorded``), as ``RecordedOutcome`` in the JSON.  ``output``: the folder the job
    records were read from, for the ``jobs describe`` command of a trial's tuning job."""
    if as_json:
        document = dict(job)
        if recorded is not None:
            record = recorded.record
            training = record.training.model_dump(mode="json") if record and record.training else None
            document["RecordedOutcome"] = recorded_outcome(recorded, "training", training)
        out.print_json(json.dumps(document, default=str))
        return
    rows: list[tuple[str, str]] = [("TrainingJobName", job["TrainingJobName"]), ("TrainingJobStatus", job_status(job))]
    if job.get("FailureReason"):
        rows.append(("FailureReason", job["FailureReason"]))
    for key in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "TrainingTimeInSeconds", "BillableTimeInSeconds"):
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
    if job.get("TuningJobArn"):
        rows.append(("TuningJobArn", str(job["TuningJobArn"])))
    rows.append(("HyperParameters", json.dumps(job.get("HyperParameters", {}))))
    if job.get("LogFile"):
        rows.append(("log", job["LogFile"]))
    if recorded is not None:
        rows += record_rows(recorded)
        if recorded.record is not None:
            rows += _recorded_rows(job, recorded.record, output)
    width = max(len(k) for k, _ in rows)
    for key, value in rows:  # one line each, never wrapped mid-path: made to be copied
        out.print(f"{key:<{width}}  {value}")


def job_status(job: dict[str, Any]) -> str:
    """A ``DescribeTrainingJob``'s status, with its ``SecondaryStatus`` in parentheses when it says more
    (``InProgress (Training)``; ``Completed`` once, not ``Completed (Completed)``)."""
    status, secondary = str(job["TrainingJobStatus"]), str(job.get("SecondaryStatus") or "")
    return f"{status} ({secondary})" if secondary and secondary != status else status


def recorded_outcome(recorded: RecordedRun, part: str, value: object) -> dict[str, object]:
    """``jobs describe --json``'s ``RecordedOutcome``: the run record's URI and status, and its ``part`` (``training``,
    ``tuning``); ``unread``, why the URI could not be read, and ``local_copy``, the copy read instead."""
    return {
        "run_record": recorded.uri,
        "status": recorded.record.status if recorded.record else None,
        part: value,
        **({"unread": recorded.reason} if recorded.reason else {}),
        **({"local_copy": str(recorded.copy)} if recorded.copy else {}),
    }


def record_rows(recorded: RecordedRun) -> list[tuple[str, str]]:
    """Where the run record is and its status, or why it cannot be read; a local copy read instead."""
    if recorded.record is None:
        return [("run record", f"{shown(recorded.uri)} (cannot be read: {recorded.reason})")]
    if recorded.copy is not None:
        return [
            ("run record", f"{shown(recorded.uri)} (cannot be read: {recorded.reason})"),
            ("local copy", f"{recorded.copy} ({recorded.record.status})"),
        ]
    return [("run record", f"{shown(recorded.uri)} ({recorded.record.status})")]


def _recorded_rows(job: dict[str, Any], record: RunRecord, output: str) -> list[tuple[str, str]]:
    """What a run record holds of its training job's outcome: status, final metrics, billable seconds, model; for a
    trial of the run's search, which search and whether it is the best."""
    training = record.training
    name = str(job["TrainingJobName"])
    if (training is None or training.job_name != name) and record.tuning is not None:
        tuning = record.tuning
        if name in {trial.job_name for trial in tuning.trials} or job.get("TuningJobArn"):
            if tuning.best_training_job is not None:
                best = "the best" if tuning.best_training_job == name else f"not the best: {tuning.best_training_job} is"
            else:
                best = f"the search is {tuning.status}: no best"
            command = describe_command(tuning.job_name, output, sagemaker=tuning.backend == "sagemaker")
            return [("recorded", f"a trial of tuning job {tuning.job_name} ({best}); see: {command}")]
    if training is None:
        return [("recorded", "no training job recorded yet")]
    status = job_status({"TrainingJobStatus": training.status, "SecondaryStatus": training.secondary_status})
    metrics = ", ".join(f"{k}={v:.6f}" for k, v in sorted(training.final_metrics.items()))
    if training.billable_seconds is not None:
        billable = f"{training.billable_seconds:g}"
    else:
        billable = "(none: a local job is not billed)" if training.backend == "local" else "(none)"
    rows = [("recorded status", status), ("recorded metrics", metrics or "(none)"), ("recorded billable s", billable)]
    rows.append(("recorded model", shown(training.model_artifact) if training.model_artifact else "(none)"))
    if training.failure_reason:
        rows.append(("recorded failure", training.failure_reason))
    return rows
