"""Issue 16's S3 targets: reading the source and writing the split through S3, ours against boto3's own managed
transfer of the same bytes (and, for information, the original stage's).

On moto's server (:func:`model_training.offline.local_aws`, in this process, the pipeline provisioned), the bank
data x50 (484 MB, replicated as ``split_bench.build_input`` does) is uploaded as a versioned object, and the same
input cut at row boundaries at 70% and 90% stands for the split's three files.  Each measurement runs in its own
child process, the four interleaved, ``--runs`` times (medians):

* read, original: ``get_object(...)["Body"].read()`` (the original then parsed it with pandas: not timed here);
* read, ours: :meth:`model_training.data.s3.S3Source.read` of the event's version (parallel ranged GETs pinned to
  the version and the eTag, hashed as they arrive), every request counted with a botocore hook;
* write, original: ``put_object`` of each file's bytes, tagged ``ProcessedTime`` (the original stage's step 8);
* read and write, managed: boto3's own ``download_fileobj`` (ranges of our ``RANGE_BYTES``, ``RANGES_IN_FLIGHT``
  at a time) and ``upload_fileobj`` of the same bytes (parts of our ``PART_BYTES``, ``PARTS_IN_FLIGHT`` at a time),
  no hash and no verify: the library doing the same transfer, the baseline of the targets;
* write, ours: :meth:`model_training.output.s3_store.S3Store.write` of each file in 8 MiB chunks (as the split
  renders them) and its :meth:`~model_training.output.s3_store.S3Store.verify`, the files the child opens for
  writing counted (an audit hook): a spool to a temporary file would show there.

The targets are our overhead over the library (ours also hashes, and the write verifies): within 1.25x of the
managed read and write.  The original stage's figures are printed beside them for information: moto serves one
plain stream fastest and assembles a multipart upload slowly, which S3 does not.

moto's server is not S3: it reads the whole stored object for every ranged GET and answers from one process that
shares these 2 cores with the client, so the ranged read's figure is a floor (S3 serves each range from its own
servers, at about 90 MB/s per connection); the output says so.

    python benchmarks/s3_bench.py [--copies 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from split_bench import build_input
from targets import check

REPO = Path(__file__).resolve().parents[1]
MB = 1e6

#: One measurement in a child process: argv = mode, bucket, key/prefix, input file, cuts (JSON); prints a JSON line.
CHILD = r"""
import json, os, re, sys, time
mode, bucket, key, path, cuts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
out = {}
if mode.endswith("read"):
    import boto3
    if mode == "original-read":
        s3 = boto3.client("s3")
        started = time.perf_counter()
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        out["seconds"] = time.perf_counter() - started
    elif mode == "managed-read":  # boto3's own ranged download, as ours is configured, without a hash
        import io
        from boto3.s3.transfer import TransferConfig
        s3 = boto3.client("s3")
        from model_training.data.s3_ranged import RANGE_BYTES as size, RANGES_IN_FLIGHT as flight
        config = TransferConfig(multipart_threshold=size, multipart_chunksize=size, max_concurrency=flight)
        buffer = io.BytesIO()
        started = time.perf_counter()
        s3.download_fileobj(bucket, key, buffer, Config=config)
        out["seconds"] = time.perf_counter() - started
        data = buffer.getbuffer()
    else:
        from model_training import aws
        from model_training.data.s3 import S3Source
        gets = []
        def seen(request, **_):
            headers = {k.lower(): v for k, v in request.headers.items()}
            gets.append(["range" in headers, "versionId=" in request.url, "if-match" in headers])
        aws.client("s3").meta.events.register("before-send.s3.GetObject", seen)
        head = aws.client("s3").head_object(Bucket=bucket, Key=key)
        source = S3Source(bucket, key, version_id=head["VersionId"], etag=head["ETag"].strip('"'), event=True)
        started = time.perf_counter()
        info, data = source.read()
        out["seconds"] = time.perf_counter() - started
        out["gets"] = gets
    out["bytes"] = len(data)
else:
    with open(path, "rb") as fh:
        whole = fh.read()
    files = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)])]
    del whole
    names = ["train/train.csv", "validation/validation.csv", "testing/test.csv"]
    opened = []
    def audit(event, args):
        if event == "open" and isinstance(args[0], (str, bytes)) and isinstance(args[2], int) and args[2] & os.O_ACCMODE:
            opened.append(str(args[0]))
        elif event in ("tempfile.mkstemp", "tempfile.mkdtemp"):
            opened.append(event)
    if mode == "original-write":
        import boto3, datetime as dt
        s3 = boto3.client("s3")
        sys.addaudithook(audit)
        started = time.perf_counter()
        for name, body in zip(names, files):
            tag = "ProcessedTime=" + dt.datetime.now().strftime("%H:%M:%S")
            s3.put_object(Bucket=bucket, Key=f"{key}/{name}", Body=body, Tagging=tag)
        out["seconds"] = time.perf_counter() - started
    elif mode == "managed-write":  # boto3's own multipart upload of the same bytes, as ours is configured
        import io
        import boto3
        from boto3.s3.transfer import TransferConfig
        from model_training.output.s3_store import PART_BYTES as size, PARTS_IN_FLIGHT as flight
        s3 = boto3.client("s3")
        config = TransferConfig(multipart_threshold=size, multipart_chunksize=size, max_concurrency=flight)
        sys.addaudithook(audit)
        started = time.perf_counter()
        for name, body in zip(names, files):
            s3.upload_fileobj(io.BytesIO(body), bucket, f"{key}/{name}", Config=config)
        out["seconds"] = time.perf_counter() - started
    else:
        from model_training.output.s3_store import S3Store
        store = S3Store(bucket, root=key)
        store.client  # the client made before timing, as the original's
        assembly = []
        events = store.client.meta.events
        events.register("before-call.s3.CompleteMultipartUpload", lambda **_: assembly.append(-time.perf_counter()))
        events.register("after-call.s3.CompleteMultipartUpload", lambda **_: assembly.append(time.perf_counter()))
        sys.addaudithook(audit)
        started = time.perf_counter()
        for name, body in zip(names, files):
            view = memoryview(body)
            obj = store.write(name, (view[i : i + (8 << 20)] for i in range(0, len(body), 8 << 20)))
            assert store.verify(obj), name
        out["seconds"] = time.perf_counter() - started
        out["assembly"] = sum(assembly)
    out["bytes"] = sum(len(f) for f in files)
    out["opened"] = opened
times = os.times()
out["cpu"] = times.user + times.system
out["peak"] = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024
print(json.dumps(out))
"""


def keep_in_memory(key: str) -> None:
    """Make moto's server (in this process) keep the bytes of the object at ``key`` in memory once read: it reads
    the whole stored object from its spool file, and copies it, for every GET, ranged or not, then slices the range;
    S3 reads only the range.  Without this the ranged read measures moto (``--unpatched-moto``: 20x slower)."""
    from moto.s3.models import FakeKey

    read, write = FakeKey.value.fget, FakeKey.value.fset  # type: ignore[attr-defined]
    kept: dict[int, tuple[object, bytes]] = {}

    def value(self: FakeKey) -> bytes:
        if self.name != key:
            return read(self)
        hit = kept.get(id(self))
        if hit is None or hit[0] is not self:
            hit = kept[id(self)] = (self, read(self))
        return hit[1]

    def set_value(self: FakeKey, new: bytes) -> None:
        kept.pop(id(self), None)
        write(self, new)

    FakeKey.value = property(value, set_value)  # type: ignore[method-assign,assignment]


def cuts_of(path: Path) -> list[int]:
    """Byte offsets just after the row breaks nearest 70% and 90% of ``path`` (the split's three file sizes)."""
    size = path.stat().st_size
    cuts = []
    with path.open("rb") as fh:
        for fraction in (0.7, 0.9):
            fh.seek(int(size * fraction))
            fh.readline()
            cuts.append(fh.tell())
    return cuts


def run_child(mode: str, bucket: str, key: str, path: Path, cuts: list[int]) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, bucket, key, str(path), json.dumps(cuts)], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed with status {proc.returncode}: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50, help="replicate the bank data this many times (50: 484 MB)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--unpatched-moto", action="store_true", help="let moto read the whole object for every ranged GET")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "model-training-bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    src = build_input(args.copies, args.workdir)
    cuts = cuts_of(src)

    from model_training import aws
    from model_training.data.s3_ranged import RANGE_BYTES, RANGES_IN_FLIGHT
    from model_training.offline import local_aws, provision
    from model_training.output.s3_store import PART_BYTES, PARTS_IN_FLIGHT

    with local_aws() as endpoint:
        pipeline = provision()
        s3 = aws.client("s3")
        out_bucket = pipeline.data_bucket.replace("automl-data", "bench-out")  # not versioned: a rewrite frees the last
        s3.create_bucket(Bucket=out_bucket, CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]})
        key = f"automl/incoming/bank-x{args.copies}.csv"
        if not args.unpatched_moto:
            keep_in_memory(key)
        started = time.perf_counter()
        s3.upload_file(str(src), pipeline.data_bucket, key)
        size = src.stat().st_size
        print(f"moto's server at {endpoint}; s3://{pipeline.data_bucket}/{key} ({size / MB:.0f} MB, versioned) uploaded in "
              f"{time.perf_counter() - started:.1f} s; {args.runs} interleaved runs, each in its own process")  # fmt: skip
        modes = ("original-read", "ours-read", "managed-read", "original-write", "ours-write", "managed-write")
        figures: dict[str, list[dict]] = {m: [] for m in modes}
        for _ in range(args.runs):
            for mode in figures:
                where = key if mode.endswith("read") else f"{mode}"
                bucket = pipeline.data_bucket if mode.endswith("read") else out_bucket
                figures[mode].append(run_child(mode, bucket, where, src, cuts))

    def median(mode: str, field: str) -> float:
        return statistics.median(f[field] for f in figures[mode])

    print(f"\n{'':16}{'seconds':>9}{'MB/s':>8}{'CPU s':>7}{'peak MB':>9}  notes (CPU: the child's, imports included)")
    for mode in figures:
        seconds = median(mode, "seconds")
        moved = figures[mode][0]["bytes"]
        notes = ""
        if mode == "ours-read":
            gets = figures[mode][0]["gets"]
            notes = f"{sum(g[0] for g in gets)} ranged GETs of {RANGE_BYTES >> 20} MiB, {RANGES_IN_FLIGHT} in flight"
        if mode == "ours-write":
            notes = (
                f"upload_fileobj, {PART_BYTES >> 20} MiB parts, {PARTS_IN_FLIGHT} in flight, verified; files opened for writing: "
                f"{len(figures[mode][0]['opened'])}; of which moto's CompleteMultipartUpload: {median(mode, 'assembly'):.2f} s"
            )
        cpu, peak = median(mode, "cpu"), median(mode, "peak") / 2**20
        print(f"{mode:16}{seconds:9.2f}{moved / MB / seconds:8.0f}{cpu:7.2f}{peak:9.0f}  {notes}")
    print(
        "  moto's server reads the whole stored object for every GET and slices the range"
        + (" (here as it is: --unpatched-moto)" if args.unpatched_moto else " (patched here: the source's bytes kept in memory)")
        + ";\n  it shares the 2 cores with the client and assembles a multipart upload by copying every part twice more:\n"
        "  on S3 each range and each part is served by its own servers, so the parallel figures here are floors"
    )

    gets = [g for run in figures["ours-read"] for g in run["gets"]]
    ranged = [g for g in gets if g[0]]
    pinned = all(g[1] and g[2] for g in ranged)
    check(
        "S3",
        f"read: {len(ranged)} of {len(gets)} GETs ranged over {args.runs} reads, {'all' if pinned else 'NOT all'} pinned "
        "to the versionId and If-Match the eTag",
        "ranged GETs pinned to the version",
        len(ranged) >= 2 * args.runs and len(ranged) == len(gets) and pinned,
    )
    opened = [f for run in figures["ours-write"] for f in run["opened"]]
    check(
        "S3",
        f"write: {len(opened)} files opened for writing during {args.runs} writes of the split's three files",
        "no temporary spool",
        not opened,
    )
    for what in ("read", "write"):
        ours, managed = median(f"ours-{what}", "seconds"), median(f"managed-{what}", "seconds")
        original = median(f"original-{what}", "seconds")
        moved = figures[f"ours-{what}"][0]["bytes"] / MB
        library = "download_fileobj, the same ranges" if what == "read" else "upload_fileobj of the same bytes"
        also = "hashed" if what == "read" else "hashed and verified"
        check(
            "S3",
            f"{what}: {moved / ours:.0f} MB/s vs boto3's {library} {moved / managed:.0f} MB/s: {ours / managed:.2f}x "
            f"(ours {also}; for information, the original's {moved / original:.0f} MB/s, {ours / original:.2f}x)",
            "within 1.25x of boto3's own managed transfer",
            ours <= 1.25 * managed,
        )


if __name__ == "__main__":
    main()
