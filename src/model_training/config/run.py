"""The effective configuration of a run, validated by pydantic.

Precedence of every setting, lowest first: the built-in defaults here < environment < SSM < the dataset's
``manifest.json`` < command-line flags (:func:`model_training.config.manifest.resolve` merges the layers and
calls :func:`build_config`).  Everything in :class:`RunConfig` but :data:`NOT_IDENTITY` is part of the run's
identity: change any other field and the run id changes (see :func:`model_training.output.runrecord.compute_run_id`).
Where the outputs are written (a local folder or an S3 bucket) is *not* part of it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from model_training.algorithm.default_metrics import metric_for_objective
from model_training.algorithm.hyperparameters import canonical_hyperparameters
from model_training.algorithm.images import DEFAULT_IMAGE_VERSION
from model_training.algorithm.tuning import TuningSpec
from model_training.config.problems import Where, config_error, plain, raise_problems, validated
from model_training.config.split import SEED_MAX, SplitConfig
from model_training.errors import ConfigurationError, Hint, HyperparameterError, ModelTrainingError, Setting
from model_training.tags import MAX_TAG_VALUE_CHARS, is_tag_text

#: The original stage's label and drop columns (its seed and fractions: :mod:`~model_training.config.split`): label
#: ``y_yes``, ``y_no`` left out.  The label and drop defaults give way to the data (:attr:`RunConfig.given`).
DEFAULT_LABEL = "y_yes"
DEFAULT_DROP = ("y_no",)
#: The original's hyperparameters minus ``silent`` (rejected by every image from 1.2-1 on), plus the
#: metrics the deployment and evaluation stages look at.  Where no setting names ``eval_metric``, it follows the
#: objective (:func:`metric_for_objective`): ``auc,logloss`` is the ``binary:`` objectives'.
DEFAULT_HYPERPARAMETERS: dict[str, str] = {
    "max_depth": "5",
    "eta": "0.2",
    "gamma": "4",
    "min_child_weight": "6",
    "subsample": "0.8",
    "objective": "binary:logistic",
    "num_round": "100",
    "eval_metric": "auc,logloss",
}
DEFAULT_PREFIX_TEMPLATE = "automl/{date}/training/{dataset}"
SPLIT_NAMES = ("train", "validation", "test")
#: Tags the stage puts on every training job; a run's extra tags may not replace them.
RESERVED_TAGS = ("Project", "Region", "Testing", "RunId", "Source", "ServingImage")
#: The deployment stage takes the FIRST tag whose key contains this (case-sensitive) as the test file's URI,
#: so no extra tag's key may contain it.
TESTING_TAG_MARK = "Testing"


def reserved_tag(key: str) -> str | None:
    """The stage's own tag that ``key`` is, or looks like (``testing``, ``PROJECT``, `` Testing``: the same
    name ignoring case and white space), else ``None``."""
    folded = "".join(key.split()).casefold()
    return next((tag for tag in RESERVED_TAGS if tag.casefold() == folded), None)


#: Flat setting names build_config accepts, by the part of RunConfig they go to.
SPLIT_SETTINGS = ("seed", "fractions", "strategy", "key", "order_by", "shuffle_train")
TRAINING_SETTINGS = (
    "algorithm_version", "instance_type", "instance_count", "volume_size_gb", "max_runtime_seconds", "use_spot",
    "max_wait_seconds", "output_kms_key_id", "volume_kms_key_id", "enable_network_isolation",
    "enable_inter_container_traffic_encryption", "vpc_subnets", "vpc_security_groups", "tags", "part_size_mb",
)  # fmt: skip
#: What a leading column named ``""`` or ``Unnamed: 0`` (a pandas index) is: an index column, with a note
#: (``auto``) or without (``index``), or an error (see :mod:`model_training.validation`).
INDEX_COLUMN_CHOICES = ("auto", "index", "error")
#: Fields of :class:`RunConfig` that are not part of the run id: ``index_column`` changes no byte of any run
#: that writes (``auto`` and ``index`` split alike, ``error`` only refuses), so a run is the same run under any.
NOT_IDENTITY = frozenset({"index_column"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class TrainingConfig(_Model):
    """What the training job is asked to do: algorithm version and ``HyperParameters`` (strings)."""

    algorithm_version: str = DEFAULT_IMAGE_VERSION
    hyperparameters: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_HYPERPARAMETERS))
    instance_type: str = Field(default="ml.m5.xlarge", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    instance_count: int = Field(default=1, ge=1, le=100)
    volume_size_gb: int = Field(default=30, ge=1, le=16384)
    max_runtime_seconds: int = Field(default=86_400, ge=1, le=28 * 86_400)
    use_spot: bool = False
    max_wait_seconds: int | None = Field(default=None, ge=1, le=28 * 86_400)
    output_kms_key_id: str | None = None
    volume_kms_key_id: str | None = None
    enable_network_isolation: bool = False
    enable_inter_container_traffic_encryption: bool = False
    part_size_mb: int = Field(default=256, ge=1, le=5 * 1024 * 1024)
    vpc_subnets: tuple[str, ...] = ()
    vpc_security_groups: tuple[str, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _spot(self) -> TrainingConfig:
        problems = []  # every one, each with its setting's path (SettingProblems)
        # CreateTrainingJob: MaxWaitTimeInSeconds only with managed spot, and never below MaxRuntimeInSeconds
        if self.max_wait_seconds is not None and not self.use_spot:
            problems.append(("training.max_wait_seconds", "max_wait_seconds is only for managed spot training (use_spot: true)"))
        if self.use_spot and (self.max_wait_seconds or self.max_runtime_seconds) < self.max_runtime_seconds:
            problems.append(
                (
                    "training.max_wait_seconds",
                    f"max_wait_seconds must be at least max_runtime_seconds ({self.max_runtime_seconds})",
                )
            )
        if bool(self.vpc_subnets) != bool(self.vpc_security_groups):
            problems.append(
                ("training.vpc_subnets", "a VPC needs both vpc_subnets and vpc_security_groups (CreateTrainingJob VpcConfig)")
            )
        if len(self.vpc_subnets) > 16 or len(self.vpc_security_groups) > 5:
            problems.append(("training.vpc_subnets", "VpcConfig takes at most 16 subnets and 5 security groups"))
        if len(self.tags) > 40:
            problems.append(("training.tags", "at most 40 extra tags (SageMaker allows 50, the stage sets up to 10)"))
        problems += [(f"training.tags.{k}", problem) for k, v in self.tags.items() if (problem := _tag_problem(k, v))]
        raise_problems(problems)
        return self


def _tag_problem(k: str, v: str) -> str | None:
    """What is wrong with the extra tag ``k: v``, or ``None``."""
    if (reserved := reserved_tag(k)) is not None:
        also = "" if k == reserved else f" (as {reserved!r}, ignoring case and spaces)"
        why = " (the deployment stage reads Testing)" if reserved == TESTING_TAG_MARK else ""
        return f"tag {k!r} is set by the stage{also}{why}: choose another name"
    if TESTING_TAG_MARK in k:
        return (
            f"tag {k!r} contains {TESTING_TAG_MARK!r}: the deployment stage takes the first tag whose key contains "
            f"{TESTING_TAG_MARK!r} as the test file's URI, and could read this one instead of the stage's own"
        )
    if not 1 <= len(k) <= 128 or len(v) > MAX_TAG_VALUE_CHARS or k.lower().startswith("aws:"):
        return f"tag {k!r}: keys are 1-128 characters not starting with aws:, values at most 256"
    if not is_tag_text(k) or not is_tag_text(v):
        return f"tag {k!r}: SageMaker allows letters, digits, spaces and _ . : / = + - @ only"
    return None


class RunConfig(_Model):
    """The effective configuration of one run; every field but :data:`NOT_IDENTITY` is part of the run id.  Which
    settings a layer gave (:attr:`given`) is not a field, and not part of it.

    Attributes:
        label: the label column (written first in train/validation, as the container requires).
        drop: columns left out of train/validation (they stay in the test file).
        features: if set, only these columns (in source order) follow the label in train/validation.
        split: the split strategy, seed and fractions.
        training: algorithm version and hyperparameters.
        run_date: the date in the output prefix and the model output path (the only clock in any name).
        prefix_template: the output prefix, with ``{date}`` (YYYY-MM-DD) and ``{dataset}`` placeholders.
        index_column: what a leading pandas index column is (:data:`INDEX_COLUMN_CHOICES`); not part of the run id
            (:data:`NOT_IDENTITY`).
        tuning: the hyperparameter search (:mod:`~model_training.config.tuning`), or ``None``: one training job.
            Left out of the dump when ``None``, so that a run without a search keeps the id it had before
            searches existed.
    """

    label: str = DEFAULT_LABEL
    drop: tuple[str, ...] = DEFAULT_DROP
    features: tuple[str, ...] | None = None
    split: SplitConfig = Field(default_factory=SplitConfig)  # a factory: no model is built at import (cold start)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    run_date: dt.date
    prefix_template: str = DEFAULT_PREFIX_TEMPLATE
    index_column: Literal["auto", "index", "error"] = "auto"
    tuning: TuningSpec | None = None

    _given: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @model_serializer(mode="wrap")
    def _no_tuning_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        if dumped.get("tuning", 0) is None:
            del dumped["tuning"]
        return dumped

    @property
    def given(self) -> frozenset[str]:
        """The settings some layer gave (the flat names :func:`build_config` takes: ``label``, ``drop`` ...; not
        ``hyperparameters``); the others are defaults.  Not part of the run id: a default and the same value given
        split alike, except where a default gives way to the data: a default ``drop`` column that the file does
        not have is left out (a given one is an error), and a default label that is not there is reported
        with every way to name one (:func:`~model_training.validation.columns.output_columns`)."""
        return self._given

    @field_validator("drop", "features")
    @classmethod
    def _unique(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return tuple(dict.fromkeys(value)) if value is not None else None

    @field_validator("label")
    @classmethod
    def _label_not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("the label column name must not be empty")
        return value

    @model_validator(mode="after")
    def _label_not_dropped(self) -> RunConfig:
        problems = []  # every one, each with its setting's path (SettingProblems)
        if self.label in self.drop:
            problems.append(("drop", f"the label column {self.label!r} is also a drop column (drop: {', '.join(self.drop)})"))
        if self.features is not None and (self.label in self.features or not self.features):
            problems.append(("features", "features must be a non-empty list of columns that does not include the label"))
        both = sorted(set(self.features or ()) & set(self.drop))
        if both:
            problems.append(("features", f"columns in both features and drop: {', '.join(both)}"))
        unknown = set(re.findall(r"{([^}]*)}", self.prefix_template)) - {"date", "dataset"}
        if unknown:
            problems.append(
                (
                    "prefix_template",
                    f"prefix_template {self.prefix_template!r} has unknown placeholders {sorted(unknown)}; "
                    "use {date} and {dataset}",
                )
            )
        raise_problems(problems)
        return self

    def prefix(self, dataset: str) -> str:
        """The output prefix for ``dataset`` (no leading or trailing ``/``)."""
        return self.prefix_template.format(date=self.run_date.isoformat(), dataset=dataset).strip("/")


def build_config(**settings: Any) -> RunConfig:
    """Build a :class:`RunConfig` from defaults overridden by ``settings`` (``None`` values are ignored).

    Accepted keys: ``label``, ``drop``, ``features``, ``index_column``, ``run_date``, ``prefix_template``, the split
    settings (:data:`SPLIT_SETTINGS`), ``hyperparameters`` (merged over the defaults; without ``eval_metric`` among
    them, the metric follows the objective: :func:`metric_for_objective`), the training settings
    (:data:`TRAINING_SETTINGS`) and ``tuning`` (the search's section as JSON gives it, checked by
    :func:`~model_training.config.tuning.tuning_spec`: the given hyperparameters are those of ``hyperparameters``,
    or ``_given_hyperparameters`` (name -> layer) when the caller knows the layers).  The keys given are the
    config's :attr:`~RunConfig.given`; a given ``label`` that the default ``drop`` holds is not dropped
    (``--label y_no`` keeps ``y_no``).

    Raises:
        ConfigurationError: settings are invalid; every problem at once, each naming its setting's path
            (:func:`~model_training.config.problems.config_error`).
        HyperparameterError: the hyperparameters break the container's rules (every problem listed), or the tuning
            section does (every problem of the section and of the section with the hyperparameters), and nothing
            else is wrong.
    """
    config, _, errors = assemble_config(settings)
    if errors:
        raise config_error(errors) from None
    assert config is not None
    return config


def assemble_config(
    settings: dict[str, Any], where: Where = plain
) -> tuple[RunConfig | None, TrainingConfig | None, list[ModelTrainingError]]:
    """The configuration ``settings`` make (as :func:`build_config` takes them), checked model by model so that
    every problem is found: ``(config, training, errors)``, ``config`` ``None`` if there is any error, ``training``
    the :class:`TrainingConfig` if that part is valid (its ceilings can be checked).  ``where(path)`` names a
    setting in a problem (``split.seed`` as the layer that set it says it)."""
    s = {k: v for k, v in settings.items() if v is not None}
    replace = s.pop("_replace_hyperparameters", False)
    tuning = s.pop("tuning", None), s.pop("_given_hyperparameters", None), s.pop("_tuning_origin", "tuning")
    given_settings = frozenset(s) - {"hyperparameters", "run_date"}
    if "label" in s and "drop" not in s and s["label"] in DEFAULT_DROP:
        # y_yes and y_no are one another's complement (the bank data's get_dummies pair): y_no as the label leaves
        # out y_yes by default, as y_yes as the label leaves out y_no; otherwise the model learns 1 - its feature
        pair = (DEFAULT_LABEL, *DEFAULT_DROP)
        s["drop"] = tuple(c for c in pair if c != s["label"])
    split: dict[str, Any] = {key: s.pop(key) for key in SPLIT_SETTINGS if key in s}
    training: dict[str, Any] = {key: s.pop(key) for key in TRAINING_SETTINGS if key in s}
    if "hyperparameters" in s:
        given = s.pop("hyperparameters")
        if replace:
            training["hyperparameters"] = dict(given)
        else:
            merged = {**DEFAULT_HYPERPARAMETERS, **given}
            training["hyperparameters"] = merged if "eval_metric" in given else metric_for_objective(merged)
    s.setdefault("run_date", dt.date.today())
    errors: list[ModelTrainingError] = []
    version = training.get("algorithm_version", DEFAULT_IMAGE_VERSION)
    # Canonical strings (what SageMaker receives) are part of the run id: "0.20" and "0.2" are one setting.  A
    # multi: objective's num_class may be left to the labels (the split infers it, the request carries it).
    try:
        training["hyperparameters"] = canonical_hyperparameters(
            training.get("hyperparameters", DEFAULT_HYPERPARAMETERS), version, infer_num_class=True
        )
    except HyperparameterError as exc:
        errors.append(exc)
        del training["hyperparameters"]  # the others are checked with the defaults'
    except ConfigurationError as exc:  # the algorithm version: no rules to judge the hyperparameters by
        errors.append(ConfigurationError(f"{where('training.algorithm_version')}: {exc.message}", exc.hint_text))
        training.pop("hyperparameters", None)
        del training["algorithm_version"]
    if tuning[0] is not None:  # the defaults of tuned names give way; a given value is both static and tuned
        from model_training.config.tuning import tuning_setting

        s["tuning"] = tuning_setting(tuning, training, settings.get("hyperparameters"), errors, where)
    split_config = validated(SplitConfig, split, "split.", errors, where=where, hints=_HINTS)
    training_config = validated(TrainingConfig, training, "training.", errors, where=where, hints=_HINTS)
    parts = {"split": split_config or SplitConfig(), "training": training_config or TrainingConfig()}
    config = validated(RunConfig, {**s, **parts}, "", errors, where=where, hints=_HINTS)
    if config is not None:
        config._given = given_settings
    return (None if errors else config), training_config, errors


_HINTS: dict[str, Hint] = {
    "seed": ("set ", Setting("seed"), f" to a whole number from 0 to {SEED_MAX}"),
    "fractions": (
        "give three non-negative numbers for train,validation,test that sum to 1, e.g. 0.7,0.2,0.1 (",
        Setting("fractions"),
        ")",
    ),
    "label": ("name the label column with ", Setting("label", "NAME")),
    "drop": ("name the columns to leave out with ", Setting("drop", "NAME"), ", or ", Setting("drop", ()), " for none"),
    "features": ("name the columns to keep with ", Setting("features")),
    "strategy": (
        "group and hash take a key column, ordered an order_by column (",
        Setting("key"),
        ", ",
        Setting("order_by"),
        ")",
    ),
    "key": ("group and hash take a key column (", Setting("key"), "); leave it out for the other strategies"),
    "order_by": ("the ordered strategy takes an order_by column (", Setting("order_by"), "); leave it out for the others"),
    "prefix_template": "use {date} and {dataset} in the prefix template",
    "run_date": ("use YYYY-MM-DD (", Setting("run_date"), ")"),
    "index_column": ("choose auto, index or error (", Setting("index_column"), ")"),
    "tags": (
        "rename the extra tag (",
        Setting("tags"),
        f"): its key must not contain {TESTING_TAG_MARK!r} nor be one of the stage's own ({', '.join(RESERVED_TAGS)}) "
        "in any case or spacing",
    ),
}


#: Sources above this size are split by streaming unless told otherwise (2 GiB: the in-memory split peaks at
#: up to 2.5 times its input, the bound the benchmark checks, so this keeps it within about 5 GB).
STREAM_ABOVE_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class StreamOptions:
    """When the split streams (:mod:`~model_training.split.streaming`; a setting of the stage, not of the
    run: both modes write the same bytes) instead of holding the source in memory.

    Attributes:
        above_bytes: stream sources larger than this (``None``: never; 0: always).
        chunk_bytes: source bytes read per chunk when streaming.
        tmp_dir: the folder for the temporary buckets (about the output's size; default: the system's).
    """

    above_bytes: int | None = STREAM_ABOVE_BYTES
    chunk_bytes: int = 8 * 1024 * 1024
    tmp_dir: str | None = None
