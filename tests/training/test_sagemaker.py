"""The SageMaker backend's error mapping. moto accepts a second job with the same name, so the
ResourceInUse path (the guard against duplicate deliveries) is tested with botocore's Stubber; moto does not
implement ListTrainingJobsForHyperParameterTuningJob, so listing a tuning job's training jobs is too (the
Stubber checks our parameters and its answers against the service model).  Tuning jobs on moto:
``tests/aws/test_tuning_jobs.py``."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber

from model_training.errors import TrainingJobError, TrainingJobExistsError, TrainingJobNotFoundError
from model_training.training.sagemaker import SageMakerBackend

REQUEST = {
    "TrainingJobName": "bank-0123456789abcdef",
    "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
    "RoleArn": "arn:aws:iam::123456789012:role/r",
    "OutputDataConfig": {"S3OutputPath": "s3://out/2026-01-01/output"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
}


@pytest.fixture
def stubbed():
    client = boto3.client("sagemaker", region_name="eu-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield SageMakerBackend(client), stub
        stub.assert_no_pending_responses()


def test_resource_in_use_is_a_duplicate(stubbed) -> None:
    backend, stub = stubbed
    stub.add_client_error("create_training_job", "ResourceInUse", "Training job names must be unique", 400)
    with pytest.raises(TrainingJobExistsError, match="already exists"):
        backend.create_training_job(REQUEST)


def test_validation_errors_are_reported_with_sagemakers_message(stubbed) -> None:
    backend, stub = stubbed
    stub.add_client_error("create_training_job", "ValidationException", "Role is not valid", 400)
    with pytest.raises(TrainingJobError, match="ValidationException: Role is not valid"):
        backend.create_training_job(REQUEST)


def test_unknown_job(stubbed) -> None:
    backend, stub = stubbed
    stub.add_client_error("describe_training_job", "ValidationException", "Requested resource not found", 400)
    assert backend.find_training_job("nope") is None
    stub.add_client_error("describe_training_job", "ValidationException", "Requested resource not found", 400)
    with pytest.raises(TrainingJobNotFoundError):
        backend.describe_training_job("nope")


def test_a_race_between_two_deliveries_reports_the_loser_as_duplicate(tmp_path, stubbed) -> None:
    """Both deliveries look (no job yet), then the other one creates first: ours gets ResourceInUse."""
    import datetime as dt

    from model_training.config.run import build_config
    from model_training.data.local import LocalSource
    from model_training.output.local_store import LocalStore
    from model_training.pipeline import run_pipeline
    from model_training.training.jobs import TrainingTarget

    backend, stub = stubbed
    src = tmp_path / "d.csv"
    src.write_text("a,y_no,y_yes\n" + "".join(f"{i},{i % 2},{1 - i % 2}\n" for i in range(40)))
    stub.add_client_error("describe_training_job", "ValidationException", "Requested resource not found", 400)
    stub.add_client_error("create_training_job", "ResourceInUse", "Training job names must be unique", 400)
    described = {
        "TrainingJobName": "x",
        "TrainingJobArn": "arn:aws:sagemaker:eu-west-2:123456789012:training-job/x",
        "TrainingJobStatus": "InProgress",
        "SecondaryStatus": "Training",
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ModelArtifacts": {"S3ModelArtifacts": ""},
        "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {},
        "CreationTime": dt.datetime(2026, 1, 1),
    }
    stub.add_response("describe_training_job", described)  # is it there now? (the other delivery made it): its state for run.json
    result = run_pipeline(
        LocalSource(src),
        build_config(run_date=dt.date(2026, 1, 1)),
        store=LocalStore(tmp_path / "out"),
        backend=backend,
        target=TrainingTarget(image="img", model_output_root="s3://out", role_arn="arn:aws:iam::123456789012:role/r"),
    )
    assert result.duplicate
    assert result.record.status == "started" and result.record.training and result.record.training.status == "InProgress"


TUNING_JOB = "bank-0123456789abcdef"


def trial(n: int) -> dict:
    """A ``HyperParameterTrainingJobSummary`` as SageMaker lists it: a trial named with the tuning job's name."""
    name = f"{TUNING_JOB}-{n:03d}-1a2b3c4d"
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:eu-west-2:123456789012:training-job/{name}",
        "TuningJobName": TUNING_JOB,
        "CreationTime": dt.datetime(2026, 3, 4, 10, n),
        "TrainingJobStatus": "Completed",
        "TunedHyperParameters": {"eta": f"0.{n}"},
        "FinalHyperParameterTuningJobObjectiveMetric": {"Type": "Maximize", "MetricName": "validation:auc", "Value": 0.9},
        "ObjectiveStatus": "Succeeded",
    }


def test_a_tuning_jobs_training_jobs_are_listed_oldest_first_over_every_page(stubbed) -> None:
    backend, stub = stubbed
    asked = {"HyperParameterTuningJobName": TUNING_JOB, "SortBy": "CreationTime", "SortOrder": "Ascending", "MaxResults": 100}
    operation = "list_training_jobs_for_hyper_parameter_tuning_job"
    stub.add_response(operation, {"TrainingJobSummaries": [trial(1), trial(2)], "NextToken": "page-2"}, asked)
    stub.add_response(operation, {"TrainingJobSummaries": [trial(3)]}, {**asked, "NextToken": "page-2"})
    listed = backend.list_training_jobs_for_hyper_parameter_tuning_job(TUNING_JOB)
    assert [t["TrainingJobName"] for t in listed] == [trial(n)["TrainingJobName"] for n in (1, 2, 3)]


def test_the_training_jobs_of_an_unknown_tuning_job(stubbed) -> None:
    backend, stub = stubbed
    stub.add_client_error(
        "list_training_jobs_for_hyper_parameter_tuning_job", "ResourceNotFound", "Amazon SageMaker can't find a tuning job", 400
    )
    with pytest.raises(TrainingJobNotFoundError, match=f"tuning job '{TUNING_JOB}' not found"):
        backend.list_training_jobs_for_hyper_parameter_tuning_job(TUNING_JOB)
