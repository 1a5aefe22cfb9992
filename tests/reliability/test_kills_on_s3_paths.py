"""Issue 16's S3 paths killed for real: a Lambda delivery SIGKILLed mid ranged read of its object, mid multipart
upload of a split file (S3's parts, no spool), and after the train file's upload completed, then delivered again.
Exactly one training job; no incomplete channel object is ever taken as complete."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

import model_training
from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from model_training.output import claims
from tests.fixtures import EVENT_TIME, Context, jobs

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = Path(model_training.__file__).resolve().parents[1]
MIB = 1024 * 1024

_KILLED = r"""
import json, os, signal, sys
from model_training import aws
from model_training.data import s3 as s3_source, s3_ranged
from model_training.output import s3_store
from tests.fixtures import Context

s3_ranged.RANGE_BYTES = 1024 * 1024
s3_source.RANGED_FROM_BYTES = 1024 * 1024
s3_store.PART_BYTES = 5 * 1024 * 1024
where, after = sys.argv[1], int(sys.argv[2])
seen = []

def kill_at(n):
    seen.append(n)
    if len(seen) >= after:
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

def before(model=None, params=None, **kw):
    if where.endswith("ranged-read") and model.name == "GetObject" and "Range" in (params or {}).get("headers", {}):
        kill_at(model.name)

def done(model=None, **kw):
    kills = (("upload-part", "UploadPart"), ("train-complete", "CompleteMultipartUpload"))
    if (where.removeprefix("stream-"), model.name) in kills:
        kill_at(model.name)

aws.client("s3").meta.events.register("before-call.s3.*", before)
aws.client("s3").meta.events.register("after-call.s3.*", done)
from model_training.handler import handle
print(json.dumps(handle(json.load(open(sys.argv[3])), Context(600_000))))
"""


def _big_csv(rows: int) -> bytes:
    lines = [b"x1,x2,x3,y_yes,y_no"]
    lines += [b"%d,%d.5,%d,%d,%d" % (i, i % 97, i % 13, i % 2, 1 - i % 2) for i in range(rows)]
    return b"\n".join(lines) + b"\n"


def _versions(bucket: str) -> list[dict[str, Any]]:
    listed = aws.client("s3").list_object_versions(Bucket=bucket, Prefix="automl/").get("Versions", [])
    return [v for v in listed if "/training/" in v["Key"]]


@pytest.mark.parametrize(
    ("where", "after"),
    [("ranged-read", 3), ("upload-part", 2), ("train-complete", 1), ("stream-ranged-read", 20), ("stream-upload-part", 2)],
)
def test_a_delivery_killed_mid_ranged_read_or_mid_upload_then_redelivered_starts_one_job(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, after: int
) -> None:
    key = "automl/2026-03-04/killed.csv"
    data = _big_csv(700_000)  # about 15 MB: the train file (70%) is three parts of 5 MiB
    meta = upload(pipeline.data_bucket, key, data)
    event = s3_event(
        pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME
    )
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), str(ROOT)]),
        "POWERTOOLS_METRICS_DISABLED": "true",
        "TMPDIR": str(tmp_path),
    }
    if where.startswith("stream-"):  # the streaming split: the object read twice (20: in pass 2), buckets in TMPDIR
        env["MODEL_TRAINING_STREAM_ABOVE_MB"] = "0"
        monkeypatch.setenv("MODEL_TRAINING_STREAM_ABOVE_MB", "0")
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED, where, str(after), str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert jobs() == []
    s3 = aws.client("s3")
    visible = [v["Key"] for v in _versions(pipeline.data_bucket)]
    if where != "train-complete":
        assert visible == [k for k in visible if k.endswith("/claim.json") or "claim" in k], visible

    left = [p.name for p in tmp_path.iterdir() if p.name.startswith("model-training-")]
    assert bool(left) == where.startswith("stream-"), left  # a SIGKILL leaves the streaming split's buckets
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    sqs = {"Records": [{"messageId": "m1", "body": json.dumps(event), "eventSource": "aws:sqs"}]}
    monkeypatch.setattr(claims, "WAIT_SECONDS", 0.5)
    monkeypatch.setattr(claims, "clock", lambda: __import__("time").time() + 700)  # the killed holder's lease ran out
    (result,) = handle(sqs, Context())["results"]
    assert result["status"] == "started", result
    (again,) = handle(sqs, Context())["results"]
    assert again["status"] == "duplicate", again
    assert len(jobs()) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("model-training-")] == []  # swept
    record_key = result["run_record"].split("/", 3)[3]
    record = json.loads(s3.get_object(Bucket=pipeline.data_bucket, Key=record_key)["Body"].read())
    assert record["source"]["size_bytes"] == len(data)
    assert sum(s["rows"] for s in record["splits"].values()) == 700_000
    for name, stored in record["files"].items():
        bucket, _, stored_key = stored["uri"].removeprefix("s3://").partition("/")
        body = s3.get_object(Bucket=bucket, Key=stored_key)["Body"].read()
        assert len(body) == stored["size_bytes"] and hashlib.sha256(body).hexdigest() == stored["sha256"], name


_COLD_THREADS = r"""
import json, sys, threading
events = json.load(open(sys.argv[1]))
barrier = threading.Barrier(len(events))
out = [None] * len(events)

def go(i):
    barrier.wait()
    import model_training  # the first invocation's lazy imports race on every thread
    from tests.fixtures import Context
    try:
        out[i] = model_training.lambda_handler(events[i], Context(600_000))
    except BaseException as exc:
        out[i] = {"raised": f"{type(exc).__name__}: {exc}"}

threads = [threading.Thread(target=go, args=(i,)) for i in range(len(events))]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(out))
"""


def test_concurrent_first_invocations_of_a_cold_process_race_the_lazy_imports_and_start_one_job(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    key = "automl/2026-03-04/cold.csv"
    data = _big_csv(5_000)
    meta = upload(pipeline.data_bucket, key, data)
    s3 = s3_event(
        pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME
    )
    bridge = {
        "version": "0", "id": "eb-1", "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
        "time": EVENT_TIME.replace(".000", ""), "region": "eu-west-2", "resources": [f"arn:aws:s3:::{pipeline.data_bucket}"],
        "detail": {"version": "0", "bucket": {"name": pipeline.data_bucket},
                   "object": {"key": key, "size": meta["size"], "etag": meta["etag"], "version-id": meta["version_id"]},
                   "request-id": "r", "requester": "123456789012", "reason": "PutObject"},
    }  # fmt: skip
    sqs = {"Records": [{"messageId": "m1", "body": json.dumps(bridge), "eventSource": "aws:sqs"}]}
    skipped = s3_event(pipeline.data_bucket, "automl/x.csv", event_name="ObjectRemoved:Delete", event_time=EVENT_TIME)
    path = tmp_path / "events.json"
    path.write_text(json.dumps([s3, bridge, sqs, s3, skipped, bridge]))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), str(ROOT)]), "POWERTOOLS_METRICS_DISABLED": "true"}
    done = subprocess.run(
        [sys.executable, "-c", _COLD_THREADS, str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [o for o in out if "raised" in o], out
    statuses = [r["status"] for o in out for r in o["results"]]
    assert statuses.count("started") == 1, out
    assert not [r for o in out for r in o["results"] if r["status"] == "failed" and not r.get("retryable")], out
    assert len(jobs()) == 1
