"""Where split files, run records and models are stored: a local folder (S3 comes with issue #3).

Keys are ``/``-separated, like S3 keys.  Every write is atomic: the bytes go to a temporary file in the
target folder, are flushed to disk, and are renamed into place, so a reader (or a crash) never sees a
half-written object; a rewrite of the same key with the same bytes is a no-op in effect.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from model_training.errors import ConfigurationError


@dataclass(frozen=True)
class StoredObject:
    """An object as written.

    Attributes:
        key: the ``/``-separated key under the store's root.
        uri: ``file:///abs/path`` (``s3://bucket/key`` for S3).
        size_bytes: its size in bytes.
        sha256: hex SHA-256 of its bytes.
    """

    key: str
    uri: str
    size_bytes: int
    sha256: str


class LocalStore:
    """A folder used like a bucket.

    Args:
        root: the folder; created on first write.

    Keys that would escape the root (``..``, absolute keys, a symlink pointing outside) are refused
    with :class:`ConfigurationError`.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    def path(self, key: str) -> Path:
        """The file path of ``key``.

        Raises:
            ConfigurationError: the key is empty, absolute, or resolves outside the root.
        """
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ConfigurationError(f"invalid object key {key!r}", "keys are relative paths without '.', '..' or '//'")
        path = self.root.joinpath(*parts)
        root = self.root.resolve()
        resolved = path.resolve()
        if resolved != root and root not in resolved.parents:
            raise ConfigurationError(f"object key {key!r} resolves outside {self.root}", "remove the symlink")
        return path

    def uri(self, key: str) -> str:
        """The ``file://`` URI of ``key``."""
        return self.path(key).as_uri()

    def exists(self, key: str) -> bool:
        """Whether an object exists at ``key``."""
        return self.path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        """The bytes at ``key``.

        Raises:
            FileNotFoundError: no object at ``key``.
        """
        return self.path(key).read_bytes()

    def write(self, key: str, chunks: Iterable[bytes]) -> StoredObject:
        """Write ``chunks`` to ``key`` atomically; returns its size and SHA-256 (computed as written)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredObject(key=key, uri=path.as_uri(), size_bytes=size, sha256=digest.hexdigest())

    def write_bytes(self, key: str, data: bytes) -> StoredObject:
        """Write ``data`` to ``key`` atomically."""
        return self.write(key, [data])

    def delete(self, key: str) -> None:
        """Remove ``key`` if it exists."""
        self.path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` (a folder key), sorted."""
        base = self.path(prefix.rstrip("/"))
        if not base.is_dir():
            return iter(())
        rel = sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())
        return iter(rel)

    def verify(self, obj: StoredObject) -> bool:
        """Whether the object at ``obj.key`` still has ``obj``'s size and SHA-256."""
        path = self.path(obj.key)
        if not path.is_file() or path.stat().st_size != obj.size_bytes:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(8 * 1024 * 1024):
                digest.update(chunk)
        return digest.hexdigest() == obj.sha256
