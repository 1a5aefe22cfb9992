"""Differential test: our tuning rules against the SageMaker XGBoost container's own metadata and validation.

For each image version the container's code (``scripts/tuning.py``, in the image's pinned environment) reports
the hyperparameters it declares tunable, their types, recommended and declared ranges, its objective metrics
with their directions, which hyperparameters its dependency rules read, and its verdict on a corpus of range
bounds.  They must equal :mod:`model_training.algorithm.tuning_rules` and what
:func:`~model_training.algorithm.tuning.bound_problem` accepts.

The only disagreements allowed are :data:`STRICTER`: bounds the container's validation accepts but a search
cannot use: a float that is not finite (``nan`` passes every range of the container, ``inf`` one open above),
and an integer above the 32-bit maximum the container's metadata declares for the hyperparameter.
"""

from __future__ import annotations

import math

import pytest

from model_training.algorithm.hyperparameter_rules import specs
from model_training.algorithm.tuning import bound_problem, parameter_ranges, parse_tuning, range_kind, recommended_range
from model_training.algorithm.tuning_rules import INTEGER_METADATA_HIGH, OBJECTIVE_METRICS, TUNABLE
from tests.oracle import envs

#: Our problem for each kind of bound the container accepts and we refuse (see the module docstring).
STRICTER = {
    "not finite": "is not a finite number",
    "above the metadata's 32-bit maximum": "the largest value the container's metadata declares",
}

#: Range bounds as a tuning job sends them: in and out of every tunable hyperparameter's interval, at and past
#: the 32-bit limit, non-finite, and texts ``int()`` and ``float()`` read differently.
BOUNDS = (
    "-1", "0", "-0", "0.0", "1e-300", "0.1", "0.5", "0.99", "1", "1.0", "2", "10", "120", "4000", "1e308",
    "1e309", "inf", "-inf", "nan", "2147483647", "2147483648", "99999999999999999999", "abc", "", " 3",
    "3 ", "1_000", "0x10", "5.5", "True", "1e3",
)  # fmt: skip


@pytest.fixture(scope="module", params=envs.VERSIONS)
def container(request: pytest.FixtureRequest, oracles) -> tuple[str, dict]:
    version = request.param
    cases = [[name, value] for name in TUNABLE for value in BOUNDS]
    report = oracles(version).run("tuning.py", {"bounds": cases})
    assert len(report["bounds"]) == len(cases)
    return version, {**report, "cases": cases}


def test_the_containers_tunable_hyperparameters_and_ranges_are_ours(container: tuple[str, dict]) -> None:
    version, theirs = container
    assert theirs["tunable"] == list(TUNABLE)
    for name, described in theirs["hyperparameters"].items():
        kind = range_kind(name)
        assert described["type"] == kind
        # the recommended range, rendered as our request renders a range of that name
        spec = parse_tuning(
            {"objective_metric": "validation:auc", "max_trials": 1, "ranges": {name: recommended_range(name).model_dump()}}
        )
        assert {key: value for key, value in parameter_ranges(spec).items() if value} == described["recommended"]
        declared = described["range"][f"{kind}ParameterRangeSpecification"]
        interval = specs(version)[name].interval
        assert interval is not None
        if kind == "Integer":  # [low, 2**31 - 1]: the metadata's integer range unbounded above
            assert (int(declared["MinValue"]), int(declared["MaxValue"])) == (interval.low, INTEGER_METADATA_HIGH)
        else:  # finite bounds: every finite float of the container's interval is within them
            assert all(math.isfinite(float(declared[key])) for key in ("MinValue", "MaxValue"))
            assert float(declared["MinValue"]) == interval.low


def test_the_containers_objective_metrics_and_directions_are_ours(container: tuple[str, dict]) -> None:
    _, theirs = container
    assert theirs["metrics"] == [{"MetricName": metric, "Type": direction} for metric, direction in OBJECTIVE_METRICS.items()]
    assert theirs["objective_metric_range"] == list(OBJECTIVE_METRICS)


def test_no_rule_of_the_container_depends_on_a_tunable_hyperparameter(container: tuple[str, dict]) -> None:
    """So a range whose bounds are valid holds only valid values, in every combination with the static ones."""
    _, theirs = container
    assert theirs["dependencies"], "the container declares dependency rules: the report must list them"
    for name, reads in theirs["dependencies"].items():
        assert name not in TUNABLE and not set(reads) & set(TUNABLE), (name, reads)


def test_range_bounds_agree_with_the_containers_validation(container: tuple[str, dict]) -> None:
    version, theirs = container
    disagreements, stricter, agreed = [], set(), 0
    for (name, value), verdict in zip(theirs["cases"], theirs["bounds"], strict=True):
        ours = bound_problem(name, value, version)
        if (ours is None) == verdict["ok"]:
            agreed += 1
            continue
        kinds = [kind for kind, text in STRICTER.items() if ours and text in ours]
        if verdict["ok"] and kinds:
            stricter.update(kinds)
        else:
            disagreements.append(f"{name}={value!r}: ours {ours or 'accepted'}; container {verdict['error'] or 'accepted'}")
    print(f"\ntuning bounds {version}: {len(theirs['cases'])} compared, {agreed} agreed, stricter: {sorted(stricter)}")
    assert not disagreements, "\n".join(disagreements)
    assert stricter == set(STRICTER), f"documented but not met in the corpus: {set(STRICTER) - stricter}"
