"""The checks a run makes of its data before anything is written: the configured columns exist, every row
is CSV with a number in each label and feature value, the labels fit the objective, and each split has what
its evaluation metric needs.  The in-memory split calls them once on the whole file, the streaming split
once per chunk (a chunk's line numbers are the file's); the messages are the same.

A leading column named ``""`` or ``Unnamed: 0`` is a pandas index (``DataFrame.to_csv`` writes one unless
``index=False``; our own test file starts with one too).  The ``index_column`` setting decides what it is
(:func:`index_column`): ``auto`` (the default) and ``index`` leave it out of ``train``/``validation`` as a
drop column is left out, and make its values the test file's index instead of the row numbers
(:func:`~model_training.channels.render_test`), ``auto`` with a note (:func:`index_note`); ``error`` refuses
the file (before the setting existed, a first column without a name was refused and one named ``Unnamed: 0``
was a feature).  A column with an empty name anywhere else is refused whatever the setting
(:func:`~model_training.data.header.parse_header`).  The configuration naming the column (as the label, a
feature, the split key or the order column) makes it an ordinary column.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from model_training.algorithm.hyperparameters import ParsedHyperparameters
from model_training.algorithm.labels import label_problem, label_text
from model_training.channels import channel_columns, channel_pieces, cut_fields
from model_training.config.run import RunConfig
from model_training.data.checks import NonNumericError, not_numeric, numeric_problems, require_columns
from model_training.data.dataset import Dataset
from model_training.errors import COLUMN, LINE, DatasetError, Setting, every_name

#: The names pandas writes for a DataFrame's unnamed index (``to_csv()``), and gives it when it reads one back
#: without ``index_col`` (``read_csv``'s ``Unnamed: 0``).
INDEX_NAMES = ("", "Unnamed: 0")


def index_column(dataset: Dataset, config: RunConfig) -> str | None:
    """The name of the source's index column (see the module's docstring), or ``None``: the first column when
    its name is one of :data:`INDEX_NAMES` and the configuration does not name it as the label, a feature, the
    split key or the order_by column.

    Raises:
        DatasetError: there is one and ``config.index_column`` is ``error``.
    """
    first = dataset.columns[0]
    named = {config.label, *(config.features or ()), config.split.key, config.split.order_by}
    if first not in INDEX_NAMES or first in named or len(dataset.columns) < 2:
        return None
    if config.index_column == "error":
        what = "has no name" if not first else f"is named {first!r}"
        raise DatasetError(
            f"header column 1 {what}: an index column (pandas' to_csv writes one unless index=False)",
            ("write the file with index=False, or leave the column out as the index with ", Setting("index_column", "auto")),
            uri=dataset.source.uri,
        )
    return first


def index_note(dataset: Dataset, config: RunConfig) -> str | None:
    """What to tell the user about the source's index column under ``index_column: auto``, or ``None`` (there is
    none, or ``index_column`` is ``index``: the user expects it)."""
    name = index_column(dataset, config)
    if name is None or config.index_column != "auto":
        return None
    return (
        f"{dataset.source.uri}: the first column ({name!r}) is an index column (pandas' to_csv writes one unless "
        "index=False): it is left out of train and validation, and its values are the test file's index. To say "
        f"the file has one and silence this note, set {every_name(Setting('index_column', 'index'))}"
    )


def output_columns(dataset: Dataset, config: RunConfig) -> list[str]:
    """The ``train``/``validation`` columns (label first), after checking that every configured column exists.

    Raises:
        DatasetError: a configured column is missing, no feature is left, or the source has an index column and
            ``index_column`` is ``error`` (:func:`index_column`).
    """
    require_columns(dataset, [config.label], "label")
    require_columns(dataset, list(config.drop), "drop")
    if config.features is not None:
        require_columns(dataset, list(config.features), "feature")
    for role, name in (("split key", config.split.key), ("order_by", config.split.order_by)):
        if name:
            require_columns(dataset, [name], role)
    index = index_column(dataset, config)
    columns = channel_columns(dataset.columns, config.label, (*config.drop, *(() if index is None else (index,))))
    if config.features is not None:
        wanted = set(config.features)
        columns = [config.label, *(c for c in columns[1:] if c in wanted)]
    if len(columns) < 2:
        raise DatasetError(
            ("no feature columns are left besides the label ", COLUMN),
            ("the model needs at least one feature: drop fewer columns (", Setting("drop"), ")"),
            uri=dataset.source.uri,
            column=config.label,
        )
    return columns


def validate_rows(dataset: Dataset, columns: list[str], config: RunConfig, hp: ParsedHyperparameters) -> np.ndarray:
    """Check every row of ``dataset`` (a whole file, or one chunk of it): the CSV structure, a number in
    every label and feature value, a label that fits the objective.  Returns the labels as float64, one a row.

    Raises:
        DatasetError: a malformed row (its line); every label or feature column holding a value that is not a
            number, at once (:func:`numeric_error`); a label that does not fit the objective (its line and column).
    """
    index_rows(dataset, columns, config)
    problems = column_problems(dataset, columns, config)
    if problems:
        raise numeric_error(problems, config)
    labels = dataset.numbers(config.label)
    problem = label_problem(labels, hp.objective, hp.num_class)
    if problem:
        row, reason = problem
        raise DatasetError(
            (f"{reason} (column ", COLUMN, ", ", LINE, ")"),
            ("fix the label upstream, or choose an objective that fits it with ", Setting("hyperparameters", "objective=...")),
            uri=dataset.source.uri,
            line=dataset.line_of_row(row),
            column=config.label,
            log_message=(f"a label does not fit {hp.objective} (column ", COLUMN, ", ", LINE, ")"),
        )
    return labels


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


def numeric_error(problems: list[NonNumericError], config: RunConfig) -> DatasetError:
    """One error for every column in ``problems``, its hint giving the run's ``drop`` list with those columns
    added (or its ``features`` without them) ready to paste (:func:`~model_training.data.checks.not_numeric`)."""
    return not_numeric(problems, drop=config.drop, features=config.features)


def index_rows(dataset: Dataset, columns: list[str], config: RunConfig, *, check: bool = True) -> None:
    """Index the rows once for everything the run needs: the channel cuts, the label and key columns, and
    (``check``) the numeric check of the label (non-empty) and the features.  Rows that are not plain CSV
    are parsed by pyarrow instead, which raises the exact error for a malformed file.

    Raises:
        DatasetError: a malformed file (the line and what is wrong).
    """
    ncols = len(dataset.columns)
    label = dataset.index[config.label]
    keys = [dataset.index[n] for n in (config.split.key, config.split.order_by) if n]
    cuts, _ = channel_pieces(dataset, columns)
    features = [dataset.index[c] for c in columns[1:]]
    numeric, required = ([label, *features], [label]) if check else ([], [])
    idx = dataset.row_index(fields=[*cut_fields(cuts, ncols), label, *keys], numeric=numeric, required=required)
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


def label_counts(labels: np.ndarray) -> dict[float, int]:
    """Rows per label value, in ascending order (counted by numeric value: "1" and "1.0" are the same class).

    Labels that are all tenths between 0 and 409.5 (0/1, class numbers, 0.5 ...) are counted with
    ``bincount`` in linear time; others are sorted (``numpy.unique``).
    """
    if labels.size > 4096:
        tenths = np.rint(labels * 10)
        if tenths.min() >= 0 and tenths.max() < 4096 and (tenths / 10 == labels).all():
            counts = np.bincount(tenths.astype(np.int64))
            return {float(v / 10): int(counts[v]) for v in np.flatnonzero(counts)}
    values, counts = np.unique(labels, return_counts=True)
    return {float(v): int(c) for v, c in zip(values, counts, strict=True)}


def check_classes_for_auc(uri: str, counts: dict[str, dict[float, int]], hp: ParsedHyperparameters) -> None:
    """``auc`` needs both classes in every split it is computed on (the container fails the job otherwise).

    Args:
        counts: each split's :func:`label_counts`.

    Raises:
        DatasetError: ``auc`` is an ``eval_metric`` and ``train`` or ``validation`` holds rows of one class only.
    """
    if "auc" not in hp.eval_metrics:
        return
    for split in ("train", "validation"):
        per_label = counts.get(split, {})
        rows = sum(per_label.values())
        if rows and len(per_label) < 2:
            only = label_text(min(per_label))
            raise DatasetError(
                f"the {split} split has only one class (label {only}, {rows} rows): AUC is undefined",
                (
                    "add rows of the other class, change ",
                    Setting("seed"),
                    " or ",
                    Setting("fractions"),
                    ", or use another eval_metric (",
                    Setting("hyperparameters", "eval_metric=logloss"),
                    ")",
                ),
                uri=uri,
            )
