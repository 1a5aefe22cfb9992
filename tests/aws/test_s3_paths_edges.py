"""Issue 16 under attack: ranged reads of truncated, corrupt and replaced objects, bad CSV streamed from S3,
concurrent deliveries of one object (S3 notification and EventBridge), through ``lambda_handler`` on moto's server."""

from __future__ import annotations

import gzip
import threading
from typing import Any

import pytest

from model_training import aws, lambda_handler
from model_training.data import s3 as s3_source
from model_training.data import s3_ranged
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, eventbridge_object_created, jobs

MIB = 1024 * 1024


def _keys(bucket: str, prefix: str = "automl/") -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def _big_csv(rows: int) -> bytes:
    lines = [b"x1,x2,x3,y_yes,y_no"]
    lines += [b"%d,%d.5,%d,%d,%d" % (i, i % 97, i % 13, i % 2, 1 - i % 2) for i in range(rows)]
    return b"\n".join(lines) + b"\n"


@pytest.fixture(params=[False, True], ids=["memory", "stream"])
def stream(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each test that takes it runs twice: the split in memory, then streamed (``MODEL_TRAINING_STREAM_ABOVE_MB=0``)."""
    if request.param:
        monkeypatch.setenv("MODEL_TRAINING_STREAM_ABOVE_MB", "0")
    return bool(request.param)


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_ranged, "RANGE_BYTES", 64 * 1024)
    monkeypatch.setattr(s3_source, "RANGED_FROM_BYTES", 128 * 1024)


def _event(p: Pipeline, key: str, data: bytes, *, pin: bool = True) -> dict[str, Any]:
    meta = upload(p.data_bucket, key, data)
    if not pin:
        return s3_event(p.data_bucket, key, size=meta["size"], event_time=EVENT_TIME)
    return s3_event(
        p.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME
    )


def test_a_truncated_gzip_read_by_ranges_fails_naming_the_object_and_writes_nothing(
    pipeline: Pipeline, small_ranges: None, stream: bool
) -> None:
    packed = gzip.compress(_big_csv(60_000), mtime=0)
    assert len(packed) > 128 * 1024
    key = "automl/2026-03-04/cut.csv.gz"
    event = _event(pipeline, key, packed[: len(packed) * 2 // 3])
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "failed", result
    assert key in result["reason"] or "cut.csv.gz" in result["reason"], result
    assert _keys(pipeline.data_bucket) == [key]
    assert jobs() == []


def test_a_corrupt_gzip_read_by_ranges_fails_and_writes_nothing(pipeline: Pipeline, small_ranges: None, stream: bool) -> None:
    packed = bytearray(gzip.compress(_big_csv(60_000), mtime=0))
    middle = len(packed) // 2
    packed[middle : middle + 64] = bytes(64)  # a run of zeros in the deflate stream
    key = "automl/2026-03-04/corrupt.csv.gz"
    (result,) = lambda_handler(_event(pipeline, key, bytes(packed)), Context())["results"]
    assert result["status"] == "failed", result
    assert "corrupt.csv.gz" in result["reason"], result
    assert _keys(pipeline.data_bucket) == [key]
    assert jobs() == []


def test_a_bad_value_late_in_a_ranged_object_names_the_object_and_line_and_writes_nothing(
    pipeline: Pipeline, small_ranges: None, stream: bool
) -> None:
    lines = _big_csv(30_000).split(b"\n")
    lines[25_001] = b"1,oops,3,1,0"  # line 25002 of the file (the header is line 1)
    key = "automl/2026-03-04/bad.csv"
    (result,) = lambda_handler(_event(pipeline, key, b"\n".join(lines)), Context())["results"]
    assert result["status"] == "failed", result
    assert "bad.csv" in result["reason"] and "25002" in result["reason"] and "oops" in result["reason"], result
    assert _keys(pipeline.data_bucket) == [key]
    assert jobs() == []


def test_an_object_overwritten_after_its_etag_only_event_fails_and_writes_nothing(
    pipeline: Pipeline, small_ranges: None, stream: bool
) -> None:
    key = "automl/2026-03-04/over.csv"
    meta = upload(pipeline.data_bucket, key, _big_csv(20_000))
    upload(pipeline.data_bucket, key, _big_csv(21_000))
    event = s3_event(pipeline.data_bucket, key, etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "failed", result
    assert meta["etag"] in result["reason"], result
    assert _keys(pipeline.data_bucket) == [key] and jobs() == []


def test_an_overwritten_object_with_a_version_splits_the_events_version(
    pipeline: Pipeline, small_ranges: None, stream: bool
) -> None:
    key = "automl/2026-03-04/over.csv"
    first = _big_csv(20_000)
    meta = upload(pipeline.data_bucket, key, first)
    upload(pipeline.data_bucket, key, _big_csv(21_000))
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], size=999, event_time=EVENT_TIME)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "started", result
    import json

    record_key = result["outputs"]["train"].split(f"{pipeline.data_bucket}/", 1)[1].rsplit("/train/", 1)[0] + "/run.json"
    record = json.loads(aws.client("s3").get_object(Bucket=pipeline.data_bucket, Key=record_key)["Body"].read())
    assert record["source"]["size_bytes"] == len(first) and record["source"]["version_id"] == meta["version_id"]
    assert sum(s["rows"] for s in record["splits"].values()) == 20_000


def test_concurrent_s3_and_eventbridge_deliveries_start_one_job(pipeline: Pipeline, small_ranges: None) -> None:
    key = "automl/2026-03-04/twice.csv"
    data = _big_csv(20_000)
    meta = upload(pipeline.data_bucket, key, data)
    s3 = s3_event(
        pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME
    )
    events = [
        s3,
        eventbridge_object_created(pipeline.data_bucket, key, meta),
        s3,
        eventbridge_object_created(pipeline.data_bucket, key, meta),
    ]
    results: list[Any] = [None] * len(events)
    barrier = threading.Barrier(len(events))

    def deliver(i: int) -> None:
        barrier.wait()
        try:
            results[i] = lambda_handler(events[i], Context())["results"][0]
        except Exception as exc:  # a retryable error raised to Lambda is a fair answer
            results[i] = exc

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(events))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = [r["status"] if isinstance(r, dict) else type(r).__name__ for r in results]
    assert statuses.count("started") == 1, results
    assert len(jobs()) == 1
    # redelivery afterwards: a duplicate
    again = lambda_handler(s3, Context())["results"][0]
    assert again["status"] == "duplicate", again
    assert len(jobs()) == 1


@pytest.mark.parametrize("big", [False, True], ids=["one-get", "ranged"])
def test_an_object_replaced_between_the_streaming_passes_of_a_cli_run_fails_and_writes_nothing(
    pipeline: Pipeline, small_ranges: None, monkeypatch: pytest.MonkeyPatch, big: bool
) -> None:
    from typer.testing import CliRunner

    from model_training.cli import app

    key = "automl/2026-03-04/moving.csv"
    upload(pipeline.data_bucket, key, _big_csv(20_000 if big else 2_000))
    original = s3_source.S3Source.chunks
    calls: list[int] = []

    def chunks(self: Any, size: int) -> Any:
        calls.append(size)
        if len(calls) == 2:  # pass 2: someone uploaded a new version after pass 1
            upload(pipeline.data_bucket, key, _big_csv(20_001 if big else 2_001))
        yield from original(self, size)

    monkeypatch.setattr(s3_source.S3Source, "chunks", chunks)
    res = CliRunner().invoke(
        app,
        ["run", f"s3://{pipeline.data_bucket}/{key}", "--stream", "--output", f"s3://{pipeline.data_bucket}/manual",
         "--no-train", "--date", "2026-03-04", "-q"],
    )  # fmt: skip
    assert len(calls) >= 2
    assert res.exit_code == 1, res.output
    assert "moving.csv" in res.output and "changed" in res.output, res.output
    assert "event" not in res.output, res.output  # no event here: a user named the object on the command line
    assert _keys(pipeline.data_bucket, "manual/") == []


@pytest.mark.parametrize("big", [False, True], ids=["one-get", "ranged"])
def test_an_unpinned_events_object_replaced_between_the_streaming_passes_is_not_blamed_on_the_events_etag(
    pipeline: Pipeline, small_ranges: None, monkeypatch: pytest.MonkeyPatch, big: bool
) -> None:
    monkeypatch.setenv("MODEL_TRAINING_STREAM_ABOVE_MB", "0")
    key = "automl/2026-03-04/unpinned.csv"
    event = _event(pipeline, key, _big_csv(20_000 if big else 2_000), pin=False)
    assert "eTag" not in event["Records"][0]["s3"]["object"] and "versionId" not in event["Records"][0]["s3"]["object"]
    original = s3_source.S3Source.chunks
    calls: list[int] = []

    def chunks(self: Any, size: int) -> Any:
        calls.append(size)
        if len(calls) == 2:
            upload(pipeline.data_bucket, key, _big_csv(20_001 if big else 2_001))
        yield from original(self, size)

    monkeypatch.setattr(s3_source.S3Source, "chunks", chunks)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "failed", result
    assert "changed" in result["reason"], result
    # the event named no eTag and no version: the message must not say it did, nor ask to remove them
    assert "the event says eTag" not in result["reason"] and "remove eTag" not in result["reason"], result
    assert _keys(pipeline.data_bucket) == [key] and jobs() == []


@pytest.mark.parametrize("size", [10 * MIB, 10 * MIB - 1, 15 * MIB + 1, 0, 1])
@pytest.mark.parametrize("piece", [1, 7 * 1024 + 3, 5 * MIB, 3 * MIB + 1])
def test_a_write_of_odd_chunks_at_part_boundaries_verifies_and_reads_back(pipeline: Pipeline, size: int, piece: int) -> None:
    from model_training.output.s3_store import S3Store

    if piece == 1 and size > 1:
        piece = 1024 * 1024 - 1
    data = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    chunks = [memoryview(data)[i : i + piece] for i in range(0, size, piece)] or [b""]
    store = S3Store(pipeline.data_bucket, multipart_threshold=5 * MIB)
    obj = store.write("automl/odd/train/part-00000", iter(chunks))
    assert obj.size_bytes == size
    assert store.verify(obj), obj
    assert store.read_bytes(obj.key) == data


def test_a_streamed_ranged_read_stopped_by_bad_data_early_leaves_no_thread_reading(
    pipeline: Pipeline, small_ranges: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("MODEL_TRAINING_STREAM_ABOVE_MB", "0")
    lines = _big_csv(300_000).split(b"\n")
    lines[5] = b"1,oops,3,1,0"
    key = "automl/2026-03-04/early.csv"
    event = _event(pipeline, key, b"\n".join(lines))
    gets: list[float] = []

    def seen(request: Any, **_: Any) -> None:
        if "range" in {k.lower() for k in request.headers}:
            gets.append(time.monotonic())

    s3 = aws.client("s3")
    s3.meta.events.register("before-send.s3.GetObject", seen, unique_id="count-gets")
    before = {t.ident for t in threading.enumerate()}
    try:
        (result,) = lambda_handler(event, Context())["results"]
        returned = time.monotonic()
        assert result["status"] == "failed" and "line 6" in result["reason"], result
        time.sleep(1.0)
    finally:
        s3.meta.events.unregister("before-send.s3.GetObject", unique_id="count-gets")
    import gc

    gc.collect()  # an abandoned digest's idle thread ends when the digest is collected (a traceback's cycle)
    time.sleep(0.2)
    left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == [], left
    assert [g for g in gets if g > returned] == []
    object_ranges = -(-len(b"\n".join(lines)) // (64 * 1024))
    # pass 1 reads on to report every bad column at once, but no second pass follows a failed first
    assert len(gets) <= object_ranges + 1, (len(gets), object_ranges)


def test_the_same_object_announced_pinned_by_version_by_etag_only_and_unpinned_is_one_run(
    pipeline: Pipeline, small_ranges: None, stream: bool
) -> None:
    key = "automl/2026-03-04/same.csv"
    meta = upload(pipeline.data_bucket, key, _big_csv(20_000))
    by_version = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], size=meta["size"], event_time=EVENT_TIME)
    by_etag = s3_event(pipeline.data_bucket, key, etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME)
    bridge = eventbridge_object_created(pipeline.data_bucket, key, meta)
    del bridge["detail"]["object"]["version-id"]
    unpinned = s3_event(pipeline.data_bucket, key, event_time=EVENT_TIME)
    results = [lambda_handler(e, Context())["results"][0] for e in (by_version, by_etag, bridge, unpinned)]
    assert [r["status"] for r in results] == ["started", "duplicate", "duplicate", "duplicate"], results
    assert len({r["run_id"] for r in results}) == 1 and len(jobs()) == 1


@pytest.mark.parametrize(
    "bad",
    [b"1,caf\xe9,3,1,0", b"1,\xe2\x82\xac,3,1,0", b"1,2,3,1", b"1,2,3,1,0,9", b'1,"2\n3",3,1,0'],
    ids=["latin1", "euro", "short", "long", "quoted-newline"],
)
def test_bad_rows_in_a_ranged_object_fail_alike_in_memory_and_streamed_naming_the_line(
    pipeline: Pipeline, small_ranges: None, stream: bool, bad: bytes
) -> None:
    lines = _big_csv(30_000).split(b"\n")
    lines[15_000] = bad  # line 15001
    key = "automl/2026-03-04/rows.csv"
    (result,) = lambda_handler(_event(pipeline, key, b"\n".join(lines)), Context())["results"]
    assert result["status"] == "failed" and result["retryable"] is False, result
    assert "rows.csv" in result["reason"] and "15001" in result["reason"], result
    assert _keys(pipeline.data_bucket) == [key] and jobs() == []


@pytest.mark.parametrize("pin", ["etag", "version"])
def test_a_multipart_uploaded_source_with_a_dash_n_etag_is_read_by_ranges(
    pipeline: Pipeline, small_ranges: None, stream: bool, pin: str
) -> None:
    import io

    from boto3.s3.transfer import TransferConfig

    key = "automl/2026-03-04/parts.csv"
    data = _big_csv(600_000)  # about 13 MB: three parts of 5 MiB
    s3 = aws.client("s3")
    s3.upload_fileobj(
        io.BytesIO(data),
        pipeline.data_bucket,
        key,
        Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB),
    )
    head = s3.head_object(Bucket=pipeline.data_bucket, Key=key)
    etag = head["ETag"].strip('"')
    assert etag.endswith("-3"), etag
    args: dict[str, Any] = {"etag": etag} if pin == "etag" else {"version_id": head["VersionId"], "etag": etag}
    event = s3_event(pipeline.data_bucket, key, size=len(data), event_time=EVENT_TIME, **args)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "started", result


@pytest.mark.parametrize("kind", ["5xx", "throttle", "reset"])
def test_ranged_gets_failing_on_and_on_leave_the_object_retryable_and_nothing_written(
    pipeline: Pipeline, small_ranges: None, stream: bool, kind: str
) -> None:
    from model_training.errors import RetryableError

    key = "automl/2026-03-04/flaky.csv"
    event = _event(pipeline, key, _big_csv(20_000))
    aws.client("s3")  # the client the hooks go on
    from tests.fixtures import Fault

    fault = Fault("s3", kind, None)
    calls: list[int] = []

    def later_ranges(request: Any, **kw: Any) -> Any:
        calls.append(1)
        return fault(request, **kw) if len(calls) > 3 else None  # the sample and the first ranges come through

    events = aws.client("s3").meta.events
    events.register("before-send.s3.GetObject", later_ranges, unique_id="fail-later-ranges")
    try:
        (result,) = lambda_handler(event, Context())["results"]
    except RetryableError:
        result = {"status": "raised", "retryable": True}
    finally:
        events.unregister("before-send.s3.GetObject", unique_id="fail-later-ranges")
    assert fault.injected > 0
    assert result["status"] in ("failed", "raised") and result["retryable"] is True, result
    assert _keys(pipeline.data_bucket) == [key] or all("claim" in k or k == key for k in _keys(pipeline.data_bucket))
    assert jobs() == []
    (again,) = lambda_handler(event, Context())["results"]  # S3 is well again: the redelivery runs
    assert again["status"] == "started", again


def test_a_ranged_gzip_over_the_inflate_limit_is_refused_and_its_transfer_stops(
    pipeline: Pipeline, small_ranges: None, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    import gc
    import time

    monkeypatch.setenv("MODEL_TRAINING_MAX_DECOMPRESSED_BYTES", "1000000")
    key = "automl/2026-03-04/bomb.csv.gz"
    event = _event(pipeline, key, gzip.compress(_big_csv(300_000), mtime=0))
    before = {t.ident for t in threading.enumerate()}
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "failed" and "1000000" in result["reason"] and "bomb.csv.gz" in result["reason"], result
    assert _keys(pipeline.data_bucket) == [key] and jobs() == []
    gc.collect()
    time.sleep(0.3)
    left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == [], left
