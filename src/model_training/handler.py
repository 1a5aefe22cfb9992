"""The Lambda handler: ``model_training.lambda_handler(event, context)``.

For every object an event names (``events.decode_event``), it splits the object into the data bucket and
starts a SageMaker training job, and returns a JSON summary per object with status ``started``, ``skipped``,
``duplicate``, ``handed off`` (too large or too slow to split here: a SageMaker Processing job splits it and starts
the training job, :mod:`~model_training.handoff`) or ``failed``. For SageMaker's ``SageMaker Training Job State
Change`` and ``SageMaker HyperParameter Tuning Job State Change`` events it records the job's state in its run's ``run.json``
(:mod:`~model_training.training.outcome`, :mod:`~model_training.training.tuning_events`: a completed search's
best model is copied once to the model output bucket) and returns a summary per job with status ``recorded``,
``unchanged``, ``skipped`` (not one of this stage's jobs, or a tuning job's trial) or ``failed``. For SQS
events it also returns ``batchItemFailures`` with the message ids that failed (Lambda's partial batch
response), so one bad object never blocks or re-runs the others. For S3 and EventBridge events, a failure that
a retry can cure (throttling, a 5xx, a timeout) is raised after every record has been handled, so Lambda's
asynchronous retry runs the event again; the records that succeeded then report ``duplicate``. Bad input is
reported, not retried.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from model_training.aws import is_transient
from model_training.config.settings import StageSettings, resolve_targets, settings_from_env, ssm_layer, training_limits
from model_training.errors import ModelTrainingError, RetryableError, lambda_function
from model_training.events import ObjectRef, decode_event, parse_event_time, skip_reason
from model_training.job_events import JobRef

if TYPE_CHECKING:  # the run configuration's modules (pydantic models) are imported where an object is configured
    from model_training.config.manifest_files import ManifestSource
    from model_training.config.run import RunConfig
    from model_training.handoff import HandOff
    from model_training.training.outcome import Outcome
    from model_training.training.processing_outcome import ProcessingOutcome

logger = Logger(service="model-training")
metrics = Metrics(namespace="ModelTraining", service="model-training")

#: Do not start an object with less time than this left: fail it cleanly instead of being killed mid-upload.
MIN_REMAINING_MS = 30_000


class StepTimer:
    """A pipeline reporter that turns each step (reading, writing train/validation/test) into an EMF
    metric of seconds: ``SecondsReading``, ``SecondsWritingTrain``, ..."""

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None, unit: str = "") -> Iterator[Callable[[float], None]]:
        started = time.monotonic()
        try:
            yield lambda amount: None
        finally:
            words = description.split()
            step = words[:2] if words[0] == "writing" else words[:1]  # "writing train", "reading x.csv"
            name = "Seconds" + "".join(w.capitalize() for w in step)
            metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=round(time.monotonic() - started, 3))

    def info(self, message: str) -> None:
        logger.info(message)


class _NoContext:
    """What Powertools' context injection reads of a Lambda context, for a call without one
    (``lambda_handler(event, None)``, as the original stage's own tests call it).  It has no
    ``get_remaining_time_in_millis``: the work itself is given ``None`` (no time budget)."""

    function_name = "model-training"
    memory_limit_in_mb = 0
    invoked_function_arn = ""
    aws_request_id = ""


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handle an S3, SQS (S3 or SNS-wrapped S3 bodies), SNS, EventBridge S3 or SageMaker job state-change event.

    ``context`` is the Lambda context, or ``None`` (then there is no time budget, and the logs carry
    empty function fields): Powertools' context injection alone would raise ``AttributeError`` on ``None``.

    Returns:
        ``{"results": [...]}`` (one entry per object or skipped record), plus ``batchItemFailures`` for SQS.

    Raises:
        RetryableError: S3/SNS/EventBridge events only, when a record (or a job's outcome) failed for a transient reason.
    """
    return _instrumented(event, _NoContext() if context is None else context)


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def _instrumented(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """:func:`handle` under Powertools' logger context and metrics flush; a :class:`_NoContext` goes on as ``None``."""
    return handle(event, None if isinstance(context, _NoContext) else context)


def handle(event: dict[str, Any], context: Any = None, settings: StageSettings | None = None) -> dict[str, Any]:
    """The handler's work without the Powertools decorators (the CLI's ``invoke`` and tests call it)."""
    settings = settings or settings_from_env()
    decoded = decode_event(event)
    results: list[dict[str, Any]] = []
    failed_items: list[str] = []
    retryable = False
    for item in decoded.items:
        logger.append_keys(item=item.item_id)
        logger.set_correlation_id(item.correlation_id or item.item_id)
        if item.error:
            logger.warning("event item cannot be decoded", extra={"reason": item.error})
            results.append({"item": item.item_id, "status": "failed", "reason": item.error})
            failed_items.append(item.item_id)
            continue
        for reason in item.skipped:
            logger.info("skipped", extra={"reason": reason})
            results.append({"item": item.item_id, "status": "skipped", "reason": reason})
        outcomes = [process_object(ref, settings, context) for ref in item.objects]
        outcomes += [process_job(job, settings, context) for job in item.jobs]
        for result in outcomes:
            result["item"] = item.item_id
            results.append(result)
            if result["status"] == "failed":
                if item.item_id not in failed_items:
                    failed_items.append(item.item_id)
                retryable = retryable or bool(result.get("retryable"))
    response: dict[str, Any] = {"results": results}
    if decoded.kind == "sqs":
        response["batchItemFailures"] = [{"itemIdentifier": i} for i in failed_items]
    elif retryable:
        # names and counts only: a result's reason may quote a value from the data, which never reaches a log
        transient = [
            {"object": r["object"], "version_id": r.get("version_id")} if "object" in r else {"job": r.get("job")}
            for r in results
            if r.get("retryable")
        ]
        logger.error(
            "retryable failure: raising so Lambda retries the event",
            extra={
                "records": len(results),
                "failed": len(failed_items),
                "transient": len(transient),
                "transient_objects": transient,
            },
        )
        raise RetryableError(
            f"{len(transient)} of {len(results)} record(s) failed transiently; the log names them (object and version)"
        )
    return response


def process_object(ref: ObjectRef, settings: StageSettings, context: Any = None) -> dict[str, Any]:
    """Split one object and start its training job; never raises (the outcome is in the result)."""
    from model_training.config.run import DEFAULT_PREFIX_TEMPLATE

    base: dict[str, Any] = {"object": ref.uri, "version_id": ref.version_id}
    reason = skip_reason(ref, DEFAULT_PREFIX_TEMPLATE)
    if not reason and not ref.key.startswith(settings.prefix):
        reason = f"{ref.uri} is not under the input prefix {settings.prefix!r} (MODEL_TRAINING_INPUT_PREFIX): not processed"
    if reason:
        logger.info("skipped", extra={"object": ref.uri, "reason": reason})
        metrics.add_metric(name="ObjectsSkipped", unit=MetricUnit.Count, value=1)
        return {**base, "status": "skipped", "reason": reason}
    remaining = context.get_remaining_time_in_millis() if context is not None else None
    if remaining is not None and remaining < MIN_REMAINING_MS:
        return {**base, "status": "failed", "retryable": True, "reason": f"only {remaining} ms left in this invocation"}
    started = time.monotonic()
    from model_training.handoff import hand_off  # the split's modules: imported by an object that is not skipped
    from model_training.pipeline import run
    from model_training.wiring import lambda_context, object_source

    try:
        targets = resolve_targets(settings)
        if ref.bucket != targets.data_bucket:  # only our own data: the manifest beside it, the splits' bucket
            reason = (
                f"{ref.uri} is not in the data bucket {targets.data_bucket} (named by the SSM parameter "
                f"{settings.data_bucket_name_parameter}): not processed"
            )
            logger.warning("skipped", extra={"object": ref.uri, "reason": reason})
            metrics.add_metric(name="ObjectsSkipped", unit=MetricUnit.Count, value=1)
            return {**base, "status": "skipped", "reason": reason}
        handing_off = bool(settings.processing_image and settings.processing_role_arn)
        source = object_source(ref, None if handing_off else settings.max_object_bytes)  # over it: handed off
        config, manifest = _configuration(source.uri, _run_date(ref), settings)
        time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
        handed = hand_off(source, config, settings, targets, time_left=time_left)
        if handed is not None:
            return _handed_off(base, handed)
        ctx = lambda_context(
            source,
            config,
            settings,
            targets,
            reporter=StepTimer(),
            manifest=manifest.record() if manifest else None,
            time_left=time_left,
        )
        result = run(ctx)
    except ModelTrainingError as exc:
        hint = _short(exc.hint_in(lambda_function))  # settings named by their environment variables and manifest keys
        logger.warning("failed", extra={"object": ref.uri, "error": _short(exc.log_message), "hint": hint})
        metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=1)
        retry = bool(getattr(exc, "retryable", False))  # another delivery holds the run, or the machine failed it
        return {**base, "status": "failed", "retryable": retry, "reason": _short(exc.message), "hint": hint}
    except Exception as exc:  # AWS faults after boto3's retries, the network, or a request AWS refused
        transient = is_transient(exc)
        logger.exception("failed", extra={"object": ref.uri, "retryable": transient})
        metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=1)
        return {**base, "status": "failed", "retryable": transient, "reason": _short(f"{type(exc).__name__}: {exc}")}
    record = result.record
    seconds = time.monotonic() - started
    status = "duplicate" if result.duplicate else "started"
    metrics.add_metric(name="DuplicatesSkipped" if result.duplicate else "JobsStarted", unit=MetricUnit.Count, value=1)
    if not result.duplicate:
        metrics.add_metric(name="RowsSplit", unit=MetricUnit.Count, value=sum(s.rows for s in record.splits.values()))
        metrics.add_metric(name="BytesRead", unit=MetricUnit.Bytes, value=int(record.source.get("size_bytes", 0)))
        metrics.add_metric(name="SecondsPerObject", unit=MetricUnit.Seconds, value=round(seconds, 3))
    logger.info(status, extra={"object": ref.uri, "run_id": record.run_id, "seconds": round(seconds, 3)})
    return {
        **base,
        "status": status,
        "run_id": record.run_id,
        "job_name": record.training.job_name if record.training else None,
        **({"tuning_job_name": record.tuning.job_name} if record.tuning else {}),  # a search instead of one job
        "run_record": f"{result.run_uri}/run.json",
        "outputs": {split: f.uri for split, f in record.files.items()},
    }


def _handed_off(base: dict[str, Any], handed: HandOff) -> dict[str, Any]:
    """A source handed to a processing job, as the handler's result (status ``handed off``); a job found ``Failed``
    or ``Stopped`` (nothing will split the source) is a failure, not retried."""
    if handed.job_status in ("Failed", "Stopped"):
        why = f": {handed.failure_reason}" if handed.failure_reason else ""
        reason = f"processing job {handed.job_name} {handed.job_status}{why}; run {handed.run_id} has no run.json"
        hint = (
            f"run the job's command yourself (model-training run ... --version-id ..., in {handed.record_uri}), "
            "or upload the file again for a new run"
        )
        logger.warning("failed", extra={"object": base["object"], "error": _short(reason), "hint": hint})
        metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=1)
        found = {"run_id": handed.run_id, "processing_job_name": handed.job_name, "handoff_record": handed.record_uri}
        return {**base, "status": "failed", "retryable": False, "reason": _short(reason), "hint": _short(hint), **found}
    metrics.add_metric(name="SplitsHandedOff", unit=MetricUnit.Count, value=1)
    logger.info(
        "handed off",
        extra={"object": base["object"], "run_id": handed.run_id, "job": handed.job_name, "job_created": handed.created},
    )
    return {
        **base,
        "status": "handed off",
        "run_id": handed.run_id,
        "processing_job_name": handed.job_name,
        "created": handed.created,
        "reason": _short(handed.reason),
        "run_record": f"{handed.run_uri}/run.json",
        "handoff_record": handed.record_uri,
    }


def process_job(ref: JobRef, settings: StageSettings, context: Any = None) -> dict[str, Any]:
    """Record the state of the job a SageMaker event names in its run (:func:`~model_training.wiring.record_job_event`);
    never raises (the outcome is in the result: ``recorded``, ``unchanged``, ``skipped`` or ``failed``)."""
    from model_training.wiring import record_job_event

    base: dict[str, Any] = {"job": ref.name, "kind": ref.kind}
    extra = {"job": ref.name, "claimed_status": ref.claimed_status}
    time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
    try:
        if ref.kind == "processing":
            from model_training.handoff import record_processing_event  # only a processing job's event needs it

            return _processing_result(base, extra, record_processing_event(ref, settings))
        outcome = record_job_event(ref, settings, time_left=time_left)
    except ModelTrainingError as exc:
        hint = _short(exc.hint_in(lambda_function))
        logger.warning("failed", extra={**extra, "error": _short(exc.log_message), "hint": hint})
        metrics.add_metric(name="JobOutcomesFailed", unit=MetricUnit.Count, value=1)
        return {**base, "status": "failed", "retryable": exc.retryable, "reason": _short(exc.message), "hint": hint}
    except Exception as exc:  # AWS faults after boto3's retries, the network, or a request AWS refused
        transient = is_transient(exc)
        logger.exception("failed", extra={**extra, "retryable": transient})
        metrics.add_metric(name="JobOutcomesFailed", unit=MetricUnit.Count, value=1)
        return {**base, "status": "failed", "retryable": transient, "reason": _short(f"{type(exc).__name__}: {exc}")}
    if outcome.status == "skipped":
        logger.info("skipped", extra={**extra, "reason": outcome.reason})
        return {**base, "status": "skipped", "reason": _short(outcome.reason or "")}
    if ref.kind == "tuning":
        return _tuning_result(base, extra, outcome)
    training = outcome.record.training if outcome.record else None
    status = training.status if training else None
    metric = "JobOutcomesRecorded" if outcome.status == "recorded" else "JobOutcomesUnchanged"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info(outcome.status, extra={**extra, "run_id": outcome.run_id, "training_status": status})
    return {
        **base,
        "status": outcome.status,
        "run_id": outcome.run_id,
        "run_record": outcome.run_record,
        "training_status": status,
        "failure_reason": _short(training.failure_reason) if training and training.failure_reason else None,
    }


def _processing_result(base: dict[str, Any], extra: dict[str, Any], outcome: ProcessingOutcome) -> dict[str, Any]:
    """A processing job's outcome as the handler's result: ``recorded``, ``unchanged`` or ``skipped``, with the job's
    status and failure reason and its hand-off record."""
    if outcome.status == "skipped":
        logger.info("skipped", extra={**extra, "reason": outcome.reason})
        return {**base, "status": "skipped", "reason": _short(outcome.reason or "")}
    metric = "JobOutcomesRecorded" if outcome.status == "recorded" else "JobOutcomesUnchanged"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info(outcome.status, extra={**extra, "run_id": outcome.run_id, "processing_status": outcome.job_status})
    return {
        **base,
        "status": outcome.status,
        "run_id": outcome.run_id,
        "handoff_record": outcome.record_uri,
        "processing_status": outcome.job_status,
        "failure_reason": _short(outcome.failure_reason) if outcome.failure_reason else None,
    }


def _tuning_result(base: dict[str, Any], extra: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """A tuning job's recorded outcome as the handler's result: the search's status, best training job and objective,
    and where its best model was copied (``copied``: by this delivery)."""
    tuning = outcome.record.tuning if outcome.record else None
    status = tuning.status if tuning else None
    metric = "JobOutcomesRecorded" if outcome.status == "recorded" else "JobOutcomesUnchanged"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    if outcome.copied_to:
        metrics.add_metric(name="BestModelsCopied", unit=MetricUnit.Count, value=1)
    logger.info(
        outcome.status,
        extra={**extra, "run_id": outcome.run_id, "tuning_status": status, "copied_to": outcome.copied_to},
    )
    return {
        **base,
        "status": outcome.status,
        "run_id": outcome.run_id,
        "run_record": outcome.run_record,
        "tuning_status": status,
        "best_training_job": tuning.best_training_job if tuning else None,
        "best_objective": tuning.best_objective if tuning else None,
        "model_copied_to": tuning.model_copied_to if tuning else None,
        "copied": outcome.copied_to is not None,
        "failure_reason": _short(tuning.failure_reason) if tuning and tuning.failure_reason else None,
    }


def _configuration(uri: str, run_date: dt.date, settings: StageSettings) -> tuple[RunConfig, ManifestSource | None]:
    """The run's configuration (environment < SSM < the manifest found for ``uri``) and that manifest.

    Raises:
        ModelTrainingError: every problem of every layer at once (:class:`~model_training.config.problems.Gathering`).
    """
    from model_training.config.manifest_files import find_manifest
    from model_training.config.problems import Gathering
    from model_training.config.resolve import env_settings, resolve

    gathering = Gathering()
    nothing: tuple[dict[str, Any], str | None] = ({}, None)
    ssm, ssm_default = gathering.attempt(lambda: ssm_layer(settings, gathering), nothing)
    manifest = gathering.attempt(lambda: find_manifest(uri, ssm_default=ssm_default), None)
    env = env_settings(gathering=gathering)
    limits = gathering.attempt(lambda: training_limits(settings), None)
    resolution = gathering.attempt(lambda: resolve(run_date=run_date, env=env, ssm=ssm, manifest=manifest, limits=limits), None)
    gathering.check()
    assert resolution is not None
    return resolution.config, manifest


def _short(text: str, limit: int = 2000) -> str:
    """Results and log lines stay small (a Lambda response is at most 6 MB, whatever the data holds)."""
    return text if len(text) <= limit else text[: limit - 20] + f"... ({len(text)} chars)"


def _run_date(ref: ObjectRef) -> dt.date:
    """The run date: the object version's own ``LastModified`` (UTC), from a ``HeadObject`` of the event's
    version.  No delivery changes it, so every announcement of one version (an S3 notification at
    23:59:59.950Z and an EventBridge event at 00:00:00Z) gives one run id, one set of keys and one job.
    The event's ``eventTime`` is used only when the object cannot be read (the read that follows reports
    why), and the clock only when neither is known.

    Raises:
        EventError: that fallback ``eventTime`` is not an ISO-8601 time or lies outside years 1 to 9999 in
            UTC (:func:`~model_training.events.parse_event_time`; decoding refuses such records first).
        Exception: the ``HeadObject`` failed otherwise (throttling, a 5xx after boto3's retries): the
            record is retried, never given another date.
    """
    from model_training import aws

    args = {"Bucket": ref.bucket, "Key": ref.key, **({"VersionId": ref.version_id} if ref.version_id else {})}
    try:
        modified = aws.client("s3").head_object(**args)["LastModified"]
    except Exception as exc:
        if is_transient(exc) or not aws.error_code(exc):
            raise
        if ref.event_time:  # missing, refused or changed: the read that follows says which
            return parse_event_time(ref.event_time).date()
        return dt.datetime.now(dt.UTC).date()
    return modified.astimezone(dt.UTC).date()
