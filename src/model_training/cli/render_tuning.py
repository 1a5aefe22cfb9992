"""What the command line prints of hyperparameter searches: a run's search after ``run`` and a tuning job for
``jobs describe`` (the tuning jobs for ``jobs list``: :mod:`~model_training.cli.render_jobs`).

A search is shown from the run record's ``tuning`` section (:class:`~model_training.output.runrecord.TuningRecord`):
one row per trial (its number, status, objective, tuned values and seconds; the best and the untuned trial
marked), then the best trial's objective against the untuned configuration's, its hyperparameters, where its
model was copied and the plot of the objective against the trial.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from rich.table import Table

from model_training.cli.render import describe_command, out, shown, styled
from model_training.cli.render_jobs import record_rows, recorded_outcome

if TYPE_CHECKING:
    from model_training.output.runrecord import TuningRecord
    from model_training.training.job_record import RecordedRun


def trial_label(tuning_job: str, trial_job: str, position: int) -> str:
    """A trial's number as its name gives it (``{tuning job}-{NNN}-{8 hex}``, SageMaker's naming and the local
    backend's: ``003``), else its position in the list (from 1)."""
    from model_training.training.local_tuning_records import trial_number

    number = trial_number(tuning_job, trial_job)
    return f"{number:03d}" if number is not None else f"#{position}"


def value_text(value: str) -> str:
    """A tuned value as the table shows it: a number to 4 significant digits (``0.2321``), text as it is."""
    try:
        number = float(value)
    except ValueError:
        return value
    if not math.isfinite(number) or number == int(number):
        return value
    return f"{number:.4g}"


def trials_table(tuning: TuningRecord) -> Table:
    """One row per trial: number, status, objective, tuned values, seconds; ``best`` and ``untuned`` marked."""
    table = Table(title=f"tuning job {tuning.job_name}: {tuning.objective_metric} ({tuning.objective_type.lower()})")
    table.add_column("trial", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column(tuning.objective_metric, justify="right")
    table.add_column("tuned values", overflow="fold")
    table.add_column("seconds", justify="right")
    for position, trial in enumerate(tuning.trials, start=1):
        label = trial_label(tuning.job_name, trial.job_name, position)
        marks = []
        if trial.job_name == tuning.best_training_job:
            marks.append("best")
        if tuning.backend == "local" and label == "000":
            marks.append("untuned")
        objective = f"{trial.objective:.5f}" if trial.objective is not None else "-"
        values = ", ".join(f"{k}={value_text(v)}" for k, v in sorted(trial.hyperparameters.items()))
        seconds = f"{trial.seconds:g}" if trial.seconds is not None else "-"
        status = trial.status if not trial.failure_reason else f"{trial.status}: {trial.failure_reason}"
        cell = (
            styled((f"{label} ({', '.join(marks)})", "bold green"))
            if "best" in marks
            else styled(f"{label} ({', '.join(marks)})" if marks else label)
        )
        table.add_row(cell, status, objective, values or "-", seconds)
    return table


def trials_text(tuning: TuningRecord) -> str:
    """The search's training jobs counted as ``jobs list`` counts them (completed / all, a local search's untuned trial
    000 included), and what they are: ``13 training jobs, 13 completed: the untuned trial 000 and 12 searched``."""
    labels = [trial_label(tuning.job_name, t.job_name, i) for i, t in enumerate(tuning.trials, start=1)]
    untuned = tuning.backend == "local" and "000" in labels
    completed = sum(trial.status == "Completed" for trial in tuning.trials)
    searched = len(labels) - untuned
    what = f"the untuned trial 000 and {searched} searched" if untuned else f"{searched} searched"
    return f"{len(labels)} training jobs, {completed} completed: {what}"


def print_search(tuning: TuningRecord, output: str) -> None:
    """A search as ``run`` shows it: the trials' table, the best against the untuned, the best hyperparameters, the
    model copied for deployment, the plot and the ``jobs describe`` command."""
    out.print(trials_table(tuning))
    out.print(f"tuning job: {tuning.job_name} ({tuning.status}, {tuning.backend}; {tuning.strategy}, {trials_text(tuning)})")
    if tuning.failure_reason:
        out.print(styled(("failure: ", "red"), tuning.failure_reason))
    if tuning.best_training_job is not None and tuning.best_objective is not None:
        gain = ""
        if tuning.default_objective is not None:
            gain = f" (untuned: {tuning.default_objective:.5f}, {tuning.best_objective - tuning.default_objective:+.5f})"
        out.print(f"best: {tuning.best_training_job}  {tuning.objective_metric} = {tuning.best_objective:.5f}{gain}")
        best = ", ".join(f"{k}={v}" for k, v in sorted(tuning.best_hyperparameters.items()))
        out.print(f"best hyperparameters: {best or '(the untuned configuration)'}")
    elif tuning.status in ("Completed", "Failed", "Stopped"):
        out.print("best: none (no trial completed with the objective metric)")
    if tuning.model_copied_to:
        out.print(f"model: {shown(tuning.model_copied_to)}")
    elif tuning.status == "Completed" and tuning.best_training_job:
        out.print("model: not copied to the model output yet")
    if tuning.objective_plot:
        out.print(f"objective plot: {shown(tuning.objective_plot)}")
    out.print(f"job record: {describe_command(tuning.job_name, output, sagemaker=tuning.backend == 'sagemaker')}")


def print_tuning_job(tuning: TuningRecord, description: dict[str, Any], *, as_json: bool, recorded: RecordedRun | None) -> None:
    """A tuning job for ``jobs describe``: the whole description (with its trials as ``TrainingJobSummaries`` and,
    when its run record is found, ``RecordedOutcome``) as JSON, or the search (:func:`print_search`'s table and
    lines) and what the run record holds of it."""
    if as_json:
        document = {**description, "Trials": [t.model_dump(mode="json") for t in tuning.trials]}
        if recorded is not None:
            record = recorded.record
            found = record.tuning.model_dump(mode="json") if record and record.tuning else None
            document["RecordedOutcome"] = recorded_outcome(recorded, "tuning", found)
        out.print_json(json.dumps(document, default=str))
        return
    shown_tuning = tuning
    if recorded is not None and recorded.record is not None and recorded.record.tuning is not None:
        kept = recorded.record.tuning  # what the run did with it: the copy, the plot
        shown_tuning = tuning.model_copy(update={"model_copied_to": kept.model_copied_to, "objective_plot": kept.objective_plot})
    out.print(trials_table(shown_tuning))
    rows = [("HyperParameterTuningJobName", tuning.job_name), ("HyperParameterTuningJobStatus", tuning.status)]
    rows += [("Strategy", tuning.strategy), ("Objective", f"{tuning.objective_type} {tuning.objective_metric}")]
    if tuning.failure_reason:
        rows.append(("FailureReason", tuning.failure_reason))
    rows += [(k, v) for k, v in (("CreationTime", tuning.start_time), ("HyperParameterTuningEndTime", tuning.end_time)) if v]
    if tuning.best_training_job:
        rows += [("BestTrainingJob", tuning.best_training_job), ("best objective", f"{tuning.best_objective:.6f}")]
        rows.append(("best hyperparameters", json.dumps(tuning.best_hyperparameters)))
    if tuning.default_objective is not None:
        rows.append(("untuned objective", f"{tuning.default_objective:.6f} (trial 000)"))
    if tuning.model_artifact:
        rows.append(("best model", shown(tuning.model_artifact)))
    if recorded is not None:
        rows += record_rows(recorded)
        record = recorded.record
        if record is not None and record.tuning is not None:
            rows.append(("recorded status", record.tuning.status))
            copied = record.tuning.model_copied_to
            rows.append(("model copied to", shown(copied) if copied else "(not copied)"))
            if record.tuning.objective_plot:
                rows.append(("objective plot", shown(record.tuning.objective_plot)))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        out.print(f"{key:<{width}}  {value}")
