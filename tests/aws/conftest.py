"""A moto server on 127.0.0.1 for the whole session; each test gets a clean state and a provisioned
pipeline (buckets and SSM parameters named as the reference pipeline names them)."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator

import pytest

from model_training import aws
from model_training.config import settings
from model_training.offline import FAKE_CREDENTIALS, Pipeline, local_aws, provision

REGION = "eu-west-2"


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    with local_aws(REGION) as url:
        yield url


@pytest.fixture
def pipeline(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **FAKE_CREDENTIALS,
    }.items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith("MODEL_TRAINING_") and key != "MODEL_TRAINING_SHARED_DATA":
            monkeypatch.delenv(key)
    monkeypatch.setenv("SERVERLESS_ENVIRONMENT", "dev")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    aws.reset_clients()
    settings.clear_cache()
    return provision(REGION, "dev")


def training_objects(bucket: str) -> list[dict]:
    """The current objects of every run folder (``automl/{date}/training/...``) in ``bucket``, whatever the
    run date (an object version's own ``LastModified`` date: the upload's day on moto)."""
    paginator = aws.client("s3").get_paginator("list_objects_v2")
    return [
        o
        for page in paginator.paginate(Bucket=bucket, Prefix="automl/")
        for o in page.get("Contents", [])
        if "/training/" in o["Key"]
    ]


def run_day(bucket: str, key: str) -> str:
    """The run date of the current version of ``key``: its ``LastModified`` in UTC, as ``YYYY-MM-DD``."""
    import datetime as dt

    return aws.client("s3").head_object(Bucket=bucket, Key=key)["LastModified"].astimezone(dt.UTC).date().isoformat()
