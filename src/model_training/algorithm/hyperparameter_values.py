"""Parsing and range-checking one hyperparameter value, by the tables of :mod:`.hyperparameter_rules`.

Values are parsed as "SageMaker XGBoost container, sagemaker_algorithm_toolkit/hyperparameter_validation.py,
image 3.0-5" parses them: integers with ``int()`` (so ``" 3"`` is 3 and ``"5.0"`` is refused), floats with
``float()`` (so ``"nan"`` and ``"inf"`` are numbers, and NaN is inside every range, since no comparison with
it is true), comma lists split without trimming, constraints read as Python literals.  Where we are stricter
than the container, a comment says why the training job would fail.
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Sequence

from model_training.algorithm.hyperparameter_rules import (
    AFT_AS_OBJECTIVE,
    METRICS_NEEDING_A_PARAMETER,
    THRESHOLD_METRICS,
    UPDATER_RANGE,
    UPDATERS_UNKNOWN_TO_XGBOOST,
    Spec,
    number_text,
)


class ValueProblem(Exception):
    """A value cannot be parsed or is out of range; the message is one problem sentence."""


def parse_value(spec: Spec, value: object) -> tuple[object, str]:
    """Parse and range-check one value; return (typed value, canonical string) or raise :class:`ValueProblem`."""
    if spec.kind == "int":
        return _parse_int(spec, value)
    if spec.kind == "float":
        return _parse_float(spec, value)
    if spec.kind == "choice":
        return _parse_choice(spec, value)
    if spec.kind in ("metrics", "updater"):
        return _parse_list(spec, value)
    if spec.kind == "tuple":
        return _parse_tuple(value)
    return _parse_nested(value)


def _parse_int(spec: Spec, value: object) -> tuple[int, str]:
    interval = spec.interval
    assert interval is not None
    if isinstance(value, bool):
        if not interval.is_flag:
            raise ValueProblem(f"{value!r} is a boolean, not an integer in {interval}")
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        whole = f", write {int(value)}" if math.isfinite(value) and value.is_integer() and abs(value) < _SHOWN_WHOLE else ""
        raise ValueProblem(
            f"{shown(value)} is not an integer (the container parses integers with int(), which refuses '5.0'{whole})"
        )
    elif isinstance(value, str):
        try:
            number = int(value)  # IntegerHyperparameter.parse
        except ValueError:  # also past Python's 4300 digits
            raise ValueProblem(f"{shown(value)} is not an integer{_int_note(value)}") from None
    else:
        raise ValueProblem(f"{shown(value)} ({type(value).__name__}) is not an integer")
    if number not in interval:
        raise ValueProblem(f"{int_text(number)} is not in {interval}{_unit(spec)}")
    return number, str(number)


#: Whole numbers at least this large are not written out in a suggestion (1e308 has 309 digits).
_SHOWN_WHOLE = 1e18


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` for a message, cut at ``limit`` characters (a value may be any length)."""
    text = repr(value) if not isinstance(value, int) or isinstance(value, bool) else int_text(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def int_text(number: int) -> str:
    """An integer for a message: in full up to 18 digits, else its size (``a 309-digit number``)."""
    if abs(number) < 10**18:
        return str(number)
    digits = len(str(abs(number))) if number.bit_length() < 14_000 else int(number.bit_length() * math.log10(2)) + 1
    return f"{'a negative ' if number < 0 else 'a '}{digits}-digit number"


def _int_note(text: str) -> str:
    """Explain why a number such as '5.0' is refused where an integer is expected."""
    try:
        number = float(text)
    except ValueError:
        return ""
    whole = f", write '{int(number)}'" if math.isfinite(number) and number.is_integer() and abs(number) < _SHOWN_WHOLE else ""
    return f" (the container parses integers with int(), which refuses {shown(text)}{whole})"


def _parse_float(spec: Spec, value: object) -> tuple[float, str]:
    interval = spec.interval
    assert interval is not None
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is a boolean, not a number in {interval}")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise ValueProblem(f"{shown(value)} is too large for a number") from None
    elif isinstance(value, str):
        try:
            number = float(value)  # ContinuousHyperparameter.parse: 'nan', 'inf', ' 1e-3 ' are numbers
        except ValueError:
            raise ValueProblem(f"{shown(value)} is not a number") from None
    else:
        raise ValueProblem(f"{shown(value)} ({type(value).__name__}) is not a number")
    # As the container: NaN passes every range (XGBoost then trains on it), infinity passes a one-sided one.
    if number not in interval:
        raise ValueProblem(f"{number_text(number)} is not in {interval}{_unit(spec)}")
    return number, number_text(number)


def _parse_choice(spec: Spec, value: object) -> tuple[str, str]:
    if isinstance(value, bool) and spec.choices == ("true", "false"):
        text = "true" if value else "false"
        return text, text
    if not isinstance(value, str):
        raise ValueProblem(f"{value!r} is not one of {choices_text(spec.choices)}")
    if spec.name == "objective" and value == AFT_AS_OBJECTIVE:
        # Stricter: in the container's list, but XGBoost fails with "Unknown objective function".
        raise ValueProblem(
            f"{value!r} is a hyperparameter, not an objective (XGBoost fails on it): use objective survival:aft "
            "and set aft_loss_distribution on its own"
        )
    if value not in spec.choices:  # exact, case-sensitive, no trimming: as the container compares
        raise ValueProblem(f"{value!r} is not one of {choices_text(spec.choices)}{did_you_mean(value, spec.choices)}")
    return value, value


def _parse_list(spec: Spec, value: object) -> tuple[list[str], str]:
    if isinstance(value, str):
        items = value.split(",")  # CommaSeparatedListHyperparameter.parse: no trimming of spaces
    elif isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        items = list(value)
        if not items:
            raise ValueProblem("the list is empty")
        if any("," in item for item in items):
            raise ValueProblem(f"{items!r}: give each item without ','")
    else:
        raise ValueProblem(f"{value!r} is not a comma-separated string or a list of strings")
    bad = [_metric_problem(item, spec) if spec.kind == "metrics" else _updater_problem(item) for item in items]
    problems = [problem for problem in bad if problem]
    if problems:
        raise ValueProblem(", and ".join(problems))
    return items, ",".join(items)


def _metric_problem(item: str, spec: Spec) -> str | None:
    """One ``eval_metric`` item, as eval_metric_range_validator judges it (and where XGBoost would fail)."""
    if "<function" in item:
        return f"{item!r}: user-defined evaluation metrics are not supported"
    if any(ch.isspace() for ch in item):
        # The container refuses ' logloss'; it trims ' error @ 0.5' and accepts it, but passes it on untrimmed
        # and XGBoost fails with "Unknown metric function" (stricter).
        return f"{item!r} contains spaces (write 'auc,logloss', not 'auc, logloss')"
    if "@" in item:
        parts = item.split("@")
        if parts[0] not in THRESHOLD_METRICS:
            return f"{item!r}: only 'error', 'ndcg' and 'map' take a threshold or cut-off '@t'"
        try:
            float(parts[1])  # the container reads the text between the first and second '@'
        except ValueError:
            example = f"{parts[0]}@0.5" if parts[0] == "error" else f"{parts[0]}@5"
            return f"{item!r}: the 't' in '{parts[0]}@t' must be a number (e.g. {example!r})"
        return None
    if item in METRICS_NEEDING_A_PARAMETER:
        return (
            f"{item!r} needs its power ('{item}@1.5'), which the container refuses, and XGBoost cannot evaluate it "
            "without: leave eval_metric out for objective reg:tweedie (its default metric is this one, with the power)"
        )
    if item not in spec.choices:
        if item == "":
            return "an empty metric name (check for a stray ',')"
        return f"{item!r} is not a known metric{did_you_mean(item, spec.choices)}"
    return None


def _updater_problem(item: str) -> str | None:
    if item in UPDATERS_UNKNOWN_TO_XGBOOST:
        return f"{item!r} is in the container's list but XGBoost 1.7 and 3.0 have no such updater (use grow_histmaker)"
    if item not in UPDATER_RANGE:
        return f"{item!r} is not one of {choices_text(UPDATER_RANGE)}{did_you_mean(item, UPDATER_RANGE)}"
    return None


def _literal(value: object, example: str) -> object:
    if isinstance(value, str):
        # The container evaluates these strings (eval / ast.literal_eval); we read only literals.
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ValueProblem(f"{value!r} is not a literal like {example!r}") from None
    return value


def _is_int(item: object) -> bool:
    return isinstance(item, int) and not isinstance(item, bool)


def _parse_tuple(value: object) -> tuple[tuple[int, ...], str]:
    """monotone_constraints: a tuple of -1/0/1 (TupleHyperparameter, range [-1, 0, 1]).

    Stricter: the container compares with ``==`` (so ``1.0`` and ``True`` pass) and passes a list on;
    XGBoost fails on both ("Invalid Parameter format for monotone_constraints", or on the list).
    """
    parsed = _literal(value, "(1,-1,0)")
    if isinstance(value, str) and isinstance(parsed, list):
        raise ValueProblem(f"{value!r}: give a tuple such as '(1,-1,0)', not a list (XGBoost fails on the list)")
    if not isinstance(parsed, (tuple, list)) or not all(_is_int(item) for item in parsed):
        raise ValueProblem(f"{value!r} is not a tuple of integers like '(1,-1,0)'")
    outside = [item for item in parsed if item not in (-1, 0, 1)]
    if outside:
        raise ValueProblem(f"{outside} not in [-1, 0, 1] (1 increasing, -1 decreasing, 0 no constraint)")
    numbers = tuple(parsed)
    inner = ",".join(str(item) for item in numbers)
    return numbers, f"({inner},)" if len(numbers) == 1 else f"({inner})"


def _parse_nested(value: object) -> tuple[list[list[int]], str]:
    """interaction_constraints: a list of lists of feature indices (NestedListHyperparameter, indices >= 1).

    Stricter: any feature named fails the job (see ``specs`` in :mod:`.hyperparameter_rules`), so only the
    empty forms pass: ``[]``, ``[[]]``, and any empty literal (``''``, ``{}``, ``()``), which the container
    iterates and finds nothing in (sent as ``[]``).
    """
    parsed = _literal(value, "[[1,2],[3,4]]")
    if isinstance(parsed, (str, dict, set, frozenset, tuple, list)) and len(parsed) == 0:
        return [], "[]"  # the container iterates it and finds nothing; XGBoost trains without constraints
    if not isinstance(parsed, (list, tuple)) or not all(isinstance(group, (list, tuple)) for group in parsed):
        raise ValueProblem(f"{value!r} is not a list of lists of feature indices like '[[1,2],[3,4]]'")
    groups = [list(group) for group in parsed]
    if any(groups):
        raise ValueProblem(
            f"{value!r} names features, which fails the job: the container passes the lists to XGBoost's Python "
            "layer, which reads them as feature names, and SageMaker's CSV channels have none; leave it out"
        )
    return groups, "[" + ",".join("[]" for _ in groups) + "]"


def _unit(spec: Spec) -> str:
    return f" ({spec.unit})" if spec.unit else ""


def choices_text(choices: Sequence[str]) -> str:
    return ", ".join(repr(choice) for choice in choices)


def did_you_mean(value: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    if not close:  # 'auc' for 'validation:auc'
        close = [choice for choice in choices if choice.rpartition(":")[2] == value][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""
