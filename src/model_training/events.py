"""Decode the events that start the stage into object references.

Accepted shapes (``pipeline-contracts.md``; AWS docs "Event message structure" for S3 notifications):

* S3 event notifications (``{"Records": [{"eventSource": "aws:s3", ...}]}``): every record.
* SQS events whose bodies are S3 notifications, or SNS envelopes holding one (the common fan-out);
  each SQS message is one *item*, so a failure can be reported per message (``batchItemFailures``).
* SNS events delivering S3 notifications directly.
* EventBridge ``Object Created`` events from S3 (``source`` ``aws.s3``).

Object keys in S3 notifications are URL-encoded (``+`` is a space, ``%C3%A9`` is ``é``). Powertools'
per-record ``S3Object.key`` returns the raw text (only ``S3Event.object_key``, for the first record,
decodes), so keys from notifications are decoded here; its EventBridge class already decodes, so those
are taken as they come.  ``s3:TestEvent`` messages and events other than ``ObjectCreated`` are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, S3Event, SNSEvent, SQSEvent
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventBridgeNotificationEvent


@dataclass(frozen=True)
class ObjectRef:
    """An S3 object an event names.

    Attributes:
        bucket: bucket name.
        key: the decoded object key.
        version_id: ``versionId`` (``None`` in an unversioned bucket).
        etag: ``eTag`` without quotes (``None`` if the event has none).
        size: object size in bytes, if the event gives it.
        event_time: the event's ISO-8601 time (the run date is taken from it, so a retry lands on the same keys).
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
        skipped: why records of this item were skipped (one entry per skipped record).
        error: set when the item itself cannot be decoded (malformed body): it is reported failed.
        correlation_id: what ties the logs to the upload: the S3 request id (``x-amz-request-id``), else
            the SQS message id or the EventBridge event id.
    """

    item_id: str
    objects: list[ObjectRef] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    correlation_id: str | None = None


@dataclass
class DecodedEvent:
    """An event decoded into items; ``kind`` is ``s3``, ``sqs``, ``sns``, ``eventbridge`` or ``unknown``."""

    kind: str
    items: list[EventItem]


def decode_event(event: dict[str, Any]) -> DecodedEvent:
    """Decode a Lambda event into :class:`EventItem` values (never raises on bad content: a malformed
    message becomes an item with ``error`` set, an unknown shape a single failed item)."""
    if not isinstance(event, dict):
        return DecodedEvent("unknown", [EventItem("event", error="the event is not a JSON object")])
    if event.get("source") == "aws.s3" and "detail" in event:
        return DecodedEvent("eventbridge", [_eventbridge_item(event)])
    records = event.get("Records")
    if isinstance(records, list) and records:
        source = str(records[0].get("eventSource") or records[0].get("EventSource") or "")
        if source == "aws:sqs":
            return DecodedEvent("sqs", [_sqs_item(r) for r in SQSEvent(event).records])
        if source == "aws:sns":
            items = []
            for i, record in enumerate(SNSEvent(event).records):
                items.append(_from_body(f"record-{i}", record.sns.message))
            return DecodedEvent("sns", items)
        return DecodedEvent("s3", [_s3_record_item(f"record-{i}", r) for i, r in enumerate(records)])
    if event.get("Event") == "s3:TestEvent":
        return DecodedEvent("s3", [EventItem("test-event", skipped=["s3:TestEvent"])])
    return DecodedEvent("unknown", [EventItem("event", error="not an S3, SQS, SNS or EventBridge S3 event")])


def _s3_record_item(item_id: str, record: dict[str, Any]) -> EventItem:
    item = EventItem(item_id)
    _add_s3_record(item, record)
    return item


def _add_s3_record(item: EventItem, record: Any) -> None:
    if not isinstance(record, dict) or "s3" not in record:
        item.error = "a record without 's3' (not an S3 event notification)"
        return
    name = str(record.get("eventName", ""))
    request_id = (record.get("responseElements") or {}).get("x-amz-request-id")
    if request_id and not item.correlation_id:
        item.correlation_id = str(request_id)
    if not name.startswith("ObjectCreated"):
        item.skipped.append(f"event {name or '(none)'} is not ObjectCreated")
        return
    try:
        rec = S3Event({"Records": [record]}).record
        obj = rec.s3.get_object
        item.objects.append(
            ObjectRef(
                bucket=rec.s3.bucket.name,
                key=unquote_plus(obj.key),
                version_id=obj.version_id or None,
                etag=_etag(obj.get("eTag")),
                size=int(obj["size"]) if obj.get("size") is not None else None,
                event_time=rec.event_time,
                event_name=name,
            )
        )
    except (KeyError, TypeError, ValueError) as exc:
        item.error = f"malformed S3 record: missing {exc}"


def _from_body(item_id: str, body: str) -> EventItem:
    item = EventItem(item_id)
    try:
        payload = json.loads(body)
    except (TypeError, ValueError):
        item.error = "the message body is not JSON"
        return item
    if isinstance(payload, dict) and payload.get("Type") == "Notification" and "Message" in payload:
        return _from_body(item_id, payload["Message"])  # an SNS envelope inside SQS
    if not isinstance(payload, dict):
        item.error = "the message body is not a JSON object"
    elif payload.get("Event") == "s3:TestEvent":
        item.skipped.append("s3:TestEvent")
    elif payload.get("source") == "aws.s3" and "detail" in payload:
        eb = _eventbridge_item(payload)
        item.objects, item.skipped, item.error = eb.objects, eb.skipped, eb.error
    elif isinstance(payload.get("Records"), list):
        for record in payload["Records"]:
            _add_s3_record(item, record)
            if item.error:
                break
    else:
        item.error = "the message body is not an S3 event notification"
    return item


def _sqs_item(record: Any) -> EventItem:
    item = _from_body(record.message_id, record.body)
    item.correlation_id = item.correlation_id or record.message_id
    return item


def _eventbridge_item(event: dict[str, Any]) -> EventItem:
    eb = S3EventBridgeNotificationEvent(event)
    event_id = EventBridgeEvent(event).get_id or "eventbridge"
    item = EventItem(event_id, correlation_id=str((event.get("detail") or {}).get("request-id") or event_id))
    if eb.detail_type != "Object Created":
        item.skipped.append(f"EventBridge {eb.detail_type!r} is not 'Object Created'")
        return item
    try:
        obj = eb.detail.object
        item.objects.append(
            ObjectRef(
                bucket=eb.detail.bucket.name,
                key=obj.key,  # Powertools decodes EventBridge keys (unquote_plus)
                version_id=obj.get("version-id") or None,
                etag=_etag(obj.get("etag")),
                size=obj.size,
                event_time=eb.time,
                event_name="ObjectCreated:" + str(eb.detail.get("reason", "PutObject")),
            )
        )
    except (KeyError, TypeError) as exc:
        item.error = f"malformed EventBridge S3 event: missing {exc}"
    return item


def _etag(value: Any) -> str | None:
    return str(value).strip('"') or None if value else None


#: Suffixes of the objects the stage splits (``pipeline-contracts.md``: the notification filter is ``.csv``).
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


def skip_reason(ref: ObjectRef, prefix_template: str) -> str | None:
    """Why the stage must not process ``ref`` (``None`` if it should): one of our own outputs, not a
    CSV, a hidden file, or a ``_`` marker (``_SUCCESS``)."""
    import re

    name = ref.key.rsplit("/", 1)[-1]
    if re.match(output_key_pattern(prefix_template), ref.key):
        return f"{ref.uri} is under the stage's own output prefix"
    if not name.lower().endswith(ACCEPTED_SUFFIXES):
        return f"{ref.uri} is not a .csv or .csv.gz object"
    if name.startswith("."):
        return f"{ref.uri} is a hidden file"
    if name.startswith("_"):
        return f"{ref.uri} is a marker file"
    return None
