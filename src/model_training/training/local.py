"""The local training backend: SageMaker's built-in XGBoost algorithm, emulated in-process with the
real xgboost library, behind the same request and job-record shapes as SageMaker's API.

A model trained here must be one the image's own serving code loads with the same parameters and the
same predictions, so training runs only with the XGBoost release the job's image runs
(:data:`~model_training.algorithm.images.IMAGE_XGBOOST`: 3.0-5 runs 3.0.5, 1.7-1 runs 1.7.4); any other installed
release is refused before anything is trained (:func:`check_xgboost`).  Tests compare our channels,
logs and models with the container's own code under the image's pinned libraries.

What it reproduces of the container (SageMaker XGBoost container, ``algorithm_mode/train.py``,
``data_utils.py`` and ``callback.py``):

* ``HyperParameters`` arrive as strings and are parsed and validated by the container's rules
  (:mod:`model_training.algorithm.hyperparameters`); a violation fails the job with ``ClientError``.
* Channels ``train`` (required) and ``validation`` (optional): every file under the channel folder up
  to 3 levels deep, names starting with ``_`` skipped, names starting with ``.`` fail the job, CSV with
  the label in column 0, no header, an empty field is a missing value; an empty channel fails the job.
* ``xgboost.train`` gets the validated hyperparameters and nothing else (the library's own defaults:
  ``tree_method`` is ``hist`` on 3.0.5, chosen by data size on 1.7.4), logs each round as XGBoost's
  evaluation monitor does (``[i]\\ttrain-<metric>:<v>\\tvalidation-<metric>:<v>``, 5 decimals), and
  with ``early_stopping_rounds`` stops on the last ``eval_metric`` (or tuning metric) of the validation
  channel and keeps the best iteration's model, as the container does (no metric: no early stopping).
* The metrics the container computes itself (``accuracy``, ``f1``, ``rmse``, ``mae``, ``r2`` ...) are
  computed as it computes them (:mod:`~model_training.training.container_metrics`, with scikit-learn).
* The model is saved with ``Booster.save_model`` to a file named ``xgboost-model`` (UBJSON on 3.0.5,
  XGBoost's binary format on 1.7.4), the single member of
  ``{S3OutputPath}/{TrainingJobName}/output/model.tar.gz``.

Not reproduced: ``_kfold`` (the container's cross-validation mode) is refused.  With several part files per
channel the container reads them in directory order (row order differs; the rows are the same).

Job records live as JSON files in a jobs folder; names are unique there as in an AWS account.  A record
also holds ``XGBoostVersion`` (the release that trained the model) and ``ServingImage`` (the image that
must serve it), which SageMaker's records do not have.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gzip
import io
import json
import os
import re
import tarfile
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from model_training.algorithm.hyperparameter_rules import MAXIMIZE_METRICS
from model_training.algorithm.hyperparameters import ParsedHyperparameters, parse_hyperparameters
from model_training.algorithm.images import DEFAULT_IMAGE_VERSION, IMAGE_XGBOOST, image_version, serving_image_name
from model_training.algorithm.labels import label_problem
from model_training.errors import (
    HyperparameterError,
    TrainingJobExistsError,
    TrainingJobNotFoundError,
    XGBoostVersionError,
    environment_failure,
)
from model_training.output.storage import LocalStore
from model_training.progress import NullReporter, Reporter
from model_training.training.container_metrics import evaluation_function, plan_metrics
from model_training.training.naming import is_valid_job_name

MODEL_FILE = "xgboost-model"
ARCHIVE_NAME = "model.tar.gz"
_MAX_CHANNEL_DEPTH = 3


class ChannelDataError(Exception):
    """A channel's data cannot be used (the job fails with this as its ``FailureReason``)."""


def path_from_uri(uri: str) -> Path:
    """The local path of a ``file://`` URI (or of a plain path).

    Raises:
        ValueError: another scheme (``s3://`` needs the S3 store).
    """
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":
        return Path(uri)
    raise ValueError(f"the local backend reads file:// URIs, not {uri!r}")


def installed_xgboost() -> str | None:
    """The XGBoost release this process imports (``xgboost.__version__``), or ``None`` without one."""
    try:
        import xgboost
    except ImportError:
        return None
    return str(xgboost.__version__)


def _xgboost_distributions() -> list[str]:
    from importlib import metadata

    found = []
    for dist in ("xgboost", "xgboost-cpu"):
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return found


def check_xgboost(version: str) -> str:
    """The installed XGBoost release, if it is the one image ``version`` trains and serves with.

    Args:
        version: the algorithm image version (``3.0-5``, ``1.7-1``).

    Returns:
        The release, e.g. ``"3.0.5"``.

    Raises:
        XGBoostVersionError: XGBoost is missing, or another release is installed: a model it trains may
            load in the image with other parameters (XGBoost 3.2's ``base_score`` reads as 0.5 in 3.0.5,
            shifting every prediction), so nothing is trained; the hint says what to install.
    """
    wanted = IMAGE_XGBOOST.get(version)
    if wanted is None:
        raise XGBoostVersionError(f"algorithm version {version!r} is not supported", f"use one of {', '.join(IMAGE_XGBOOST)}")
    found = installed_xgboost()
    if found == wanted:
        return found
    package = "xgboost-cpu" if tuple(int(p) for p in wanted.split(".")[:2]) >= (2, 1) else "xgboost"
    installed = _xgboost_distributions()
    if version == DEFAULT_IMAGE_VERSION:  # the local extra's own pin
        hint = f"install the local extra's release: pip install '{package}=={wanted}'"
    else:  # a release of its own beside this package's pin overwrites it: another environment
        hint = (
            f"train for {version} in an environment of its own with XGBoost {wanted} (README, Installing without make: "
            f"python3 -m venv .venv-{version.split('-')[0]} && .venv-{version.split('-')[0]}/bin/pip install -e . "
            f"'{package}=={wanted}' matplotlib scikit-learn)"
        )
    matching = [v for v, x in IMAGE_XGBOOST.items() if x == found]
    if matching:
        hint += f"; or choose image {matching[0]} (MODEL_TRAINING_ALGORITHM_VERSION), which XGBoost {found} serves"
    hint += "; or train on SageMaker (--backend sagemaker)"
    if found is None and len(installed) > 1:  # two distributions of one module overwrite each other's files
        hint = f"keep one of them: pip uninstall -y {' '.join(d.split()[0] for d in installed)}, then " + hint
    if found:
        what = f"XGBoost {found} is installed"
    elif len(installed) > 1:
        what = f"XGBoost does not import: {' and '.join(installed)} are installed and overwrite each other's files"
    else:
        what = "XGBoost is not installed"
    raise XGBoostVersionError(
        f"image sagemaker-xgboost:{version} trains and serves with XGBoost {wanted}, but {what}: a model trained "
        "locally must be trained by the release that will serve it",
        hint,
    )


class LocalTrainingBackend:
    """Create, run, describe and list training jobs on this machine.

    Args:
        jobs_dir: folder of the job records (``{name}.json``) and logs (``{name}.log``).
        reporter: receives a progress task per job (one step per boosting round) and log lines.
    """

    backend_name = "local"
    runs_jobs = True  # a job runs in the process that holds the run's claim

    def __init__(self, jobs_dir: Path, reporter: Reporter | None = None) -> None:
        self.jobs_dir = Path(jobs_dir)
        self.reporter: Reporter = reporter or NullReporter()

    # -- the API -------------------------------------------------------------------------------
    def preflight(self, algorithm_version: str) -> None:
        """Refuse, before a run writes anything, an installed XGBoost that is not the image's.

        Raises:
            XGBoostVersionError: see :func:`check_xgboost`.
        """
        check_xgboost(algorithm_version)

    def create_training_job(self, request: dict[str, Any]) -> str:
        """Register a job as ``InProgress`` (``SecondaryStatus`` ``Starting``); returns its ARN.

        Raises:
            TrainingJobExistsError: a job with this ``TrainingJobName`` exists already (as SageMaker's
                ``ResourceInUse``); nothing is changed.
            ValueError: the name breaks SageMaker's ``TrainingJobName`` rule.
        """
        name = request["TrainingJobName"]
        if not is_valid_job_name(name):
            raise ValueError(f"TrainingJobName {name!r} must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}$")
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        now = _now()
        record = {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:local:000000000000:training-job/{name}",
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "CreationTime": now,
            "LastModifiedTime": now,
            **{k: v for k, v in request.items() if k != "TrainingJobName"},
        }
        try:
            fd = os.open(self._record_path(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise TrainingJobExistsError(
                f"training job {name!r} already exists",
                "job names are unique forever, as on SageMaker: change the input or configuration for a new run",
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, indent=2)
        return str(record["TrainingJobArn"])

    def describe_training_job(self, name: str) -> dict[str, Any]:
        """The job record, shaped like SageMaker's ``DescribeTrainingJob`` response.

        Raises:
            TrainingJobNotFoundError: no such job.
        """
        path = self._record_path(name)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TrainingJobNotFoundError(
                f"training job {name!r} not found in {self.jobs_dir}", "list jobs with: model-training jobs list"
            ) from None

    def find_training_job(self, name: str) -> dict[str, Any] | None:
        """The job record, or ``None`` if there is no such job."""
        try:
            return self.describe_training_job(name)
        except TrainingJobNotFoundError:
            return None

    def list_training_jobs(self) -> list[dict[str, Any]]:
        """Every job's summary (name, status, creation time, metrics), newest first."""
        if not self.jobs_dir.is_dir():
            return []
        jobs = []
        for path in self.jobs_dir.glob("*.json"):
            with contextlib.suppress(json.JSONDecodeError, OSError):
                jobs.append(json.loads(path.read_text(encoding="utf-8")))
        return sorted(jobs, key=lambda j: (j.get("CreationTime", ""), j["TrainingJobName"]), reverse=True)

    def run_training_job(self, name: str) -> dict[str, Any]:
        """Run a created job to the end; returns its final record (``Completed`` or ``Failed`` with a
        ``FailureReason``).  A job that is no longer ``InProgress`` is returned as it is.

        Raises:
            EnvironmentFailure: the machine failed the job (disk full, out of memory): the job is not
                recorded ``Failed`` but stays ``InProgress``, so running again trains it.
        """
        record = self.describe_training_job(name)
        if record["TrainingJobStatus"] != "InProgress":
            return record
        start = time.monotonic()
        record.update(TrainingStartTime=_now(), SecondaryStatus="Training")
        self._save(record)
        log_path = self.jobs_dir / f"{name}.log"
        try:
            with log_path.open("w", encoding="utf-8") as log:
                outcome = self._train(record, lambda line: _log_line(log, line))
        except (ChannelDataError, HyperparameterError) as exc:
            kind = "ClientError" if isinstance(exc, HyperparameterError) else "ClientError: Data"
            record.update(TrainingJobStatus="Failed", SecondaryStatus="Failed", FailureReason=f"{kind}: {exc}")
        except Exception as exc:
            failure = environment_failure(exc, f"training job {name}")
            if failure is not exc:
                # the machine's fault, not the job's: it stays InProgress, and the next run trains it again
                raise failure from exc
            record.update(
                TrainingJobStatus="Failed", SecondaryStatus="Failed", FailureReason=f"AlgorithmError: {_first_line(exc)}"
            )
        else:
            record.update(TrainingJobStatus="Completed", SecondaryStatus="Completed", **outcome)
        end = _now()
        record.update(
            TrainingEndTime=end,
            LastModifiedTime=end,
            TrainingTimeInSeconds=max(1, round(time.monotonic() - start)),
            LogFile=str(log_path.absolute()),
        )
        self._save(record)
        return record

    # -- training ------------------------------------------------------------------------------
    def _train(self, record: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
        version = image_version(record["AlgorithmSpecification"]["TrainingImage"])
        trained_by = check_xgboost(version)
        import xgboost as xgb

        hp = parse_hyperparameters(record.get("HyperParameters", {}), version)
        channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in record["InputDataConfig"]}
        if "train" not in channels:
            raise ChannelDataError("the train channel is required")
        matrices = {name: _load_channel(name, uri, hp) for name, uri in channels.items()}
        dtrain = matrices["train"]
        evals = [(dtrain, "train")] + ([(matrices["validation"], "validation")] if "validation" in matrices else [])
        if "_kfold" in hp.validated:
            raise HyperparameterError(
                ["_kfold (the container's cross-validation mode: one model per fold, no xgboost-model) is not emulated locally"],
                "leave _kfold out, or train on SageMaker (--backend sagemaker)",
            )
        # the container's evaluation: its own metrics through one function, the rest as eval_metric, early
        # stopping on the tuning metric's or eval_metric's last name (container_metrics)
        tuning = hp.validated.get("_tuning_objective_metric")
        plan = plan_metrics(hp.eval_metrics or None, str(tuning) if tuning else None)
        params = {k: v for k, v in hp.params.items() if k != "eval_metric"}  # as the container passes them: no defaults of ours
        if plan.native:
            params["eval_metric"] = plan.native
        extra: dict[str, Any] = {}
        if plan.custom:
            # 3.0-5 passes custom_metric (raw margins), 1.7-1 feval (transformed predictions)
            extra["custom_metric" if version == DEFAULT_IMAGE_VERSION else "feval"] = evaluation_function(plan.custom)
        name = record["TrainingJobName"]
        history: dict[str, dict[str, list[float]]] = {}
        log(
            f"training {name}: {dtrain.num_row()} train rows, {dtrain.num_col()} features, {hp.num_round} rounds, "
            f"XGBoost {trained_by} (served by {serving_image_name(version)})"
        )
        callbacks: list[Any] = []
        if hp.early_stopping_rounds and len(evals) > 1 and plan.stop_on:
            # the container's callback.py: stop on that metric of the validation channel and keep the best
            # iteration (save_best), so the saved model ends at the best round
            callbacks.append(
                xgb.callback.EarlyStopping(
                    rounds=hp.early_stopping_rounds,
                    data_name="validation",
                    metric_name=plan.stop_on,
                    maximize=plan.stop_on in MAXIMIZE_METRICS,
                    save_best=True,
                )
            )
        with (
            self.reporter.task(f"training {name}", total=hp.num_round, unit="rounds") as advance,
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            callbacks.insert(0, _RoundLogger(log, advance))
            booster = xgb.train(
                params,
                dtrain,
                num_boost_round=hp.num_round,
                evals=evals,
                evals_result=history,
                verbose_eval=False,
                callbacks=callbacks,
                **extra,
            )
        for warning in caught:  # xgboost's warnings go to the job's log, not to the user's terminal
            log(f"warning: {_first_line(Exception(str(warning.message)))}")
        out_dir = f"{record['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{name}/output"
        final = {f"{data}:{metric}": float(values[-1]) for data, metrics in history.items() for metric, values in metrics.items()}
        outputs = {
            "metrics": _write_uri(
                f"{out_dir}/metrics.json", (json.dumps({"final": final, "history": history}, indent=2) + "\n").encode()
            )
        }
        plot = _plot_learning_curve(history, title=name)
        if plot:
            outputs["learning_curve"] = _write_uri(f"{out_dir}/learning-curve.png", plot)
        # the archive last: the deployment stage is triggered by model.tar.gz appearing
        archive = _write_uri(f"{out_dir}/{ARCHIVE_NAME}", _model_archive(booster))
        return {
            "XGBoostVersion": trained_by,
            "ServingImage": serving_image_name(version),
            "FinalMetricDataList": [{"MetricName": k, "Value": v, "Timestamp": _now()} for k, v in final.items()],
            "ModelArtifacts": {"S3ModelArtifacts": archive},
            "OutputFiles": outputs,
        }

    def _record_path(self, name: str) -> Path:
        if not is_valid_job_name(name):
            raise TrainingJobNotFoundError(f"{name!r} is not a valid training job name", "names match [a-zA-Z0-9-]{1,63}")
        return self.jobs_dir / f"{name}.json"

    def _save(self, record: dict[str, Any]) -> None:
        path = self._record_path(record["TrainingJobName"])
        LocalStore(path.parent).write_bytes(path.name, json.dumps(record, indent=2).encode("utf-8"))


class _RoundLogger:
    """An xgboost callback that logs each round in the container's format and advances a progress bar."""

    def __new__(cls, log: Callable[[str], None], advance: Callable[[float], None]) -> Any:
        import xgboost as xgb

        class RoundLogger(xgb.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                parts = [
                    f"{data}-{metric}:{values[-1]:.5f}"
                    for data, metrics in evals_log.items()
                    for metric, values in metrics.items()
                ]
                log("\t".join([f"[{epoch}]", *parts]))
                advance(1)
                return False

        return RoundLogger()


def _load_channel(name: str, uri: str, hp: ParsedHyperparameters) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import xgboost as xgb

    files = _channel_files(name, uri)
    if not files:
        raise ChannelDataError(f"the {name} channel at {uri} has no data files")
    tables = []
    for rel, read in files:
        data = read()
        if not data:
            continue
        try:
            table = pacsv.read_csv(pa.py_buffer(data), read_options=pacsv.ReadOptions(autogenerate_column_names=True))
        except pa.ArrowInvalid as exc:
            raise ChannelDataError(f"{name} channel file {rel}: {_first_line(exc)}") from None
        bad = [
            i
            for i, t in enumerate(table.schema.types)
            if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t))
        ]
        if bad:
            raise ChannelDataError(f"{name} channel file {rel}: column {bad[0]} is not numeric")
        tables.append(table)
    if not tables:
        raise ChannelDataError(f"the {name} channel at {uri} is empty (0 bytes)")
    widths = {t.num_columns for t in tables}
    if len(widths) > 1:
        raise ChannelDataError(f"the {name} channel's files have different column counts: {sorted(widths)}")
    matrix = np.concatenate(
        [np.column_stack([c.to_numpy(zero_copy_only=False).astype(np.float32) for c in t.columns]) for t in tables]
    )
    first_feature = 2 if hp.csv_weights else 1
    if matrix.shape[1] <= first_feature:
        raise ChannelDataError(f"the {name} channel has no feature columns")
    label = matrix[:, 0]
    if np.isnan(label).any():
        raise ChannelDataError(f"the {name} channel has rows without a label (column 0 is empty)")
    _check_labels(name, label, hp)
    weight = matrix[:, 1] if hp.csv_weights else None
    return xgb.DMatrix(matrix[:, first_feature:], label=label, weight=weight, missing=np.nan, nthread=-1)


def _check_labels(name: str, label: Any, hp: ParsedHyperparameters) -> None:
    problem = label_problem(label, hp.objective, hp.num_class)
    if problem:
        row, reason = problem
        raise ChannelDataError(f"{reason} (row {row + 1} of the {name} channel)")


def _channel_files(name: str, uri: str) -> list[tuple[str, Callable[[], bytes]]]:
    """The channel's data files as ``(relative name, reader)``, by the container's rules: every object
    under the prefix up to 3 folder levels deep, names starting with ``_`` skipped, ``.`` refused."""
    found: list[tuple[str, Callable[[], bytes]]] = []
    if uri.startswith("s3://"):
        from model_training.output.storage import S3Store, parse_s3_uri

        bucket, prefix = parse_s3_uri(uri)
        store = S3Store(bucket)
        for key in store.list(prefix):
            found.append((key[len(prefix.rstrip("/")) + 1 :], functools.partial(store.read_bytes, key)))
    else:
        root = path_from_uri(uri)
        if root.is_file():
            return [(root.name, root.read_bytes)]
        if not root.is_dir():
            raise ChannelDataError(f"the {name} channel folder {root} does not exist")
        for path in sorted(root.rglob("*")):
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path.read_bytes))
    files = []
    for rel, read in sorted(found):
        parts = rel.split("/")
        if len(parts) > _MAX_CHANNEL_DEPTH + 1 or any(part.startswith("_") for part in parts):
            continue
        if any(part.startswith(".") for part in parts):
            raise ChannelDataError(f"the {name} channel holds a hidden file {rel!r}, which fails the container")
        files.append((rel, read))
    return files


def _write_uri(uri: str, data: bytes) -> str:
    """Write ``data`` at a ``file://`` URI (atomically, :class:`~model_training.output.storage.LocalStore`) or an
    ``s3://`` URI (an :class:`~model_training.output.storage.S3Store` with its default ``AES256`` encryption, not the
    run's ``MODEL_TRAINING_SSE`` settings); returns the URI."""
    if uri.startswith("s3://"):
        from model_training.output.storage import S3Store, parse_s3_uri

        bucket, key = parse_s3_uri(uri)
        S3Store(bucket).write_bytes(key, data)
        return uri
    path = path_from_uri(uri)
    return LocalStore(path.parent).write_bytes(path.name, data).uri


def _model_archive(booster: Any) -> bytes:
    """``model.tar.gz`` holding the single file ``xgboost-model``, saved as the container saves it
    (``Booster.save_model`` on a path without extension: the installed release's default format), byte-stable
    for a model."""
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / MODEL_FILE
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Saving model in the UBJSON format as default": as the container does
            booster.save_model(str(model_path))
        buf = io.BytesIO()
        # the gzip header holds a time too: 0, so one model gives one archive, byte for byte
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as packed, tarfile.open(fileobj=packed, mode="w") as tar:
            info = tar.gettarinfo(str(model_path), arcname=MODEL_FILE)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with model_path.open("rb") as fh:
                tar.addfile(info, fh)
        return buf.getvalue()


def _plot_learning_curve(history: dict[str, dict[str, list[float]]], title: str) -> bytes | None:
    """A PNG of every metric per round, train and validation side by side (``None`` without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    metrics = sorted({m for series in history.values() for m in series})
    if not metrics:
        return None
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for data, series in history.items():
            if metric in series:
                ax.plot(range(len(series[metric])), series[metric], label=data)
        ax.set_xlabel("round")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def _log_line(log: io.TextIOBase, line: str) -> None:
    log.write(line + "\n")
    log.flush()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    # xgboost prefixes its errors with "[hh:mm:ss] /path/file.cc:123: Check failed: ..."
    line = re.sub(r"^\[[0-9:]+\] \S+:\d+: (Check failed: )?", "", line)
    return line[:500]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
