"""The effective settings of a run named on the command line: the flags parsed and layered over the defaults,
the environment, SSM (against AWS) and the dataset's manifest (:func:`resolve_settings`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_training.cli.options import ConfigFlags, parse_date, parse_hyperparameter_flags

if TYPE_CHECKING:
    from model_training.config.resolve import Resolution


def resolve_settings(flags: ConfigFlags, *, aws: bool) -> Resolution:
    """Every setting, by precedence: defaults < environment < SSM (when ``aws``) < manifest < these flags.

    The manifest is ``flags.manifest``, else the one found beside the data, else SSM's default manifest.

    Raises:
        ModelTrainingError: ``--date`` or a ``-H`` that does not parse.
        ConfigurationError: ``--fractions`` that does not parse, a manifest that cannot be read or is invalid, an
            SSM parameter that cannot be read; with HyperparameterError and LimitError, as
            :func:`~model_training.config.manifest.resolve` raises them.
    """
    from model_training.config.manifest_files import find_manifest
    from model_training.config.resolve import env_settings, resolve
    from model_training.config.settings import settings_from_env, ssm_layer, training_limits

    ssm: dict[str, Any] = {}
    ssm_default = None
    limits = None  # the environment's ceilings; against AWS, the SSM parameter's over them
    if aws:
        ssm, ssm_default = ssm_layer(settings_from_env())
        limits = training_limits(settings_from_env())
    cli = flag_layer(flags)
    manifest = find_manifest(flags.source, explicit=flags.manifest, ssm_default=ssm_default)
    return resolve(run_date=parse_date(flags.date), env=env_settings(), ssm=ssm, manifest=manifest, cli=cli, limits=limits)


def flag_layer(flags: ConfigFlags) -> dict[str, Any]:
    """The command line's layer of settings: each flag parsed (``None``: not given, the layers below decide).

    Raises:
        ConfigurationError: ``--fractions`` that are not three numbers; ``--tuning`` that is not a JSON object or a
            file holding one.
        ModelTrainingError: a ``-H`` that is not ``KEY=VALUE``.
    """
    from model_training.config.run import parse_fractions
    from model_training.config.tuning import read_tuning_option

    drop = flags.drop
    return {
        "label": flags.label,
        "drop": tuple(c.strip() for item in drop for c in item.split(",") if c.strip()) if drop is not None else None,
        "seed": flags.seed,
        "fractions": parse_fractions(flags.fractions) if flags.fractions is not None else None,
        "hyperparameters": parse_hyperparameter_flags(flags.hyperparameters) if flags.hyperparameters else None,
        "strategy": flags.strategy,
        "key": flags.key,
        "order_by": flags.order_by,
        "tuning": read_tuning_option(flags.tuning) if flags.tuning is not None else None,
        "max_trials": flags.max_trials,
    }
