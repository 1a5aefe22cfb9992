"""The ``CreateProcessingJob`` request that takes a split off the Lambda function: checked field by field against
botocore's SageMaker service model, its command against the command line's own parser, its sizing at the table's
boundaries; and started on moto's server once, whatever the number of deliveries."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from botocore.session import get_session
from botocore.validate import validate_parameters

from model_training import aws
from model_training.cli import app
from model_training.errors import ConfigurationError
from model_training.offline import Pipeline
from model_training.training.processing import (
    GIB,
    MIN_VOLUME_GB,
    PROCESSING_INSTANCES,
    Sizing,
    job_environment,
    processing_job_name,
    processing_request,
    run_command,
    size_processing,
    start_processing_job,
)
from tests.fixtures import service_problems

IMAGE = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/model-training:1.0"
ROLE = "arn:aws:iam::123456789012:role/mlops-processing"
RUN_ID = "0123456789abcdef"
SOURCE = "s3://data/automl/2026-03-04/bank.csv"
FUNCTION_ENV = {
    "MODEL_TRAINING_INPUT_PREFIX": "automl/",
    "MODEL_TRAINING_MAX_OBJECT_BYTES": "1000",
    "SERVERLESS_ENVIRONMENT": "dev",
    "AWS_REGION": "eu-west-2",
    "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_SESSION_TOKEN": "token",
    "AWS_LAMBDA_FUNCTION_NAME": "model-training",
    "PATH": "/usr/bin",
}


def request(size: int = 20 * GIB, expanded: int = 20 * GIB, run_id: str = RUN_ID) -> dict[str, Any]:
    sizing = size_processing(size, expanded)
    command = run_command(SOURCE, "v1.version", "2026-03-04", "s3://data", "s3://models", ROLE)
    return processing_request(
        run_id=run_id,
        image=IMAGE,
        role_arn=ROLE,
        command=command,
        environment=job_environment(FUNCTION_ENV, sizing, size, expanded),
        sizing=sizing,
        tags={"RunId": run_id, "SourceObject": SOURCE},
    )


def test_request_has_the_shape_sagemaker_expects() -> None:
    model = get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateProcessingJob").input_shape
    for size in (1, 20 * GIB, 3000 * GIB):
        req = request(size, size)
        validate_parameters(req, shape)  # raises ParamValidationError on any type or required-member problem
        assert service_problems(req, shape) == []


def test_request_field_by_field() -> None:
    req = request()
    assert req["ProcessingJobName"] == "model-training-split-0123456789abcdef"
    assert req["AppSpecification"] == {
        "ImageUri": IMAGE,
        "ContainerEntrypoint": [
            "python3", "-m", "model_training.cli", "run", SOURCE, "--version-id", "v1.version", "--date", "2026-03-04",
            "--output", "s3://data", "--model-output", "s3://models", "--role-arn", ROLE, "--backend", "sagemaker", "--quiet",
        ],
    }  # fmt: skip
    assert req["RoleArn"] == ROLE
    assert req["Tags"] == [{"Key": "RunId", "Value": RUN_ID}, {"Key": "SourceObject", "Value": SOURCE}]
    assert req["ProcessingResources"] == {
        "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.4xlarge", "VolumeSizeInGB": 43}
    }
    env = req["Environment"]
    assert not any(k.startswith(("AWS_ACCESS", "AWS_SECRET", "AWS_SESSION", "AWS_LAMBDA")) or k == "PATH" for k in env)
    assert env["MODEL_TRAINING_INPUT_PREFIX"] == "automl/" and env["SERVERLESS_ENVIRONMENT"] == "dev"
    assert int(env["MODEL_TRAINING_MAX_OBJECT_BYTES"]) >= 20 * GIB  # the limit that sent it here, raised
    assert int(env["MODEL_TRAINING_MAX_DECOMPRESSED_BYTES"]) >= 20 * GIB
    assert env["MODEL_TRAINING_STREAM_ABOVE_MB"] == str(64 * 1024 // 3)  # 3 x 20 GiB fits 64 GiB: in memory


def test_the_command_parses_as_the_command_line_reads_it() -> None:
    command: Any = typer.main.get_command(app)  # a click group (typer's own copy of click)
    args = request()["AppSpecification"]["ContainerEntrypoint"]
    assert args[:3] == ["python3", "-m", "model_training.cli"]
    ctx = command.make_context("model-training", list(args[3:]), resilient_parsing=True)
    run = command.get_command(ctx, args[3])
    assert run is not None
    params = run.make_context("run", list(args[4:])).params
    assert params["source"] == SOURCE and params["version_id"] == "v1.version" and params["backend"].value == "sagemaker"
    assert params["date"] == "2026-03-04" and params["output"] == "s3://data"


@pytest.mark.parametrize(("instance", "memory"), PROCESSING_INSTANCES)
def test_sizing_at_each_instances_memory_boundary(instance: str, memory: int) -> None:
    fits = memory * GIB // 3
    assert size_processing(fits, fits).instance_type == instance
    over = size_processing(fits + 1, fits + 1)
    if instance == PROCESSING_INSTANCES[-1][0]:
        assert over.stream and over.instance_type == instance  # nothing larger: the split streams
    else:
        assert over.instance_type != instance and not over.stream


def test_volume_is_twice_the_source_and_never_below_the_floor() -> None:
    assert size_processing(1, 1) == Sizing("ml.m5.large", MIN_VOLUME_GB, False, 8)
    assert size_processing(100 * 10**9, 100 * 10**9).volume_gb == 200
    assert size_processing(10**9, 10**11).volume_gb == 200  # gzip: its inflated size
    with pytest.raises(ConfigurationError, match="16384"):
        size_processing(9000 * 10**9, 9000 * 10**9)


def test_the_name_fits_sagemakers_limit() -> None:
    assert len(processing_job_name("f" * 16)) <= 63


def test_a_second_delivery_finds_the_job_it_started(pipeline: Pipeline) -> None:
    req = request()
    first, created = start_processing_job(req)
    again, created_again = start_processing_job(req)
    assert created and not created_again
    assert first["ProcessingJobArn"] == again["ProcessingJobArn"]
    (listed,) = aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]
    assert listed["ProcessingJobName"] == processing_job_name(RUN_ID)


def test_a_job_of_that_name_for_another_run_is_refused(pipeline: Pipeline) -> None:
    other = request()
    other["Tags"] = [{"Key": "RunId", "Value": "ffffffffffffffff"}]
    start_processing_job(other)
    with pytest.raises(ConfigurationError, match="not this run's '0123456789abcdef'"):
        start_processing_job(request())


def test_an_environment_value_longer_than_sagemaker_takes_is_named() -> None:
    model = get_session().get_service_model("sagemaker")
    value_shape = model.shape_for("ProcessingEnvironmentValue")
    assert value_shape.metadata["max"] == 256  # the limit job_environment enforces, from the service model
    long = {"MODEL_TRAINING_HYPERPARAMETERS": "max_depth=6," * 30, "MODEL_TRAINING_LABEL": "y"}
    with pytest.raises(ConfigurationError, match="MODEL_TRAINING_HYPERPARAMETERS has 360"):
        job_environment(long, size_processing(1, 1), 1, 1)
    assert job_environment({"MODEL_TRAINING_LABEL": "y" * 256}, size_processing(1, 1), 1, 1)["MODEL_TRAINING_LABEL"]
