"""The two kinds of location the stage reads and writes: ``s3://bucket/key`` and ``file://`` URIs (or plain
paths).

Ground floor: imports nothing from the package but :mod:`model_training.errors`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from model_training.errors import ConfigurationError


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``; the key may be empty (``s3://bucket``, ``s3://bucket/``) and is
    returned as written (a folder's keeps its trailing ``/``).

    Raises:
        ConfigurationError: not an ``s3://`` URI with a bucket.
    """
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise ConfigurationError(f"{uri!r} is not an s3:// URI", "write s3://bucket/key")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ConfigurationError(f"{uri!r} has no bucket", "write s3://bucket/key")
    return bucket, key


def path_from_uri(uri: str) -> Path:
    """The local path of a ``file://`` URI (percent-escapes decoded), or of a plain path.

    Raises:
        ValueError: another scheme (``s3://`` needs the S3 store).
    """
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":
        return Path(uri)
    raise ValueError(f"the local backend reads file:// URIs, not {uri!r}")
