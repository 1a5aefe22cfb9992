"""The tuning section on its own: its JSON shape, its canonical form, and each rule of the container and of
SageMaker's tuning that one section must keep (a good and a bad case each).  The checks that need the static
hyperparameters, and the request built from a specification, are in ``test_tuning.py``."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from model_training.algorithm.hyperparameter_rules import MAXIMIZE_METRICS, MINIMIZE_METRICS
from model_training.algorithm.tuning import (
    CategoricalRange,
    NumericRange,
    TuningSpec,
    bound_problem,
    objective_direction,
    parse_tuning,
)
from model_training.errors import ConfigurationError, HyperparameterError


def section(**settings: object) -> dict[str, object]:
    """A valid Bayesian search of eta, changed by ``settings`` (``None`` removes a setting)."""
    base: dict[str, object] = {
        "objective_metric": "validation:auc",
        "max_trials": 10,
        "ranges": {"eta": {"min": 0.1, "max": 0.5}},
    }
    base.update(settings)
    return {key: value for key, value in base.items() if value is not None}


def problems_of(raw: object, version: str = "3.0-5") -> list[str]:
    with pytest.raises(HyperparameterError) as caught:
        parse_tuning(raw, version)
    return caught.value.problems


def one_problem(raw: object) -> str:
    found = problems_of(raw)
    assert len(found) == 1, found
    return found[0]


# ----- shape and canonical form -------------------------------------------------------------------------------


def test_a_hand_written_section_becomes_its_canonical_form() -> None:
    spec = parse_tuning(
        {
            "objective_metric": "validation:auc",
            "strategy": "random",
            "max_trials": 20,
            "max_parallel_trials": 2,
            "early_stopping": "AUTO",
            "ranges": {
                "max_depth": {"min": "3", "max": 10},
                "learning_rate": {"min": 0.010, "max": "0.50", "scaling": "logarithmic"},
                "subsample": [1, "0.60", 0.8],
            },
            "warm_start": {"parents": ["0123456789abcdef"], "type": "transferlearning"},
            "seed": 7,
        }
    )
    assert spec.model_dump(mode="json") == {
        "objective_metric": "validation:auc",
        "strategy": "Random",
        "max_trials": 20,
        "max_parallel_trials": 2,
        "early_stopping": "Auto",
        "ranges": {
            "learning_rate": {"min": "0.01", "max": "0.5", "scaling": "Logarithmic"},
            "max_depth": {"min": "3", "max": "10", "scaling": "Auto"},
            "subsample": {"values": ["0.6", "0.8", "1"]},
        },
        "hyperband": None,
        "warm_start": {"parents": ["0123456789abcdef"], "type": "TransferLearning"},
        "seed": 7,
    }
    assert list(spec.ranges) == ["learning_rate", "max_depth", "subsample"]  # sorted, the alias kept
    assert spec.direction == "Maximize"


def test_the_defaults_are_filled_in() -> None:
    spec = parse_tuning(section())
    assert (spec.strategy, spec.max_parallel_trials, spec.early_stopping) == ("Bayesian", 1, "Off")
    assert (spec.hyperband, spec.warm_start, spec.seed) == (None, None, None)
    assert spec.ranges["eta"] == NumericRange(min="0.1", max="0.5", scaling="Auto")
    assert parse_tuning(section(seed=None, strategy=None, warm_start=None)) == spec  # null is left out


def test_one_search_written_two_ways_is_one_specification() -> None:
    first = parse_tuning(section(ranges={"eta": {"min": "0.10", "max": 0.5}, "max_depth": [7, 3, 5]}))
    second = parse_tuning(section(ranges={"max_depth": {"values": ["3", "5", 7]}, "eta": {"max": "5e-1", "min": 0.1}}))
    assert first == second
    assert json.dumps(first.model_dump(mode="json")) == json.dumps(second.model_dump(mode="json"))


def test_reading_a_specifications_dump_gives_it_back() -> None:
    spec = parse_tuning(section(strategy="Hyperband", hyperband={"min_resource": 5}, warm_start={"parents": ["a-1"]}, seed=1))
    assert parse_tuning(spec.model_dump()) == spec
    assert parse_tuning(json.loads(spec.model_dump_json())) == spec


def test_the_model_is_frozen_and_refuses_unknown_fields() -> None:
    spec = parse_tuning(section())
    with pytest.raises(ValidationError):
        spec.max_trials = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        TuningSpec.model_validate({**spec.model_dump(), "direction": "Maximize"})
    assert TuningSpec.model_validate(spec.model_dump()) == spec


def test_every_problem_is_reported_at_once_each_with_its_key_path() -> None:
    found = problems_of(
        {
            "objective_metric": "validation:auk",
            "strategy": "Annealing",
            "max_trials": 0,
            "ranges": {"eta": {"min": 2, "max": 0.5}, "booster": ["gbtree"], "max_depth": {"min": 1}},
            "seed": "x",
        }
    )
    assert [problem.split(":")[0] for problem in found] == [
        "tuning.objective_metric",
        "tuning.strategy",
        "tuning.ranges.booster",
        "tuning.ranges.eta.min",
        "tuning.ranges.max_depth.max",
        "tuning.max_trials",
        "tuning.seed",
    ]
    assert "'validation:auk' is not an objective metric of the container (did you mean 'validation:auc'?)" in found[0]


def test_the_section_path_is_the_callers() -> None:
    with pytest.raises(HyperparameterError) as caught:
        parse_tuning(section(max_trials=None), path="manifest.tuning")
    assert caught.value.problems == [
        "manifest.tuning.max_trials: required for a Bayesian search: the number of training jobs, 1 to 750"
    ]


@pytest.mark.parametrize("raw", [None, [], "validation:auc", 3])
def test_a_section_that_is_not_an_object(raw: object) -> None:
    assert one_problem(raw).startswith("tuning: ")


def test_an_unknown_setting_is_named_with_the_nearest_one() -> None:
    assert one_problem(section(max_trial=5)) == "tuning.max_trial: unknown setting (did you mean 'max_trials'?)"


def test_an_unsupported_version_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"legacy 0\.72"):
        parse_tuning(section(), "latest")


# ----- the objective metric -----------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", [f"validation:{m}" for m in (*MAXIMIZE_METRICS, *MINIMIZE_METRICS)])
def test_every_metric_of_the_container_is_an_objective_with_its_direction(metric: str) -> None:
    spec = parse_tuning(section(objective_metric=metric))
    assert spec.direction == ("Maximize" if metric.partition(":")[2] in MAXIMIZE_METRICS else "Minimize")
    assert objective_direction(metric) == spec.direction


@pytest.mark.parametrize(
    ("metric", "problem"),
    [
        (None, "tuning.objective_metric: required"),
        ("auc", "(did you mean 'validation:auc'?)"),
        ("train:rmse", "(did you mean 'validation:rmse'?"),
        ("validation:error@0.3", "is not an objective metric"),
        ("validation:AUC", "is not an objective metric"),
        (["validation:auc"], "is not an objective metric"),
    ],
)
def test_an_objective_metric_the_container_does_not_have(metric: object, problem: str) -> None:
    assert problem in one_problem(section(objective_metric=metric))


@pytest.mark.parametrize("key", ["direction", "objective_type", "type"])
def test_the_direction_is_the_containers_not_the_users(key: str) -> None:
    assert one_problem(section(**{key: "Minimize"})).startswith(f"tuning.{key}: the direction is the container's own")
    with pytest.raises(ValueError, match="not an objective metric"):
        objective_direction("validation:nonsense")


# ----- which hyperparameters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ranges", [None, {}, [], {"eta": None}])
def test_a_search_needs_a_range(ranges: object) -> None:
    assert one_problem(section(ranges=ranges)).startswith("tuning.ranges")


@pytest.mark.parametrize("name", ["booster", "tree_method", "objective", "num_class", "scale_pos_weight"])
def test_only_the_containers_tunable_hyperparameters_take_a_range(name: str) -> None:
    problem = one_problem(section(ranges={name: ["1"]}))
    assert problem.startswith(f"tuning.ranges.{name}: {name} is not tunable: the container marks only num_round, eta")


def test_an_unknown_hyperparameter_is_named_with_the_nearest_tunable_one() -> None:
    assert (
        one_problem(section(ranges={"max_dept": [3]}))
        == "tuning.ranges.max_dept: unknown hyperparameter (did you mean 'max_depth'?)"
    )


def test_an_alias_is_kept_and_a_name_with_its_alias_is_refused() -> None:
    assert list(parse_tuning(section(ranges={"reg_alpha": [0, 1]})).ranges) == ["reg_alpha"]
    problem = one_problem(section(ranges={"eta": [0.1, 0.2], "learning_rate": [0.3]}))
    assert problem == "tuning.ranges.learning_rate: eta and learning_rate are the same hyperparameter (eta): give one"


# ----- bounds and values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [("eta", 0), ("eta", "1"), ("subsample", 1), ("gamma", 1e300), ("max_depth", 0), ("num_round", 2**31 - 1)],
)
def test_a_bound_the_container_accepts(name: str, value: object) -> None:
    assert bound_problem(name, value) is None


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("eta", 1.5, "1.5 is not in [0, 1]"),
        ("subsample", 0, "0 is not in (0, 1]"),
        ("gamma", -1, "-1 is not in [0, +inf)"),
        ("num_round", 0, "0 is not in [1, +inf) (boosting rounds)"),
        ("max_depth", 2.5, "2.5 is not an integer"),
        ("max_depth", "5.0", "is not an integer"),
        ("eta", "fast", "'fast' is not a number"),
        ("eta", True, "is a boolean"),
        ("gamma", "nan", "nan is not a finite number"),
        ("gamma", "inf", "inf is not a finite number"),
        ("num_round", 2**31, "2147483648 is above 2147483647, the largest value the container's metadata declares"),
    ],
)
def test_a_bound_the_container_or_its_metadata_refuses(name: str, value: object, problem: str) -> None:
    found = bound_problem(name, value)
    assert found is not None and problem in found, found
    assert one_problem(section(ranges={name: [value]})) == f"tuning.ranges.{name}[0]: {found}"


def test_bound_problem_is_for_tunable_hyperparameters() -> None:
    assert bound_problem("learning_rate", 0.3) is None
    with pytest.raises(KeyError):
        bound_problem("booster", "gbtree")


def test_integer_or_continuous_is_the_containers_type() -> None:
    spec = parse_tuning(section(ranges={"max_depth": {"min": 3, "max": 10}, "gamma": {"min": 3, "max": 10}}))
    assert spec.ranges["max_depth"] == NumericRange(min="3", max="10")
    assert spec.ranges["gamma"] == NumericRange(min="3", max="10")
    assert "tuning.ranges.max_depth.min: 3.5 is not an integer" in one_problem(
        section(ranges={"max_depth": {"min": 3.5, "max": 9}})
    )


@pytest.mark.parametrize(("low", "high"), [(0.5, 0.5), (0.5, 0.1)])
def test_min_must_be_below_max(low: float, high: float) -> None:
    problem = one_problem(section(ranges={"eta": {"min": low, "max": high}}))
    assert problem.startswith(f"tuning.ranges.eta: min {low} is not below max {high}")


@pytest.mark.parametrize("missing", ["min", "max"])
def test_a_numeric_range_needs_both_bounds(missing: str) -> None:
    body = {"min": 0.1, "max": 0.5}
    del body[missing]
    assert one_problem(section(ranges={"eta": body})) == f"tuning.ranges.eta.{missing}: missing"


def test_a_range_is_bounds_or_values_and_nothing_else() -> None:
    assert one_problem(section(ranges={"eta": {"min": 0.1, "max": 0.5, "values": [0.2]}})) == (
        "tuning.ranges.eta: give either min and max (and scaling) or values, not both"
    )
    assert one_problem(section(ranges={"eta": {"min": 0.1, "max": 0.5, "step": 0.1}})).startswith(
        "tuning.ranges.eta.step: unknown"
    )
    assert one_problem(section(ranges={"eta": 0.3})).startswith("tuning.ranges.eta: 0.3 is not a range")


# ----- scaling ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scaling", ["Auto", "Linear", "Logarithmic", "linear"])
def test_a_scaling_type_of_the_service(scaling: str) -> None:
    found = parse_tuning(section(ranges={"eta": {"min": 0.01, "max": 0.5, "scaling": scaling}})).ranges["eta"]
    assert isinstance(found, NumericRange) and found.scaling == scaling.capitalize()


def test_an_unknown_scaling_type() -> None:
    problem = one_problem(section(ranges={"eta": {"min": 0.01, "max": 0.5, "scaling": "Log"}}))
    assert problem == "tuning.ranges.eta.scaling: 'Log' is not one of Auto, Linear, Logarithmic, ReverseLogarithmic"


def test_logarithmic_scaling_needs_a_positive_min() -> None:
    assert parse_tuning(section(ranges={"max_depth": {"min": 1, "max": 10, "scaling": "Logarithmic"}}))
    problem = one_problem(section(ranges={"max_depth": {"min": 0, "max": 10, "scaling": "Logarithmic"}}))
    assert problem == "tuning.ranges.max_depth.scaling: Logarithmic scaling needs min > 0 (got 0)"


def test_reverse_logarithmic_scaling_is_for_continuous_ranges_within_0_and_1() -> None:
    assert parse_tuning(section(ranges={"eta": {"min": 0, "max": 0.99, "scaling": "ReverseLogarithmic"}}))
    problem = one_problem(section(ranges={"subsample": {"min": 0.5, "max": 1, "scaling": "ReverseLogarithmic"}}))
    assert problem == "tuning.ranges.subsample.scaling: ReverseLogarithmic scaling needs 0 <= min < max < 1 (got [0.5, 1])"
    problem = one_problem(section(ranges={"max_depth": {"min": 0, "max": 1, "scaling": "ReverseLogarithmic"}}))
    assert (
        problem == "tuning.ranges.max_depth.scaling: ReverseLogarithmic scaling is for continuous ranges; max_depth is an integer"
    )


# ----- categorical ranges -------------------------------------------------------------------------------------


def test_categorical_values_are_checked_sorted_and_distinct() -> None:
    found = parse_tuning(section(ranges={"max_depth": {"values": [10, 2, "7"]}})).ranges["max_depth"]
    assert found == CategoricalRange(values=("2", "7", "10"))  # by value, not by text
    assert one_problem(section(ranges={"eta": [0.5, "0.50"]})) == "tuning.ranges.eta[1]: 0.5 is given twice"
    assert one_problem(section(ranges={"eta": {"values": [0.5, 2]}})).startswith(
        "tuning.ranges.eta.values[1]: 2 is not in [0, 1]"
    )


@pytest.mark.parametrize("values", [[], list(range(1, 32)), "3,5"])
def test_a_categorical_range_has_1_to_30_values(values: object) -> None:
    assert one_problem(section(ranges={"max_depth": {"values": values}})).startswith(
        "tuning.ranges.max_depth.values: give 1 to 30 values as a list"
    )
    assert parse_tuning(section(ranges={"max_depth": list(range(1, 31))}))


# ----- strategy and trials ------------------------------------------------------------------------------------


def test_a_strategy_of_the_service() -> None:
    assert parse_tuning(section(strategy="RANDOM")).strategy == "Random"
    assert (
        one_problem(section(strategy="Annealing"))
        == "tuning.strategy: 'Annealing' is not one of Bayesian, Random, Hyperband, Grid"
    )


@pytest.mark.parametrize(("strategy", "limit"), [("Bayesian", 750), ("Random", 10_000), ("Hyperband", 750)])
def test_max_trials_within_the_strategys_limit(strategy: str, limit: int) -> None:
    assert parse_tuning(section(strategy=strategy, max_trials=limit)).max_trials == limit
    assert (
        one_problem(section(strategy=strategy, max_trials=limit + 1)) == f"tuning.max_trials: {limit + 1} is not in [1, {limit}]"
    )


@pytest.mark.parametrize(
    ("trials", "problem"), [(0, "0 is not in [1, 750]"), (True, "True is not an integer"), (20.0, "write 20")]
)
def test_max_trials_is_a_positive_integer(trials: object, problem: str) -> None:
    assert problem in one_problem(section(max_trials=trials))


def test_max_parallel_trials_is_1_to_max_trials_and_100() -> None:
    assert parse_tuning(section(max_trials=10, max_parallel_trials=10)).max_parallel_trials == 10
    assert (
        one_problem(section(max_trials=10, max_parallel_trials=11))
        == "tuning.max_parallel_trials: 11 is more than max_trials (10)"
    )
    assert one_problem(section(strategy="Random", max_trials=500, max_parallel_trials=101)) == (
        "tuning.max_parallel_trials: 101 is not in [1, 100]"
    )


def test_grid_runs_each_combination_of_categorical_ranges_once() -> None:
    grid = section(strategy="Grid", max_trials=None, ranges={"max_depth": [3, 5, 7], "eta": [0.1, 0.3]})
    assert parse_tuning(grid).max_trials == 6
    assert parse_tuning({**grid, "max_trials": 6}).max_trials == 6
    assert one_problem({**grid, "max_trials": 5}) == (
        "tuning.max_trials: a Grid search runs each of its 6 combinations once, not 5: leave max_trials out"
    )


def test_grid_searches_categorical_ranges_only() -> None:
    problem = one_problem(section(strategy="Grid", max_trials=None, ranges={"eta": {"min": 0.1, "max": 0.3}, "max_depth": [3]}))
    assert problem == "tuning.ranges.eta: Grid searches categorical ranges only: give its values, e.g. [1, 2, 3]"


def test_grid_runs_750_training_jobs_at_most() -> None:
    grid = {"max_depth": list(range(1, 31)), "num_round": list(range(1, 26))}
    assert parse_tuning(section(strategy="Grid", max_trials=None, ranges=grid)).max_trials == 750
    grid["num_round"] = list(range(1, 27))
    assert one_problem(section(strategy="Grid", max_trials=None, ranges=grid)) == (
        "tuning.ranges: 780 combinations, but Grid runs 750 training jobs at most"
    )


# ----- Hyperband, early stopping, warm start, seed ------------------------------------------------------------


def test_hyperband_stops_jobs_itself() -> None:
    spec = parse_tuning(section(strategy="Hyperband"))
    assert (spec.early_stopping, spec.hyperband and spec.hyperband.min_resource) == ("Off", 1)
    assert parse_tuning(section(strategy="Hyperband", early_stopping="Off")) == spec
    assert one_problem(section(strategy="Hyperband", early_stopping="Auto")) == (
        "tuning.early_stopping: Hyperband stops training jobs itself: early_stopping must be Off"
    )
    assert parse_tuning(section(early_stopping="Auto")).early_stopping == "Auto"


def test_hyperband_settings() -> None:
    spec = parse_tuning(section(strategy="Hyperband", hyperband={"min_resource": 20}))
    assert spec.hyperband is not None and spec.hyperband.min_resource == 20
    assert one_problem(section(strategy="Hyperband", hyperband={"min_resource": 0})) == (
        "tuning.hyperband.min_resource: 0 is not in [1, 20000]"
    )
    assert "Hyperband's maximum is num_round" in one_problem(section(strategy="Hyperband", hyperband={"max_resource": 9}))
    assert one_problem(section(hyperband={"min_resource": 2})) == (
        "tuning.hyperband: settings of the Hyperband strategy, but the strategy is Bayesian"
    )


def test_warm_start_from_one_to_five_parents() -> None:
    spec = parse_tuning(section(warm_start={"parents": ["0123456789abcdef", "bank-tuning-2"]}))
    assert spec.warm_start is not None and spec.warm_start.type == "IdenticalDataAndAlgorithm"
    for parents in ([], [f"job{n}" for n in range(6)], "job1"):
        assert one_problem(section(warm_start={"parents": parents})).startswith("tuning.warm_start.parents: give 1 to 5")
    assert one_problem(section(warm_start={"parents": ["a", "a"]})) == "tuning.warm_start.parents: a parent is listed twice"


@pytest.mark.parametrize("name", ["-job", "job_1", "a" * 33, "", "job-"])
def test_a_parent_is_named_as_the_service_names_tuning_jobs(name: str) -> None:
    assert one_problem(section(warm_start={"parents": [name]})).startswith("tuning.warm_start.parents[0]: ")


def test_a_warm_start_type_of_the_service() -> None:
    assert one_problem(section(warm_start={"parents": ["a"], "type": "Identical"})) == (
        "tuning.warm_start.type: 'Identical' is not one of IdenticalDataAndAlgorithm, TransferLearning"
    )


@pytest.mark.parametrize(("seed", "ok"), [(0, True), (2**31 - 1, True), (-1, False), (2**31, False), ("1", False)])
def test_the_seed_is_a_32_bit_integer_of_at_least_0(seed: object, ok: bool) -> None:
    if ok:
        assert parse_tuning(section(seed=seed)).seed == seed
    else:
        assert one_problem(section(seed=seed)).startswith("tuning.seed: ")
