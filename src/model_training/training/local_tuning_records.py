"""The local backend's hyperparameter tuning jobs as records: ``CreateHyperParameterTuningJob``,
``DescribeHyperParameterTuningJob`` and ``ListTrainingJobsForHyperParameterTuningJob`` in SageMaker's shapes
(botocore's ``sagemaker`` service model, 2017-07-24), kept as JSON files in the jobs folder.

A tuning job is ``{name}.tuning.json`` beside the training jobs' ``{name}.json`` (a training job's name has
no ``.``, so the two never meet).  Its trials are training jobs of that folder, named as SageMaker names
them: ``{tuning job name}-{trial number, 3 digits}-{8 hex digits}`` (SageMaker's own: the tuning job's name,
``-001-``, ``-002-`` ... and 8 random hex digits; here the 8 digits hash the name, the number and the
trial's hyperparameters, so that a search run twice names its trials alike).  Each trial's record carries
``TuningJobArn``, as SageMaker's ``DescribeTrainingJob`` does; a trial is a training job whose name has that
shape and whose ``TuningJobArn`` is the tuning job's.

What a describe returns is computed from the trials' records when asked: ``TrainingJobStatusCounters``
(``Failed`` trials count as ``NonRetryableError``: a local trial that failed fails the same way again),
``ObjectiveStatusCounters`` and ``BestTrainingJob``.  The stored record also keeps fields of this backend
that the response has no place for (``Tags``, the search's ``Owner``, ``BaselineHyperParameters``): the
describe leaves them out, so that its keys are the API's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from model_training.errors import TrainingJobExistsError, TrainingJobNotFoundError
from model_training.output.local_store import LocalStore
from model_training.training.local_records import create_job_record

#: Service model: HyperParameterTuningJobName, 1 to 32 characters.
TUNING_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
#: The suffix of a tuning job's record in the jobs folder.
TUNING_SUFFIX = ".tuning.json"
#: The number of the trial that trains the untuned configuration (the search's trials are 001 onwards).
BASELINE_TRIAL = 0

#: The keys of ``DescribeHyperParameterTuningJobResponse`` this backend fills (the rest of the service
#: model's: ``TrainingJobDefinitions``, ``OverallBestTrainingJob``, ``Autotune``, ``TuningJobCompletionDetails``).
DESCRIBE_KEYS = (
    "HyperParameterTuningJobName",
    "HyperParameterTuningJobArn",
    "HyperParameterTuningJobConfig",
    "TrainingJobDefinition",
    "HyperParameterTuningJobStatus",
    "CreationTime",
    "HyperParameterTuningEndTime",
    "LastModifiedTime",
    "TrainingJobStatusCounters",
    "ObjectiveStatusCounters",
    "BestTrainingJob",
    "WarmStartConfig",
    "FailureReason",
    "ConsumedResources",
)

#: The keys of ``HyperParameterTuningJobSummary`` taken from a describe as they are (``Strategy`` and
#: ``ResourceLimits`` are the config's).
SUMMARY_KEYS = (
    "HyperParameterTuningJobName",
    "HyperParameterTuningJobArn",
    "HyperParameterTuningJobStatus",
    "CreationTime",
    "HyperParameterTuningEndTime",
    "LastModifiedTime",
    "TrainingJobStatusCounters",
    "ObjectiveStatusCounters",
)


def now() -> str:
    """The time, as the local backend's records write it (ISO 8601, UTC, whole seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def trial_name(tuning_job: str, number: int, tuned: Mapping[str, str]) -> str:
    """``{tuning_job}-{number:03d}-{8 hex digits}``: the hex digits hash the three, so a trial is named by
    what it trains.  At most 32 + 1 + 3 + 1 + 8 = 45 characters (63 allowed) below trial 1000."""
    key = json.dumps([tuning_job, number, sorted(tuned.items())]).encode()
    return f"{tuning_job}-{number:03d}-{hashlib.sha256(key).hexdigest()[:8]}"


def trial_number(tuning_job: str, name: str) -> int | None:
    """The trial number in ``name`` if it is named as a trial of ``tuning_job``, else ``None``."""
    found = re.fullmatch(re.escape(tuning_job) + r"-(\d{3,})-[0-9a-f]{8}", name)
    return int(found.group(1)) if found else None


def objective_value(job: Mapping[str, Any], metric: str) -> float | None:
    """The final value of ``metric`` (``validation:auc``) in a training job's ``FinalMetricDataList``, or
    ``None`` when the job has none (or it is not a number)."""
    for entry in job.get("FinalMetricDataList", []):
        if entry.get("MetricName") == metric:
            value = float(entry["Value"])
            return value if math.isfinite(value) else None
    return None


class TuningRecords:
    """The tuning jobs of a jobs folder.

    Args:
        jobs_dir: the local backend's folder of job records.
    """

    def __init__(self, jobs_dir: Path) -> None:
        self.jobs_dir = Path(jobs_dir)

    def path(self, name: str) -> Path:
        """The record of tuning job ``name``.

        Raises:
            TrainingJobNotFoundError: ``name`` is not a valid tuning job name.
        """
        if not TUNING_JOB_NAME.match(name):
            raise TrainingJobNotFoundError(
                f"{name!r} is not a valid hyperparameter tuning job name", "names match [a-zA-Z0-9-]{1,32}"
            )
        return self.jobs_dir / f"{name}{TUNING_SUFFIX}"

    def create(self, request: Mapping[str, Any]) -> str:
        """Register a tuning job ``InProgress`` from a ``CreateHyperParameterTuningJob`` request; returns its ARN.

        Raises:
            TrainingJobExistsError: a tuning job of this name exists; nothing is changed.
            TrainingJobNotFoundError: a warm start's parent tuning job does not exist here.
            ValueError: the name breaks SageMaker's rule, or the request lacks what a local search needs
                (the objective, one ``TrainingJobDefinition``).
        """
        name = request.get("HyperParameterTuningJobName", "")
        if not TUNING_JOB_NAME.match(name):
            raise ValueError(f"HyperParameterTuningJobName {name!r} must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,31}}$")
        config = request.get("HyperParameterTuningJobConfig") or {}
        several = "TrainingJobDefinitions" in request or "Autotune" in request
        if "HyperParameterTuningJobObjective" not in config or "TrainingJobDefinition" not in request or several:
            raise ValueError(
                "a local tuning job needs HyperParameterTuningJobConfig.HyperParameterTuningJobObjective and one "
                "TrainingJobDefinition (TrainingJobDefinitions and Autotune are SageMaker's only)"
            )
        for parent in (request.get("WarmStartConfig") or {}).get("ParentHyperParameterTuningJobs", []):
            parent_name = parent["HyperParameterTuningJobName"]
            if not self.path(parent_name).is_file():  # SageMaker refuses a missing parent at creation
                raise TrainingJobNotFoundError(
                    f"the warm start's parent, hyperparameter tuning job {parent_name!r}, is not in {self.jobs_dir}",
                    "a parent of the tuning section's warm_start is an earlier search in the same jobs folder, by its "
                    "tuning job's name or its run's id (for a run of the same dataset): run that search first, or "
                    "leave warm_start out",
                )
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        created = now()
        arn = f"arn:aws:sagemaker:local:000000000000:hyper-parameter-tuning-job/{name}"
        record = {
            "HyperParameterTuningJobName": name,
            "HyperParameterTuningJobArn": arn,
            "HyperParameterTuningJobStatus": "InProgress",
            "CreationTime": created,
            "LastModifiedTime": created,
            **{key: value for key, value in request.items() if key != "HyperParameterTuningJobName"},
        }
        exists = TrainingJobExistsError(
            f"hyperparameter tuning job {name!r} already exists",
            "tuning job names are unique, as on SageMaker: describe it (it may be finished, or in progress)",
        )
        create_job_record(self.path(name), record, exists)
        return arn

    def load(self, name: str) -> dict[str, Any]:
        """The stored record of tuning job ``name`` (with this backend's own fields).

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        try:
            return dict(json.loads(self.path(name).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise TrainingJobNotFoundError(
                f"hyperparameter tuning job {name!r} not found in {self.jobs_dir}", "check the name"
            ) from None

    def save(self, record: Mapping[str, Any]) -> None:
        """Replace the stored record (atomically)."""
        path = self.path(record["HyperParameterTuningJobName"])
        LocalStore(path.parent).write_bytes(path.name, json.dumps(record, indent=2).encode("utf-8"))

    def trials(self, name: str) -> dict[int, dict[str, Any]]:
        """Trial number -> the ``DescribeTrainingJob``-shaped record of each training job of tuning job ``name``.

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        arn = self.load(name)["HyperParameterTuningJobArn"]
        found: dict[int, dict[str, Any]] = {}
        for path in sorted(self.jobs_dir.glob(f"{name}-*.json")):
            number = trial_number(name, path.stem)
            if number is None:
                continue
            with contextlib.suppress(json.JSONDecodeError, OSError):
                job = json.loads(path.read_text(encoding="utf-8"))
                if job.get("TuningJobArn") == arn:
                    found[number] = job
        return dict(sorted(found.items()))

    def trial_summaries(self, name: str) -> list[dict[str, Any]]:
        """Each trial as a ``HyperParameterTrainingJobSummary``, in trial order.

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        record = self.load(name)
        objective = record["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
        return [summary(job, name, objective) for job in self.trials(name).values()]

    def summaries(self) -> list[dict[str, Any]]:
        """Every tuning job of the folder as a ``HyperParameterTuningJobSummary`` (the
        ``HyperParameterTuningJobSummaries`` of ``ListHyperParameterTuningJobs``), newest first."""
        found = []
        for path in self.jobs_dir.glob(f"*{TUNING_SUFFIX}") if self.jobs_dir.is_dir() else ():
            name = path.name[: -len(TUNING_SUFFIX)]
            with contextlib.suppress(TrainingJobNotFoundError, json.JSONDecodeError, OSError, KeyError):
                described = self.describe(name)
                config = described["HyperParameterTuningJobConfig"]
                item = {key: described[key] for key in SUMMARY_KEYS if key in described}
                found.append({**item, "Strategy": config["Strategy"], "ResourceLimits": config["ResourceLimits"]})
        return sorted(found, key=lambda j: (j["CreationTime"], j["HyperParameterTuningJobName"]), reverse=True)

    def describe(self, name: str) -> dict[str, Any]:
        """The ``DescribeHyperParameterTuningJob`` response of tuning job ``name``: the stored record's API
        fields, with the counters and the best training job computed from the trials' records.

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        record = self.load(name)
        summaries = self.trial_summaries(name)
        described = {key: record[key] for key in DESCRIBE_KEYS if key in record}
        described.update(status_counters(summaries))
        best = best_trial(summaries, record["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["Type"])
        if best is not None:
            described["BestTrainingJob"] = best
        return described


def summary(job: Mapping[str, Any], tuning_job: str, objective: Mapping[str, str]) -> dict[str, Any]:
    """A trial's ``HyperParameterTrainingJobSummary`` from its training job record.

    ``ObjectiveStatus``: ``Pending`` while it trains, ``Succeeded`` when it ended (``Completed`` or
    ``Stopped``) with a value of the objective metric, else ``Failed``.  ``TunedHyperParameters``: the record's
    ``TunedHyperParameters`` (this backend's field on a trial's record: the values the search chose, and for
    trial 000 the untuned configuration's).
    """
    status = job["TrainingJobStatus"]
    value = objective_value(job, objective["MetricName"])
    item: dict[str, Any] = {
        "TrainingJobName": job["TrainingJobName"],
        "TrainingJobArn": job["TrainingJobArn"],
        "TuningJobName": tuning_job,
        "CreationTime": job["CreationTime"],
        "TrainingJobStatus": status,
        "TunedHyperParameters": dict(job.get("TunedHyperParameters", {})),
    }
    for key in ("TrainingStartTime", "TrainingEndTime", "FailureReason"):
        if key in job:
            item[key] = job[key]
    if status == "InProgress":
        item["ObjectiveStatus"] = "Pending"
    elif status in ("Completed", "Stopped") and value is not None:
        item["ObjectiveStatus"] = "Succeeded"
        item["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": objective["Type"],
            "MetricName": objective["MetricName"],
            "Value": value,
        }
    else:
        item["ObjectiveStatus"] = "Failed"
    return item


def status_counters(summaries: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """``TrainingJobStatusCounters`` and ``ObjectiveStatusCounters`` of the trials' summaries."""
    statuses = [s["TrainingJobStatus"] for s in summaries]
    objectives = [s["ObjectiveStatus"] for s in summaries]
    return {
        "TrainingJobStatusCounters": {
            "Completed": statuses.count("Completed"),
            "InProgress": statuses.count("InProgress"),
            "RetryableError": 0,
            "NonRetryableError": statuses.count("Failed"),
            "Stopped": statuses.count("Stopped"),
        },
        "ObjectiveStatusCounters": {key: objectives.count(key) for key in ("Succeeded", "Pending", "Failed")},
    }


def best_trial(summaries: list[dict[str, Any]], direction: str) -> dict[str, Any] | None:
    """The summary of the best trial: the best final objective value among ``Completed`` trials (a trial
    stopped early is not a candidate), ties going to the earlier trial; ``None`` without a candidate."""
    sign = -1.0 if direction == "Maximize" else 1.0
    candidates = [
        (sign * s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], order, s)
        for order, s in enumerate(summaries)
        if s["TrainingJobStatus"] == "Completed" and s["ObjectiveStatus"] == "Succeeded"
    ]
    return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None


def failure_reason(summaries: list[dict[str, Any]], metric: str) -> str:
    """Why a search has no best training job (its ``FailureReason``, at most 1,024 characters): how many trials
    failed or were stopped, how many completed without a value of ``metric`` (``nan``: a metric undefined on the
    validation channel), and the first failed trial's reason."""
    failed = [s for s in summaries if s["TrainingJobStatus"] != "Completed"]
    first = next((s for s in failed if "FailureReason" in s), None)
    why = f"; {first['TrainingJobName']}: {first['FailureReason']}" if first else ""
    if len(failed) == len(summaries):
        return f"no training job completed ({len(failed)} failed or stopped){why}"[:1024]
    completed = len(summaries) - len(failed)
    return (
        f"no training job completed with a value of {metric} ({completed} completed without one, e.g. nan: is the "
        f"metric defined on the validation channel?; {len(failed)} failed or stopped){why}"
    )[:1024]
