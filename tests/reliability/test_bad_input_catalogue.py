"""The bad-input catalogue (issue #5), each case delivered to the Lambda handler against moto's server:
a typed error naming the object (and the line and column where they apply) with a hint, no split file
committed, no run record written, no training job started."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, jobs, training_objects, zip_of

HEADER = "f1,f2,y_no,y_yes\n"


GOOD_ROWS = "".join(f"{i % 7}.5,{i % 5},{int(i % 3 != 0)},{int(i % 3 == 0)}\n" for i in range(30))

# (case, file name, body, expected text in the reason)
CASES: list[tuple[str, str, bytes, str]] = [
    ("1 empty object", "empty.csv", b"", "empty"),
    ("1 header only", "header.csv", HEADER.encode(), "no data rows"),
    ("1 blank lines", "blank.csv", b"\n\n\n", "empty"),
    ("2 too few rows", "few.csv", (HEADER + "1,2,0,1\n2,3,1,0\n3,4,0,1\n").encode(), "rows or more always work"),
    ("3 label missing", "nolabel.csv", ("f1,f2,y_no,yes\n" + "1,2,0,1\n" * 20).encode(), "'y_yes' is not in the header"),
    ("3 duplicate columns", "dups.csv", ("f1,f1,y_no,y_yes\n" + "1,2,0,1\n" * 20).encode(), "duplicate column names"),
    ("4 blank label", "blanklabel.csv", (HEADER + GOOD_ROWS + "1,2,0,\n").encode(), "line 32 is empty"),
    ("4 NaN label", "nanlabel.csv", (HEADER + GOOD_ROWS + "1,2,0,NaN\n").encode(), "line 32 is not a number"),
    ("4 label outside [0,1]", "label2.csv", (HEADER + GOOD_ROWS + "1,2,0,2\n").encode(), "outside [0, 1]"),
    ("4 single class", "oneclass.csv", (HEADER + "1,2,1,0\n" * 30).encode(), "single class"),
    ("5 non-numeric", "yes.csv", (HEADER + GOOD_ROWS + "yes,2,0,1\n").encode(), "'f1' on line 32 is not a number: 'yes'"),
    ("5 a date", "date.csv", (HEADER + GOOD_ROWS + "1,2026-01-01,0,1\n").encode(), "'f2' on line 32 is not a number"),
    ("5 booleans", "bool.csv", (HEADER + GOOD_ROWS + "True,2,0,1\n").encode(), "'f1' on line 32 is not a number: 'True'"),
    ("6 ragged short", "short.csv", (HEADER + GOOD_ROWS + "1,2,0\n").encode(), "line 32 has 3 fields, the header has 4"),
    ("6 ragged long", "long.csv", (HEADER + GOOD_ROWS + "1,2,0,1,9\n").encode(), "line 32 has 5 fields"),
    ("7 invalid UTF-8", "utf8.csv", (HEADER + GOOD_ROWS).encode() + b"1,\xff,0,1\n", "line 32 (column 'f2') is not valid UTF-8"),
    ("7 semicolons", "semi.csv", b'"f1";"y_no";"y_yes"\n1;0;1\n', "';'-separated"),
    ("8 corrupt gzip", "broken.csv.gz", gzip.compress((HEADER + GOOD_ROWS).encode())[:-8], "gzip data is corrupt"),
    ("12 UTF-16LE, no BOM", "utf16.csv", (HEADER + GOOD_ROWS).encode("utf-16-le"), "the file is UTF-16 (little-endian, no"),
    ("12 UTF-16LE with BOM", "utf16bom.csv", (HEADER + GOOD_ROWS).encode("utf-16"), "UTF-16 (little-endian, with a byte-order"),
    (
        "12 zip renamed .csv",
        "zipped.csv",
        zip_of(HEADER + GOOD_ROWS),
        "this is a zip archive (an .xlsx workbook is one), not CSV",
    ),
    (
        "12 NUL in a name",
        "nul.csv",
        ("f1,f\x002,y_no,y_yes\n" + GOOD_ROWS).encode(),
        "header column 2 ('f\\x002') holds a NUL byte",
    ),
    ("12 second BOM", "bom2.csv", b"\xef\xbb\xbf" + (("\ufeff" + HEADER + GOOD_ROWS).encode()), "holds a second byte-order mark"),
]


def nothing_written(p: Pipeline) -> None:
    contents = training_objects(p.data_bucket)
    assert contents == [], [c["Key"] for c in contents]
    assert jobs() == []


@pytest.mark.parametrize(("case", "name", "body", "reason"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_cleanly(pipeline: Pipeline, catalogue: Any, case: str, name: str, body: bytes, reason: str) -> None:
    key = f"automl/2026-03-04/{name}"
    meta = upload(pipeline.data_bucket, key, body)
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], event_time=EVENT_TIME)
    catalogue.record("bad inputs tried")
    (result,) = handle(event, Context())["results"]
    assert result["status"] == "failed", result
    assert result["retryable"] is False
    assert f"s3://{pipeline.data_bucket}/{key}" in result["reason"]  # names the object
    assert reason in f"{result['reason']} {result['hint']}", result
    assert result.get("hint")
    nothing_written(pipeline)


def test_what_must_work_works(pipeline: Pipeline, catalogue: Any) -> None:
    """7 and 8: a byte-order mark, CRLF, no final newline, .csv.gz and a gzip body under .csv all work."""
    text = HEADER + GOOD_ROWS
    bodies = {
        "bom.csv": b"\xef\xbb\xbf" + text.encode(),
        "crlf.csv": text.replace("\n", "\r\n").encode(),
        "nofinal.csv": text.rstrip("\n").encode(),
        "packed.csv.gz": gzip.compress(text.encode()),
        "gzipbody.csv": gzip.compress(text.encode()),
    }
    trains = set()
    for name, body in bodies.items():
        key = f"automl/2026-03-04/{name}"
        meta = upload(pipeline.data_bucket, key, body)
        (result,) = handle(s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], event_time=EVENT_TIME), Context())[
            "results"
        ]
        catalogue.record("bad inputs tried")
        assert result["status"] == "started", (name, result)
        train = (
            aws.client("s3")
            .get_object(Bucket=pipeline.data_bucket, Key=result["outputs"]["train"].split("/", 3)[3])["Body"]
            .read()
        )
        assert b"\r" not in train and not train.startswith(b"\xef\xbb\xbf")
        trains.add(train)
    assert len(trains) == 1  # the same rows, the same bytes, whatever the framing


def test_an_object_over_the_size_limit_is_refused_before_download(
    pipeline: Pipeline, catalogue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_TRAINING_MAX_OBJECT_BYTES", "100")
    key = "automl/2026-03-04/big.csv"
    meta = upload(pipeline.data_bucket, key, (HEADER + GOOD_ROWS).encode())
    gets: list[str] = []
    aws.client("s3").meta.events.register("before-send.s3.GetObject", lambda request, **_: gets.append(request.url))
    try:
        (result,) = handle(s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], event_time=EVENT_TIME), Context())[
            "results"
        ]
    finally:
        aws.client("s3").meta.events.unregister("before-send.s3.GetObject")
    catalogue.record("bad inputs tried")
    assert result["status"] == "failed" and "more than the configured maximum of 100 bytes" in result["reason"]
    assert not [g for g in gets if "big.csv" in g]
    nothing_written(pipeline)
