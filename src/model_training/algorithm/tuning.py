"""Hyperparameter tuning, as the SageMaker XGBoost container and SageMaker's tuning allow it: the
specification (:mod:`.tuning_spec`: the JSON shape, the model, the rules of one section), the checks that
need the static hyperparameters beside it, and what a search needs from it (the objective's direction, the
combinations of a Grid, the untuned values, the ``CreateHyperParameterTuningJob`` request's parts).

Static or tuned: a hyperparameter is one or the other.  The stage's own default values (``eta`` 0.2 ...)
give way to a range silently; a value the user set in the same configuration conflicts with it.  The caller
knows which is which: it drops the defaults with :func:`without_tuned` and reports the user's values that
:func:`static_and_tuned` finds (or passes them on, and :func:`validate_tuning` reports them).

The objective metric: the container adds it to ``eval_metric`` (the sorted union, algorithm_mode/train.py and
train_utils.py ``get_union_metrics``), so it must be a metric the container's ``eval_metric`` rules accept
with the run's objective: :func:`validate_tuning` runs that union through
:func:`~model_training.algorithm.hyperparameters.canonical_hyperparameters` (``validation:auc`` needs a
``binary:`` or ``rank:`` objective, ``validation:mlogloss`` a ``multi:`` one ...).  Without an objective, the
container trains with XGBoost's, ``reg:squarederror``.

A ``multi:`` objective without ``num_class`` is checked as a run checks it: the run infers ``num_class`` from the
labels and gives it to every training job of the search (a static hyperparameter of the request).

The container's dependency rules (objective_validator, eval_metric_dep_validator, updater_validator and the
constraints' validators) involve no tunable hyperparameter, so a range whose bounds are valid values gives
valid values all through, in every combination; the oracle test checks that the container declares no
dependency on a tunable hyperparameter.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from model_training.algorithm.hyperparameter_rules import ALIASES, number_text, specs
from model_training.algorithm.hyperparameter_values import shown
from model_training.algorithm.hyperparameters import canonical_hyperparameters
from model_training.algorithm.images import DEFAULT_IMAGE_VERSION
from model_training.algorithm.tuning_read import parse_tuning, read_draft, tuning_error
from model_training.algorithm.tuning_rules import (
    MAX_HYPERBAND_RESOURCE,
    TUNABLE,
    TUNING_OBJECTIVE_HYPERPARAMETER,
    XGBOOST_DEFAULT_OBJECTIVE,
    Scaling,
    objective_direction,
)
from model_training.algorithm.tuning_spec import (
    CategoricalRange,
    HyperbandSettings,
    NumericRange,
    Range,
    TuningSpec,
    WarmStart,
    bound_problem,
)
from model_training.errors import HyperparameterError

__all__ = [
    "CategoricalRange",
    "HyperbandSettings",
    "NumericRange",
    "TuningSpec",
    "WarmStart",
    "bound_problem",
    "check_tuning",
    "grid_trials",
    "objective_direction",
    "parameter_ranges",
    "parse_tuning",
    "range_kind",
    "recommended_range",
    "static_and_tuned",
    "tuned_names",
    "tuning_job_config",
    "typed_value",
    "untuned_values",
    "validate_tuning",
    "warm_start_config",
    "without_tuned",
]

V = TypeVar("V")


def validate_tuning(
    raw: object,
    hyperparameters: Mapping[str, object],
    version: str = DEFAULT_IMAGE_VERSION,
    *,
    path: str = "tuning",
    infer_num_class: bool = False,
) -> TuningSpec:
    """Read a tuning section and check it, alone and with the static hyperparameters beside it; every problem
    of both at once.

    Args:
        raw: the section as JSON gives it (the shape: :mod:`.tuning_spec`).
        hyperparameters: the static hyperparameters the training jobs get (the stage's defaults already
            without the tuned names: :func:`without_tuned`); string or JSON values, as
            :func:`~model_training.algorithm.hyperparameters.canonical_hyperparameters` takes them.
        version: the container version (image tag) whose rules apply.
        path: where the section is, for the messages.
        infer_num_class: a ``multi:`` objective may come without ``num_class``, which the run takes from the
            labels (a configuration's check, as :func:`~model_training.config.run.build_config` checks the
            hyperparameters: :func:`~model_training.algorithm.hyperparameters.canonical_hyperparameters`).

    Returns:
        The specification in canonical form.

    Raises:
        ConfigurationError: ``version`` is not supported.
        HyperparameterError: every problem, each naming its key path: those of :func:`parse_tuning` and of
            :func:`check_tuning`.
    """
    draft = read_draft(raw, version, path)
    hyperband = draft.hyperband.min_resource if draft.hyperband else None
    ranges = {**dict.fromkeys(draft.tunable), **draft.ranges}  # None: a range of a tunable name that is invalid
    problems = [
        *draft.problems,
        *_problems(draft.objective_metric, ranges, draft.strategy, hyperband, hyperparameters, version, path, infer_num_class),
    ]
    if problems:
        raise tuning_error(problems, version)
    return draft.spec()


def check_tuning(
    spec: TuningSpec,
    hyperparameters: Mapping[str, object],
    version: str = DEFAULT_IMAGE_VERSION,
    *,
    path: str = "tuning",
    infer_num_class: bool = False,
) -> None:
    """Check a specification with the static hyperparameters beside it.

    Rules: a hyperparameter is static or tuned, not both; ``_tuning_objective_metric`` is the search's to set
    (:data:`~.tuning_rules.TUNING_OBJECTIVE_HYPERPARAMETER`), never static; the static hyperparameters with each
    tuned one at a value of its range are valid (the container's rules); the objective metric is one the container can
    evaluate with the run's objective and ``eval_metric`` (see the module docstring); Hyperband's resource is
    the static ``num_round`` (at most 20,000, ``HyperbandStrategyConfig``, and at least ``min_resource``).
    SageMaker's limit of 100 hyperparameters in all, static and tuned, counting the ``_tuning_objective_metric``
    it adds ("Define Hyperparameter Ranges"), cannot be reached: the container knows fewer names.
    ``infer_num_class`` as in :func:`validate_tuning`; without it (a request's check: the request carries the
    ``num_class`` the run inferred) a ``multi:`` objective needs ``num_class``.

    Raises:
        ConfigurationError: ``version`` is not supported.
        HyperparameterError: every problem found.
    """
    hyperband = spec.hyperband.min_resource if spec.hyperband else None
    problems = _problems(
        spec.objective_metric, spec.ranges, spec.strategy, hyperband, hyperparameters, version, path, infer_num_class
    )
    if problems:
        raise tuning_error(problems, version)


def _problems(
    metric: str | None,
    ranges: Mapping[str, Range | None],
    strategy: str | None,
    min_resource: int | None,
    hyperparameters: Mapping[str, object],
    version: str,
    path: str,
    infer_num_class: bool,
) -> list[str]:
    problems: list[str] = []
    tuned = {ALIASES.get(name, name): name for name in ranges}
    for given, tuned_name in _both(hyperparameters, tuned):
        problems.append(
            f"{path}.ranges.{tuned_name}: {given} is also a static hyperparameter (hyperparameters.{given} = "
            f"{shown(hyperparameters[given])}): a hyperparameter is either static or tuned, remove one"
        )
    if TUNING_OBJECTIVE_HYPERPARAMETER in hyperparameters:
        problems.append(
            f"hyperparameters.{TUNING_OBJECTIVE_HYPERPARAMETER} = {shown(hyperparameters[TUNING_OBJECTIVE_HYPERPARAMETER])}: "
            f"the tuning job sets it in every training job to its objective metric{f' ({metric})' if metric else ''}: "
            "leave it out"
        )
    static = {k: v for k, v in _without(hyperparameters, tuned).items() if k != TUNING_OBJECTIVE_HYPERPARAMETER}
    # a training job of the search: the static values and each tuned one at a value of its range (of the
    # container's recommended range where the range itself is invalid, so that its problems are not repeated)
    trial = {**static, **{name: _first(found or recommended_range(name)) for name, found in ranges.items()}}
    canonical: dict[str, str] | None
    try:
        canonical = canonical_hyperparameters(trial, version, infer_num_class=infer_num_class)
    except HyperparameterError as bad:
        problems += [f"hyperparameters: {problem}" for problem in bad.problems]
        canonical = None
    if canonical is not None and metric is not None:
        problems += _metric_problems(metric, trial, canonical, version, f"{path}.objective_metric", infer_num_class)
    if strategy == "Hyperband":
        if "num_round" in tuned:
            problems.append(
                f"{path}.ranges.{tuned['num_round']}: Hyperband gives each training job its rounds itself (its "
                "MaxResource is num_round): set num_round as a static hyperparameter"
            )
        elif canonical is not None:
            rounds = int(canonical[next(k for k in canonical if ALIASES.get(k, k) == "num_round")])
            if rounds > MAX_HYPERBAND_RESOURCE:
                problems.append(
                    f"hyperparameters.num_round: {rounds} rounds, but Hyperband's MaxResource (num_round) is at most "
                    f"{MAX_HYPERBAND_RESOURCE}"
                )
            if min_resource is not None and min_resource > rounds:
                problems.append(f"{path}.hyperband.min_resource: {min_resource} is more than num_round ({rounds})")
    return problems


def _metric_problems(
    metric: str, trial: Mapping[str, object], canonical: Mapping[str, str], version: str, path: str, infer_num_class: bool
) -> list[str]:
    """The container's union of the tuning metric and ``eval_metric``, judged by its ``eval_metric`` rules."""
    eval_metric = canonical.get("eval_metric")
    union = sorted({metric.partition(":")[2], *(eval_metric.split(",") if eval_metric else [])})
    check = {**trial, "eval_metric": ",".join(union)}
    default = ""
    if "objective" not in canonical:
        check["objective"] = XGBOOST_DEFAULT_OBJECTIVE
        default = f", with XGBoost's default objective {XGBOOST_DEFAULT_OBJECTIVE} (none is set)"
    try:
        canonical_hyperparameters(check, version, infer_num_class=infer_num_class)
    except HyperparameterError as bad:
        how = f"adds {metric} to eval_metric {eval_metric}" if eval_metric else f"evaluates {metric} as eval_metric"
        return [f"{path}: the container {how} ({check['eval_metric']}){default}: {problem}" for problem in bad.problems]
    return []


def _first(found: Range) -> str:
    return found.min if isinstance(found, NumericRange) else found.values[0]


# --------------------------------------------------------------------------------------------------------------
# Static or tuned
# --------------------------------------------------------------------------------------------------------------


def tuned_names(spec: TuningSpec) -> dict[str, str]:
    """The container's name of each tuned hyperparameter -> the range's name (``eta`` -> ``learning_rate``)."""
    return {ALIASES.get(name, name): name for name in spec.ranges}


def _both(hyperparameters: Mapping[str, object], tuned: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(name, tuned[ALIASES.get(name, name)]) for name in hyperparameters if ALIASES.get(name, name) in tuned]


def _without(hyperparameters: Mapping[str, V], tuned: Mapping[str, str]) -> dict[str, V]:
    return {name: value for name, value in hyperparameters.items() if ALIASES.get(name, name) not in tuned}


def static_and_tuned(hyperparameters: Mapping[str, object], spec: TuningSpec) -> list[tuple[str, str]]:
    """The hyperparameters both set statically and tuned: ``(static name, range name)`` pairs in the static
    map's order, an alias matching its name (static ``learning_rate`` and a range of ``eta``)."""
    return _both(hyperparameters, tuned_names(spec))


def without_tuned(hyperparameters: Mapping[str, V], spec: TuningSpec) -> dict[str, V]:
    """The static hyperparameters without the tuned ones (by the container's name, aliases included): the
    ``StaticHyperParameters`` of the search's training jobs, when ``hyperparameters`` are the stage's."""
    return _without(hyperparameters, tuned_names(spec))


def untuned_values(hyperparameters: Mapping[str, str], spec: TuningSpec) -> dict[str, str | None]:
    """Range name -> the value the untuned configuration gives that hyperparameter (``hyperparameters``: the
    static map before :func:`without_tuned`), or ``None`` where it gives none and the container's default
    applies.  The untuned configuration is the search's baseline trial; its values need not be inside the
    ranges."""
    by_canonical = {ALIASES.get(name, name): value for name, value in hyperparameters.items()}
    return {name: by_canonical.get(ALIASES.get(name, name)) for name in spec.ranges}


# --------------------------------------------------------------------------------------------------------------
# What a search needs
# --------------------------------------------------------------------------------------------------------------


def range_kind(name: str) -> Literal["Integer", "Continuous"]:
    """The container's type of a tunable hyperparameter (an alias is allowed): ``Integer`` or ``Continuous``.

    Raises:
        KeyError: ``name`` is not tunable.
    """
    canonical = ALIASES.get(name, name)
    if canonical not in TUNABLE:
        raise KeyError(name)
    return "Integer" if specs(DEFAULT_IMAGE_VERSION)[canonical].kind == "int" else "Continuous"


def typed_value(name: str, text: str) -> int | float:
    """A value of a range (a bound or a categorical value) as a number of the hyperparameter's type."""
    return int(text) if range_kind(name) == "Integer" else float(text)


def recommended_range(name: str) -> NumericRange:
    """The container's ``tunable_recommended_range`` of a tunable hyperparameter, as a range.

    Raises:
        KeyError: ``name`` is not tunable.
    """
    found = TUNABLE[ALIASES.get(name, name)]
    text = (lambda v: str(int(v))) if range_kind(name) == "Integer" else number_text
    return NumericRange(min=text(found.low), max=text(found.high), scaling=cast("Scaling", found.scaling))


def grid_trials(spec: TuningSpec) -> list[dict[str, str]]:
    """Every combination of a search of categorical ranges (a Grid), each ``{range name: value}``, in a fixed
    order (ranges by name, values in their canonical order, the last range varying fastest).

    Raises:
        ValueError: a range is not categorical.
    """
    names = sorted(spec.ranges)
    values = []
    for name in names:
        found = spec.ranges[name]
        if not isinstance(found, CategoricalRange):
            raise ValueError(f"{name} is a numeric range: a grid combines categorical ranges only")
        values.append(found.values)
    return [dict(zip(names, combination, strict=True)) for combination in itertools.product(*values)]


def parameter_ranges(spec: TuningSpec) -> dict[str, list[dict[str, Any]]]:
    """The ``ParameterRanges`` of ``HyperParameterTuningJobConfig``: integer, continuous and categorical ranges,
    each under the container's name of the hyperparameter (``eta`` for a range of ``learning_rate``: the
    service judges names by the algorithm's metadata, which lists no alias), values as strings."""
    ranges: dict[str, list[dict[str, Any]]] = {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    for name, found in sorted(spec.ranges.items(), key=lambda item: ALIASES.get(item[0], item[0])):
        canonical = ALIASES.get(name, name)
        if isinstance(found, CategoricalRange):
            ranges["CategoricalParameterRanges"].append({"Name": canonical, "Values": list(found.values)})
        else:
            entry = {"Name": canonical, "MinValue": found.min, "MaxValue": found.max, "ScalingType": found.scaling}
            ranges[f"{range_kind(name)}ParameterRanges"].append(entry)
    return ranges


def tuning_job_config(spec: TuningSpec, hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    """The ``HyperParameterTuningJobConfig`` of ``CreateHyperParameterTuningJob`` for a checked specification.

    Args:
        spec: the search.
        hyperparameters: the static hyperparameters (canonical strings); Hyperband's ``MaxResource`` is their
            ``num_round``.

    Raises:
        ValueError: the strategy is Hyperband and the static hyperparameters have no ``num_round``
            (:func:`check_tuning` reports it).
    """
    config: dict[str, Any] = {
        "Strategy": spec.strategy,
        "HyperParameterTuningJobObjective": {"Type": spec.direction, "MetricName": spec.objective_metric},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": spec.max_trials, "MaxParallelTrainingJobs": spec.max_parallel_trials},
        "ParameterRanges": parameter_ranges(spec),
        "TrainingJobEarlyStoppingType": spec.early_stopping,
    }
    if spec.hyperband is not None:
        rounds = next((value for name, value in hyperparameters.items() if ALIASES.get(name, name) == "num_round"), None)
        if rounds is None:
            raise ValueError("Hyperband's MaxResource is num_round, and the static hyperparameters have none")
        resources = {"MinResource": spec.hyperband.min_resource, "MaxResource": int(rounds)}
        config["StrategyConfig"] = {"HyperbandStrategyConfig": resources}
    if spec.seed is not None:
        config["RandomSeed"] = spec.seed
    return config


def warm_start_config(spec: TuningSpec) -> dict[str, Any] | None:
    """The ``WarmStartConfig`` of ``CreateHyperParameterTuningJob``, or ``None`` without a warm start."""
    if spec.warm_start is None:
        return None
    return {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": name} for name in spec.warm_start.parents],
        "WarmStartType": spec.warm_start.type,
    }
