"""An AWS endpoint on this machine for the demo and the tests: moto's server (S3, SSM, SageMaker, STS)
on 127.0.0.1, a free port, with the buckets and SSM parameters the stage reads (:func:`provision`).

Nothing in the stage is mocked: boto3 talks HTTP to the server through ``AWS_ENDPOINT_URL``, exactly
as it would talk to AWS or MinIO.  Needs the ``demo`` extra (``moto[server]``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from model_training.aws import DEFAULT_REGION
from model_training.errors import ConfigurationError

#: Credentials moto accepts; never real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


@dataclass(frozen=True)
class Pipeline:
    """The resources of one pipeline environment, named by the pipeline's rule ``mlops-{region}-{environment}-...``.

    Attributes:
        region, environment: ``mlops-{region}-{environment}-...``.
        data_bucket, model_output_bucket: bucket names (with a suffix, as the real ones have).
        role_arn: the SageMaker execution role's ARN.
    """

    region: str
    environment: str
    data_bucket: str
    model_output_bucket: str
    role_arn: str


@contextmanager
def local_aws(region: str = DEFAULT_REGION) -> Iterator[str]:
    """Start moto's server on 127.0.0.1 (a free port) and point boto3 at it through the environment
    (``AWS_ENDPOINT_URL``, fake credentials, ``AWS_REGION``) for the duration; yields the endpoint URL.

    Raises:
        ConfigurationError: moto is not installed.
    """
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise ConfigurationError(
            "the offline AWS endpoint needs moto, which is not installed",
            "install the demo extra: from a clone, .venv/bin/pip install -e '.[demo]' (make demo does it)",
        ) from None
    import logging

    from model_training import aws
    from model_training.config import settings

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its state per process, not per server: start from nothing
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).read()
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", *FAKE_CREDENTIALS)}
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": region, "AWS_DEFAULT_REGION": region, **FAKE_CREDENTIALS})
    aws.reset_clients()
    settings.clear_cache()
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        aws.reset_clients()
        settings.clear_cache()


def provision(region: str = DEFAULT_REGION, environment: str = "dev", suffix: str = "a1b2c3") -> Pipeline:
    """Create the data and model-output buckets (versioned, as the real ones are; named
    ``mlops-{region}-{environment}-automl-data-{suffix}`` and ``...-model-output-{suffix}``) and the SSM
    ``SecureString`` parameters the stage reads: ``mlops-{region}-{environment}-automl-data`` and
    ``...-model-output`` (the bucket names) and ``...-sagemaker-role-arn`` (the SageMaker role's ARN)."""
    from model_training import aws

    s3 = aws.client("s3")
    ssm = aws.client("ssm")
    account = aws.client("sts").get_caller_identity()["Account"]
    names = {
        "automl-data": f"mlops-{region}-{environment}-automl-data-{suffix}",
        "model-output": f"mlops-{region}-{environment}-model-output-{suffix}",
    }
    for bucket in names.values():
        args: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**args)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    role_arn = f"arn:aws:iam::{account}:role/mlops-{region}-{environment}-sagemaker-role"
    for thing, value in (*names.items(), ("sagemaker-role-arn", role_arn)):
        ssm.put_parameter(Name=f"mlops-{region}-{environment}-{thing}", Value=value, Type="SecureString", Overwrite=True)
    return Pipeline(region, environment, names["automl-data"], names["model-output"], role_arn)


def s3_event(
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    etag: str | None = None,
    size: int = 0,
    event_time: str | None = None,
    event_name: str = "ObjectCreated:Put",
    region: str = DEFAULT_REGION,
) -> dict[str, Any]:
    """An S3 event notification for one object, as S3 sends it (the key URL-encoded)."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "sequencer": "0055AED6DCD90281E5"}
    if etag:
        obj["eTag"] = etag
    if version_id:
        obj["versionId"] = version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:EXAMPLE"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "EXAMPLE123456789", "x-amz-id-2": "EXAMPLE"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "automl-training",
                    "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"}, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": obj,
                },
            }
        ]
    }


def upload(bucket: str, key: str, data: bytes) -> dict[str, Any]:
    """Put ``data`` at ``s3://bucket/key``; returns ``{"etag", "version_id", "size"}`` for an event."""
    from model_training import aws

    response = aws.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    return {"etag": response["ETag"].strip('"'), "version_id": response.get("VersionId"), "size": len(data)}
