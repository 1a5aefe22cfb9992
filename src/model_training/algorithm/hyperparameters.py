"""Hyperparameter rules of SageMaker's built-in XGBoost algorithm container.

A SageMaker XGBoost training job validates its ``HyperParameters`` only *after* the instance has started
(and is being paid for); a bad value then fails the job.  This module applies the same rules locally, before
any request is sent, and reports every problem at once.

Origin of the rules: "SageMaker XGBoost container, algorithm_mode/hyperparameter_validation.py, image 3.0-5"
(names, types, ranges, choices, dependencies, aliases; image 1.7-1 declares the same) on "SageMaker XGBoost
container, sagemaker_algorithm_toolkit/hyperparameter_validation.py" (how values are parsed, how aliases
replace names); the tables are in :mod:`.hyperparameter_rules`, the parsing of one value in
:mod:`.hyperparameter_values`, the dependencies between values here.  The oracle test
(``tests/oracle/test_hyperparameters_oracle.py``) runs the container's own validation on a generated corpus
for both images and requires the same verdicts and values, except where we are stricter because the
training job would fail (each such rule says so, and the README lists them).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias, cast

from model_training.algorithm.hyperparameter_rules import (
    ALIASES,
    CONTAINER_METRICS,
    CONTAINER_ONLY,
    LINEAR_UPDATERS,
    LOGISTIC_OBJECTIVES,
    MAX_ENTRIES,
    MAX_KEY_LENGTH,
    MAX_VALUE_LENGTH,
    MULTI_CLASS_METRICS,
    MULTI_CLASS_OBJECTIVES,
    PROCESS_UPDATE_UPDATERS,
    REMOVED,
    TREE_BUILD_UPDATERS,
    TREE_UPDATERS,
    Spec,
    specs,
)
from model_training.algorithm.hyperparameter_values import ValueProblem, choices_text, parse_value
from model_training.algorithm.images import DEFAULT_IMAGE_VERSION, IMAGE_VERSIONS, LEGACY_VERSIONS
from model_training.errors import MAX_PROBLEMS, ConfigurationError, HyperparameterError, listed

__all__ = [
    "ALIASES",
    "CONTAINER_METRICS",
    "CONTAINER_ONLY",
    "ParsedHyperparameters",
    "canonical_hyperparameters",
    "merge_hyperparameters",
    "parse_hyperparameters",
]

#: Problems found, each with the names (as given) of the hyperparameters it is about (``HyperparameterError.about``).
_Problems: TypeAlias = list[tuple[tuple[str, ...], str]]


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
        validated: every hyperparameter given, typed, under its canonical name (aliases replaced), as the
            container's validation returns it: ``eval_metric`` and ``updater`` as lists of names.
    """

    num_round: int
    objective: str | None
    eval_metrics: list[str]
    num_class: int | None
    early_stopping_rounds: int | None
    csv_weights: bool
    params: dict[str, object] = field(default_factory=dict)
    validated: dict[str, object] = field(default_factory=dict, compare=False)


def canonical_hyperparameters(
    raw: Mapping[str, object], version: str = DEFAULT_IMAGE_VERSION, *, infer_num_class: bool = False
) -> dict[str, str]:
    """Validate hyperparameters and return the ``HyperParameters`` map for ``CreateTrainingJob``.

    Rules: those of the SageMaker XGBoost container (see the module docstring), the same as
    :func:`parse_hyperparameters` applies.

    Args:
        raw: hyperparameter name -> value.  A value may be a string (as the container receives it) or a JSON
            scalar: ``int``; ``float``; ``bool`` (only for the ``"true"``/``"false"`` hyperparameters and the
            0/1 switches ``csv_weights``, ``refresh_leaf``, ``one_drop``); a list of strings for
            ``eval_metric``/``updater``; a list/tuple of ints for ``monotone_constraints``; a list of lists
            of ints for ``interaction_constraints``.
        version: container version (image tag), one of :data:`~model_training.algorithm.images.IMAGE_VERSIONS`.
        infer_num_class: a ``multi:`` objective may come without ``num_class``, which the run infers from the
            labels (the container requires it: the request then carries the inferred value).

    Returns:
        Name -> value string in canonical form, in the given order, under the names given (an alias such as
        ``learning_rate`` stays an alias: the container accepts it).  Where one dictionary gives two names of
        one hyperparameter (``eta`` and ``learning_rate``), the later one is kept, as the container keeps it.
        Integers as ``"100"``, floats in their shortest form without a trailing ``.0`` (``0.2`` -> ``"0.2"``,
        ``4.0`` -> ``"4"``, ``1e-05`` -> ``"1e-05"``, NaN -> ``"nan"``), booleans as ``"true"``/``"false"`` (or
        ``"1"``/``"0"`` for 0/1 switches), lists
        comma-joined (``"auc,logloss"``), tuples as ``"(1,-1,0)"``, nested lists as ``"[[1,2],[3,4]]"``.

    Raises:
        ConfigurationError: ``version`` is not supported (``latest``/``1`` mean the legacy 0.72 algorithm).
        HyperparameterError: with the problems found (the first :data:`~model_training.errors.MAX_PROBLEMS`
            described, the rest counted), e.g. an unknown name (with the closest valid name),
            ``silent`` (use ``verbosity``), a value of the wrong type or out of range, a missing ``num_round``,
            ``num_class`` with a single-output objective, ``auc`` without a ``binary:``/``rank:`` objective,
            ``eval_metric`` without ``objective``.
    """
    checked = _validate(raw, version, strings_only=False, infer_num_class=infer_num_class)
    return {entry.given: entry.text for entry in checked.entries}


def parse_hyperparameters(
    hyperparameters: Mapping[str, str], version: str = DEFAULT_IMAGE_VERSION, *, infer_num_class: bool = False
) -> ParsedHyperparameters:
    """Do what the container does at job start: parse the string values, validate them, type them.

    Rules and parsing: the SageMaker XGBoost container's (see the module docstring; integers with ``int()``,
    so ``"5.0"`` is refused; floats with ``float()``, so ``"nan"`` passes; lists split on ``,`` without
    trimming spaces), the same rules as :func:`canonical_hyperparameters`.

    Args:
        hyperparameters: the job's ``HyperParameters``: name -> string value.
        version: container version (image tag), one of :data:`~model_training.algorithm.images.IMAGE_VERSIONS`.
        infer_num_class: as in :func:`canonical_hyperparameters` (``num_class`` is then ``None``).

    Returns:
        The typed hyperparameters (see :class:`ParsedHyperparameters`).

    Raises:
        ConfigurationError: ``version`` is not supported (``latest``/``1`` mean the legacy 0.72 algorithm).
        HyperparameterError: with the problems found, as :func:`canonical_hyperparameters` lists them (a
            non-string value is one of them).
    """
    checked = _validate(hyperparameters, version, strings_only=True, infer_num_class=infer_num_class)
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
        validated=values,
    )


def merge_hyperparameters(*layers: Mapping[str, object]) -> dict[str, object]:
    """Merge hyperparameter layers, lowest first, name by name; an alias replaces its other name.

    A higher layer's ``learning_rate`` replaces a lower layer's ``eta`` (the container would otherwise see
    both and keep whichever comes last), so a manifest may use either name over the defaults.
    """
    merged: dict[str, object] = {}
    for layer in layers:
        for name, value in layer.items():
            canonical = ALIASES.get(name, name)
            for other in [k for k in merged if k != name and ALIASES.get(k, k) == canonical]:
                del merged[other]
            merged[name] = value
    return merged


# --------------------------------------------------------------------------------------------------------------
# Validation core (shared by both public functions)
# --------------------------------------------------------------------------------------------------------------


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
    if isinstance(version, str) and version in IMAGE_VERSIONS:
        return version
    supported = ", ".join(IMAGE_VERSIONS)
    if isinstance(version, str) and version.strip().lower() in LEGACY_VERSIONS:
        raise ConfigurationError(
            f"XGBoost algorithm version {version!r} is the legacy 0.72 algorithm ('1' and 'latest' both select "
            "it), which takes other hyperparameters and is deprecated",
            f"choose one of: {supported}",
        )
    raise ConfigurationError(
        f"unsupported XGBoost algorithm version {version!r}",
        f"choose one of: {supported} (note that 'latest' and '1' mean the legacy 0.72 algorithm)",
    )


def _validate(raw: Mapping[str, object], version: str, *, strings_only: bool, infer_num_class: bool = False) -> _Checked:
    version = _check_version(version)
    table = specs(version)
    if not isinstance(raw, Mapping):
        raise HyperparameterError(
            [f"hyperparameters must be a mapping of name to value, got {type(raw).__name__}"],
            "give the hyperparameters as a mapping such as {'num_round': '100'}",
        )
    problems: _Problems = []
    if len(raw) > MAX_ENTRIES:
        problems.append(((), f"{len(raw)} hyperparameters given, but CreateTrainingJob accepts at most {MAX_ENTRIES}"))

    # The container replaces each alias by its name first; of two names of one hyperparameter the later wins.
    given: dict[str, tuple[str, object]] = {}  # canonical -> (name as given, value)
    for name, value in raw.items():
        if not isinstance(name, str):
            problems.append(((), f"hyperparameter name {name!r} is not a string"))
        elif name in REMOVED:
            problems.append(((name,), REMOVED[name]))
        elif ALIASES.get(name, name) not in table:
            # the closest valid name (difflib, slow) only for the names an error can show
            unknown = _unknown_name(name, table) if len(problems) < MAX_PROBLEMS else f"unknown hyperparameter {name!r}"
            problems.append(((name,), unknown))
        else:
            given[ALIASES.get(name, name)] = (name, value)

    entries: list[_Entry] = []
    failed: set[str] = set()  # canonical names given but invalid (no dependency checks on them)
    for canonical, (name, value) in given.items():
        label = f"{name} (alias of {canonical})" if name != canonical else name
        problem = None
        if len(name) > MAX_KEY_LENGTH:  # pragma: no cover - every known name is short
            problem = f"name longer than {MAX_KEY_LENGTH} characters"
        elif strings_only and not isinstance(value, str):
            problem = f"value {value!r} is not a string (HyperParameters values are strings)"
        elif isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            problem = f"value is {len(value)} characters, CreateTrainingJob allows {MAX_VALUE_LENGTH}"
        else:
            try:
                typed, text = parse_value(table[canonical], value)
            except ValueProblem as bad:
                problem = str(bad)
            else:
                if len(text) > MAX_VALUE_LENGTH:
                    problem = f"value is {len(text)} characters, CreateTrainingJob allows {MAX_VALUE_LENGTH}"
                else:
                    entries.append(_Entry(name, canonical, typed, text))
        if problem:
            problems.append(((name,), f"{label}: {problem}"))
            failed.add(canonical)

    if "num_round" not in given:
        problems.append(((), "num_round is required: the number of boosting rounds, an integer >= 1"))
    problems.extend(_dependency_problems({e.canonical: e for e in entries}, failed, infer_num_class=infer_num_class))
    if problems:
        raise HyperparameterError(
            listed([text for _, text in problems]),
            f"fix every hyperparameter listed: the rules are those of the SageMaker XGBoost {version} container "
            "(its hyperparameter_validation.py)",
            about=[names for names, _ in problems],
        )
    return _Checked(entries)


def _unknown_name(given: str, table: Mapping[str, Spec]) -> str:
    names = [*table, *ALIASES]
    close = difflib.get_close_matches(given, names, n=1) or difflib.get_close_matches(given.strip().lower(), names, n=1)
    suggestion = f", did you mean {close[0]!r}?" if close else ""
    return f"unknown hyperparameter {given!r} (the container refuses names it does not know){suggestion}"


# ----- dependencies -------------------------------------------------------------------------------------------


def _dependency_problems(entries: Mapping[str, _Entry], failed: set[str], *, infer_num_class: bool = False) -> _Problems:
    """The container's dependency validators (objective_validator, eval_metric_dep_validator,
    monotone_constraints_validator, interaction_constraints_validator, updater_validator), over the values
    that parsed, plus the stricter checks where XGBoost would fail (``infer_num_class``: a ``multi:``
    objective's ``num_class`` comes from the labels later)."""
    problems: _Problems = []

    def add(about: str, text: str) -> None:  # about: canonical names, space-separated
        problems.append((tuple(entries[name].given for name in about.split() if name in entries), text))

    objective_entry = entries.get("objective")
    objective = cast("str", objective_entry.value) if objective_entry else None
    objective_failed = "objective" in failed  # an invalid objective: do not pile dependent problems on it

    if not objective_failed and objective:
        num_class_missing = "num_class" not in entries and "num_class" not in failed
        if objective in MULTI_CLASS_OBJECTIVES and num_class_missing and not infer_num_class:
            add("objective", f"objective {objective} requires num_class (the number of classes, an integer >= 2)")
        # Stricter: the container lets num_class through with any objective; XGBoost then makes num_class outputs
        # per row and a single-output objective fails on the labels ("Invalid shape of labels").  Without an
        # objective, XGBoost trains num_class outputs and does not fail: the container's verdict stands.
        if "num_class" in entries and objective not in MULTI_CLASS_OBJECTIVES:
            add(
                "num_class objective",
                f"num_class is only used by objective multi:softmax or multi:softprob (got objective {objective}): "
                "XGBoost would fail on the labels; leave num_class out",
            )

    metrics_entry = entries.get("eval_metric")
    if metrics_entry and not objective_failed:
        metrics = cast("list[str]", metrics_entry.value)
        label = metrics_entry.given
        if objective is None:
            # eval_metric_dep_validator reads the objective unconditionally: without one the job fails.
            add(
                "eval_metric",
                f"{label} needs an objective: the container fails without one (give objective, e.g. "
                "reg:squarederror, XGBoost's default)",
            )
        else:
            if "auc" in metrics and not objective.startswith(("binary:", "rank:")):
                add(
                    "eval_metric objective",
                    f"{label}: 'auc' needs a binary: or rank: objective (got objective {objective}), "
                    "the container only applies it to classification and ranking",
                )
            if "aft-nloglik" in metrics and objective != "survival:aft":
                add("eval_metric objective", f"{label}: 'aft-nloglik' needs objective survival:aft (got objective {objective})")
            # Stricter: XGBoost fails at the first round ("label must be in [0, num_class)").
            multi_only = [m for m in MULTI_CLASS_METRICS if m in metrics]
            if multi_only and objective not in MULTI_CLASS_OBJECTIVES:
                add(
                    "eval_metric objective",
                    f"{label}: {', '.join(multi_only)} needs a multi: objective (got objective {objective})",
                )

    # Stricter: XGBoost's own check, which the container reports as a user error (BASE_SCORE_RANGE_ERROR).
    base_score = entries.get("base_score")
    if base_score and objective in LOGISTIC_OBJECTIVES and not 0 < cast("float", base_score.value) < 1:
        add(
            "base_score objective",
            f"base_score {base_score.text} must be in (0, 1) for objective {objective} "
            "(XGBoost: 'base_score must be in (0,1) for logistic loss')",
        )

    tree_method_entry = entries.get("tree_method")
    tree_method = tree_method_entry.value if tree_method_entry else None
    if "tree_method" not in failed:
        shown = f"tree_method {tree_method}" if tree_method else "no tree_method"
        if "monotone_constraints" in entries and tree_method not in ("exact", "hist"):
            add("monotone_constraints tree_method", f"monotone_constraints needs tree_method exact or hist (got {shown})")
        if "interaction_constraints" in entries and tree_method not in ("exact", "hist", "approx"):
            add(
                "interaction_constraints tree_method",
                f"interaction_constraints needs tree_method exact, hist or approx (got {shown})",
            )

    updater_entry = entries.get("updater")
    if updater_entry and not ({"booster", "process_type"} & failed):
        problem = _updater_dependency_problem(
            cast("list[str]", updater_entry.value),
            entries["booster"].value if "booster" in entries else None,
            entries["process_type"].value if "process_type" in entries else None,
        )
        if problem:
            add("updater booster process_type", f"updater: {problem}")
    return problems


def _updater_dependency_problem(updaters: list[str], booster: object, process_type: object) -> str | None:
    if booster == "gblinear":
        if not (len(updaters) == 1 and updaters[0] in LINEAR_UPDATERS):
            return "booster gblinear takes exactly one updater: 'shotgun' or 'coord_descent'"
        return None
    if process_type == "update":
        if not all(item in PROCESS_UPDATE_UPDATERS for item in updaters):
            return "process_type 'update' can only be used with updaters 'refresh' and 'prune'"
        return None
    if not all(item in TREE_UPDATERS for item in updaters):
        return (
            f"a tree booster's updaters must be among {choices_text(TREE_UPDATERS)} "
            "('shotgun' and 'coord_descent' need booster gblinear)"
        )
    if sum(item in TREE_BUILD_UPDATERS for item in updaters) > 1:
        return f"only one tree-growing updater may be selected, one of {choices_text(TREE_BUILD_UPDATERS)}"
    return None
