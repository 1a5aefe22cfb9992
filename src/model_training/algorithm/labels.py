"""Label rules of the built-in XGBoost algorithm, checked before a job is started.

Source: XGBoost's objectives, which the container applies as they are (a label they refuse fails the
training job once it runs): labels must lie in [0, 1] for the logistic and hinge objectives, and be integers
in [0, num_class) for the multi-class ones.  Without ``num_class`` (inferred from the labels: the largest
plus one) a multi-class label must be an integer from 0.  Some regression objectives bound the label from below
(:data:`LABEL_FLOORS`), and ``survival:aft`` cannot train from a CSV channel at all (:func:`objective_problem`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported by the checks that take labels: the run record's label_text needs none
    import numpy as np

#: Objectives whose labels must lie in [0, 1].
UNIT_LABEL_OBJECTIVES = ("binary:logistic", "binary:logitraw", "reg:logistic", "binary:hinge")
#: The smallest label of the regression objectives that bound it, and whether that bound is a label they take:
#: XGBoost's label checks (``regression_obj.cu``, the same in 1.7.4 and 3.0.5, the releases of images 1.7-1 and
#: 3.0-5): gamma "label must be positive", Tweedie and Poisson "label must be nonnegative", squared log error
#: "label must be greater than -1 ... log(label + 1)".  A label below fails the training job.
LABEL_FLOORS: dict[str, tuple[float, bool]] = {
    "reg:gamma": (0.0, False),
    "reg:tweedie": (0.0, True),
    "count:poisson": (0.0, True),
    "reg:squaredlogerror": (-1.0, False),
}
#: The objectives whose label values are classes (XGBoost's binary and multi-class objectives).
CLASSIFICATION_PREFIXES = ("binary:", "multi:")


def is_classification(objective: str | None) -> bool:
    """Whether ``objective``'s labels are classes (``binary:``, ``multi:``); the others' (``reg:``, ``count:``,
    ``survival:``, ``rank:``, and no objective: XGBoost's default ``reg:squarederror``) are quantities."""
    return (objective or "").startswith(CLASSIFICATION_PREFIXES)


def label_problem(labels: np.ndarray, objective: str | None, num_class: int | None) -> tuple[int, str] | None:
    """The first label that ``objective`` cannot train on, as ``(row index, reason)``; ``None`` if all are fine.

    Args:
        labels: float label values, one per row.
        num_class: the ``num_class`` hyperparameter; ``None`` under a ``multi:`` objective means it is inferred
            from the labels, which must then be integers from 0.
    """
    import numpy as np

    objective = objective or ""
    if objective in UNIT_LABEL_OBJECTIVES:
        bad = np.flatnonzero((labels < 0) | (labels > 1))
        if bad.size:
            return int(bad[0]), f"label {labels[bad[0]]:g} is outside [0, 1], which {objective} requires"
    elif objective in LABEL_FLOORS:
        floor, taken = LABEL_FLOORS[objective]
        bad = np.flatnonzero(labels < floor if taken else labels <= floor)
        if bad.size:
            bound = f"{floor:g} or more" if taken else f"above {floor:g}"
            return int(bad[0]), f"label {labels[bad[0]]:g} is not {bound}, which {objective} requires"
    elif objective.startswith("multi:") and num_class:
        bad = np.flatnonzero((labels < 0) | (labels >= num_class) | (labels != np.floor(labels)))
        if bad.size:
            return int(bad[0]), (
                f"label {labels[bad[0]]:g} is not an integer in [0, {num_class}) as num_class={num_class} requires"
            )
    elif objective.startswith("multi:"):
        bad = np.flatnonzero((labels < 0) | (labels != np.floor(labels)))
        if bad.size:
            return int(bad[0]), (
                f"label {labels[bad[0]]:g} is not a class number (an integer from 0) as {objective} requires "
                "(num_class is inferred from the labels: the largest plus one)"
            )
    return None


def label_rule(objective: str | None) -> str | None:
    """What ``objective`` takes as a label, as a hint says it (``0 or 1 for binary:logistic``), or ``None`` where any
    number will do (:func:`label_problem`'s rules)."""
    objective = objective or ""
    if objective.startswith("binary:"):
        return f"0 or 1 for {objective}"
    if objective in UNIT_LABEL_OBJECTIVES:
        return f"from 0 to 1 for {objective}"
    if objective.startswith("multi:"):
        return f"a class number from 0 for {objective}"
    if objective in LABEL_FLOORS:
        floor, taken = LABEL_FLOORS[objective]
        return f"{floor:g} or more for {objective}" if taken else f"above {floor:g} for {objective}"
    return None


def objective_problem(objective: str | None) -> str | None:
    """Why ``objective`` cannot train on any CSV channel, or ``None``: ``survival:aft`` trains on each row's lower
    and upper label bounds, which XGBoost takes besides the label (``label_lower_bound``, ``label_upper_bound``) and
    the container's CSV reader never sets (its training fails: "labels_lower_bound_.Size() == ndata (0 vs. N)",
    images 1.7-1 and 3.0-5 alike; ``tests/oracle/test_default_metrics_oracle.py``)."""
    if objective == "survival:aft":
        return (
            "survival:aft trains on each row's lower and upper label bounds, which a CSV channel cannot carry (the "
            "container reads one label column, and its training fails on every CSV file)"
        )
    return None


def label_text(value: float) -> str:
    """A label value as the run record writes it: ``1`` for 1.0, ``0.5`` for 0.5 (``repr`` otherwise)."""
    return str(int(value)) if value.is_integer() else repr(value)


#: Whole-number labels up to this many classes (0 to 99) with no class missing look like class numbers.
MAX_SUGGESTED_CLASSES = 100


def suggested_objective(labels: np.ndarray) -> str | None:
    """The objective a column of labels looks like it needs, for hints only (a setting never follows it):
    ``None`` for 0/1 labels (the default ``binary:logistic`` fits), ``multi:softprob`` for whole numbers from 0
    with every class up to the largest present (at most :data:`MAX_SUGGESTED_CLASSES`), else
    ``reg:squarederror`` (a quantity).  ``labels``: float label values, one per row (at least one)."""
    import numpy as np

    if labels.size == 0 or bool(((labels == 0) | (labels == 1)).all()):
        return None
    whole = bool((labels == np.floor(labels)).all()) and labels.min() >= 0
    if whole and labels.max() < MAX_SUGGESTED_CLASSES and np.unique(labels).size == int(labels.max()) + 1:
        return "multi:softprob"
    return "reg:squarederror"
