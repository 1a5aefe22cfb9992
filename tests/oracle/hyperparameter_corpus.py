"""A generated corpus of hyperparameter dictionaries, to put our validator and the container's side by side.

Every value is a string, as SageMaker sends them.  The names, kinds and ranges below were written down by
reading the container's rule definitions (``algorithm_mode/hyperparameter_validation.py`` of the SageMaker
XGBoost container, images 1.7-1 and 3.0-5, which declare the same rules); they are test data, not the
container's code.  The corpus is deterministic: the systematic part lists every case, the random part
draws combinations from a ``random.Random`` seeded by the image version.

``corpus(version)`` -> a list of ``(case_id, {name: value})``; ids are unique and say what the case probes.
"""

from __future__ import annotations

import random
import zlib

# name -> (kind, low, low_open, high, high_open); None bound = unbounded
INTEGERS: dict[str, tuple[float | None, bool, float | None, bool]] = {
    "num_round": (1, False, None, False),
    "csv_weights": (0, False, 1, False),
    "early_stopping_rounds": (1, False, None, False),
    "verbosity": (0, False, 3, False),
    "nthread": (1, False, None, False),
    "max_depth": (0, False, None, False),
    "refresh_leaf": (0, False, 1, False),
    "max_leaves": (0, False, None, False),
    "max_bin": (0, False, None, False),
    "one_drop": (0, False, 1, False),
    "num_class": (2, False, None, False),
    "_kfold": (2, False, None, False),
    "_num_cv_round": (1, False, None, False),
    "seed": (-(2**31), True, 2**31 - 1, True),
    "num_parallel_tree": (1, False, None, False),
    "prob_buffer_row": (1, True, None, False),
}
FLOATS: dict[str, tuple[float | None, bool, float | None, bool]] = {
    "eta": (0, False, 1, False),
    "gamma": (0, False, None, False),
    "min_child_weight": (0, False, None, False),
    "max_delta_step": (0, False, None, False),
    "subsample": (0, True, 1, False),
    "colsample_bytree": (0, True, 1, False),
    "colsample_bylevel": (0, True, 1, False),
    "colsample_bynode": (0, True, 1, False),
    "lambda": (0, False, None, False),
    "alpha": (0, False, None, False),
    "sketch_eps": (0, True, 1, True),
    "scale_pos_weight": (0, True, None, False),
    "rate_drop": (0, False, 1, False),
    "skip_drop": (0, False, 1, False),
    "lambda_bias": (0, False, 1, False),
    "tweedie_variance_power": (1, True, 2, True),
    "base_score": (0, False, None, False),
    "aft_loss_distribution_scale": (0, False, None, False),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "booster": ("gbtree", "gblinear", "dart"),
    "tree_method": ("auto", "exact", "approx", "hist", "gpu_hist"),
    "dsplit": ("row", "col"),
    "process_type": ("default", "update"),
    "grow_policy": ("depthwise", "lossguide"),
    "predictor": ("auto", "cpu_predictor", "gpu_predictor"),
    "sample_type": ("uniform", "weighted"),
    "normalize_type": ("tree", "forest"),
    "save_model_on_termination": ("true", "false"),
    "aft_loss_distribution": ("normal", "logistic", "extreme"),
    "deterministic_histogram": ("true", "false"),
    "sampling_method": ("uniform", "gradient_based"),
    "use_dask_gpu_training": ("true", "false"),
}
OBJECTIVES = (
    "aft_loss_distribution",
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
)
METRICS = (
    "accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg", "precision", "r2",
    "recall", "precision_macro", "precision_micro", "recall_macro", "recall_micro", "aft-nloglik", "cox-nloglik", "error",
    "gamma-deviance", "gamma-nloglik", "interval-regression-accuracy", "logloss", "mae", "mape", "merror", "mlogloss",
    "mphe", "mse", "poisson-nloglik", "rmse", "rmsle", "tweedie-nloglik",
)  # fmt: skip
UPDATERS = (
    "grow_colmaker", "distcol", "grow_histmaker", "grow_skmaker", "sync", "refresh", "prune", "shotgun", "coord_descent",
    "grow_quantile_histmaker", "grow_local_histmaker", "grow_gpu_hist",
)  # fmt: skip
ALIASES = {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha"}
NON_FINITE = ("nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "+inf", "INF", "nan ")

BASE = {"num_round": "10"}
BINARY = {"num_round": "10", "objective": "binary:logistic"}


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _objective_for(metric: str) -> dict[str, str]:
    """An objective a metric fits (so that the metric alone decides)."""
    if metric in ("merror", "mlogloss"):
        return {"objective": "multi:softprob", "num_class": "3"}
    if metric == "aft-nloglik" or metric == "interval-regression-accuracy":
        return {"objective": "survival:aft"}
    if metric == "cox-nloglik":
        return {"objective": "survival:cox"}
    if metric in ("map", "ndcg"):
        return {"objective": "rank:pairwise"}
    if metric.startswith("gamma-"):
        return {"objective": "reg:gamma"}
    if metric == "poisson-nloglik":
        return {"objective": "count:poisson"}
    if metric == "tweedie-nloglik":
        return {"objective": "reg:tweedie"}
    if metric in ("rmse", "mae", "mape", "rmsle", "mphe", "mse", "r2"):
        return {"objective": "reg:squarederror"}
    return {"objective": "binary:logistic"}


def _bounds(name: str, spec: tuple[float | None, bool, float | None, bool], integer: bool) -> list[tuple[str, str]]:
    low, low_open, high, _ = spec
    out = []
    step = 1 if integer else 0.5
    if low is not None:
        out += [("low", _num(low)), ("below_low", _num(low - step))]
        if not integer:
            out.append(("just_above_low", _num(low + 1e-9)))
    if high is not None:
        out += [("high", _num(high)), ("above_high", _num(high + step))]
    inside = (low if low is not None else 0) + (1 if integer else 0.25)
    if low_open and integer:
        inside = low + 1  # type: ignore[operator]
    if high is not None and inside >= high:
        inside = (low + high) / 2 if not integer else low  # type: ignore[operator]
    out.append(("inside", _num(inside)))
    return out


def _systematic() -> list[tuple[str, dict[str, str]]]:
    cases: list[tuple[str, dict[str, str]]] = []

    def add(case_id: str, hps: dict[str, str]) -> None:
        cases.append((case_id, hps))

    # -- the original stage's defaults and minimal dictionaries
    add("defaults", {"max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.8",
                     "objective": "binary:logistic", "num_round": "100", "eval_metric": "auc,logloss"})  # fmt: skip
    add("only_num_round", dict(BASE))
    add("empty", {})
    add("no_num_round", {"objective": "binary:logistic"})

    # -- integers: range edges and numbers as strings
    for name, spec in INTEGERS.items():
        extra = {"objective": "multi:softmax"} if name == "num_class" else {}
        for tag, value in _bounds(name, spec, integer=True):
            add(f"int:{name}:{tag}", {**BASE, **extra, name: value})
        for tag, value in (("float_text", "1.0"), ("space", " 3"), ("trailing_space", "3 "), ("hex", "0x10"),
                           ("exp", "1e3"), ("plus", "+2"), ("underscore", "1_0"), ("word", "abc"), ("empty", ""),
                           ("nan", "nan"), ("inf", "inf"), ("bool", "true")):  # fmt: skip
            add(f"int:{name}:{tag}", {**BASE, **extra, name: value})
    add("int:seed:max_open", {**BASE, "seed": str(2**31 - 1)})
    add("int:seed:min_open", {**BASE, "seed": str(-(2**31))})
    add("int:seed:big", {**BASE, "seed": str(2**40)})

    # -- floats: range edges, NaN and infinities, numbers as strings
    for name, spec in FLOATS.items():
        extra: dict[str, str] = {}
        if name == "tweedie_variance_power":
            extra = {"objective": "reg:tweedie"}
        elif name == "aft_loss_distribution_scale":
            extra = {"objective": "survival:aft"}
        for tag, value in _bounds(name, spec, integer=False):
            add(f"float:{name}:{tag}", {**BASE, **extra, name: value})
        for value in NON_FINITE:
            add(f"float:{name}:{value.strip()}{'_sp' if ' ' in value else ''}", {**BASE, **extra, name: value})
        for tag, value in (("exp", "1e-3"), ("space", " 0.5 "), ("word", "abc"), ("empty", ""), ("int_text", "1"),
                           ("comma", "0,5"), ("underscore", "0.2_5"), ("hex", "0x1")):  # fmt: skip
            add(f"float:{name}:{tag}", {**BASE, **extra, name: value})

    # -- categorical values: each choice, case and spaces
    for name, choices in CHOICES.items():
        for choice in choices:
            add(f"choice:{name}:{choice}", {**BASE, name: choice})
        add(f"choice:{name}:upper", {**BASE, name: choices[0].upper()})
        add(f"choice:{name}:title", {**BASE, name: choices[0].title()})
        add(f"choice:{name}:space", {**BASE, name: f" {choices[0]}"})
        add(f"choice:{name}:empty", {**BASE, name: ""})
        add(f"choice:{name}:unknown", {**BASE, name: "other"})
    for value in ("True", "1", "yes", "FALSE"):
        add(f"bool:save_model_on_termination:{value}", {**BASE, "save_model_on_termination": value})

    # -- objectives (and num_class)
    for objective in OBJECTIVES:
        add(f"objective:{objective}", {**BASE, "objective": objective})
        add(f"objective:{objective}:num_class3", {**BASE, "objective": objective, "num_class": "3"})
    add("objective:upper", {**BASE, "objective": "Binary:Logistic"})
    add("objective:unknown", {**BASE, "objective": "binary:logit"})
    add("objective:multi:num_class1", {**BASE, "objective": "multi:softmax", "num_class": "1"})
    add("objective:multi:num_class_float", {**BASE, "objective": "multi:softmax", "num_class": "3.0"})
    add("num_class:no_objective", {**BASE, "num_class": "3"})
    add("num_class:no_objective:bad", {**BASE, "num_class": "1"})

    # -- eval_metric: every metric, with a fitting objective and with others; lists; thresholds
    for metric in METRICS:
        add(f"metric:{metric}", {**BASE, **_objective_for(metric), "eval_metric": metric})
        add(f"metric:{metric}:binary", {**BINARY, "eval_metric": metric})
        add(f"metric:{metric}:no_objective", {**BASE, "eval_metric": metric})
        add(f"metric:{metric}:tuning", {**BINARY, "_tuning_objective_metric": f"validation:{metric}"})
    for objective in OBJECTIVES:
        add(f"metric:auc:{objective}", {**BASE, "objective": objective, "eval_metric": "auc",
                                         **({"num_class": "3"} if objective.startswith("multi:") else {})})  # fmt: skip
        add(f"metric:aft-nloglik:{objective}", {**BASE, "objective": objective, "eval_metric": "aft-nloglik"})
    for value in ("auc,logloss", "logloss,auc", "auc,logloss,error", "auc, logloss", "auc,", ",auc", "", "auc,,logloss",
                  "auc,auc", "accuracy,f1,logloss", "AUC", "rmse,mae,auc", "error@0.5", "error@0.7,auc", "ndcg@5", "map@3",
                  "ndcg@3-", "map@5-", "error@", "error@abc", "auc@0.5", "rmse@1", "logloss@2", " error@0.5", "error @ 0.5",
                  "error@0.5@1", "error@nan", "error@inf", "ndcg@-1", "<function f at 0x1>", "tweedie-nloglik@1.5",
                  "poisson-nloglik@1", "ndcg@2.5", "error@1e-1", "auc ", " logloss"):  # fmt: skip
        add(f"metric_list:{value}", {**BINARY, "eval_metric": value})
    for value in ("ndcg@5", "map@3", "auc,ndcg@10", "map@5-", "ndcg"):
        add(f"metric_list:rank:{value}", {**BASE, "objective": "rank:ndcg", "eval_metric": value})
    for value in ("mlogloss,merror", "merror", "mlogloss,auc", "accuracy,mlogloss"):
        add(f"metric_list:multi:{value}", {**BASE, "objective": "multi:softprob", "num_class": "4", "eval_metric": value})
    add("tuning:unknown", {**BINARY, "_tuning_objective_metric": "validation:unknown"})
    add("tuning:no_prefix", {**BINARY, "_tuning_objective_metric": "auc"})
    add("tuning:train_prefix", {**BINARY, "_tuning_objective_metric": "train:auc"})

    # -- aliases: alone, over the canonical name in the same dictionary (both orders), bad values
    for alias, canonical in ALIASES.items():
        good, other = ("0.3", "0.1") if canonical == "eta" else ("2", "5")
        add(f"alias:{alias}", {**BASE, alias: good})
        add(f"alias:{alias}:bad", {**BASE, alias: "-1"})
        add(f"alias:{alias}:nan", {**BASE, alias: "nan"})
        add(f"alias:{alias}:after_canonical", {**BASE, canonical: other, alias: good})
        add(f"alias:{alias}:before_canonical", {**BASE, alias: good, canonical: other})
        add(f"alias:{alias}:bad_canonical_first", {**BASE, canonical: "abc", alias: good})
        add(f"alias:{alias}:bad_alias_first", {**BASE, alias: "abc", canonical: good})
        add(f"alias:{alias}:bad_alias_last", {**BASE, canonical: good, alias: "abc"})
    add("alias:all", {**BASE, "learning_rate": "0.1", "min_split_loss": "1", "reg_lambda": "2", "reg_alpha": "0.5"})
    add("alias:upper", {**BASE, "Learning_Rate": "0.1"})

    # -- removed and unknown names
    for name in ("silent", "single_precision_histogram", "seed_per_iteration", "n_estimators", "Eta", "max-depth",
                 "num_rounds", "learning rate", "", " eta", "eta ", "objective_", "n_gpus", "gpu_id", "device",
                 "max_cat_to_onehot", "enable_categorical", "multi_strategy", "lambdarank_pair_method", "huber_slope",
                 "quantile_alpha", "num_boost_round", "validate_parameters", "disable_default_eval_metric"):  # fmt: skip
        add(f"unknown:{name}", {**BASE, name: "1"})
    add("removed:silent:0", {**BINARY, "silent": "0"})
    add("removed:single_precision_histogram:true", {**BASE, "single_precision_histogram": "true"})

    # -- updaters: each alone, with boosters and process types; pairs
    for updater in UPDATERS:
        add(f"updater:{updater}", {**BASE, "updater": updater})
        add(f"updater:{updater}:gblinear", {**BASE, "booster": "gblinear", "updater": updater})
        add(f"updater:{updater}:update", {**BASE, "process_type": "update", "updater": updater})
        add(f"updater:{updater}:dart", {**BASE, "booster": "dart", "updater": updater})
    for value in ("grow_colmaker,prune", "grow_histmaker,prune", "grow_colmaker,grow_histmaker", "grow_colmaker,grow_colmaker",
                  "refresh,prune", "prune,refresh", "grow_colmaker,refresh,prune", "grow_skmaker,prune", "distcol,prune",
                  "sync,prune", "shotgun,coord_descent", "grow_colmaker, prune", "grow_colmaker,", "", "grow_histmaker,sync",
                  "grow_quantile_histmaker,prune", "grow_local_histmaker,prune"):  # fmt: skip
        add(f"updater_list:{value}", {**BASE, "updater": value})
        add(f"updater_list:{value}:update", {**BASE, "process_type": "update", "updater": value})
    add("updater_list:shotgun,coord_descent:gblinear", {**BASE, "booster": "gblinear", "updater": "shotgun,coord_descent"})
    add("process_type:update:no_updater", {**BASE, "process_type": "update"})
    add("booster:gblinear:no_updater", {**BASE, "booster": "gblinear", "lambda": "1", "alpha": "0.1"})
    add("booster:dart:params", {**BASE, "booster": "dart", "rate_drop": "0.1", "one_drop": "1", "skip_drop": "0.5",
                                 "sample_type": "weighted", "normalize_type": "forest"})  # fmt: skip
    add("booster:gbtree:dart_params", {**BASE, "booster": "gbtree", "rate_drop": "0.1"})

    # -- monotone_constraints and interaction_constraints, with every tree_method and none
    for method in (None, *CHOICES["tree_method"]):
        tm = {"tree_method": method} if method else {}
        add(f"monotone:{method}", {**BASE, **tm, "monotone_constraints": "(1,-1,0)"})
        add(f"interaction:{method}", {**BASE, **tm, "interaction_constraints": "[[1,2],[3,4]]"})
    for value in ("(1,-1,0)", "(1,)", "()", "(1)", "1,-1", "[1,-1]", "(1.0,0)", "(True,0)", "(2,0)", "(-2,)", "(1, -1, 0)",
                  "foo", "(1,0", "'10'", "None", "(1,None)", "", "{1,0}"):  # fmt: skip
        add(f"monotone_value:{value}", {**BASE, "tree_method": "hist", "monotone_constraints": value})
    for value in ("[[1,2],[3,4]]", "[[1,2]]", "[]", "[[]]", "[[0,1]]", "[[1.5,2]]", "[(1,2)]", "((1,2),)", "[1,2]",
                  "[[1,2]", "foo", "[['a']]", "[[True,2]]", "[[-1]]", "[[1,2],[2,3]]", "", "[[1, 2], [3, 4]]",
                  "''", "{}", "()", "set()"):  # fmt: skip
        add(f"interaction_value:{value}", {**BASE, "tree_method": "hist", "interaction_constraints": value})

    # -- base_score with each objective family
    for objective in ("binary:logistic", "binary:logitraw", "reg:logistic", "binary:hinge", "reg:squarederror", None):
        obj = {"objective": objective} if objective else {}
        for value in ("0", "0.5", "1", "1.5", "nan", "inf", "1e-9"):
            add(f"base_score:{objective}:{value}", {**BASE, **obj, "base_score": value})

    # -- container-only keys
    add("kfold", {**BINARY, "_kfold": "5", "_num_cv_round": "2"})
    add("early_stopping", {**BINARY, "early_stopping_rounds": "5", "eval_metric": "auc"})
    add("csv_weights", {**BINARY, "csv_weights": "1"})
    add("all_good", {**BINARY, "eta": "0.1", "gamma": "1", "max_depth": "6", "min_child_weight": "1", "subsample": "0.9",
                     "colsample_bytree": "0.8", "lambda": "1", "alpha": "0", "tree_method": "hist", "max_bin": "256",
                     "scale_pos_weight": "2", "eval_metric": "auc,logloss", "seed": "7", "verbosity": "1"})  # fmt: skip
    return cases


def _random(version: str, count: int) -> list[tuple[str, dict[str, str]]]:
    """Random mixtures of the systematic values, a few names each, over a random base."""
    rng = random.Random(zlib.crc32(f"hyperparameters/{version}".encode()))
    pool: dict[str, list[str]] = {}
    for name, spec in INTEGERS.items():
        pool[name] = [v for _, v in _bounds(name, spec, integer=True)] + ["1.0", " 3", "abc"]
    for name, spec in FLOATS.items():
        pool[name] = [v for _, v in _bounds(name, spec, integer=False)] + ["nan", "inf", "1e-3"]
    for name, choices in CHOICES.items():
        pool[name] = [*choices, choices[0].upper()]
    pool["objective"] = list(OBJECTIVES)
    pool["eval_metric"] = [*METRICS, "auc,logloss", "error@0.5", "ndcg@3", "mlogloss,merror"]
    pool["updater"] = [*UPDATERS, "grow_colmaker,prune", "refresh,prune", "shotgun"]
    pool["monotone_constraints"] = ["(1,-1)", "(1,)", "(2,)"]
    pool["interaction_constraints"] = ["[[1,2]]", "[[0,1]]"]
    for alias in ALIASES:
        pool[alias] = ["0.1", "1", "-1"]
    names = sorted(pool)
    out = []
    for i in range(count):
        hps = {"num_round": rng.choice(["10", "10", "10", "1", "0"])}
        if rng.random() < 0.8:
            hps["objective"] = rng.choice(["binary:logistic", "binary:logistic", "reg:squarederror", "multi:softprob"])
            if hps["objective"].startswith("multi:") and rng.random() < 0.8:
                hps["num_class"] = "3"
        for name in rng.sample(names, rng.randint(1, 5)):
            hps[name] = rng.choice(pool[name])
        out.append((f"random:{i}", hps))
    return out


def corpus(version: str) -> list[tuple[str, dict[str, str]]]:
    """The whole corpus for an image version: the systematic cases, then 150 random mixtures."""
    cases = _systematic() + _random(version, 150)
    ids = [case_id for case_id, _ in cases]
    duplicates = {case_id for case_id in ids if ids.count(case_id) > 1}
    assert not duplicates, f"duplicate case ids: {sorted(duplicates)[:5]}"
    return cases
