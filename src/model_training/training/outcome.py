"""A SageMaker training job's outcome, recorded in its run's ``run.json`` when SageMaker says the job changed
state (its EventBridge event, decoded by :mod:`~model_training.job_events`).

Nothing the event says is trusted but the job's name.  The job is described (``DescribeTrainingJob``) and its tags
listed (``ListTags``), and it is taken for one of this stage's only if all of these hold:

1. its tags are the ones :func:`~model_training.training.jobs.training_request` sets: ``Project=MLOps``, a
   ``RunId`` of 16 hex digits and a ``Source``;
2. its run folder, the folder ``.../{RunId}`` of its ``Testing`` tag's test file (or, when the run has no single
   test file and so no such tag, of the job's own ``train`` channel), is in the data bucket, under the input prefix;
3. that folder's ``run.json`` exists and ties it to the job: the same run id, the job name derived from that run id
   and dataset name (:func:`~model_training.training.naming.job_name`), the ``Source`` tag of its source's URI, the
   ``Testing`` tag of its test file, and the ``train`` channel of its run folder.

A job that fails one is skipped with the reason (another environment's or another team's job, a run deleted since):
never an error, since no retry can change it.  The same checks tie a hyperparameter tuning job to its run
(:func:`run_of` with the tuning job's name and ``TrainingJobDefinition``, from
:mod:`~model_training.training.tuning_events`); a training job that a tuning job started is skipped before them.

Recording follows :func:`~model_training.training.jobs.outcome_update`: a final status is never replaced by an
earlier one, and a record that would not change is not rewritten.  The write happens under the run's claim
(:mod:`~model_training.output.claims`, as the split and the job's creation do), after reading ``run.json`` and
describing the job once more, so that of concurrent deliveries one writes and the others find the record settled;
``run.json`` is then read back and verified (:func:`~model_training.output.commit.write_record`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from model_training.output import claims
from model_training.output.commit import read_record, write_record
from model_training.output.runrecord import RUN_RECORD_NAME, RunRecord
from model_training.ports import Store
from model_training.progress import NullReporter
from model_training.tags import tag_value
from model_training.training.jobs import PROJECT, outcome_update
from model_training.training.naming import job_name as make_job_name

#: A ``RunId`` tag: the run id, 16 lowercase hex digits (:data:`~model_training.output.runrecord.RUN_ID_LENGTH`).
RUN_ID = re.compile(r"[0-9a-f]{16}")


class JobReader(Protocol):
    """What recording an outcome reads of a backend (:class:`~model_training.training.sagemaker.SageMakerBackend`)."""

    backend_name: str

    def find_training_job(self, name: str) -> dict[str, Any] | None: ...

    def job_tags(self, arn: str) -> dict[str, str]: ...


@dataclass(frozen=True)
class Outcome:
    """What recording a job's outcome (a training job's, or a tuning job's) did.

    Attributes:
        status: ``recorded`` (``run.json`` rewritten), ``unchanged`` (it holds that outcome already, or a final
            status the job's state would take back) or ``skipped`` (not one of this stage's jobs: ``reason``).
        job_name: the job's name.
        reason: why it was skipped.
        run_id: the run the job belongs to.
        run_record: the URI of that run's ``run.json``.
        record: the run record as written, or as found.
        copied_to: a tuning job's best model's destination, when this delivery recorded the copy there (made by it,
            or found made by a delivery that stopped before recording it: :mod:`~model_training.training.tuning_events`).
    """

    status: Literal["recorded", "unchanged", "skipped"]
    job_name: str
    reason: str | None = None
    run_id: str | None = None
    run_record: str | None = None
    record: RunRecord | None = None
    copied_to: str | None = None


class NotOurs(Exception):
    """The job is not one of this stage's (the message says why)."""


def record_training_outcome(
    name: str,
    *,
    jobs: JobReader,
    store: Store,
    bucket: str,
    input_prefix: str,
    time_left: Callable[[], float] | None = None,
) -> Outcome:
    """Record the state of training job ``name`` in its run's ``run.json`` (see the module's documentation).

    A training job of a hyperparameter tuning job (its ``DescribeTrainingJob`` has a ``TuningJobArn``: SageMaker
    copies the tuning job's tags, the run's, to it) is skipped with the reason: the search's outcome is recorded
    when the tuning job's own state-change event comes (:mod:`~model_training.training.tuning_events`).

    Args:
        jobs: describes the job and lists its tags.
        store: the data bucket (``bucket``), at its top: run folders are looked up by key.
        input_prefix: the stage's input prefix (``automl/``); runs outside it are not this stage's.
        time_left: seconds left in the Lambda invocation, for waiting on the run's claim (``None``: no budget).

    Raises:
        RunBusyError: another delivery holds the run's claim beyond the wait (retryable).
        TransientError: ``run.json`` did not read back as written (retryable).
        Exception: AWS faults after boto3's retries (the caller decides whether they are transient).
    """
    described = jobs.find_training_job(name)
    if described is None:
        return Outcome("skipped", name, reason=f"training job {name} does not exist in this account and region")
    job: dict[str, Any] = described
    if job.get("TuningJobArn"):
        tuning = str(job["TuningJobArn"]).rsplit("/", 1)[-1]
        return Outcome("skipped", name, reason=f"a trial of tuning job {tuning}; the search's outcome is recorded when it ends")
    tags = jobs.job_tags(str(job["TrainingJobArn"]))
    facts = JobFacts("training job", name, make_job_name, channel_uri(job, "train"))
    try:
        prefix, record = run_of(facts, tags, store, bucket=bucket, input_prefix=input_prefix)
    except NotOurs as exc:
        return Outcome("skipped", name, reason=str(exc))
    record_key = f"{prefix}/{RUN_RECORD_NAME}"
    uri = store.uri(record_key)
    found = Outcome("unchanged", name, run_id=record.run_id, run_record=uri, record=record)
    if outcome_update(record, job, jobs.backend_name) is None:
        return found
    store = run_store(store, record)
    what = f"run {record.run_id} (recording training job {name})"

    def settled(now: RunRecord) -> bool:
        return outcome_update(now, job, jobs.backend_name) is None

    with run_claimed(store, prefix, record, what=what, settled=settled, time_left=time_left) as held:
        if held is None:  # another delivery recorded it while this one waited
            settled_record = read_record(store, record_key, NullReporter())
            return Outcome("unchanged", name, run_id=record.run_id, run_record=uri, record=settled_record)
        record = held
        job = jobs.find_training_job(name) or job  # SageMaker's latest word on the job
        updated = outcome_update(record, job, jobs.backend_name)
        if updated is None:
            return Outcome("unchanged", name, run_id=record.run_id, run_record=uri, record=record)
        write_record(store, record_key, updated)
    return Outcome("recorded", name, run_id=updated.run_id, run_record=uri, record=updated)


@contextmanager
def run_claimed(
    store: Store,
    prefix: str,
    record: RunRecord,
    *,
    what: str,
    settled: Callable[[RunRecord], bool],
    time_left: Callable[[], float] | None,
) -> Iterator[RunRecord | None]:
    """Hold the claim of the run under ``prefix`` (:func:`~model_training.output.claims.acquire`) while the caller
    updates its ``run.json``: yields the record read again under the claim (``record`` if it cannot be read), or
    ``None`` when another delivery left it ``settled`` while this one waited for the claim (nothing is left to do;
    the claim is not held).  The claim is released however the block ends.

    Raises:
        RunBusyError: another delivery holds the claim beyond the wait (retryable).
    """
    record_key = f"{prefix}/{RUN_RECORD_NAME}"

    def done() -> bool:
        now = read_record(store, record_key, NullReporter())
        return now is not None and settled(now)

    claim = claims.acquire(store, prefix, time_left=time_left, done=done, what=what)
    if claim is None:
        yield None
        return
    try:
        yield read_record(store, record_key, NullReporter()) or record
    finally:
        claim.release()


@dataclass(frozen=True)
class JobFacts:
    """What the ownership checks read of a job SageMaker describes (never of its event).

    Attributes:
        kind: ``training job`` or ``tuning job``, for the reasons given.
        name: its ``TrainingJobName`` or ``HyperParameterTuningJobName``.
        derive_name: the name this stage gives the job of a run, from the dataset's name and the run id
            (:func:`~model_training.training.naming.job_name`, :func:`~model_training.training.naming.tuning_job_name`).
        train_channel: the ``S3Uri`` of its ``train`` channel (a tuning job's: its ``TrainingJobDefinition``'s).
    """

    kind: str
    name: str
    derive_name: Callable[[str, str], str]
    train_channel: str | None


def run_of(job: JobFacts, tags: dict[str, str], store: Store, *, bucket: str, input_prefix: str) -> tuple[str, RunRecord]:
    """The run folder ``job``'s tags name and its ``run.json``, once both tie the job to a run of this stage (the
    module's documentation, steps 1 to 3).

    Returns:
        The run folder's key in ``store`` and its run record, as read.

    Raises:
        NotOurs: a check fails (the message names which, and the job).
    """
    prefix = _run_prefix(job, tags, bucket=bucket, input_prefix=input_prefix)
    record_key = f"{prefix}/{RUN_RECORD_NAME}"
    record = read_record(store, record_key, NullReporter())
    if record is None:
        raise NotOurs(f"{store.uri(record_key)} does not exist: {job.kind} {job.name}'s tags name no run of this stage")
    _check_record(record, job, tags, store, prefix)
    return prefix, record


def run_store(store: Store, record: RunRecord) -> Store:
    """``store`` tagging what it writes with the run's lineage, as the run wrote its ``run.json``."""
    return store.with_tags({"RunId": record.run_id, "SourceObject": str(record.source["uri"])})


def _run_prefix(job: JobFacts, tags: dict[str, str], *, bucket: str, input_prefix: str) -> str:
    """The key of the run folder that ``job``'s tags name (``{input prefix}.../{RunId}``), in ``bucket``.

    Raises:
        NotOurs: the tags are not the stage's, or name a folder elsewhere (another bucket, outside the prefix).
    """
    what = f"{job.kind} {job.name}"
    run_id = tags.get("RunId", "")
    if tags.get("Project") != PROJECT or not RUN_ID.fullmatch(run_id) or not tags.get("Source"):
        raise NotOurs(
            f"{what} was not started by this stage: its tags lack Project={PROJECT}, a RunId of 16 hex digits or a Source"
        )
    where = tags.get("Testing") or job.train_channel
    if not where or not where.startswith("s3://"):
        raise NotOurs(f"{what} names no run folder in S3 (neither a Testing tag nor a train channel)")
    found, _, key = where[len("s3://") :].partition("/")
    if found != bucket:
        raise NotOurs(f"{what}'s run is in bucket {found}, not in the data bucket {bucket}: another stage's")
    head, marker, _ = ("/" + key).rpartition(f"/{run_id}/")
    prefix = f"{head}/{run_id}".lstrip("/")
    if not marker or not prefix.startswith(input_prefix):
        raise NotOurs(f"{what}'s run folder {where} is not a folder {input_prefix}.../{run_id}/ of this stage")
    return prefix


def channel_uri(job: dict[str, Any], channel: str) -> str | None:
    """The ``S3Uri`` of ``job``'s input channel ``channel`` (``InputDataConfig``), if it has one."""
    for item in job.get("InputDataConfig") or []:
        if isinstance(item, dict) and item.get("ChannelName") == channel:
            uri = item.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri")
            return str(uri) if uri else None
    return None


def run_record_uri(job: dict[str, Any]) -> str | None:
    """Where the run record of a job this stage started is: ``run.json`` in the folder of its ``train`` channel
    (``s3://...`` on SageMaker, ``file://...`` for a local job), or ``None`` for a job without one."""
    train = channel_uri(job, "train")
    if not train or "/" not in train.rstrip("/"):
        return None
    return f"{train.rstrip('/').rsplit('/', 1)[0]}/{RUN_RECORD_NAME}"


def _check_record(record: RunRecord, job: JobFacts, tags: dict[str, str], store: Store, prefix: str) -> None:
    """Refuse a run record that does not tie ``job`` to its run (see the module's documentation, step 3).

    Raises:
        NotOurs: the first of the record's facts that disagrees with the job, named.
    """
    what = f"{job.kind} {job.name}"
    where = store.uri(f"{prefix}/{RUN_RECORD_NAME}")
    if record.run_id != tags["RunId"]:  # first: the job name below is derived from the record's run id
        raise NotOurs(f"{where} is the record of run {record.run_id!r}, not of {what}'s {tags['RunId']!r}")
    test = record.files.get("test")
    expected = {
        "job name": (job.derive_name(str(record.source.get("name", "")), record.run_id), job.name),
        "Source tag": (tag_value(str(record.source.get("uri", ""))), tags["Source"]),
        "Testing tag": (test.uri if test else None, tags.get("Testing")),
        "train channel": (store.uri(f"{prefix}/train") + "/" if record.splits["train"].rows else None, job.train_channel),
    }
    for fact, (recorded, said) in expected.items():
        if recorded != said:
            raise NotOurs(f"{where} does not match {what}: its {fact} is {recorded!r}, the job's {said!r}")
