"""Every row's values checked (:func:`validate_rows`: the CSV structure, a number in each label and feature value, a
label that fits the objective), the labels' classes (what ``num_class`` is inferred from, and what ``auc`` needs),
and what the data sets instead of a setting (:func:`inferred_settings`).  The in-memory split calls them on the
whole file, the streaming split on each chunk (a chunk's line numbers are the file's); the messages are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np

from model_training.algorithm.hyperparameters import ParsedHyperparameters
from model_training.algorithm.labels import (
    UNIT_LABEL_OBJECTIVES,
    is_classification,
    label_problem,
    label_rule,
    label_text,
    objective_problem,
    suggested_objective,
)
from model_training.channels import channel_pieces, cut_fields
from model_training.config.run import RunConfig
from model_training.data.checks import NonNumericError, not_numeric, numeric_problems
from model_training.data.dataset import Dataset
from model_training.errors import COLUMN, LINE, DatasetError, Hint, Setting
from model_training.ports import SplitLabels
from model_training.validation.columns import inferred_drop


def validate_rows(
    dataset: Dataset,
    columns: list[str],
    config: RunConfig,
    hp: ParsedHyperparameters,
    indexed: Callable[[], object] | None = None,
) -> np.ndarray:
    """Check every row of ``dataset`` (a whole file, or one chunk of it): the CSV structure, a number in
    every label and feature value, a label that fits the objective (and, for the stratified strategy under a
    classification objective, a class: an integer).  Returns the labels as float64, one a row.  ``indexed`` is
    called once the rows are indexed (their number known), before the values are checked.

    Raises:
        DatasetError: an objective no CSV channel can train (``survival:aft``); a malformed row (its line); every
            label or feature column holding a value that is not a number, at once (:func:`numeric_error`); a label
            that does not fit the objective (its line and column).
    """
    check_rows(dataset, columns, config, hp, indexed)
    labels = dataset.numbers(config.label)
    problem = label_fit_problem(dataset, config, hp, labels)
    if problem is not None:
        raise problem.error
    return labels


def check_rows(
    dataset: Dataset,
    columns: list[str],
    config: RunConfig,
    hp: ParsedHyperparameters,
    indexed: Callable[[], object] | None = None,
) -> None:
    """:func:`validate_rows`' checks up to the labels' fit: the objective, the CSV structure, a number in every label
    and feature value (``indexed``: as :func:`validate_rows`).

    Raises:
        DatasetError: as :func:`validate_rows`, but for a label that does not fit the objective.
    """
    if (reason := objective_problem(hp.objective)) is not None:
        raise DatasetError(
            reason,
            ("choose another objective, such as ", Setting("hyperparameters", "objective=survival:cox"),
             " (a negative label is a right-censored time)"),
            uri=dataset.source.uri,
        )  # fmt: skip
    index_rows(dataset, columns, config)
    if indexed is not None:
        indexed()
    problems = column_problems(dataset, columns, config)
    if problems:
        raise numeric_error(problems, config, inferred_drop(dataset, config), hp.objective)


@dataclass
class LabelFitProblem:
    """The first label of some rows that does not fit the run (:func:`label_fit_problem`).

    Attributes:
        error: the error reporting it, its hint drawn from those rows' labels.
        stratified: a fractional class under the stratified strategy (checked only once every label fits the
            objective: a label that does not, anywhere in the file, is reported first).
        label: the label's value.
    """

    error: DatasetError
    stratified: bool
    label: float

    def reported(self, labels: np.ndarray, objective: str | None) -> DatasetError:
        """The error with its hint drawn from ``labels`` (every distinct label of the file, as the in-memory split
        sees them: :func:`~model_training.algorithm.labels.suggested_objective` looks at nothing else)."""
        return self.error if self.stratified else self.error.with_hint(_objective_hint(labels, self.label, objective))


def label_fit_problem(
    dataset: Dataset, config: RunConfig, hp: ParsedHyperparameters, labels: np.ndarray
) -> LabelFitProblem | None:
    """The first of ``labels`` (``dataset``'s, numbers) that does not fit the objective, else (the stratified strategy
    under a classification objective) the first that is not an integer; ``None`` if every label fits."""
    problem = label_problem(labels, hp.objective, hp.num_class)
    if problem:
        row, reason = problem
        error = DatasetError(
            (f"{reason} (column ", COLUMN, ", ", LINE, ")"),
            _objective_hint(labels, float(labels[row]), hp.objective),
            uri=dataset.source.uri,
            line=dataset.line_of_row(row),
            column=config.label,
            log_message=(f"a label does not fit {hp.objective} (column ", COLUMN, ", ", LINE, ")"),
        )
        return LabelFitProblem(error, False, float(labels[row]))
    if config.split.strategy == "stratified" and is_classification(hp.objective):
        bad = np.flatnonzero(labels != np.floor(labels))
        if bad.size:
            error = DatasetError(
                (f"label {labels[bad[0]]:g} (column ", COLUMN, ", ", LINE, ") is not a class: the stratified strategy "
                 f"keeps the proportions of {hp.objective}'s classes, and a fractional label would be a class of its own"),
                ("give whole-number class labels, or split another way (", Setting("strategy", "random"), ")"),
                uri=dataset.source.uri,
                line=dataset.line_of_row(int(bad[0])),
                column=config.label,
                log_message=("a fractional label under the stratified strategy (column ", COLUMN, ", ", LINE, ")"),
            )  # fmt: skip
            return LabelFitProblem(error, True, float(labels[bad[0]]))
    return None


def _objective_hint(labels: np.ndarray, label: float, objective: str | None) -> Hint:
    """What to do about ``label``, one of ``labels``, that does not fit ``objective``: the objective the labels look
    like (:func:`~model_training.algorithm.labels.suggested_objective`: a quantity, or class numbers)."""
    if suggested_objective(labels) == "reg:squarederror":
        return (
            "the labels look like a quantity: choose ",
            Setting("hyperparameters", "objective=reg:squarederror"),
            " (or another reg: objective); or fix the label upstream",
        )
    if objective in UNIT_LABEL_OBJECTIVES and label > 1 and label.is_integer():
        return (
            "for classes numbered from 0 choose ",
            Setting("hyperparameters", "objective=multi:softprob"),
            ", for a quantity ",
            Setting("hyperparameters", "objective=reg:squarederror"),
            "; or fix the label upstream",
        )
    return ("fix the label upstream, or choose an objective that fits it with ", Setting("hyperparameters", "objective=..."))


def column_problems(
    dataset: Dataset, columns: list[str], config: RunConfig, *, skip: Collection[str] = ()
) -> list[NonNumericError]:
    """The label and feature columns of ``columns`` (not in ``skip``) holding a value that is not a number (the
    label: or is empty), one problem per column in the order of ``columns``."""
    label = [] if config.label in skip else [config.label]
    features = [c for c in columns[1:] if c not in skip]
    return [
        *numeric_problems(dataset, label, allow_empty=False, role="label"),
        *numeric_problems(dataset, features, allow_empty=True, role="feature"),
    ]


def numeric_error(
    problems: list[NonNumericError], config: RunConfig, drop: tuple[str, ...] | None = None, objective: str | None = None
) -> DatasetError:
    """One error for every column in ``problems``, its hint giving the run's ``drop`` list with those columns
    added (or its ``features`` without them) ready to paste (:func:`~model_training.data.checks.not_numeric`), and
    what ``objective`` takes as a label (:func:`~model_training.algorithm.labels.label_rule`).

    Args:
        drop: the drop columns the run leaves out when they are not the configured ones (:func:`inferred_drop`:
            the default drop columns the file has), so that the list pasted names no column the file lacks.
    """
    return not_numeric(
        problems, drop=config.drop if drop is None else drop, features=config.features, label_rule=label_rule(objective)
    )


def index_rows(dataset: Dataset, columns: list[str], config: RunConfig, *, check: bool = True, checked: bool = False) -> None:
    """Index the rows once for everything the run needs: the channel cuts, the label and key columns, and
    (``check``) the numeric check of the label (non-empty) and the features.  Rows that are not plain CSV
    are parsed by pyarrow instead, which raises the exact error for a malformed file.  ``checked``: these
    bytes' rows were checked before (the streaming split's pass 2), which lets the scan skip what only a check
    needs (:func:`~model_training.data.rowindex.scan`).

    Raises:
        DatasetError: a malformed file (the line and what is wrong).
    """
    ncols = len(dataset.columns)
    label = dataset.index[config.label]
    keys = [dataset.index[n] for n in (config.split.key, config.split.order_by) if n]
    cuts, _ = channel_pieces(dataset, columns)
    features = [dataset.index[c] for c in columns[1:]]
    numeric, required = ([label, *features], [label]) if check else ([], [])
    idx = dataset.row_index(fields=[*cut_fields(cuts, ncols), label, *keys], numeric=numeric, required=required, checked=checked)
    if idx is None:
        dataset.table  # noqa: B018 - parses the rows, raising DatasetError for a malformed file


def check_label_classes(uri: str, config: RunConfig, hp: ParsedHyperparameters, classes: np.ndarray, first: float) -> None:
    """A classification objective needs two label values or more (``classes``: the distinct labels;
    ``first``: the first row's label, for the message).

    Raises:
        DatasetError: one class only, under a ``binary:`` or ``multi:`` objective.
    """
    objective = hp.objective or ""
    if objective.startswith(("binary:", "multi:")) and len(classes) < 2:
        raise DatasetError(
            ("the label ", COLUMN, f" has a single class ({first:g}) on every row: nothing to learn for {objective}"),
            "check the label column and the upstream filter that produced the file",
            uri=uri,
            column=config.label,
        )


def _count(n: int) -> str:
    """A count as a message gives it: exact below a million, else to three digits (``1e+09``)."""
    return str(n) if n < 1_000_000 else f"{float(n):.3g}"


def inferred_hyperparameters(uri: str, config: RunConfig, hp: ParsedHyperparameters, classes: np.ndarray) -> dict[str, str]:
    """The hyperparameters the labels set: a ``multi:`` objective's ``num_class`` when no setting gives it,
    the largest label plus one (``classes``: the distinct labels, integers from 0 by :func:`validate_rows`);
    ``{}`` otherwise.

    Raises:
        DatasetError: a class between 0 and the largest has no row (classes are numbered from 0 without gaps:
            ``1, 2, 3`` is a labelling from 1, which would train an empty class 0); a given ``num_class`` allows it,
            and the hint suggests one while the classes without rows are no more than those with rows (labels
            further apart, ``0`` and ``1e9``, are codes or a quantity: XGBoost keeps a gradient per row and class).
    """
    objective = hp.objective or ""
    if not num_class_from_labels(hp) or classes.size == 0:
        return {}
    num_class = int(classes.max()) + 1
    if classes.size < num_class:
        first_missing = next(i for i, c in enumerate(classes.tolist()) if c != i) if classes[0] == 0 else 0
        others = num_class - classes.size - 1
        more = f" (and {_count(others)} more class{'es' if others > 1 else ''} without rows)" if others else ""
        renumber = f"number the classes 0 to {classes.size - 1} upstream"
        hint: Hint = (
            (renumber, ", or give num_class (", Setting("hyperparameters", f"num_class={num_class}"), ") to train with "
             "classes that have no rows")
            if num_class - classes.size <= classes.size
            else (renumber, " (labels this far apart look like codes, or a quantity: for a quantity choose ",
                  Setting("hyperparameters", "objective=reg:squarederror"), ")")
        )  # fmt: skip
        raise DatasetError(
            (f"{objective} numbers the classes from 0 and the label ", COLUMN, f" has {classes.size} classes from "
             f"{classes[0]:g} to {classes[-1]:g}: no row is of class {first_missing}{more}"),
            hint,
            uri=uri,
            column=config.label,
        )  # fmt: skip
    return {"num_class": str(num_class)}


def num_class_from_labels(hp: ParsedHyperparameters) -> bool:
    """Whether the labels give ``num_class`` (:func:`inferred_hyperparameters`): a ``multi:`` objective without one."""
    return (hp.objective or "").startswith("multi:") and hp.num_class is None


def inferred_from_header(dataset: Dataset, config: RunConfig, hp: ParsedHyperparameters) -> dict[str, object]:
    """What a run will take from the data instead of a setting, as far as the header tells
    (``model-training config show``), shaped as ``run.json``'s ``inferred`` (:func:`inferred_settings`): ``drop``
    when the default drop columns the header has differ from the configured ones (:func:`inferred_drop`),
    ``hyperparameters`` ``{"num_class": None}`` when the labels will give it (:func:`num_class_from_labels`)."""
    inferred: dict[str, object] = {"hyperparameters": {"num_class": None}} if num_class_from_labels(hp) else {}
    drop = inferred_drop(dataset, config)
    return inferred if drop is None else {**inferred, "drop": list(drop)}


def inferred_settings(drop: tuple[str, ...] | None, hyperparameters: dict[str, str]) -> dict[str, object]:
    """``run.json``'s ``inferred``: the settings the data gave (:func:`inferred_drop`,
    :func:`inferred_hyperparameters`), each only when there is one."""
    inferred: dict[str, object] = {}
    if hyperparameters:
        inferred["hyperparameters"] = hyperparameters
    if drop is not None:
        inferred["drop"] = list(drop)
    return inferred


def check_classes_for_auc(
    uri: str, labels: dict[str, SplitLabels], hp: ParsedHyperparameters, objective_metric: str | None = None
) -> None:
    """``auc`` needs both classes in every split it is computed on (the container fails the job otherwise; XGBoost
    gives ``nan`` for a split of one class, so a search on it has no objective value in any trial).

    Args:
        labels: each split's labels (:mod:`~model_training.split.labels`).
        objective_metric: a search's objective metric (``validation:auc``), which the container adds to every
            trial's ``eval_metric``; ``None`` without a search.

    Raises:
        DatasetError: ``auc`` is an ``eval_metric`` or the search's objective metric, and ``train`` or
            ``validation`` holds rows of one class only.
    """
    searched = objective_metric is not None and objective_metric.partition(":")[2] == "auc"
    if "auc" not in hp.eval_metrics and not searched:
        return
    for split in ("train", "validation"):
        stats = labels.get(split, SplitLabels(rows=0))
        only = stats.single_value()
        if only is not None:
            other: Hint = (
                ("or search another objective_metric (the tuning section's, e.g. validation:logloss)",)
                if searched
                else ("or use another eval_metric (", Setting("hyperparameters", "eval_metric=logloss"), ")")
            )
            raise DatasetError(
                f"the {split} split has only one class (label {label_text(only)}, {stats.rows} rows): AUC is undefined",
                ("add rows of the other class, change ", Setting("seed"), " or ", Setting("fractions"), ", ", *other),
                uri=uri,
            )
