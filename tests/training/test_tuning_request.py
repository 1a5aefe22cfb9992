"""The ``CreateHyperParameterTuningJob`` request of a committed run: checked field by field against botocore's
SageMaker service model (and the rules its documentation states that the model does not express), and against
the run's single ``CreateTrainingJob`` request, whose channels, image, resources and tags it shares.

The run is split for real into moto's S3 (the ``pipeline`` fixture), so the channels are the ``s3://`` URIs
SageMaker would read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from botocore.session import get_session
from botocore.validate import validate_parameters

from model_training.algorithm.hyperparameter_rules import ALIASES
from model_training.algorithm.tuning import TuningSpec, parse_tuning, validate_tuning, without_tuned
from model_training.config.run import RunConfig, build_config
from model_training.data.s3 import S3Source
from model_training.errors import ConfigurationError, HyperparameterError, command_line, lambda_function
from model_training.offline import Pipeline, upload
from model_training.output.layout import OutputLayout
from model_training.output.local_store import LocalStore
from model_training.output.runrecord import RunRecord
from model_training.output.s3_store import S3Store
from model_training.pipeline import run_pipeline
from model_training.training.jobs import TrainingTarget, training_request
from model_training.training.naming import MAX_TUNING_JOB_NAME_LENGTH, tuning_job_name
from model_training.training.tuning_request import check_trials_output, tuning_request
from model_training.wiring import run_local
from tests.fixtures import service_problems, small_csv

IMAGE = "764974769150.dkr.ecr.eu-west-2.amazonaws.com/sagemaker-xgboost:3.0-5"
ROLE = "arn:aws:iam::123456789012:role/mlops-sagemaker"
DAY = dt.date(2026, 3, 4)

#: Every setting of a training job that the request carries, so that each is compared.
EVERY_SETTING: dict[str, Any] = {
    "instance_type": "ml.m5.2xlarge",
    "instance_count": 2,
    "volume_size_gb": 50,
    "max_runtime_seconds": 7200,
    "use_spot": True,
    "max_wait_seconds": 9000,
    "output_kms_key_id": "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "volume_kms_key_id": "alias/training-volumes",
    "enable_network_isolation": True,
    "enable_inter_container_traffic_encryption": True,
    "vpc_subnets": ("subnet-0abc", "subnet-0def"),
    "vpc_security_groups": ("sg-0123",),
    "tags": {"team": "growth"},
}

SEARCHES: dict[str, dict[str, Any]] = {
    "bayesian": {
        "objective_metric": "validation:auc",
        "max_trials": 12,
        "max_parallel_trials": 3,
        "early_stopping": "Auto",
        "seed": 7,
        "ranges": {
            "learning_rate": {"min": 0.01, "max": 0.5, "scaling": "Logarithmic"},  # an alias of eta, a default
            "max_depth": {"min": 2, "max": 10},
            "subsample": [0.6, 0.8, 1],
        },
        "warm_start": {"parents": ["0123456789abcdef", "bank-search-1"]},
    },
    "hyperband": {
        "objective_metric": "validation:logloss",
        "strategy": "Hyperband",
        "max_trials": 20,
        "hyperband": {"min_resource": 10},
        "ranges": {"alpha": {"min": 0, "max": 10}, "lambda": {"min": 0.5, "max": 5}},
    },
    "grid": {"objective_metric": "validation:auc", "strategy": "Grid", "ranges": {"max_depth": [3, 6], "eta": [0.1, 0.3]}},
}


def committed_run(pipeline: Pipeline, config: RunConfig) -> tuple[RunRecord, S3Store]:
    """A run split into the data bucket (as the Lambda function splits it), not trained."""
    key = "automl/incoming/bank.csv"
    upload(pipeline.data_bucket, key, small_csv(120))
    store = S3Store(pipeline.data_bucket)
    target = TrainingTarget(image=IMAGE, model_output_root=f"s3://{pipeline.model_output_bucket}")
    result = run_pipeline(S3Source(pipeline.data_bucket, key), config, store=store, backend=None, target=target)
    return result.record, store


def local_run(tmp_path: Path, config: RunConfig) -> tuple[RunRecord, LocalStore, TrainingTarget]:
    """A run split into a local output folder (its layout: the run folder beside ``model-output``), not trained."""
    csv = tmp_path / "bank.csv"
    csv.write_bytes(small_csv(120))
    layout = OutputLayout(tmp_path / "out")
    record = run_local(csv, config, layout, train=False).record
    model_output = layout.model_output.absolute().as_uri()
    target = TrainingTarget(image=IMAGE, model_output_root=model_output, role_arn=ROLE, region="eu-west-2")
    return record, LocalStore(layout.root), target


def target_of(pipeline: Pipeline) -> TrainingTarget:
    model_output = f"s3://{pipeline.model_output_bucket}"
    return TrainingTarget(image=IMAGE, model_output_root=model_output, role_arn=ROLE, region="eu-west-2")


def spec_of(search: str, config: RunConfig) -> TuningSpec:
    raw = SEARCHES[search]
    return validate_tuning(raw, without_tuned(config.training.hyperparameters, parse_tuning(raw)))


def input_shape() -> Any:
    return get_session().get_service_model("sagemaker").operation_model("CreateHyperParameterTuningJob").input_shape


@pytest.mark.parametrize("settings", [{}, EVERY_SETTING], ids=["defaults", "every-setting"])
def test_the_request_is_valid_for_the_service_model(pipeline: Pipeline, settings: dict[str, Any]) -> None:
    config = build_config(run_date=DAY, **settings)
    record, store = committed_run(pipeline, config)
    for search in SEARCHES:
        request = tuning_request(record, config, spec_of(search, config), target_of(pipeline), store)
        validate_parameters(request, input_shape())  # botocore's checks: types, required members, minimums
        assert service_problems(request, input_shape()) == [], search  # the service's: enums, maximums, patterns
        # what the documentation states and the model does not express
        job = request["HyperParameterTuningJobConfig"]
        limits = job["ResourceLimits"]
        assert limits["MaxParallelTrainingJobs"] <= limits["MaxNumberOfTrainingJobs"]
        if job["Strategy"] == "Hyperband":  # its own early stopping; MaxResource: at most 20,000, our rounds
            rounds = int(request["TrainingJobDefinition"]["StaticHyperParameters"]["num_round"])
            assert job["TrainingJobEarlyStoppingType"] == "Off"
            assert job["StrategyConfig"]["HyperbandStrategyConfig"] == {"MinResource": 10, "MaxResource": rounds}
            assert rounds <= 20_000


def test_the_field_by_field_check_is_not_vacuous(pipeline: Pipeline) -> None:
    config = build_config(run_date=DAY)
    record, store = committed_run(pipeline, config)
    request = tuning_request(record, config, spec_of("bayesian", config), target_of(pipeline), store)
    request["HyperParameterTuningJobName"] += "-too-long-for-32"
    request["TrainingJobDefinition"]["OutputDataConfig"]["S3OutputPath"] = "/not/s3"
    request["TrainingJobDefinition"]["StaticHyperParameters"]["x" * 257] = "1"
    request["Tags"].append({"Key": "bad#key", "Value": "v"})
    assert len(service_problems(request, input_shape())) == 4


def test_the_searchs_training_jobs_are_the_runs_training_job(tmp_path: Path) -> None:
    """Channels, image, role, resources, stopping condition, KMS, spot, network and VPC settings, and tags:
    the same as the single training job's request; the hyperparameters less the tuned ones."""
    config = build_config(run_date=DAY, **EVERY_SETTING)
    record, store, target = local_run(tmp_path, config)
    single = training_request(record, config, target, store)
    request = tuning_request(record, config, spec_of("bayesian", config), target, store)
    definition = request["TrainingJobDefinition"]
    shared = [
        "AlgorithmSpecification",
        "RoleArn",
        "InputDataConfig",
        "ResourceConfig",
        "StoppingCondition",
        "VpcConfig",
        "EnableManagedSpotTraining",
        "EnableNetworkIsolation",
        "EnableInterContainerTrafficEncryption",
    ]
    assert {k: definition[k] for k in shared} == {k: single[k] for k in shared}
    assert set(definition) == {*shared, "OutputDataConfig", "StaticHyperParameters"}
    kms = EVERY_SETTING["output_kms_key_id"]
    assert definition["OutputDataConfig"]["KmsKeyId"] == single["OutputDataConfig"]["KmsKeyId"] == kms
    assert [c["DataSource"]["S3DataSource"]["S3Uri"] for c in definition["InputDataConfig"]] == [
        store.uri(f"{record.prefix}/train") + "/",
        store.uri(f"{record.prefix}/validation") + "/",
    ]
    assert definition["AlgorithmSpecification"] == {"TrainingImage": IMAGE, "TrainingInputMode": "File"}  # no metric
    # definitions: the built-in algorithm's metrics are the service's
    tuned = {"eta", "max_depth", "subsample"}  # learning_rate is eta's alias
    assert definition["StaticHyperParameters"] == {k: v for k, v in single["HyperParameters"].items() if k not in tuned}
    assert request["Tags"] == single["Tags"]
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags["Testing"] == record.files["test"].uri and tags["ServingImage"] == IMAGE and tags["RunId"] == record.run_id


def test_static_and_tuned_hyperparameters_are_disjoint(tmp_path: Path) -> None:
    """SageMaker refuses a hyperparameter both static and tuned; a range of an alias drops the name it stands for."""
    config = build_config(run_date=DAY, hyperparameters={"lambda": "2", "alpha": "1"})
    record, store, target = local_run(tmp_path, config)
    for search in SEARCHES:
        request = tuning_request(record, config, spec_of(search, config), target, store)
        static = request["TrainingJobDefinition"]["StaticHyperParameters"]
        ranges = request["HyperParameterTuningJobConfig"]["ParameterRanges"]
        tuned = {r["Name"] for kind in ranges.values() for r in kind}
        assert tuned and not {ALIASES.get(name, name) for name in static} & tuned, search
        assert "_tuning_objective_metric" not in static  # SageMaker adds it to every training job itself


def test_the_trials_write_their_models_under_the_run_folder_not_the_model_output(pipeline: Pipeline) -> None:
    """The deployment stage starts for every .tar.gz in the model output bucket: no trial may write there, and
    a store in that bucket is refused."""
    config = build_config(run_date=DAY)
    record, store = committed_run(pipeline, config)
    target = target_of(pipeline)
    request = tuning_request(record, config, spec_of("grid", config), target, store)
    path = request["TrainingJobDefinition"]["OutputDataConfig"]["S3OutputPath"]
    assert path == f"s3://{pipeline.data_bucket}/{record.prefix}/tuning"
    assert not path.startswith(f"s3://{pipeline.model_output_bucket}")
    assert training_request(record, config, target, store)["OutputDataConfig"]["S3OutputPath"].startswith(
        f"s3://{pipeline.model_output_bucket}/"
    )
    same_bucket = TrainingTarget(image=IMAGE, model_output_root=f"s3://{pipeline.data_bucket}/models", role_arn=ROLE)
    with pytest.raises(ConfigurationError, match="deployment stage would deploy every one of them") as caught:
        tuning_request(record, config, spec_of("grid", config), same_bucket, store)
    assert "--output" in caught.value.hint


@pytest.mark.parametrize(
    ("output", "model_output", "inside"),
    [
        ("file:///out/automl/d/tuning", "file:///out/model-output", False),  # the local layout's folders
        ("file:///out/model-output/automl/d/tuning", "file:///out/model-output/", True),
        ("file:///out/model-output", "file:///out/model-output", True),
        ("file:///out/model-outputs/tuning", "file:///out/model-output", False),
        ("s3://data/automl/d/tuning", "s3://models", False),
        ("s3://models/automl/d/tuning", "s3://models/2026", True),  # any key of the bucket
    ],
)
def test_where_trials_may_write(output: str, model_output: str, inside: bool) -> None:
    if inside:
        with pytest.raises(ConfigurationError) as caught:
            check_trials_output(output, model_output)
        # the hint names the setting in each entry point's words: it wrote the flag "(--output)" for the Lambda too
        assert "(--output)" in caught.value.hint_in(command_line)
        assert "--output" not in caught.value.hint_in(lambda_function) and "automl-data" in caught.value.hint_in(lambda_function)
    else:
        check_trials_output(output, model_output)


def test_the_name_is_the_runs_and_the_request_is_deterministic(tmp_path: Path) -> None:
    config = build_config(run_date=DAY)
    record, store, target = local_run(tmp_path, config)
    first = tuning_request(record, config, spec_of("bayesian", config), target, store)
    assert first == tuning_request(record, config, spec_of("bayesian", config), target, store)
    name = first["HyperParameterTuningJobName"]
    assert name == tuning_job_name(record.source["name"], record.run_id) == f"bank-{record.run_id}"
    assert len(name) <= MAX_TUNING_JOB_NAME_LENGTH


def test_a_parent_given_as_a_run_id_is_that_runs_tuning_job(tmp_path: Path) -> None:
    config = build_config(run_date=DAY)
    record, store, target = local_run(tmp_path, config)
    request = tuning_request(record, config, spec_of("bayesian", config), target, store)
    assert request["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [
            {"HyperParameterTuningJobName": "bank-0123456789abcdef"},  # a run id: that run's search of this dataset
            {"HyperParameterTuningJobName": "bank-search-1"},  # a name: as given
        ],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    assert "WarmStartConfig" not in tuning_request(record, config, spec_of("grid", config), target, store)


def test_a_search_that_does_not_fit_the_hyperparameters_is_refused_with_every_problem(tmp_path: Path) -> None:
    """A multi-class metric with the binary objective, and Hyperband without a static num_round to give."""
    config = build_config(run_date=DAY)
    record, store, target = local_run(tmp_path, config)
    spec = parse_tuning(
        {
            "objective_metric": "validation:mlogloss",
            "strategy": "Hyperband",
            "max_trials": 4,
            "ranges": {"num_round": {"min": 10, "max": 50}},
        }
    )
    with pytest.raises(HyperparameterError) as caught:
        tuning_request(record, config, spec, target, store)
    text = "\n".join(caught.value.problems)
    assert "mlogloss" in text and "Hyperband gives each training job its rounds itself" in text


def test_the_local_layout_is_accepted(tmp_path: Path) -> None:
    """A local run's trials write under its run folder, beside (not inside) the model-output folder."""
    config = build_config(run_date=DAY)
    record, store, target = local_run(tmp_path, config)
    request = tuning_request(record, config, spec_of("grid", config), target, store)
    path = request["TrainingJobDefinition"]["OutputDataConfig"]["S3OutputPath"]
    assert path == (tmp_path / "out" / record.prefix / "tuning").absolute().as_uri()
