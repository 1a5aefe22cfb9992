"""The command line's arguments and options, each declared once as a typer ``Annotated`` type, and the values
a command hands on to the code that acts on it (:class:`ConfigFlags`, :class:`RunOptions`).

A command names its parameters with these types (``label: LabelOpt = None``); typer reads the flag names
and help text from them, the parameter's name is only the function's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from model_training.output.layout import DEFAULT_OUTPUT


class Backend(StrEnum):
    """Where training jobs run."""

    local = "local"
    sagemaker = "sagemaker"


class IndexColumn(StrEnum):
    """What a leading column named '' or 'Unnamed: 0' (a pandas index) is (the ``index_column`` setting)."""

    AUTO = "auto"
    INDEX = "index"  # not a member named index: that would hide str.index
    ERROR = "error"


# What to split or describe
SourceArg = Annotated[
    str,
    typer.Argument(
        help="The CSV to split: a file, s3://bucket/key, or a folder of part files (a directory, s3://bucket/prefix/).",
        show_default=False,
    ),
]
DescribedSourceArg = Annotated[str, typer.Argument(help="The CSV (a file or s3://bucket/key) whose run to describe.")]
ManifestOpt = Annotated[
    Path | None, typer.Option("--manifest", help="The dataset's manifest.json (default: found beside the data).")
]

# The run's configuration (run, config show)
LabelOpt = Annotated[str | None, typer.Option("--label", help="Label column (default y_yes).")]
DropOpt = Annotated[
    list[str] | None,
    typer.Option("--drop", help="Column to leave out of train/validation; repeat or comma-separate (default y_no)."),
]
IndexColumnOpt = Annotated[
    IndexColumn | None,
    typer.Option(
        "--index-column",
        help="A leading column named '' or 'Unnamed: 0' (pandas' to_csv without index=False): auto (default) leaves it "
        "out of train/validation as the test file's index and says so; index does the same silently; error refuses it.",
        show_default=False,
    ),
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Shuffle seed (default 1729).")]
FractionsOpt = Annotated[str | None, typer.Option("--fractions", help="train,validation,test fractions (default 0.7,0.2,0.1).")]
StrategyOpt = Annotated[
    str | None, typer.Option("--strategy", help="random | stratified | group | ordered | hash (default random).")
]
KeyOpt = Annotated[str | None, typer.Option("--key", help="group/hash: the key column.")]
OrderByOpt = Annotated[str | None, typer.Option("--order-by", help="ordered: the time or number column.")]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="Run date YYYY-MM-DD for the output prefix and model path (default today).")
]
HyperparameterOpt = Annotated[
    list[str] | None, typer.Option("--hyperparameter", "-H", help="KEY=VALUE over the defaults; repeatable.")
]

# Where a run writes and trains
RunOutputOpt = Annotated[str, typer.Option("--output", "-o", help="Output folder, or s3://bucket/prefix.")]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Output folder.", show_default=True)]
BackendOpt = Annotated[
    Backend,
    typer.Option("--backend", "-b", help="Where training jobs run: local (XGBoost here) or sagemaker.", show_default=True),
]
ModelOutputOpt = Annotated[
    str | None,
    typer.Option("--model-output", help="Model output root (s3://bucket); default: the SSM parameter, or the output folder."),
]
RoleArnOpt = Annotated[str | None, typer.Option("--role-arn", help="SageMaker execution role (default: the SSM parameter).")]
NoTrainOpt = Annotated[bool, typer.Option("--no-train", help="Split and write only; do not train.")]
StreamOpt = Annotated[
    bool | None,
    typer.Option(
        "--stream/--in-memory",
        help="Split in bounded memory (three passes: the source read twice, the rows put in order through "
        "temporary files) or in memory; default: stream sources above MODEL_TRAINING_STREAM_ABOVE_MB (2048). "
        "Both write the same bytes.",
        show_default=False,
    ),
]

# How the result is shown
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RecordJsonOpt = Annotated[bool, typer.Option("--json", help="Print the whole record as JSON.")]

# The event and the job to look at
EventFileArg = Annotated[Path, typer.Argument(help="A Lambda event as JSON (S3, SQS, SNS or EventBridge).", readable=False)]
ManifestFileArg = Annotated[Path, typer.Argument(help="A manifest.json to validate.", readable=False)]
JobNameArg = Annotated[str, typer.Argument(help="TrainingJobName")]


@dataclass(frozen=True)
class ConfigFlags:
    """What the user asked of a run's configuration (``run``, ``config show``); ``None``: not given.

    Attributes:
        source: the CSV, as given (a path, ``s3://bucket/key``, or a folder of part files).
        drop: the ``--drop`` values as given (each may hold several comma-separated columns).
        fractions: ``train,validation,test`` as given, parsed when the settings are resolved.
        date: the run date as given (``YYYY-MM-DD``), parsed when the settings are resolved.
        hyperparameters: the ``-H`` values as given (``KEY=VALUE``).
        manifest: ``--manifest``, the manifest.json to use instead of the one found beside the data.
        index_column: ``--index-column``, what a leading pandas index column is (``auto``, ``index``, ``error``).
    """

    source: str
    label: str | None = None
    drop: Sequence[str] | None = None
    seed: int | None = None
    fractions: str | None = None
    strategy: str | None = None
    key: str | None = None
    order_by: str | None = None
    date: str | None = None
    hyperparameters: Sequence[str] | None = None
    manifest: Path | None = None
    index_column: str | None = None

    def __post_init__(self) -> None:  # the lists typer gives are kept as tuples: the flags do not change
        for name in ("drop", "hyperparameters"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))


@dataclass(frozen=True)
class RunOptions:
    """What the user asked of ``run``: the configuration's flags, and where the run writes and trains.

    Attributes:
        output: the output folder, or ``s3://bucket/prefix``.
        backend: ``local`` or ``sagemaker`` (:class:`Backend`'s values).
        model_output: ``--model-output``, the model output root (``None``: the SSM parameter's, or the output folder).
        role_arn: ``--role-arn`` (``None``: the SSM parameter's).
        train: ``False`` with ``--no-train`` (split and write only).
        quiet: no progress bars.
        stream: ``True`` with ``--stream``, ``False`` with ``--in-memory``, ``None``: by the source's size.
    """

    flags: ConfigFlags
    output: str = str(DEFAULT_OUTPUT)
    backend: str = Backend.local.value
    model_output: str | None = None
    role_arn: str | None = None
    train: bool = True
    quiet: bool = False
    stream: bool | None = None

    @property
    def local(self) -> bool:
        """Everything on this machine: a local source and output folder, the local backend and no model output root
        (then SSM is not read)."""
        return (
            not self.flags.source.startswith("s3://")
            and not self.output.startswith("s3://")
            and self.backend == Backend.local.value
            and not self.model_output
        )
