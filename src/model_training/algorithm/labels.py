"""Label rules of the built-in XGBoost algorithm, checked before a job is started.

Source: XGBoost's objectives, which the container applies as they are (a label they refuse fails the
training job once it runs): labels must lie in [0, 1] for the logistic and hinge objectives, and be integers
in [0, num_class) for the multi-class ones.  Without ``num_class`` (inferred from the labels: the largest
plus one) a multi-class label must be an integer from 0.
"""

from __future__ import annotations

import numpy as np

#: Objectives whose labels must lie in [0, 1].
UNIT_LABEL_OBJECTIVES = ("binary:logistic", "binary:logitraw", "reg:logistic", "binary:hinge")
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
    objective = objective or ""
    if objective in UNIT_LABEL_OBJECTIVES:
        bad = np.flatnonzero((labels < 0) | (labels > 1))
        if bad.size:
            return int(bad[0]), f"label {labels[bad[0]]:g} is outside [0, 1], which {objective} requires"
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
    if labels.size == 0 or bool(((labels == 0) | (labels == 1)).all()):
        return None
    whole = bool((labels == np.floor(labels)).all()) and labels.min() >= 0
    if whole and labels.max() < MAX_SUGGESTED_CLASSES and np.unique(labels).size == int(labels.max()) + 1:
        return "multi:softprob"
    return "reg:squarederror"
