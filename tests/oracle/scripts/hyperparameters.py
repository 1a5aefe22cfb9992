"""Runs in an oracle environment: the container's own hyperparameter validation on each dictionary.

stdin: a JSON list of ``{name: value}`` dictionaries (values as SageMaker sends them: strings).
stdout (last line): a JSON list, one ``{"ok": bool, "error": str | null, "validated": {...} | null}`` each,
where ``validated`` is what ``hyperparameters.validate`` returned (values made JSON-safe with ``repr``
for floats that JSON cannot hold).  Any other exception out of ``validate`` (a ``KeyError`` when
``eval_metric`` comes without ``objective``, a ``SyntaxError`` from a constraint's literal) fails the job as
surely as a toolkit error, so it is a rejection too: ``error`` then starts with the exception's class name.
"""

import json
import math
import sys

from sagemaker_algorithm_toolkit import exceptions as exc
from sagemaker_xgboost_container.algorithm_mode import hyperparameter_validation as hpv
from sagemaker_xgboost_container.algorithm_mode import metrics as metrics_mod


def _safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    if isinstance(value, (set, frozenset, dict)):  # eval'd literals: compared by their items
        return [_safe(v) for v in sorted(value, key=repr)]
    return value


def main():
    corpus = json.load(sys.stdin)
    rules = hpv.initialize(metrics_mod.initialize())
    verdicts = []
    for hps in corpus:
        try:
            validated = rules.validate(dict(hps))
        except exc.BaseToolkitError as error:
            verdicts.append({"ok": False, "error": str(error), "validated": None})
        except Exception as error:  # the job fails on any exception out of validate
            verdicts.append({"ok": False, "error": f"{type(error).__name__}: {error}", "validated": None})
        else:
            verdicts.append({"ok": True, "error": None, "validated": {k: _safe(v) for k, v in validated.items()}})
    print(json.dumps(verdicts))


main()
