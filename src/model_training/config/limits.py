"""Ceilings on what a run may spend: the training job's instance type and count, volume size, maximum
runtime and spot wait.  A manifest (or any other layer) asking for more is refused before anything runs,
by the Lambda handler, ``model-training run``, ``config show`` and ``manifest check`` alike
(:func:`~model_training.config.resolve.resolve` checks them).

Each ceiling is a setting, lowest first: the defaults below < environment variables < the optional SSM
parameter ``mlops-{region}-{env}-training-limits`` (a JSON object whose keys are :data:`LIMIT_KEYS`,
read against AWS):

=============================================  ==================  =========================================
environment variable                           SSM key             default
=============================================  ==================  =========================================
``MODEL_TRAINING_ALLOWED_INSTANCE_TYPES``      ``instance_types``  :data:`DEFAULT_INSTANCE_TYPES` (patterns,
                                                                   ``*`` any text; comma-separated in the
                                                                   environment, a list in SSM)
``MODEL_TRAINING_LIMIT_INSTANCE_COUNT``        ``instance_count``  10 (instances)
``MODEL_TRAINING_LIMIT_VOLUME_SIZE_GB``        ``volume_size_gb``  512 (GB per instance)
``MODEL_TRAINING_LIMIT_RUNTIME_SECONDS``       ``runtime_seconds`` 86400 (one day)
``MODEL_TRAINING_LIMIT_MAX_WAIT_SECONDS``      ``max_wait_seconds`` 172800 (two days, managed spot only)
=============================================  ==================  =========================================
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from model_training.errors import ConfigurationError

#: Instance families allowed by default: the CPU families SageMaker's XGBoost trains on, every size.
#: GPU and accelerator families (ml.p*, ml.g*, ml.trn*) cost many times more: allow them explicitly.
DEFAULT_INSTANCE_TYPES: tuple[str, ...] = (
    "ml.m4.*", "ml.m5.*", "ml.m5d.*", "ml.m6i.*", "ml.m7i.*", "ml.c4.*", "ml.c5.*", "ml.c5n.*", "ml.c6i.*",
    "ml.c7i.*", "ml.r5.*", "ml.r5d.*", "ml.r6i.*", "ml.r7i.*",
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """The ceilings of a run's costly settings.

    Attributes:
        instance_types: patterns (``fnmatch``: ``*`` any text) one of which ``training.instance_type`` must match.
        instance_count: the most instances (``training.instance_count``).
        volume_size_gb: the largest volume per instance, in GB (``training.volume_size_gb``).
        runtime_seconds: the longest ``training.max_runtime_seconds``, in seconds.
        max_wait_seconds: the longest ``training.max_wait_seconds`` (managed spot), in seconds.
    """

    instance_types: tuple[str, ...] = DEFAULT_INSTANCE_TYPES
    instance_count: int = 10
    volume_size_gb: int = 512
    runtime_seconds: int = 86_400
    max_wait_seconds: int = 2 * 86_400


#: Each ceiling's environment variable.
LIMIT_ENV = {
    "instance_types": "MODEL_TRAINING_ALLOWED_INSTANCE_TYPES",
    "instance_count": "MODEL_TRAINING_LIMIT_INSTANCE_COUNT",
    "volume_size_gb": "MODEL_TRAINING_LIMIT_VOLUME_SIZE_GB",
    "runtime_seconds": "MODEL_TRAINING_LIMIT_RUNTIME_SECONDS",
    "max_wait_seconds": "MODEL_TRAINING_LIMIT_MAX_WAIT_SECONDS",
}
#: The keys of the SSM parameter ``mlops-{region}-{env}-training-limits``.
LIMIT_KEYS = tuple(LIMIT_ENV)
#: The training setting each ceiling bounds.
LIMITED_SETTING = {
    "instance_types": "instance_type",
    "instance_count": "instance_count",
    "volume_size_gb": "volume_size_gb",
    "runtime_seconds": "max_runtime_seconds",
    "max_wait_seconds": "max_wait_seconds",
}


class LimitError(ConfigurationError):
    """A run asks for more than a ceiling allows.

    Attributes:
        problems: ``(setting, value, ceiling, how to raise it)`` for every ceiling exceeded.
        errors: one error per ceiling exceeded, for reporting them among other problems
            (:func:`~model_training.config.problems.config_error`).
    """

    def __init__(self, problems: list[tuple[str, Any, Any, str]], origins: Mapping[str, str] | None = None) -> None:
        self.problems = problems
        said = []
        for setting, value, ceiling, raise_it in problems:
            if setting == "training.instance_type":
                said.append(f"{setting} {value!r} is not an allowed instance type ({', '.join(ceiling)}; {raise_it})")
            else:
                said.append(f"{setting} = {value} is above the ceiling of {ceiling} ({raise_it})")
        named = dict.fromkeys((origins or {}).get(p[0], "default") for p in problems)
        where = f" (settings from: {', '.join(named)})" if set(named) != {"default"} else ""
        hint = (
            "lower the setting (in the manifest or the layer named), or raise the ceiling: the environment variable "
            "named, or the key in the SSM parameter mlops-{region}-{env}-training-limits"
        )
        super().__init__("the run asks for more than the configured ceilings allow: " + "; ".join(said) + where, hint)
        self.errors = tuple(
            ConfigurationError(f"{text} (from {(origins or {}).get(p[0], 'default')})", hint)
            for text, p in zip(said, problems, strict=True)
        )


def limits_from(env: Mapping[str, str] | None = None, ssm_text: str | None = None, ssm_name: str = "") -> Limits:
    """The ceilings: defaults < ``env`` (default ``os.environ``) < the SSM parameter's JSON ``ssm_text``.

    Raises:
        ConfigurationError: a value is not a positive whole number (or a list of patterns), naming the
            variable or the SSM key; an unknown SSM key.
    """
    env = os.environ if env is None else env
    limits = Limits()
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, var in LIMIT_ENV.items():
        if env.get(var, "").strip():
            values[name] = env[var]
            origin[name] = var
    if ssm_text:
        try:
            document = json.loads(ssm_text)
        except ValueError as exc:
            raise ConfigurationError(f"SSM parameter {ssm_name}: not JSON ({exc})", "write a JSON object") from None
        if not isinstance(document, dict):
            raise ConfigurationError(f"SSM parameter {ssm_name}: not a JSON object", f"use the keys {', '.join(LIMIT_KEYS)}")
        unknown = sorted(set(document) - set(LIMIT_KEYS))
        if unknown:
            raise ConfigurationError(
                f"SSM parameter {ssm_name}: unknown keys {', '.join(unknown)}", f"use the keys {', '.join(LIMIT_KEYS)}"
            )
        for name, value in document.items():
            values[name] = value
            origin[name] = f"{name} in SSM parameter {ssm_name}"
    for name, value in values.items():
        try:
            values[name] = _patterns(value) if name == "instance_types" else _positive(value)
        except ValueError as exc:
            raise ConfigurationError(f"{origin[name]}={str(value)[:80]!r} cannot be read ({exc})", "fix the ceiling") from None
    return replace(limits, **values)


def _patterns(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError("a comma-separated list of instance type patterns is needed")
    patterns = tuple(i.strip() for i in items if i.strip())
    if not patterns:
        raise ValueError("at least one pattern is needed, such as ml.m5.*")
    return patterns


def _positive(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("a whole number is needed")
    number = int(value)
    if number < 1:
        raise ValueError("a whole number of at least 1 is needed")
    return number


def check_limits(training: Any, limits: Limits, origins: Mapping[str, str] | None = None) -> None:
    """Refuse a run whose :class:`~model_training.config.run.TrainingConfig` ``training`` exceeds ``limits``.

    Args:
        origins: where each setting came from (``training.instance_count`` -> ``manifest s3://...``), named
            in the message.

    Raises:
        LimitError: every ceiling exceeded, each with the setting, its value, the ceiling and the variable
            that raises it.
    """
    problems: list[tuple[str, Any, Any, str]] = []
    for field in fields(Limits):
        name = field.name
        setting = LIMITED_SETTING[name]
        value = getattr(training, setting)
        ceiling = getattr(limits, name)
        if value is None:
            continue
        if name == "instance_types":
            if not any(fnmatch.fnmatchcase(value, pattern) for pattern in ceiling):
                problems.append((f"training.{setting}", value, ceiling, f"to allow it, add it to {LIMIT_ENV[name]}"))
        elif value > ceiling:
            problems.append((f"training.{setting}", value, ceiling, f"to raise it, set {LIMIT_ENV[name]}"))
    if problems:
        raise LimitError(problems, origins)
