"""The default ``eval_metric`` of every objective (``algorithm/default_metrics.py``), judged by the SageMaker XGBoost
container itself: its hyperparameter validation accepts each default dictionary as the stage sends it (a
``multi:`` objective with the ``num_class`` inferred from the labels), and its training entry point trains with it
on labels that fit the objective, evaluating that metric on the validation channel.

``survival:aft`` cannot train from a CSV channel at all (XGBoost needs the label's lower and upper bounds, which
the container's CSV reader does not set): the test shows it fails the same way without any ``eval_metric``, so
the default is not the cause.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from model_training.algorithm.default_metrics import DEFAULT_EVAL_METRICS
from model_training.config.run import build_config
from tests.oracle import envs

#: A label per row index that fits each objective family (XGBoost's label rules).
LABELS: dict[str, Callable[[int], float]] = {
    "binary:": lambda i: i % 2,
    "multi:": lambda i: i % 3,
    "reg:logistic": lambda i: (i % 10) / 10,
    "reg:": lambda i: 1 + i % 7,  # positive: gamma, tweedie and squaredlogerror take it too
    "count:": lambda i: i % 4,
    "survival:": lambda i: 1 + i % 6,
    "rank:map": lambda i: i % 2,
    "rank:": lambda i: i % 3,
}


def sent(objective: str) -> dict[str, str]:
    """The ``HyperParameters`` the stage sends for ``-H objective=... -H num_round=3``: its defaults, the metric
    following the objective, and for ``multi:`` the ``num_class`` of three classes."""
    hyperparameters = dict(build_config(hyperparameters={"objective": objective, "num_round": "3"}).training.hyperparameters)
    if objective.startswith("multi:"):
        hyperparameters["num_class"] = "3"
    return hyperparameters


def label_of(objective: str) -> Callable[[int], float]:
    return next(rule for prefix, rule in LABELS.items() if objective.startswith(prefix))


@pytest.mark.parametrize("version", envs.VERSIONS)
def test_the_container_accepts_every_default_metric(oracles, version: str) -> None:
    objectives = sorted(DEFAULT_EVAL_METRICS)
    verdicts = oracles(version).run("hyperparameters.py", [sent(o) for o in objectives])
    for objective, verdict in zip(objectives, verdicts, strict=True):
        assert verdict["ok"], f"{objective}: {verdict['error']}"
        metric = DEFAULT_EVAL_METRICS[objective]
        assert verdict["validated"].get("eval_metric") == (metric.split(",") if metric else None), objective


@pytest.mark.parametrize("version", envs.VERSIONS)
@pytest.mark.parametrize("objective", sorted(DEFAULT_EVAL_METRICS))
def test_the_container_trains_with_every_default_metric(oracles, version: str, objective: str, tmp_path: Path) -> None:
    label = label_of(objective)
    channel = tmp_path / "data"
    channel.mkdir()
    rows = [f"{label(i)},{i % 5 + label(i)},{(i * 3) % 7},{(i * 11) % 13}" for i in range(60)]
    (channel / "data.csv").write_text("\n".join(rows) + "\n")

    def train(hyperparameters: dict[str, str], name: str) -> dict:
        base = tmp_path / name
        base.mkdir()
        payload = {"hyperparameters": hyperparameters, "train": str(channel), "validation": str(channel), "base": str(base)}
        return oracles(version).run("train.py", payload)

    result = train(sent(objective), "default")
    metric = DEFAULT_EVAL_METRICS[objective]
    if objective == "survival:aft":
        assert not result["ok"] and "labels_lower_bound" in result["error"]
        without = train({k: v for k, v in sent(objective).items() if k != "eval_metric"}, "without")
        assert not without["ok"] and "labels_lower_bound" in without["error"]
        return
    assert result["ok"], f"{objective} {sent(objective)}: {result['error']}"
    rounds = [line for line in result["log"] if line.startswith("[2]")]
    assert rounds, "\n".join(result["log"][-20:])
    # each default metric is evaluated on the validation channel (no metric: XGBoost's own, tweedie-nloglik@1.5)
    for name in metric.split(",") if metric else ["tweedie-nloglik@1.5"]:
        assert f"validation-{name}:" in rounds[-1], rounds[-1]
