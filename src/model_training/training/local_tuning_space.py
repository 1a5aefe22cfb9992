"""A tuning job's search space and early stopping in Optuna's terms: each range of ``ParameterRanges`` as an
Optuna distribution, and SageMaker's ``TrainingJobEarlyStoppingType`` ``Auto`` rule as an Optuna pruner.

Scaling (SageMaker Developer Guide, "Define Hyperparameter Ranges", Hyperparameter Scaling):

* ``Linear``: values spread evenly between the bounds;
* ``Logarithmic``: evenly on a log scale (``log=True``; the bounds are above 0);
* ``ReverseLogarithmic`` (continuous ranges in [0, 1)): ``1 - x`` evenly on a log scale, so that values
  crowd towards 1: the distribution holds ``1 - x`` between ``1 - max`` and ``1 - min``;
* ``Auto``: SageMaker chooses a scale; here it is ``Linear``.

Whether a range is an integer, a continuous or a categorical one is the list it is in
(``IntegerParameterRanges`` ...); its bounds and values are the strings of the request.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from model_training.algorithm.hyperparameter_rules import number_text

Kind = Literal["Integer", "Continuous", "Categorical"]


@dataclass(frozen=True)
class Dimension:
    """One tuned hyperparameter: its container name, kind and range (bounds as numbers, or the values)."""

    name: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    scaling: str = "Linear"
    values: tuple[str, ...] = ()

    @property
    def reverse(self) -> bool:
        return self.kind == "Continuous" and self.scaling == "ReverseLogarithmic"

    def distribution(self) -> BaseDistribution:
        """The Optuna distribution the search draws this hyperparameter from (for ``ReverseLogarithmic``:
        of ``1 - x``)."""
        log = self.scaling == "Logarithmic"
        if self.kind == "Categorical":
            return CategoricalDistribution(self.values)
        if self.kind == "Integer":
            return IntDistribution(int(self.low), int(self.high), log=log)
        if self.reverse:
            return FloatDistribution(1.0 - self.high, 1.0 - self.low, log=True)
        return FloatDistribution(self.low, self.high, log=log)

    def suggest(self, trial: optuna.Trial) -> str:
        """The value the search gives this hyperparameter in ``trial``, as the text the container receives."""
        if self.kind == "Categorical":
            return str(trial.suggest_categorical(self.name, self.values))
        if self.kind == "Integer":
            return str(trial.suggest_int(self.name, int(self.low), int(self.high), log=self.scaling == "Logarithmic"))
        if self.reverse:
            drawn = trial.suggest_float(self.name, 1.0 - self.high, 1.0 - self.low, log=True)
            return number_text(min(max(1.0 - drawn, self.low), self.high))
        return number_text(trial.suggest_float(self.name, self.low, self.high, log=self.scaling == "Logarithmic"))

    def param(self, text: str | None) -> Any:
        """The Optuna parameter value of ``text`` (a value of this hyperparameter), or ``None`` when there is
        none or it lies outside the range (a categorical value: not one of the values, numerically)."""
        if text is None:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
        if self.kind == "Categorical":
            return next((value for value in self.values if float(value) == number), None)
        if not self.low <= number <= self.high:
            return None
        if self.kind == "Integer":
            return int(number) if number.is_integer() else None
        return 1.0 - number if self.reverse else number


def dimensions(ranges: Mapping[str, Any]) -> list[Dimension]:
    """The dimensions of a ``ParameterRanges`` (integer, continuous, categorical), sorted by name.

    Raises:
        ValueError: ``AutoParameters`` (Autotune's, SageMaker's only), or no range at all.
    """
    if ranges.get("AutoParameters"):
        raise ValueError("AutoParameters (Autotune) is SageMaker's only: give the ranges")
    found: list[Dimension] = []
    for kind in ("Integer", "Continuous"):
        for entry in ranges.get(f"{kind}ParameterRanges", []):
            scaling = entry.get("ScalingType", "Auto")
            found.append(
                Dimension(
                    name=entry["Name"],
                    kind=kind,
                    low=float(entry["MinValue"]),
                    high=float(entry["MaxValue"]),
                    scaling="Linear" if scaling == "Auto" else scaling,
                )
            )
    for entry in ranges.get("CategoricalParameterRanges", []):
        found.append(Dimension(name=entry["Name"], kind="Categorical", values=tuple(entry["Values"])))
    if not found:
        raise ValueError("ParameterRanges holds no range to search")
    return sorted(found, key=lambda d: d.name)


class RunningAverageMedianPruner(optuna.pruners.BasePruner):
    """SageMaker's early stopping (``TrainingJobEarlyStoppingType`` ``Auto``), as the Developer Guide's "Stop
    Training Jobs Early" describes it: after each epoch (here: boosting round), take the running average of the
    objective metric of every previous training job up to that epoch, and stop the current job if its value is
    worse than the median of those averages.

    "Previous" jobs are the finished trials of the study (completed or stopped, and trials added to it: the
    baseline) that reached that round; a job is not stopped before one has.  Optuna's ``MedianPruner`` is not
    this rule: it compares the current job's best value so far with the median of the others' values at the
    round, not its current value with the median of running averages.
    """

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        step = trial.last_step
        if step is None:
            return False
        value = trial.intermediate_values[step]
        averages = []
        for other in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
            if step not in other.intermediate_values:
                continue
            upto = [v for s, v in other.intermediate_values.items() if s <= step and math.isfinite(v)]
            if upto:
                averages.append(statistics.fmean(upto))
        if not averages or not math.isfinite(value):
            return False
        median = statistics.median(averages)
        return value < median if study.direction == optuna.study.StudyDirection.MAXIMIZE else value > median
