"""A run's ``tuning`` setting: the hyperparameter search (its JSON shape: :mod:`~model_training.algorithm.tuning_spec`)
as the layers give it, checked with the run's hyperparameters beside it.

Where it comes from, as every setting (:mod:`~model_training.config.resolve`): the manifest's ``tuning`` object,
the environment's ``MODEL_TRAINING_TUNING`` (the same object as JSON), the SSM settings parameter's ``tuning``, and
the command line's ``--tuning FILE-or-JSON``; a higher layer's section replaces a lower one's whole.  The command
line's ``--max-trials N`` then sets the effective section's ``max_trials`` (it needs a section from some layer).

Static or tuned (:mod:`~model_training.algorithm.tuning`): a hyperparameter that only the stage's defaults set
(``eta`` 0.2 ...) gives way to its range silently, and its default value stays in the run's hyperparameters as
the untuned configuration's value (the local search's trial 000; the search's static hyperparameters leave it
out).  A value some layer set and the same hyperparameter tuned is an error naming both layers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from model_training.algorithm.hyperparameter_rules import ALIASES
from model_training.algorithm.hyperparameter_values import shown
from model_training.algorithm.images import DEFAULT_IMAGE_VERSION
from model_training.algorithm.tuning import TuningSpec, parse_tuning, validate_tuning
from model_training.algorithm.tuning_read import tuning_error
from model_training.config.problems import Where, plain
from model_training.errors import ConfigurationError, HyperparameterError, ModelTrainingError

#: The largest tuning section read from a file or a variable (64 KiB, as a manifest).
MAX_TUNING_BYTES = 64 * 1024


def read_tuning_json(text: str, origin: str) -> dict[str, Any]:
    """A tuning section given as JSON text (``MODEL_TRAINING_TUNING``, ``--tuning '{...}'``) as an object.

    Raises:
        ConfigurationError: not JSON, not an object, or larger than 64 KiB; naming ``origin``.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_TUNING_BYTES:
        raise ConfigurationError(f"{origin}: the tuning section is more than 64 KiB", "a tuning section holds settings only")
    try:
        value = json.loads(text)
    except RecursionError:
        raise ConfigurationError(f"{origin}: the tuning section is nested too deeply", _SHAPE) from None
    except ValueError as exc:
        raise ConfigurationError(f"{origin}: the tuning section is not JSON ({exc})", _SHAPE) from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"{origin}: the tuning section must be a JSON object, not {shown(value)}", _SHAPE)
    return value


def read_tuning_option(value: str) -> dict[str, Any]:
    """``--tuning``: JSON text (starting with ``{`` or ``[``) or the path of a JSON file holding the section (or a whole
    manifest, whose ``tuning`` is taken).

    Raises:
        ConfigurationError: the file cannot be read, or its text is not a JSON object (naming ``--tuning``).
    """
    if value.lstrip().startswith(("{", "[")):
        return read_tuning_json(value, "--tuning")
    path = Path(value)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_TUNING_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(
            f"--tuning {value}: cannot read the file ({exc.strerror})", "give a JSON file, or the section as JSON text"
        ) from None
    section = read_tuning_json(data.decode("utf-8", errors="replace"), f"--tuning {path}")
    if "tuning" in section and "objective_metric" not in section:  # a manifest: its section
        found = section["tuning"]
        if not isinstance(found, dict):
            raise ConfigurationError(f"--tuning {path}: its tuning is not a JSON object", _SHAPE)
        return found
    return section


def with_max_trials(section: Mapping[str, Any] | None, max_trials: int) -> dict[str, Any]:
    """The effective tuning section with ``max_trials`` set (``--max-trials``).

    Raises:
        ConfigurationError: no layer gave a tuning section.
    """
    if section is None:
        raise ConfigurationError(
            "--max-trials sets the tuning section's max_trials, and no tuning section is given",
            "give the search with --tuning FILE-or-JSON, or a tuning section in the manifest (see the README)",
        )
    return {**section, "max_trials": max_trials}


def tuning_spec(
    raw: object,
    hyperparameters: Mapping[str, str],
    given: Mapping[str, str],
    version: str,
    *,
    origin: str = "tuning",
) -> TuningSpec:
    """Check a tuning section with the run's hyperparameters; every problem at once.

    Args:
        raw: the section as its layer gave it.
        hyperparameters: the run's hyperparameters (canonical strings, defaults included).
        given: the hyperparameters some layer set, each with that layer (``manifest file:///m.json``,
            ``command line`` ...); the others are the stage's defaults, which give way to a range.
        version: the container version whose rules apply.
        origin: the layer the section came from, for the messages.

    Returns:
        The search in canonical form.

    Raises:
        HyperparameterError: every problem: the section's own, with the static hyperparameters (the container's
            rules, the objective metric), and each hyperparameter both set and tuned, naming both layers.
    """
    ranges = raw.get("ranges") if isinstance(raw, Mapping) else None
    tuned = {ALIASES.get(str(name), str(name)): str(name) for name in ranges} if isinstance(ranges, Mapping) else {}
    problems = [
        f"hyperparameters.{name} = {shown(hyperparameters.get(name, ''))} ({layer}) is also tuned by "
        f"tuning.ranges.{tuned[ALIASES.get(name, name)]} ({origin}): a hyperparameter is either static or tuned, "
        "remove one"
        for name, layer in given.items()
        if ALIASES.get(name, name) in tuned
    ]
    static = {name: value for name, value in hyperparameters.items() if ALIASES.get(name, name) not in tuned}
    try:
        spec = validate_tuning(raw, static, version, infer_num_class=True)  # a multi: objective's num_class: the labels
    except HyperparameterError as exc:
        raise tuning_error(problems + exc.problems, version) from None
    if problems:
        raise tuning_error(problems, version)
    return spec


_SHAPE = (
    'give the search as a JSON object, e.g. {"objective_metric": "validation:auc", "max_trials": 20, '
    '"ranges": {"eta": {"min": 0.05, "max": 0.5}}} (see the README\'s tuning settings)'
)


def tuning_setting(
    tuning: tuple[Any, Mapping[str, str] | None, str],
    training: Mapping[str, Any],
    hyperparameters: Mapping[str, Any] | None,
    errors: list[ModelTrainingError],
    where: Where = plain,
) -> TuningSpec | None:
    """The search a configuration is assembled with (:func:`~model_training.config.run.assemble_config`): ``tuning``
    is the section, the hyperparameters some layer set with their layers (``None``: those of ``hyperparameters``,
    as given to :func:`~model_training.config.run.build_config`) and the section's layer; ``training`` the training
    settings, whose ``hyperparameters`` (canonical) are absent when they are not valid: the section is then checked
    on its own.  Its problems are appended to ``errors``; ``None`` when there are any.  A problem about a key of the
    section names its layer as ``where`` names a setting (``tuning.objective_metric (manifest file:///m.json, line
    4)``): a section found beside the data applies to every CSV there, and the problem must say where it was."""
    raw, given, origin = tuning
    version = training.get("algorithm_version", DEFAULT_IMAGE_VERSION)
    try:
        if "hyperparameters" not in training:  # their problems are reported already
            parse_tuning(raw, version)
            return None
        given = given if given is not None else dict.fromkeys(hyperparameters or {}, "given")
        return tuning_spec(raw, training["hyperparameters"], given, version, origin=origin)
    except HyperparameterError as exc:
        # each problem names its own path (tuning.ranges.eta.max, hyperparameters.eta) and the section's layer: reported
        # among the other settings' problems as they are, not under training.hyperparameters (config.problems.problems_of);
        # alone, as one error of one line per problem (ModelTrainingError.message_lines)
        problems = [_named(problem, where) for problem in exc.problems]
        each = [ConfigurationError(problem, exc.hint_text) for problem in problems]
        group = HyperparameterError.of(each, "invalid tuning section", hint=exc.hint_text)  # with a hint: a new group
        assert isinstance(group, HyperparameterError)
        group.problems, group.about = problems, [()] * len(problems)  # made by of(): its fields as __init__ sets them
        errors.append(group)
        return None
    except ConfigurationError as exc:
        errors.append(exc)
        return None


def _named(problem: str, where: Where) -> str:
    """``problem`` with its key path, when it begins with a key of the section (``tuning.ranges.eta.max: ...``), named
    by ``where``; any other problem (about the static hyperparameters, or naming its layers already) as it is."""
    path, sep, text = problem.partition(": ")
    if sep and (path == "tuning" or path.startswith("tuning.")) and " " not in path:
        return f"{where(path)}: {text}"
    return problem
