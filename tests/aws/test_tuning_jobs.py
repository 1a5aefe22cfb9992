"""A run's tuning job on SageMaker (moto's server over HTTP): created from the run's request and described
back as sent, tagged as the run's training job is, found again by a second delivery, refused when its name
is another run's, SageMaker's refusals as typed errors; and where the best training job's model goes.

moto 5.2.5 creates, describes, lists and tags tuning jobs (a new one is ``Completed`` at once, with a
placeholder ``BestTrainingJob`` named ``FakeTrainingJobName``); it does not implement
``ListTrainingJobsForHyperParameterTuningJob`` (tested in ``tests/training/test_sagemaker.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from model_training import aws
from model_training.algorithm.tuning import parse_tuning, validate_tuning, without_tuned
from model_training.config.run import RunConfig, build_config
from model_training.data.s3 import S3Source
from model_training.errors import TrainingJobError, TrainingJobExistsError, TrainingJobNotFoundError
from model_training.offline import Pipeline, upload
from model_training.output.s3_store import S3Store
from model_training.pipeline import run_pipeline
from model_training.progress import NullReporter
from model_training.training.jobs import TrainingTarget, training_request
from model_training.training.naming import is_valid_job_name
from model_training.training.sagemaker import SageMakerBackend
from model_training.training.tuning_jobs import best_model_destination, find_tuning_job, start_tuning_job
from model_training.training.tuning_request import tuning_request
from tests.fixtures import inject, small_csv

IMAGE = "764974769150.dkr.ecr.eu-west-2.amazonaws.com/sagemaker-xgboost:3.0-5"
DAY = dt.date(2026, 3, 4)
SEARCH = {
    "objective_metric": "validation:auc",
    "max_trials": 6,
    "max_parallel_trials": 2,
    "ranges": {"eta": {"min": 0.05, "max": 0.5, "scaling": "Logarithmic"}, "max_depth": [3, 5, 7]},
    "warm_start": {"parents": ["bank-earlier-search"]},
}


class Said(NullReporter):
    """A reporter that keeps what it is told."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


def run_and_request(pipeline: Pipeline) -> tuple[RunConfig, TrainingTarget, dict[str, Any], dict[str, Any]]:
    """A run split into the data bucket, and its tuning and training requests."""
    config = build_config(run_date=DAY, tags={"team": "growth"})
    key = "automl/incoming/bank.csv"
    upload(pipeline.data_bucket, key, small_csv(120))
    store = S3Store(pipeline.data_bucket)
    target = TrainingTarget(
        image=IMAGE, model_output_root=f"s3://{pipeline.model_output_bucket}", role_arn=pipeline.role_arn, region="eu-west-2"
    )
    record = run_pipeline(S3Source(pipeline.data_bucket, key), config, store=store, backend=None, target=target).record
    spec = validate_tuning(SEARCH, without_tuned(config.training.hyperparameters, parse_tuning(SEARCH)))
    return config, target, tuning_request(record, config, spec, target, store), training_request(record, config, target, store)


def test_the_tuning_job_is_created_and_described_back_as_sent(pipeline: Pipeline) -> None:
    _, _, request, single = run_and_request(pipeline)
    backend = SageMakerBackend()
    name = request["HyperParameterTuningJobName"]
    arn = backend.create_hyper_parameter_tuning_job(request)
    described = backend.describe_hyper_parameter_tuning_job(name)
    assert described["HyperParameterTuningJobArn"] == arn and arn.endswith(f":hyper-parameter-tuning-job/{name}")
    for member in ("HyperParameterTuningJobConfig", "TrainingJobDefinition", "WarmStartConfig"):
        assert described[member] == request[member], member
    assert "ResponseMetadata" not in described
    # the run's tags, as the single training job would carry them; SageMaker adds them to every trial
    assert backend.tags(arn) == request["Tags"] == single["Tags"]
    assert [j["HyperParameterTuningJobName"] for j in backend.list_hyper_parameter_tuning_jobs()] == [name]


def test_a_second_delivery_finds_the_runs_tuning_job(pipeline: Pipeline) -> None:
    _, _, request, _ = run_and_request(pipeline)
    backend = SageMakerBackend()
    said = Said()
    first, existed = start_tuning_job(request, backend, said)
    again, existed_again = start_tuning_job(request, backend, said)
    assert (existed, existed_again) == (False, True)
    assert first["HyperParameterTuningJobArn"] == again["HyperParameterTuningJobArn"]
    assert said.lines == [f"tuning job {request['HyperParameterTuningJobName']} exists already: not starting another"]
    assert len(backend.list_hyper_parameter_tuning_jobs()) == 1
    with pytest.raises(TrainingJobExistsError, match="already exists"):
        backend.create_hyper_parameter_tuning_job(request)


@pytest.mark.parametrize(
    ("tags", "owner"),
    [
        ([{"Key": "RunId", "Value": "ffffffffffffffff"}], "belongs to run ffffffffffffffff, not to this run"),
        ([{"Key": "Project", "Value": "MLOps"}], "has no RunId tag: it was not started for this run"),
        ([], "has no RunId tag: it was not started for this run"),
    ],
)
def test_a_tuning_job_of_that_name_that_is_not_the_runs_is_an_error(
    pipeline: Pipeline, tags: list[dict[str, str]], owner: str
) -> None:
    """The name is taken (by another run, by hand): neither a duplicate delivery nor a job to record."""
    _, _, request, _ = run_and_request(pipeline)
    aws.client("sagemaker").create_hyper_parameter_tuning_job(**{**request, "Tags": tags})
    run_id = next(t["Value"] for t in request["Tags"] if t["Key"] == "RunId")
    with pytest.raises(TrainingJobError, match=rf"exists and {owner} \({run_id}\)") as caught:
        start_tuning_job(request, SageMakerBackend(), NullReporter())
    assert not isinstance(caught.value, TrainingJobExistsError)
    assert caught.value.__context__ is None  # a message of ours, not SageMaker's ResourceInUse traceback behind it
    assert "--date" in caught.value.hint


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("invalid", "ValidationException: The role is not valid"),
        ("limit", "ResourceLimitExceeded: The account-level service limit was exceeded"),
    ],
)
def test_sagemakers_refusals_are_typed_errors_and_create_nothing(pipeline: Pipeline, kind: str, said: str) -> None:
    _, _, request, _ = run_and_request(pipeline)
    backend = SageMakerBackend()
    name = request["HyperParameterTuningJobName"]
    with inject("sagemaker", "CreateHyperParameterTuningJob", kind, times=None), pytest.raises(TrainingJobError) as caught:
        backend.create_hyper_parameter_tuning_job(request)
    assert str(caught.value).startswith(f"SageMaker refused tuning job {name!r}: {said}")
    assert find_tuning_job(backend, name) is None


def test_an_unknown_tuning_job_is_not_found(pipeline: Pipeline) -> None:
    backend = SageMakerBackend()
    assert find_tuning_job(backend, "bank-0123456789abcdef") is None
    with pytest.raises(TrainingJobNotFoundError, match="tuning job 'bank-0123456789abcdef' not found"):
        backend.describe_hyper_parameter_tuning_job("bank-0123456789abcdef")


def best_job_named(described: dict[str, Any], best: str | None) -> dict[str, Any]:
    """``described`` with its ``BestTrainingJob`` named ``best`` (``None``: without one, as before any trial completes)."""
    copy = dict(described)
    if best is None:
        copy.pop("BestTrainingJob", None)
    else:
        copy["BestTrainingJob"] = {**described["BestTrainingJob"], "TrainingJobName": best}
    return copy


def test_the_best_model_goes_where_the_deployment_stage_looks(pipeline: Pipeline) -> None:
    """``{model-output}/{date}/output/{TrainingJobName}/output/model.tar.gz``: the key a single training job's model
    has, whose third part names the job the deployment stage describes (a trial, tagged as the tuning job is)."""
    config, target, request, single = run_and_request(pipeline)
    backend = SageMakerBackend()
    described, _ = start_tuning_job(request, backend, NullReporter())
    name = request["HyperParameterTuningJobName"]
    best = f"{name}-004-1a2b3c4d"  # SageMaker names a tuning job's training jobs with its name as their prefix
    destination = best_model_destination(config, target, best_job_named(described, best))
    assert destination == f"{single['OutputDataConfig']['S3OutputPath']}/{best}/output/model.tar.gz"
    bucket, _, key = destination.removeprefix("s3://").partition("/")
    date, output, job, output_again, model = key.split("/")
    assert (bucket, date, output, output_again, model) == (
        pipeline.model_output_bucket,
        "2026-03-04",
        "output",
        "output",
        "model.tar.gz",
    )
    assert job == best and is_valid_job_name(job)
    # moto's placeholder best job is no training job of this search: refused, not copied
    with pytest.raises(TrainingJobError, match="'FakeTrainingJobName' as its best training job, which is not one of its own"):
        best_model_destination(config, target, described)
    with pytest.raises(TrainingJobError, match=r"\(Completed\) has no best training job"):
        best_model_destination(config, target, best_job_named(described, None))
