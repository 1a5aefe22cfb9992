"""The ``eval_metric`` a run uses when no setting names one: it follows the objective.

The stage's default hyperparameters carry ``eval_metric=auc,logloss`` (:data:`BINARY_METRICS`), the metrics the
deployment and evaluation stages read of a ``binary:`` model.  Under another objective those do not apply (the
container refuses ``auc`` without a ``binary:`` or ``rank:`` objective), so the default is the objective's own
metric instead: the one XGBoost evaluates by default for it (its objectives' ``DefaultEvalMetric``, without the
``@32`` of the ranking ones), by the name the container accepts (SageMaker XGBoost container,
``constants/xgb_constants.py``: ``XGB_MAXIMIZE_METRICS`` and ``XGB_MINIMIZE_METRICS``, 3.0-5 and 1.7-1).  The
oracle test ``tests/oracle/test_default_metrics_oracle.py`` runs each through the container's validation and
its training.

A setting that names ``eval_metric`` (any layer: environment, SSM, manifest, ``-H``) is never replaced.
"""

from __future__ import annotations

#: The default of the ``binary:`` objectives (and of the stage's default objective, ``binary:logistic``):
#: early stopping stops on the last, the log loss.
BINARY_METRICS = "auc,logloss"

#: The default ``eval_metric`` of each objective; ``None``: none (``reg:tweedie``: XGBoost's own default is
#: ``tweedie-nloglik@{power}``, which the container refuses to be given, and its bare name fails the job).
DEFAULT_EVAL_METRICS: dict[str, str | None] = {
    "binary:logistic": BINARY_METRICS,
    "binary:logitraw": BINARY_METRICS,
    "binary:hinge": BINARY_METRICS,
    # the error rate, then the loss: early stopping stops on the loss, as with the binary default
    "multi:softmax": "merror,mlogloss",
    "multi:softprob": "merror,mlogloss",
    "reg:squarederror": "rmse",
    "reg:linear": "rmse",  # XGBoost's older name of reg:squarederror
    "reg:logistic": "rmse",
    "reg:squaredlogerror": "rmsle",
    "reg:pseudohubererror": "mphe",
    "reg:absoluteerror": "mae",
    "reg:gamma": "gamma-nloglik",
    "reg:tweedie": None,
    "count:poisson": "poisson-nloglik",
    "survival:cox": "cox-nloglik",
    "survival:aft": "aft-nloglik",
    "rank:pairwise": "ndcg",
    "rank:ndcg": "ndcg",
    "rank:map": "map",
}


def default_eval_metric(objective: str | None) -> str | None:
    """The ``eval_metric`` for ``objective`` when no setting names one (:data:`DEFAULT_EVAL_METRICS`):
    ``None`` for none (also without an objective: the container fails an ``eval_metric`` without one), and
    :data:`BINARY_METRICS` for an objective not in the table (a value the hyperparameter validation refuses,
    and reports as the objective's problem alone)."""
    if not objective:
        return None
    return DEFAULT_EVAL_METRICS.get(objective, BINARY_METRICS)


def metric_for_objective(hyperparameters: dict[str, object]) -> dict[str, object]:
    """``hyperparameters`` with the ``eval_metric`` of their objective
    (:func:`~model_training.algorithm.default_metrics.default_eval_metric`: ``auc,logloss`` for ``binary:``,
    ``rmse`` for ``reg:squarederror``, ``merror,mlogloss`` for ``multi:`` ...) in place of the default's, or
    without one where the objective has none (``reg:tweedie``).  For the callers to use only when no setting
    named ``eval_metric``: a given one is never replaced.  The key keeps its place, so under the default
    objective the hyperparameters (and the run id) are the defaults'."""
    objective = hyperparameters.get("objective")
    metric = default_eval_metric(None if objective is None else str(objective))
    out = dict(hyperparameters)
    if metric is None:
        out.pop("eval_metric", None)
    else:
        out["eval_metric"] = metric
    return out
