"""A SageMaker hyperparameter tuning job's outcome, recorded in its run's ``run.json`` when SageMaker says the job
changed state (its ``SageMaker HyperParameter Tuning Job State Change`` event, decoded by
:mod:`~model_training.job_events`), and, for a completed search, its best model copied once to where the
deployment stage looks.

Nothing the event says is trusted but the tuning job's name.  The job is described
(``DescribeHyperParameterTuningJob``), its tags listed (``ListTags``) and it is tied to its run by the checks a
training job passes (:func:`~model_training.training.outcome.run_of`): the tags the run's jobs carry, a run folder
under the input prefix of the data bucket, and that folder's ``run.json`` naming the same run id, the tuning job
name derived from it (:func:`~model_training.training.naming.tuning_job_name`), the ``Source`` and ``Testing`` tags
and the ``train`` channel of the job's ``TrainingJobDefinition``.  A job that fails one is skipped with the reason.
Its training jobs (the trials) are listed (``ListTrainingJobsForHyperParameterTuningJob``).

Recording is :func:`~model_training.training.tuning_outcome.settle_tuning`'s: the ``tuning`` section of the
description and the trials, the best model copied when the search has completed (a ``HeadObject`` first, then a
``CopyObject`` conditional on the destination's absence: a copy made once is never made again), ``run.json``
rewritten atomically and read back, never going back from a final status, not rewritten when nothing changes.  It
runs under the run's claim (:mod:`~model_training.output.claims`), after reading ``run.json``, describing the job
and listing its trials once more, so that of concurrent deliveries one records and copies and the others find the
record settled: two ``Completed`` events at once make one copy, and an ``InProgress`` event after ``Completed``
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from model_training.errors import TrainingJobNotFoundError
from model_training.output.commit import read_record
from model_training.output.runrecord import RUN_RECORD_NAME, RunRecord, TuningRecord
from model_training.ports import Store
from model_training.progress import NullReporter
from model_training.training.jobs import TrainingTarget
from model_training.training.naming import tuning_job_name
from model_training.training.outcome import JobFacts, NotOurs, Outcome, channel_uri, run_claimed, run_of, run_store
from model_training.training.tuning_outcome import (
    ModelCopier,
    is_final,
    is_settled,
    needs_copy,
    settle_tuning,
    tuning_record,
)


class TuningReader(Protocol):
    """What recording a search's outcome reads of a backend (:class:`~model_training.training.sagemaker.SageMakerBackend`)."""

    backend_name: str

    def describe_hyper_parameter_tuning_job(self, name: str) -> dict[str, Any]: ...

    def list_training_jobs_for_hyper_parameter_tuning_job(self, name: str) -> list[dict[str, Any]]: ...

    def job_tags(self, arn: str) -> dict[str, str]: ...


def record_tuning_event(
    name: str,
    *,
    jobs: TuningReader,
    store: Store,
    bucket: str,
    input_prefix: str,
    model_output_root: str,
    time_left: Callable[[], float] | None = None,
) -> Outcome:
    """Record the state of tuning job ``name`` in its run's ``run.json`` and, once it has completed, copy its best
    model (see the module's documentation).

    Args:
        jobs: describes the tuning job, lists its tags and its training jobs.
        store: the data bucket (``bucket``), at its top: run folders are looked up by key.
        input_prefix: the stage's input prefix (``automl/``); runs outside it are not this stage's.
        model_output_root: ``s3://{model-output bucket}``: the best model goes to
            ``{root}/{YYYY-MM-DD}/output/{best TrainingJobName}/output/model.tar.gz``, encrypted as the trials' models
            are (the definition's ``OutputDataConfig.KmsKeyId``; without one, the bucket's default encryption).
        time_left: seconds left in the Lambda invocation, for waiting on the run's claim (``None``: no budget).

    Returns:
        The outcome: ``recorded``, ``unchanged`` or ``skipped`` (with the reason), its ``record`` the run record
        as written or found; ``copied_to`` the best model's destination when this delivery copied it.

    Raises:
        RunBusyError: another delivery holds the run's claim beyond the wait (retryable).
        TransientError: ``run.json`` did not read back as written, or a concurrent copy conflicted (retryable).
        TrainingJobError: the search's best training job is not one of its own, or its model is missing or larger
            than one ``CopyObject`` copies.
        ConfigurationError: S3 refused the copy (the permissions it needs named).
        Exception: AWS faults after boto3's retries (the caller decides whether they are transient).
    """
    described = _describe(jobs, name)
    if described is None:
        return Outcome("skipped", name, reason=f"tuning job {name} does not exist in this account and region")
    tags = jobs.job_tags(str(described["HyperParameterTuningJobArn"]))
    definition = described.get("TrainingJobDefinition") or {}
    facts = JobFacts("tuning job", name, tuning_job_name, channel_uri(definition, "train"))
    try:
        prefix, record = run_of(facts, tags, store, bucket=bucket, input_prefix=input_prefix)
    except NotOurs as exc:
        return Outcome("skipped", name, reason=str(exc))
    record_key = f"{prefix}/{RUN_RECORD_NAME}"
    uri = store.uri(record_key)
    trials = jobs.list_training_jobs_for_hyper_parameter_tuning_job(name)
    if _unchanged(record, described, trials, jobs.backend_name):
        return Outcome("unchanged", name, run_id=record.run_id, run_record=uri, record=record)
    job: dict[str, Any] = described
    store = run_store(store, record)
    what = f"run {record.run_id} (recording tuning job {name})"

    def settled(now: RunRecord) -> bool:
        return _unchanged(now, job, trials, jobs.backend_name)

    with run_claimed(store, prefix, record, what=what, settled=settled, time_left=time_left) as held:
        if held is None:  # another delivery recorded it while this one waited
            settled_record = read_record(store, record_key, NullReporter())
            return Outcome("unchanged", name, run_id=record.run_id, run_record=uri, record=settled_record)
        record = held
        job = _describe(jobs, name) or job  # SageMaker's latest word on the job
        trials = jobs.list_training_jobs_for_hyper_parameter_tuning_job(name)
        if _unchanged(record, job, trials, jobs.backend_name):
            return Outcome("unchanged", name, run_id=record.run_id, run_record=uri, record=record)
        before = record.tuning.model_copied_to if record.tuning and record.tuning.job_name == name else None
        target = TrainingTarget(image=_image(definition), model_output_root=model_output_root)
        copier = ModelCopier(kms_key_id=(definition.get("OutputDataConfig") or {}).get("KmsKeyId"))
        updated = settle_tuning(record, job, trials, jobs.backend_name, store, record_key, target, copier)
    after = updated.tuning.model_copied_to if updated.tuning else None
    copied = after if after is not None and before is None else None
    return Outcome(
        "unchanged" if updated == record else "recorded",
        name,
        run_id=updated.run_id,
        run_record=uri,
        record=updated,
        copied_to=copied,
    )


def _describe(jobs: TuningReader, name: str) -> dict[str, Any] | None:
    """``DescribeHyperParameterTuningJob`` of ``name``, or ``None`` if there is no such job."""
    try:
        return jobs.describe_hyper_parameter_tuning_job(name)
    except TrainingJobNotFoundError:
        return None


def _unchanged(record: RunRecord, described: Mapping[str, Any], trials: Sequence[Mapping[str, Any]], backend: str) -> bool:
    """Whether ``record`` holds the search as described already with nothing left to copy (a completed search whose
    copy failed is not: the next delivery copies it), or a final status of it that ``described`` would take back (a
    late or stale ``InProgress``): the fast path, taken before and under the claim;
    :func:`~model_training.training.tuning_outcome.settle_tuning` decides the same on writing."""
    held = record.tuning
    if held is None or held.job_name != described.get("HyperParameterTuningJobName"):
        return False
    if is_final(held) and str(described.get("HyperParameterTuningJobStatus")) not in ("Completed", "Failed", "Stopped"):
        return True
    now: TuningRecord = tuning_record(described, trials, backend)
    kept = {key: getattr(held, key) for key in ("model_copied_to", "objective_plot") if getattr(now, key) is None}
    now = now.model_copy(update=kept)
    return now == held and not needs_copy(held) and is_settled(held) == (record.status == "complete")


def _image(definition: Mapping[str, Any]) -> str:
    """The trials' ``TrainingImage`` (a target needs one; the copy reads only its model output root)."""
    return str((definition.get("AlgorithmSpecification") or {}).get("TrainingImage", ""))
