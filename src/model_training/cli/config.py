"""``model-training config show``: the effective configuration a run would use, and where each value comes from."""

from __future__ import annotations

import typer

from model_training.cli.guard import guarded
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
    OrderByOpt,
    SeedOpt,
    StrategyOpt,
)
from model_training.cli.render import print_config
from model_training.cli.resolve import resolve_settings

app = typer.Typer(help="The effective configuration of a run, and where each value comes from.", no_args_is_help=True)


@app.command("show")
def config_show(
    source: DescribedSourceArg,
    manifest: ManifestOpt = None,
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
    as_json: JsonOpt = False,
) -> None:
    """Print the effective configuration a run of SOURCE would use, and where each value came from
    (default, environment, ssm, manifest, command line)."""
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
        index_column=index_column.value if index_column is not None else None,
    )
    # SSM is read only for an S3 source
    guarded(lambda: print_config(resolve_settings(flags, aws=flags.source.startswith("s3://")), as_json=as_json))
