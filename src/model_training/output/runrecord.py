"""The run record (``run.json``) and the deterministic run id.

A run is identified by what went in (:meth:`~model_training.ports.SourceInfo.identity`: a local file's URI
and content hash, an S3 object's URI, eTag and versionId) and the effective configuration: the same input and
configuration give the same run id in any process, on any day the configuration's ``run_date`` is the same.
The only date in the id is that ``run_date`` (part of the configuration); no other clock reading enters it.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from model_training.config.run import NOT_IDENTITY, RunConfig
from model_training.ports import SourceInfo, StoredObject

RUN_RECORD_NAME = "run.json"
RUN_ID_LENGTH = 16
#: 2: a split's ``label_counts`` only under a classification objective, ``label_summary`` under the others, and
#: ``inferred`` (what the data set: ``num_class``, the default drop columns present).  Records of version 1
#: read as before.
SCHEMA_VERSION = 2


def compute_run_id(source: SourceInfo, config: RunConfig) -> str:
    """The run id: the first 16 hex digits (64 bits) of the SHA-256 of a canonical JSON document holding
    the source's identity (URI and SHA-256 for a local file; URI, ``eTag`` and ``versionId`` for an S3
    object) and the effective configuration (but the fields that change no output, :data:`NOT_IDENTITY`)."""
    payload = {
        "source": source.identity(),
        "config": config.model_dump(mode="json", exclude=set(NOT_IDENTITY)),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:RUN_ID_LENGTH]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class LabelSummary(_Model):
    """A split's label under an objective that is not a classification: its smallest, largest and mean value
    (the mean of the exact sum, rounded once)."""

    min: float
    max: float
    mean: float


class SplitRecord(_Model):
    """Rows in a split; under a classification objective (``binary:``, ``multi:``) how many rows carry each
    label value (keys are the numeric value: ``"0"``, ``"1"``, ``"2.5"``; ``1`` and ``1.0`` in the source are one
    class) and the rows labelled 1 when the labels are binary (0/1); under the others (``reg:``, ``count:``,
    ``survival:``, ``rank:``), whose label values are as many as the rows, ``label_counts`` is ``None`` and
    ``label_summary`` gives the label's minimum, maximum and mean (``None`` for an empty split)."""

    rows: int
    label_counts: dict[str, int] | None
    positives: int | None = None
    label_summary: LabelSummary | None = None


class TrainingRecord(_Model):
    """The training job of a run: backend, ``TrainingJobName`` and, once known, its outcome, each field as the
    backend's ``DescribeTrainingJob`` says (SageMaker's, or the local backend's record of the same shape).

    ``serving_image`` is the algorithm image that must serve the model (the job's own
    ``AlgorithmSpecification.TrainingImage`` on SageMaker; ``sagemaker-xgboost:{version}`` for a local job,
    in any region's registry), and ``xgboost_version`` the XGBoost release that trained it, which is that
    image's.  Another image, such as the legacy ``xgboost:latest`` (0.72), cannot load the model.

    Attributes:
        status: ``TrainingJobStatus``: ``InProgress``, ``Stopping``, then one of ``Completed``, ``Failed``,
            ``Stopped`` (final: a recorded final status is never replaced by an earlier one).
        secondary_status: ``SecondaryStatus`` (``Starting``, ``Training``, ``Completed``, ``MaxRuntimeExceeded`` ...).
        failure_reason: ``FailureReason`` of a failed job.
        final_metrics: ``FinalMetricDataList`` as ``{name: value}`` (``validation:auc`` ...).
        model_artifact: ``ModelArtifacts.S3ModelArtifacts``: the ``model.tar.gz`` URI (``s3://``; ``file://`` locally).
        training_seconds: ``TrainingTimeInSeconds``.
        billable_seconds: ``BillableTimeInSeconds`` (SageMaker's; less than the training time with managed spot);
            ``None`` for a local job, which nothing bills.
        start_time, end_time: ``TrainingStartTime`` and ``TrainingEndTime`` as ISO-8601 UTC times (seconds).
    """

    backend: str
    job_name: str
    status: str
    secondary_status: str | None = None
    serving_image: str | None = None
    xgboost_version: str | None = None
    failure_reason: str | None = None
    final_metrics: dict[str, float] = {}
    model_artifact: str | None = None
    training_seconds: float | None = None
    billable_seconds: float | None = None
    start_time: str | None = None
    end_time: str | None = None


class TrialRecord(_Model):
    """One training job of a run's hyperparameter search, as ``ListTrainingJobsForHyperParameterTuningJob``
    summarises it.

    Attributes:
        job_name: its ``TrainingJobName`` (``{tuning job}-{NNN}-{8 hex}``; trial ``000`` of a local search is the
            untuned configuration).
        status: ``TrainingJobStatus`` (``Stopped`` for a trial the search stopped early).
        objective: ``FinalHyperParameterTuningJobObjectiveMetric.Value`` (``None``: none reported).
        hyperparameters: ``TunedHyperParameters`` (strings, as SageMaker sends them).
        failure_reason: ``FailureReason`` of a failed trial.
        seconds: the trial's training time (``TrainingEndTime - TrainingStartTime``), in seconds.
    """

    job_name: str
    status: str
    objective: float | None = None
    hyperparameters: dict[str, str] = {}
    failure_reason: str | None = None
    seconds: float | None = None


class TuningRecord(_Model):
    """The hyperparameter tuning job of a run, as the backend's ``DescribeHyperParameterTuningJob`` and its
    list of training jobs say (SageMaker's, or the local backend's in the same shapes).

    Attributes:
        backend: ``sagemaker`` or ``local``.
        job_name: ``HyperParameterTuningJobName``.
        status: ``HyperParameterTuningJobStatus``: ``InProgress``, ``Stopping``, then ``Completed``, ``Failed`` or
            ``Stopped`` (final: never replaced by an earlier one).
        strategy: ``Bayesian``, ``Random``, ``Hyperband`` or ``Grid``.
        objective_metric: the ``validation:<metric>`` searched.
        objective_type: ``Maximize`` or ``Minimize`` (the container's direction for that metric).
        failure_reason: ``FailureReason`` of a failed search.
        best_training_job: ``BestTrainingJob.TrainingJobName`` (``None`` until a trial completed).
        best_objective: the best trial's objective value.
        best_hyperparameters: the best trial's ``TunedHyperParameters``.
        default_objective: the untuned configuration's objective value, where a trial trained it (local searches:
            trial ``000``), to show what tuning gained.
        trials: every training job of the search, in the order they were created.
        model_artifact: the best trial's ``model.tar.gz`` (under the run folder: trials never write to the model
            output location).
        model_copied_to: where the best model was copied for the deployment stage
            (``{model-output}/{YYYY-MM-DD}/output/{best TrainingJobName}/output/model.tar.gz``); ``None`` until
            copied (once).
        objective_plot: a PNG of the objective against the trial, the best marked (``{trials folder}/
            {tuning job}-objective.png`` under the run folder), once drawn; ``None`` without one.
        start_time, end_time: ``HyperParameterTuningJobCreationTime`` and ``HyperParameterTuningEndTime``, ISO-8601
            UTC.
    """

    backend: str
    job_name: str
    status: str
    strategy: str
    objective_metric: str
    objective_type: str
    failure_reason: str | None = None
    best_training_job: str | None = None
    best_objective: float | None = None
    best_hyperparameters: dict[str, str] = {}
    default_objective: float | None = None
    trials: list[TrialRecord] = []
    model_artifact: str | None = None
    model_copied_to: str | None = None
    objective_plot: str | None = None
    start_time: str | None = None
    end_time: str | None = None


class RunRecord(_Model):
    """Everything about one run, written as ``{prefix}/{run_id}/run.json`` after every split file is
    written and verified, and rewritten (atomically) when the training job's outcome is known.

    ``status`` is ``committed`` once the splits are complete and verified (a run split with
    ``--no-train`` stays there, and a later run with training trains it), ``complete`` once its training
    job has ended (``Completed``, ``Failed`` or ``Stopped``); ``started`` while a SageMaker job runs (the stage
    does not wait for it: SageMaker's state-change event for the job brings its outcome,
    :mod:`~model_training.training.outcome`).  A run with a search is ``started`` while the search runs and
    until a completed search's best model is copied, then ``complete``
    (:mod:`~model_training.training.tuning_outcome`).
    """

    schema_version: int = SCHEMA_VERSION
    run_id: str
    status: Literal["committed", "started", "complete"]
    source: dict[str, Any]
    config: dict[str, Any]
    prefix: str
    splits: dict[str, SplitRecord]
    files: dict[str, StoredObject]
    """By split (``train``, ``validation``, ``test``); a channel written as several part files lists them
    as ``train/part-00000``, ``train/part-00001`` ...  Each is the store's
    :class:`~model_training.ports.StoredObject` as written: ``key``, ``uri``, ``size_bytes`` and ``sha256``
    in ``run.json`` (its ``stamp`` is left out)."""
    versions: dict[str, str]
    achieved_fractions: dict[str, float] | None = None
    manifest: dict[str, Any] | None = None
    inferred: dict[str, Any] | None = None
    """What the run took from the data where no setting decided it (``None``: nothing): ``hyperparameters``,
    a ``multi:`` objective's ``num_class`` (the largest label plus one), which the training job is sent with
    the configuration's; ``drop``, the default drop columns the file has, when it lacks some (``[]``: the file
    has no ``y_no``).  ``config`` holds the settings as given: the run id is computed from them before the
    data is read, and what the data decides follows from the source's content, which the id holds."""
    training: TrainingRecord | None = None
    tuning: TuningRecord | None = None
    """The run's hyperparameter search, when its configuration has a ``tuning`` section (``training`` is then
    ``None``: the search's best training job is in ``tuning.best_training_job``)."""

    def to_json(self) -> bytes:
        """The record as indented UTF-8 JSON with a final newline."""
        return (self.model_dump_json(indent=2) + "\n").encode("utf-8")


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that shape the outputs (installed ones only)."""
    versions = {"python": platform.python_version()}
    for dist in ("model-training", "numpy", "pyarrow", "pydantic", "xgboost", "xgboost-cpu", "boto3"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions
