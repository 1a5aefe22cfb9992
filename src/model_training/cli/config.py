"""``model-training config show``: the effective configuration a run would use, and where each value comes from."""

from __future__ import annotations

from model_training.cli.guard import guarded
from model_training.cli.help import Command, new_app
from model_training.cli.options import (
    ConfigFlags,
    DateOpt,
    DescribedSourceArg,
    DropOpt,
    FractionsOpt,
    HyperparameterOpt,
    IndexColumnOpt,
    JsonOpt,
    KeyOpt,
    LabelOpt,
    ManifestOpt,
    MaxTrialsOpt,
    NoManifestOpt,
    OrderByOpt,
    SeedOpt,
    StrategyOpt,
    TuningOpt,
)
from model_training.cli.render import print_config
from model_training.cli.resolve import resolve_settings

app = new_app("The effective configuration of a run, and where each value comes from.")


@app.command("show", cls=Command)
def config_show(
    source: DescribedSourceArg,
    manifest: ManifestOpt = None,
    no_manifest: NoManifestOpt = False,
    label: LabelOpt = None,
    drop: DropOpt = None,
    index_column: IndexColumnOpt = None,
    seed: SeedOpt = None,
    fractions: FractionsOpt = None,
    strategy: StrategyOpt = None,
    key: KeyOpt = None,
    order_by: OrderByOpt = None,
    date: DateOpt = None,
    hyperparameter: HyperparameterOpt = None,
    tuning: TuningOpt = None,
    max_trials: MaxTrialsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the configuration a run of SOURCE would use, and where each value came from.

    Each setting's origin is one of default, environment, ssm, manifest, command line. Only SOURCE's header is
    read: a missing SOURCE, or a label, drop, feature or key column that is not in its header, is an error
    (exit 1), shown after the configuration with the columns that exist.
    """
    flags = ConfigFlags(
        source=source,
        label=label,
        drop=drop,
        seed=seed,
        fractions=fractions,
        strategy=strategy,
        key=key,
        order_by=order_by,
        date=date,
        hyperparameters=hyperparameter,
        manifest=manifest,
        no_manifest=no_manifest,
        tuning=tuning,
        max_trials=max_trials,
        index_column=index_column.value if index_column is not None else None,
    )
    guarded(lambda: show_config(flags, as_json=as_json))


def show_config(flags: ConfigFlags, *, as_json: bool) -> None:
    """Resolve the settings (SSM only for an S3 source), read the source's header, print the configuration with the
    columns and what the run will take from the data instead (a default drop column the file does not have is not
    dropped; a ``multi:`` objective without ``num_class`` takes it from the labels), then check that the columns the
    configuration names are among them.

    Raises:
        DatasetError: the source does not exist or its first bytes are not a CSV header (nothing is printed); a
            configured column is not in the header (after the configuration).
        ModelTrainingError: as :func:`~model_training.cli.resolve.resolve_settings` raises it.
    """
    from model_training.wiring import check_columns, inferred_from_header, source_columns

    resolution = resolve_settings(flags, aws=flags.source.startswith("s3://"))
    columns = source_columns(flags.source)
    inferred = inferred_from_header(flags.source, columns, resolution.config)
    print_config(resolution, columns=columns, as_json=as_json, inferred=inferred, no_manifest=flags.no_manifest)
    check_columns(flags.source, columns, resolution.config)
