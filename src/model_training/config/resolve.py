"""How every setting of a run is resolved from its layers.

Precedence of every setting, lowest first: built-in defaults < environment (``MODEL_TRAINING_*``) < SSM
(the JSON parameter ``mlops-{region}-{env}-training-settings``, manifest-shaped, when running against AWS)
< the dataset's manifest < command-line flags.  :func:`resolve` returns the effective
:class:`~model_training.config.run.RunConfig` and, for each setting, the layer it came from
(``model-training config show``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from model_training.config.limits import Limits, check_limits, limits_from
from model_training.config.manifest import hyperparameter_text, manifest_settings
from model_training.config.manifest_files import ManifestSource
from model_training.config.run import RunConfig, build_config
from model_training.config.tuning import with_max_trials
from model_training.errors import ConfigurationError

#: Environment variables of the environment layer, by setting.
ENV_SETTINGS = {
    "label": "MODEL_TRAINING_LABEL",
    "drop": "MODEL_TRAINING_DROP",
    "features": "MODEL_TRAINING_FEATURES",
    "strategy": "MODEL_TRAINING_SPLIT_STRATEGY",
    "fractions": "MODEL_TRAINING_FRACTIONS",
    "seed": "MODEL_TRAINING_SEED",
    "key": "MODEL_TRAINING_SPLIT_KEY",
    "order_by": "MODEL_TRAINING_ORDER_BY",
    "hyperparameters": "MODEL_TRAINING_HYPERPARAMETERS",
    "algorithm_version": "MODEL_TRAINING_ALGORITHM_VERSION",
    "instance_type": "MODEL_TRAINING_INSTANCE_TYPE",
    "instance_count": "MODEL_TRAINING_INSTANCE_COUNT",
    "volume_size_gb": "MODEL_TRAINING_VOLUME_SIZE_GB",
    "max_runtime_seconds": "MODEL_TRAINING_MAX_RUNTIME_SECONDS",
    "output_kms_key_id": "MODEL_TRAINING_OUTPUT_KMS_KEY_ID",
    "volume_kms_key_id": "MODEL_TRAINING_VOLUME_KMS_KEY_ID",
    "tuning": "MODEL_TRAINING_TUNING",
}


def env_settings(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The environment layer: ``MODEL_TRAINING_*`` variables (lists comma-separated, hyperparameters and the tuning
    section as JSON objects).
    An empty variable is not set, except ``MODEL_TRAINING_DROP=``, which drops no column.

    Raises:
        ConfigurationError: a value cannot be read, naming the variable.
    """
    env = os.environ if env is None else env
    flat: dict[str, Any] = {}
    for name, var in ENV_SETTINGS.items():
        text = env.get(var)
        if text is None or (not text and name != "drop"):
            continue
        try:
            if name in ("drop", "features"):
                flat[name] = tuple(c.strip() for c in text.split(",") if c.strip())
            elif name == "fractions":
                from model_training.config.run import parse_fractions

                flat[name] = parse_fractions(text)
            elif name in ("seed", "instance_count", "volume_size_gb", "max_runtime_seconds"):
                flat[name] = int(text)
            elif name in ("hyperparameters", "tuning"):
                try:
                    values = json.loads(text)
                except RecursionError:
                    raise ValueError("nested too deeply") from None
                if not isinstance(values, dict):
                    raise ValueError("a JSON object is needed")
                flat[name] = {k: hyperparameter_text(v) for k, v in values.items()} if name == "hyperparameters" else values
            else:
                flat[name] = text
        except (ValueError, ConfigurationError) as exc:
            raise ConfigurationError(f"{var}={text[:80]!r} cannot be read ({exc})", "fix the environment variable") from None
    return flat


@dataclass
class Resolution:
    """The effective configuration, where each setting came from, and the manifest that applied."""

    config: RunConfig
    origins: dict[str, str] = field(default_factory=dict)
    manifest: ManifestSource | None = None


def resolve(
    *,
    run_date: dt.date | None,
    env: dict[str, Any] | None = None,
    ssm: dict[str, Any] | None = None,
    manifest: ManifestSource | None = None,
    cli: dict[str, Any] | None = None,
    limits: Limits | None = None,
) -> Resolution:
    """Merge the layers (defaults < environment < SSM < manifest < command line) into a
    :class:`RunConfig`; hyperparameters merge name by name, every other setting is replaced whole (the tuning
    section too; the command line's ``max_trials``, ``--max-trials``, then sets the effective section's).  Where no
    layer names ``eval_metric`` it follows the objective (:func:`~model_training.config.run.metric_for_objective`).
    The training job's costly settings are then checked against ``limits`` (default: the environment's,
    :func:`~model_training.config.limits.limits_from`).

    Raises:
        ConfigurationError, HyperparameterError: the merged configuration is invalid.
        LimitError: a setting is above its ceiling (instance type, count, volume, runtime, spot wait).
    """
    from model_training.algorithm.hyperparameter_rules import ALIASES
    from model_training.algorithm.hyperparameters import merge_hyperparameters
    from model_training.config.run import DEFAULT_HYPERPARAMETERS, metric_for_objective

    layers = [
        ("environment", env or {}),
        ("ssm", ssm or {}),
        ("manifest " + manifest.uri if manifest else "manifest", manifest_settings(manifest.manifest) if manifest else {}),
        ("command line", {k: v for k, v in (cli or {}).items() if v is not None}),
    ]
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    hyperparameters: dict[str, object] = dict(DEFAULT_HYPERPARAMETERS)
    hp_origins = dict.fromkeys(DEFAULT_HYPERPARAMETERS, "default")
    for name, layer in layers:
        for key, value in layer.items():
            if key == "hyperparameters":  # name by name; an alias replaces a lower layer's other name
                hyperparameters = merge_hyperparameters(hyperparameters, value)
                hp_origins.update(dict.fromkeys(value, name))
            else:
                merged[key] = value
                origins[key] = name
    if hp_origins.get("eval_metric") == "default":  # no layer named one: the objective's (a given one stays)
        hyperparameters = metric_for_objective(hyperparameters)
    rank = {name: i for i, (name, _) in enumerate(layers)}
    if "strategy" in merged:  # a higher layer's strategy drops lower layers' settings that belong to another one
        for setting, applies in (("key", ("group", "hash")), ("order_by", ("ordered",)), ("shuffle_train", ("ordered",))):
            if setting in merged and merged["strategy"] not in applies and rank[origins[setting]] < rank[origins["strategy"]]:
                del merged[setting]
                del origins[setting]
    if "max_trials" in merged:  # --max-trials: the effective tuning section's
        merged["tuning"] = with_max_trials(merged.get("tuning"), merged.pop("max_trials"))
        origins["tuning.max_trials"] = origins.pop("max_trials")
    if "tuning" in merged:  # checked against the hyperparameters some layer set (the defaults give way to a range)
        merged["_given_hyperparameters"] = {k: o for k, o in hp_origins.items() if o != "default"}
        merged["_tuning_origin"] = origins.get("tuning", "command line")
    try:
        config = build_config(run_date=run_date, hyperparameters=hyperparameters, _replace_hyperparameters=True, **merged)
    except ConfigurationError as exc:
        sources = sorted({origins[k] for k in merged} | {o for o in hp_origins.values() if o != "default"})
        if sources:
            exc.message += f" (settings from: {', '.join(sources)})"
        raise
    flat = flatten(config.model_dump(mode="json"))
    result = {
        k: origins.get(k.split(".")[1] if k.startswith("training.tags.") else k.rsplit(".", 1)[-1], "default") for k in flat
    }
    tuned = {ALIASES.get(name, name) for name in config.tuning.ranges} if config.tuning else set()
    for k in flat:
        if k.startswith("training.hyperparameters."):
            result[k] = hp_origins.get(k.rsplit(".", 1)[-1], "default")
            if ALIASES.get(k.rsplit(".", 1)[-1], k.rsplit(".", 1)[-1]) in tuned:
                result[k] += ", tuned: the untuned trial's value"
        elif k.startswith("tuning."):
            result[k] = origins.get(k) or origins["tuning"]  # the section's layer; tuning.max_trials: --max-trials
    if run_date is not None and "run_date" in result:
        result["run_date"] = "command line" if cli and cli.get("run_date") else "event / today"
    check_limits(config.training, limits if limits is not None else limits_from(), result)
    return Resolution(config=config, origins=result, manifest=manifest)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dict as ``{"a.b.c": leaf}`` (empty dicts stay leaves)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): value}
