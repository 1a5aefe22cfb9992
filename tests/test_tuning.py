"""A tuning section with the static hyperparameters beside it (static or tuned, the objective metric against
the objective and ``eval_metric``, Hyperband's rounds), the helpers a search needs, and the
``CreateHyperParameterTuningJob`` parts, checked field by field against botocore's SageMaker service model."""

from __future__ import annotations

import pytest
from botocore.model import Shape
from botocore.session import get_session
from botocore.validate import validate_parameters

from model_training.algorithm.tuning import (
    NumericRange,
    check_tuning,
    grid_trials,
    parameter_ranges,
    parse_tuning,
    range_kind,
    recommended_range,
    static_and_tuned,
    tuned_names,
    tuning_job_config,
    typed_value,
    untuned_values,
    validate_tuning,
    warm_start_config,
    without_tuned,
)
from model_training.algorithm.tuning_rules import TUNABLE
from model_training.config.run import DEFAULT_HYPERPARAMETERS
from model_training.errors import HyperparameterError
from tests.fixtures import service_problems

BINARY = {"num_round": "50", "objective": "binary:logistic", "eval_metric": "auc,logloss"}


def section(**settings: object) -> dict[str, object]:
    base: dict[str, object] = {"objective_metric": "validation:auc", "max_trials": 10, "ranges": {"eta": [0.1, 0.3]}}
    base.update(settings)
    return {key: value for key, value in base.items() if value is not None}


def problems_of(raw: object, hyperparameters: dict[str, str], *, infer_num_class: bool = False) -> list[str]:
    with pytest.raises(HyperparameterError) as caught:
        validate_tuning(raw, hyperparameters, infer_num_class=infer_num_class)
    return caught.value.problems


# ----- static or tuned ----------------------------------------------------------------------------------------


def test_a_multi_class_objective_without_num_class_waits_for_the_labels_until_the_request() -> None:
    """A configuration's check lets a ``multi:`` objective come without ``num_class`` (the run takes it from the
    labels, as for a run without a search); the request's check, which gets the inferred value, still needs one."""
    multi = {"num_round": "5", "objective": "multi:softprob", "eval_metric": "merror,mlogloss"}
    raw = section(objective_metric="validation:mlogloss")
    spec = validate_tuning(raw, multi, infer_num_class=True)
    check_tuning(spec, {**multi, "num_class": "3"})
    with pytest.raises(HyperparameterError) as caught:
        check_tuning(spec, multi)
    assert caught.value.problems == [
        "hyperparameters: objective multi:softprob requires num_class (the number of classes, an integer >= 2)"
    ]


def test_the_stages_defaults_give_way_to_the_ranges() -> None:
    spec = parse_tuning(section(ranges={"eta": [0.1, 0.3], "max_depth": {"min": 2, "max": 9}}))
    static = without_tuned(DEFAULT_HYPERPARAMETERS, spec)
    assert "eta" not in static and "max_depth" not in static and static["gamma"] == "4"
    assert validate_tuning(section(ranges={"eta": [0.1, 0.3], "max_depth": {"min": 2, "max": 9}}), static) == spec


def test_a_static_value_and_a_range_of_one_hyperparameter_conflict() -> None:
    spec = parse_tuning(section(ranges={"learning_rate": [0.1, 0.3]}))
    assert static_and_tuned({"num_round": "5", "eta": "0.2"}, spec) == [("eta", "learning_rate")]
    assert tuned_names(spec) == {"eta": "learning_rate"}
    assert without_tuned({"num_round": "5", "eta": "0.2"}, spec) == {"num_round": "5"}
    problems = problems_of(section(ranges={"learning_rate": [0.1, 0.3]}), {**BINARY, "eta": "0.2"})
    assert problems == [
        "tuning.ranges.learning_rate: eta is also a static hyperparameter (hyperparameters.eta = '0.2'): a "
        "hyperparameter is either static or tuned, remove one"
    ]
    with pytest.raises(HyperparameterError, match="either static or tuned"):
        check_tuning(spec, {**BINARY, "eta": "0.2"})
    check_tuning(spec, BINARY)


def test_the_tuning_objective_metric_is_the_searchs_to_set() -> None:
    """A static _tuning_objective_metric went into the tuning job's StaticHyperParameters: the local search overrode
    it with the objective metric, while SageMaker's training jobs would get both (the container evaluating and
    stopping early on the static one); it is the search's, as a tuned hyperparameter is."""
    static = {**BINARY, "_tuning_objective_metric": "validation:logloss"}
    assert problems_of(section(), static) == [
        "hyperparameters._tuning_objective_metric = 'validation:logloss': the tuning job sets it in every training job "
        "to its objective metric (validation:auc): leave it out"
    ]
    with pytest.raises(HyperparameterError, match="_tuning_objective_metric"):
        check_tuning(parse_tuning(section()), static)


def test_a_tuned_num_round_completes_the_static_hyperparameters() -> None:
    static = {"objective": "binary:logistic"}
    assert validate_tuning(section(ranges={"num_round": {"min": 10, "max": 200}}), static)
    assert problems_of(section(), static) == [
        "hyperparameters: num_round is required: the number of boosting rounds, an integer >= 1"
    ]


def test_an_invalid_range_is_reported_once() -> None:
    # the range of num_round is invalid; the static hyperparameters are not blamed for missing it
    assert problems_of(section(ranges={"num_round": {"min": 0, "max": 10}}), {"objective": "binary:logistic"}) == [
        "tuning.ranges.num_round.min: 0 is not in [1, +inf) (boosting rounds)"
    ]


def test_the_static_hyperparameters_are_checked_with_the_ranges() -> None:
    static = {"num_round": "5", "objective": "multi:softmax", "num_class": "1"}
    problems = problems_of(section(objective_metric="validation:mlogloss"), static)
    # the static problem is reported once, as the static hyperparameters' (not again as the metric's)
    assert problems == ["hyperparameters: num_class: 1 is not in [2, +inf) (classes)"]


def test_a_multi_class_search_leaves_num_class_to_the_labels_as_a_run_does() -> None:
    """A multi: objective without num_class: a run infers num_class from the labels, and the search's check refused
    it ("objective multi:softprob requires num_class") before anything ran."""
    static = {"num_round": "5", "objective": "multi:softprob"}
    spec = validate_tuning(section(objective_metric="validation:mlogloss"), static, infer_num_class=True)  # the config's
    check_tuning(spec, {**static, "num_class": "3"})  # the request's, with the inferred num_class
    assert problems_of(section(objective_metric="validation:auc"), static, infer_num_class=True) == [
        "tuning.objective_metric: the container evaluates validation:auc as eval_metric (auc): eval_metric: 'auc' needs a "
        "binary: or rank: objective (got objective multi:softprob), the container only applies it to classification and "
        "ranking"
    ]


def test_untuned_values_are_the_baseline_of_the_search() -> None:
    spec = parse_tuning(section(ranges={"learning_rate": [0.1, 0.3], "alpha": [0, 1], "max_depth": [3, 12]}))
    assert untuned_values(DEFAULT_HYPERPARAMETERS, spec) == {"alpha": None, "learning_rate": "0.2", "max_depth": "5"}


# ----- the objective metric against the objective and eval_metric ---------------------------------------------


@pytest.mark.parametrize(
    ("metric", "static"),
    [
        ("validation:auc", BINARY),
        ("validation:rmse", {"num_round": "5"}),  # XGBoost's default objective, reg:squarederror
        ("validation:error", {"num_round": "5", "objective": "binary:logistic"}),
        ("validation:f1", {"num_round": "5", "objective": "binary:logistic", "eval_metric": "auc"}),
        ("validation:mlogloss", {"num_round": "5", "objective": "multi:softprob", "num_class": "3"}),
        ("validation:aft-nloglik", {"num_round": "5", "objective": "survival:aft"}),
    ],
)
def test_an_objective_metric_the_container_can_evaluate(metric: str, static: dict[str, str]) -> None:
    assert validate_tuning(section(objective_metric=metric), static).objective_metric == metric


@pytest.mark.parametrize(
    ("metric", "static", "problem"),
    [
        (
            "validation:auc",
            {"num_round": "5"},
            "tuning.objective_metric: the container evaluates validation:auc as eval_metric (auc), with XGBoost's default "
            "objective reg:squarederror (none is set): eval_metric: 'auc' needs a binary: or rank: objective",
        ),
        (
            "validation:auc",
            {"num_round": "5", "objective": "reg:squarederror", "eval_metric": "rmse"},
            "tuning.objective_metric: the container adds validation:auc to eval_metric rmse (auc,rmse): eval_metric: "
            "'auc' needs a binary: or rank: objective (got objective reg:squarederror)",
        ),
        ("validation:mlogloss", BINARY, "mlogloss needs a multi: objective (got objective binary:logistic)"),
        ("validation:aft-nloglik", BINARY, "'aft-nloglik' needs objective survival:aft"),
        ("validation:tweedie-nloglik", {"num_round": "5", "objective": "reg:tweedie"}, "'tweedie-nloglik' needs its power"),
    ],
)
def test_an_objective_metric_the_container_cannot_evaluate(metric: str, static: dict[str, str], problem: str) -> None:
    problems = problems_of(section(objective_metric=metric), static)
    assert len(problems) == 1 and problems[0].startswith("tuning.objective_metric: ") and problem in problems[0], problems


# ----- Hyperband's rounds -------------------------------------------------------------------------------------


def test_hyperbands_resource_is_the_static_num_round() -> None:
    raw = section(strategy="Hyperband", hyperband={"min_resource": 10})
    spec = validate_tuning(raw, BINARY)
    config = tuning_job_config(spec, BINARY)
    assert config["StrategyConfig"] == {"HyperbandStrategyConfig": {"MinResource": 10, "MaxResource": 50}}
    assert problems_of(raw, {**BINARY, "num_round": "9"}) == ["tuning.hyperband.min_resource: 10 is more than num_round (9)"]
    assert problems_of(raw, {**BINARY, "num_round": "20001"}) == [
        "hyperparameters.num_round: 20001 rounds, but Hyperband's MaxResource (num_round) is at most 20000"
    ]
    assert problems_of(section(strategy="Hyperband", ranges={"num_round": [10, 20]}), {"objective": "binary:logistic"}) == [
        "tuning.ranges.num_round: Hyperband gives each training job its rounds itself (its MaxResource is num_round): "
        "set num_round as a static hyperparameter"
    ]
    with pytest.raises(ValueError, match="MaxResource is num_round"):
        tuning_job_config(spec, {"objective": "binary:logistic"})


# ----- helpers ------------------------------------------------------------------------------------------------


def test_the_combinations_of_a_grid() -> None:
    spec = parse_tuning(section(strategy="Grid", max_trials=None, ranges={"max_depth": [7, 3], "eta": [0.3, 0.1]}))
    assert grid_trials(spec) == [
        {"eta": "0.1", "max_depth": "3"},
        {"eta": "0.1", "max_depth": "7"},
        {"eta": "0.3", "max_depth": "3"},
        {"eta": "0.3", "max_depth": "7"},
    ]
    assert len(grid_trials(spec)) == spec.max_trials
    with pytest.raises(ValueError, match="numeric range"):
        grid_trials(parse_tuning(section(ranges={"eta": {"min": 0.1, "max": 0.3}})))


def test_kinds_values_and_recommended_ranges_of_the_tunable_hyperparameters() -> None:
    assert {name: range_kind(name) for name in ("num_round", "max_depth", "eta", "reg_lambda")} == {
        "num_round": "Integer",
        "max_depth": "Integer",
        "eta": "Continuous",
        "reg_lambda": "Continuous",
    }
    assert (typed_value("max_depth", "7"), typed_value("learning_rate", "0.25")) == (7, 0.25)
    assert recommended_range("eta") == NumericRange(min="0.1", max="0.5", scaling="Linear")
    assert recommended_range("num_round") == NumericRange(min="1", max="4000", scaling="Linear")
    for name in TUNABLE:  # every recommended range is itself a valid range of the container
        found = recommended_range(name)
        assert parse_tuning(section(ranges={name: found.model_dump()})).ranges[name] == found
    with pytest.raises(KeyError):
        range_kind("booster")


# ----- the request --------------------------------------------------------------------------------------------


def _shape(name: str) -> Shape:
    operation = get_session().get_service_model("sagemaker").operation_model("CreateHyperParameterTuningJob")
    return operation.input_shape.members[name]


SEARCHES = {
    "bayesian": section(
        max_parallel_trials=3,
        early_stopping="Auto",
        seed=11,
        ranges={
            "learning_rate": {"min": 0.01, "max": 0.5, "scaling": "Logarithmic"},
            "max_depth": {"min": 2, "max": 10},
            "subsample": [0.6, 0.8, 1],
            "colsample_bytree": {"min": 0.1, "max": 0.9, "scaling": "ReverseLogarithmic"},
        },
    ),
    "random": section(strategy="Random", max_trials=10_000, max_parallel_trials=100, ranges={"alpha": {"min": 0, "max": 1000}}),
    "grid": section(strategy="Grid", max_trials=None, ranges={"max_depth": list(range(1, 31)), "num_round": list(range(1, 26))}),
    "hyperband": section(strategy="Hyperband", hyperband={"min_resource": 5}, warm_start={"parents": ["0123456789abcdef"]}),
    "warm": section(warm_start={"parents": [f"bank-tuning-{n}" for n in range(5)], "type": "TransferLearning"}),
}


@pytest.mark.parametrize("name", SEARCHES)
def test_the_tuning_job_config_is_a_valid_request(name: str) -> None:
    static = without_tuned(BINARY, parse_tuning(SEARCHES[name]))
    spec = validate_tuning(SEARCHES[name], static)
    config = tuning_job_config(spec, static)
    validate_parameters(config, _shape("HyperParameterTuningJobConfig"))
    assert service_problems(config, _shape("HyperParameterTuningJobConfig")) == []
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert config["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": spec.max_trials,
        "MaxParallelTrainingJobs": spec.max_parallel_trials,
    }
    warm = warm_start_config(spec)
    if spec.warm_start is None:
        assert warm is None
    else:
        assert warm is not None
        validate_parameters(warm, _shape("WarmStartConfig"))
        assert service_problems(warm, _shape("WarmStartConfig")) == []
        assert [p["HyperParameterTuningJobName"] for p in warm["ParentHyperParameterTuningJobs"]] == list(spec.warm_start.parents)


def test_the_service_models_rules_catch_what_the_spec_would_break() -> None:
    """The field-by-field check is not vacuous: a request past the service's limits fails it."""
    config = tuning_job_config(validate_tuning(SEARCHES["bayesian"], BINARY), BINARY)
    config["ParameterRanges"]["CategoricalParameterRanges"][0]["Values"] = [str(n) for n in range(31)]
    config["TrainingJobEarlyStoppingType"] = "Sometimes"
    config["RandomSeed"] = -1
    problems = service_problems(config, _shape("HyperParameterTuningJobConfig"))
    assert len(problems) == 3, problems


def test_the_ranges_of_the_request() -> None:
    spec = validate_tuning(SEARCHES["bayesian"], BINARY)
    assert parameter_ranges(spec) == {
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "10", "ScalingType": "Auto"}],
        "ContinuousParameterRanges": [
            {"Name": "colsample_bytree", "MinValue": "0.1", "MaxValue": "0.9", "ScalingType": "ReverseLogarithmic"},
            # the container's name: the service knows the hyperparameters by the algorithm's metadata, without aliases
            {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
        ],
        "CategoricalParameterRanges": [{"Name": "subsample", "Values": ["0.6", "0.8", "1"]}],
    }
    config = tuning_job_config(spec, BINARY)
    assert (config["Strategy"], config["TrainingJobEarlyStoppingType"], config["RandomSeed"]) == ("Bayesian", "Auto", 11)
    assert "StrategyConfig" not in config
