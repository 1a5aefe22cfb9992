"""Differential test: our hyperparameter validator against the SageMaker XGBoost container's own.

For each image version the whole generated corpus (``hyperparameter_corpus.py``, 300+ dictionaries of string
values) goes through the container's validation in one subprocess (``scripts/hyperparameters.py``) and through
:func:`~model_training.algorithm.hyperparameters.parse_hyperparameters`.  They must agree on every dictionary:
accept or reject, and where both accept, the same hyperparameter names after aliasing and the same typed values.

The only disagreements allowed are :data:`STRICTER`: values the container accepts although the training job
then fails on them (XGBoost refuses them).  We refuse those before any instance starts; each is shown failing
in the container's own training entry point by ``test_each_stricter_rule_fails_in_the_containers_training``.
The README's hyperparameter section lists the same cases.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from model_training.algorithm.hyperparameters import parse_hyperparameters
from model_training.errors import HyperparameterError
from tests.oracle import envs
from tests.oracle.hyperparameter_corpus import corpus


@dataclass(frozen=True)
class Stricter:
    """One documented case where we refuse what the container accepts, because the job would fail."""

    key: str
    why: str
    ours: str  # a regex every one of our problems for such a dictionary matches
    examples: tuple[dict[str, str], ...]  # dictionaries the container accepts and then fails to train with
    train_error: str  # a regex the container's training failure matches, in both images


STRICTER: tuple[Stricter, ...] = (
    Stricter(
        "objective aft_loss_distribution",
        "listed among the container's objectives (it is a hyperparameter's name); XGBoost knows no such objective",
        r"objective: 'aft_loss_distribution' is a hyperparameter, not an objective",
        ({"num_round": "2", "objective": "aft_loss_distribution"},),
        r"Unknown objective function",
    ),
    Stricter(
        "num_class with a single-output objective",
        "the container checks num_class only for multi: objectives; XGBoost then makes num_class outputs per row",
        r"num_class is only used by objective multi:softmax or multi:softprob",
        ({"num_round": "2", "objective": "binary:logistic", "num_class": "2"},),
        r"labels.Size\(\) == preds.Size\(\)|Invalid shape of labels",
    ),
    Stricter(
        "mlogloss or merror with a single-output objective",
        "XGBoost's multi-class metrics need num_class classes of predictions",
        r"eval_metric: .*needs a multi: objective",
        (
            {"num_round": "2", "objective": "binary:logistic", "eval_metric": "mlogloss"},
            {"num_round": "2", "objective": "reg:squarederror", "eval_metric": "merror"},
        ),
        r"label must be in \[0, num_class\)",
    ),
    Stricter(
        "base_score outside (0, 1) with a logistic objective",
        "the container's range is [0, inf); XGBoost's logistic loss needs a probability",
        r"base_score .* must be in \(0, 1\) for objective",
        (
            {"num_round": "2", "objective": "binary:logistic", "base_score": "0"},
            {"num_round": "2", "objective": "binary:logistic", "base_score": "nan"},
        ),
        r"base_score must be in \(0,1\) for logistic loss",
    ),
    Stricter(
        "max_bin below 2",
        "the container's range is [0, inf); XGBoost refuses max_bin < 2 whatever the tree method",
        r"max_bin: .* is not in \[2, \+inf\)",
        ({"num_round": "2", "max_bin": "1"},),
        r"max_bin should be greater equal to 2",
    ),
    Stricter(
        "eval_metric with spaces around a threshold",
        "the container trims the name and threshold of 'name@t'; XGBoost gets the untrimmed text",
        r"eval_metric: .*contains spaces",
        ({"num_round": "2", "objective": "binary:logistic", "eval_metric": " error@0.5"},),
        r"Unknown metric function",
    ),
    Stricter(
        "eval_metric tweedie-nloglik without its power",
        "the container refuses 'tweedie-nloglik@1.5' and accepts the bare name, which XGBoost cannot evaluate",
        r"eval_metric: 'tweedie-nloglik' needs its power",
        ({"num_round": "2", "objective": "reg:tweedie", "eval_metric": "tweedie-nloglik"},),
        r"tweedie-nloglik must be in format tweedie-nloglik@rho",
    ),
    Stricter(
        "monotone_constraints that are not a tuple of integers",
        "the container compares with ==, so 1.0 and True pass, and takes a list or a set; XGBoost cannot read them",
        r"monotone_constraints: .*(is not a tuple of integers|not a list)",
        (
            {"num_round": "2", "tree_method": "hist", "monotone_constraints": "(1.0,0)"},
            {"num_round": "2", "tree_method": "hist", "monotone_constraints": "[1,0]"},
            {"num_round": "2", "tree_method": "hist", "monotone_constraints": "{1,0}"},
        ),
        r"Invalid Parameter format for monotone_constraints|'(list|set)' object has no attribute 'keys'",
    ),
    Stricter(
        "updater grow_skmaker or distcol",
        "in the container's list of updaters, unknown to XGBoost 1.7 and 3.0",
        r"updater: .*(grow_skmaker|distcol).* XGBoost",
        ({"num_round": "2", "updater": "grow_skmaker"}, {"num_round": "2", "updater": "distcol"}),
        r"Unknown tree updater",
    ),
    Stricter(
        "interaction_constraints naming features",
        "the container passes the parsed lists on; XGBoost's Python layer reads them as feature names, and the "
        "CSV channels have none",
        r"interaction_constraints: .* names features, which fails the job",
        ({"num_round": "2", "tree_method": "hist", "interaction_constraints": "[[1,2]]"},),
        r"Constrained features are not a subset of training data feature names",
    ),
)


def _json_safe(value: object) -> object:
    """Our typed value as the oracle script reports the container's (JSON, non-finite floats as repr)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _typed(value: object) -> object:
    """A value with its type, so that 1 (int) and 1.0 (float) differ."""
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _no_constraints(validated: dict) -> dict:
    """An empty interaction_constraints literal (``''``, ``{}``, ``()``) is no constraint in the container and
    in XGBoost; we send it as ``[]``."""
    if validated.get("interaction_constraints") in ("", [], {}):
        return {**validated, "interaction_constraints": []}
    return validated


def _ours(hps: dict[str, str], version: str) -> dict:
    try:
        parsed = parse_hyperparameters(hps, version)
    except HyperparameterError as error:
        return {"ok": False, "problems": error.problems, "validated": None}
    validated = json.loads(json.dumps({k: _json_safe(v) for k, v in parsed.validated.items()}))
    return {"ok": True, "problems": [], "validated": validated}


def _allowed(problems: list[str]) -> list[str]:
    """The STRICTER keys that explain every problem, or [] when one is not explained."""
    keys = []
    for problem in problems:
        match = [s.key for s in STRICTER if re.search(s.ours, problem)]
        if not match:
            return []
        keys += match
    return sorted(set(keys))


@pytest.mark.parametrize("version", envs.VERSIONS)
def test_our_validator_agrees_with_the_containers(oracles, version: str) -> None:
    cases = corpus(version)
    assert len(cases) >= 300
    verdicts = oracles(version).run("hyperparameters.py", [hps for _, hps in cases])
    assert len(verdicts) == len(cases)
    disagreements, exceptions, agreed = [], {}, 0
    for (case_id, hps), theirs in zip(cases, verdicts, strict=True):
        ours = _ours(hps, version)
        if ours["ok"] != theirs["ok"]:
            keys = _allowed(ours["problems"]) if theirs["ok"] else []
            if keys:
                exceptions[case_id] = keys
                continue
            disagreements.append(f"{case_id} {hps}: ours {ours['ok']} {ours['problems']}; container {theirs['error']}")
        elif ours["ok"] and _typed(_no_constraints(ours["validated"])) != _typed(_no_constraints(theirs["validated"])):
            disagreements.append(f"{case_id} {hps}: values ours {ours['validated']} != container {theirs['validated']}")
        else:
            agreed += 1
    print(
        f"\nhyperparameters {version}: {len(cases)} dictionaries compared, {agreed} agreed, "
        f"{len(exceptions)} documented exceptions ({len({k for ks in exceptions.values() for k in ks})} rules), "
        f"{len(disagreements)} disagreements"
    )
    assert not disagreements, f"{len(disagreements)} of {len(cases)} disagree:\n" + "\n".join(disagreements)
    # every documented rule is exercised by the corpus, else it is not needed
    used = {k for ks in exceptions.values() for k in ks}
    assert used == {s.key for s in STRICTER}, f"documented but not met in the corpus: { ({s.key for s in STRICTER} - used) }"


@pytest.mark.parametrize("version", envs.VERSIONS)
@pytest.mark.parametrize("rule", STRICTER, ids=[s.key for s in STRICTER])
def test_each_stricter_rule_fails_in_the_containers_training(oracles, version: str, rule: Stricter, tmp_path: Path) -> None:
    oracle = oracles(version)
    verdicts = oracle.run("hyperparameters.py", list(rule.examples))
    assert all(v["ok"] for v in verdicts), f"the container's validation refuses one of {rule.examples}: not stricter"
    train = tmp_path / "train"
    train.mkdir()
    for n, example in enumerate(rule.examples):
        with pytest.raises(HyperparameterError) as caught:
            parse_hyperparameters(example, version)
        assert _allowed(caught.value.problems) == [rule.key], caught.value.problems
        objective = example.get("objective", "")
        # label first, then three features; labels fit the objective, so only the rule can fail the job
        label = (lambda i: 1 + i % 3) if objective == "reg:tweedie" else (lambda i: i % 2)
        rows = [f"{label(i)},{i % 5},{(i * 3) % 7},{(i * 11) % 13}" for i in range(60)]
        channel = tmp_path / f"data{n}"
        channel.mkdir()
        (channel / "data.csv").write_text("\n".join(rows) + "\n")
        base = tmp_path / f"base{n}"
        base.mkdir()
        payload = {"hyperparameters": example, "train": str(channel), "validation": str(channel), "base": str(base)}
        result = oracle.run("train.py", payload)
        assert not result["ok"], f"{rule.key}: the container trained with {example}"
        text = (result["error"] or "") + "\n" + "\n".join(result["log"])
        assert re.search(rule.train_error, text), f"{rule.key} {example}: {result['error']}\n" + "\n".join(result["log"][-20:])
