"""The streaming split against S3 (moto's server over HTTP): ranged reads of a pinned object, multipart
uploads of the channels, and the same bytes as the in-memory split."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from model_training import aws
from model_training.config.run import StreamOptions, build_config
from model_training.data.s3 import S3Source
from model_training.offline import Pipeline, upload
from model_training.output.s3_store import S3Store
from model_training.pipeline import run_pipeline
from model_training.training.jobs import TrainingTarget

TARGET = TrainingTarget(image="local", model_output_root="s3://models")


def test_streaming_from_and_to_s3_is_byte_identical_and_multipart(pipeline: Pipeline, bank_csv: Path) -> None:
    header, body = bank_csv.read_bytes().split(b"\n", 1)
    data = header + b"\n" + body * 2  # 19 MB: 19 chunks of 1 MiB, a train channel of three 5 MiB parts
    key = "automl/incoming/bank-x2.csv"
    upload(pipeline.data_bucket, key, data)
    s3 = aws.client("s3")
    objects: dict[str, dict[str, bytes]] = {}
    records: dict[str, dict] = {}
    for mode, options in (
        ("memory", StreamOptions(above_bytes=None)),
        ("stream", StreamOptions(above_bytes=0, chunk_bytes=1 << 20)),
    ):
        store = S3Store(pipeline.data_bucket, root=f"runs-{mode}", multipart_threshold=5 * 1024 * 1024)
        config = build_config(run_date=dt.date(2026, 1, 1))
        result = run_pipeline(
            S3Source(pipeline.data_bucket, key), config, store=store, backend=None, target=TARGET, stream=options
        )
        assert result.record.splits["train"].rows == int(0.7 * 82376)
        objects[mode] = {}
        for name, file in result.record.files.items():
            got = s3.get_object(Bucket=pipeline.data_bucket, Key=f"runs-{mode}/{file.key}")
            objects[mode][name] = got["Body"].read()
            if name == "train":
                parts = int(got["ETag"].strip('"').rsplit("-", 1)[1])  # a multipart upload's ETag ends in -<parts>
                assert parts >= 3
        records[mode] = result.record.source
    assert records["memory"] == records["stream"]  # the same identity, size and SHA-256 of the bytes split
    assert records["stream"]["sha256"] and records["stream"]["size_bytes"] == len(data)
    assert objects["memory"].keys() == objects["stream"].keys()
    for name in objects["memory"]:
        assert objects["memory"][name] == objects["stream"][name], name


def test_a_gzip_object_streams_to_the_same_record(pipeline: Pipeline, bank_csv: Path) -> None:
    import gzip

    data = gzip.compress(bank_csv.read_bytes())
    key = "automl/incoming/bank.csv.gz"
    upload(pipeline.data_bucket, key, data)
    records = []
    for mode, options in (
        ("memory", StreamOptions(above_bytes=None)),
        ("stream", StreamOptions(above_bytes=0, chunk_bytes=1 << 20)),
    ):
        store = S3Store(pipeline.data_bucket, root=f"gz-{mode}")
        config = build_config(run_date=dt.date(2026, 1, 1))
        result = run_pipeline(
            S3Source(pipeline.data_bucket, key), config, store=store, backend=None, target=TARGET, stream=options
        )
        records.append((result.record.source, {k: f.sha256 for k, f in result.record.files.items()}))
    assert records[0] == records[1]
    assert records[1][0]["size_bytes"] == len(data)  # the object's size, as stored
