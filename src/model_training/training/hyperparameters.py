"""Hyperparameter rules of SageMaker's built-in XGBoost algorithm container.

A SageMaker XGBoost training job validates its ``HyperParameters`` only *after* the instance has started
(and is being paid for); a bad value then fails the job.  This module applies the same rules locally, before
any request is sent, and reports every problem at once.

Origin of the rules
-------------------
The rules are those of the container's source, ``aws/sagemaker-xgboost-container``:

* ``src/sagemaker_xgboost_container/algorithm_mode/hyperparameter_validation.py`` -- the list of accepted
  names, their types, ranges, allowed values, dependencies and aliases (the newest stored version read is
  commit ``7de198c4``, the one that declares ``use_dask_gpu_training``; ``reg:absoluteerror`` was added to
  the objectives for 1.7-1 by pull request #395);
* ``src/sagemaker_algorithm_toolkit/hyperparameter_validation.py`` -- how values are parsed
  (``int(value)``, ``float(value)``, ``value.split(",")``, ``eval``/``ast.literal_eval`` for tuples and
  nested lists) and how intervals and aliases work;
* ``src/sagemaker_xgboost_container/constants/xgb_constants.py`` -- the ``eval_metric`` names
  (``XGB_MAXIMIZE_METRICS + XGB_MINIMIZE_METRICS``) and the XGBoost errors the container reports as user
  errors;
* ``src/sagemaker_xgboost_container/algorithm_mode/train.py`` -- which keys are the container's own and are
  removed before ``xgboost.train(params=...)``.

Where this module is stricter than the container, a comment says so; each such case is a value the
container lets through but that fails (or silently misbehaves) once XGBoost runs.  Where the project's
summary (``/work/shared/reference/sagemaker-xgboost.md``) and the container disagree, the container wins
and a comment says so.

The stored index holds no copy of the 3.0-5 branch's file, so both supported versions use the newest
container rules read (plus ``reg:absoluteerror``); the tables are per version (``_VERSION_TABLES``) so that
a difference found later is a one-line change.
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import cast

from model_training.errors import ConfigurationError, HyperparameterError

__all__ = [
    "ALIASES",
    "CONTAINER_METRICS",
    "CONTAINER_ONLY",
    "DEFAULT_VERSION",
    "SUPPORTED_VERSIONS",
    "ParsedHyperparameters",
    "canonical_hyperparameters",
    "parse_hyperparameters",
]

SUPPORTED_VERSIONS: tuple[str, ...] = ("1.7-1", "3.0-5")
"""Algorithm container versions (image tags) whose rules this module knows."""

DEFAULT_VERSION = "3.0-5"
"""The container version used when none is given (runs XGBoost 3.0.5)."""

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

# xgb_constants.py: XGB_MAXIMIZE_METRICS + XGB_MINIMIZE_METRICS, the eval_metric names the container accepts.
_METRICS: tuple[str, ...] = (
    # maximize
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
    # minimize
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

CONTAINER_METRICS: frozenset[str] = frozenset(
    {
        # Not XGBoost metrics: the container computes them itself (metrics/custom_metrics.py, passed as
        # ``feval``) and removes them from the ``eval_metric`` it gives XGBoost (train_utils.py).
        "accuracy",
        "balanced_accuracy",
        "f1",
        "f1_binary",
        "f1_macro",
        "mse",
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

# hyperparameter_validation.py, CategoricalHyperparameter(name="objective").  The container's list also holds
# "aft_loss_distribution" (a hyperparameter name pasted into the objective list by mistake): the container
# accepts it but XGBoost fails with "Unknown objective function", so it is refused here.
# "reg:absoluteerror" was added for 1.7-1 (XGBoost 1.7 introduced it) by pull request #395.
_OBJECTIVES: tuple[str, ...] = (
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

# hyperparameter_validation.py: tree_method_range_validator.
_TREE_METHODS: tuple[str, ...] = ("auto", "exact", "approx", "hist", "gpu_hist")

# Per-version tables (see the module docstring: no separate 3.0-5 source was available to compare).
_VERSION_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "1.7-1": {"objective": _OBJECTIVES, "eval_metric": _METRICS, "tree_method": _TREE_METHODS},
    "3.0-5": {"objective": _OBJECTIVES, "eval_metric": _METRICS, "tree_method": _TREE_METHODS},
}

_LEGACY_VERSIONS = frozenset({"1", "latest", "0.72"})

_MULTI_CLASS_OBJECTIVES = ("multi:softmax", "multi:softprob")
# XGBoost (CUSTOMER_ERRORS in xgb_constants.py): "base_score must be in (0,1) for logistic loss".
_LOGISTIC_OBJECTIVES = ("binary:logistic", "binary:logitraw", "reg:logistic")
# updater_validator in hyperparameter_validation.py.
_UPDATER_RANGE = (
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_local_histmaker",
    "grow_skmaker",
    "sync",
    "refresh",
    "prune",
    "shotgun",
    "coord_descent",
)
_TREE_UPDATERS = (
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_local_histmaker",
    "grow_skmaker",
    "sync",
    "refresh",
    "prune",
    "grow_quantile_histmaker",
)
_TREE_BUILD_UPDATERS = (
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_local_histmaker",
    "grow_quantile_histmaker",
)
_LINEAR_UPDATERS = ("shotgun", "coord_descent")
_PROCESS_UPDATE_UPDATERS = ("refresh", "prune")
_THRESHOLD_METRICS = ("error", "ndcg", "map")

# CreateTrainingJob API: HyperParameters holds at most 100 entries, keys up to 256 and values up to 2500
# characters.
_MAX_ENTRIES = 100
_MAX_KEY_LENGTH = 256
_MAX_VALUE_LENGTH = 2500

_VERBOSITY_HINT = "'silent' was removed in container 1.2-1: use 'verbosity' instead (0 silent, 1 warning, 2 info, 3 debug)"


# --------------------------------------------------------------------------------------------------------------
# Specifications
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Interval:
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
        low = "(-inf" if self.low is None else ("(" if self.low_open else "[") + _number(self.low)
        high = "+inf)" if self.high is None else _number(self.high) + (")" if self.high_open else "]")
        return f"{low}, {high}"

    @property
    def is_flag(self) -> bool:
        """True for the integer ranges [0, 1] (0/1 switches such as csv_weights)."""
        return self.low == 0 and self.high == 1 and not self.low_open and not self.high_open


@dataclass(frozen=True)
class _Spec:
    """One accepted hyperparameter: its canonical name, kind and allowed values."""

    name: str
    kind: str  # "int" | "float" | "choice" | "metrics" | "updater" | "tuple" | "nested"
    interval: _Interval | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""


def _interval(low: float | None = None, high: float | None = None, *, lo_open: bool = False, hi_open: bool = False) -> _Interval:
    return _Interval(low, high, lo_open, hi_open)


@cache
def _specs(version: str) -> dict[str, _Spec]:
    """The container's hyperparameter table for ``version`` (hyperparameter_validation.py, in its order)."""
    tables = _VERSION_TABLES[version]
    true_false = ("true", "false")
    unit_interval = _interval(0, 1)
    fraction = _interval(0, 1, lo_open=True)  # (0, 1]
    non_negative = _interval(0)
    specs = [
        _Spec("num_round", "int", _interval(1), unit="boosting rounds"),
        _Spec("csv_weights", "int", unit_interval, unit="0 or 1: column 2 of the CSV holds instance weights"),
        _Spec("early_stopping_rounds", "int", _interval(1), unit="rounds"),
        _Spec("booster", "choice", choices=("gbtree", "gblinear", "dart")),
        _Spec("verbosity", "int", _interval(0, 3)),
        _Spec("nthread", "int", _interval(1), unit="threads"),
        _Spec("eta", "float", unit_interval),
        _Spec("gamma", "float", non_negative),
        _Spec("max_depth", "int", non_negative),
        _Spec("min_child_weight", "float", non_negative),
        _Spec("max_delta_step", "float", non_negative),
        _Spec("subsample", "float", fraction),
        _Spec("colsample_bytree", "float", fraction),
        _Spec("colsample_bylevel", "float", fraction),
        _Spec("colsample_bynode", "float", fraction),
        _Spec("lambda", "float", non_negative),
        _Spec("alpha", "float", non_negative),
        _Spec("tree_method", "choice", choices=tables["tree_method"]),
        _Spec("sketch_eps", "float", _interval(0, 1, lo_open=True, hi_open=True)),
        _Spec("scale_pos_weight", "float", _interval(0, lo_open=True)),
        _Spec("updater", "updater", choices=_UPDATER_RANGE),
        _Spec("dsplit", "choice", choices=("row", "col")),
        _Spec("refresh_leaf", "int", unit_interval),
        _Spec("process_type", "choice", choices=("default", "update")),
        _Spec("grow_policy", "choice", choices=("depthwise", "lossguide")),
        _Spec("max_leaves", "int", non_negative),
        # Stricter than the container (>= 0): XGBoost refuses max_bin < 2 when it builds the histogram.
        _Spec("max_bin", "int", _interval(2)),
        _Spec("predictor", "choice", choices=("auto", "cpu_predictor", "gpu_predictor")),
        _Spec("monotone_constraints", "tuple"),
        # The container requires every index >= 1 (hpv.Interval(min_closed=1)), although XGBoost's feature
        # indices start at 0: feature 0 cannot be named in an interaction constraint on SageMaker.
        _Spec("interaction_constraints", "nested", _interval(1)),
        _Spec("sample_type", "choice", choices=("uniform", "weighted")),
        _Spec("normalize_type", "choice", choices=("tree", "forest")),
        _Spec("rate_drop", "float", unit_interval),
        _Spec("one_drop", "int", unit_interval),
        _Spec("skip_drop", "float", unit_interval),
        _Spec("lambda_bias", "float", unit_interval),
        _Spec("tweedie_variance_power", "float", _interval(1, 2, lo_open=True, hi_open=True)),
        _Spec("objective", "choice", choices=tables["objective"]),
        _Spec("num_class", "int", _interval(2), unit="classes"),
        _Spec("base_score", "float", non_negative),
        _Spec("_kfold", "int", _interval(2), unit="folds"),
        _Spec("_num_cv_round", "int", _interval(1)),
        # metrics.py: every metric has a tuning name "validation:<metric>".
        _Spec("_tuning_objective_metric", "choice", choices=tuple(f"validation:{m}" for m in tables["eval_metric"])),
        _Spec("eval_metric", "metrics", choices=tables["eval_metric"]),
        _Spec("seed", "int", _interval(-(2**31), 2**31 - 1, lo_open=True, hi_open=True)),
        _Spec("num_parallel_tree", "int", _interval(1)),
        _Spec("save_model_on_termination", "choice", choices=true_false),
        _Spec("aft_loss_distribution", "choice", choices=("normal", "logistic", "extreme")),
        _Spec("aft_loss_distribution_scale", "float", non_negative),
        _Spec("single_precision_histogram", "choice", choices=true_false),
        _Spec("deterministic_histogram", "choice", choices=true_false),
        _Spec("sampling_method", "choice", choices=("uniform", "gradient_based")),
        _Spec("prob_buffer_row", "int", _interval(1, lo_open=True)),
        _Spec("use_dask_gpu_training", "choice", choices=true_false),
    ]
    return {spec.name: spec for spec in specs}


# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedHyperparameters:
    """Hyperparameters as the container holds them after validation.

    Attributes:
        num_round: number of boosting rounds (``num_boost_round`` of ``xgboost.train``), >= 1.
        objective: the XGBoost objective, e.g. ``"binary:logistic"``; ``None`` when not given (XGBoost then uses
            its default, ``reg:squarederror``).
        eval_metrics: the ``eval_metric`` names in the given order (``[]`` if none), including those the
            container computes itself (:data:`CONTAINER_METRICS`).  The container stops early on the last one.
        num_class: number of classes for ``multi:softmax``/``multi:softprob``, else ``None``.
        early_stopping_rounds: rounds without improvement on the validation channel before training stops,
            or ``None``.
        csv_weights: whether column 2 of the CSV data holds instance weights (``csv_weights=1``).
        params: the ``params`` for ``xgboost.train``: typed values (int, float, str, tuple, list) under the
            canonical XGBoost names (aliases mapped: ``learning_rate`` -> ``eta`` ...), without the
            container's own keys (:data:`CONTAINER_ONLY`); ``eval_metric`` is a list of the XGBoost metrics
            only (without :data:`CONTAINER_METRICS`) and is absent when none remain; ``updater`` is the
            comma-joined string, as the container passes it.
    """

    num_round: int
    objective: str | None
    eval_metrics: list[str]
    num_class: int | None
    early_stopping_rounds: int | None
    csv_weights: bool
    params: dict[str, object] = field(default_factory=dict)


def canonical_hyperparameters(raw: Mapping[str, object], version: str = DEFAULT_VERSION) -> dict[str, str]:
    """Validate hyperparameters and return the ``HyperParameters`` map for ``CreateTrainingJob``.

    Rules: those of ``aws/sagemaker-xgboost-container``'s
    ``src/sagemaker_xgboost_container/algorithm_mode/hyperparameter_validation.py`` (see the module
    docstring), the same as :func:`parse_hyperparameters` applies.

    Args:
        raw: hyperparameter name -> value.  A value may be a string (as the container receives it) or a JSON
            scalar: ``int``; ``float``; ``bool`` (only for the ``"true"``/``"false"`` hyperparameters and the
            0/1 switches ``csv_weights``, ``refresh_leaf``, ``one_drop``); a list of strings for
            ``eval_metric``/``updater``; a list/tuple of ints for ``monotone_constraints``; a list of lists
            of ints for ``interaction_constraints``.
        version: container version (image tag), one of :data:`SUPPORTED_VERSIONS`.

    Returns:
        Name -> value string in canonical form, in the given order, under the names given (an alias such as
        ``learning_rate`` stays an alias: the container accepts it).  Integers as ``"100"``, floats in their
        shortest form without a trailing ``.0`` (``0.2`` -> ``"0.2"``, ``4.0`` -> ``"4"``, ``1e-05`` ->
        ``"1e-05"``), booleans as ``"true"``/``"false"`` (or ``"1"``/``"0"`` for 0/1 switches), lists
        comma-joined (``"auc,logloss"``), tuples as ``"(1,-1,0)"``, nested lists as ``"[[1,2],[3,4]]"``.

    Raises:
        ConfigurationError: ``version`` is not supported (``latest``/``1`` mean the legacy 0.72 algorithm).
        HyperparameterError: with every problem found, e.g. an unknown name (with the closest valid name),
            ``silent`` (use ``verbosity``), a value of the wrong type or out of range, a missing ``num_round``,
            ``num_class`` without a multi-class objective, ``auc`` without a ``binary:``/``rank:`` objective,
            two names for one hyperparameter (``eta`` and ``learning_rate``).
    """
    checked = _validate(raw, version, strings_only=False)
    return {entry.given: entry.text for entry in checked.entries}


def parse_hyperparameters(hyperparameters: Mapping[str, str], version: str = DEFAULT_VERSION) -> ParsedHyperparameters:
    """Do what the container does at job start: parse the string values, validate them, type them.

    Rules and parsing: ``aws/sagemaker-xgboost-container``'s
    ``src/sagemaker_xgboost_container/algorithm_mode/hyperparameter_validation.py`` and
    ``src/sagemaker_algorithm_toolkit/hyperparameter_validation.py`` (integers with ``int()``, so ``"5.0"``
    is refused; floats with ``float()``; lists split on ``,`` without trimming spaces), the same rules as
    :func:`canonical_hyperparameters`.

    Args:
        hyperparameters: the job's ``HyperParameters``: name -> string value.
        version: container version (image tag), one of :data:`SUPPORTED_VERSIONS`.

    Returns:
        The typed hyperparameters (see :class:`ParsedHyperparameters`).

    Raises:
        ConfigurationError: ``version`` is not supported (``latest``/``1`` mean the legacy 0.72 algorithm).
        HyperparameterError: with every problem found (a non-string value is one of them).
    """
    checked = _validate(hyperparameters, version, strings_only=True)
    values = {entry.canonical: entry.value for entry in checked.entries}
    params: dict[str, object] = {}
    for entry in checked.entries:
        if entry.canonical in CONTAINER_ONLY:
            continue
        value = entry.value
        if entry.canonical == "eval_metric":
            native = [metric for metric in cast("list[str]", value) if metric not in CONTAINER_METRICS]
            if not native:
                continue
            value = native
        elif entry.canonical == "updater":
            value = ",".join(cast("list[str]", value))
        params[entry.canonical] = value
    return ParsedHyperparameters(
        num_round=cast("int", values["num_round"]),
        objective=cast("str | None", values.get("objective")),
        eval_metrics=list(cast("list[str]", values.get("eval_metric", []))),
        num_class=cast("int | None", values.get("num_class")),
        early_stopping_rounds=cast("int | None", values.get("early_stopping_rounds")),
        csv_weights=values.get("csv_weights", 0) == 1,
        params=params,
    )


# --------------------------------------------------------------------------------------------------------------
# Validation core (shared by both public functions)
# --------------------------------------------------------------------------------------------------------------


class _Bad(Exception):
    """A value cannot be parsed or is out of range; the message is one problem sentence."""


@dataclass
class _Entry:
    given: str  # the name as given (may be an alias)
    canonical: str  # the container's name
    value: object  # typed value
    text: str  # canonical string form


@dataclass
class _Checked:
    entries: list[_Entry]


def _check_version(version: object) -> str:
    if isinstance(version, str) and version in SUPPORTED_VERSIONS:
        return version
    supported = ", ".join(SUPPORTED_VERSIONS)
    if isinstance(version, str) and version.strip().lower() in _LEGACY_VERSIONS:
        raise ConfigurationError(
            f"XGBoost algorithm version {version!r} is the legacy 0.72 algorithm ('1' and 'latest' both select "
            "it), which takes other hyperparameters and is deprecated",
            f"choose one of: {supported}",
        )
    raise ConfigurationError(
        f"unsupported XGBoost algorithm version {version!r}",
        f"choose one of: {supported} (note that 'latest' and '1' mean the legacy 0.72 algorithm)",
    )


def _validate(raw: Mapping[str, object], version: str, *, strings_only: bool) -> _Checked:
    version = _check_version(version)
    specs = _specs(version)
    problems: list[str] = []
    entries: list[_Entry] = []
    seen: dict[str, str] = {}  # canonical -> given name
    failed: set[str] = set()  # canonical names given but invalid (no dependency checks on them)

    if not isinstance(raw, Mapping):
        raise HyperparameterError(
            [f"hyperparameters must be a mapping of name to value, got {type(raw).__name__}"],
            "give the hyperparameters as a mapping such as {'num_round': '100'}",
        )
    if len(raw) > _MAX_ENTRIES:
        problems.append(f"{len(raw)} hyperparameters given, but CreateTrainingJob accepts at most {_MAX_ENTRIES}")

    for given, value in raw.items():
        if not isinstance(given, str):
            problems.append(f"hyperparameter name {given!r} is not a string")
            continue
        if given == "silent":
            problems.append(_VERBOSITY_HINT)
            continue
        canonical = ALIASES.get(given, given)
        spec = specs.get(canonical)
        if spec is None:
            problems.append(_unknown_name(given, specs))
            continue
        if len(given) > _MAX_KEY_LENGTH:  # pragma: no cover - every known name is short
            problems.append(f"{given}: name longer than {_MAX_KEY_LENGTH} characters")
        label = _label(given)
        if canonical in seen:
            problems.append(
                f"{seen[canonical]} and {given} are two names for the same hyperparameter "
                f"({_alias_note(canonical)}): give only one"
            )
            continue
        seen[canonical] = given
        if strings_only and not isinstance(value, str):
            problems.append(f"{label}: value {value!r} is not a string (HyperParameters values are strings)")
            failed.add(canonical)
            continue
        if isinstance(value, str) and len(value) > _MAX_VALUE_LENGTH:
            problems.append(f"{label}: value is {len(value)} characters, CreateTrainingJob allows {_MAX_VALUE_LENGTH}")
            failed.add(canonical)
            continue
        try:
            typed, text = _parse(spec, value)
        except _Bad as bad:
            problems.append(f"{label}: {bad}")
            failed.add(canonical)
            continue
        if len(text) > _MAX_VALUE_LENGTH:
            problems.append(f"{label}: value is {len(text)} characters, CreateTrainingJob allows {_MAX_VALUE_LENGTH}")
            failed.add(canonical)
            continue
        entries.append(_Entry(given, canonical, typed, text))

    if "num_round" not in seen:
        problems.append("num_round is required: the number of boosting rounds, an integer >= 1")

    problems.extend(_dependency_problems({e.canonical: e for e in entries}, failed))

    if problems:
        raise HyperparameterError(
            problems,
            f"fix every hyperparameter listed: the rules are those of the SageMaker XGBoost {version} container "
            "(sagemaker-xgboost-container hyperparameter_validation.py)",
        )
    return _Checked(entries)


def _label(given: str) -> str:
    canonical = ALIASES.get(given)
    return f"{given} (alias of {canonical})" if canonical else given


def _alias_note(canonical: str) -> str:
    aliases = [alias for alias, name in ALIASES.items() if name == canonical]
    return f"{', '.join(aliases)} is the container's alias of {canonical}"


def _unknown_name(given: str, specs: Mapping[str, _Spec]) -> str:
    names = [*specs, *ALIASES]
    close = difflib.get_close_matches(given, names, n=1)
    if not close:
        close = difflib.get_close_matches(given.strip().lower(), names, n=1)
    suggestion = f", did you mean {close[0]!r}?" if close else ""
    return f"unknown hyperparameter {given!r} (the container refuses names it does not know){suggestion}"


# ----- value parsing ------------------------------------------------------------------------------------------


def _parse(spec: _Spec, value: object) -> tuple[object, str]:
    """Parse and range-check one value; return (typed value, canonical string) or raise :class:`_Bad`."""
    if spec.kind == "int":
        return _parse_int(spec, value)
    if spec.kind == "float":
        return _parse_float(spec, value)
    if spec.kind == "choice":
        return _parse_choice(spec, value)
    if spec.kind in ("metrics", "updater"):
        return _parse_list(spec, value)
    if spec.kind == "tuple":
        return _parse_tuple(value)
    return _parse_nested(spec, value)


def _parse_int(spec: _Spec, value: object) -> tuple[int, str]:
    interval = spec.interval
    assert interval is not None
    if isinstance(value, bool):
        if not interval.is_flag:
            raise _Bad(f"{value!r} is a boolean, not an integer in {interval}")
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        # The container parses integers with int(value), which refuses the text of a float ('5.0').
        whole = f", write {int(value)}" if value.is_integer() else ""
        raise _Bad(f"{value!r} is not an integer (the container parses integers with int(), which refuses '5.0'{whole})")
    elif isinstance(value, str):
        try:
            number = int(value)  # what the toolkit's IntegerHyperparameter.parse does
        except ValueError:
            raise _Bad(f"{value!r} is not an integer{_int_note(value)}") from None
    else:
        raise _Bad(f"{value!r} ({type(value).__name__}) is not an integer")
    if number not in interval:
        raise _Bad(f"{number} is not in {interval}{_unit(spec)}")
    return number, str(number)


def _int_note(text: str) -> str:
    """Explain why a number such as '5.0' is refused where an integer is expected."""
    try:
        number = float(text)
    except ValueError:
        return ""
    whole = f", write '{int(number)}'" if math.isfinite(number) and number.is_integer() else ""
    return f" (the container parses integers with int(), which refuses {text!r}{whole})"


def _parse_float(spec: _Spec, value: object) -> tuple[float, str]:
    interval = spec.interval
    assert interval is not None
    if isinstance(value, bool):
        raise _Bad(f"{value!r} is a boolean, not a number in {interval}")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise _Bad(f"{value!r} is not a finite number") from None
    elif isinstance(value, str):
        try:
            number = float(value)  # what the toolkit's ContinuousHyperparameter.parse does
        except ValueError:
            raise _Bad(f"{value!r} is not a number") from None
    else:
        raise _Bad(f"{value!r} ({type(value).__name__}) is not a number")
    # Stricter than the container: its interval test lets NaN through (every comparison with NaN is false),
    # and an infinite gamma/lambda/... passes a one-sided range; neither is a usable XGBoost setting.
    if not math.isfinite(number):
        raise _Bad(f"{value!r} is not a finite number")
    if number not in interval:
        raise _Bad(f"{_number(number)} is not in {interval}{_unit(spec)}")
    return number, _number(number)


def _parse_choice(spec: _Spec, value: object) -> tuple[str, str]:
    if isinstance(value, bool) and spec.choices == ("true", "false"):
        text = "true" if value else "false"
        return text, text
    if not isinstance(value, str):
        raise _Bad(f"{value!r} is not one of {_choices(spec.choices)}")
    if value not in spec.choices:  # exact, case-sensitive, no trimming: as the container compares
        raise _Bad(f"{value!r} is not one of {_choices(spec.choices)}{_did_you_mean(value, spec.choices)}")
    return value, value


def _parse_list(spec: _Spec, value: object) -> tuple[list[str], str]:
    if isinstance(value, str):
        items = value.split(",")  # CommaSeparatedListHyperparameter.parse: no trimming of spaces
    elif isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        items = list(value)
        if not items:
            raise _Bad("the list is empty")
        if any("," in item for item in items):
            raise _Bad(f"{items!r}: give each item without ','")
    else:
        raise _Bad(f"{value!r} is not a comma-separated string or a list of strings")
    bad = [_metric_problem(item, spec) if spec.kind == "metrics" else _updater_item_problem(item) for item in items]
    problems = [problem for problem in bad if problem]
    if problems:
        raise _Bad(", and ".join(problems))
    return items, ",".join(items)


def _metric_problem(item: str, spec: _Spec) -> str | None:
    """eval_metric_range_validator of hyperparameter_validation.py, for one item."""
    if item == "":
        return "an empty metric name (check for a stray ',')"
    if "<function" in item:
        return f"{item!r}: user-defined evaluation metrics are not supported"
    if any(ch.isspace() for ch in item):
        # The container splits on ',' without trimming, so ' logloss' is unknown to it.
        return f"{item!r} contains spaces (write 'auc,logloss', not 'auc, logloss')"
    if "@" in item:
        name, _, threshold = item.partition("@")
        if name not in _THRESHOLD_METRICS:
            return f"{item!r}: only 'error', 'ndcg' and 'map' take a threshold or cut-off '@t'"
        # Stricter than the container on one point: it reads only the text between the first and second '@'.
        try:
            float(threshold)
        except ValueError:
            example = f"{name}@0.5" if name == "error" else f"{name}@5"
            return f"{item!r}: the 't' in '{name}@t' must be a number (e.g. {example!r})"
        return None
    if item not in spec.choices:
        return f"{item!r} is not a known metric{_did_you_mean(item, spec.choices)}"
    return None


def _updater_item_problem(item: str) -> str | None:
    if item not in _UPDATER_RANGE:
        return f"{item!r} is not one of {_choices(_UPDATER_RANGE)}{_did_you_mean(item, _UPDATER_RANGE)}"
    return None


def _literal(value: object, example: str) -> object:
    if isinstance(value, str):
        # The toolkit evaluates these strings (eval / ast.literal_eval); only literals are accepted here.
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise _Bad(f"{value!r} is not a literal like {example!r}") from None
    return value


def _is_int(item: object) -> bool:
    return isinstance(item, int) and not isinstance(item, bool)


def _parse_tuple(value: object) -> tuple[tuple[int, ...], str]:
    """monotone_constraints: a tuple of -1/0/1 (TupleHyperparameter, range [-1, 0, 1])."""
    parsed = _literal(value, "(1,-1,0)")
    if not isinstance(parsed, (tuple, list)) or not all(_is_int(item) for item in parsed):
        raise _Bad(f"{value!r} is not a tuple of integers like '(1,-1,0)'")
    outside = [item for item in parsed if item not in (-1, 0, 1)]
    if outside:
        raise _Bad(f"{outside} not in [-1, 0, 1] (1 increasing, -1 decreasing, 0 no constraint)")
    numbers = tuple(parsed)
    inner = ",".join(str(item) for item in numbers)
    return numbers, f"({inner},)" if len(numbers) == 1 else f"({inner})"


def _parse_nested(spec: _Spec, value: object) -> tuple[list[list[int]], str]:
    """interaction_constraints: a list of lists of feature indices (NestedListHyperparameter)."""
    parsed = _literal(value, "[[1,2],[3,4]]")
    if not isinstance(parsed, (list, tuple)) or not all(
        isinstance(group, (list, tuple)) and all(_is_int(item) for item in group) for group in parsed
    ):
        raise _Bad(f"{value!r} is not a list of lists of integers like '[[1,2],[3,4]]'")
    groups = [list(group) for group in parsed]
    interval = spec.interval
    assert interval is not None
    outside = [item for group in groups for item in group if item not in interval]
    if outside:
        raise _Bad(f"{outside} not in {interval} (the container refuses feature index 0)")
    text = "[" + ",".join("[" + ",".join(str(item) for item in group) + "]" for group in groups) + "]"
    return groups, text


# ----- dependencies -------------------------------------------------------------------------------------------


def _dependency_problems(entries: Mapping[str, _Entry], failed: set[str]) -> list[str]:
    """The container's dependencies_validator rules, over the values that parsed (hyperparameter_validation.py)."""
    problems: list[str] = []

    def given(name: str) -> str:
        return entries[name].given

    objective_entry = entries.get("objective")
    objective = cast("str", objective_entry.value) if objective_entry else None
    objective_unknown = "objective" in failed  # invalid objective: do not pile dependent problems on it

    # objective_validator.  The container's "num_class without objective" branch can never run (the validator
    # only runs when an objective is given); the rule is kept because XGBoost then builds num_class outputs
    # for a single-output objective and fails on the labels ("preds.size() == info.labels_.size()").
    if not objective_unknown:
        if objective in _MULTI_CLASS_OBJECTIVES and "num_class" not in entries and "num_class" not in failed:
            problems.append(f"objective {objective} requires num_class (the number of classes, an integer >= 2)")
        if "num_class" in entries and objective not in _MULTI_CLASS_OBJECTIVES:
            shown = f"objective {objective}" if objective else "no objective"
            problems.append(f"num_class is only allowed with objective multi:softmax or multi:softprob (got {shown})")

    # eval_metric_dep_validator.  With no objective the container fails on dependencies["objective"].
    metrics_entry = entries.get("eval_metric")
    if metrics_entry and not objective_unknown:
        metrics = cast("list[str]", metrics_entry.value)
        shown = f"objective {objective}" if objective else "no objective (XGBoost's default is reg:squarederror)"
        if "auc" in metrics and not (objective and objective.startswith(("binary:", "rank:"))):
            problems.append(
                f"{given('eval_metric')}: 'auc' needs a binary: or rank: objective (got {shown}), "
                "the container only applies it to classification and ranking"
            )
        if "aft-nloglik" in metrics and objective != "survival:aft":
            problems.append(f"{given('eval_metric')}: 'aft-nloglik' needs objective survival:aft (got {shown})")
        # Stricter than the container: XGBoost fails these at the first round ("label must be in [0, num_class)"
        # for mlogloss on a binary objective), after the instance has started.
        multi_only = [m for m in ("mlogloss", "merror") if m in metrics]
        if multi_only and objective not in _MULTI_CLASS_OBJECTIVES:
            problems.append(f"{given('eval_metric')}: {', '.join(multi_only)} needs a multi: objective (got {shown})")

    # XGBoost's own check, reported by the container as a user error (xgb_constants.BASE_SCORE_RANGE_ERROR).
    base_score = entries.get("base_score")
    if base_score and objective in _LOGISTIC_OBJECTIVES and not 0 < cast("float", base_score.value) < 1:
        problems.append(
            f"base_score {base_score.text} must be in (0, 1) for objective {objective} "
            "(XGBoost: 'base_score must be in (0,1) for logistic loss')"
        )

    tree_method_entry = entries.get("tree_method")
    tree_method = tree_method_entry.value if tree_method_entry else None
    tree_method_unknown = "tree_method" in failed
    shown_tree = f"tree_method {tree_method}" if tree_method else "no tree_method"
    # monotone_constraints_validator / interaction_constraints_validator: an explicit tree_method is needed.
    if "monotone_constraints" in entries and not tree_method_unknown and tree_method not in ("exact", "hist"):
        problems.append(f"monotone_constraints needs tree_method exact or hist (got {shown_tree})")
    interaction_methods = ("exact", "hist", "approx")
    if "interaction_constraints" in entries and not tree_method_unknown and tree_method not in interaction_methods:
        problems.append(f"interaction_constraints needs tree_method exact, hist or approx (got {shown_tree})")

    # updater_validator.
    updater_entry = entries.get("updater")
    if updater_entry and not ({"booster", "process_type"} & failed):
        problem = _updater_dependency_problem(
            cast("list[str]", updater_entry.value),
            entries["booster"].value if "booster" in entries else None,
            entries["process_type"].value if "process_type" in entries else None,
        )
        if problem:
            problems.append(f"updater: {problem}")
    return problems


def _updater_dependency_problem(updaters: list[str], booster: object, process_type: object) -> str | None:
    if booster == "gblinear":
        if not (len(updaters) == 1 and updaters[0] in _LINEAR_UPDATERS):
            return "booster gblinear takes exactly one updater: 'shotgun' or 'coord_descent'"
        return None
    if process_type == "update":
        if not all(item in _PROCESS_UPDATE_UPDATERS for item in updaters):
            return "process_type 'update' can only be used with updaters 'refresh' and 'prune'"
        return None
    if not all(item in _TREE_UPDATERS for item in updaters):
        return (
            f"a tree booster's updaters must be among {_choices(_TREE_UPDATERS)} "
            "('shotgun' and 'coord_descent' need booster gblinear)"
        )
    if sum(item in _TREE_BUILD_UPDATERS for item in updaters) > 1:
        return f"only one tree-growing updater may be selected, one of {_choices(_TREE_BUILD_UPDATERS)}"
    return None


# ----- formatting ---------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    """Shortest round-tripping text of a number, without a trailing '.0' ('0.2', '4', '1e-05')."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _unit(spec: _Spec) -> str:
    return f" ({spec.unit})" if spec.unit else ""


def _choices(choices: Sequence[str]) -> str:
    return ", ".join(repr(choice) for choice in choices)


def _did_you_mean(value: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    if not close:  # 'auc' for 'validation:auc'
        close = [choice for choice in choices if choice.rpartition(":")[2] == value][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""
