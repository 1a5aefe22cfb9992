"""Runs in an oracle environment: the container's own tuning metadata, and its validation of range bounds.

stdin: ``{"bounds": [[name, value], ...]}``, values as strings (as a tuning job sends them).
stdout (last line): a JSON object:

* ``tunable``: the names the container declares ``tunable=True``, in its order;
* ``hyperparameters``: for each of them, its ``type`` (Integer, Continuous ...), ``recommended``
  (``format_tunable_range()``, the recommended range as the metadata writes it) and ``range``
  (``format_range()``, the range its metadata declares);
* ``dependencies``: name -> the names its dependency validator reads, for every hyperparameter with one;
* ``metrics``: ``format_tunable()`` of the container's metrics (the metadata's SupportedTuningJobObjectiveMetrics);
* ``objective_metric_range``: the values ``_tuning_objective_metric`` takes;
* ``bounds``: one ``{"ok": bool, "error": str | null}`` per bound: the container's validation of
  ``{"num_round": "10", name: value}`` (``{"num_round": value}`` for num_round itself).
"""

import json
import sys

from sagemaker_algorithm_toolkit import exceptions as exc
from sagemaker_xgboost_container.algorithm_mode import hyperparameter_validation as hpv
from sagemaker_xgboost_container.algorithm_mode import metrics as metrics_mod


def main():
    payload = json.load(sys.stdin)
    metrics = metrics_mod.initialize()
    rules = hpv.initialize(metrics)
    tunable = [name for name, hp in rules.hyperparameters.items() if hp.tunable]
    described = {
        name: {
            "type": rules[name].type,
            "recommended": rules[name].format_tunable_range(),
            "range": rules[name].format_range(),
        }
        for name in tunable
    }
    dependencies = {name: list(hp.dependencies) for name, hp in rules.hyperparameters.items() if hp.dependencies}
    bounds = []
    for name, value in payload["bounds"]:
        hps = {"num_round": value} if name == "num_round" else {"num_round": "10", name: value}
        try:
            rules.validate(hps)
        except exc.BaseToolkitError as error:
            bounds.append({"ok": False, "error": str(error)})
        except Exception as error:  # the job fails on any exception out of validate
            bounds.append({"ok": False, "error": f"{type(error).__name__}: {error}"})
        else:
            bounds.append({"ok": True, "error": None})
    print(
        json.dumps(
            {
                "tunable": tunable,
                "hyperparameters": described,
                "dependencies": dependencies,
                "metrics": metrics.format_tunable(),
                "objective_metric_range": list(rules["_tuning_objective_metric"].range),
                "bounds": bounds,
            }
        )
    )


main()
