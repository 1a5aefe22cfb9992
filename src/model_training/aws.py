"""boto3 clients, created once per process and reused across warm Lambda invocations.

Endpoints come from boto3's own configuration (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_S3`` ...,
the shared config file), so the same code talks to AWS, MinIO or a moto server.  Retries use botocore's
``standard`` mode (exponential backoff with jitter on throttling, 5xx and connection errors).
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

_lock = threading.Lock()
_clients: dict[tuple[str, str | None, str | None, str | None], Any] = {}
#: The one boto3 session every client is made from (``None`` until the first client): a session of its own per client
#: loaded botocore's data (endpoints, retry rules, partitions) again each time, most of a first invocation's client
#: creation.  A session is not thread-safe: clients are created under ``_lock``; the clients themselves are.
_session: Any = None

#: The region when nothing configures one (the original stage's).
DEFAULT_REGION = "eu-west-2"

#: Retry policy for every client (botocore "standard" mode; AWS SDKs and Tools reference guide, "Retry behavior").
RETRY_MODE = os.environ.get("MODEL_TRAINING_RETRY_MODE", "standard")
MAX_ATTEMPTS = 5


def client(service: str, region: str | None = None) -> Any:
    """A cached boto3 client for ``service`` (``s3``, ``ssm``, ``sagemaker``, ``sts``), made from one shared session.

    The cache key includes the region and the endpoint settings in the environment, so a test (or the
    demo) that points ``AWS_ENDPOINT_URL`` elsewhere gets a new client.  The session resolves credentials once:
    a process that changes them calls :func:`reset_clients`.
    """
    from botocore.config import Config

    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or _config_region() or DEFAULT_REGION
    key = (service, region, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}"))
    with _lock:
        if key not in _clients:
            config = Config(retries={"mode": RETRY_MODE, "max_attempts": MAX_ATTEMPTS}, connect_timeout=10, read_timeout=60)
            if service == "s3":
                config = config.merge(Config(s3={"addressing_style": "path"} if os.environ.get("AWS_ENDPOINT_URL") else {}))
            _clients[key] = _shared_session().client(service, region_name=region, config=config)
        return _clients[key]


def _shared_session() -> Any:
    """The process's boto3 session, made on first use (call with ``_lock`` held)."""
    global _session
    if _session is None:
        import boto3

        _session = boto3.session.Session()
    return _session


@functools.cache
def _config_region() -> str | None:
    """The region from the shared config file or profile, if any (read once: building a session reads
    the config files, and :func:`client` is called for every store and source)."""
    with _lock:
        return _shared_session().region_name


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


#: AWS error codes a later attempt may not get (throttling, server faults); boto3's standard retries came first.
TRANSIENT_CODES = frozenset(
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "TooManyRequestsException",
        "SlowDown", "RequestLimitExceeded", "ProvisionedThroughputExceededException", "RequestTimeout",
        "RequestTimeoutException", "ServiceUnavailable", "InternalError", "InternalFailure", "InternalServerError",
    }
)  # fmt: skip


def is_transient(exc: BaseException) -> bool:
    """Whether a retry may cure ``exc``: connection problems, timeouts, throttling and 5xx answers.
    Everything else (a refused request, a missing bucket, a bad parameter) fails the same way again."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    if isinstance(exc, ConnectionError | TimeoutError | BotoConnectionError | HTTPClientError):
        return True
    if error_code(exc) in TRANSIENT_CODES:
        return True
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return isinstance(status, int) and status >= 500


def reset_clients() -> None:
    """Forget every cached client and the session (tests that restart the endpoint or change the credentials)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None
