"""A run's hyperparameter search recorded in its ``run.json`` (``tuning``), and its best model copied once to
where the deployment stage looks.

Used by the pipeline when a local search has ended, and by the handler when SageMaker's
``HyperParameter Tuning Job State Change`` event says a tuning job changed state.  The functions, in the order
a caller uses them:

* ``tuning_record(description, trials, backend) -> TuningRecord``: the ``tuning`` section from a
  ``DescribeHyperParameterTuningJob`` response and the ``TrainingJobSummaries`` of
  ``ListTrainingJobsForHyperParameterTuningJob`` (SageMaker's through boto3, whose times are ``datetime``
  values, or the local backend's, whose times are ISO-8601 text: the same shapes).
* ``needs_copy(tuning) -> bool``: whether the search's best model is to be copied and is not yet: the search
  ended ``Completed`` with a best training job, and ``model_copied_to`` is ``None``.  A ``Failed`` or
  ``Stopped`` search deploys nothing (a single training job that fails deploys nothing either).
* ``copy_best_model(tuning, target, run_date, copier=None) -> str``: copies the best training job's
  ``model.tar.gz`` (``tuning.model_artifact``, under the run folder) to
  ``{target.model_output_root}/{YYYY-MM-DD}/output/{best TrainingJobName}/output/model.tar.gz``
  (:func:`~model_training.training.tuning_jobs.model_destination`; ``run_date`` is the run's ``config.run_date``,
  a :class:`datetime.date`) and returns that URI.  Once: a destination that exists is kept as it is.
  ``copier`` is a :class:`~model_training.training.model_copy.ModelCopier`, also importable from here
  (``None``: ``ModelCopier()``, boto3's ``s3`` client and the destination bucket's default encryption).
* ``record_tuning_outcome(record, tuning, store, record_key) -> RunRecord``: ``run.json`` rewritten with
  ``tuning`` (atomically, then read back and verified:
  :func:`~model_training.output.commit.write_record`); never going back from a final status, and not rewritten
  when nothing changes.  Call it under the run's claim (:mod:`~model_training.output.claims`).
* ``settle_tuning(record, description, trials, backend, store, record_key, target, copier=None) -> RunRecord``:
  the three above in order (record, copy when :func:`needs_copy`, record with ``model_copied_to``).

The run's status (:class:`~model_training.output.runrecord.RunRecord`): ``started`` while the search runs,
and while a ``Completed`` search's best model is not yet copied; ``complete`` once the search has ended and
its best model is copied, or there is nothing to copy (no best training job, or a search that did not
complete).  A copy that fails (a transient S3 fault) leaves the run ``started`` with the final ``tuning``
recorded, and the next delivery of the event (or run of the stage) copies and completes it.

The copy happens once, whatever the deliveries:

* in S3: a ``HeadObject`` of the destination first (a copy that exists is not made again), then a server-side
  ``CopyObject`` pinned to the source's ``VersionId`` (in a versioned bucket) and ``eTag``
  (``CopySourceIfMatch``), made conditional on the destination's absence (``IfNoneMatch: *``, S3's
  conditional writes, which ``CopyObject`` takes as ``PutObject`` does), so two concurrent copies never make
  two objects or two versions: the second gets ``412 Precondition Failed`` and finds the first's object.
  (Callers also hold the run's claim, which serialises the deliveries of one run.)  ``CopyObject`` copies up
  to 5 GB in one request; a larger model is refused with a :class:`~model_training.errors.TrainingJobError`.
* in a local folder: the bytes are written to a temporary file beside the destination (its name does not end
  in ``.tar.gz``), flushed, and hard-linked to the destination name, which fails if the name exists: the
  destination appears whole, once.

No trial's model is ever written to the model output location: trials write under the run folder
(:func:`~model_training.training.tuning_request.trials_output_path`), so the one ``.tar.gz`` that reaches it
is the copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from model_training.errors import TrainingJobError
from model_training.output.commit import read_record, write_record
from model_training.output.runrecord import RunRecord, TrialRecord, TuningRecord
from model_training.ports import Store
from model_training.progress import NullReporter
from model_training.training.jobs import TrainingTarget, utc_text
from model_training.training.local_tuning_records import BASELINE_TRIAL, trial_number
from model_training.training.model_artifacts import ARCHIVE_NAME
from model_training.training.model_copy import ModelCopier
from model_training.training.tuning_jobs import best_training_job_name, model_destination

__all__ = [
    "FINAL_TUNING_STATUSES",
    "ModelCopier",
    "copy_best_model",
    "is_final",
    "is_settled",
    "needs_copy",
    "record_tuning_outcome",
    "settle_tuning",
    "tuning_record",
]

#: A tuning job's final statuses (``HyperParameterTuningJobStatus``): once one is recorded, the record never
#: goes back to ``InProgress`` or ``Stopping``.
FINAL_TUNING_STATUSES = ("Completed", "Failed", "Stopped")


def tuning_record(description: Mapping[str, Any], trials: Sequence[Mapping[str, Any]], backend: str) -> TuningRecord:
    """The run record's ``tuning`` of a tuning job.

    Args:
        description: ``DescribeHyperParameterTuningJob``'s response.
        trials: ``ListTrainingJobsForHyperParameterTuningJob``'s ``TrainingJobSummaries`` (every page), in the
            order the jobs were created; kept in that order.
        backend: ``sagemaker`` or ``local``.

    Returns:
        The record: ``best_*`` from ``BestTrainingJob``, ``model_artifact`` the best job's
        ``{S3OutputPath}/{TrainingJobName}/output/model.tar.gz`` (``S3OutputPath`` of the description's
        ``TrainingJobDefinition``), ``default_objective`` the objective of a local search's trial ``000`` (the
        untuned configuration; ``None`` on SageMaker, which trains no such trial), each trial's ``seconds``
        from its ``TrainingStartTime`` and ``TrainingEndTime``; ``model_copied_to`` ``None``.

    Raises:
        TrainingJobError: ``BestTrainingJob`` names a training job that is not one of the tuning job's own
            (:func:`~model_training.training.tuning_jobs.best_training_job_name`).
    """
    name = str(description["HyperParameterTuningJobName"])
    config = description.get("HyperParameterTuningJobConfig") or {}
    objective = config.get("HyperParameterTuningJobObjective") or {}
    records = [_trial(summary) for summary in trials]
    baseline = next((t for t in records if backend == "local" and trial_number(name, t.job_name) == BASELINE_TRIAL), None)
    best = description.get("BestTrainingJob") or {}
    best_name = best_training_job_name(dict(description)) if best.get("TrainingJobName") else None
    output = ((description.get("TrainingJobDefinition") or {}).get("OutputDataConfig") or {}).get("S3OutputPath")
    artifact = f"{str(output).rstrip('/')}/{best_name}/output/{ARCHIVE_NAME}" if best_name and output else None
    return TuningRecord(
        backend=backend,
        job_name=name,
        status=str(description["HyperParameterTuningJobStatus"]),
        strategy=str(config.get("Strategy", "")),
        objective_metric=str(objective.get("MetricName", "")),
        objective_type=str(objective.get("Type", "")),
        failure_reason=description.get("FailureReason") or None,  # moto (and SageMaker) may answer ""
        best_training_job=best_name,
        best_objective=_objective(best),
        best_hyperparameters={str(k): str(v) for k, v in (best.get("TunedHyperParameters") or {}).items()},
        default_objective=baseline.objective if baseline else None,
        trials=records,
        model_artifact=artifact,
        start_time=utc_text(description.get("CreationTime")),
        end_time=utc_text(description.get("HyperParameterTuningEndTime")),
    )


def _trial(summary: Mapping[str, Any]) -> TrialRecord:
    """A ``HyperParameterTrainingJobSummary`` as a :class:`TrialRecord`."""
    return TrialRecord(
        job_name=str(summary["TrainingJobName"]),
        status=str(summary["TrainingJobStatus"]),
        objective=_objective(summary),
        hyperparameters={str(k): str(v) for k, v in (summary.get("TunedHyperParameters") or {}).items()},
        failure_reason=summary.get("FailureReason") or None,
        seconds=_seconds(summary.get("TrainingStartTime"), summary.get("TrainingEndTime")),
    )


def _objective(summary: Mapping[str, Any]) -> float | None:
    value = (summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
    return float(value) if value is not None else None


def _seconds(start: Any, end: Any) -> float | None:
    """Seconds from ``start`` to ``end`` (``datetime`` values or ISO-8601 text), ``None`` without both."""
    begun, ended = utc_text(start), utc_text(end)
    if begun is None or ended is None:
        return None
    try:
        return (dt.datetime.fromisoformat(ended) - dt.datetime.fromisoformat(begun)).total_seconds()
    except ValueError:
        return None


def is_final(tuning: TuningRecord) -> bool:
    """Whether the search has ended (:data:`FINAL_TUNING_STATUSES`)."""
    return tuning.status in FINAL_TUNING_STATUSES


def needs_copy(tuning: TuningRecord) -> bool:
    """Whether the best model is still to be copied: the search ended ``Completed`` with a best training job
    whose model is known, and it has not been copied."""
    return (
        tuning.status == "Completed"
        and tuning.best_training_job is not None
        and tuning.model_artifact is not None
        and tuning.model_copied_to is None
    )


def is_settled(tuning: TuningRecord) -> bool:
    """Whether the run is ``complete``: the search ended and nothing is left to copy."""
    return is_final(tuning) and not needs_copy(tuning)


def record_tuning_outcome(record: RunRecord, tuning: TuningRecord, store: Store, record_key: str) -> RunRecord:
    """Rewrite ``run.json`` at ``record_key`` with ``tuning`` as its ``tuning`` and the run's status
    (``complete`` when :func:`is_settled`, else ``started``); returns the record as written, or as stored when
    nothing was written.

    Applied to the record as stored (``record`` when none reads back).  Nothing is written when the stored
    record holds that outcome already, or when it holds a final status of that tuning job and ``tuning`` is
    not final (a late or stale ``InProgress``: the record never goes back).  What an earlier delivery did is
    kept: ``model_copied_to`` and ``objective_plot`` are carried over when ``tuning`` lacks them.  The write is
    atomic and read back (:func:`~model_training.output.commit.write_record`); call it under the run's claim.

    Raises:
        TransientError: ``run.json`` does not read back as written (another writer): retry.
    """
    current = read_record(store, record_key, NullReporter()) or record
    old = current.tuning
    if old is not None and old.job_name == tuning.job_name:
        if is_final(old) and not is_final(tuning):
            return current
        kept = {
            key: getattr(old, key)
            for key in ("model_copied_to", "objective_plot")
            if getattr(tuning, key) is None and getattr(old, key) is not None
        }
        tuning = tuning.model_copy(update=kept) if kept else tuning
    status = "complete" if is_settled(tuning) else "started"
    if old == tuning and current.status == status:
        return current
    updated = current.model_copy(update={"status": status, "tuning": tuning})
    write_record(store, record_key, updated)
    return updated


def copy_best_model(tuning: TuningRecord, target: TrainingTarget, run_date: dt.date, copier: ModelCopier | None = None) -> str:
    """Copy the best training job's model to the model output location, once; returns the destination
    (``{model_output_root}/{YYYY-MM-DD}/output/{best TrainingJobName}/output/model.tar.gz``).  A search whose
    ``model_copied_to`` is set returns that without copying.

    Raises:
        TrainingJobError: the search has no best training job, or its model is missing; see
            :class:`ModelCopier` for the copy's own errors.
    """
    if tuning.model_copied_to is not None:
        return tuning.model_copied_to
    if tuning.best_training_job is None or tuning.model_artifact is None:
        raise TrainingJobError(
            f"tuning job {tuning.job_name} ({tuning.status}) has no best training job to copy",
            "no training job of the search completed with the objective metric: see its trials' failure reasons",
        )
    destination = model_destination(target.model_output_root, run_date, tuning.best_training_job)
    (copier or ModelCopier())(tuning.model_artifact, destination)
    return destination


def settle_tuning(
    record: RunRecord,
    description: Mapping[str, Any],
    trials: Sequence[Mapping[str, Any]],
    backend: str,
    store: Store,
    record_key: str,
    target: TrainingTarget,
    copier: ModelCopier | None = None,
) -> RunRecord:
    """Record a tuning job's state in ``run.json`` (:func:`tuning_record`, :func:`record_tuning_outcome`) and,
    once it has completed, copy its best model (:func:`copy_best_model`) and record where; returns the record
    as written (or as stored, when nothing changed).  Call it under the run's claim.

    A search that has ended is drawn (:func:`~model_training.training.tuning_plot.objective_plot_png`: the
    objective against the trial) to ``{run folder}/tuning/{tuning job}-objective.png`` in ``store``, recorded as
    ``objective_plot`` (none without matplotlib).

    The copy comes before the record that names it: a crash in between leaves the copy, which the next call
    finds (not copied again) and records.

    Raises:
        TrainingJobError, ConfigurationError, TransientError: see :func:`copy_best_model` and
            :func:`record_tuning_outcome`; the search's outcome is recorded before a copy that fails.
    """
    tuning = tuning_record(description, trials, backend)
    stored = read_record(store, record_key, NullReporter()) or record
    old = stored.tuning if stored.tuning is not None and stored.tuning.job_name == tuning.job_name else None
    if old is not None and is_final(old) and not is_final(tuning):
        return stored  # a late or stale state: nothing to draw or copy
    if old is not None:  # what an earlier delivery did: the copy, the drawing of the final search
        tuning = tuning.model_copy(update={"model_copied_to": old.model_copied_to, "objective_plot": old.objective_plot})
    if is_final(tuning) and tuning.objective_plot is None:
        tuning = tuning.model_copy(update={"objective_plot": _plot(tuning, store, stored.prefix)})
    if not needs_copy(tuning):
        return record_tuning_outcome(stored, tuning, store, record_key)
    run_date = dt.date.fromisoformat(str(stored.config["run_date"]))
    try:
        copied = copy_best_model(tuning, target, run_date, copier)
    except Exception:
        record_tuning_outcome(stored, tuning, store, record_key)  # the search's outcome, the run left started
        raise
    return record_tuning_outcome(stored, tuning.model_copy(update={"model_copied_to": copied}), store, record_key)


def _plot(tuning: TuningRecord, store: Store, run_prefix: str) -> str | None:
    """Draw the search and write it under the run folder; its URI, or ``None`` without a drawing."""
    from model_training.training.tuning_plot import objective_plot_key, objective_plot_png

    png = objective_plot_png(tuning)
    if png is None:
        return None
    return store.write_bytes(objective_plot_key(run_prefix, tuning.job_name), png).uri
