"""A committed run's training job: its ``CreateTrainingJob`` request, creating it once, and recording its
outcome in the run record.

The job's name is derived from the run id (:func:`~model_training.training.naming.job_name`), so a second
delivery finds the job (``DescribeTrainingJob``) instead of starting another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model_training.algorithm.images import IMAGE_XGBOOST, image_version
from model_training.config.run import TESTING_TAG_MARK, RunConfig
from model_training.errors import ConfigurationError, RunFailedError, Setting, TrainingJobExistsError
from model_training.output.runrecord import RunRecord, TrainingRecord
from model_training.ports import Store, TrainingBackend
from model_training.progress import Reporter
from model_training.tags import tag_value
from model_training.training.naming import job_name as make_job_name
from model_training.training.request import build_training_request

#: SageMaker's limit on a job's tags.
MAX_TAGS = 50


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
    """The ``CreateTrainingJob`` request of a committed run, in the shape boto3's ``create_training_job`` takes.

    Channels: ``train`` and ``validation`` (the folder of each split that has rows), ``text/csv``.
    Tags, in this order: ``Project=MLOps``, ``Region``, ``Testing`` (the test file's URI: the deployment
    stage takes the first tag whose key contains ``Testing``), ``RunId``, ``Source``, ``ServingImage`` (the
    job's own ``AlgorithmSpecification.TrainingImage``: the image that must serve the model), then the
    run's extra tags.

    Raises:
        ConfigurationError: the request would carry a key containing ``Testing`` other than the stage's
            own ``Testing`` tag, or more than SageMaker's 50 tags (the configuration's checks prevent both).
    """
    channels: dict[str, str] = {
        split: store.uri(f"{record.prefix}/{split}") + "/" for split in ("train", "validation") if record.splits[split].rows
    }
    tags = {"Project": "MLOps"}
    if target.region:
        tags["Region"] = target.region
    if "test" in record.files:
        tags["Testing"] = record.files["test"].uri  # the deployment stage reads the test file's URI from this tag
    training = config.training
    # the model must be served by the image that trained it (XGBoost 0.72 of xgboost:latest cannot load it)
    tags.update({"RunId": record.run_id, "Source": tag_value(record.source["uri"]), "ServingImage": target.image})
    tags.update(training.tags)
    check_tags(tags)
    request = build_training_request(
        job_name=make_job_name(record.source["name"], record.run_id),
        image=target.image,
        hyperparameters=config.training.hyperparameters,
        channels=channels,
        output_path=f"{target.model_output_root.rstrip('/')}/{config.run_date.isoformat()}/output",
        role_arn=target.role_arn,
        instance_type=training.instance_type,
        instance_count=training.instance_count,
        volume_size_gb=training.volume_size_gb,
        max_runtime_seconds=training.max_runtime_seconds,
        tags=tags,
    )
    if training.output_kms_key_id:
        request["OutputDataConfig"]["KmsKeyId"] = training.output_kms_key_id
    if training.volume_kms_key_id:
        request["ResourceConfig"]["VolumeKmsKeyId"] = training.volume_kms_key_id
    if training.use_spot:
        request["EnableManagedSpotTraining"] = True
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = training.max_wait_seconds or training.max_runtime_seconds
    if training.enable_network_isolation:
        request["EnableNetworkIsolation"] = True
    if training.enable_inter_container_traffic_encryption:
        request["EnableInterContainerTrafficEncryption"] = True
    if training.vpc_subnets:
        request["VpcConfig"] = {"Subnets": list(training.vpc_subnets), "SecurityGroupIds": list(training.vpc_security_groups)}
    return request


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
    """Rewrite ``run.json`` with the training job's state (a ``DescribeTrainingJob``-shaped ``job``):
    status ``started`` while it runs, ``complete`` once it has ended."""
    training = training_record(job, backend)
    finished = training.status in ("Completed", "Failed", "Stopped")
    done = record.model_copy(update={"status": "complete" if finished else "started", "training": training})
    store.write_bytes(record_key, done.to_json())
    return done


def training_record(job: dict[str, Any], backend: str) -> TrainingRecord:
    """The run record's ``training`` of a ``DescribeTrainingJob``-shaped ``job``."""
    metrics = {m["MetricName"]: float(m["Value"]) for m in job.get("FinalMetricDataList", [])}
    image = job.get("AlgorithmSpecification", {}).get("TrainingImage", "")
    return TrainingRecord(
        backend=backend,
        job_name=job["TrainingJobName"],
        status=job["TrainingJobStatus"],
        serving_image=job.get("ServingImage", image) or None,
        xgboost_version=job.get("XGBoostVersion", IMAGE_XGBOOST.get(image_version(image))) if image else None,
        failure_reason=job.get("FailureReason"),
        final_metrics=metrics,
        model_artifact=job.get("ModelArtifacts", {}).get("S3ModelArtifacts"),
        training_seconds=job.get("TrainingTimeInSeconds"),
    )


def raise_if_failed(record: RunRecord, run_uri: str, *, earlier: bool) -> None:
    """Raise :class:`~model_training.errors.RunFailedError` if the run's job ended ``Failed`` (``earlier``:
    it failed in an earlier delivery)."""
    training = record.training
    if training is None or training.status != "Failed":
        return
    when = " earlier" if earlier else ""
    raise RunFailedError(
        f"training job {training.job_name} failed{when}: {training.failure_reason}",
        (
            f"the split is kept under {run_uri}; see: model-training jobs describe {training.job_name}. Job names are "
            "unique, as on SageMaker: to train again, change a setting (e.g. a hyperparameter, or ",
            Setting("run_date"),
            ")",
        ),
    )


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
