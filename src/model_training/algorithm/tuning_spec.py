"""The tuning specification of a run: a frozen, typed model of the manifest's tuning section, and how one
range (its bounds, its scaling, its values) is read and checked by the container's and the tuning service's
rules (:mod:`.tuning_rules`).  :mod:`.tuning_read` reads a whole section.

The JSON shape (``null`` is the same as leaving a setting out)::

    {
      "objective_metric": "validation:auc",    required: one of the container's metrics, "validation:<name>"
      "strategy": "Bayesian",                  Bayesian (default), Random, Hyperband or Grid
      "max_trials": 20,                        training jobs in all; Grid: leave it out (every combination once)
      "max_parallel_trials": 2,                default 1, at most max_trials
      "early_stopping": "Off",                 Off (default) or Auto; Hyperband stops jobs itself (Off)
      "ranges": {                              at least one; only the container's tunable hyperparameters
        "eta": {"min": 0.01, "max": 0.5, "scaling": "Logarithmic"},
        "max_depth": {"min": 3, "max": 10},    scaling: Auto (default), Linear, Logarithmic, ReverseLogarithmic
        "subsample": {"values": [0.6, 0.8, 1]} categorical (the list alone is the same: "subsample": [0.6, 0.8, 1])
      },
      "hyperband": {"min_resource": 10},       Hyperband only: rounds before a job may be stopped (default 1)
      "warm_start": {"parents": ["<tuning job name or run id>"], "type": "IdenticalDataAndAlgorithm"},
      "seed": 7                                optional: the search's random seed
    }

Names of enums match without regard to case (``"bayesian"`` is ``Bayesian``).  Whether a range is an
integer or a continuous range is the container's type of the hyperparameter (``max_depth`` is an integer,
``eta`` continuous), not the user's choice.

Canonical form (so that one search gives one run id): enums spelled as the service spells them, every value
as the string the service receives (the container's canonical text, as
:func:`~model_training.algorithm.hyperparameters.canonical_hyperparameters` writes it: ``0.5`` not ``0.50``,
``4`` not ``4.0``), categorical values sorted by value and distinct, ranges sorted by name, defaults filled in
(Grid's ``max_trials`` is its number of combinations, Hyperband's ``min_resource`` 1).  A range keeps the
name it was given, so an alias (``learning_rate``) stays an alias; giving a name and its alias is an error.
Reading a specification's own dump gives it back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import cast

from pydantic import BaseModel, ConfigDict

from model_training.algorithm.hyperparameter_rules import ALIASES, Spec, specs
from model_training.algorithm.hyperparameter_values import ValueProblem, did_you_mean, int_text, parse_value, shown
from model_training.algorithm.hyperparameters import _check_version
from model_training.algorithm.images import DEFAULT_IMAGE_VERSION
from model_training.algorithm.tuning_rules import (
    DEFAULT_EARLY_STOPPING,
    DEFAULT_SCALING,
    DEFAULT_STRATEGY,
    DEFAULT_WARM_START_TYPE,
    INTEGER_METADATA_HIGH,
    MAX_CATEGORICAL_VALUES,
    SCALINGS,
    TUNABLE,
    Direction,
    EarlyStopping,
    Scaling,
    Strategy,
    WarmStartType,
    objective_direction,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class NumericRange(_Frozen):
    """An integer or continuous range (which one: the container's type of the hyperparameter).

    Attributes:
        min, max: the bounds, as the canonical text of a value of the hyperparameter (``"0.01"``, ``"10"``);
            ``min < max``.
        scaling: how the search spreads values between them (the service's ``ScalingType``).
    """

    min: str
    max: str
    scaling: Scaling = DEFAULT_SCALING


class CategoricalRange(_Frozen):
    """A list of values to choose from, each the canonical text of a value (sorted by value, distinct)."""

    values: tuple[str, ...]


Range = NumericRange | CategoricalRange


class HyperbandSettings(_Frozen):
    """Hyperband's resource: boosting rounds.  ``MaxResource`` is the static ``num_round``; a job is not
    stopped before ``min_resource`` rounds."""

    min_resource: int = 1


class WarmStart(_Frozen):
    """Earlier tuning jobs (their names; a run id of this stage is one) to start the search from."""

    parents: tuple[str, ...]
    type: WarmStartType = DEFAULT_WARM_START_TYPE


class TuningSpec(_Frozen):
    """A validated hyperparameter search, in canonical form (see the module docstring for the JSON shape).

    Attributes:
        objective_metric: the container's metric to optimize, ``validation:<name>``; its direction is
            :attr:`direction`.
        strategy: Bayesian, Random, Hyperband or Grid.
        max_trials: training jobs in all (Grid: the number of combinations), >= 1.
        max_parallel_trials: training jobs at once, 1 to ``max_trials``.
        early_stopping: ``Auto`` lets the search stop jobs unlikely to beat the best so far; ``Off`` does not.
        ranges: range name (as given: an alias stays one) -> its range, sorted by name.
        hyperband: Hyperband's settings when the strategy is Hyperband, else ``None``.
        warm_start: the parent searches, or ``None``.
        seed: the search's random seed, or ``None``.
    """

    objective_metric: str
    strategy: Strategy = DEFAULT_STRATEGY
    max_trials: int
    max_parallel_trials: int = 1
    early_stopping: EarlyStopping = DEFAULT_EARLY_STOPPING
    ranges: dict[str, NumericRange | CategoricalRange]
    hyperband: HyperbandSettings | None = None
    warm_start: WarmStart | None = None
    seed: int | None = None

    @property
    def direction(self) -> Direction:
        """``Maximize`` or ``Minimize``: the container's direction for the objective metric."""
        return objective_direction(self.objective_metric)


def at(path: str, key: object) -> str:
    """The key path of ``key`` under ``path``: ``tuning.ranges.eta``."""
    return f"{path}.{key}" if isinstance(key, str) and len(key) <= 60 else f"{path}[{shown(key)}]"


def choice(value: object, choices: Sequence[str], path: str, problems: list[str]) -> str | None:
    """One of ``choices``, matched without regard to case, spelled as ``choices`` spell it; else ``None`` and a
    problem."""
    if isinstance(value, str):
        for choice in choices:
            if choice.lower() == value.lower():
                return choice
    problems.append(f"{path}: {shown(value)} is not one of {', '.join(choices)}")
    return None


def integer(value: object, path: str, problems: list[str], low: int, high: int) -> int | None:
    """An integer in [low, high] (a JSON integer, not a boolean or ``20.0``); else ``None`` and a problem."""
    if isinstance(value, bool) or not isinstance(value, int):
        whole = f" (write {int(value)})" if isinstance(value, float) and value.is_integer() else ""
        problems.append(f"{path}: {shown(value)} is not an integer{whole}")
        return None
    if not low <= value <= high:
        problems.append(f"{path}: {int_text(value)} is not in [{low}, {high}]")
        return None
    return value


# --------------------------------------------------------------------------------------------------------------
# Reading a range (problems collected, never raised)
# --------------------------------------------------------------------------------------------------------------


def bound_problem(name: str, value: object, version: str = DEFAULT_IMAGE_VERSION) -> str | None:
    """Why ``value`` cannot bound a range of (or be a categorical value of) the tunable hyperparameter
    ``name`` (an alias is allowed), or ``None`` when it can.

    A value can when the container's validation accepts it for that hyperparameter
    (:func:`~model_training.algorithm.hyperparameter_values.parse_value`: its type and interval), and, stricter,
    when it is finite and within the range the container's metadata declares for the hyperparameter
    (``IntegerParameterRangeSpecification``: 32-bit integers): the container accepts ``nan`` for every float and
    ``inf`` for one open above, but a search between such bounds is no search.

    Raises:
        KeyError: ``name`` is not a tunable hyperparameter.
    """
    canonical = ALIASES.get(name, name)
    if canonical not in TUNABLE:
        raise KeyError(name)
    problems: list[str] = []
    _value(specs(_check_version(version))[canonical], value, "", problems)
    return problems[0].removeprefix(": ") if problems else None


def read_ranges(value: object, table: Mapping[str, Spec], path: str, problems: list[str]) -> dict[str, Range]:
    """The valid ranges of a section's ``ranges`` (by the container's ``table``), sorted by name; a problem for
    each invalid one, appended to ``problems``."""
    if not isinstance(value, Mapping) or not value:
        example = "{'eta': {'min': 0.1, 'max': 0.5}, 'max_depth': {'min': 3, 'max': 10}}"
        problems.append(f"{path}: give the hyperparameters to tune and their ranges, e.g. {example}")
        return {}
    found: dict[str, Range] = {}
    names: dict[str, str] = {}  # canonical -> the name given
    for name in sorted(value, key=str):
        here = at(path, name)
        canonical = ALIASES.get(name, name) if isinstance(name, str) else name
        if canonical not in table:
            problems.append(f"{here}: unknown hyperparameter{did_you_mean(str(name), [*TUNABLE, *ALIASES])}")
        elif canonical not in TUNABLE:
            # algorithm_mode/hyperparameter_validation.py: only these are tunable=True (IsTunable in its metadata).
            problems.append(
                f"{here}: {name} is not tunable: the container marks only {', '.join(TUNABLE)} as tunable (set it as "
                "a static hyperparameter)"
            )
        elif canonical in names:
            problems.append(f"{here}: {names[canonical]} and {name} are the same hyperparameter ({canonical}): give one")
        else:
            names[canonical] = name
            parsed = _range(table[canonical], name, value[name], here, problems)
            if parsed is not None:
                found[name] = parsed
    return found


def _range(spec: Spec, name: str, body: object, path: str, problems: list[str]) -> Range | None:
    if isinstance(body, (list, tuple)):
        return _categorical(spec, body, path, problems)
    if not isinstance(body, Mapping):
        problems.append(f"{path}: {shown(body)} is not a range: give {{'min': ..., 'max': ...}} or a list of values")
        return None
    for key in body:
        if key not in ("min", "max", "scaling", "values"):
            problems.append(f"{at(path, key)}: unknown setting (a range takes min, max and scaling, or values)")
    if body.get("values") is not None:
        if any(body.get(key) is not None for key in ("min", "max", "scaling")):
            problems.append(f"{path}: give either min and max (and scaling) or values, not both")
            return None
        return _categorical(spec, body["values"], f"{path}.values", problems)
    return _numeric(spec, name, body, path, problems)


def _numeric(spec: Spec, name: str, body: Mapping[str, object], path: str, problems: list[str]) -> NumericRange | None:
    before = len(problems)
    low = _value(spec, body.get("min"), f"{path}.min", problems)
    high = _value(spec, body.get("max"), f"{path}.max", problems)
    scaling = choice(body.get("scaling") or DEFAULT_SCALING, SCALINGS, f"{path}.scaling", problems)
    if low and high and not low[0] < high[0]:
        problems.append(f"{path}: min {low[1]} is not below max {high[1]} (one value is a static hyperparameter)")
    # "Define Hyperparameter Ranges", Hyperparameter Scaling.
    if scaling == "Logarithmic" and low and not low[0] > 0:
        problems.append(f"{path}.scaling: Logarithmic scaling needs min > 0 (got {low[1]})")
    if scaling == "ReverseLogarithmic":
        if spec.kind == "int":
            problems.append(f"{path}.scaling: ReverseLogarithmic scaling is for continuous ranges; {name} is an integer")
        elif low and high and not (low[0] >= 0 and high[0] < 1):
            problems.append(f"{path}.scaling: ReverseLogarithmic scaling needs 0 <= min < max < 1 (got [{low[1]}, {high[1]}])")
    if len(problems) > before or not (low and high and scaling):
        return None
    return NumericRange(min=low[1], max=high[1], scaling=cast("Scaling", scaling))


def _categorical(spec: Spec, values: object, path: str, problems: list[str]) -> CategoricalRange | None:
    if not isinstance(values, (list, tuple)) or not 1 <= len(values) <= MAX_CATEGORICAL_VALUES:
        problems.append(f"{path}: give 1 to {MAX_CATEGORICAL_VALUES} values as a list, e.g. [3, 5, 7]")
        return None
    before = len(problems)
    parsed: dict[float, str] = {}
    for n, value in enumerate(values):
        found = _value(spec, value, f"{path}[{n}]", problems)
        if found and found[0] in parsed:
            problems.append(f"{path}[{n}]: {found[1]} is given twice")
        elif found:
            parsed[found[0]] = found[1]
    if len(problems) > before:
        return None
    return CategoricalRange(values=tuple(parsed[key] for key in sorted(parsed)))


def _value(spec: Spec, value: object, path: str, problems: list[str]) -> tuple[float, str] | None:
    """A bound or categorical value: (typed value, canonical text); see :func:`bound_problem`."""
    if value is None:
        problems.append(f"{path}: missing")
        return None
    try:
        typed, text = parse_value(spec, value)
    except ValueProblem as bad:
        problems.append(f"{path}: {bad}")
        return None
    assert isinstance(typed, (int, float))
    if isinstance(typed, float) and not math.isfinite(typed):
        problems.append(f"{path}: {text} is not a finite number (a search needs finite values)")
        return None
    if isinstance(typed, int) and typed > INTEGER_METADATA_HIGH:  # every tunable integer is >= 0
        problems.append(
            f"{path}: {int_text(typed)} is above {INTEGER_METADATA_HIGH}, the largest value the container's metadata "
            f"declares for {spec.name} (a 32-bit integer)"
        )
        return None
    return typed, text
