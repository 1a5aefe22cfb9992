"""Tests of the SageMaker XGBoost container's hyperparameter rules (model_training.algorithm.hyperparameters)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

import pytest

from model_training.algorithm import hyperparameter_rules as rules
from model_training.algorithm import hyperparameters as hp
from model_training.algorithm.hyperparameters import (
    ALIASES,
    CONTAINER_METRICS,
    CONTAINER_ONLY,
    MAX_PROBLEMS,
    ParsedHyperparameters,
    canonical_hyperparameters,
    parse_hyperparameters,
)
from model_training.algorithm.images import DEFAULT_IMAGE_VERSION, IMAGE_VERSIONS
from model_training.errors import ConfigurationError, HyperparameterError

# The original stage's fixed hyperparameters (without its `silent=0`, which 1.2-1+ refuses), plus eval metrics.
ORIGINAL = {
    "max_depth": 5,
    "eta": 0.2,
    "gamma": 4,
    "min_child_weight": 6,
    "subsample": 0.8,
    "objective": "binary:logistic",
    "num_round": 100,
    "eval_metric": "auc,logloss",
}

Validator = Callable[..., object]


@pytest.fixture(params=["canonical", "parse"])
def validate(request: pytest.FixtureRequest) -> Validator:
    """Both public functions: they must apply the same rules to string values."""
    return canonical_hyperparameters if request.param == "canonical" else parse_hyperparameters


def problems_of(validator: Validator, raw: Mapping[str, object], version: str = DEFAULT_IMAGE_VERSION) -> list[str]:
    with pytest.raises(HyperparameterError) as caught:
        validator(raw, version)
    assert caught.value.problems, "a HyperparameterError must list its problems"
    return caught.value.problems


def with_round(**values: str) -> dict[str, str]:
    return {"num_round": "10", **values}


def accepted(validator: Validator, raw: Mapping[str, str], version: str = DEFAULT_IMAGE_VERSION) -> ParsedHyperparameters:
    """What the container holds of ``raw``, which ``validator`` must accept (a refusal raises HyperparameterError).

    ``canonical_hyperparameters`` must return every name given, in the given order, as strings that are their own
    canonical form and that the container accepts (they are parsed for the result); ``parse_hyperparameters``
    must type every name given, under its canonical name, and ``num_round`` as the integer given.
    """
    out = validator(raw, version)
    if validator is canonical_hyperparameters:
        assert isinstance(out, dict) and list(out) == list(raw), out
        assert canonical_hyperparameters(out, version) == out
        out = parse_hyperparameters(out, version)
    assert isinstance(out, ParsedHyperparameters)
    assert set(out.validated) == {ALIASES.get(name, name) for name in raw}
    assert out.num_round == int(raw["num_round"])
    return out


# ----- the original stage --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", IMAGE_VERSIONS)
def test_original_defaults_canonical_strings(version: str) -> None:
    assert canonical_hyperparameters(ORIGINAL, version) == {
        "max_depth": "5",
        "eta": "0.2",
        "gamma": "4",
        "min_child_weight": "6",
        "subsample": "0.8",
        "objective": "binary:logistic",
        "num_round": "100",
        "eval_metric": "auc,logloss",
    }


@pytest.mark.parametrize("version", IMAGE_VERSIONS)
def test_original_defaults_parse_to_typed_params(version: str) -> None:
    parsed = parse_hyperparameters(canonical_hyperparameters(ORIGINAL, version), version)
    assert parsed == ParsedHyperparameters(
        num_round=100,
        objective="binary:logistic",
        eval_metrics=["auc", "logloss"],
        num_class=None,
        early_stopping_rounds=None,
        csv_weights=False,
        params={
            "max_depth": 5,
            "eta": 0.2,
            "gamma": 4.0,
            "min_child_weight": 6.0,
            "subsample": 0.8,
            "objective": "binary:logistic",
            "eval_metric": ["auc", "logloss"],
        },
    )
    assert type(parsed.params["max_depth"]) is int
    assert type(parsed.params["gamma"]) is float


def test_original_stage_silent_is_refused_with_verbosity_hint(validate: Validator) -> None:
    raw = {key: str(value) for key, value in ORIGINAL.items()} | {"silent": "0"}
    (problem,) = problems_of(validate, raw)
    assert "silent" in problem
    assert "verbosity" in problem
    assert "0" in problem
    assert "3" in problem


# ----- ranges and allowed values, one rule per row ------------------------------------------------------------

MULTI = {"objective": "multi:softmax", "num_class": "3"}

# (name, value, extra hyperparameters needed for the value to be valid)
VALID: list[tuple[str, str, dict[str, str]]] = [
    ("num_round", "1", {}),
    ("num_round", "4000", {}),
    ("csv_weights", "0", {}),
    ("csv_weights", "1", {}),
    ("early_stopping_rounds", "1", {}),
    ("early_stopping_rounds", "50", {}),
    ("booster", "gbtree", {}),
    ("booster", "gblinear", {}),
    ("booster", "dart", {}),
    ("verbosity", "0", {}),
    ("verbosity", "3", {}),
    ("nthread", "1", {}),
    ("eta", "0", {}),
    ("eta", "1", {}),
    ("eta", "0.3", {}),
    ("learning_rate", "0.3", {}),
    ("gamma", "0", {}),
    ("gamma", "4", {}),
    ("min_split_loss", "4", {}),
    ("max_depth", "0", {}),
    ("max_depth", "10", {}),
    ("min_child_weight", "0", {}),
    ("min_child_weight", "6", {}),
    ("max_delta_step", "0", {}),
    ("max_delta_step", "10", {}),
    ("subsample", "1", {}),
    ("subsample", "0.01", {}),
    ("colsample_bytree", "1", {}),
    ("colsample_bytree", "0.5", {}),
    ("colsample_bylevel", "0.1", {}),
    ("colsample_bynode", "1", {}),
    ("lambda", "0", {}),
    ("lambda", "1000", {}),
    ("reg_lambda", "1", {}),
    ("alpha", "0", {}),
    ("reg_alpha", "0.5", {}),
    ("tree_method", "auto", {}),
    ("tree_method", "exact", {}),
    ("tree_method", "approx", {}),
    ("tree_method", "hist", {}),
    ("tree_method", "gpu_hist", {}),
    ("sketch_eps", "0.03", {}),
    ("scale_pos_weight", "0.001", {}),
    ("scale_pos_weight", "25", {}),
    ("dsplit", "row", {}),
    ("dsplit", "col", {}),
    ("refresh_leaf", "0", {}),
    ("refresh_leaf", "1", {}),
    ("process_type", "default", {}),
    ("process_type", "update", {}),
    ("grow_policy", "depthwise", {}),
    ("grow_policy", "lossguide", {}),
    ("max_leaves", "0", {}),
    ("max_bin", "256", {}),
    ("predictor", "auto", {}),
    ("predictor", "cpu_predictor", {}),
    ("predictor", "gpu_predictor", {}),
    ("sample_type", "uniform", {}),
    ("sample_type", "weighted", {}),
    ("normalize_type", "tree", {}),
    ("normalize_type", "forest", {}),
    ("rate_drop", "0", {}),
    ("rate_drop", "1", {}),
    ("one_drop", "1", {}),
    ("skip_drop", "0.5", {}),
    ("lambda_bias", "1", {}),
    ("tweedie_variance_power", "1.5", {}),
    ("objective", "binary:logistic", {}),
    ("objective", "reg:absoluteerror", {}),
    ("num_class", "2", {"objective": "multi:softprob"}),
    ("num_class", "10", {"objective": "multi:softmax"}),
    ("base_score", "0", {}),
    ("base_score", "100", {"objective": "reg:squarederror"}),
    ("_kfold", "2", {}),
    ("eval_metric", "rmse", {"objective": "reg:squarederror"}),
    ("eval_metric", "auc", {"objective": "binary:logistic"}),
    ("_num_cv_round", "1", {}),
    ("_tuning_objective_metric", "validation:auc", {}),
    ("_tuning_objective_metric", "validation:rmse", {}),
    ("seed", "0", {}),
    ("seed", "-2147483647", {}),
    ("seed", "2147483646", {}),
    ("num_parallel_tree", "1", {}),
    ("save_model_on_termination", "true", {}),
    ("save_model_on_termination", "false", {}),
    ("aft_loss_distribution", "normal", {}),
    ("aft_loss_distribution", "logistic", {}),
    ("aft_loss_distribution", "extreme", {}),
    ("aft_loss_distribution_scale", "0", {}),
    ("aft_loss_distribution_scale", "1.2", {}),
    ("deterministic_histogram", "false", {}),
    ("sampling_method", "uniform", {}),
    ("sampling_method", "gradient_based", {}),
    ("prob_buffer_row", "2", {}),
    ("use_dask_gpu_training", "true", {}),
    ("use_dask_gpu_training", "false", {}),
    ("monotone_constraints", "(1,-1,0)", {"tree_method": "hist"}),
    ("monotone_constraints", "(1, 0)", {"tree_method": "exact"}),
    ("interaction_constraints", "[]", {"tree_method": "hist"}),
    ("interaction_constraints", "[[]]", {"tree_method": "approx"}),
    ("interaction_constraints", "[]", {"tree_method": "exact"}),
    ("updater", "grow_colmaker,prune", {}),
    ("updater", "grow_histmaker", {}),
    ("updater", "shotgun", {"booster": "gblinear"}),
    ("updater", "coord_descent", {"booster": "gblinear"}),
    ("updater", "refresh,prune", {"process_type": "update"}),
]

# (name, value, extra hyperparameters, fragment the problem must contain)
INVALID: list[tuple[str, str, dict[str, str], str]] = [
    ("num_round", "0", {}, "not in [1, +inf)"),
    ("num_round", "-3", {}, "not in [1, +inf)"),
    ("num_round", "10.5", {}, "not an integer"),
    ("num_round", "ten", {}, "not an integer"),
    ("csv_weights", "2", {}, "not in [0, 1]"),
    ("csv_weights", "-1", {}, "not in [0, 1]"),
    ("early_stopping_rounds", "0", {}, "not in [1, +inf)"),
    ("booster", "gbtre", {}, "did you mean 'gbtree'"),
    ("booster", "GBTREE", {}, "is not one of"),
    ("verbosity", "4", {}, "not in [0, 3]"),
    ("verbosity", "-1", {}, "not in [0, 3]"),
    ("nthread", "0", {}, "not in [1, +inf)"),
    ("eta", "1.01", {}, "not in [0, 1]"),
    ("eta", "-0.1", {}, "not in [0, 1]"),
    ("eta", "fast", {}, "not a number"),
    ("learning_rate", "2", {}, "learning_rate (alias of eta): 2 is not in [0, 1]"),
    ("gamma", "-1", {}, "not in [0, +inf)"),
    ("min_split_loss", "-1", {}, "min_split_loss (alias of gamma)"),
    ("max_depth", "-1", {}, "not in [0, +inf)"),
    ("max_depth", "5.0", {}, "not an integer"),
    ("min_child_weight", "-0.5", {}, "not in [0, +inf)"),
    ("max_delta_step", "-1", {}, "not in [0, +inf)"),
    ("subsample", "0", {}, "not in (0, 1]"),
    ("subsample", "1.5", {}, "not in (0, 1]"),
    ("colsample_bytree", "0", {}, "not in (0, 1]"),
    ("colsample_bylevel", "1.1", {}, "not in (0, 1]"),
    ("colsample_bynode", "-0.2", {}, "not in (0, 1]"),
    ("lambda", "-1", {}, "not in [0, +inf)"),
    ("reg_lambda", "-1", {}, "reg_lambda (alias of lambda)"),
    ("alpha", "-0.1", {}, "not in [0, +inf)"),
    ("reg_alpha", "-0.1", {}, "reg_alpha (alias of alpha)"),
    ("tree_method", "gpu", {}, "is not one of"),
    ("tree_method", "Hist", {}, "did you mean 'hist'"),
    ("sketch_eps", "0", {}, "not in (0, 1)"),
    ("sketch_eps", "1", {}, "not in (0, 1)"),
    ("scale_pos_weight", "0", {}, "not in (0, +inf)"),
    ("dsplit", "rows", {}, "did you mean 'row'"),
    ("refresh_leaf", "2", {}, "not in [0, 1]"),
    ("process_type", "updated", {}, "did you mean 'update'"),
    ("grow_policy", "lossguided", {}, "did you mean 'lossguide'"),
    ("max_leaves", "-1", {}, "not in [0, +inf)"),
    ("max_bin", "1", {}, "not in [2, +inf)"),
    ("predictor", "cpu", {}, "is not one of"),
    ("sample_type", "random", {}, "is not one of"),
    ("normalize_type", "trees", {}, "did you mean 'tree'"),
    ("rate_drop", "1.5", {}, "not in [0, 1]"),
    ("one_drop", "2", {}, "not in [0, 1]"),
    ("skip_drop", "-0.1", {}, "not in [0, 1]"),
    ("lambda_bias", "2", {}, "not in [0, 1]"),
    ("tweedie_variance_power", "1", {}, "not in (1, 2)"),
    ("tweedie_variance_power", "2", {}, "not in (1, 2)"),
    ("objective", "binary:logistc", {}, "did you mean 'binary:logistic'"),
    ("objective", "aft_loss_distribution", {}, "is a hyperparameter, not an objective"),
    ("objective", "reg:quantileerror", {}, "is not one of"),
    ("num_class", "1", {"objective": "multi:softmax"}, "not in [2, +inf)"),
    ("base_score", "-1", {}, "not in [0, +inf)"),
    ("_kfold", "1", {}, "not in [2, +inf)"),
    ("eval_metric", "rmsee", {}, "is not a known metric (did you mean 'rmse'?)"),
    ("_num_cv_round", "0", {}, "not in [1, +inf)"),
    ("_tuning_objective_metric", "auc", {}, "did you mean 'validation:auc'"),
    ("seed", "2147483647", {}, "not in (-2147483648, 2147483647)"),
    ("seed", "-2147483648", {}, "not in (-2147483648, 2147483647)"),
    ("num_parallel_tree", "0", {}, "not in [1, +inf)"),
    ("save_model_on_termination", "True", {}, "did you mean 'true'"),
    ("aft_loss_distribution", "gaussian", {}, "is not one of"),
    ("aft_loss_distribution_scale", "-1", {}, "not in [0, +inf)"),
    ("deterministic_histogram", "1", {}, "is not one of"),
    ("sampling_method", "random", {}, "is not one of"),
    ("prob_buffer_row", "1", {}, "not in (1, +inf)"),
    ("use_dask_gpu_training", "on", {}, "is not one of"),
    ("monotone_constraints", "(2,0)", {"tree_method": "hist"}, "not in [-1, 0, 1]"),
    ("monotone_constraints", "1", {"tree_method": "hist"}, "not a tuple of integers"),
    ("monotone_constraints", "(1.5,)", {"tree_method": "hist"}, "not a tuple of integers"),
    ("monotone_constraints", "__import__('os')", {"tree_method": "hist"}, "not a literal"),
    ("monotone_constraints", "(1,-1)", {"tree_method": "approx"}, "needs tree_method exact or hist"),
    ("monotone_constraints", "(1,-1)", {}, "got no tree_method"),
    ("interaction_constraints", "[[0,1]]", {"tree_method": "hist"}, "names features, which fails the job"),
    ("interaction_constraints", "[1,2]", {"tree_method": "hist"}, "not a list of lists"),
    ("interaction_constraints", "[]", {"tree_method": "auto"}, "needs tree_method exact, hist or approx"),
    ("interaction_constraints", "[]", {}, "got no tree_method"),
    ("updater", "grow_gpu", {}, "is not one of"),
    ("updater", "grow_quantile_histmaker", {}, "is not one of"),
    ("updater", "shotgun", {}, "need booster gblinear"),
    ("updater", "grow_colmaker,grow_histmaker", {}, "only one tree-growing updater"),
    ("updater", "grow_colmaker", {"booster": "gblinear"}, "exactly one updater"),
    ("updater", "shotgun,coord_descent", {"booster": "gblinear"}, "exactly one updater"),
    ("updater", "grow_colmaker", {"process_type": "update"}, "'refresh' and 'prune'"),
]


@pytest.mark.parametrize(("name", "value", "extra"), VALID)
def test_rule_accepts_valid_value(validate: Validator, name: str, value: str, extra: dict[str, str]) -> None:
    raw = with_round(**extra, **{name: value})
    assert ALIASES.get(name, name) in accepted(validate, raw).validated


@pytest.mark.parametrize(("name", "value", "extra", "fragment"), INVALID)
def test_rule_refuses_invalid_value(validate: Validator, name: str, value: str, extra: dict[str, str], fragment: str) -> None:
    raw = with_round(**extra, **{name: value})
    problems = problems_of(validate, raw)
    assert len(problems) == 1, problems
    assert fragment in problems[0]
    assert name in problems[0] or "tree_method" in problems[0]


def test_every_container_hyperparameter_has_a_valid_case() -> None:
    covered = {ALIASES.get(name, name) for name, _, _ in VALID}
    assert covered == set(rules.specs(DEFAULT_IMAGE_VERSION))


def test_every_container_hyperparameter_has_an_invalid_case() -> None:
    covered = {ALIASES.get(name, name) for name, _, _, _ in INVALID}
    assert covered == set(rules.specs(DEFAULT_IMAGE_VERSION))


# ----- objectives and num_class -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", IMAGE_VERSIONS)
@pytest.mark.parametrize("objective", rules.OBJECTIVES)
def test_every_container_objective_is_accepted(objective: str, version: str) -> None:
    extra = {"num_class": "3"} if objective.startswith("multi:") else {}
    assert accepted(canonical_hyperparameters, with_round(objective=objective, **extra), version).objective == objective


def test_objective_list_matches_the_reference_summary() -> None:
    assert set(rules.OBJECTIVES) == {
        "binary:logistic",
        "binary:logitraw",
        "binary:hinge",
        "count:poisson",
        "multi:softmax",
        "multi:softprob",
        "rank:pairwise",
        "rank:ndcg",
        "rank:map",
        "reg:linear",
        "reg:squarederror",
        "reg:logistic",
        "reg:gamma",
        "reg:pseudohubererror",
        "reg:squaredlogerror",
        "reg:absoluteerror",
        "reg:tweedie",
        "survival:aft",
        "survival:cox",
    }


@pytest.mark.parametrize("objective", ["multi:softmax", "multi:softprob"])
def test_multi_class_objective_requires_num_class(validate: Validator, objective: str) -> None:
    (problem,) = problems_of(validate, with_round(objective=objective))
    assert f"objective {objective} requires num_class" in problem


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ({"objective": "binary:logistic"}, "got objective binary:logistic"),
        ({"objective": "reg:squarederror"}, "got objective reg:squarederror"),
    ],
)
def test_num_class_only_with_multi_class_objective(validate: Validator, extra: dict[str, str], shown: str) -> None:
    # Stricter than the container: XGBoost fails on the labels (tests/oracle shows the container's job failing).
    (problem,) = problems_of(validate, with_round(num_class="3", **extra))
    assert "num_class is only used by objective multi:softmax or multi:softprob" in problem
    assert shown in problem


def test_num_class_without_objective_is_accepted_as_by_the_container(validate: Validator) -> None:
    # Regression: refused before; the container accepts it and XGBoost trains num_class outputs.
    parsed = accepted(validate, with_round(num_class="3"))
    assert parsed.num_class == 3 and parsed.objective is None


def test_invalid_objective_does_not_add_num_class_problems(validate: Validator) -> None:
    (problem,) = problems_of(validate, with_round(objective="multi:softmx", num_class="3"))
    assert "did you mean 'multi:softmax'" in problem


@pytest.mark.parametrize("objective", ["binary:logistic", "reg:logistic"])
@pytest.mark.parametrize(("base_score", "ok"), [("0.5", True), ("0", False), ("1", False), ("2", False), ("nan", False)])
def test_base_score_in_open_unit_interval_for_logistic_loss(
    validate: Validator, objective: str, base_score: str, ok: bool
) -> None:
    raw = with_round(objective=objective, base_score=base_score)
    if ok:
        assert accepted(validate, raw).params["base_score"] == float(base_score)
    else:
        (problem,) = problems_of(validate, raw)
        assert "must be in (0, 1) for objective" in problem


# ----- eval_metric --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", IMAGE_VERSIONS)
@pytest.mark.parametrize("metric", rules.METRICS)
def test_every_container_metric_is_accepted(metric: str, version: str) -> None:
    objective = "survival:aft" if metric == "aft-nloglik" else "binary:logistic"
    extra = {}
    if metric == "tweedie-nloglik":  # stricter: XGBoost cannot evaluate it without its power
        (problem,) = problems_of(canonical_hyperparameters, with_round(objective="reg:tweedie", eval_metric=metric), version)
        assert "needs its power" in problem
        return
    if metric in ("mlogloss", "merror"):
        objective, extra = "multi:softprob", {"num_class": "3"}
    out = canonical_hyperparameters(with_round(objective=objective, eval_metric=metric, **extra), version)
    assert out["eval_metric"] == metric


@pytest.mark.parametrize(
    ("value", "objective"),
    [
        ("ndcg@5", "rank:ndcg"),
        ("map@3", "rank:map"),
        ("error@0.7", "binary:logistic"),
        ("ndcg@5,map@10,auc", "rank:pairwise"),
        ("auc,logloss,error", "binary:hinge"),
        ("aucpr", "reg:squarederror"),
        ("rmse,mae,mape", "reg:squarederror"),
        ("merror,mlogloss", "multi:softprob"),
        ("aft-nloglik,interval-regression-accuracy", "survival:aft"),
        ("logloss,logloss", "binary:logistic"),
    ],
)
def test_eval_metric_valid_forms(validate: Validator, value: str, objective: str) -> None:
    extra = {"num_class": "3"} if objective.startswith("multi:") else {}
    assert accepted(validate, with_round(eval_metric=value, objective=objective, **extra)).eval_metrics == value.split(",")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("auc, logloss", "contains spaces"),
        ("logloss ", "contains spaces"),
        ("ndcg @ 5", "contains spaces"),
        ("loglos", "did you mean 'logloss'"),
        ("acu", "did you mean 'auc'"),
        ("rmse@3", "only 'error', 'ndcg' and 'map' take a threshold"),
        ("ndcg@x", "must be a number"),
        ("ndcg@3-", "must be a number"),
        ("ndcg@x@4", "must be a number"),
        ("map@", "must be a number"),
        ("", "empty metric name"),
        ("logloss,,error", "empty metric name"),
        ("<function f at 0x1>", "user-defined evaluation metrics are not supported"),
    ],
)
def test_eval_metric_invalid_forms(validate: Validator, value: str, fragment: str) -> None:
    (problem,) = problems_of(validate, with_round(eval_metric=value, objective="binary:logistic"))
    assert problem.startswith("eval_metric: ")
    assert fragment in problem


def test_eval_metric_reports_each_bad_item(validate: Validator) -> None:
    (problem,) = problems_of(validate, with_round(eval_metric="foo,auc,bar", objective="binary:logistic"))
    assert "'foo'" in problem
    assert "'bar'" in problem
    assert "'auc'" not in problem


@pytest.mark.parametrize(
    ("extra", "ok"),
    [
        ({"objective": "binary:logistic"}, True),
        ({"objective": "binary:logitraw"}, True),
        ({"objective": "binary:hinge"}, True),
        ({"objective": "rank:pairwise"}, True),
        ({"objective": "rank:ndcg"}, True),
        ({"objective": "rank:map"}, True),
        ({"objective": "reg:logistic"}, False),
        ({"objective": "reg:squarederror"}, False),
        ({"objective": "count:poisson"}, False),
        ({"objective": "survival:cox"}, False),
        ({"objective": "multi:softprob", "num_class": "3"}, False),
    ],
)
def test_auc_only_with_binary_or_rank_objective(validate: Validator, extra: dict[str, str], ok: bool) -> None:
    raw = with_round(eval_metric="logloss,auc", **extra)
    if ok:
        assert accepted(validate, raw).eval_metrics == ["logloss", "auc"]
    else:
        (problem,) = problems_of(validate, raw)
        assert "'auc' needs a binary: or rank: objective" in problem


@pytest.mark.parametrize(("objective", "ok"), [("survival:aft", True), ("survival:cox", False)])
def test_aft_nloglik_only_with_survival_aft(validate: Validator, objective: str | None, ok: bool) -> None:
    raw = with_round(eval_metric="aft-nloglik", **({"objective": objective} if objective else {}))
    if ok:
        assert accepted(validate, raw).eval_metrics == ["aft-nloglik"]
    else:
        (problem,) = problems_of(validate, raw)
        assert "'aft-nloglik' needs objective survival:aft" in problem


def test_eval_metrics_keep_order_and_params_drop_container_metrics() -> None:
    parsed = parse_hyperparameters(with_round(objective="binary:logistic", eval_metric="f1,logloss,accuracy,auc"))
    assert parsed.eval_metrics == ["f1", "logloss", "accuracy", "auc"]
    assert parsed.params["eval_metric"] == ["logloss", "auc"]


def test_only_container_metrics_leave_no_eval_metric_param() -> None:
    parsed = parse_hyperparameters(with_round(objective="binary:logistic", eval_metric="f1,accuracy"))
    assert parsed.eval_metrics == ["f1", "accuracy"]
    assert "eval_metric" not in parsed.params


def test_container_metrics_are_container_metric_names() -> None:
    assert set(rules.METRICS) >= CONTAINER_METRICS
    assert {"auc", "logloss", "error", "mape"}.isdisjoint(CONTAINER_METRICS)
    # the container computes rmse and mae itself too (metrics/custom_metrics.py), though XGBoost knows them
    assert {"rmse", "mae", "mse", "r2"} <= CONTAINER_METRICS


# ----- names: unknown, silent, aliases ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("max_dept", "max_depth"),
        ("num_rounds", "num_round"),
        ("learningrate", "learning_rate"),
        ("colsample_by_tree", "colsample_bytree"),
        ("early_stopping_round", "early_stopping_rounds"),
        ("eval_metrics", "eval_metric"),
        ("Eta", "eta"),
        ("min_child_weights", "min_child_weight"),
    ],
)
def test_unknown_name_suggests_closest(validate: Validator, name: str, suggestion: str) -> None:
    (problem,) = problems_of(validate, with_round(**{name: "1"}))
    assert f"unknown hyperparameter {name!r}" in problem
    assert f"did you mean {suggestion!r}?" in problem


def test_unknown_name_without_close_match_has_no_suggestion(validate: Validator) -> None:
    (problem,) = problems_of(validate, with_round(zzzzqqq="1"))
    assert "unknown hyperparameter 'zzzzqqq'" in problem
    assert "did you mean" not in problem


@pytest.mark.parametrize("value", ["0", "1"])
def test_silent_refused_suggesting_verbosity(validate: Validator, value: str) -> None:
    (problem,) = problems_of(validate, with_round(silent=value))
    assert "'silent' was removed" in problem
    assert "use 'verbosity'" in problem
    assert "0 silent" in problem
    assert "3 debug" in problem


def test_aliases_are_the_containers() -> None:
    assert ALIASES == {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha"}


@pytest.mark.parametrize(("alias", "name"), sorted(ALIASES.items()))
def test_alias_kept_in_canonical_and_mapped_in_params(alias: str, name: str) -> None:
    out = canonical_hyperparameters({"num_round": 10, alias: 0.5})
    assert out == {"num_round": "10", alias: "0.5"}
    parsed = parse_hyperparameters(out)
    assert parsed.params == {name: 0.5}


@pytest.mark.parametrize(("alias", "name"), sorted(ALIASES.items()))
def test_alias_and_name_together_the_later_wins_as_in_the_container(validate: Validator, alias: str, name: str) -> None:
    # Regression: refused before ("two names for the same hyperparameter"); the container replaces each alias by
    # its name, so the later of the two is the value, and the earlier is never parsed.
    parsed = parse_hyperparameters(with_round(**{name: "abc", alias: "0.2"}))
    assert parsed.params == {name: 0.2}
    assert parse_hyperparameters(with_round(**{alias: "0.2", name: "0.1"})).params == {name: 0.1}
    assert canonical_hyperparameters(with_round(**{name: "0.1", alias: "0.2"})) == {"num_round": "10", alias: "0.2"}
    (problem,) = problems_of(validate, with_round(**{alias: "0.2", name: "abc"}))
    assert problem == f"{name}: 'abc' is not a number"


@pytest.mark.parametrize(("alias", "name"), [("learning_rate", "eta"), ("min_split_loss", "gamma")])
def test_manifest_alias_replaces_the_defaults_name(alias: str, name: str) -> None:
    # Regression: a manifest's learning_rate over the default eta was refused as two names of one hyperparameter.
    import datetime as dt

    from model_training.config.manifest import Manifest
    from model_training.config.manifest_files import ManifestSource
    from model_training.config.resolve import resolve

    manifest = Manifest.model_validate({"training": {"hyperparameters": {alias: 0.3}}})
    resolution = resolve(run_date=dt.date(2026, 1, 2), manifest=ManifestSource(manifest=manifest, uri="m.json", sha256="0"))
    sent = resolution.config.training.hyperparameters
    assert sent[alias] == "0.3" and name not in sent
    assert resolution.origins[f"training.hyperparameters.{alias}"].startswith("manifest")
    assert hp.merge_hyperparameters({name: "1", "num_round": "5"}, {alias: "2"}) == {"num_round": "5", alias: "2"}
    # a higher layer's canonical name replaces a lower layer's alias too (the container would keep the later)
    resolution = resolve(
        run_date=dt.date(2026, 1, 2),
        env={"hyperparameters": {alias: "0.3"}},
        manifest=ManifestSource(
            manifest=Manifest.model_validate({"training": {"hyperparameters": {name: 0.5}}}), uri="m", sha256="0"
        ),
    )
    assert resolution.config.training.hyperparameters[name] == "0.5" and alias not in resolution.config.training.hyperparameters


# ----- num_round -----------------------------------------------------------------------------------------------


def test_num_round_is_required(validate: Validator) -> None:
    (problem,) = problems_of(validate, {"eta": "0.1"})
    assert problem == "num_round is required: the number of boosting rounds, an integer >= 1"


def test_invalid_num_round_is_not_also_reported_missing(validate: Validator) -> None:
    (problem,) = problems_of(validate, {"num_round": "0"})
    assert problem.startswith("num_round: 0 is not in [1, +inf)")


# ----- value parsing and canonical string forms ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("num_round", 100, "100"),
        ("num_round", "100", "100"),
        ("num_round", " 7 ", "7"),
        ("num_round", "+7", "7"),
        ("num_round", "1_000", "1000"),  # the container's int() accepts it
        ("eta", 0.2, "0.2"),
        ("eta", "0.20", "0.2"),
        ("eta", "2e-1", "0.2"),
        ("eta", 1, "1"),
        ("eta", 1.0, "1"),
        ("eta", 1e-05, "1e-05"),
        ("eta", 0.1 + 0.2, "0.30000000000000004"),
        ("gamma", 4, "4"),
        ("gamma", 4.0, "4"),
        ("gamma", "4", "4"),
        ("gamma", 1e20, "1e+20"),
        ("min_child_weight", 6, "6"),
        ("subsample", 0.8, "0.8"),
        ("save_model_on_termination", True, "true"),
        ("save_model_on_termination", False, "false"),
        ("save_model_on_termination", "false", "false"),
        ("csv_weights", True, "1"),
        ("csv_weights", False, "0"),
        ("one_drop", True, "1"),
        ("objective", "binary:logistic", "binary:logistic"),
        ("eval_metric", "auc,logloss", "auc,logloss"),
        ("eval_metric", ["auc", "logloss"], "auc,logloss"),
        ("eval_metric", ("error@0.7",), "error@0.7"),
        ("updater", ["grow_colmaker", "prune"], "grow_colmaker,prune"),
        ("monotone_constraints", "(1, -1, 0)", "(1,-1,0)"),
        ("monotone_constraints", [1, -1], "(1,-1)"),
        ("monotone_constraints", [1], "(1,)"),
        ("interaction_constraints", [[]], "[[]]"),
        ("interaction_constraints", "[ ]", "[]"),
        ("seed", -5, "-5"),
    ],
)
def test_canonical_string_forms(name: str, value: object, expected: str) -> None:
    extra: dict[str, object] = {}
    if name == "eval_metric":
        extra["objective"] = "binary:logistic"
    if name in ("monotone_constraints", "interaction_constraints"):
        extra["tree_method"] = "hist"
    out = canonical_hyperparameters({"num_round": 10, **extra, name: value})
    assert out[name] == expected
    # What is sent is what the container accepts, and it reads the same value back.
    read = parse_hyperparameters(out).validated[ALIASES.get(name, name)]
    assert canonical_hyperparameters({"num_round": 10, **extra, name: read})[name] == expected


def test_canonical_keeps_given_order_and_names() -> None:
    raw = {"subsample": 0.5, "num_round": 3, "learning_rate": 0.1, "objective": "reg:squarederror"}
    assert list(canonical_hyperparameters(raw)) == list(raw)


def test_canonical_accepts_read_only_mapping() -> None:
    assert canonical_hyperparameters(MappingProxyType({"num_round": 1})) == {"num_round": "1"}


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("max_depth", 5.0, "5.0 is not an integer"),
        ("max_depth", 5.0, "write 5"),
        ("num_round", 10.5, "10.5 is not an integer"),
        ("max_depth", True, "is a boolean"),
        ("verbosity", False, "is a boolean"),
        ("eta", True, "is a boolean"),
        ("eta", None, "is not a number"),
        ("eta", [0.1], "is not a number"),
        ("max_depth", None, "is not an integer"),
        ("objective", 1, "is not one of"),
        ("objective", True, "is not one of"),
        ("eval_metric", 1, "is not a comma-separated string or a list of strings"),
        ("eval_metric", [], "the list is empty"),
        ("eval_metric", ["auc,logloss"], "without ','"),
        ("monotone_constraints", [1, True], "not a tuple of integers"),
        ("eta", float("inf"), "inf is not in [0, 1]"),
        ("gamma", -float("inf"), "-inf is not in [0, +inf)"),
        ("gamma", 10**400, "too large for a number"),
    ],
)
def test_canonical_refuses_wrong_types(name: str, value: object, fragment: str) -> None:
    extra: dict[str, object] = {"tree_method": "hist"} if name == "monotone_constraints" else {}
    if name == "eval_metric":
        extra["objective"] = "binary:logistic"
    (problem,) = problems_of(canonical_hyperparameters, {"num_round": 1, **extra, name: value})
    assert problem.startswith(f"{name}: ")
    assert fragment in problem


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "infinity", "1e400", " Infinity "])
def test_gamma_nan_and_infinity_accepted_as_by_the_container(validate: Validator, value: str) -> None:
    # Regression: refused before; the container's ranges let NaN through (no comparison with it is true) and
    # infinity through a range without an upper bound, and XGBoost trains with them.
    gamma = accepted(validate, with_round(gamma=value)).params["gamma"]
    assert isinstance(gamma, float)
    assert math.isnan(gamma) if "nan" in value.lower() else gamma == math.inf


@pytest.mark.parametrize(
    ("name", "value", "fragment"), [("gamma", "-inf", "-inf is not in [0, +inf)"), ("eta", "inf", "inf is not in [0, 1]")]
)
def test_infinity_outside_a_bounded_range_refused(validate: Validator, name: str, value: str, fragment: str) -> None:
    (problem,) = problems_of(validate, with_round(**{name: value}))
    assert problem == f"{name}: {fragment}"


def test_nan_parses_to_nan() -> None:
    import math

    assert math.isnan(parse_hyperparameters(with_round(gamma="nan", eta="NaN")).params["gamma"])
    assert canonical_hyperparameters({"num_round": 1, "gamma": float("nan")}) == {"num_round": "1", "gamma": "nan"}


def test_grow_local_histmaker_refused(validate: Validator) -> None:
    # Regression: accepted before; neither image's updater list has it.
    (problem,) = problems_of(validate, with_round(updater="grow_local_histmaker"))
    assert problem.startswith("updater: 'grow_local_histmaker' is not one of")


def test_grow_quantile_histmaker_refused(validate: Validator) -> None:
    (problem,) = problems_of(validate, with_round(updater="grow_quantile_histmaker"))
    assert problem.startswith("updater: 'grow_quantile_histmaker' is not one of")


@pytest.mark.parametrize("updater", ["grow_skmaker", "distcol"])
def test_updaters_unknown_to_xgboost_refused(validate: Validator, updater: str) -> None:
    # Stricter than the container: XGBoost fails with "Unknown tree updater" (tests/oracle shows it).
    (problem,) = problems_of(validate, with_round(updater=updater))
    assert "XGBoost 1.7 and 3.0 have no such updater" in problem


def test_single_precision_histogram_refused_with_what_to_do(validate: Validator) -> None:
    # Regression: accepted before; neither image declares it.
    (problem,) = problems_of(validate, with_round(single_precision_histogram="true"))
    assert "'single_precision_histogram' is not a hyperparameter of images 1.7-1 and 3.0-5" in problem
    assert "leave it out" in problem


@pytest.mark.parametrize("metric", ["rmse", "auc", "error@0.5"])
def test_eval_metric_without_objective_refused(validate: Validator, metric: str) -> None:
    # Regression: accepted before; the container's eval_metric check reads the objective and the job fails.
    (problem,) = problems_of(validate, with_round(eval_metric=metric))
    assert (
        problem == "eval_metric needs an objective: the container fails without one "
        "(give objective, e.g. reg:squarederror, XGBoost's default)"
    )


def test_base_score_any_value_with_logitraw(validate: Validator) -> None:
    # Regression: refused before; binary:logitraw is not a logistic loss for XGBoost's base_score check.
    assert accepted(validate, with_round(objective="binary:logitraw", base_score="1")).params["base_score"] == 1.0


def test_tweedie_nloglik_refused_with_what_to_do(validate: Validator) -> None:
    (problem,) = problems_of(validate, with_round(objective="reg:tweedie", eval_metric="tweedie-nloglik"))
    assert "needs its power" in problem and "leave eval_metric out" in problem


def test_threshold_is_read_between_the_first_two_at_signs(validate: Validator) -> None:
    # Regression: refused before; the container (and XGBoost) read 'error@0.5@1' as error@0.5.
    assert accepted(validate, with_round(objective="binary:logistic", eval_metric="error@0.5@1")).eval_metrics == ["error@0.5@1"]


@pytest.mark.parametrize("value", ["(1.0,0)", "(True,0)", "[1,0]"])
def test_monotone_constraints_that_xgboost_cannot_read_refused(validate: Validator, value: str) -> None:
    (problem,) = problems_of(validate, with_round(tree_method="hist", monotone_constraints=value))
    assert problem.startswith("monotone_constraints: ")


@pytest.mark.parametrize("value", ["[[1,2]]", "[[1,2],[3,4]]", "[(1,2)]"])
def test_interaction_constraints_naming_features_refused(validate: Validator, value: str) -> None:
    # Stricter than the container: its job fails ("Constrained features are not a subset of training data
    # feature names"): XGBoost's Python layer reads the lists as feature names, and CSV channels have none.
    (problem,) = problems_of(validate, with_round(tree_method="hist", interaction_constraints=value))
    assert "names features, which fails the job" in problem


@pytest.mark.parametrize("value", [10, 0.5, True, None, ["a"]])
def test_parse_requires_string_values(value: object) -> None:
    (problem,) = problems_of(parse_hyperparameters, {"num_round": "10", "eta": value})
    assert problem.startswith("eta: value")
    assert "is not a string" in problem


def test_value_longer_than_api_limit_refused(validate: Validator) -> None:
    groups = "[" + ",".join(f"[{i},{i + 1}]" for i in range(1, 400)) + "]"
    assert len(groups) > 2500
    (problem,) = problems_of(validate, with_round(tree_method="hist", interaction_constraints=groups))
    assert "CreateTrainingJob allows 2500" in problem


def test_more_than_hundred_entries_refused() -> None:
    raw: dict[str, object] = {"num_round": 1, **{f"unknown_{i}": 1 for i in range(100)}}
    problems = problems_of(canonical_hyperparameters, raw)
    assert problems[0] == "101 hyperparameters given, but CreateTrainingJob accepts at most 100"


def test_non_mapping_refused() -> None:
    with pytest.raises(HyperparameterError, match="must be a mapping"):
        canonical_hyperparameters([("num_round", 1)])  # type: ignore[arg-type]


def test_non_string_name_refused() -> None:
    problems = problems_of(canonical_hyperparameters, {"num_round": 1, 5: 1})  # type: ignore[dict-item]
    assert problems == ["hyperparameter name 5 is not a string"]


# ----- all problems together ----------------------------------------------------------------------------------


def test_all_problems_reported_together(validate: Validator) -> None:
    raw = {
        "silent": "0",
        "max_dept": "5",
        "learning_rate": "0.1",
        "eta": "1.5",
        "max_depth": "5.0",
        "subsample": "0",
        "objective": "multi:softmax",
        "eval_metric": "auc, logloss",
        "monotone_constraints": "(1,0)",
    }
    with pytest.raises(HyperparameterError) as caught:
        validate(raw)
    error = caught.value
    fragments = [
        "use 'verbosity'",
        "did you mean 'max_depth'?",
        "eta: 1.5 is not in [0, 1]",
        "max_depth: '5.0' is not an integer",
        "subsample: 0 is not in (0, 1]",
        "eval_metric: ' logloss' contains spaces",
        "num_round is required",
        "objective multi:softmax requires num_class",
        "monotone_constraints needs tree_method exact or hist",
    ]
    assert len(error.problems) == len(fragments), error.problems
    for problem, fragment in zip(error.problems, fragments, strict=True):
        assert fragment in problem
    assert error.message == "invalid hyperparameters: " + "; ".join(error.problems)
    assert "hyperparameter_validation.py" in error.hint
    assert ";" not in "".join(error.problems), "problems must not contain the separator of the joined message"


def test_no_error_problem_contains_the_separator() -> None:
    raw: dict[str, object] = {**{name: "x" for name in rules.specs(DEFAULT_IMAGE_VERSION)}, "silent": "1", "etaa": "1"}
    problems = problems_of(canonical_hyperparameters, raw)
    # every name is wrong: the first MAX_PROBLEMS are described, the rest counted in a last "and N more"
    assert len(problems) == MAX_PROBLEMS + 1 and problems[-1].startswith("and ") and problems[-1].endswith(" more")
    assert int(problems[-1].split()[1]) + MAX_PROBLEMS >= len(rules.specs(DEFAULT_IMAGE_VERSION))
    assert all(";" not in problem for problem in problems)


# ----- versions -----------------------------------------------------------------------------------------------


def test_supported_versions() -> None:
    assert IMAGE_VERSIONS == ("1.7-1", "3.0-5")
    assert DEFAULT_IMAGE_VERSION == "3.0-5"


@pytest.mark.parametrize("version", ["latest", "1", "LATEST", "0.72"])
def test_legacy_versions_refused(validate: Validator, version: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        validate({"num_round": "1"}, version)
    assert "legacy 0.72 algorithm" in caught.value.message
    assert "1.7-1" in caught.value.hint
    assert "3.0-5" in caught.value.hint
    assert not isinstance(caught.value, HyperparameterError)


@pytest.mark.parametrize("version", ["1.5-1", "2.0", "3.0.5", "", "1.7-1 "])
def test_unknown_versions_refused(validate: Validator, version: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        validate({"num_round": "1"}, version)
    assert "unsupported XGBoost algorithm version" in caught.value.message
    assert "'latest' and '1' mean the legacy 0.72 algorithm" in caught.value.hint


def test_version_refused_before_hyperparameters_are_checked(validate: Validator) -> None:
    with pytest.raises(ConfigurationError):
        validate({"silent": "1"}, "latest")


def test_hint_names_the_version() -> None:
    with pytest.raises(HyperparameterError) as caught:
        canonical_hyperparameters({}, "1.7-1")
    assert "1.7-1" in caught.value.hint


# ----- ParsedHyperparameters ----------------------------------------------------------------------------------


def test_parsed_fields_and_container_only_keys_left_out() -> None:
    raw = {
        "num_round": "200",
        "csv_weights": "1",
        "early_stopping_rounds": "10",
        "save_model_on_termination": "true",
        "use_dask_gpu_training": "false",
        "_tuning_objective_metric": "validation:mlogloss",
        "_kfold": "5",
        "_num_cv_round": "2",
        "objective": "multi:softprob",
        "num_class": "4",
        "eval_metric": "mlogloss,merror",
        "reg_alpha": "0.1",
        "max_depth": "6",
        "updater": "grow_colmaker,prune",
        "tree_method": "hist",
        "monotone_constraints": "(1,0)",
        "interaction_constraints": "[]",
        "seed": "42",
    }
    parsed = parse_hyperparameters(raw)
    assert parsed.num_round == 200
    assert parsed.csv_weights is True
    assert parsed.early_stopping_rounds == 10
    assert parsed.objective == "multi:softprob"
    assert parsed.num_class == 4
    assert parsed.eval_metrics == ["mlogloss", "merror"]
    assert parsed.params == {
        "objective": "multi:softprob",
        "num_class": 4,
        "eval_metric": ["mlogloss", "merror"],
        "alpha": 0.1,
        "max_depth": 6,
        "updater": "grow_colmaker,prune",
        "tree_method": "hist",
        "monotone_constraints": (1, 0),
        "interaction_constraints": [],
        "seed": 42,
    }
    assert CONTAINER_ONLY.isdisjoint(parsed.params)


def test_parsed_minimal() -> None:
    parsed = parse_hyperparameters({"num_round": "1"})
    assert parsed == ParsedHyperparameters(
        num_round=1,
        objective=None,
        eval_metrics=[],
        num_class=None,
        early_stopping_rounds=None,
        csv_weights=False,
        params={},
    )


def test_parsed_is_frozen() -> None:
    parsed = parse_hyperparameters({"num_round": "1"})
    with pytest.raises(AttributeError):
        parsed.num_round = 2  # type: ignore[misc]


@pytest.mark.parametrize("version", IMAGE_VERSIONS)
def test_canonical_then_parse_round_trip(version: str) -> None:
    raw: dict[str, object] = {
        "num_round": 50,
        "learning_rate": 0.05,
        "max_depth": 4,
        "subsample": 0.9,
        "colsample_bytree": 0.7,
        "objective": "reg:squarederror",
        "eval_metric": ["rmse", "mape"],
        "early_stopping_rounds": 5,
        "csv_weights": False,
    }
    parsed = parse_hyperparameters(canonical_hyperparameters(raw, version), version)
    assert parsed.num_round == 50
    assert parsed.early_stopping_rounds == 5
    assert parsed.csv_weights is False
    assert parsed.params == {
        "eta": 0.05,
        "max_depth": 4,
        "subsample": 0.9,
        "colsample_bytree": 0.7,
        "objective": "reg:squarederror",
        "eval_metric": ["mape"],  # rmse goes to the container's own evaluation function
    }


@pytest.mark.parametrize("metric", ["mlogloss", "merror", "auc,mlogloss"])
def test_multi_class_metrics_need_a_multi_objective(metric: str) -> None:
    with pytest.raises(HyperparameterError, match="needs a multi: objective"):
        canonical_hyperparameters(with_round(objective="binary:logistic", eval_metric=metric))


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "num_round",
            "1e308",
            "num_round: '1e308' is not an integer (the container parses integers with int(), which refuses '1e308')",
        ),
        (
            "num_round",
            1e308,
            "num_round: 1e+308 is not an integer (the container parses integers with int(), which refuses '5.0')",
        ),
        ("max_depth", -(10**400), "max_depth: a negative 401-digit number is not in [0, "),
        ("num_round", "-" + "9" * 2000, "num_round: a negative 2000-digit number is not in [1, "),
        ("eta", "x" * 500, "eta: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (502 characters) is not a number"),
        (
            "num_round",
            "5.0",
            "num_round: '5.0' is not an integer (the container parses integers with int(), which refuses '5.0', write '5')",
        ),
    ],
    ids=["1e308-text", "1e308-number", "huge-int", "2000-digits", "long-text", "5.0"],
)
def test_huge_or_long_values_are_shown_short(name: str, value: object, expected: str) -> None:
    """Issue 11 item 12: num_round 1e308 put a 309-digit number in the message; values are shown short."""
    (problem,) = problems_of(canonical_hyperparameters, {**ORIGINAL, name: value})
    assert problem.startswith(expected), problem
    assert len(problem) < 200, problem
