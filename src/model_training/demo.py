"""The demo: its dataset (:func:`write_demo_dataset`: scikit-learn's bundled Wisconsin breast-cancer data,
written as a CSV the stage accepts: header row, numeric features, a 0/1 label column; no network is needed,
the data ships inside the scikit-learn package and ``load_breast_cancer`` reads it), and the whole stage run
offline against moto's server (:func:`run_offline_demo`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from model_training.errors import ConfigurationError
from model_training.progress import Reporter

#: The demo data follows the pipeline's convention (the preprocessing stage one-hot encodes the label into
#: ``y_no``/``y_yes``), so the stage's defaults (label ``y_yes``, drop ``y_no``) apply to it unchanged.
DEMO_LABEL = "y_yes"
DEMO_FILE = "breast-cancer.csv"


def write_demo_dataset(folder: Path) -> Path:
    """Write ``breast-cancer.csv`` (569 rows: 30 feature columns, then ``y_no`` and ``y_yes``, where
    ``y_yes`` = 1 marks a malignant tumour, 212 rows) into ``folder`` and return its path.  The bytes are
    the same on every call.

    Raises:
        ConfigurationError: scikit-learn is not installed (the ``demo`` extra).
    """
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        raise ConfigurationError(
            "the demo needs scikit-learn, which is not installed",
            "install the demo extra: from a clone, .venv/bin/pip install -e '.[demo]' (make demo does it)",
        ) from None
    data = load_breast_cancer()
    names = [re.sub(r"[^a-z0-9]+", "_", n.lower()).strip("_") for n in data.feature_names]
    lines = [",".join([*names, "y_no", DEMO_LABEL])]
    for features, target in zip(data.data, data.target, strict=True):
        # sklearn's target is 0 = malignant, 1 = benign; y_yes marks the class a screen looks for.
        malignant = target == 0
        lines.append(",".join([*(repr(float(v)) for v in features), "0" if malignant else "1", "1" if malignant else "0"]))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEMO_FILE
    text = "\n".join(lines) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def run_offline_demo(output: Path, say: Callable[[str], None], reporter: Reporter | None = None) -> dict[str, Any]:
    """The whole stage offline, as the pipeline runs it on AWS, with moto's server standing in for AWS:

    1. start an S3/SSM/SageMaker endpoint on 127.0.0.1 and point boto3 at it;
    2. create the buckets and SSM parameters the stage reads (:func:`~model_training.offline.provision`);
    3. upload the demo dataset under ``automl/{date}/``;
    4. deliver the S3 ``ObjectCreated`` event to the Lambda handler, which splits the object into the data
       bucket and sends ``CreateTrainingJob``;
    5. run the job that SageMaker received with the local XGBoost backend: channels read from the
       endpoint, ``model.tar.gz`` written to ``{S3OutputPath}/{TrainingJobName}/output/``;
    6. copy both buckets to ``{output}/s3/`` so every file can be looked at after the endpoint stops.

    Returns:
        ``{"result": handler result, "job": final job record, "mirror": folder, "model": local model path}``.

    Raises:
        ConfigurationError: scikit-learn or moto is not installed.
        XGBoostVersionError: the installed XGBoost is not the chosen image's (before anything is written).
    """
    import datetime as dt
    import os

    from model_training.algorithm.images import DEFAULT_IMAGE_VERSION
    from model_training.aws import DEFAULT_REGION
    from model_training.config.settings import StageSettings
    from model_training.handler import handle
    from model_training.offline import local_aws, provision, s3_event, upload
    from model_training.output.layout import OutputLayout
    from model_training.output.runrecord import RunRecord
    from model_training.output.s3_store import S3Store
    from model_training.training.jobs import record_job_outcome
    from model_training.training.local import LocalTrainingBackend
    from model_training.training.xgboost_release import check_xgboost

    # the received job is trained here: refuse an XGBoost that is not the image's before anything is written
    check_xgboost(os.environ.get("MODEL_TRAINING_ALGORITHM_VERSION", "").strip() or DEFAULT_IMAGE_VERSION)
    region, environment = DEFAULT_REGION, "dev"
    source = write_demo_dataset(output / "demo-data")
    today = dt.datetime.now(dt.UTC)
    with local_aws(region) as endpoint:
        say(f"1. AWS endpoint (moto's server) at {endpoint}; boto3 uses it through AWS_ENDPOINT_URL")
        pipeline = provision(region, environment)
        say(
            f"2. buckets {pipeline.data_bucket} and {pipeline.model_output_bucket}; SSM parameters mlops-{region}-{environment}-*"
        )
        key = f"automl/{today.date().isoformat()}/{DEMO_FILE}"
        meta = upload(pipeline.data_bucket, key, source.read_bytes())
        say(f"3. uploaded {source.name} ({meta['size']} bytes) to s3://{pipeline.data_bucket}/{key}")
        event = s3_event(
            pipeline.data_bucket,
            key,
            version_id=meta["version_id"],
            etag=meta["etag"],
            size=meta["size"],
            event_time=today.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            region=region,
        )
        settings = StageSettings(region=region, environment=environment)
        from model_training.handler import logger

        level = logger.log_level
        logger.setLevel("WARNING")  # the handler's JSON logs are for CloudWatch; the demo prints its own steps
        try:
            response = handle(event, None, settings)
        finally:
            logger.setLevel(level)
        (result,) = response["results"]
        if result["status"] != "started":
            raise ConfigurationError(f"the handler did not start a job: {result}", "see the log above")
        say(f"4. lambda_handler: {result['status']} run {result['run_id']}, training job {result['job_name']}")
        for split, uri in result["outputs"].items():
            say(f"     {split:<10} {uri}")
        job = train_received_job(result["job_name"], LocalTrainingBackend(output / "training-jobs", reporter=reporter))
        # moto reports every job as finished at once; record what the local training really did
        store = S3Store(pipeline.data_bucket)
        record_key = result["run_record"].split("/", 3)[3]
        record_job_outcome(RunRecord.model_validate_json(store.read_bytes(record_key)), job, "local", store, record_key)
        artifact = job.get("ModelArtifacts", {}).get("S3ModelArtifacts", "")
        say(f"5. trained {job['TrainingJobName']} locally: {job['TrainingJobStatus']}; model at {artifact or '(none)'}")
        mirror = OutputLayout(output).s3_copies  # where jobs describe finds the run record once the endpoint stops
        for bucket in (pipeline.data_bucket, pipeline.model_output_bucket):
            _mirror_bucket(bucket, mirror / bucket)
        say(f"6. copied both buckets to {mirror.absolute()}")
    model = None
    if artifact.startswith("s3://"):
        model = mirror / artifact[len("s3://") :]
    return {"result": result, "job": job, "mirror": mirror, "model": model}


def train_received_job(name: str, backend: Any) -> dict[str, Any]:
    """Run the training job that the SageMaker endpoint received (``DescribeTrainingJob`` echoes the
    ``CreateTrainingJob`` request) with the local backend ``backend``; returns its final record."""
    from model_training import aws

    sagemaker = aws.client("sagemaker")
    received = sagemaker.describe_training_job(TrainingJobName=name)
    request = {k: received[k] for k in _REQUEST_KEYS if k in received}
    spec = received["AlgorithmSpecification"]
    request["AlgorithmSpecification"] = {k: spec[k] for k in ("TrainingImage", "TrainingInputMode") if k in spec}
    request["Tags"] = sagemaker.list_tags(ResourceArn=received["TrainingJobArn"])["Tags"]
    backend.create_training_job(request)
    return dict(backend.run_training_job(name))


#: The CreateTrainingJob fields DescribeTrainingJob echoes back.
_REQUEST_KEYS = (
    "TrainingJobName",
    "AlgorithmSpecification",
    "RoleArn",
    "HyperParameters",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
)


def _mirror_bucket(bucket: str, folder: Path) -> None:
    from model_training.output.local_store import LocalStore
    from model_training.output.s3_store import S3Store

    source = S3Store(bucket)
    target = LocalStore(folder)
    for key in source.list(""):
        target.write_bytes(key, source.read_bytes(key))
