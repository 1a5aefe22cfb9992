"""The local training backend: training jobs created, run, described and listed on this machine, behind the
same request and job-record shapes as SageMaker's API (the training itself:
:mod:`~model_training.training.local_training`).

Job records live as JSON files in a jobs folder (``{name}.json``, with the job's log beside it as
``{name}.log``); names are unique there as in an AWS account.  A record also holds ``XGBoostVersion`` (the
release that trained the model), ``ServingImage`` (the image that must serve it) and ``OutputFiles`` (the
metrics and learning curve written), which SageMaker's records do not have.

Hyperparameter tuning jobs (``CreateHyperParameterTuningJob`` and its describe and list calls) live in the
same folder as ``{name}.tuning.json`` (a training job's name has no ``.``), and their trials are training
jobs like any other: :mod:`~model_training.training.local_tuning_records` (the records) and
:mod:`~model_training.training.local_tuning` (the search, with Optuna).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from model_training.errors import (
    ConfigurationError,
    HyperparameterError,
    TrainingJobExistsError,
    TrainingJobNotFoundError,
    environment_failure,
)
from model_training.output.local_store import LocalStore
from model_training.progress import NullReporter, Reporter
from model_training.training.backend import JobFinder
from model_training.training.failures import ChannelDataError, first_line
from model_training.training.local_records import create_job_record
from model_training.training.local_training import TrainedModel, Watch, train_model
from model_training.training.local_tuning_records import TuningRecords
from model_training.training.naming import is_valid_job_name
from model_training.training.xgboost_release import check_xgboost


class LocalTrainingBackend(JobFinder):
    """Create, run, describe and list training jobs on this machine.

    Args:
        jobs_dir: folder of the job records (``{name}.json``) and logs (``{name}.log``).
        reporter: receives a progress task per job (one step per boosting round) and log lines.
    """

    backend_name = "local"
    runs_jobs = True  # a job runs in the process that holds the run's claim

    def __init__(self, jobs_dir: Path, reporter: Reporter | None = None) -> None:
        self.jobs_dir = Path(jobs_dir)
        self.reporter: Reporter = reporter or NullReporter()

    # -- the API -------------------------------------------------------------------------------
    def preflight(self, algorithm_version: str, *, tuning: bool = False) -> None:
        """Refuse, before a run writes anything, an installed XGBoost that is not the image's, and a search
        without Optuna.

        Raises:
            XGBoostVersionError: see :func:`~model_training.training.xgboost_release.check_xgboost`.
            ConfigurationError: ``tuning`` and Optuna is not installed.
        """
        check_xgboost(algorithm_version)
        if tuning:
            try:
                import optuna  # noqa: F401
            except ImportError:
                raise ConfigurationError(
                    "a local hyperparameter search runs with Optuna, which is not installed",
                    "install the local extra (pip install -e '.[local]'), or pip install optuna",
                ) from None

    def create_training_job(self, request: dict[str, Any]) -> str:
        """Register a job as ``InProgress`` (``SecondaryStatus`` ``Starting``); returns its ARN.

        Raises:
            TrainingJobExistsError: a job with this ``TrainingJobName`` exists already (as SageMaker's
                ``ResourceInUse``); nothing is changed.
            ValueError: the name breaks SageMaker's ``TrainingJobName`` rule.
        """
        name = request["TrainingJobName"]
        if not is_valid_job_name(name):
            raise ValueError(f"TrainingJobName {name!r} must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}$")
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        now = _now()
        record = {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:local:000000000000:training-job/{name}",
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "CreationTime": now,
            "LastModifiedTime": now,
            **{k: v for k, v in request.items() if k != "TrainingJobName"},
        }
        exists = TrainingJobExistsError(
            f"training job {name!r} already exists",
            "job names are unique forever, as on SageMaker: change the input or configuration for a new run",
        )
        create_job_record(self._record_path(name), record, exists)
        return str(record["TrainingJobArn"])

    def describe_training_job(self, name: str) -> dict[str, Any]:
        """The job record, shaped like SageMaker's ``DescribeTrainingJob`` response.

        Raises:
            TrainingJobNotFoundError: no such job.
        """
        path = self._record_path(name)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TrainingJobNotFoundError(
                f"training job {name!r} not found in {self.jobs_dir}", "list jobs with: model-training jobs list"
            ) from None

    def list_training_jobs(self) -> list[dict[str, Any]]:
        """Every job's summary (name, status, creation time, metrics), newest first."""
        if not self.jobs_dir.is_dir():
            return []
        jobs = []
        for path in self.jobs_dir.glob("*.json"):
            if not is_valid_job_name(path.stem):
                continue  # {name}.tuning.json: a tuning job's record
            with contextlib.suppress(json.JSONDecodeError, OSError):
                jobs.append(json.loads(path.read_text(encoding="utf-8")))
        return sorted(jobs, key=lambda j: (j.get("CreationTime", ""), j["TrainingJobName"]), reverse=True)

    def run_training_job(self, name: str, *, watch: Watch | None = None, nthread: int | None = None) -> dict[str, Any]:
        """Run a created job to the end; returns its final record (``Completed``, ``Failed`` with a
        ``FailureReason``, or ``Stopped`` when ``watch`` stopped it: a tuning job's early stopping, with the
        model and metrics of the rounds trained).  A job that is no longer ``InProgress`` is returned as it is.
        ``watch`` and ``nthread``: see :func:`~model_training.training.local_training.train_model`.

        Raises:
            EnvironmentFailure: the machine failed the job (disk full, out of memory): the job is not
                recorded ``Failed`` but stays ``InProgress``, so running again trains it.
        """
        record = self.describe_training_job(name)
        if record["TrainingJobStatus"] != "InProgress":
            return record
        start = time.monotonic()
        record.update(TrainingStartTime=_now(), SecondaryStatus="Training")
        self._save(record)
        log_path = self.jobs_dir / f"{name}.log"
        try:
            with log_path.open("w", encoding="utf-8") as log:
                trained = _train(record, lambda line: _log_line(log, line), self.reporter, watch=watch, nthread=nthread)
        except (ChannelDataError, HyperparameterError) as exc:
            kind = "ClientError" if isinstance(exc, HyperparameterError) else "ClientError: Data"
            record.update(TrainingJobStatus="Failed", SecondaryStatus="Failed", FailureReason=f"{kind}: {exc}")
        except Exception as exc:
            failure = environment_failure(exc, f"training job {name}")
            if failure is not exc:
                # the machine's fault, not the job's: it stays InProgress, and the next run trains it again
                raise failure from exc
            record.update(
                TrainingJobStatus="Failed", SecondaryStatus="Failed", FailureReason=f"AlgorithmError: {first_line(exc)}"
            )
        else:
            status = "Stopped" if trained.stopped else "Completed"
            record.update(TrainingJobStatus=status, SecondaryStatus=status, **_outcome(trained))
        end = _now()
        record.update(
            TrainingEndTime=end,
            LastModifiedTime=end,
            TrainingTimeInSeconds=max(1, round(time.monotonic() - start)),
            LogFile=str(log_path.absolute()),
        )
        self._save(record)
        return record

    # -- hyperparameter tuning jobs (SageMaker's shapes) ------------------------------------------
    def create_hyper_parameter_tuning_job(self, request: dict[str, Any]) -> str:
        """Register a tuning job as ``InProgress`` from a ``CreateHyperParameterTuningJob`` request (the one the
        SageMaker backend sends); returns its ARN.  :meth:`run_hyper_parameter_tuning_job` runs it.

        Raises:
            TrainingJobExistsError: a tuning job of this name exists (SageMaker's ``ResourceInUse``); nothing
                is changed.
            ValueError: the name breaks SageMaker's rule, or the request lacks what a local search needs.
        """
        return TuningRecords(self.jobs_dir).create(request)

    def describe_hyper_parameter_tuning_job(self, name: str) -> dict[str, Any]:
        """The tuning job, shaped like SageMaker's ``DescribeHyperParameterTuningJob`` response.

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        return TuningRecords(self.jobs_dir).describe(name)

    def list_training_jobs_for_hyper_parameter_tuning_job(self, name: str) -> list[dict[str, Any]]:
        """The tuning job's training jobs, each a ``HyperParameterTrainingJobSummary`` (the
        ``TrainingJobSummaries`` of ``ListTrainingJobsForHyperParameterTuningJob``), in trial order.

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        return TuningRecords(self.jobs_dir).trial_summaries(name)

    def list_hyper_parameter_tuning_jobs(self) -> list[dict[str, Any]]:
        """Every tuning job's ``HyperParameterTuningJobSummary`` (``ListHyperParameterTuningJobs``), newest first."""
        return TuningRecords(self.jobs_dir).summaries()

    def run_hyper_parameter_tuning_job(self, name: str, baseline: Mapping[str, str | None] | None = None) -> dict[str, Any]:
        """Run a created tuning job's search to the end (:func:`~model_training.training.local_tuning.run_search`);
        returns its description.  A tuning job that is no longer ``InProgress`` is described as it is.

        Args:
            name: the tuning job.
            baseline: the untuned configuration's value of each tuned hyperparameter
                (:func:`~model_training.algorithm.tuning.untuned_values`), trained as trial 000; ``None``: the
                container's defaults for all of them.

        Raises:
            TrainingJobNotFoundError: no such tuning job.
            RunBusyError: another live process on this machine is running the search.
            EnvironmentFailure: the machine failed a trial: the tuning job stays ``InProgress``, and running
                again resumes it.
        """
        from model_training.training.local_tuning import run_search

        return run_search(self, name, baseline)

    def _record_path(self, name: str) -> Path:
        if not is_valid_job_name(name):
            raise TrainingJobNotFoundError(f"{name!r} is not a valid training job name", "names match [a-zA-Z0-9-]{1,63}")
        return self.jobs_dir / f"{name}.json"

    def _save(self, record: dict[str, Any]) -> None:
        path = self._record_path(record["TrainingJobName"])
        LocalStore(path.parent).write_bytes(path.name, json.dumps(record, indent=2).encode("utf-8"))


def _outcome(trained: TrainedModel) -> dict[str, Any]:
    """The job record's fields of a completed training, in SageMaker's shape (plus ``XGBoostVersion``,
    ``ServingImage`` and ``OutputFiles``)."""
    now = _now()
    return {
        "XGBoostVersion": trained.xgboost_version,
        "ServingImage": trained.serving_image,
        "FinalMetricDataList": [{"MetricName": k, "Value": v, "Timestamp": now} for k, v in trained.final_metrics.items()],
        "ModelArtifacts": {"S3ModelArtifacts": trained.model_artifact},
        "OutputFiles": trained.output_files,
    }


def _train(
    record: dict[str, Any], log: Callable[[str], None], reporter: Reporter, *, watch: Watch | None, nthread: int | None
) -> TrainedModel:
    """A job of one instance, or one with a ``watch`` (a tuning trial), trains in this process; one of several
    instances trains on that many worker processes, as the container's distributed mode
    (:func:`~model_training.training.local_distributed.train_distributed`)."""
    if watch is None and int(record.get("ResourceConfig", {}).get("InstanceCount", 1)) > 1:
        from model_training.training.local_distributed import train_distributed

        return train_distributed(record, log, reporter, nthread=nthread)
    return train_model(record, log, reporter, watch=watch, nthread=nthread)


def _log_line(log: io.TextIOBase, line: str) -> None:
    log.write(line + "\n")
    log.flush()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
