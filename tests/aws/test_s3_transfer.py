"""Issue 16's S3 paths on moto's server: a large object read with parallel ranged GETs pinned to its version and
eTag (in memory and streamed), and a split file written as a streamed multipart upload with S3's CRC-32
checksums, never spooled to a temporary file."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError

from model_training import aws
from model_training.data import s3 as s3_source
from model_training.data import s3_ranged
from model_training.data.s3 import S3Source
from model_training.errors import DatasetError
from model_training.hashing import crc32_base64
from model_training.offline import Pipeline, upload
from model_training.output.s3_store import S3Store

MIB = 1024 * 1024


def _data(size: int, seed: int = 1) -> bytes:
    """``size`` bytes of CSV-like text that differ from range to range."""
    line = b"".join(b"%d,%d.%d,abc\n" % (i, seed, i * 7) for i in range(4096))
    return (line * (size // len(line) + 1))[:size]


class Requests:
    """The S3 requests the test's client sends (a botocore before-send hook): ``(operation, headers, url)``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str], str]] = []

    def __call__(self, request: Any, event_name: str, **_: Any) -> None:
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        self.sent.append((event_name.rsplit(".", 1)[-1], headers, request.url))

    def ranged_gets(self) -> list[tuple[dict[str, str], str]]:
        return [(h, u) for op, h, u in self.sent if op == "GetObject" and "range" in h]


@pytest.fixture
def requests(pipeline: Pipeline) -> Iterator[Requests]:
    seen = Requests()
    events = aws.client("s3").meta.events
    events.register("before-send.s3.*", seen, unique_id="test-requests")
    yield seen
    events.unregister("before-send.s3.*", unique_id="test-requests")


@pytest.mark.parametrize("size", [3 * MIB + 17, 20 * MIB + 12345])
def test_a_read_returns_the_bytes_with_ranged_gets_pinned_above_the_threshold(
    pipeline: Pipeline, requests: Requests, size: int
) -> None:
    data = _data(size)
    meta = upload(pipeline.data_bucket, "automl/in/big.csv", data)
    source = S3Source(pipeline.data_bucket, "automl/in/big.csv", version_id=meta["version_id"], etag=meta["etag"], event=True)
    info, got = source.read()
    assert bytes(got) == data
    import hashlib

    assert info.sha256 == hashlib.sha256(data).hexdigest() and info.size_bytes == size
    streamed = list(source.chunks(MIB))
    assert b"".join(streamed) == data
    assert max(len(p) for p in streamed) < 2 * MIB  # pieces of about the size asked for
    ranged = requests.ranged_gets()
    if size < s3_ranged.RANGED_FROM_BYTES:
        assert ranged == []
        return
    per_read = -(-size // s3_ranged.RANGE_BYTES)
    assert len(ranged) == 2 * per_read  # read() and chunks(): every range once
    for headers, url in ranged:  # each pinned to the version and the eTag identified
        assert f"versionId={meta['version_id']}" in url
        assert headers["if-match"].strip('"') == meta["etag"]


def test_a_gzip_object_read_in_ranges_streams_and_splits_as_in_memory(
    pipeline: Pipeline, bank_csv: Path, monkeypatch: pytest.MonkeyPatch, requests: Requests
) -> None:
    import datetime as dt

    from model_training.config.run import StreamOptions, build_config
    from model_training.pipeline import run_pipeline
    from model_training.training.jobs import TrainingTarget

    monkeypatch.setattr(s3_ranged, "RANGE_BYTES", 32 * 1024)
    monkeypatch.setattr(s3_source, "RANGED_FROM_BYTES", 64 * 1024)
    data = gzip.compress(bank_csv.read_bytes())  # 279 kB
    assert len(data) > 64 * 1024
    upload(pipeline.data_bucket, "automl/in/bank.csv.gz", data)
    records = []
    for mode, options in (("memory", StreamOptions(above_bytes=None)), ("stream", StreamOptions(above_bytes=0, chunk_bytes=MIB))):
        result = run_pipeline(
            S3Source(pipeline.data_bucket, "automl/in/bank.csv.gz"),
            build_config(run_date=dt.date(2026, 1, 1)),
            store=S3Store(pipeline.data_bucket, root=f"gz-{mode}"),
            backend=None,
            target=TrainingTarget(image="local", model_output_root="s3://models"),
            stream=options,
        )
        records.append((result.record.source, {k: f.sha256 for k, f in result.record.files.items()}))
    assert records[0] == records[1]
    assert len(requests.ranged_gets()) >= 3 * (len(data) // (32 * 1024))  # read in memory once, streamed twice


def _replace_during(source: S3Source, bucket: str, key: str) -> Iterator[bytes]:
    """The source's pieces, the object replaced by other bytes after the first piece."""
    for i, piece in enumerate(source.chunks(256 * 1024)):
        if i == 0:
            upload(bucket, key, _data(8 * MIB, seed=2))
        yield piece


@pytest.mark.parametrize("how", ["streamed", "in memory"])
def test_an_object_replaced_during_a_ranged_read_fails_clearly_not_mixed(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr(s3_ranged, "RANGE_BYTES", 512 * 1024)
    monkeypatch.setattr(s3_source, "RANGED_FROM_BYTES", MIB)
    key = "automl/in/changing.csv"
    meta = upload(pipeline.data_bucket, key, _data(16 * MIB))
    source = S3Source(pipeline.data_bucket, key, etag=meta["etag"], event=True)  # an event without a version id
    with pytest.raises(DatasetError) as caught:
        if how == "streamed":
            b"".join(_replace_during(source, pipeline.data_bucket, key))
        else:
            replaced: list[int] = []

            def on_bytes(n: int) -> None:
                if not replaced:
                    replaced.append(n)
                    upload(pipeline.data_bucket, key, _data(8 * MIB, seed=2))

            source.read(on_bytes)
    assert "the event says eTag" in caught.value.message and meta["etag"] in caught.value.message
    assert "the object changed after the event" in caught.value.hint


def test_a_version_deleted_during_a_ranged_read_is_the_typed_error(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_ranged, "RANGE_BYTES", 512 * 1024)
    monkeypatch.setattr(s3_source, "RANGED_FROM_BYTES", MIB)
    key = "automl/in/deleted.csv"
    meta = upload(pipeline.data_bucket, key, _data(8 * MIB))
    source = S3Source(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event=True)
    with pytest.raises(DatasetError, match="no longer exists"):
        for i, _ in enumerate(source.chunks(256 * 1024)):
            if i == 0:
                aws.client("s3").delete_object(Bucket=pipeline.data_bucket, Key=key, VersionId=meta["version_id"])


def test_a_connection_failing_during_a_ranged_read_stays_retryable(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_ranged, "RANGE_BYTES", 512 * 1024)
    monkeypatch.setattr(s3_source, "RANGED_FROM_BYTES", MIB)
    meta = upload(pipeline.data_bucket, "automl/in/flaky.csv", _data(4 * MIB))
    source = S3Source(pipeline.data_bucket, "automl/in/flaky.csv", version_id=meta["version_id"], event=True)
    source.identify()

    def closed(request: Any, **_: Any) -> None:
        if "range" in {k.lower() for k in request.headers}:
            raise ConnectionClosedError(endpoint_url=request.url)

    events = aws.client("s3").meta.events
    events.register("before-send.s3.GetObject", closed, unique_id="test-closed")
    try:
        with pytest.raises(Exception) as caught:
            source.read()
    finally:
        events.unregister("before-send.s3.GetObject", unique_id="test-closed")
    assert not isinstance(caught.value, DatasetError)
    assert aws.is_transient(caught.value), repr(caught.value)


# ----- writing ----------------------------------------------------------------------------------------------------


def _no_temporary_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The temporary files made from now on by anything but moto's server (which, in this process, keeps large
    objects in them): the writer's threads and s3transfer's."""
    import traceback

    made: list[str] = []
    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        original = getattr(tempfile, name)

        def spy(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            files = [frame.filename for frame in traceback.extract_stack()]
            if not any("/moto/" in f or "/werkzeug/" in f for f in files):
                made.append(f"{_name} on {threading.current_thread().name}")
            return _original(*args, **kwargs)

        monkeypatch.setattr(tempfile, name, spy)
    return made


def _expected_crc32(data: bytes, part: int) -> str:
    """What S3 reports for ``data`` uploaded by s3transfer with parts of ``part`` bytes: below one part (a
    ``PutObject``) the CRC-32 of the bytes, else the composite ``<CRC-32 of the parts' CRC-32s>-<parts>``."""
    if len(data) < part:
        return crc32_base64(zlib.crc32(data))
    crcs = [zlib.crc32(data[i : i + part]) for i in range(0, len(data), part)]
    return f"{crc32_base64(zlib.crc32(b''.join(c.to_bytes(4, 'big') for c in crcs)))}-{len(crcs)}"


@pytest.mark.parametrize(
    ("size", "parts"),
    [(5 * MIB - 1, 0), (5 * MIB, 1), (10 * MIB + 1, 3)],
    ids=["one-put", "exactly-one-part", "three-parts"],
)
def test_a_write_goes_through_managed_transfer_with_s3s_crc32s_and_no_temporary_file(
    pipeline: Pipeline, requests: Requests, monkeypatch: pytest.MonkeyPatch, size: int, parts: int
) -> None:
    import hashlib

    made = _no_temporary_files(monkeypatch)
    data = _data(size)
    store = S3Store(pipeline.data_bucket, multipart_threshold=5 * MIB)  # parts of 5 MiB, S3's smallest
    view = memoryview(data)
    piece = 3 * MIB + 7  # chunks that straddle the part boundaries
    obj = store.write("automl/run/train/part-00000", (view[i : i + piece] for i in range(0, size, piece)))
    assert made == []  # no temporary file: the parts are sent as they are read
    assert obj.size_bytes == size and obj.sha256 == hashlib.sha256(data).hexdigest()
    assert obj.checksum == _expected_crc32(data, 5 * MIB)
    s3 = aws.client("s3")
    head = s3.head_object(Bucket=pipeline.data_bucket, Key=obj.key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == obj.checksum.split("-")[0]  # moto's HeadObject leaves out "-<parts>"
    got = s3.get_object(Bucket=pipeline.data_bucket, Key=obj.key, ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == obj.checksum and got["Body"].read() == data
    assert got.get("ChecksumType", "FULL_OBJECT") == ("COMPOSITE" if parts else "FULL_OBJECT")
    assert store.verify(obj)
    ops = [op for op, _, _ in requests.sent]
    bodies = [h for op, h, _ in requests.sent if op in ("PutObject", "UploadPart")]
    assert all("x-amz-checksum-crc32" in h for h in bodies)  # each body sent with its CRC-32, which S3 checks
    if parts:
        assert ops.count("UploadPart") == parts and "PutObject" not in ops and "CompleteMultipartUpload" in ops
        assert head["ETag"].strip('"').endswith(f"-{parts}")
        create = next(h for op, h, _ in requests.sent if op == "CreateMultipartUpload")
        assert create["x-amz-checksum-algorithm"] == "CRC32" and create["x-amz-server-side-encryption"] == "AES256"
    else:
        assert ops.count("PutObject") == 1 and "CreateMultipartUpload" not in ops
    tags = s3.get_object_tagging(Bucket=pipeline.data_bucket, Key=obj.key)["TagSet"]
    assert [t["Key"] for t in tags] == ["ProcessedTime"] and head["ContentType"] == "text/csv"
    assert head["ServerSideEncryption"] == "AES256"


def test_the_crc32s_are_sent_when_the_client_computes_checksums_only_when_required(pipeline: Pipeline) -> None:
    """``AWS_REQUEST_CHECKSUM_CALCULATION=when_required`` turns off boto3's default CRC-32: the store asks for it."""
    import boto3
    from botocore.config import Config

    shared = aws.client("s3")
    config = shared.meta.config.merge(Config(request_checksum_calculation="when_required"))
    client = boto3.session.Session().client("s3", region_name=shared.meta.region_name, config=config)
    seen = Requests()
    client.meta.events.register("before-send.s3.*", seen)
    data = _data(10 * MIB + 1)
    store = S3Store(pipeline.data_bucket, multipart_threshold=5 * MIB, client=client)
    obj = store.write("automl/run/train/part-00000", [data])
    parts = [h for op, h, _ in seen.sent if op == "UploadPart"]
    assert len(parts) == 3 and all("x-amz-checksum-crc32" in h for h in parts)
    assert obj.checksum == _expected_crc32(data, 5 * MIB) and store.verify(obj)


def test_a_part_changed_in_transit_fails_verify(pipeline: Pipeline) -> None:
    """S3 refuses a part whose bytes do not match its CRC-32 header (moto does not check it); whatever S3 stored,
    its composite CRC-32 is computed from the stored parts, so :meth:`S3Store.verify` catches it."""
    data = _data(10 * MIB + 1)
    store = S3Store(pipeline.data_bucket, multipart_threshold=5 * MIB)

    def corrupt(request: Any, **_: Any) -> None:
        if "partNumber=2" in request.url:
            body = request.body.read() if hasattr(request.body, "read") else bytes(request.body)
            request.body = b"X" + body[1:]  # same length, another first byte

    events = aws.client("s3").meta.events
    events.register("before-send.s3.UploadPart", corrupt, unique_id="test-corrupt")
    try:
        obj = store.write("automl/run/train/part-00000", [data])
    finally:
        events.unregister("before-send.s3.UploadPart", unique_id="test-corrupt")
    assert obj.checksum == _expected_crc32(data, 5 * MIB)
    assert not store.verify(obj)
    assert store.verify(store.write("automl/run/train/part-00000", [data]))


def test_a_write_reads_at_most_the_parts_in_flight_ahead(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays bounded while parts upload slowly: the chunks are pulled at most ``PARTS_IN_FLIGHT`` parts
    (plus the one being read) ahead of the parts sent (s3transfer's default would read 10 ahead)."""
    import time

    from model_training.output.s3_store import PARTS_IN_FLIGHT

    part, pulled, sent, ahead = 5 * MIB, [0], [0], [0]
    lock = threading.Lock()

    def chunks() -> Iterator[bytes]:
        block = _data(MIB)
        for _ in range(12 * 5):  # 60 MiB: 12 parts
            with lock:
                pulled[0] += len(block)
                ahead[0] = max(ahead[0], pulled[0] - sent[0])
            yield block

    def slow(**_: Any) -> None:
        time.sleep(0.2)
        with lock:
            sent[0] += part

    events = aws.client("s3").meta.events
    events.register("after-call.s3.UploadPart", slow, unique_id="test-slow")
    try:
        obj = S3Store(pipeline.data_bucket, multipart_threshold=part).write("automl/run/train/part-00000", chunks())
    finally:
        events.unregister("after-call.s3.UploadPart", unique_id="test-slow")
    assert obj.size_bytes == 60 * MIB and obj.checksum is not None and obj.checksum.endswith("-12")
    assert ahead[0] <= (PARTS_IN_FLIGHT + 1) * part + MIB, ahead[0] / MIB


def test_a_small_write_is_one_put_with_its_crc32_and_verify_compares_s3s(pipeline: Pipeline) -> None:
    store = S3Store(pipeline.data_bucket)
    obj = store.write_bytes("automl/run/run.json", b'{"a": 1}')
    assert obj.checksum == crc32_base64(zlib.crc32(b'{"a": 1}'))
    assert store.verify(obj)
    aws.client("s3").put_object(Bucket=pipeline.data_bucket, Key=obj.key, Body=b'{"a": 2}', ChecksumAlgorithm="CRC32")
    assert not store.verify(obj)  # same size, other bytes: S3's CRC-32 differs


def test_a_failed_multipart_write_is_aborted_and_leaves_nothing(pipeline: Pipeline, requests: Requests) -> None:
    store = S3Store(pipeline.data_bucket)

    def chunks() -> Iterator[bytes]:
        yield _data(20 * MIB)
        raise RuntimeError("rendering failed")

    with pytest.raises(RuntimeError, match="rendering failed"):
        store.write("automl/run/train/part-00000", chunks())
    s3 = aws.client("s3")
    assert "Contents" not in s3.list_objects_v2(Bucket=pipeline.data_bucket, Prefix="automl/run/")
    assert s3.list_multipart_uploads(Bucket=pipeline.data_bucket).get("Uploads", []) == []
    assert [op for op, _, _ in requests.sent if op.endswith("MultipartUpload")] in (
        [],  # failed before s3transfer started the upload
        ["CreateMultipartUpload", "AbortMultipartUpload"],  # or started it and aborted it
    )


_KILLED_WRITER = """
import os, signal, sys
from model_training import aws
from model_training.output.s3_store import S3Store

def kill(**_):
    os.kill(os.getpid(), signal.SIGKILL)

aws.client("s3").meta.events.register("after-call.s3.UploadPart", kill)
data = b"0123456789abcdef" * (2 * 1024 * 1024)  # 32 MiB + 1: three parts
S3Store(sys.argv[1]).write("automl/run/train/part-00000", [data, b"x"])
"""


def test_sigkill_mid_upload_leaves_no_visible_object_and_a_redo_completes(pipeline: Pipeline) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(s3_source.__file__).parents[2])}
    done = subprocess.run([sys.executable, "-c", _KILLED_WRITER, pipeline.data_bucket], env=env, capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    s3 = aws.client("s3")
    assert "Contents" not in s3.list_objects_v2(Bucket=pipeline.data_bucket, Prefix="automl/run/")
    assert len(s3.list_multipart_uploads(Bucket=pipeline.data_bucket).get("Uploads", [])) == 1  # invisible parts
    data = b"0123456789abcdef" * (2 * 1024 * 1024) + b"x"
    obj = S3Store(pipeline.data_bucket).write("automl/run/train/part-00000", [data])
    assert S3Store(pipeline.data_bucket).verify(obj) and S3Store(pipeline.data_bucket).read_bytes(obj.key) == data
