"""The rules of hyperparameter tuning: what the SageMaker XGBoost container lets a tuning job search, and
what SageMaker's ``CreateHyperParameterTuningJob`` accepts.  Data only; :mod:`.tuning_spec` applies them.

Sources, named at each rule:

* the container: "SageMaker XGBoost container, algorithm_mode/hyperparameter_validation.py, image 3.0-5"
  (image 1.7-1 declares the same): which hyperparameters are ``tunable=True`` and their
  ``tunable_recommended_range``; "algorithm_mode/metrics.py": the objective metrics and their directions;
  "sagemaker_algorithm_toolkit/hyperparameter_validation.py": how its metadata formats the ranges
  (``Interval.format_as_integer``: unbounded integer ranges end at -2**31 and 2**31 - 1);
* the service model of the SageMaker API (botocore's ``sagemaker/2017-07-24/service-2.json``): enums,
  lengths, minimums, names' patterns;
* the SageMaker Developer Guide: "How hyperparameter tuning with Amazon SageMaker works" (Grid searches
  categorical ranges only, its trial count is the number of combinations), "Define Hyperparameter Ranges"
  (scaling types), "Resource Limits for Automatic Model Tuning" (trials, parallel trials, values), and the
  API reference of ``HyperbandStrategyConfig`` and ``HyperParameterTuningJobConfig``.

``tests/oracle/test_tuning_oracle.py`` builds the container's own metadata for both images and requires the
same tunable hyperparameters, recommended ranges, metrics and directions as here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from model_training.algorithm.hyperparameter_rules import MAXIMIZE_METRICS, MINIMIZE_METRICS

# --------------------------------------------------------------------------------------------------------------
# The container's metadata
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommended:
    """A tunable hyperparameter's ``tunable_recommended_range``: closed bounds and the scale."""

    low: float
    high: float
    scaling: str


#: The hyperparameters the container declares ``tunable=True``, each with its recommended range (every one
#: ``hpv.Interval(min_closed=..., max_closed=..., scale=LINEAR_SCALE)``), in the container's order.  Every
#: other hyperparameter is ``tunable=False`` (the default), ``booster`` and ``tree_method`` included: the
#: metadata the container publishes (``IsTunable``) is what SageMaker's tuning refuses other names by.
TUNABLE: dict[str, Recommended] = {
    "num_round": Recommended(1, 4000, "Linear"),
    "eta": Recommended(0.1, 0.5, "Linear"),
    "gamma": Recommended(0, 5, "Linear"),
    "max_depth": Recommended(0, 10, "Linear"),
    "min_child_weight": Recommended(0, 120, "Linear"),
    "max_delta_step": Recommended(0, 10, "Linear"),
    "subsample": Recommended(0.5, 1, "Linear"),
    "colsample_bytree": Recommended(0.5, 1, "Linear"),
    "colsample_bylevel": Recommended(0.1, 1, "Linear"),
    "colsample_bynode": Recommended(0.1, 1, "Linear"),
    "lambda": Recommended(0, 1000, "Linear"),
    "alpha": Recommended(0, 1000, "Linear"),
}

#: sagemaker_algorithm_toolkit/hyperparameter_validation.py, ``Interval.format_as_integer``: the metadata's
#: ``IntegerParameterRangeSpecification`` of an integer range unbounded above ends at 2**31 - 1 (the largest
#: 32-bit integer); every tunable integer (num_round, max_depth) is such a range.
INTEGER_METADATA_HIGH = 2**31 - 1

#: Service model: HyperParameterTuningJobObjectiveType (the toolkit's Metric.MAXIMIZE and Metric.MINIMIZE).
Direction = Literal["Maximize", "Minimize"]

#: algorithm_mode/metrics.py: every metric of XGB_MAXIMIZE_METRICS and XGB_MINIMIZE_METRICS is a tuning
#: objective ``validation:<metric>`` with that direction (the container's ``_tuning_objective_metric``
#: takes exactly these names).
OBJECTIVE_METRICS: dict[str, Direction] = {
    **{f"validation:{metric}": "Maximize" for metric in MAXIMIZE_METRICS},
    **{f"validation:{metric}": "Minimize" for metric in MINIMIZE_METRICS},
}

#: The hyperparameter through which a tuning job gives each of its training jobs the objective metric (the
#: container's algorithm_mode/train.py pops it, adds its metric to ``eval_metric`` and stops early on it): the
#: search's to set, never a static hyperparameter of it.
TUNING_OBJECTIVE_HYPERPARAMETER = "_tuning_objective_metric"

#: XGBoost's objective when none is given (XGBoost's learning task parameters); the container then trains
#: with it, and evaluates the tuning metric on it.
XGBOOST_DEFAULT_OBJECTIVE = "reg:squarederror"

# --------------------------------------------------------------------------------------------------------------
# The tuning service
# --------------------------------------------------------------------------------------------------------------

#: Service model: HyperParameterTuningJobStrategyType.  Bayesian is the SageMaker Python SDK's default.
Strategy = Literal["Bayesian", "Random", "Hyperband", "Grid"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
DEFAULT_STRATEGY: Strategy = "Bayesian"
#: Service model: HyperParameterScalingType.  "Define Hyperparameter Ranges": Logarithmic needs values > 0,
#: ReverseLogarithmic values in [0, 1); the service model's IntegerParameterRange offers no
#: ReverseLogarithmic (continuous ranges only).
Scaling = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]
SCALINGS: tuple[str, ...] = get_args(Scaling)
DEFAULT_SCALING: Scaling = "Auto"
#: Service model: TrainingJobEarlyStoppingType; "Off" is the service's default.
EarlyStopping = Literal["Off", "Auto"]
EARLY_STOPPING_TYPES: tuple[str, ...] = get_args(EarlyStopping)
DEFAULT_EARLY_STOPPING: EarlyStopping = "Off"
#: Service model: HyperParameterTuningJobWarmStartType.
WarmStartType = Literal["IdenticalDataAndAlgorithm", "TransferLearning"]
WARM_START_TYPES: tuple[str, ...] = get_args(WarmStartType)
DEFAULT_WARM_START_TYPE: WarmStartType = "IdenticalDataAndAlgorithm"

#: Service model: ParentHyperParameterTuningJobs has 1 to 5 members.
MAX_PARENTS = 5
#: Service model: HyperParameterTuningJobName, 1 to 32 characters (a run id of this stage, 16 hex digits, is one).
PARENT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}")
#: Service model: ParameterValues has 1 to 30 members ("Resource Limits for Automatic Model Tuning": each
#: categorical hyperparameter can have at most 30 different values).  The same page allows 30 hyperparameters to
#: search, and "Define Hyperparameter Ranges" 100 in all (static, tuned and the ``_tuning_objective_metric`` the
#: tuning job adds): neither can be reached, with 12 tunable hyperparameters and fewer than 60 names in all.
MAX_CATEGORICAL_VALUES = 30
#: "Resource Limits for Automatic Model Tuning": training jobs per tuning job, by strategy.  Bayesian, Hyperband
#: and Grid are 750 and cannot be raised; Random is 750 by default and can be raised to 10000.
MAX_TRIALS: dict[str, int] = {"Bayesian": 750, "Random": 10_000, "Hyperband": 750, "Grid": 750}
#: "Resource Limits for Automatic Model Tuning": parallel training jobs per tuning job, 10 by default, at most
#: 100 when raised; the service model's MaxParallelTrainingJobs is at least 1.
MAX_PARALLEL_TRIALS = 100
#: HyperbandStrategyConfig: MaxResource is at most 20,000; both it and MinResource are at least 1 (service
#: model).  XGBoost's resource is the boosting round (the container logs the metrics once per round).
MAX_HYPERBAND_RESOURCE = 20_000
#: Service model: RandomSeed is an integer >= 0 (a 32-bit integer, as every integer of the service).
MAX_SEED = 2**31 - 1


def objective_direction(metric: str) -> Direction:
    """``"Maximize"`` or ``"Minimize"``: the container's direction for a tuning objective metric such as
    ``validation:auc`` (algorithm_mode/metrics.py, by XGB_MAXIMIZE_METRICS and XGB_MINIMIZE_METRICS).

    Raises:
        ValueError: ``metric`` is not one of the container's objective metrics (:data:`OBJECTIVE_METRICS`).
    """
    try:
        return OBJECTIVE_METRICS[metric]
    except KeyError:
        raise ValueError(f"{metric!r} is not an objective metric of the SageMaker XGBoost container") from None
