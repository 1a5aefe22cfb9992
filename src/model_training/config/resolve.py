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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from model_training.config.limits import LimitError, Limits, check_limits, limits_from
from model_training.config.manifest import hyperparameter_text, manifest_settings
from model_training.config.manifest_files import ManifestSource
from model_training.config.problems import Gathering, Where, config_error, setting_name
from model_training.config.run import RunConfig, assemble_config
from model_training.config.tuning import with_max_trials
from model_training.errors import SETTINGS, ConfigurationError, ModelTrainingError

#: Environment variables of the environment layer, by setting.
ENV_SETTINGS = {
    "label": "MODEL_TRAINING_LABEL",
    "drop": "MODEL_TRAINING_DROP",
    "features": "MODEL_TRAINING_FEATURES",
    "index_column": "MODEL_TRAINING_INDEX_COLUMN",
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


def env_settings(env: Mapping[str, str] | None = None, gathering: Gathering | None = None) -> dict[str, Any]:
    """The environment layer: ``MODEL_TRAINING_*`` variables (lists comma-separated, hyperparameters and the tuning
    section as JSON objects).
    An empty variable is not set, except ``MODEL_TRAINING_DROP=``, which drops no column.

    Args:
        gathering: where a variable that cannot be read goes (it is then left out); default: raised.

    Raises:
        ConfigurationError: values cannot be read (without ``gathering``): every variable at fault at once, each named.
    """
    env = os.environ if env is None else env
    flat: dict[str, Any] = {}
    problems: list[ModelTrainingError] = []
    for name, var in ENV_SETTINGS.items():
        text = env.get(var)
        if text is None or (not text and name != "drop"):
            continue
        try:
            if name in ("drop", "features"):
                flat[name] = tuple(c.strip() for c in text.split(",") if c.strip())
            elif name == "fractions":
                from model_training.config.split import parse_fractions

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
            problems.append(ConfigurationError(f"{var}={text[:80]!r} cannot be read ({exc})", "fix the environment variable"))
    if problems and gathering is not None:
        gathering.errors += problems
    elif problems:
        raise ConfigurationError.of(problems, "invalid environment")
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
    layer names ``eval_metric`` it follows the objective (:func:`~model_training.algorithm.default_metrics.metric_for_objective`),
    its origin ``default for {objective}`` when a layer set the objective.
    The training job's costly settings are then checked against ``limits`` (default: the environment's,
    :func:`~model_training.config.limits.limits_from`).

    Raises:
        ConfigurationError: the merged configuration is invalid, or the manifest has invalid keys (its
            ``problems``): every problem at once, each naming its setting as the layer that set it names it
            (:func:`~model_training.config.problems.config_error`).
        HyperparameterError: the hyperparameters break the container's rules, and nothing else is wrong.
        LimitError: a setting is above its ceiling (instance type, count, volume, runtime, spot wait), and nothing
            else is wrong.
    """
    from model_training.algorithm.default_metrics import metric_for_objective
    from model_training.algorithm.hyperparameter_rules import ALIASES
    from model_training.algorithm.hyperparameters import merge_hyperparameters
    from model_training.config.run import DEFAULT_HYPERPARAMETERS

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
    tuning_errors: list[ModelTrainingError] = []
    if "max_trials" in merged:  # --max-trials: the effective tuning section's
        try:
            merged["tuning"] = with_max_trials(merged.get("tuning"), merged["max_trials"])
        except ConfigurationError as exc:
            tuning_errors.append(exc)
        del merged["max_trials"]
        origins["tuning.max_trials"] = origins.pop("max_trials")
    if "tuning" in merged:  # checked against the hyperparameters some layer set (the defaults give way to a range)
        merged["_given_hyperparameters"] = {k: o for k, o in hp_origins.items() if o != "default"}
        merged["_tuning_origin"] = origins.get("tuning", "command line")
    where = _where(origins, hp_origins, manifest)
    settings = {"run_date": run_date, "hyperparameters": hyperparameters, "_replace_hyperparameters": True, **merged}
    config, training, errors = assemble_config(settings, where)
    errors[:0] = manifest.problems if manifest else ()
    errors += tuning_errors
    if training is not None:  # the ceilings of a valid training part, even when another part is not valid
        try:
            check_limits(
                training, limits if limits is not None else limits_from(), {f"training.{k}": o for k, o in origins.items()}
            )
        except LimitError as exc:
            errors.append(exc)
    if errors or config is None:
        raise config_error(errors, where)
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
            result[k] = _tuning_origin(k, merged.get("tuning"), origins)
    metric = "training.hyperparameters.eval_metric"
    if result.get(metric) == "default" and hp_origins.get("objective", "default") != "default":  # it follows the objective
        result[metric] = f"default for {hyperparameters.get('objective')}"
    if run_date is not None and "run_date" in result:
        result["run_date"] = "command line" if cli and cli.get("run_date") else "event / today"
    return Resolution(config=config, origins=result, manifest=manifest)


def _where(origins: Mapping[str, str], hp_origins: Mapping[str, str], manifest: ManifestSource | None) -> Where:
    """How a problem names a setting: by the name the layer that set it uses (``MODEL_TRAINING_SEED (environment)``,
    ``--seed (command line)``, ``split.seed (manifest file:///m.json, line 3)``), or by its path if it is a default.
    A hyperparameter problem is put down to the layers that set the hyperparameters it is about (``about``; when it
    names none, every layer that set any): ``-H (command line)`` for ``-H max_depth=-3``, while the manifest's
    ``etaa`` is ``training.hyperparameters (manifest file:///m.json, line 1)``.  A key of the tuning section keeps
    its path and names the section's layer: ``tuning.objective_metric (manifest file:///m.json, line 4)``,
    ``tuning.ranges.eta.max (--tuning, command line)``, ``tuning.max_trials (--max-trials, command line)``."""

    def where(path: str, about: Sequence[str] = ()) -> str:
        name = setting_name(path)
        origin = origins.get(path) or origins.get(name)  # tuning.max_trials: --max-trials's layer, not the section's
        if name == "hyperparameters":
            set_by = [hp_origins.get(key, "default") for key in about] if about else hp_origins.values()
            origin = ", ".join(sorted({o for o in set_by if o != "default"})) or None
        if origin is None or origin == "default":
            return path
        if name == "tuning" and origin in ("environment", "command line"):  # a key of the section, and its layer
            layer = ENV_SETTINGS[name] if origin == "environment" else "--max-trials" if path in origins else "--tuning"
            return f"{path} ({layer}, {origin})"
        if origin == "environment" and name in ENV_SETTINGS:
            return f"{ENV_SETTINGS[name]} (environment)"
        if origin == "command line" and name in SETTINGS and SETTINGS[name].flag:
            return f"{SETTINGS[name].flag} (command line)"
        keyed = f"{path}.{about[0]}" if len(about) == 1 else path  # a hyperparameter's own line
        line = manifest.lines.get(keyed, manifest.lines.get(path)) if manifest and origin.startswith("manifest") else None
        return f"{path} ({origin}, line {line})" if line else f"{path} ({origin})"

    return where


def _tuning_origin(key: str, section: Any, origins: Mapping[str, str]) -> str:
    """The layer of tuning setting ``key`` (``tuning.ranges.eta.scaling``): ``--max-trials``'s for ``max_trials`` when
    it is given, the section's layer for a value the section gives, and ``default`` for one it leaves out (its
    ``max_parallel_trials`` of 1, a range's ``Auto`` scaling, a Grid's ``max_trials``: its combinations)."""
    if key in origins:
        return origins[key]
    node = section
    for part in key.split(".")[1:]:
        if isinstance(node, list) and part == "values":  # a categorical range given as the list of its values
            return origins["tuning"]
        if not isinstance(node, Mapping) or node.get(part) is None:
            return "default"
        node = node[part]
    return origins["tuning"]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dict as ``{"a.b.c": leaf}`` (empty dicts stay leaves)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): value}
