"""A local folder used as a store (:class:`~model_training.ports.Store`) of split files, run records and models.

Keys are ``/``-separated, like S3 keys.  Every write is atomic: the bytes go to a temporary file in the
store's ``_tmp/`` folder (never into a channel folder, whose every file the training container reads),
are flushed to disk, and are renamed into place, so a reader (or a crash) never sees a
half-written object; a rewrite of the same key with the same bytes is a no-op in effect.  The ``_tmp/``
folder is removed again when a write leaves it empty, so a finished run leaves only its objects (the
deployment stage watches the folder a model is written to).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from model_training.errors import ConfigurationError
from model_training.hashing import HashBehind
from model_training.output.direct_write import write_chunks
from model_training.ports import Chunk, StoredObject


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Mode of the files written: 0666 less the process's umask, as open() would create them.
FILE_MODE = 0o666 & ~_umask()


#: The folder under a local store's root that holds files being written (``{pid}-*.tmp``).
TMP_FOLDER = "_tmp"


class LocalStore:
    """A folder used like a bucket.

    Args:
        root: the folder; created on first write.

    Keys that would escape the root (``..``, absolute keys, a symlink pointing outside) are refused
    with :class:`ConfigurationError`.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self._swept = False

    def with_tags(self, tags: dict[str, str]) -> LocalStore:
        """The same store (files carry no tags)."""
        return self

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

    def write(self, key: str, chunks: Iterable[Chunk]) -> StoredObject:
        """Write ``chunks`` to ``key`` atomically; returns its size and SHA-256 (computed as written).  A file
        larger than 4 MiB is written past the page cache where the file system allows it
        (:func:`~model_training.output.direct_write.write_chunks`)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = HashBehind()
        fd, tmp = self._temporary()
        try:
            os.fchmod(fd, FILE_MODE)  # mkstemp creates 0600; outputs are ordinary files
            try:
                write_chunks(fd, tmp, chunks, digest)
                os.fsync(fd)
                st = os.fstat(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            self._tidy()
        stamp = (st.st_dev, st.st_ino, st.st_mtime_ns)
        return StoredObject(key=key, uri=path.as_uri(), size_bytes=digest.size_bytes, sha256=digest.hexdigest(), stamp=stamp)

    def write_bytes(self, key: str, data: bytes) -> StoredObject:
        """Write ``data`` to ``key`` atomically."""
        return self.write(key, [data])

    def _temporary(self) -> tuple[int, str]:
        """A new temporary file in ``{root}/_tmp/``, named ``{pid}-...tmp`` (never inside a channel folder,
        whose every file the training container reads); the first call removes the temporary files of
        processes that are gone (a killed run's)."""
        from model_training.processes import sweep_dead

        folder = self.root / TMP_FOLDER
        if not self._swept:
            sweep_dead(folder, "")
            self._swept = True
        for _ in range(9):
            folder.mkdir(parents=True, exist_ok=True)
            try:
                return tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=folder)
            except FileNotFoundError:  # another write emptied and removed it meanwhile (:meth:`_tidy`)
                continue
        return tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=folder)

    def _tidy(self) -> None:
        """Remove ``{root}/_tmp/`` if it is empty (another write's temporary file keeps it)."""
        with contextlib.suppress(OSError):
            (self.root / TMP_FOLDER).rmdir()

    def sweep(self, prefix: str) -> None:
        """Remove what a killed run left: dead processes' files in ``{root}/_tmp/`` (and the folder, if that
        empties it), and temporary files of older versions of this store (``.{name}.*.tmp``) under the folder
        ``prefix``."""
        from model_training.processes import sweep_dead

        sweep_dead(self.root / TMP_FOLDER, "")
        self._tidy()
        self._swept = True
        base = self.path(prefix.rstrip("/"))
        if base.is_dir():
            for stale in base.rglob(".*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()

    def delete(self, key: str) -> None:
        """Remove ``key`` if it exists."""
        self.path(key).unlink(missing_ok=True)

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Create ``key`` with ``data`` only if it does not exist; ``False`` if it did.  The bytes are written
        to a temporary file first and linked into place (``link`` fails if the name exists), so a reader
        never sees the object without its content."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = self._temporary()
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            return True
        finally:
            Path(tmp).unlink(missing_ok=True)
            self._tidy()

    def age_seconds(self, key: str) -> float | None:
        """Seconds since ``key`` was written, or ``None`` if it does not exist."""
        import time

        try:
            return time.time() - self.path(key).stat().st_mtime
        except FileNotFoundError:
            return None

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` (a folder key), sorted."""
        base = self.path(prefix.rstrip("/"))
        if not base.is_dir():
            return iter(())
        rel = sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())
        return iter(rel)

    def verify(self, obj: StoredObject) -> bool:
        """Whether the file at ``obj.key`` is the one written: the same device, inode, size and
        modification time (``obj.stamp``; a file written elsewhere is hashed instead).

        The file was written to a temporary name, flushed to disk and renamed into place by
        :meth:`write`, which hashed the bytes as they went; reading it back right away would only read
        the page cache that ``write`` just filled, so what is checked is that nothing replaced, truncated
        or rewrote it since (the counterpart of
        :meth:`~model_training.output.s3_store.S3Store.verify`'s ``HeadObject``).  A same-size rewrite within
        the file system's clock tick (a few ms) is not seen.
        """
        path = self.path(obj.key)
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        if not path.is_file() or st.st_size != obj.size_bytes:
            return False
        if obj.stamp is not None:
            return (st.st_dev, st.st_ino, st.st_mtime_ns) == obj.stamp
        digest = HashBehind()
        with path.open("rb") as fh:
            while chunk := fh.read(8 * 1024 * 1024):
                digest.update(chunk)
        return digest.hexdigest() == obj.sha256
