"""Decode SageMaker's job state-change events (EventBridge, ``source`` ``aws.sagemaker``) into job references.

SageMaker sends a ``SageMaker Training Job State Change`` event whenever a training job's status changes; its
``detail`` is the ``DescribeTrainingJob`` response with the job's ``Tags`` as a dict (AWS documentation: "Events
that Amazon SageMaker AI sends to Amazon EventBridge").  SageMaker may send several events for one change, and
EventBridge delivers at least once, in no guaranteed order.

Only the job's kind and name are taken from an event: the handler describes the job itself and records what
SageMaker says (:mod:`~model_training.training.outcome`), so an event that lies about the status, the metrics or
the tags changes nothing.  The status the event claims is kept for the logs only.

Job kinds are keyed by ``detail-type`` (:data:`JOB_EVENTS`): a tuning job's ``SageMaker HyperParameter Tuning Job
State Change`` (its name in ``detail.HyperParameterTuningJobName``) is one more entry there and one more kind for
the handler to dispatch; until then it is skipped with the reason.

Ground floor: imports nothing from the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: The event ``source`` of SageMaker's own events.
SAGEMAKER_SOURCE = "aws.sagemaker"
#: The ``detail-type`` of the job events the stage records: the job kind and the detail field naming the job.
JOB_EVENTS = {"SageMaker Training Job State Change": ("training", "TrainingJobName")}
#: SageMaker's rule for a training job's name (CreateTrainingJob API reference), also applied to the
#: name an event gives: 1-63 letters, digits and single or repeated hyphens, starting and ending with a letter or digit.
JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


@dataclass(frozen=True)
class JobRef:
    """A job an event names.

    Attributes:
        kind: ``training`` (the keys of :data:`JOB_EVENTS`' values).
        name: the job's name (``TrainingJobName``), checked against SageMaker's naming rule.
        claimed_status: the status the event claims (``TrainingJobStatus``): logged, never recorded.
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
    kind, name_field = known
    detail = event.get("detail")
    name = detail.get(name_field) if isinstance(detail, dict) else None
    if not isinstance(name, str) or not JOB_NAME.fullmatch(name):
        shown = repr(name)[:80] if name is not None else "missing"
        return JobEvent(error=f"malformed SageMaker event: detail.{name_field} is {shown}, not a job name")
    assert isinstance(detail, dict)
    status = detail.get("TrainingJobStatus")
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
