"""A run's tuning job: created once, found again by its name, and where its best model goes.

The tuning job's name is derived from the run id
(:func:`~model_training.training.naming.tuning_job_name`), so a second delivery finds the job instead of
starting another: :func:`start_tuning_job` sends the create, and a backend answering that the name exists
(SageMaker's ``ResourceInUse``, checked there against the run's ``RunId`` tag) means the job is there.

The best model: the search's training jobs write under the run folder
(:func:`~model_training.training.tuning_request.trials_output_path`), and the best one's model is copied to
the key the deployment stage parses, ``{YYYY-MM-DD}/output/{TrainingJobName}/output/model.tar.gz`` under the
model output root, the same key a single training job's model has (:func:`best_model_destination`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from model_training.config.run import RunConfig
from model_training.errors import TrainingJobError, TrainingJobExistsError, TrainingJobNotFoundError
from model_training.ports import TuningBackend
from model_training.progress import Reporter
from model_training.training.jobs import TrainingTarget
from model_training.training.naming import is_valid_job_name


def start_tuning_job(request: dict[str, Any], backend: TuningBackend, rep: Reporter) -> tuple[dict[str, Any], bool]:
    """Create the tuning job of ``request`` unless it exists, and describe it.

    Returns:
        ``DescribeHyperParameterTuningJob`` of the job, and whether it existed already (an earlier delivery
        created it).

    Raises:
        TrainingJobError: the backend refused the request, or a job of that name exists that is not this
            run's (SageMaker backend: its ``RunId`` tag differs).
    """
    name = request["HyperParameterTuningJobName"]
    try:
        backend.create_hyper_parameter_tuning_job(request)
        duplicate = False
    except TrainingJobExistsError:
        duplicate = True
        rep.info(f"tuning job {name} exists already: not starting another")
    return backend.describe_hyper_parameter_tuning_job(name), duplicate


def find_tuning_job(backend: TuningBackend, name: str) -> dict[str, Any] | None:
    """``DescribeHyperParameterTuningJob`` of ``name``, or ``None`` if there is no such job."""
    try:
        return backend.describe_hyper_parameter_tuning_job(name)
    except TrainingJobNotFoundError:
        return None


def best_training_job_name(tuning_job: dict[str, Any]) -> str:
    """The ``TrainingJobName`` of a tuning job's best training job (``BestTrainingJob``: the best of this
    job's own training jobs).  ``OverallBestTrainingJob`` is not taken: with a warm start it may be a parent's
    training job, trained on another run's channels and tagged with that run's test file.

    Args:
        tuning_job: a ``DescribeHyperParameterTuningJob`` response.

    Raises:
        TrainingJobError: the tuning job has no best training job (none has completed with an objective
            metric yet), or the one it names is not one of its own (SageMaker names them with the tuning job's
            name as their prefix).
    """
    name = tuning_job["HyperParameterTuningJobName"]
    best = (tuning_job.get("BestTrainingJob") or {}).get("TrainingJobName")
    if not best:
        status = tuning_job.get("HyperParameterTuningJobStatus", "?")
        raise TrainingJobError(
            f"tuning job {name!r} ({status}) has no best training job",
            "no training job of the search has completed with the objective metric yet: wait for one, or see its "
            "training jobs' failure reasons",
        )
    if not best.lower().startswith(name.lower()) or not is_valid_job_name(best):
        raise TrainingJobError(
            f"tuning job {name!r} names {best!r} as its best training job, which is not one of its own",
            "SageMaker names a tuning job's training jobs with the tuning job's name as their prefix: describe the tuning job",
        )
    return str(best)


def best_model_key(config: RunConfig, training_job_name: str) -> str:
    """``{YYYY-MM-DD}/output/{TrainingJobName}/output/model.tar.gz``: the key under the model output root
    where the deployment stage expects a model, and reads the name of the job that trained it from (the
    run's date, as a single training job's ``S3OutputPath`` has it)."""
    return model_key(config.run_date, training_job_name)


def model_key(run_date: dt.date, training_job_name: str) -> str:
    """:func:`best_model_key` from the run's date itself (``run.json``'s ``config.run_date``)."""
    return f"{run_date.isoformat()}/output/{training_job_name}/output/model.tar.gz"


def model_destination(model_output_root: str, run_date: dt.date, training_job_name: str) -> str:
    """``{model_output_root}/{YYYY-MM-DD}/output/{TrainingJobName}/output/model.tar.gz`` (:func:`model_key`
    under the root, ``s3://...`` or ``file://...``)."""
    return f"{model_output_root.rstrip('/')}/{model_key(run_date, training_job_name)}"


def best_model_destination(config: RunConfig, target: TrainingTarget, tuning_job: dict[str, Any]) -> str:
    """Where the best training job's model is copied: :func:`best_model_key` of
    :func:`best_training_job_name` under the model output root (``s3://{model-output}/...``).

    Raises:
        TrainingJobError: as :func:`best_training_job_name` raises it.
    """
    return model_destination(target.model_output_root, config.run_date, best_training_job_name(tuning_job))
