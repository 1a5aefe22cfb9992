"""Which columns a run uses (:func:`output_columns`): the configured ones checked against the header, the label
first, the drop columns and the source's index column left out (:func:`index_column`, the package's docstring),
and the error that names every way to choose a label when the default one is not in the file.
"""

from __future__ import annotations

import re

from model_training.algorithm.labels import label_problem, suggested_objective
from model_training.channels import channel_columns
from model_training.config.run import RunConfig
from model_training.data.checks import columns_text, not_numeric, numeric_problems, require_columns
from model_training.data.dataset import Dataset
from model_training.errors import COLUMN, DatasetError, Hint, Setting, every_name

#: Column names that often hold the label, suggested when the default label is not in the file.
LIKELY_LABELS = ("target", "label", "y", "class", "outcome", "labels", "targets")

#: The names pandas writes for a DataFrame's unnamed index (``to_csv()``), and gives it when it reads one back
#: without ``index_col`` (``read_csv``'s ``Unnamed: 0``).
INDEX_NAMES = ("", "Unnamed: 0")
#: An earlier index, read back by pandas without ``index_col`` and written again with a new one
#: (``read_csv(f).to_csv(g)``: the header starts ``,Unnamed: 0,...``).
STALE_INDEX = re.compile(r"Unnamed: \d+")


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


def stale_index_columns(dataset: Dataset, config: RunConfig) -> tuple[str, ...]:
    """Earlier index columns right after the source's index column (:func:`index_column`): the columns named
    ``Unnamed: N`` (:data:`STALE_INDEX`) that follow it, up to the first other name, unless the configuration
    names them.  Row numbers of an earlier file, never features: left out of ``train``/``validation`` like drop
    columns (they stay in the test file)."""
    if index_column(dataset, config) is None:
        return ()
    named = {config.label, *(config.features or ()), config.split.key, config.split.order_by}
    stale: list[str] = []
    for name in dataset.columns[1:-1]:
        if not STALE_INDEX.fullmatch(name) or name in named:
            break
        stale.append(name)
    return tuple(stale)


def index_note(dataset: Dataset, config: RunConfig) -> str | None:
    """What to tell the user about the source's index column under ``index_column: auto``, or ``None`` (there is
    none, or ``index_column`` is ``index``: the user expects it)."""
    name = index_column(dataset, config)
    if name is None or config.index_column != "auto":
        return None
    stale = stale_index_columns(dataset, config)
    also = (
        f" After it, {', '.join(repr(c) for c in stale)} {'is an earlier index' if len(stale) == 1 else 'are earlier indexes'} "
        "(pandas' read_csv then to_csv without index=False), left out of train and validation too."
        if stale
        else ""
    )
    return (
        f"{dataset.source.uri}: the first column ({name!r}) is an index column (pandas' to_csv writes one unless "
        f"index=False): it is left out of train and validation, and its values are the test file's index.{also} To say "
        f"the file has one and silence this note, set {every_name(Setting('index_column', 'index'))}"
    )


def output_columns(dataset: Dataset, config: RunConfig) -> list[str]:
    """The ``train``/``validation`` columns (label first), after checking that every configured column exists.

    A default (:attr:`~model_training.config.run.RunConfig.given`) gives way to the data: a default drop
    column the file does not have is not dropped, where a given one is an error; a default label the file
    does not have is reported with every way to name the label.

    Raises:
        DatasetError: a configured column is missing, no feature is left, or the source has an index column and
            ``index_column`` is ``error`` (:func:`index_column`).
    """
    if "label" not in config.given and config.label not in dataset.index:
        raise _default_label_missing(dataset, config)
    require_columns(dataset, [config.label], "label")
    require_columns(dataset, list(config.drop) if "drop" in config.given else [], "drop")
    if config.features is not None:
        require_columns(dataset, list(config.features), "feature")
    for role, name in (("split key", config.split.key), ("order_by", config.split.order_by)):
        if name:
            require_columns(dataset, [name], role)
    index = index_column(dataset, config)
    left_out = () if index is None else (index, *stale_index_columns(dataset, config))
    columns = channel_columns(dataset.columns, config.label, (*config.drop, *left_out))
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


def _default_label_missing(dataset: Dataset, config: RunConfig) -> DatasetError:
    """The error of a default label column that is not in the file: the columns there are, and the three
    ways to name the label (the command line's flag, the environment variable, the manifest's key), with a likely
    label (a column named like one, :data:`LIKELY_LABELS`, else the last column of numbers: a label is one, and
    pasting a column of text fails on it) and, when that column's values do not fit the objective, the objective
    they look like (:func:`~model_training.algorithm.labels.suggested_objective`), so that the hint's settings are
    the next command's.  A header alone (``config show``: no bytes, no table) suggests a column named like a label
    and nothing that needs the values."""
    likely = [c for c in dataset.columns if c.strip().lower() in LIKELY_LABELS]
    header_only = not dataset.raw and dataset.parsed is None
    numbers = (c for c in reversed(dataset.columns) if not numeric_problems(dataset, [c], allow_empty=False, role="label"))
    candidate = likely[0] if likely else None if header_only or len(dataset.columns) < 2 else next(numbers, None)
    objective: Hint = ()
    if not header_only and candidate is not None and not numeric_problems(dataset, [candidate], allow_empty=False, role="label"):
        labels = dataset.numbers(candidate)
        suggestion = suggested_objective(labels)
        hyperparameters = config.training.hyperparameters
        num_class = int(hyperparameters["num_class"]) if "num_class" in hyperparameters else None
        if suggestion and label_problem(labels, hyperparameters.get("objective"), num_class):
            objective = (" with the objective its values fit, ", Setting("hyperparameters", f"objective={suggestion}"))
    missing = DatasetError(
        ("no label column was named, and the default label column ", COLUMN, " is not in the header"),
        (
            f"name the label column{' (the last column of numbers?)' if not likely and candidate else ''}: ",
            Setting("label", candidate or "NAME", every=True),
            *objective,
            f"; the columns are: {columns_text(dataset.columns)}",
        ),
        uri=dataset.source.uri,
        column=config.label,
    )
    if candidate is None or header_only:
        return missing
    # the columns of text the likely label's run would refuse, told now: the next command is the last
    drop = inferred_drop(dataset, config)
    drop = config.drop if drop is None else drop
    index = index_column(dataset, config)
    left_out = {candidate, *drop, *(() if index is None else (index, *stale_index_columns(dataset, config)))}
    features = [c for c in dataset.columns if c not in left_out and (config.features is None or c in config.features)]
    text = numeric_problems(dataset, features, allow_empty=True, role="feature")
    if not text:
        return missing
    return DatasetError.of([missing, not_numeric(text, drop=drop, features=config.features)], "the file cannot be split as it is")


def inferred_drop(dataset: Dataset, config: RunConfig) -> tuple[str, ...] | None:
    """The drop columns a run leaves out when they differ from the configured ones: the default drop
    columns the file has (``()`` for a file without ``y_no``); ``None`` when they are the configured ones."""
    if "drop" in config.given:
        return None
    present = tuple(c for c in config.drop if c in dataset.index)
    return None if present == config.drop else present
