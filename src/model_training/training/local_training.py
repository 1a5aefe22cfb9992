"""A local job's training: SageMaker's built-in XGBoost algorithm emulated in-process with the real xgboost
library, for the job's image's own XGBoost release (:func:`~model_training.training.xgboost_release.check_xgboost`).
Tests compare our channels, logs and models with the container's own code under the image's pinned libraries.

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
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from model_training.algorithm.hyperparameter_rules import MAXIMIZE_METRICS
from model_training.algorithm.hyperparameters import ParsedHyperparameters, parse_hyperparameters
from model_training.algorithm.images import image_version, serving_image_name
from model_training.errors import HyperparameterError, Setting
from model_training.progress import Reporter
from model_training.training.container_metrics import METRIC_ARGUMENT, evaluation_function, plan_metrics
from model_training.training.failures import ChannelDataError, first_line
from model_training.training.local_channels import load_channel
from model_training.training.local_warnings import captured_warnings
from model_training.training.model_artifacts import ARCHIVE_NAME, learning_curve_png, model_archive, write_uri
from model_training.training.xgboost_import import import_xgboost
from model_training.training.xgboost_release import check_xgboost


@dataclass(frozen=True)
class TrainedModel:
    """What a job's training produced.

    Attributes:
        xgboost_version: the XGBoost release that trained the model (``3.0.5``).
        serving_image: the image that must serve it (``sagemaker-xgboost:3.0-5``).
        final_metrics: each ``{channel}:{metric}``'s value at the last round evaluated (``metrics.json``'s ``final``).
        model_artifact: the URI of ``model.tar.gz``.
        output_files: the URIs of ``metrics`` (``metrics.json``) and, with matplotlib, ``learning_curve`` (a PNG).
        stopped: whether ``watch`` stopped the training before its last round (the model is the one trained
            until then, as a job stopped by SageMaker saves it).
    """

    xgboost_version: str
    serving_image: str
    final_metrics: dict[str, float]
    model_artifact: str
    output_files: dict[str, str]
    stopped: bool = False


#: The evaluation history after a round: channel (``train``, ``validation``) -> metric -> one value per round.
History: TypeAlias = Mapping[str, Mapping[str, Sequence[float]]]
#: Reads a channel (its name, its URI, the job's hyperparameters) as an ``xgboost.DMatrix``.
Loader: TypeAlias = Callable[[str, str, ParsedHyperparameters], Any]
#: Called after each boosting round (0-based) with the history so far; ``True`` stops the training there.
Watch: TypeAlias = Callable[[int, History], bool]


def train_model(
    record: dict[str, Any],
    log: Callable[[str], None],
    reporter: Reporter,
    *,
    watch: Watch | None = None,
    nthread: int | None = None,
    loader: Loader = load_channel,
    save_outputs: bool = True,
) -> TrainedModel:
    """Train the job of ``record`` (a ``DescribeTrainingJob``-shaped record of a created job) as the container
    would, logging each round to ``log`` and advancing a progress task of ``reporter`` per round; writes the
    model archive (last), ``metrics.json`` and the learning curve under ``{S3OutputPath}/{TrainingJobName}/output``.

    ``watch`` sees each round after it is logged and may stop the training (a tuning job's early stopping);
    ``nthread`` is XGBoost's thread count when the hyperparameters set none (trials of a tuning job share the
    machine's cores).  Neither changes the job's record: the model is the same for any ``nthread`` up to
    floating-point summation order.  ``loader`` reads a channel (``name``, ``uri``, hyperparameters) as an
    ``xgboost.DMatrix``; ``save_outputs`` ``False`` trains without writing anything (``model_artifact`` and
    ``output_files`` empty): a worker of a job of several instances that is not its master
    (:mod:`~model_training.training.local_distributed`).

    Warnings are captured per thread (:func:`~model_training.training.local_warnings.captured_warnings`), so
    that jobs may train in parallel threads.

    Raises:
        XGBoostVersionError: the installed XGBoost is not the image's (:func:`check_xgboost`).
        HyperparameterError: the hyperparameters break the container's rules, or ask for ``_kfold``.
        ChannelDataError: a channel's data cannot be used, or there is no ``train`` channel.
        Exception: what XGBoost raises (the job fails with it as an ``AlgorithmError``).
    """
    version = image_version(record["AlgorithmSpecification"]["TrainingImage"])
    trained_by = check_xgboost(version)
    xgb = import_xgboost()

    hp = parse_hyperparameters(record.get("HyperParameters", {}), version)
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in record["InputDataConfig"]}
    if "train" not in channels:
        raise ChannelDataError("the train channel is required")
    matrices = {name: loader(name, uri, hp) for name, uri in channels.items()}
    dtrain = matrices["train"]
    evals = [(dtrain, "train")] + ([(matrices["validation"], "validation")] if "validation" in matrices else [])
    if "_kfold" in hp.validated:
        raise HyperparameterError(
            ["_kfold (the container's cross-validation mode: one model per fold, no xgboost-model) is not emulated locally"],
            ("leave _kfold out, or train on SageMaker (", Setting("backend", "sagemaker"), ")"),
        )
    # the container's evaluation: its own metrics through one function, the rest as eval_metric, early
    # stopping on the tuning metric's or eval_metric's last name (container_metrics)
    tuning = hp.validated.get("_tuning_objective_metric")
    plan = plan_metrics(hp.eval_metrics or None, str(tuning) if tuning else None)
    params = {k: v for k, v in hp.params.items() if k != "eval_metric"}  # as the container passes them: no defaults of ours
    if nthread is not None and "nthread" not in params:
        params["nthread"] = nthread
    if plan.native:
        params["eval_metric"] = plan.native
    extra: dict[str, Any] = {}
    if plan.custom:
        extra[METRIC_ARGUMENT[version]] = evaluation_function(plan.custom)
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
    stopped: list[int] = []

    def watched(epoch: int, evals_log: History) -> bool:
        if watch is not None and watch(epoch, evals_log):
            stopped.append(epoch)
            return True
        return False

    with (
        reporter.task(f"training {name}", total=hp.num_round, unit="rounds") as advance,
        captured_warnings() as caught,
    ):
        callbacks.insert(0, _RoundLogger(log, advance, watched))
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
        log(f"warning: {first_line(Exception(str(warning.message)))}")
    out_dir = f"{record['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{name}/output"
    final = {f"{data}:{metric}": float(values[-1]) for data, metrics in history.items() for metric, values in metrics.items()}
    stopped_early = bool(stopped) and stopped[-1] + 1 < hp.num_round  # a stop after the last round stops nothing
    if not save_outputs:
        return TrainedModel(trained_by, serving_image_name(version), final, "", {}, stopped_early)
    outputs = {
        "metrics": write_uri(
            f"{out_dir}/metrics.json", (json.dumps({"final": final, "history": history}, indent=2) + "\n").encode()
        )
    }
    plot = learning_curve_png(history, title=name)
    if plot:
        outputs["learning_curve"] = write_uri(f"{out_dir}/learning-curve.png", plot)
    # the archive last: the deployment stage is triggered by model.tar.gz appearing
    archive = write_uri(f"{out_dir}/{ARCHIVE_NAME}", model_archive(booster))
    return TrainedModel(
        xgboost_version=trained_by,
        serving_image=serving_image_name(version),
        final_metrics=final,
        model_artifact=archive,
        output_files=outputs,
        stopped=stopped_early,
    )


class _RoundLogger:
    """An xgboost callback that logs each round in the container's format, advances a progress bar, then
    asks ``watch`` whether to stop (one callback: xgboost runs its callbacks in no fixed order and stops at the
    first that says stop, so a separate one could stop before the round is logged)."""

    def __new__(cls, log: Callable[[str], None], advance: Callable[[float], None], watch: Watch) -> Any:
        import_xgboost()  # the first import without scikit-learn and pandas; then xgboost.callback is there
        from xgboost.callback import TrainingCallback

        class RoundLogger(TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                parts = [
                    f"{data}-{metric}:{values[-1]:.5f}"
                    for data, metrics in evals_log.items()
                    for metric, values in metrics.items()
                ]
                log("\t".join([f"[{epoch}]", *parts]))
                advance(1)
                return watch(epoch, evals_log)

        return RoundLogger()
