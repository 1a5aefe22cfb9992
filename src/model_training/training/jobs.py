"""A committed run's training job: its ``CreateTrainingJob`` request, creating it once, and recording its
outcome in the run record.

The job's name is derived from the run id (:func:`~model_training.training.naming.job_name`), so a second
delivery finds the job (``DescribeTrainingJob``) instead of starting another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from model_training.algorithm.images import IMAGE_XGBOOST, image_version
from model_training.config.run import TESTING_TAG_MARK, RunConfig
from model_training.errors import ConfigurationError, RunFailedError, TrainingJobExistsError, failed_run_hint
from model_training.output.commit import read_record, write_record
from model_training.output.runrecord import RunRecord, TrainingRecord
from model_training.ports import Store, TrainingBackend
from model_training.progress import NullReporter, Reporter
from model_training.tags import tag_value
from model_training.training.naming import job_name as make_job_name
from model_training.training.request import build_job_definition, tag_list

#: SageMaker's limit on a job's tags.
MAX_TAGS = 50
#: The ``Project`` tag of every job the stage starts (the pipeline's project name).
PROJECT = "MLOps"
#: A training job's final statuses (``DescribeTrainingJob``): once one is recorded, no other status replaces it
#: but another final one SageMaker gives.
FINAL_STATUSES = ("Completed", "Failed", "Stopped")


@dataclass(frozen=True)
class TrainingTarget:
    """Where and how the training job runs: what goes into the ``CreateTrainingJob`` request besides
    the channels and hyperparameters.

    Attributes:
        image: ``AlgorithmSpecification.TrainingImage``.
        model_output_root: the model output location; ``S3OutputPath`` is ``{root}/{YYYY-MM-DD}/output``
            (the deployment stage finds the model under that key).
        role_arn: ``RoleArn`` (SageMaker only).
        region: the ``Region`` tag.

    Resources, spot, KMS keys, network isolation and extra tags are settings of the run
    (:class:`~model_training.config.run.TrainingConfig`), part of its id.
    """

    image: str
    model_output_root: str
    role_arn: str | None = None
    region: str | None = None


def training_request(record: RunRecord, config: RunConfig, target: TrainingTarget, store: Store) -> dict[str, Any]:
    """The ``CreateTrainingJob`` request of a committed run, in the shape boto3's ``create_training_job`` takes:
    its name (:func:`~model_training.training.naming.job_name`), the run's job definition
    (:func:`job_definition`) writing the model under ``{model_output_root}/{YYYY-MM-DD}/output``, the
    hyperparameters (:func:`run_hyperparameters`) and the run's tags (:func:`run_tags`).

    Raises:
        ConfigurationError: the tags break a rule of :func:`check_tags` (the configuration's checks prevent it).
    """
    tags = run_tags(record, config, target)
    output_path = f"{target.model_output_root.rstrip('/')}/{config.run_date.isoformat()}/output"
    return {
        "TrainingJobName": make_job_name(record.source["name"], record.run_id),
        **job_definition(record, config, target, store, output_path),
        "HyperParameters": run_hyperparameters(record, config),
        "Tags": tag_list(tags),
    }


def run_hyperparameters(record: RunRecord, config: RunConfig) -> dict[str, str]:
    """The run's ``HyperParameters``: the configuration's, then those the run took from its data (``run.json``'s
    ``inferred``: a ``multi:`` objective's ``num_class``, which the container requires)."""
    return {**config.training.hyperparameters, **(record.inferred or {}).get("hyperparameters", {})}


def run_tags(record: RunRecord, config: RunConfig, target: TrainingTarget) -> dict[str, str]:
    """The tags of the run's jobs (its training job, or its tuning job and through it every training job the
    tuning job starts), in this order: ``Project=MLOps``, ``Region``, ``Testing`` (the test file's URI: the
    deployment stage takes the first tag whose key contains ``Testing``), ``RunId``, ``Source``,
    ``ServingImage`` (the jobs' own ``AlgorithmSpecification.TrainingImage``: the image that must serve the
    model), then the run's extra tags.

    Raises:
        ConfigurationError: a key containing ``Testing`` other than the stage's own ``Testing`` tag, or more
            than SageMaker's 50 tags (:func:`check_tags`).
    """
    tags = {"Project": PROJECT}
    if target.region:
        tags["Region"] = target.region
    if "test" in record.files:
        tags["Testing"] = record.files["test"].uri  # the deployment stage reads the test file's URI from this tag
    # the model must be served by the image that trained it (XGBoost 0.72 of xgboost:latest cannot load it)
    tags.update({"RunId": record.run_id, "Source": tag_value(record.source["uri"]), "ServingImage": target.image})
    tags.update(config.training.tags)
    check_tags(tags)
    return tags


def job_definition(
    record: RunRecord, config: RunConfig, target: TrainingTarget, store: Store, output_path: str
) -> dict[str, Any]:
    """What the run's training job and its tuning job's ``TrainingJobDefinition`` share
    (:func:`~model_training.training.request.build_job_definition`): channels ``train`` and ``validation``
    (the folder of each split that has rows, ``text/csv``), the image, the role, the resources and stopping
    condition, and the run's KMS keys, managed spot, network isolation, inter-container traffic encryption and
    VPC; the model goes under ``output_path`` (``S3OutputPath``)."""
    channels: dict[str, str] = {
        split: store.uri(f"{record.prefix}/{split}") + "/" for split in ("train", "validation") if record.splits[split].rows
    }
    training = config.training
    definition = build_job_definition(
        image=target.image,
        channels=channels,
        output_path=output_path,
        role_arn=target.role_arn,
        instance_type=training.instance_type,
        instance_count=training.instance_count,
        volume_size_gb=training.volume_size_gb,
        max_runtime_seconds=training.max_runtime_seconds,
    )
    if training.output_kms_key_id:
        definition["OutputDataConfig"]["KmsKeyId"] = training.output_kms_key_id
    if training.volume_kms_key_id:
        definition["ResourceConfig"]["VolumeKmsKeyId"] = training.volume_kms_key_id
    if training.use_spot:
        definition["EnableManagedSpotTraining"] = True
        definition["StoppingCondition"]["MaxWaitTimeInSeconds"] = training.max_wait_seconds or training.max_runtime_seconds
    if training.enable_network_isolation:
        definition["EnableNetworkIsolation"] = True
    if training.enable_inter_container_traffic_encryption:
        definition["EnableInterContainerTrafficEncryption"] = True
    if training.vpc_subnets:
        definition["VpcConfig"] = {"Subnets": list(training.vpc_subnets), "SecurityGroupIds": list(training.vpc_security_groups)}
    return definition


def find_job(record: RunRecord, config: RunConfig, backend: TrainingBackend, target: TrainingTarget, store: Store) -> Any:
    """The training job of a committed run, if it exists (``DescribeTrainingJob`` on its deterministic name)."""
    return backend.find_training_job(training_request(record, config, target, store)["TrainingJobName"])


def train(
    record: RunRecord,
    config: RunConfig,
    backend: TrainingBackend,
    target: TrainingTarget,
    store: Store,
    record_key: str,
    rep: Reporter,
) -> tuple[RunRecord, bool]:
    """Create the run's job unless it exists (called under the run claim), run it (locally) and record it in
    ``run.json``.  Returns the record and whether the job existed already."""
    request = training_request(record, config, target, store)
    name = request["TrainingJobName"]
    duplicate = backend.find_training_job(name) is not None
    if not duplicate:
        try:
            backend.create_training_job(request)
        except TrainingJobExistsError:
            duplicate = True  # created outside the claim (by hand, or an older version of the stage)
    if duplicate:
        rep.info(f"training job {name} exists already: not starting another")
    job = backend.run_training_job(name)
    return record_job_outcome(record, job, backend.backend_name, store, record_key), duplicate


def record_job_outcome(record: RunRecord, job: dict[str, Any], backend: str, store: Store, record_key: str) -> RunRecord:
    """Rewrite ``run.json`` with the training job's state (a ``DescribeTrainingJob``-shaped ``job``): status
    ``started`` while it runs, ``complete`` once it has ended (:func:`outcome_update`, applied to the record as
    stored, else to ``record``).  Nothing is written when that changes nothing, or would replace a recorded final
    status with an earlier one; the record as stored is returned then.

    Raises:
        TransientError: ``run.json`` does not read back as written (:func:`~model_training.output.commit.write_record`).
    """
    current = read_record(store, record_key, NullReporter()) or record
    updated = outcome_update(current, job, backend)
    if updated is None:
        return current
    write_record(store, record_key, updated)
    return updated


def outcome_update(record: RunRecord, job: dict[str, Any], backend: str) -> RunRecord | None:
    """``record`` with the outcome of ``job`` (a ``DescribeTrainingJob``-shaped dict) as its ``training``, or
    ``None`` when there is nothing to write: the record holds that outcome already, or it holds a final status
    (:data:`FINAL_STATUSES`) of that job and ``job`` is not final (a late or stale ``InProgress``: the
    record never goes back).  A final status replaces another only as SageMaker says (it is ``job``'s)."""
    training = training_record(job, backend)
    current = record.training
    if (
        current is not None
        and current.job_name == training.job_name
        and current.status in FINAL_STATUSES
        and training.status not in FINAL_STATUSES
    ):
        return None
    status = "complete" if training.status in FINAL_STATUSES else "started"
    if current == training and record.status == status:
        return None
    return record.model_copy(update={"status": status, "training": training})


def training_record(job: dict[str, Any], backend: str) -> TrainingRecord:
    """The run record's ``training`` of a ``DescribeTrainingJob``-shaped ``job`` (boto3's response, whose times
    are ``datetime`` values, or the local backend's record, whose times are ISO-8601 text): the same fields in the
    same shape for both (:class:`~model_training.output.runrecord.TrainingRecord`)."""
    metrics = {m["MetricName"]: float(m["Value"]) for m in job.get("FinalMetricDataList", [])}
    image = job.get("AlgorithmSpecification", {}).get("TrainingImage", "")
    return TrainingRecord(
        backend=backend,
        job_name=job["TrainingJobName"],
        status=job["TrainingJobStatus"],
        secondary_status=job.get("SecondaryStatus"),
        serving_image=job.get("ServingImage", image) or None,
        xgboost_version=job.get("XGBoostVersion", IMAGE_XGBOOST.get(image_version(image))) if image else None,
        failure_reason=job.get("FailureReason"),
        final_metrics=metrics,
        model_artifact=job.get("ModelArtifacts", {}).get("S3ModelArtifacts"),
        training_seconds=job.get("TrainingTimeInSeconds"),
        billable_seconds=job.get("BillableTimeInSeconds"),
        start_time=utc_text(job.get("TrainingStartTime")),
        end_time=utc_text(job.get("TrainingEndTime")),
    )


def utc_text(value: Any) -> str | None:
    """A job's time (a ``datetime``, or ISO-8601 text) as ISO-8601 UTC to the second; text that is no time is
    kept as it is (at most 64 characters)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return str(value)[:64]
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return moment.isoformat(timespec="seconds")


def raise_if_failed(record: RunRecord, run_uri: str, *, earlier: bool) -> None:
    """Raise :class:`~model_training.errors.RunFailedError` if the run's job (or its search: its tuning job) ended
    ``Failed`` (``earlier``: it failed in an earlier delivery).  Its hint names where to see the job: ``model-training
    jobs describe NAME`` for a local job, SageMaker's ``DescribeTrainingJob`` (``DescribeHyperParameterTuningJob``)
    for a SageMaker one (an entry point that knows the command that shows it names that instead:
    :meth:`~model_training.errors.RunFailedError.with_command`)."""
    when = " earlier" if earlier else ""
    tuning = record.tuning
    training = record.training
    if tuning is not None and tuning.status == "Failed":
        name, kind, reason, backend, search = tuning.job_name, "tuning job", tuning.failure_reason, tuning.backend, True
    elif training is not None and training.status == "Failed":
        name, kind, reason, backend, search = training.job_name, "training job", training.failure_reason, training.backend, False
    else:
        return
    api = "DescribeHyperParameterTuningJob" if search else "DescribeTrainingJob"
    where = f"{api} {name} in SageMaker" if backend == "sagemaker" else f"model-training jobs describe {name}"
    error = RunFailedError(f"{kind} {name} failed{when}: {reason}", failed_run_hint(run_uri, where, search=search))
    error.job_name, error.run_uri, error.search = name, run_uri, search
    raise error


def check_tags(tags: dict[str, str]) -> None:
    """Refuse a training job's tags that the deployment stage would misread, or SageMaker would refuse.

    Raises:
        ConfigurationError: a key other than ``Testing`` contains ``Testing``; more than 50 tags.
    """
    others = [k for k in tags if TESTING_TAG_MARK in k and k != "Testing"]
    if others:
        raise ConfigurationError(
            f"the training job's tag {others[0]!r} contains {TESTING_TAG_MARK!r}: the deployment stage takes the first "
            f"such tag as the test file's URI",
            f"rename the extra tag (training.tags): its key must not contain {TESTING_TAG_MARK!r}",
        )
    if len(tags) > MAX_TAGS:
        raise ConfigurationError(f"the training job would carry {len(tags)} tags", "SageMaker allows 50: drop extra tags")
