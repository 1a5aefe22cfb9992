"""The ``eval_metric`` names SageMaker's XGBoost container computes itself, outside XGBoost, and how it
hands them to ``xgboost.train``, so the local backend logs and stops on them as the container does.

Source of each rule: the SageMaker XGBoost container (images 1.7-1 and 3.0-5),
``metrics/custom_metrics.py`` and ``algorithm_mode/train_utils.py``:

* The metrics (:data:`~model_training.algorithm.hyperparameter_rules.CONTAINER_METRICS`) are scikit-learn's:
  ``accuracy``, ``balanced_accuracy``, ``precision``, ``recall`` (and their ``_macro``/``_micro``), ``f1``
  (macro), ``f1_binary``, ``f1_macro`` on class labels read from the prediction (above 0 for one output, the
  arg-max for several); ``mae``, ``mse``, ``rmse``, ``r2`` on the prediction itself.
* They reach XGBoost as one evaluation function: ``feval`` on 1.7-1 (transformed predictions, so the class
  labels of a logistic model are all 1: the container's behaviour, kept), ``custom_metric`` on 3.0-5 (raw
  margins).
* With ``_tuning_objective_metric`` (``validation:auc`` ...) the metrics are the sorted union of its names and
  ``eval_metric``, and early stopping watches its last name; otherwise ``eval_metric``'s last.
* The rest go to XGBoost as ``eval_metric`` (none left: XGBoost's default metric for the objective).  The
  container orders them as a Python set when some of its own are present, which differs from run to run;
  here they keep their given order.

scikit-learn is imported only when one of these metrics is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from model_training.algorithm.hyperparameter_rules import CONTAINER_METRICS
from model_training.errors import ConfigurationError
from model_training.training.xgboost_import import import_visible


@dataclass(frozen=True)
class MetricPlan:
    """What ``xgboost.train`` gets for evaluation, as the container builds it.

    Attributes:
        native: ``eval_metric`` for XGBoost (``None``: leave it out, XGBoost picks the objective's default).
        custom: the container's own metrics, evaluated by one function, in order.
        stop_on: the metric early stopping watches (``None``: no early stopping).
    """

    native: list[str] | None
    custom: list[str]
    stop_on: str | None


#: How each image's container hands its own metrics to ``xgboost.train``: 3.0-5 as ``custom_metric`` (called with
#: raw margins), 1.7-1 as ``feval`` (called with transformed predictions).
METRIC_ARGUMENT = {"3.0-5": "custom_metric", "1.7-1": "feval"}


def plan_metrics(eval_metric: list[str] | None, tuning_objective_metric: str | None) -> MetricPlan:
    """The container's split of ``eval_metric`` (and the tuning metric) into XGBoost's and its own."""
    tuning = tuning_objective_metric.split(":", 1)[1].split(",") if tuning_objective_metric else None
    if tuning and eval_metric:
        union: list[str] | None = sorted(set(tuning) | set(eval_metric))
    else:
        union = tuning or eval_metric or None
    custom = [m for m in union or [] if m in CONTAINER_METRICS]
    native = [m for m in union or [] if m not in CONTAINER_METRICS] or None
    stop_on = tuning[-1] if tuning else (eval_metric[-1] if eval_metric else None)
    return MetricPlan(native=native, custom=custom, stop_on=stop_on)


def evaluation_function(names: list[str]) -> Callable[[Any, Any], list[tuple[str, float]]]:
    """One function that evaluates each of ``names`` (container metrics) on ``(predictions, dmatrix)``.

    Raises:
        ConfigurationError: scikit-learn is not installed (it comes with the ``local`` extra).
    """
    import numpy as np

    try:
        skm = import_visible("sklearn.metrics")  # not while a DMatrix is built without pandas (xgboost_import)
    except ImportError:
        raise ConfigurationError(
            f"eval_metric {', '.join(names)} is computed by the container with scikit-learn, which is not installed",
            "install the local extra (pip install -e '.[local]'), or pip install scikit-learn",
        ) from None

    def labels_of(preds: Any) -> Any:
        return np.argmax(preds, axis=-1) if preds.ndim > 1 else (preds > 0.0).astype(int)

    def on_labels(score: Callable[[Any, Any], float]) -> Callable[[Any, Any], float]:
        return lambda preds, dmatrix: float(score(dmatrix.get_label(), labels_of(preds))) if preds.size else 0.0

    def on_values(score: Callable[[Any, Any], float]) -> Callable[[Any, Any], float]:
        return lambda preds, dmatrix: float(score(dmatrix.get_label(), preds))

    def rmse(truth: Any, preds: Any) -> float:
        root = getattr(skm, "root_mean_squared_error", None)  # scikit-learn >= 1.4; `squared=False` before
        return float(root(truth, preds)) if root else float(skm.mean_squared_error(truth, preds, squared=False))

    table: dict[str, Callable[[Any, Any], float]] = {
        "accuracy": on_labels(skm.accuracy_score),
        "balanced_accuracy": on_labels(skm.balanced_accuracy_score),
        "f1": on_labels(lambda t, p: skm.f1_score(t, p, average="macro")),
        "f1_binary": on_labels(lambda t, p: skm.f1_score(t, p, average="binary")),
        "f1_macro": on_labels(lambda t, p: skm.f1_score(t, p, average="macro")),
        "precision": on_labels(skm.precision_score),
        "precision_macro": on_labels(lambda t, p: skm.precision_score(t, p, average="macro")),
        "precision_micro": on_labels(lambda t, p: skm.precision_score(t, p, average="micro")),
        "recall": on_labels(skm.recall_score),
        "recall_macro": on_labels(lambda t, p: skm.recall_score(t, p, average="macro")),
        "recall_micro": on_labels(lambda t, p: skm.recall_score(t, p, average="micro")),
        "mae": on_values(skm.mean_absolute_error),
        "mse": on_values(skm.mean_squared_error),
        "rmse": on_values(rmse),
        "r2": on_values(skm.r2_score),
    }
    chosen = [(name, table[name]) for name in names]

    def evaluate(preds: Any, dmatrix: Any) -> list[tuple[str, float]]:
        return [(name, fn(preds, dmatrix)) for name, fn in chosen]

    return evaluate
