"""The effective settings of a run named on the command line: the flags parsed and layered over the defaults,
the environment, SSM (against AWS) and the dataset's manifest (:func:`resolve_settings`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_training.cli.options import ConfigFlags, parse_date, parse_hyperparameter_flags

if TYPE_CHECKING:
    from model_training.config.problems import Gathering
    from model_training.config.resolve import Resolution


def resolve_settings(flags: ConfigFlags, *, aws: bool) -> Resolution:
    """Every setting, by precedence: defaults < environment < SSM (when ``aws``) < manifest < these flags.

    The manifest is ``flags.manifest``, else the one found beside the data, else SSM's default manifest; none with
    ``flags.no_manifest``.  Every problem of every layer is reported at once: a layer that cannot be read is left
    out while the others are checked (:class:`~model_training.config.problems.Gathering`).

    Raises:
        ModelTrainingError: ``--date`` or a ``-H`` that does not parse (and nothing else is wrong).
        ConfigurationError: ``--fractions`` that does not parse, ``--manifest`` with ``--no-manifest``, a manifest that
            cannot be read or is invalid, an SSM parameter that cannot be read, environment variables that cannot be
            read; with HyperparameterError and LimitError, as :func:`~model_training.config.resolve.resolve` raises
            them; several of these as one.
    """
    from model_training.config.manifest_files import find_manifest
    from model_training.config.problems import Gathering
    from model_training.config.resolve import env_settings, resolve
    from model_training.config.settings import settings_from_env, ssm_layer, training_limits
    from model_training.errors import ConfigurationError

    gathering = Gathering()
    ssm: dict[str, Any] = {}
    ssm_default: str | None = None
    limits = None  # the environment's ceilings; against AWS, the SSM parameter's over them
    stage = gathering.attempt(settings_from_env, None) if aws else None
    if stage is not None:
        nothing: tuple[dict[str, Any], str | None] = ({}, None)
        ssm, ssm_default = gathering.attempt(lambda: ssm_layer(stage, gathering), nothing)
        limits = gathering.attempt(lambda: training_limits(stage), None)
    cli = flag_layer(flags, gathering)
    manifest = None
    if flags.no_manifest and flags.manifest is not None:
        gathering.errors.append(
            ConfigurationError(f"--manifest {flags.manifest} and --no-manifest contradict each other", "give one of them")
        )
    elif not flags.no_manifest:
        manifest = gathering.attempt(lambda: find_manifest(flags.source, explicit=flags.manifest, ssm_default=ssm_default), None)
    env = env_settings(gathering=gathering)
    run_date = gathering.attempt(lambda: parse_date(flags.date), None)
    resolution = gathering.attempt(
        lambda: resolve(run_date=run_date, env=env, ssm=ssm, manifest=manifest, cli=cli, limits=limits), None
    )
    gathering.check()
    assert resolution is not None
    return resolution


def flag_layer(flags: ConfigFlags, gathering: Gathering | None = None) -> dict[str, Any]:
    """The command line's layer of settings: each flag parsed (``None``: not given, the layers below decide).

    Args:
        gathering: where a flag that does not parse goes (it is then left out); default: raised.

    Raises:
        ConfigurationError: ``--fractions`` that are not three numbers; ``--tuning`` that is not a JSON object or a
            file holding one (without ``gathering``).
        ModelTrainingError: a ``-H`` that is not ``KEY=VALUE`` (without ``gathering``).
    """
    from model_training.config.problems import Gathering
    from model_training.config.split import parse_fractions
    from model_training.config.tuning import read_tuning_option

    steps = gathering or Gathering()
    drop, fractions, hyperparameters, tuning = flags.drop, flags.fractions, flags.hyperparameters, flags.tuning
    layer = {
        "label": flags.label,
        "drop": tuple(c.strip() for item in drop for c in item.split(",") if c.strip()) if drop is not None else None,
        "seed": flags.seed,
        "fractions": steps.attempt(lambda: parse_fractions(fractions), None) if fractions is not None else None,
        "hyperparameters": steps.attempt(lambda: parse_hyperparameter_flags(hyperparameters), None) if hyperparameters else None,
        "strategy": flags.strategy,
        "key": flags.key,
        "order_by": flags.order_by,
        "index_column": flags.index_column,
        "tuning": steps.attempt(lambda: read_tuning_option(tuning), None) if tuning is not None else None,
        "max_trials": flags.max_trials,
    }
    if gathering is None:
        steps.check()
    return layer
