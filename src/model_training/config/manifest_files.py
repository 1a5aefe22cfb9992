"""Where a dataset's manifest comes from, and loading it.

First found wins: ``--manifest FILE``; ``manifest.json`` in the same folder or S3 prefix as the dataset;
``<dataset>.manifest.json`` beside it; a default manifest named by the environment variable
``MODEL_TRAINING_DEFAULT_MANIFEST`` (a path or an ``s3://`` URI) or by the SSM parameter
``mlops-{region}-{env}-default-manifest``.  The one that applied, with its SHA-256 (and eTag on S3), goes into
``run.json``; the manifest is part of the effective configuration, so a changed manifest is a new run.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_training.config.manifest import MAX_MANIFEST_BYTES, Manifest, manifest_too_large, read_manifest
from model_training.errors import ConfigurationError
from model_training.uris import parse_s3_uri


@dataclass(frozen=True)
class ManifestSource:
    """The manifest that applied: where it was found, its SHA-256 (and eTag on S3), and its content.

    Attributes:
        manifest: its valid keys (an invalid one is left out: see ``problems``).
        problems: one error per invalid key, with its line (reported with the configuration's other problems by
            :func:`~model_training.config.resolve.resolve`, so that a run or ``manifest check`` names them all at once).
        lines: the line of each key, by its path (``split.seed``), for messages.
    """

    uri: str
    sha256: str
    manifest: Manifest
    etag: str | None = None
    problems: tuple[ConfigurationError, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """What ``run.json`` says about it."""
        return {"uri": self.uri, "sha256": self.sha256, **({"etag": self.etag} if self.etag else {})}


def load_manifest_file(path: Path) -> ManifestSource:
    """Read and validate a local manifest file (its invalid keys are its ``problems``, not raised).

    Raises:
        ConfigurationError: missing, unreadable, larger than 64 KiB, not a JSON object.
    """
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
            if len(data) > MAX_MANIFEST_BYTES:
                raise manifest_too_large(str(path), path.stat().st_size if path.is_file() else f"more than {MAX_MANIFEST_BYTES}")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the manifest ({exc.strerror})", "check the path") from None
    return _source(path.resolve().as_uri(), data, str(path))


def _source(uri: str, data: bytes, origin: str, etag: str | None = None) -> ManifestSource:
    manifest, problems, lines = read_manifest(data, origin)
    return ManifestSource(uri, hashlib.sha256(data).hexdigest(), manifest, etag, tuple(problems), lines)


def _load_s3_manifest(bucket: str, key: str) -> ManifestSource | None:
    """The manifest at ``s3://bucket/key``, or ``None`` if it does not exist or cannot be read (the source's own
    read reports that properly); one larger than :data:`MAX_MANIFEST_BYTES` is refused without downloading it."""
    from model_training import aws

    try:
        response = aws.client("s3").get_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if aws.error_code(exc) in ("NoSuchKey", "404", "NotFound", "AccessDenied", "403", "NoSuchBucket"):
            return None  # the source's own read reports a missing bucket or object properly
        raise
    uri = f"s3://{bucket}/{key}"
    size = int(response.get("ContentLength") or 0)
    if size > MAX_MANIFEST_BYTES:
        response["Body"].close()  # not downloaded
        raise manifest_too_large(uri, size)
    data = response["Body"].read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise manifest_too_large(uri, f"more than {MAX_MANIFEST_BYTES}")
    return _source(uri, data, uri, str(response.get("ETag", "")).strip('"'))


def _load_uri(uri: str) -> ManifestSource:
    """The default manifest at ``uri`` (a path or ``s3://bucket/key``), which must exist."""
    where = "fix MODEL_TRAINING_DEFAULT_MANIFEST or the SSM parameter ...-default-manifest"
    if uri.startswith("s3://"):
        bucket, key = parse_s3_uri(uri)
        if not key or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise ConfigurationError(f"the default manifest {uri!r} is not an s3://bucket/key URI", where)
        found = _load_s3_manifest(bucket, key)
        if found is None:
            raise ConfigurationError(f"the default manifest {uri} does not exist or cannot be read", where)
        return found
    if not Path(uri).is_file():
        raise ConfigurationError(f"the default manifest {uri} does not exist", where)
    return load_manifest_file(Path(uri))


def find_manifest(
    source: str, *, explicit: Path | None = None, env: Mapping[str, str] | None = None, ssm_default: str | None = None
) -> ManifestSource | None:
    """The manifest of ``source`` (a local path or ``s3://`` URI), searched in the order this module's docstring
    gives; ``None`` if there is none.

    Args:
        explicit: ``--manifest FILE``.
        env: the environment (default ``os.environ``), for ``MODEL_TRAINING_DEFAULT_MANIFEST``.
        ssm_default: the value of the SSM parameter naming the default manifest, if read.

    Raises:
        ConfigurationError: the manifest found is unreadable, larger than 64 KiB or not a JSON object; the
            explicit or default manifest does not exist.  (Its invalid keys are its ``problems``, not raised.)
    """
    env = os.environ if env is None else env
    if explicit is not None:
        return load_manifest_file(explicit)
    raw_name = source.rstrip("/").rsplit("/", 1)[-1]
    stem = raw_name[: -len(".csv.gz")] if raw_name.lower().endswith(".csv.gz") else raw_name.rsplit(".", 1)[0]
    if source.startswith("s3://"):
        bucket, key = parse_s3_uri(source)
        folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
        for candidate in (f"{folder}manifest.json", f"{folder}{stem}.manifest.json"):
            found = _load_s3_manifest(bucket, candidate)
            if found is not None:
                return found
    else:
        folder_path = Path(source) if Path(source).is_dir() else Path(source).parent
        for candidate_path in (folder_path / "manifest.json", folder_path / f"{stem}.manifest.json"):
            if candidate_path.is_file():
                return load_manifest_file(candidate_path)
    default = env.get("MODEL_TRAINING_DEFAULT_MANIFEST") or ssm_default
    return _load_uri(default) if default else None
