"""Reading a run's tuning section (the JSON shape: :mod:`.tuning_spec`) setting by setting, with every
problem collected and each named by its key path (``tuning.ranges.eta.min``), by the container's and the
tuning service's rules (:mod:`.tuning_rules`, where each rule's source is named).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from model_training.algorithm.hyperparameter_rules import ALIASES, specs
from model_training.algorithm.hyperparameter_values import did_you_mean, shown
from model_training.algorithm.hyperparameters import _check_version
from model_training.algorithm.images import DEFAULT_IMAGE_VERSION
from model_training.algorithm.tuning_rules import (
    DEFAULT_EARLY_STOPPING,
    DEFAULT_STRATEGY,
    DEFAULT_WARM_START_TYPE,
    EARLY_STOPPING_TYPES,
    MAX_HYPERBAND_RESOURCE,
    MAX_PARALLEL_TRIALS,
    MAX_PARENTS,
    MAX_SEED,
    MAX_TRIALS,
    OBJECTIVE_METRICS,
    PARENT_NAME,
    STRATEGIES,
    TUNABLE,
    WARM_START_TYPES,
    EarlyStopping,
    Strategy,
    WarmStartType,
)
from model_training.algorithm.tuning_spec import (
    CategoricalRange,
    HyperbandSettings,
    NumericRange,
    Range,
    TuningSpec,
    WarmStart,
    at,
    choice,
    integer,
    read_ranges,
)
from model_training.errors import HyperparameterError, listed

#: The settings of the tuning section, in the order of the JSON shape.
SETTINGS = (
    "objective_metric",
    "strategy",
    "max_trials",
    "max_parallel_trials",
    "early_stopping",
    "ranges",
    "hyperband",
    "warm_start",
    "seed",
)
_NO_DIRECTION = ("direction", "objective_type", "type")


def tuning_error(problems: list[str], version: str) -> HyperparameterError:
    """The error for a tuning section's problems (the first :data:`~model_training.errors.MAX_PROBLEMS`)."""
    return HyperparameterError(
        listed(problems),
        f"fix every tuning setting listed: ranges take the tunable hyperparameters of the SageMaker XGBoost {version} "
        f"container ({', '.join(TUNABLE)}) with values its rules accept, within the limits of SageMaker's tuning",
    )


def parse_tuning(raw: object, version: str = DEFAULT_IMAGE_VERSION, *, path: str = "tuning") -> TuningSpec:
    """Read and check a tuning section on its own (without the static hyperparameters: see
    :func:`model_training.algorithm.tuning.validate_tuning` for the checks that need them).

    Args:
        raw: the section as JSON gives it (see the module docstring).
        version: the container version (image tag) whose rules apply.
        path: where the section is, for the messages (``tuning.ranges.eta.min``).

    Returns:
        The specification in canonical form.

    Raises:
        ConfigurationError: ``version`` is not supported.
        HyperparameterError: every problem found, each naming its key path.
    """
    draft = read_draft(raw, version, path)
    if draft.problems:
        raise tuning_error(draft.problems, version)
    return draft.spec()


# --------------------------------------------------------------------------------------------------------------
# Reading, one setting at a time (problems collected, never raised)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Draft:
    """What :func:`read_draft` made of a tuning section: the settings that are valid (``None`` or missing
    where a setting is not), and the problems."""

    problems: list[str] = field(default_factory=list)
    objective_metric: str | None = None
    strategy: Strategy | None = None
    max_trials: int | None = None
    max_parallel_trials: int | None = None
    early_stopping: EarlyStopping | None = None
    ranges: dict[str, Range] = field(default_factory=dict)
    tunable: list[str] = field(default_factory=list)  # the ranges given of tunable names, valid or not
    hyperband: HyperbandSettings | None = None
    warm_start: WarmStart | None = None
    seed: int | None = None

    def spec(self) -> TuningSpec:
        """The specification (only when there are no problems)."""
        assert not self.problems and self.objective_metric and self.max_trials is not None, self.problems
        return TuningSpec(
            objective_metric=self.objective_metric,
            strategy=self.strategy or DEFAULT_STRATEGY,
            max_trials=self.max_trials,
            max_parallel_trials=self.max_parallel_trials or 1,
            early_stopping=self.early_stopping or DEFAULT_EARLY_STOPPING,
            ranges=self.ranges,
            hyperband=self.hyperband,
            warm_start=self.warm_start,
            seed=self.seed,
        )


def read_draft(raw: object, version: str, path: str) -> Draft:
    """Read a tuning section setting by setting; see :func:`parse_tuning`.

    Raises:
        ConfigurationError: ``version`` is not supported.
    """
    table = specs(_check_version(version))
    draft = Draft()
    problems = draft.problems
    if not isinstance(raw, Mapping):
        problems.append(
            f"{path}: {shown(raw)} is not an object: give the search as an object such as "
            "{'objective_metric': 'validation:auc', 'max_trials': 20, 'ranges': {'eta': {'min': 0.1, 'max': 0.5}}}"
        )
        return draft
    for key in raw:
        if key in _NO_DIRECTION:
            problems.append(
                f"{path}.{key}: the direction is the container's own (validation:auc is maximized, validation:rmse "
                "minimized, ...): leave it out"
            )
        elif key not in SETTINGS:
            problems.append(f"{at(path, key)}: unknown setting{did_you_mean(str(key), SETTINGS)}")
    given = {key: value for key, value in raw.items() if value is not None}

    draft.objective_metric = _objective_metric(given.get("objective_metric"), f"{path}.objective_metric", problems)
    strategy = choice(given.get("strategy", DEFAULT_STRATEGY), STRATEGIES, f"{path}.strategy", problems)
    draft.strategy = cast("Strategy | None", strategy)
    early_given = "early_stopping" in given
    early = choice(given.get("early_stopping", DEFAULT_EARLY_STOPPING), EARLY_STOPPING_TYPES, f"{path}.early_stopping", problems)
    draft.early_stopping = cast("EarlyStopping | None", early)
    draft.ranges = read_ranges(given.get("ranges"), table, f"{path}.ranges", problems)
    if isinstance(given.get("ranges"), Mapping):
        names: dict[str, str] = {}  # the first name given of each tunable hyperparameter
        for name in sorted(given["ranges"], key=str):
            names.setdefault(ALIASES.get(name, name) if isinstance(name, str) else "", name)
        draft.tunable = [name for canonical, name in names.items() if canonical in TUNABLE]
    _trials(draft, given, path)
    if draft.strategy == "Hyperband":
        if early_given and draft.early_stopping == "Auto":
            # HyperParameterTuningJobConfig.TrainingJobEarlyStoppingType: must be Off to use Hyperband.
            problems.append(f"{path}.early_stopping: Hyperband stops training jobs itself: early_stopping must be Off")
        draft.hyperband = _hyperband(given.get("hyperband", {}), f"{path}.hyperband", problems)
    elif "hyperband" in given and draft.strategy is not None:
        # HyperbandStrategyConfig: "provided only if Hyperband is selected".
        problems.append(f"{path}.hyperband: settings of the Hyperband strategy, but the strategy is {draft.strategy}")
    if "warm_start" in given:
        draft.warm_start = _warm_start(given["warm_start"], f"{path}.warm_start", problems)
    if "seed" in given:
        draft.seed = integer(given["seed"], f"{path}.seed", problems, 0, MAX_SEED)
    return draft


def _objective_metric(value: object, path: str, problems: list[str]) -> str | None:
    if value is None:
        problems.append(f"{path}: required: the container's metric to optimize, e.g. 'validation:auc' or 'validation:rmse'")
        return None
    if isinstance(value, str) and value in OBJECTIVE_METRICS:
        return value
    hint = did_you_mean(value, list(OBJECTIVE_METRICS)) if isinstance(value, str) else ""
    if isinstance(value, str) and not hint and f"validation:{value.rpartition(':')[2]}" in OBJECTIVE_METRICS:
        hint = f" (did you mean 'validation:{value.rpartition(':')[2]}'? the container's metrics are on the validation channel)"
    problems.append(f"{path}: {shown(value)} is not an objective metric of the container{hint}")
    return None


def _trials(draft: Draft, given: Mapping[str, object], path: str) -> None:
    """max_trials and max_parallel_trials, by the strategy's limits."""
    problems, strategy = draft.problems, draft.strategy
    limit = MAX_TRIALS.get(strategy or "", max(MAX_TRIALS.values()))
    if "max_trials" in given:
        draft.max_trials = integer(given["max_trials"], f"{path}.max_trials", problems, 1, limit)
    if strategy == "Grid":
        numeric = [name for name, found in draft.ranges.items() if isinstance(found, NumericRange)]
        for name in numeric:
            # "How hyperparameter tuning works", Grid search: only categorical parameters are supported.
            problems.append(f"{path}.ranges.{name}: Grid searches categorical ranges only: give its values, e.g. [1, 2, 3]")
        combinations = math.prod(len(found.values) for found in draft.ranges.values() if isinstance(found, CategoricalRange))
        if draft.ranges and not numeric:
            # Grid runs every combination once; MaxNumberOfTrainingJobs, if given, must equal their number.
            if combinations > limit:
                problems.append(f"{path}.ranges: {combinations} combinations, but Grid runs {limit} training jobs at most")
            elif "max_trials" in given and draft.max_trials not in (None, combinations):
                problems.append(
                    f"{path}.max_trials: a Grid search runs each of its {combinations} combinations once, not "
                    f"{draft.max_trials}: leave max_trials out"
                )
            else:
                draft.max_trials = combinations
    elif "max_trials" not in given and strategy is not None:
        problems.append(f"{path}.max_trials: required for a {strategy} search: the number of training jobs, 1 to {limit}")
    if "max_parallel_trials" in given:
        parallel = integer(given["max_parallel_trials"], f"{path}.max_parallel_trials", problems, 1, MAX_PARALLEL_TRIALS)
        if parallel is not None and draft.max_trials is not None and parallel > draft.max_trials:
            problems.append(f"{path}.max_parallel_trials: {parallel} is more than max_trials ({draft.max_trials})")
        else:
            draft.max_parallel_trials = parallel


def _hyperband(value: object, path: str, problems: list[str]) -> HyperbandSettings | None:
    if not isinstance(value, Mapping):
        problems.append(f"{path}: {shown(value)} is not an object such as {{'min_resource': 10}}")
        return None
    for key in value:
        if key != "min_resource":
            # MaxResource is num_round; the service cannot infer it from XGBoost's hyperparameters.
            extra = ": Hyperband's maximum is num_round, set it there" if key == "max_resource" else ""
            problems.append(f"{at(path, key)}: unknown setting (Hyperband takes min_resource){extra}")
    if value.get("min_resource") is None:
        return HyperbandSettings()
    found = integer(value["min_resource"], f"{path}.min_resource", problems, 1, MAX_HYPERBAND_RESOURCE)
    return HyperbandSettings(min_resource=found) if found is not None else None


def _warm_start(value: object, path: str, problems: list[str]) -> WarmStart | None:
    if not isinstance(value, Mapping):
        problems.append(f"{path}: {shown(value)} is not an object such as {{'parents': ['<tuning job or run id>']}}")
        return None
    before = len(problems)
    for key in value:
        if key not in ("parents", "type"):
            problems.append(f"{at(path, key)}: unknown setting (a warm start takes parents and type)")
    kind = choice(value.get("type") or DEFAULT_WARM_START_TYPE, WARM_START_TYPES, f"{path}.type", problems)
    parents = value.get("parents")
    if not isinstance(parents, (list, tuple)) or not 1 <= len(parents) <= MAX_PARENTS:
        problems.append(f"{path}.parents: give 1 to {MAX_PARENTS} earlier tuning jobs (their names or run ids) as a list")
        return None
    for n, parent in enumerate(parents):
        if not isinstance(parent, str) or not PARENT_NAME.fullmatch(parent):
            problems.append(
                f"{path}.parents[{n}]: {shown(parent)} is not a tuning job's name (1 to 32 letters, digits and "
                "hyphens, starting and ending with a letter or digit)"
            )
    if len(set(parents)) < len(parents):
        problems.append(f"{path}.parents: a parent is listed twice")
    if len(problems) > before:
        return None
    return WarmStart(parents=tuple(parents), type=cast("WarmStartType", kind))
