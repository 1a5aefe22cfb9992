"""The rule tables of SageMaker's built-in XGBoost container: names, kinds, ranges, choices and aliases.

Data only; :mod:`model_training.algorithm.hyperparameter_values` parses values by these tables and
:mod:`model_training.algorithm.hyperparameters` applies them.  Unless a comment says otherwise, each table is
the one of "SageMaker XGBoost container, algorithm_mode/hyperparameter_validation.py, image 3.0-5", which
declares the same rules for image 1.7-1; a value is parsed as "SageMaker XGBoost container,
sagemaker_algorithm_toolkit/hyperparameter_validation.py" parses it.  Where we are stricter than the
container, the comment says so and why the training job would fail; the README lists those cases, and
``tests/oracle/test_hyperparameters_oracle.py`` shows each failing in the container's own training.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from model_training.algorithm.images import IMAGE_VERSIONS

ALIASES: dict[str, str] = {
    # hyperparameter_validation.py: hyperparameters.declare_alias(key, alias) -- alias -> key.
    "learning_rate": "eta",
    "min_split_loss": "gamma",
    "reg_lambda": "lambda",
    "reg_alpha": "alpha",
}
"""Alias -> canonical XGBoost name, exactly the aliases the container declares."""

CONTAINER_ONLY: frozenset[str] = frozenset(
    {
        # Read (and, in train.py, popped) by the container itself; never meant for xgboost.train().
        "num_round",
        "csv_weights",
        "early_stopping_rounds",
        "save_model_on_termination",
        "use_dask_gpu_training",
        "_tuning_objective_metric",
        "_kfold",
        "_num_cv_round",
    }
)
"""Hyperparameters the container consumes itself; they are left out of ``ParsedHyperparameters.params``."""

# SageMaker XGBoost container, constants/xgb_constants.py, image 3.0-5: XGB_MAXIMIZE_METRICS and
# XGB_MINIMIZE_METRICS, the eval_metric names the container accepts; early stopping maximizes the first.
MAXIMIZE_METRICS: tuple[str, ...] = (
    "accuracy",
    "auc",
    "aucpr",
    "balanced_accuracy",
    "f1",
    "f1_binary",
    "f1_macro",
    "map",
    "ndcg",
    "precision",
    "r2",
    "recall",
    "precision_macro",
    "precision_micro",
    "recall_macro",
    "recall_micro",
)
MINIMIZE_METRICS: tuple[str, ...] = (
    "aft-nloglik",
    "cox-nloglik",
    "error",
    "gamma-deviance",
    "gamma-nloglik",
    "interval-regression-accuracy",
    "logloss",
    "mae",
    "mape",
    "merror",
    "mlogloss",
    "mphe",
    "mse",
    "poisson-nloglik",
    "rmse",
    "rmsle",
    "tweedie-nloglik",
)
METRICS: tuple[str, ...] = MAXIMIZE_METRICS + MINIMIZE_METRICS

CONTAINER_METRICS: frozenset[str] = frozenset(
    {
        # The container computes these itself (metrics/custom_metrics.py: CUSTOM_METRICS, passed as ``feval``
        # on 1.7-1 and ``custom_metric`` on 3.0-5) and removes them from the ``eval_metric`` it gives XGBoost
        # (train_utils.py), even ``rmse`` and ``mae``, which XGBoost also knows.
        "accuracy",
        "balanced_accuracy",
        "f1",
        "f1_binary",
        "f1_macro",
        "mae",
        "mse",
        "rmse",
        "precision",
        "precision_macro",
        "precision_micro",
        "r2",
        "recall",
        "recall_macro",
        "recall_micro",
    }
)
"""``eval_metric`` names the container evaluates itself; XGBoost does not know them."""

# CategoricalHyperparameter(name="objective").  The container's list also holds "aft_loss_distribution" (a
# hyperparameter's name in the objective list): it accepts it and XGBoost fails with "Unknown objective
# function" (stricter: refused here, see AFT_AS_OBJECTIVE).
OBJECTIVES: tuple[str, ...] = (
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
AFT_AS_OBJECTIVE = "aft_loss_distribution"

# tree_method_range_validator.
TREE_METHODS: tuple[str, ...] = ("auto", "exact", "approx", "hist", "gpu_hist")

# Per-version tables: images 1.7-1 and 3.0-5 declare the same rules (their files differ only in formatting);
# what differs between them is XGBoost (1.7.4, 3.0.5), at training time.
VERSION_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    version: {"objective": OBJECTIVES, "eval_metric": METRICS, "tree_method": TREE_METHODS} for version in IMAGE_VERSIONS
}

MULTI_CLASS_OBJECTIVES = ("multi:softmax", "multi:softprob")
# Stricter: XGBoost's logistic losses fail with "base_score must be in (0,1) for logistic loss" (the
# container's BASE_SCORE_RANGE_ERROR, constants/xgb_constants.py); binary:logitraw takes any base_score.
LOGISTIC_OBJECTIVES = ("binary:logistic", "reg:logistic")
# CommaSeparatedListHyperparameter(name="updater"): its range, without repeats.  grow_local_histmaker and
# grow_quantile_histmaker are not in it (the container refuses both).
UPDATER_RANGE = (
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_skmaker",
    "sync",
    "refresh",
    "prune",
    "shotgun",
    "coord_descent",
)
# Stricter: in the container's range, but XGBoost 1.7 and 3.0 fail with "Unknown tree updater".
UPDATERS_UNKNOWN_TO_XGBOOST = ("grow_skmaker", "distcol")
# updater_validator: what a tree booster takes, and which of them grow trees (at most one).
TREE_UPDATERS = ("grow_colmaker", "distcol", "grow_histmaker", "grow_skmaker", "sync", "refresh", "prune")
TREE_BUILD_UPDATERS = ("grow_colmaker", "distcol", "grow_histmaker")
LINEAR_UPDATERS = ("shotgun", "coord_descent")
PROCESS_UPDATE_UPDATERS = ("refresh", "prune")
# eval_metric_range_validator: the metrics that take '@t'.
THRESHOLD_METRICS = ("error", "ndcg", "map")
# Stricter: XGBoost fails with "tweedie-nloglik must be in format tweedie-nloglik@rho", and the container
# refuses the '@rho' form.
METRICS_NEEDING_A_PARAMETER = ("tweedie-nloglik",)
# Stricter: XGBoost's multi-class metrics fail with "label must be in [0, num_class)" for one output per row.
MULTI_CLASS_METRICS = ("mlogloss", "merror")

# CreateTrainingJob API: HyperParameters holds at most 100 entries, keys up to 256 and values up to 2500
# characters.
MAX_ENTRIES = 100
MAX_KEY_LENGTH = 256
MAX_VALUE_LENGTH = 2500

REMOVED: dict[str, str] = {
    "silent": "'silent' was removed in container 1.2-1: use 'verbosity' instead (0 silent, 1 warning, 2 info, 3 debug)",
    "single_precision_histogram": "'single_precision_histogram' is not a hyperparameter of images 1.7-1 and 3.0-5 "
    "(XGBoost 1.6 removed it): leave it out",
}
"""Names the container refuses that earlier images or XGBoost versions took, with what to do instead."""


# --------------------------------------------------------------------------------------------------------------
# Specifications
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A numeric range like the toolkit's ``hpv.Interval`` (``None`` bound = unbounded)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.high_open else value > self.high))

    def __str__(self) -> str:
        low = "(-inf" if self.low is None else ("(" if self.low_open else "[") + number_text(self.low)
        high = "+inf)" if self.high is None else number_text(self.high) + (")" if self.high_open else "]")
        return f"{low}, {high}"

    @property
    def is_flag(self) -> bool:
        """True for the integer ranges [0, 1] (0/1 switches such as csv_weights)."""
        return self.low == 0 and self.high == 1 and not self.low_open and not self.high_open


@dataclass(frozen=True)
class Spec:
    """One accepted hyperparameter: its canonical name, kind and allowed values."""

    name: str
    kind: str  # "int" | "float" | "choice" | "metrics" | "updater" | "tuple" | "nested"
    interval: Interval | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""


def interval(low: float | None = None, high: float | None = None, *, lo_open: bool = False, hi_open: bool = False) -> Interval:
    return Interval(low, high, lo_open, hi_open)


@cache
def specs(version: str) -> dict[str, Spec]:
    """The container's hyperparameter table for ``version``, in its order.

    Source: SageMaker XGBoost container, algorithm_mode/hyperparameter_validation.py, image 3.0-5 (image 1.7-1
    declares the same table).
    """
    tables = VERSION_TABLES[version]
    true_false = ("true", "false")
    unit_interval = interval(0, 1)
    fraction = interval(0, 1, lo_open=True)  # (0, 1]
    non_negative = interval(0)
    specs = [
        Spec("num_round", "int", interval(1), unit="boosting rounds"),
        Spec("csv_weights", "int", unit_interval, unit="0 or 1: column 2 of the CSV holds instance weights"),
        Spec("early_stopping_rounds", "int", interval(1), unit="rounds"),
        Spec("booster", "choice", choices=("gbtree", "gblinear", "dart")),
        Spec("verbosity", "int", interval(0, 3)),
        Spec("nthread", "int", interval(1), unit="threads"),
        Spec("eta", "float", unit_interval),
        Spec("gamma", "float", non_negative),
        Spec("max_depth", "int", non_negative),
        Spec("min_child_weight", "float", non_negative),
        Spec("max_delta_step", "float", non_negative),
        Spec("subsample", "float", fraction),
        Spec("colsample_bytree", "float", fraction),
        Spec("colsample_bylevel", "float", fraction),
        Spec("colsample_bynode", "float", fraction),
        Spec("lambda", "float", non_negative),
        Spec("alpha", "float", non_negative),
        Spec("tree_method", "choice", choices=tables["tree_method"]),
        Spec("sketch_eps", "float", interval(0, 1, lo_open=True, hi_open=True)),
        Spec("scale_pos_weight", "float", interval(0, lo_open=True)),
        Spec("updater", "updater", choices=UPDATER_RANGE),
        Spec("dsplit", "choice", choices=("row", "col")),
        Spec("refresh_leaf", "int", unit_interval),
        Spec("process_type", "choice", choices=("default", "update")),
        Spec("grow_policy", "choice", choices=("depthwise", "lossguide")),
        Spec("max_leaves", "int", non_negative),
        # Stricter than the container (>= 0): XGBoost 1.7 and 3.0 refuse max_bin < 2 whatever the tree method.
        Spec("max_bin", "int", interval(2)),
        Spec("predictor", "choice", choices=("auto", "cpu_predictor", "gpu_predictor")),
        Spec("monotone_constraints", "tuple"),
        # The container requires every index >= 1 (Interval(min_closed=1)), although XGBoost's feature indices
        # start at 0.  Stricter: it passes the parsed lists on, which XGBoost's Python layer reads as feature
        # names, and SageMaker's CSV channels have none, so any feature named fails the job.
        Spec("interaction_constraints", "nested", interval(1)),
        Spec("sample_type", "choice", choices=("uniform", "weighted")),
        Spec("normalize_type", "choice", choices=("tree", "forest")),
        Spec("rate_drop", "float", unit_interval),
        Spec("one_drop", "int", unit_interval),
        Spec("skip_drop", "float", unit_interval),
        Spec("lambda_bias", "float", unit_interval),
        Spec("tweedie_variance_power", "float", interval(1, 2, lo_open=True, hi_open=True)),
        Spec("objective", "choice", choices=tables["objective"]),
        Spec("num_class", "int", interval(2), unit="classes"),
        Spec("base_score", "float", non_negative),
        Spec("_kfold", "int", interval(2), unit="folds"),
        Spec("_num_cv_round", "int", interval(1)),
        # metrics.py: every metric has a tuning name "validation:<metric>".
        Spec("_tuning_objective_metric", "choice", choices=tuple(f"validation:{m}" for m in tables["eval_metric"])),
        Spec("eval_metric", "metrics", choices=tables["eval_metric"]),
        Spec("seed", "int", interval(-(2**31), 2**31 - 1, lo_open=True, hi_open=True)),
        Spec("num_parallel_tree", "int", interval(1)),
        Spec("save_model_on_termination", "choice", choices=true_false),
        Spec("aft_loss_distribution", "choice", choices=("normal", "logistic", "extreme")),
        Spec("aft_loss_distribution_scale", "float", non_negative),
        Spec("deterministic_histogram", "choice", choices=true_false),
        Spec("sampling_method", "choice", choices=("uniform", "gradient_based")),
        Spec("prob_buffer_row", "int", interval(1, lo_open=True)),
        Spec("use_dask_gpu_training", "choice", choices=true_false),
    ]
    return {spec.name: spec for spec in specs}


def number_text(value: float) -> str:
    """Shortest round-tripping text of a number, without a trailing '.0' ('0.2', '4', '1e-05', 'nan')."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
