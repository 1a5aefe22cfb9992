"""How each entry point names the settings a hint names.

A hint (:data:`Hint`) is a plain string, or a template of strings and :class:`Setting` markers
(``("choose the label column with ", Setting("label", "NAME"))``), and each entry point renders the markers in
its own vocabulary (:data:`Vocabulary`): the command line names its flag (``--label NAME``, :func:`command_line`),
the Lambda function, which has no flags, the environment variable and the manifest key (``MODEL_TRAINING_LABEL=NAME
or the manifest's label: "NAME"``, :func:`lambda_function`), ``manifest check`` the manifest key
(:func:`manifest_file`); the default rendering names all of them (:func:`every_name`).  The names come from one
table, :data:`SETTINGS`; ``tests/test_hints.py`` checks it against the command line's options, the environment
variables the configuration reads and the manifest's keys.

It sits below :mod:`model_training.errors` (which renders hints with it) and imports nothing of the package.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class SettingNames:
    """How each entry point names one setting.

    Attributes:
        flag: the ``model-training`` option (``--label``), or ``None`` if the command line has none.
        env: the environment variable (``MODEL_TRAINING_LABEL``), or ``None``.
        key: the key path in the manifest (``split.seed``), or ``None``.
        lambda_text: what the Lambda function's hints say where neither ``env`` nor ``key`` applies.
        columns: the value is a list of column names: comma-separated after the flag and in the variable, a
            JSON list in the manifest.
    """

    flag: str | None = None
    env: str | None = None
    key: str | None = None
    lambda_text: str | None = None
    columns: bool = False


#: Every setting a hint can name, by its name in the run's configuration.
SETTINGS: dict[str, SettingNames] = {
    "label": SettingNames("--label", "MODEL_TRAINING_LABEL", "label"),
    "drop": SettingNames("--drop", "MODEL_TRAINING_DROP", "drop", columns=True),
    "features": SettingNames(None, "MODEL_TRAINING_FEATURES", "features", columns=True),
    "index_column": SettingNames("--index-column", "MODEL_TRAINING_INDEX_COLUMN", "index_column"),
    "seed": SettingNames("--seed", "MODEL_TRAINING_SEED", "split.seed"),
    "fractions": SettingNames("--fractions", "MODEL_TRAINING_FRACTIONS", "split.fractions"),
    "strategy": SettingNames("--strategy", "MODEL_TRAINING_SPLIT_STRATEGY", "split.strategy"),
    "key": SettingNames("--key", "MODEL_TRAINING_SPLIT_KEY", "split.key"),
    "order_by": SettingNames("--order-by", "MODEL_TRAINING_ORDER_BY", "split.order_by"),
    "hyperparameters": SettingNames("-H", "MODEL_TRAINING_HYPERPARAMETERS", "training.hyperparameters"),
    "tags": SettingNames(None, None, "training.tags"),
    "run_date": SettingNames("--date", lambda_text="a new version of the object (its upload date is the run date)"),
    "stream": SettingNames("--stream", lambda_text="MODEL_TRAINING_STREAM_ABOVE_MB below the object's size (0: always)"),
    "in_memory": SettingNames("--in-memory", lambda_text="MODEL_TRAINING_STREAM_ABOVE_MB above the object's size"),
    "backend": SettingNames("--backend"),
    "version_id": SettingNames("--version-id", lambda_text="the event's object version"),
    "output": SettingNames(
        "--output", lambda_text="the data bucket, named by the SSM parameter mlops-{region}-{env}-automl-data"
    ),
}


@dataclass(frozen=True)
class Setting:
    """A setting named in a hint, rendered in the vocabulary of the entry point that shows the hint.

    Args:
        name: a key of :data:`SETTINGS` (``label``, ``drop``, ``hyperparameters`` ...).
        value: what to set it to, if the hint suggests a value: a text (``"NAME"``; for ``hyperparameters``
            ``"eval_metric=logloss"``), or column names for a setting that takes several.
        every: the command line names it every way (:func:`every_name`: the flag, the environment variable and
            the manifest key), where the user has set none of them and may not know the others exist (a default
            label the file does not have); the Lambda function still names no flag.

    Raises:
        ValueError: ``name`` is not in :data:`SETTINGS`.
    """

    name: str
    value: str | tuple[str, ...] | None = None
    every: bool = False

    def __post_init__(self) -> None:
        if self.name not in SETTINGS:
            raise ValueError(f"no setting is named {self.name!r}")


#: How an entry point names a setting in its hints (:func:`command_line`, :func:`lambda_function`, :func:`every_name`).
Vocabulary: TypeAlias = Callable[[Setting], str]
#: A hint: a plain string, or a template of strings and :class:`Setting` markers.
Hint: TypeAlias = str | Sequence[str | Setting]


def _joined(value: str | tuple[str, ...]) -> str:
    return value if isinstance(value, str) else ",".join(value)


def _as_flag(setting: Setting, names: SettingNames) -> str:
    assert names.flag is not None
    if setting.value is None:
        return names.flag
    return f"{names.flag} {shlex.quote(_joined(setting.value))}"


def _as_env(setting: Setting, names: SettingNames) -> str:
    assert names.env is not None
    if setting.value is None:
        return names.env
    if setting.name == "hyperparameters":
        key, _, value = _joined(setting.value).partition("=")
        return f"{names.env}={json.dumps({key: value})}"
    return f"{names.env}={_joined(setting.value)}"


def _as_key(setting: Setting, names: SettingNames) -> str:
    assert names.key is not None
    if setting.value is None:
        return f"the manifest's {names.key}"
    if setting.name == "hyperparameters":
        name, _, text = _joined(setting.value).partition("=")
        return f"the manifest's {names.key}.{name}: {json.dumps(text)}"
    value: object = setting.value
    if names.columns:
        value = [v for v in setting.value.split(",") if v] if isinstance(setting.value, str) else list(setting.value)
    return f"the manifest's {names.key}: {json.dumps(value)}"


def command_line(setting: Setting) -> str:
    """The command line's name of ``setting``: its flag (with the value: ``--drop y_no,job``), else the manifest key
    (the command line reads the manifest too)."""
    names = SETTINGS[setting.name]
    if setting.every:
        return every_name(setting)
    if names.flag:
        return _as_flag(setting, names)
    return _as_key(setting, names) if names.key else _as_env(setting, names)


def lambda_function(setting: Setting) -> str:
    """The Lambda function's name of ``setting``: its environment variable and manifest key (``MODEL_TRAINING_DROP=a,b
    or the manifest's drop: ["a", "b"]``), or what sets it there; never a flag (a setting only the command line has,
    such as ``backend``, which no hint of the Lambda function names, is named as the configuration names it)."""
    names = SETTINGS[setting.name]
    # an empty variable is an unset one, so only the manifest empties a setting; MODEL_TRAINING_DROP= is the exception
    empty = setting.value is not None and not setting.value and setting.name != "drop"
    said = [
        f(setting, names) for f, name in ((_as_env, names.env), (_as_key, names.key)) if name and not (empty and f is _as_env)
    ]
    return " or ".join(said) or names.lambda_text or setting.name


def manifest_file(setting: Setting) -> str:
    """The manifest's name of ``setting`` (``the manifest's split.seed``): the vocabulary of ``model-training manifest
    check``, which reads a manifest file and nothing else; a setting the manifest has no key for is named every way
    (:func:`every_name`)."""
    names = SETTINGS[setting.name]
    return _as_key(setting, names) if names.key else every_name(setting)


def every_name(setting: Setting) -> str:
    """Every name of ``setting``: the flag, then the Lambda function's names in parentheses (``--label NAME
    (MODEL_TRAINING_LABEL=NAME or the manifest's label: "NAME")``); the default rendering of a hint."""
    names = SETTINGS[setting.name]
    if not names.flag:
        return lambda_function(setting)
    if names.env or names.key:
        return f"{_as_flag(setting, names)} ({lambda_function(setting)})"
    if names.lambda_text:
        return f"{_as_flag(setting, names)} (in the Lambda function: {names.lambda_text})"
    return _as_flag(setting, names)


def render_hint(hint: Hint, vocabulary: Vocabulary = every_name) -> str:
    """``hint`` as text, its settings named by ``vocabulary``."""
    if isinstance(hint, str):
        return hint
    return "".join(piece if isinstance(piece, str) else vocabulary(piece) for piece in hint)
