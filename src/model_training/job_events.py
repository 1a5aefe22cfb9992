"""Decode SageMaker's job state-change events (EventBridge, ``source`` ``aws.sagemaker``) into job references.

SageMaker sends a ``SageMaker Training Job State Change`` event whenever a training job's status changes, and a
``SageMaker HyperParameter Tuning Job State Change`` event whenever a hyperparameter tuning job's does; the
``detail`` of each is the job's ``DescribeTrainingJob`` or ``DescribeHyperParameterTuningJob`` response with its
``Tags`` as a dict (AWS documentation: "Events that Amazon SageMaker AI sends to Amazon EventBridge").  SageMaker
may send several events for one change, and EventBridge delivers at least once, in no guaranteed order.

Only the job's kind and name are taken from an event: the handler describes the job itself and records what
SageMaker says (:mod:`~model_training.training.outcome`), so an event that lies about the status, the metrics or
the tags changes nothing.  The status the event claims is kept for the logs only.

Job kinds are keyed by ``detail-type`` (:data:`JOB_EVENTS`): ``training`` (the name in ``detail.TrainingJobName``)
``tuning`` (the name in ``detail.HyperParameterTuningJobName``) and ``processing`` (``detail.ProcessingJobName``: a
split handed off the function, :mod:`~model_training.training.processing_outcome`); other SageMaker events are skipped with the
reason.

Ground floor: imports nothing from the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: The event ``source`` of SageMaker's own events.
SAGEMAKER_SOURCE = "aws.sagemaker"
#: The ``detail-type`` of the job events the stage records: the job kind, the detail field naming the job and the
#: one giving its status.
JOB_EVENTS = {
    "SageMaker Training Job State Change": ("training", "TrainingJobName", "TrainingJobStatus"),
    "SageMaker HyperParameter Tuning Job State Change": (
        "tuning",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
    ),
    "SageMaker Processing Job State Change": ("processing", "ProcessingJobName", "ProcessingJobStatus"),
}
#: SageMaker's rule for a training job's name (CreateTrainingJob API reference), also applied to the
#: name an event gives: 1-63 letters, digits and single or repeated hyphens, starting and ending with a letter or digit.
JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
#: The same rule for a tuning job's name (CreateHyperParameterTuningJob API reference).
TUNING_JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}")
#: The naming rule of each job kind: the pattern and the name's length limit (the pattern alone counts letters and
#: digits, not hyphens; the service's ``Length Constraints`` count every character: 63, and 32 for a tuning job).
NAME_RULES = {"training": (JOB_NAME, 63), "tuning": (TUNING_JOB_NAME, 32), "processing": (JOB_NAME, 63)}


@dataclass(frozen=True)
class JobRef:
    """A job an event names.

    Attributes:
        kind: ``training``, ``tuning`` or ``processing`` (the first of each of :data:`JOB_EVENTS`' values).
        name: the job's name (``TrainingJobName``, ``HyperParameterTuningJobName``), checked against SageMaker's
            naming rule for its kind (:data:`NAME_RULES`).
        claimed_status: the status the event claims (``TrainingJobStatus``, ``HyperParameterTuningJobStatus``):
            logged, never recorded.
        event_time: the event's ``time`` (ISO-8601), as given.
    """

    kind: str
    name: str
    claimed_status: str | None = None
    event_time: str | None = None


@dataclass
class JobEvent:
    """What one SageMaker event gives: the jobs to record, or why it was skipped, or why it is malformed."""

    jobs: list[JobRef] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None


def is_job_event(event: Any) -> bool:
    """Whether ``event`` is one of SageMaker's EventBridge events (``source`` ``aws.sagemaker`` with a ``detail``)."""
    return isinstance(event, dict) and event.get("source") == SAGEMAKER_SOURCE and "detail" in event


def decode_job_event(event: dict[str, Any]) -> JobEvent:
    """The job a SageMaker event names; other SageMaker events are skipped with the reason.

    Never raises: a ``detail`` without a usable job name gives a :class:`JobEvent` with ``error`` set.
    """
    detail_type = event.get("detail-type")
    known = JOB_EVENTS.get(detail_type) if isinstance(detail_type, str) else None
    if known is None:
        return JobEvent(skipped=[f"SageMaker event {str(detail_type)[:100]!r} is not a job state change the stage records"])
    kind, name_field, status_field = known
    detail = event.get("detail")
    name = detail.get(name_field) if isinstance(detail, dict) else None
    pattern, longest = NAME_RULES[kind]
    if not isinstance(name, str) or len(name) > longest or not pattern.fullmatch(name):
        shown = repr(name)[:80] if name is not None else "missing"
        return JobEvent(error=f"malformed SageMaker event: detail.{name_field} is {shown}, not a job name")
    assert isinstance(detail, dict)
    status = detail.get(status_field)
    time = event.get("time")
    return JobEvent(
        jobs=[
            JobRef(
                kind=kind,
                name=name,
                claimed_status=str(status)[:40] if status is not None else None,
                event_time=str(time)[:64] if time is not None else None,
            )
        ]
    )
