"""The ``CreateHyperParameterTuningJob`` request of a committed run, in the shape boto3's
``sagemaker.create_hyper_parameter_tuning_job`` takes it (SageMaker API reference,
CreateHyperParameterTuningJob).  The local backend accepts the same request.

The search's training jobs are the run's training job with tuned hyperparameters: the
``TrainingJobDefinition`` is the run's job definition (:func:`~model_training.training.jobs.job_definition`:
the same channels, image, role, resources, stopping condition, KMS keys, spot, network isolation, traffic
encryption and VPC) with the static hyperparameters less the tuned ones, and the tuning job carries the run's
tags (:func:`~model_training.training.jobs.run_tags`, ``Testing`` and ``ServingImage`` included).  SageMaker
adds a tuning job's tags to every training job it starts (CreateHyperParameterTuningJob, ``Tags``), so the
deployment stage finds on the best training job what it finds on a single run's job: ``Testing`` and
``ServingImage``.

One difference: where the models go.  The deployment stage starts for every ``.tar.gz`` in the model output
bucket, so no training job of a search writes there: ``OutputDataConfig.S3OutputPath`` is the run folder's
``tuning`` folder in the data bucket (:func:`trials_output_path`), and only the best training job's model is
copied to ``{model_output_root}/{YYYY-MM-DD}/output/{TrainingJobName}/output/model.tar.gz``
(:func:`~model_training.training.tuning_jobs.best_model_destination`).  SageMaker's execution role therefore
writes to the run folder in the data bucket (it reads the channels from there already).
"""

from __future__ import annotations

import re
from typing import Any

from model_training.algorithm.tuning import TuningSpec, check_tuning, tuning_job_config, warm_start_config, without_tuned
from model_training.config.run import RunConfig
from model_training.errors import ConfigurationError, Setting
from model_training.output.runrecord import RUN_ID_LENGTH, RunRecord
from model_training.ports import Store
from model_training.training.jobs import TrainingTarget, job_definition, run_hyperparameters, run_tags
from model_training.training.naming import tuning_job_name
from model_training.training.request import tag_list

#: The folder of the run folder the search's training jobs write their models under.
TRIALS_FOLDER = "tuning"

_RUN_ID = re.compile(f"[0-9a-f]{{{RUN_ID_LENGTH}}}")


def tuning_request(
    record: RunRecord, config: RunConfig, spec: TuningSpec, target: TrainingTarget, store: Store
) -> dict[str, Any]:
    """The ``CreateHyperParameterTuningJob`` request of a committed run.

    Members: ``HyperParameterTuningJobName`` (:func:`~model_training.training.naming.tuning_job_name`),
    ``HyperParameterTuningJobConfig`` (:func:`~model_training.algorithm.tuning.tuning_job_config`),
    ``TrainingJobDefinition`` (the run's job definition with ``StaticHyperParameters``, the run's
    hyperparameters with those inferred from the data, without the tuned ones
    (:func:`~model_training.algorithm.tuning.without_tuned`); models under :func:`trials_output_path`),
    ``WarmStartConfig`` when the search has parents (a parent given as a run id of this stage, 16 hex digits,
    is that run's tuning job for this dataset: :func:`parent_job_name`) and ``Tags``
    (:func:`~model_training.training.jobs.run_tags`).

    Raises:
        HyperparameterError: the search does not fit the static hyperparameters
            (:func:`~model_training.algorithm.tuning.check_tuning`: every problem).
        ConfigurationError: the trials' models would land in the model output location (the store is that
            bucket or folder), or the tags break a rule of :func:`~model_training.training.jobs.check_tags`.
    """
    static = without_tuned(run_hyperparameters(record, config), spec)
    check_tuning(spec, static, config.training.algorithm_version)
    output_path = trials_output_path(record, store)
    check_trials_output(output_path, target.model_output_root)
    tags = run_tags(record, config, target)
    request: dict[str, Any] = {
        "HyperParameterTuningJobName": tuning_job_name(record.source["name"], record.run_id),
        "HyperParameterTuningJobConfig": tuning_job_config(spec, static),
        "TrainingJobDefinition": {
            **job_definition(record, config, target, store, output_path),
            "StaticHyperParameters": dict(static),
        },
        "Tags": tag_list(tags),
    }
    warm = warm_start_config(spec)
    if warm is not None:
        for parent in warm["ParentHyperParameterTuningJobs"]:
            parent["HyperParameterTuningJobName"] = parent_job_name(parent["HyperParameterTuningJobName"], record)
        request["WarmStartConfig"] = warm
    return request


def trials_output_path(record: RunRecord, store: Store) -> str:
    """The ``S3OutputPath`` of the search's training jobs: ``{run folder}/tuning`` in the run's store (each
    job's model lands at ``{path}/{TrainingJobName}/output/model.tar.gz``)."""
    return store.uri(f"{record.prefix}/{TRIALS_FOLDER}")


def check_trials_output(output_path: str, model_output_root: str) -> None:
    """Refuse a search whose training jobs would write their models where the deployment stage looks: in
    the model output bucket (any key: the deployment stage starts for every ``.tar.gz`` in it) or, for a
    local model output folder, anywhere under it.

    Raises:
        ConfigurationError: ``output_path`` is in the model output bucket, or under the model output folder.
    """
    root = model_output_root.rstrip("/")
    if root.startswith("s3://") and output_path.startswith("s3://"):
        inside = _bucket(output_path) == _bucket(root)
    else:
        inside = output_path == root or output_path.startswith(root + "/")
    if inside:
        raise ConfigurationError(
            f"the tuning job's training jobs would write their models to {output_path}, in the model output "
            f"location {model_output_root}: the deployment stage would deploy every one of them",
            ("write the run's outputs (", Setting("output"), ") to a bucket or folder other than the model output's"),
        )


def parent_job_name(parent: str, record: RunRecord) -> str:
    """A warm start's parent as a tuning job name: a run id of this stage (16 lower-case hex digits) is that
    run's tuning job for the same dataset (the name :func:`~model_training.training.naming.tuning_job_name`
    gives it); anything else is a tuning job's name already."""
    if _RUN_ID.fullmatch(parent):
        return tuning_job_name(record.source["name"], parent)
    return parent


def _bucket(uri: str) -> str:
    return uri[len("s3://") :].partition("/")[0]
