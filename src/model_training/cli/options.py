"""The command line's arguments and options, each declared once as a typer ``Annotated`` type, and the values
a command hands on to the code that acts on it (:class:`ConfigFlags`, :class:`RunOptions`).

A command names its parameters with these types (``label: LabelOpt = None``); typer reads the flag names
and help text from them, the parameter's name is only the function's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from model_training.errors import ModelTrainingError
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
        metavar="SOURCE",
        help="The CSV to split: a file, s3://bucket/key, or a folder of part files (a directory, or s3://bucket/prefix/).",
        show_default=False,
    ),
]
DescribedSourceArg = Annotated[
    str,
    typer.Argument(
        metavar="SOURCE",
        help="The CSV whose run to describe: a file, s3://bucket/key, or a folder of part files. Only its header is read.",
    ),
]
ManifestOpt = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        metavar="FILE",
        help="The dataset's manifest.json (default: manifest.json or SOURCE-NAME.manifest.json beside the data, else "
        "MODEL_TRAINING_DEFAULT_MANIFEST's).",
    ),
]
NoManifestOpt = Annotated[
    bool,
    typer.Option(
        "--no-manifest",
        help="Apply no manifest: neither one beside the data nor the default one (the other layers still apply).",
    ),
]


def _fractions(value: str | None) -> str | None:
    """``--fractions`` as given, once it parses as three numbers (:func:`~model_training.config.split.parse_fractions`).

    Raises:
        typer.BadParameter: it does not (a usage error, exit 2, naming the flag).
    """
    from model_training.config.split import parse_fractions

    if value is not None:
        try:
            parse_fractions(value)
        except ModelTrainingError as exc:
            raise typer.BadParameter(f"{exc.message}: {exc.hint}") from None
    return value


def parse_date(text: str | None) -> dt.date | None:
    """``--date`` (``YYYY-MM-DD``) as a date; ``None`` when not given.

    Raises:
        ModelTrainingError: not a date.
    """
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ModelTrainingError(f"--date {text!r} is not a date", "use YYYY-MM-DD, e.g. 2026-01-31") from None


def parse_hyperparameter_flags(items: Iterable[str]) -> dict[str, str]:
    """``-H KEY=VALUE`` items as ``{key: value}`` (both stripped; a later key wins).

    Raises:
        ModelTrainingError: an item without ``=`` or with an empty key.
    """
    parsed = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ModelTrainingError(f"--hyperparameter {item!r} is not KEY=VALUE", "e.g. -H num_round=200 -H max_depth=6")
        parsed[key.strip()] = value.strip()
    return parsed


def _date(value: str | None) -> str | None:
    """``--date`` as given, once it parses (:func:`parse_date`).

    Raises:
        typer.BadParameter: it does not (a usage error, exit 2, naming the flag).
    """
    try:
        parse_date(value)
    except ModelTrainingError:
        raise typer.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2026-01-31") from None
    return value


def _hyperparameters(value: list[str] | None) -> list[str] | None:
    """The ``-H`` items as given, once each is ``KEY=VALUE`` (:func:`parse_hyperparameter_flags`).

    Raises:
        typer.BadParameter: one is not (the first such item).
    """
    for item in value or ():
        try:
            parse_hyperparameter_flags([item])
        except ModelTrainingError:
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE: e.g. -H num_round=200 -H max_depth=6") from None
    return value


def _strategy(value: str | None) -> str | None:
    """``--strategy`` as given, once it names a strategy (:data:`~model_training.config.split.STRATEGIES`).

    Raises:
        typer.BadParameter: it does not.
    """
    from model_training.config.split import STRATEGIES

    if value is not None and value not in STRATEGIES:
        raise typer.BadParameter(f"{value!r} is not a split strategy: use one of {', '.join(STRATEGIES)}")
    return value


# The run's configuration (run, config show). A value that does not parse (a seed that is not a number, fractions
# that are not three numbers, a date that is not YYYY-MM-DD, a -H without '=', an unknown strategy) is a usage error
# (exit 2, as click's own); one that parses but breaks a rule (a seed out of range, fractions that do not sum to 1, an
# unknown hyperparameter, a column not in the file) is refused with the run's own message (exit 1).
LabelOpt = Annotated[
    str | None,
    typer.Option("--label", metavar="NAME", help="The label column, written first in train/validation (default y_yes)."),
]
DropOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--drop",
        metavar="NAME",
        help="A column to leave out of train/validation: repeat, or comma-separate; --drop '' drops none "
        "(default y_no, where the file has it).",
    ),
]
SeedOpt = Annotated[int | None, typer.Option("--seed", metavar="N", help="The shuffle seed, 0 to 2^32-1 (default 1729).")]
FractionsOpt = Annotated[
    str | None,
    typer.Option(
        "--fractions",
        metavar="T,V,X",
        callback=_fractions,
        help="The train, validation and test fractions: non-negative, summing to 1; validation or test may be 0 "
        "(default 0.7,0.2,0.1).",
    ),
]
IndexColumnOpt = Annotated[
    IndexColumn | None,
    typer.Option(
        "--index-column",
        metavar="[auto|index|error]",
        help="A leading column named '' or 'Unnamed: 0' (pandas' to_csv without index=False): auto (default) leaves it "
        "out of train/validation as the test file's index and says so; index does the same silently; error refuses it.",
        show_default=False,
    ),
]
StrategyOpt = Annotated[
    str | None,
    typer.Option(
        "--strategy",
        metavar="NAME",
        callback=_strategy,
        help="How rows are split: random, stratified, group (--key), ordered (--order-by) or hash (default random).",
    ),
]
KeyOpt = Annotated[str | None, typer.Option("--key", metavar="COLUMN", help="The key column of the group and hash strategies.")]
OrderByOpt = Annotated[
    str | None,
    typer.Option("--order-by", metavar="COLUMN", help="The time or number column of the ordered strategy."),
]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        metavar="YYYY-MM-DD",
        callback=_date,
        help="The run date, in the output prefix and the model path (default today).",
    ),
]
HyperparameterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--hyperparameter",
        "-H",
        metavar="KEY=VALUE",
        callback=_hyperparameters,
        help="A hyperparameter over the defaults; repeatable.",
    ),
]
TuningOpt = Annotated[
    str | None,
    typer.Option(
        "--tuning",
        metavar="FILE|JSON",
        help="Search hyperparameters instead of training one configuration: the tuning section as JSON text, or a "
        "JSON file holding it (or a manifest with one); replaces the manifest's.",
    ),
]
MaxTrialsOpt = Annotated[
    int | None,
    typer.Option("--max-trials", metavar="N", min=1, help="The search's training jobs in all (its max_trials)."),
]

# Where a run writes and trains
RunOutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        metavar="DIR",
        help=f"The output folder, or s3://bucket/prefix (default {DEFAULT_OUTPUT}).",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        metavar="DIR",
        help=f"The output folder of the runs, whose training-jobs/ holds the local job records (default {DEFAULT_OUTPUT}); "
        "s3://... looks in the default folder, where runs with an S3 output keep them.",
        show_default=False,
    ),
]
DemoOutputOpt = Annotated[
    Path,
    typer.Option(
        "--output", "-o", metavar="DIR", help=f"The demo's output folder (default {DEFAULT_OUTPUT}).", show_default=False
    ),
]
BackendOpt = Annotated[
    Backend,
    typer.Option(
        "--backend",
        "-b",
        metavar="[local|sagemaker]",
        help="Where training jobs run: local (XGBoost on this machine) or sagemaker (default local).",
        show_default=False,
    ),
]
ModelOutputOpt = Annotated[
    str | None,
    typer.Option(
        "--model-output",
        metavar="URI",
        help="Where models go: s3://bucket (default: the SSM parameter's bucket, or the output folder's model-output/).",
    ),
]
RoleArnOpt = Annotated[
    str | None,
    typer.Option("--role-arn", metavar="ARN", help="The SageMaker execution role (default: the SSM parameter's)."),
]
NoTrainOpt = Annotated[bool, typer.Option("--no-train", help="Split, write and record only; do not train.")]
VersionIdOpt = Annotated[
    str | None,
    typer.Option(
        "--version-id",
        metavar="VERSION",
        help="Read this version of the s3:// SOURCE object (its VersionId), as the Lambda function reads the version "
        "its event names; default: the latest.",
    ),
]
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
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars (shown only on a terminal anyway).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the configuration, its origins and the manifest as JSON.")]
RecordJsonOpt = Annotated[bool, typer.Option("--json", help="Print the whole job record as JSON.")]
TrialsOpt = Annotated[
    bool,
    typer.Option("--trials", help="List each tuning job's training jobs (its trials) under it; by default they are counted."),
]

# The event and the job to look at
EventFileArg = Annotated[
    Path,
    typer.Argument(
        metavar="EVENT_FILE", help="A Lambda event as JSON: S3, SQS, SNS or EventBridge (see examples/).", readable=False
    ),
]
ManifestFileArg = Annotated[Path, typer.Argument(metavar="FILE", help="The manifest.json to validate.", readable=False)]
JobNameArg = Annotated[str, typer.Argument(metavar="NAME", help="The TrainingJobName, or a HyperParameterTuningJobName.")]


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
        no_manifest: ``--no-manifest``: no manifest applies, neither one found nor the default one.
        tuning: ``--tuning`` as given (JSON text or a file), read when the settings are resolved.
        max_trials: ``--max-trials``, the tuning section's ``max_trials``.
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
    no_manifest: bool = False
    tuning: str | None = None
    max_trials: int | None = None
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
        version_id: ``--version-id``, the S3 object version to read (``None``: the latest).
    """

    flags: ConfigFlags
    output: str = str(DEFAULT_OUTPUT)
    backend: str = Backend.local.value
    model_output: str | None = None
    role_arn: str | None = None
    train: bool = True
    quiet: bool = False
    stream: bool | None = None
    version_id: str | None = None

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
