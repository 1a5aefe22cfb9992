"""The ground-floor helpers for locations (``uris``) and tag text (``tags``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_training.errors import ConfigurationError
from model_training.output.s3_store import S3Store
from model_training.tags import is_tag_text, tag_value
from model_training.uris import parse_s3_uri, path_from_uri


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://bucket/a/b.csv") == ("bucket", "a/b.csv")
    assert parse_s3_uri("s3://bucket/folder/") == ("bucket", "folder/")
    assert parse_s3_uri("s3://bucket") == ("bucket", "")
    for bad in ("s3://", "s3:///key", "file:///x", "bucket/key"):
        with pytest.raises(ConfigurationError):
            parse_s3_uri(bad)


def test_path_from_uri() -> None:
    assert path_from_uri("file:///tmp/a%20b/c.csv") == Path("/tmp/a b/c.csv")
    assert path_from_uri("relative/c.csv") == Path("relative/c.csv")
    with pytest.raises(ValueError, match="file:// URIs"):
        path_from_uri("s3://bucket/key")


def test_a_tag_value_keeps_what_aws_allows_and_the_end_of_a_long_text() -> None:
    allowed = "Ab9 _.:/=+-@é"
    assert tag_value(allowed) == allowed and is_tag_text(allowed)
    assert tag_value("s3://b/x?y&z#1,2") == "s3://b/x_y_z_1_2"
    assert not is_tag_text("a&b") and not is_tag_text("a,b")
    long = "x" * 300 + "end"
    assert tag_value(long) == long[-256:] and tag_value(long).endswith("end")


def test_the_s3_store_tags_objects_with_the_same_rule() -> None:
    store = S3Store("bucket", client=object()).with_tags({"Source": "s3://b/data set,v2.csv", "RunId": "r1"})
    assert store.tags == {"Source": tag_value("s3://b/data set,v2.csv"), "RunId": "r1"}
    assert store.tags["Source"] == "s3://b/data set_v2.csv"
