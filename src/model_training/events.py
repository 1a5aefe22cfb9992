"""Decode the events that start the stage into object references.

Accepted shapes (AWS documentation: S3's "Event message structure", and the SQS, SNS and EventBridge events
Lambda receives):

* S3 event notifications (``{"Records": [{"eventSource": "aws:s3", ...}]}``): every record.
* SQS events whose bodies are S3 notifications, or SNS envelopes holding one (the common fan-out);
  each SQS message is one *item*, so a failure can be reported per message (``batchItemFailures``).
* SNS events delivering S3 notifications directly.
* EventBridge ``Object Created`` events from S3 (``source`` ``aws.s3``).
* SageMaker's job state-change events (``source`` ``aws.sagemaker``), directly or as an SQS body: decoded by
  :mod:`~model_training.job_events` into the job they name (:attr:`EventItem.jobs`).

Object keys in S3 notifications are URL-encoded (``+`` is a space, ``%C3%A9`` is ``é``) and are decoded here
(``unquote_plus``); EventBridge's keys are decoded the same way, as Powertools' ``S3EventBridgeNotificationObject.key``
decodes them.  ``s3:TestEvent`` messages and events other than ``ObjectCreated`` are skipped.

Events are plain dicts, validated field by field (one malformed message fails alone, with a reason), without
Powertools' event data classes: importing them cost about a tenth of the handler's import (16-20 ms of a Lambda
cold start), and the fields read here are a handful.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from model_training.job_events import JobRef, decode_job_event, is_job_event


@dataclass(frozen=True)
class ObjectRef:
    """An S3 object an event names.

    Attributes:
        bucket: bucket name.
        key: the decoded object key.
        version_id: ``versionId`` (``None`` in an unversioned bucket).
        etag: ``eTag`` without quotes (``None`` if the event has none).
        size: object size in bytes, if the event gives it.
        event_time: the event's ISO-8601 time (the run date falls back to its date when the object's own
            ``LastModified`` cannot be read).
        event_name: e.g. ``ObjectCreated:Put``.
    """

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    event_time: str | None = None
    event_name: str = "ObjectCreated:Put"

    @property
    def uri(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class EventItem:
    """One unit of work and of failure reporting: an SQS message, or one record of another event.

    Attributes:
        item_id: the SQS ``messageId``, or ``record-{i}`` / the EventBridge event id.
        objects: the objects to process.
        jobs: the SageMaker jobs whose outcome to record (a job state-change event's).
        skipped: why records of this item were skipped (one entry per skipped record).
        error: set when the item itself cannot be decoded (malformed body): it is reported failed.
        correlation_id: what ties the logs to the upload: the S3 request id (``x-amz-request-id``), else
            the SQS message id or the EventBridge event id.
    """

    item_id: str
    objects: list[ObjectRef] = field(default_factory=list)
    jobs: list[JobRef] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    correlation_id: str | None = None


@dataclass
class DecodedEvent:
    """An event decoded into items; ``kind`` is ``s3``, ``sqs``, ``sns``, ``eventbridge``, ``sagemaker`` or ``unknown``."""

    kind: str
    items: list[EventItem]


def decode_event(event: Any) -> DecodedEvent:
    """Decode a Lambda event into :class:`EventItem` values.

    Never raises on bad content: each record is decoded on its own, and a record that cannot be decoded
    (malformed body, missing fields, wrong types) becomes an item with ``error`` set, so one bad message
    never fails the others.  An event of no known shape is a single failed item.
    """
    if not isinstance(event, dict):
        return DecodedEvent("unknown", [EventItem("event", error="the event is not a JSON object")])
    if event.get("source") == "aws.s3" and "detail" in event:
        return DecodedEvent("eventbridge", [_guard("eventbridge", lambda: _eventbridge_item(event))])
    if is_job_event(event):
        return DecodedEvent("sagemaker", [_guard("sagemaker", lambda: _job_item(event))])
    records = event.get("Records")
    if isinstance(records, list) and records:
        first = records[0] if isinstance(records[0], dict) else {}
        source = str(first.get("eventSource") or first.get("EventSource") or "")
        kind = {"aws:sqs": "sqs", "aws:sns": "sns"}.get(source, "s3")
        return DecodedEvent(kind, [_record_item(i, r) for i, r in enumerate(records)])
    if event.get("Event") == "s3:TestEvent":
        return DecodedEvent("s3", [EventItem("test-event", skipped=["s3:TestEvent"])])
    if isinstance(records, list):
        return DecodedEvent("s3", [EventItem("event", skipped=["the event has no records"])])
    return DecodedEvent("unknown", [EventItem("event", error="not an S3, SQS, SNS, EventBridge S3 or SageMaker job event")])


def _record_item(index: int, record: Any) -> EventItem:
    """One record of a Records event, by its own ``eventSource`` (a batch may mix them)."""
    item_id = str(record.get("messageId") or f"record-{index}") if isinstance(record, dict) else f"record-{index}"
    if not isinstance(record, dict):
        return EventItem(item_id, error=f"record {index} is not a JSON object")
    source = str(record.get("eventSource") or record.get("EventSource") or "")
    if source == "aws:sqs":
        return _guard(item_id, lambda: _sqs_item(record))
    if source == "aws:sns":
        return _guard(item_id, lambda: _from_body(item_id, record["Sns"]["Message"]))
    return _guard(item_id, lambda: _s3_record_item(item_id, record))


def _guard(item_id: str, decode: Any) -> EventItem:
    try:
        return decode()
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
        return EventItem(item_id, error=f"malformed record ({what[:200]})")


def _s3_record_item(item_id: str, record: dict[str, Any]) -> EventItem:
    item = EventItem(item_id)
    _add_s3_record(item, record)
    return item


def _add_s3_record(item: EventItem, record: Any) -> None:
    if not isinstance(record, dict) or not isinstance(record.get("s3"), dict):
        item.error = "a record without an 's3' object (not an S3 event notification)"
        return
    name = str(record.get("eventName", "")).removeprefix("s3:")  # MinIO writes s3:ObjectCreated:Put
    elements = record.get("responseElements")
    request_id = elements.get("x-amz-request-id") if isinstance(elements, dict) else None
    if request_id and not item.correlation_id:
        item.correlation_id = str(request_id)
    if not name.startswith("ObjectCreated"):
        item.skipped.append(f"event {name or '(none)'} is not ObjectCreated")
        return
    s3 = record["s3"]
    bucket, obj = s3.get("bucket"), s3.get("object") or s3.get("get_object")
    if (
        not isinstance(bucket, dict)
        or not isinstance(obj, dict)
        or not isinstance(bucket.get("name"), str)
        or not isinstance(obj.get("key"), str)
        or not bucket["name"]
        or not obj["key"]
    ):
        item.error = "malformed S3 record: s3.bucket.name and s3.object.key are required"
        return
    size = obj.get("size")
    event_time = str(record["eventTime"]) if record.get("eventTime") else None
    if event_time is not None and (problem := event_time_problem(event_time)):
        item.error = problem
        return
    item.objects.append(
        ObjectRef(
            bucket=str(bucket["name"]),
            key=unquote_plus(str(obj["key"])),  # Powertools' S3Object.key is the raw, encoded text
            version_id=str(obj["versionId"]) if obj.get("versionId") else None,
            etag=_etag(obj.get("eTag")),
            size=int(size) if isinstance(size, int) or (isinstance(size, str) and size.isdigit()) else None,
            event_time=event_time,
            event_name=name,
        )
    )


def _from_body(item_id: str, body: Any) -> EventItem:
    item = EventItem(item_id)
    if isinstance(body, dict):
        payload: Any = body  # an SNS Message already parsed
    else:
        try:
            payload = json.loads(body)
        except (TypeError, ValueError, RecursionError):
            item.error = "the message body is not JSON"
            return item
    if isinstance(payload, dict) and payload.get("Type") == "Notification" and "Message" in payload:
        inner = _from_body(item_id, payload["Message"])  # an SNS envelope inside SQS
        inner.correlation_id = inner.correlation_id or item.correlation_id
        return inner
    if not isinstance(payload, dict):
        item.error = "the message body is not a JSON object"
    elif payload.get("Event") == "s3:TestEvent":
        item.skipped.append("s3:TestEvent")
    elif payload.get("source") == "aws.s3" and "detail" in payload:
        eb = _eventbridge_item(payload)
        item.objects, item.skipped, item.error = eb.objects, eb.skipped, eb.error
    elif is_job_event(payload):
        job = _job_item(payload)
        item.jobs, item.skipped, item.error = job.jobs, job.skipped, job.error
    elif isinstance(payload.get("Records"), list):
        if not payload["Records"]:
            item.skipped.append("the notification has no records")
        for record in payload["Records"]:
            _add_s3_record(item, record)
            if item.error:
                break
    else:
        item.error = "the message body is not an S3 event notification"
    return item


def _sqs_item(record: dict[str, Any]) -> EventItem:
    if "body" not in record:
        return EventItem(str(record.get("messageId", "sqs")), error="an SQS record without a body")
    message_id = str(record.get("messageId") or "sqs")
    item = _from_body(message_id, record["body"])
    item.correlation_id = item.correlation_id or message_id
    return item


def _eventbridge_item(event: dict[str, Any]) -> EventItem:
    event_id = str(event.get("id") or "eventbridge")
    detail = event.get("detail")
    request_id = detail.get("request-id") if isinstance(detail, dict) else None
    item = EventItem(event_id, correlation_id=str(request_id or event_id))
    detail_type = event.get("detail-type")
    if detail_type != "Object Created":
        item.skipped.append(f"EventBridge {detail_type!r} is not 'Object Created'")
        return item
    if not isinstance(detail, dict) or not isinstance(detail.get("object"), dict) or not isinstance(detail.get("bucket"), dict):
        item.error = "malformed EventBridge S3 event: detail.bucket and detail.object are required"
        return item
    obj = detail["object"]
    if (
        not isinstance(detail["bucket"].get("name"), str)
        or not isinstance(detail["object"].get("key"), str)
        or not (detail["bucket"]["name"] and detail["object"]["key"])
    ):
        item.error = "malformed EventBridge S3 event: detail.bucket.name and detail.object.key are required"
        return item
    size = detail["object"].get("size")
    event_time = str(event["time"]) if event.get("time") else None
    if event_time is not None and (problem := event_time_problem(event_time)):
        item.error = problem
        return item
    item.objects.append(
        ObjectRef(
            bucket=str(detail["bucket"]["name"]),
            key=unquote_plus(obj["key"]),  # as Powertools' S3EventBridgeNotificationObject.key decodes it
            version_id=str(obj.get("version-id")) if obj.get("version-id") else None,
            etag=_etag(obj.get("etag")),
            size=int(size) if isinstance(size, int) else None,
            event_time=event_time,
            event_name="ObjectCreated:" + str(detail.get("reason", "PutObject")),
        )
    )
    return item


def _job_item(event: dict[str, Any]) -> EventItem:
    """A SageMaker job state-change event as an item (:func:`~model_training.job_events.decode_job_event`)."""
    event_id = str(event.get("id") or "sagemaker")
    decoded = decode_job_event(event)
    return EventItem(event_id, jobs=decoded.jobs, skipped=decoded.skipped, error=decoded.error, correlation_id=event_id)


def parse_event_time(text: str) -> dt.datetime:
    """An event's ``eventTime`` (S3) or ``time`` (EventBridge) as an aware UTC datetime.

    ISO-8601 as AWS writes it (``2026-03-04T10:11:12.000Z``) or with an offset; a time without one is UTC.

    Raises:
        EventError: the text is not an ISO-8601 time, or it lies outside years 1 to 9999 once in UTC
            (``0001-01-01T00:00:00+14:00`` is in year 0): the message quotes at most 64 characters of it.
    """
    from model_training.errors import EventError

    shown = repr(text[:64]) + ("..." if len(text) > 64 else "")
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise EventError(
            f"the event's time {shown} is not an ISO-8601 time",
            "S3 and EventBridge write times such as 2026-03-04T10:11:12.000Z: check what produced this event",
        ) from None
    try:
        return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    except OverflowError:
        raise EventError(
            f"the event's time {shown} is outside years 1 to 9999 in UTC",
            "S3 and EventBridge write times such as 2026-03-04T10:11:12.000Z: check what produced this event",
        ) from None


def event_time_problem(text: str) -> str | None:
    """Why ``text`` cannot be an event's time (``None`` if it can): see :func:`parse_event_time`."""
    from model_training.errors import EventError

    try:
        parse_event_time(text)
    except EventError as exc:
        return str(exc)
    return None


def _etag(value: Any) -> str | None:
    return str(value).strip('"') or None if value else None


#: Suffixes of the objects the stage splits, case-sensitive as S3's notification filters and EventBridge's
#: patterns are: the deployment template (``template.yaml``) delivers exactly these (and ``_SUCCESS`` markers)
#: under ``automl/``, so ``DATA.CSV`` is never delivered and is skipped here too.
ACCEPTED_SUFFIXES = (".csv", ".csv.gz")


def output_key_pattern(prefix_template: str) -> str:
    """A regular expression matching every key under the stage's own output prefix.

    ``automl/{date}/training/{dataset}`` becomes ``^automl/\\d{4}-\\d{2}-\\d{2}/training/[^/]+/``: a prefix
    match, not a substring match, so a user's ``automl/2026-01-01/training-data.csv`` is not mistaken
    for one of our outputs (the original stage skipped every key containing ``training``).
    """
    import re

    parts = re.split(r"(\{date\}|\{dataset\})", prefix_template.strip("/"))
    regex = "".join(r"\d{4}-\d{2}-\d{2}" if p == "{date}" else r"[^/]+" if p == "{dataset}" else re.escape(p) for p in parts)
    return f"^{regex}/"


def _output_ancestors(prefix_template: str) -> list[str]:
    """Regular expressions of the folders that hold the output prefix (``automl/``, ``automl/{date}/``
    and ``automl/{date}/training/`` for the default template): a ``_SUCCESS`` marker there would make the
    stage's own outputs part of a dataset."""
    import re

    segments = prefix_template.strip("/").split("/")
    out = []
    for depth in range(len(segments)):
        regex = "/".join(
            r"\d{4}-\d{2}-\d{2}" if s == "{date}" else r"[^/]+" if s == "{dataset}" else re.escape(s) for s in segments[:depth]
        )
        out.append(f"^{regex}/$" if regex else "^$")
    return out


#: The marker Spark, Glue and EMR write when every part file of a dataset is in place: its event starts the
#: split of the whole folder (:mod:`~model_training.data.parts`).
DATASET_MARKER = "_SUCCESS"
#: Part files as Spark and Glue name them (``part-00000-<uuid>-c000.csv``, ``part-00003.csv.gz``).
_PART_NAME = r"^part-\d{5}"


def is_dataset_marker(ref: ObjectRef) -> bool:
    """Whether ``ref`` is a ``_SUCCESS`` marker in a folder: the folder's part files are one dataset."""
    return "/" in ref.key and ref.key.rsplit("/", 1)[-1] == DATASET_MARKER


def skip_reason(ref: ObjectRef, prefix_template: str) -> str | None:
    """Why the stage must not process ``ref`` (``None`` if it should): one of our own outputs, not a
    CSV, a hidden file, another ``_`` marker, or a Spark/Glue part file (``part-00000...``; its folder is
    split when the ``_SUCCESS`` marker arrives).  A ``_SUCCESS`` marker is processed (as its folder)."""
    import re

    name = ref.key.rsplit("/", 1)[-1]
    if re.match(output_key_pattern(prefix_template), ref.key):
        return f"{ref.uri} is under the stage's own output prefix"
    if is_dataset_marker(ref):
        folder = ref.key[: -len(DATASET_MARKER)]
        if any(re.match(ancestor, folder) for ancestor in _output_ancestors(prefix_template)):
            return (
                f"{ref.uri} marks a folder that holds the stage's own outputs ({prefix_template.strip('/')}/...): "
                "its split would read them as data; write the part files in a folder of their own"
            )
        return None
    if "/" in ref.key and re.match(_PART_NAME, name):
        return f"{ref.uri} is a part of a multi-file dataset: its folder is split when {DATASET_MARKER} is written"
    if not name.endswith(ACCEPTED_SUFFIXES):
        return f"{ref.uri} is not a .csv or .csv.gz object (suffixes are case-sensitive)"
    if name.startswith("."):
        return f"{ref.uri} is a hidden file"
    if name.startswith("_"):
        return f"{ref.uri} is a marker file"
    return None
