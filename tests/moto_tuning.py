"""SageMaker's side of a hyperparameter tuning job on moto's server, driven in this process as
:func:`tests.fixtures.set_job_state` drives a training job (helpers, not tests).

moto 5.2.5 creates a tuning job ``Completed`` at once with a placeholder ``BestTrainingJob``
(``FakeTrainingJobName``), starts no training job for it, and does not implement
``ListTrainingJobsForHyperParameterTuningJob`` (its server answers 500).  SageMaker creates the job
``InProgress``, starts its training jobs (the trials: named ``{tuning job}-{NNN}-{8 hex}``, tagged with the tuning
job's tags, their ``DescribeTrainingJob`` naming the tuning job in ``TuningJobArn``, their models under the
definition's ``S3OutputPath``) and says how it ended later.  The helpers below do the same to moto's model:

- :func:`start_tuning_jobs_in_progress`: moto creates tuning jobs as SageMaker does, ``InProgress``, without a best
  training job, an end time or a failure reason.
- :func:`add_trial`: a training job the tuning job started, in moto's model, and (``Completed``) its model
  archive in S3 where SageMaker writes it.
- :func:`set_tuning_state`: the tuning job's status, end time, counters, failure reason and ``BestTrainingJob``
  (the best of its trials by the objective, the earlier on a tie).
- :func:`serve_trials`: moto's server answers ``ListTrainingJobsForHyperParameterTuningJob`` from its model.

Why a route on the server, not a fallback in the stage: the stage calls the operation SageMaker has, through
boto3 over HTTP, as it does on AWS.  Teaching moto's server that operation in this process (a method on its
``SageMakerResponse``, which its dispatcher finds by the action's name) keeps the stage's code the production
code; the answer is serialised by moto from botocore's service model of the operation and parsed by boto3, and
``tests/aws/test_tuning_outcome.py`` checks it field by field against the service's ``HyperParameterTrainingJobSummary``.
A fallback to ``ListTrainingJobs`` by name prefix in the stage would be code that only ever runs against moto, and
would need a ``DescribeTrainingJob`` per trial for what the summary gives.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import os
import tarfile
from typing import Any

from model_training import aws

#: When the trials start: the tests' run day.
TRIALS_START = dt.datetime(2026, 3, 4, 10, 20, tzinfo=dt.UTC)
#: A failed search's reason, as SageMaker words it.
SEARCH_FAILED = (
    "No training job succeeded after 5 attempts. For additional details, please take a look at the training job failures."
)


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_REGION"]]


def tuning_job_model(name: str) -> Any:
    """moto's model of tuning job ``name`` (in the region of ``AWS_REGION``)."""
    return _backend().hyper_parameter_tuning_jobs[name]


def start_tuning_jobs_in_progress(monkeypatch: Any) -> None:
    """From now on (for the test), moto creates tuning jobs as SageMaker does: ``InProgress``, no trial yet."""
    from moto.sagemaker.models import HyperParameterTuningJob

    created = HyperParameterTuningJob.__init__

    def starting(self: Any, *args: Any, **kwargs: Any) -> None:
        created(self, *args, **kwargs)
        self.hyper_parameter_tuning_job_status = "InProgress"
        self.hyper_parameter_tuning_end_time = self.best_training_job = self.OverallBestTrainingJob = None
        self.failure_reason = self.tuning_job_completion_details = self.consumed_resources = None
        self.training_job_status_counters = _counters([])
        self.objective_status_counters = {"Succeeded": 0, "Pending": 0, "Failed": 0}

    monkeypatch.setattr(HyperParameterTuningJob, "__init__", starting)


def trial_name(tuning: str, number: int) -> str:
    """``{tuning job}-{NNN}-{8 hex}``, as SageMaker names a tuning job's training jobs."""
    return f"{tuning}-{number:03d}-{hashlib.sha256(f'{tuning}/{number}'.encode()).hexdigest()[:8]}"


def model_archive(trial: str) -> bytes:
    """A ``model.tar.gz`` as the container writes it (one member, ``xgboost-model``), its bytes the trial's own."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = f"booster of {trial}\n".encode()
        member = tarfile.TarInfo("xgboost-model")
        member.size, member.mtime = len(data), 0
        archive.addfile(member, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=0)  # the same bytes for the same trial, whenever made


def add_trial(
    tuning: str,
    number: int,
    hyperparameters: dict[str, str],
    *,
    status: str = "Completed",
    objective: float | None = None,
    seconds: int = 60,
    failure_reason: str | None = None,
) -> str:
    """Start trial ``number`` of tuning job ``tuning`` in moto's model, as SageMaker would, and end it in ``status``
    (``InProgress`` leaves it running): its definition is the tuning job's (static hyperparameters plus the tuned
    ``hyperparameters``), its tags the tuning job's, its ``TuningJobArn`` the tuning job's; a ``Completed`` trial
    reports ``objective`` as its final objective metric and has its model in S3.  Returns the trial's name."""
    backend = _backend()
    search = backend.hyper_parameter_tuning_jobs[tuning]
    definition = search.training_job_definition
    name = trial_name(tuning, number)
    job = backend.create_training_job(
        training_job_name=name,
        hyper_parameters={**definition.get("StaticHyperParameters", {}), **hyperparameters},
        algorithm_specification=dict(definition["AlgorithmSpecification"]),
        role_arn=definition["RoleArn"],
        input_data_config=definition["InputDataConfig"],
        output_data_config=definition["OutputDataConfig"],
        resource_config=definition["ResourceConfig"],
        vpc_config=definition.get("VpcConfig"),
        stopping_condition=definition["StoppingCondition"],
        tags=list(search.tags or []),  # SageMaker adds the tuning job's tags to every training job it starts
        enable_network_isolation=definition.get("EnableNetworkIsolation", False),
        enable_inter_container_traffic_encryption=definition.get("EnableInterContainerTrafficEncryption", False),
        enable_managed_spot_training=definition.get("EnableManagedSpotTraining", False),
        checkpoint_config=None,
        debug_hook_config=None,
        debug_rule_configurations=None,
        tensor_board_output_config=None,
        experiment_config=None,
    )
    job.tuning_job_arn = search.arn  # DescribeTrainingJob's TuningJobArn
    job.tuned_hyper_parameters = dict(hyperparameters)
    start = TRIALS_START + dt.timedelta(minutes=number)
    job.creation_time = job.training_start_time = start
    job.training_job_status, job.failure_reason = status, failure_reason
    job.secondary_status = {"Completed": "Completed", "Failed": "Failed", "Stopped": "Stopped"}.get(status, "Training")
    job.training_end_time = None if status == "InProgress" else start + dt.timedelta(seconds=seconds)
    job.last_modified_time = job.training_end_time or start
    objective_name = _objective(search)["MetricName"]
    job.final_metric_data_list = (
        [{"MetricName": objective_name, "Value": objective, "Timestamp": job.training_end_time}]
        if objective is not None and status == "Completed"
        else []
    )
    artifact = f"{definition['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{name}/output/model.tar.gz"
    job.model_artifacts = {"S3ModelArtifacts": artifact} if status == "Completed" else None
    if status == "Completed":
        bucket, _, key = artifact.removeprefix("s3://").partition("/")
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=model_archive(name))  # as SageMaker's role writes it
    return name


def trials_of(tuning: str) -> list[Any]:
    """moto's training jobs that tuning job ``tuning`` started, oldest first."""
    backend = _backend()
    arn = backend.hyper_parameter_tuning_jobs[tuning].arn
    found = [j for j in backend.training_jobs.values() if getattr(j, "tuning_job_arn", None) == arn]
    return sorted(found, key=lambda j: (j.creation_time, j.training_job_name))


def set_tuning_state(name: str, status: str, *, failure_reason: str | None = None) -> dict[str, Any] | None:
    """Put tuning job ``name`` in ``status`` as SageMaker would, from its trials (:func:`add_trial`): the counters,
    ``BestTrainingJob`` (the completed trial with the best objective, the earlier on a tie; none without one), an end
    time for a final status, and ``FailureReason`` (``Failed`` only: ``failure_reason``, or SageMaker's wording).
    Returns the ``BestTrainingJob`` set."""
    search = tuning_job_model(name)
    trials = trials_of(name)
    search.hyper_parameter_tuning_job_status = status
    final = status in ("Completed", "Failed", "Stopped")
    search.hyper_parameter_tuning_end_time = (
        max((t.training_end_time for t in trials if t.training_end_time), default=TRIALS_START) if final else None
    )
    search.last_modified_time = search.hyper_parameter_tuning_end_time or TRIALS_START
    search.failure_reason = (failure_reason or SEARCH_FAILED) if status == "Failed" else None
    search.training_job_status_counters = _counters(trials)
    scored = [t for t in trials if t.training_job_status == "Completed" and t.final_metric_data_list]
    search.objective_status_counters = {
        "Succeeded": len(scored),
        "Pending": len([t for t in trials if t.training_job_status == "InProgress"]),
        "Failed": len(trials) - len(scored) - len([t for t in trials if t.training_job_status == "InProgress"]),
    }
    maximize = _objective(search)["Type"] == "Maximize"
    best = None
    for trial in scored:
        value = trial.final_metric_data_list[0]["Value"]
        if best is None or (value > _value(best) if maximize else value < _value(best)):
            best = trial
    search.best_training_job = search.OverallBestTrainingJob = _summary(search, best) if best is not None else None
    return search.best_training_job


def serve_trials(monkeypatch: Any) -> None:
    """For the test, moto's server answers ``ListTrainingJobsForHyperParameterTuningJob`` (SageMaker API reference):
    the training jobs whose ``TuningJobArn`` is the tuning job's, as ``HyperParameterTrainingJobSummary`` each,
    sorted by ``SortBy`` (``Name`` by default, ``CreationTime``, ``Status``, ``FinalObjectiveMetricValue``, which
    lists only jobs with an objective) in ``SortOrder``, ``StatusEquals`` applied, ``MaxResults`` (default 10) a page
    with a ``NextToken``; ``ResourceNotFound`` for an unknown tuning job."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import ResourceNotFound
    from moto.sagemaker.responses import SageMakerResponse

    def list_training_jobs_for_hyper_parameter_tuning_job(self: Any) -> ActionResult:
        name = self._get_param("HyperParameterTuningJobName")
        backend = self.sagemaker_backend
        if name not in backend.hyper_parameter_tuning_jobs:
            raise ResourceNotFound(f"Amazon SageMaker can't find a tuning job with name {name}")
        search = backend.hyper_parameter_tuning_jobs[name]
        jobs = [j for j in backend.training_jobs.values() if getattr(j, "tuning_job_arn", None) == search.arn]
        if (status := self._get_param("StatusEquals")) is not None:
            jobs = [j for j in jobs if j.training_job_status == status]
        sort_by = self._get_param("SortBy") or "Name"
        keys = {
            "Name": lambda j: j.training_job_name,
            "CreationTime": lambda j: j.creation_time,
            "Status": lambda j: j.training_job_status,
            "FinalObjectiveMetricValue": _value,
        }
        if sort_by == "FinalObjectiveMetricValue":
            jobs = [j for j in jobs if j.final_metric_data_list]
        jobs.sort(key=keys[sort_by], reverse=self._get_param("SortOrder") == "Descending")
        start = int(self._get_param("NextToken") or 0)
        size = int(self._get_param("MaxResults") or 10)
        page = jobs[start : start + size]
        following = str(start + size) if start + size < len(jobs) else None
        return ActionResult({"TrainingJobSummaries": [_summary(search, j) for j in page], "NextToken": following})

    monkeypatch.setattr(
        SageMakerResponse,
        "list_training_jobs_for_hyper_parameter_tuning_job",
        list_training_jobs_for_hyper_parameter_tuning_job,
        raising=False,
    )


def _objective(search: Any) -> dict[str, str]:
    return dict(search.hyper_parameter_tuning_job_config["HyperParameterTuningJobObjective"])


def _value(job: Any) -> float:
    return float(job.final_metric_data_list[0]["Value"])


def _counters(trials: list[Any]) -> dict[str, int]:
    statuses = [t.training_job_status for t in trials]
    return {
        "Completed": statuses.count("Completed"),
        "InProgress": statuses.count("InProgress"),
        "RetryableError": 0,
        "NonRetryableError": statuses.count("Failed"),
        "Stopped": statuses.count("Stopped"),
    }


def _summary(search: Any, job: Any) -> dict[str, Any]:
    """``HyperParameterTrainingJobSummary`` of moto's training job ``job`` of tuning job ``search``."""
    summary: dict[str, Any] = {
        "TrainingJobName": job.training_job_name,
        "TrainingJobArn": job.arn,
        "TuningJobName": search.hyper_parameter_tuning_job_name,
        "CreationTime": job.creation_time,
        "TrainingStartTime": job.training_start_time,
        "TrainingJobStatus": job.training_job_status,
        "TunedHyperParameters": dict(job.tuned_hyper_parameters),
    }
    if job.training_end_time is not None:
        summary["TrainingEndTime"] = job.training_end_time
    if job.failure_reason:
        summary["FailureReason"] = job.failure_reason
    if job.final_metric_data_list:
        objective = _objective(search)
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": objective["Type"],
            "MetricName": objective["MetricName"],
            "Value": _value(job),
        }
        summary["ObjectiveStatus"] = "Succeeded"
    else:
        summary["ObjectiveStatus"] = "Pending" if job.training_job_status == "InProgress" else "Failed"
    return summary
