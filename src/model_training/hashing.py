"""SHA-256 on a worker thread, so that hashing overlaps with reading or writing.

hashlib releases the GIL while it hashes a buffer, so a digest fed from a second thread runs beside the
``readinto``/``write`` of the next chunk: reading a 484 MB file and hashing it takes the longer of the two
instead of their sum.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor


class HashBehind:
    """A SHA-256 digest updated one chunk behind the caller.

    Each :meth:`update` waits for the previous chunk to be hashed, then hands this one to the worker, so
    at most one chunk is in flight; the caller must not modify a chunk until the next :meth:`update` or
    :meth:`hexdigest` returns.
    """

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self.size_bytes = 0  # bytes given so far
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def update(self, chunk: bytes | memoryview) -> None:
        """Hash ``chunk`` (bytes-like) after the chunks given before it."""
        self.size_bytes += len(chunk)
        if len(chunk) < 1 << 20:  # small: not worth a thread hop
            self._wait()
            self._digest.update(chunk)
            return
        self._wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="sha256")
        self._pending = self._pool.submit(self._digest.update, chunk)

    def hexdigest(self) -> str:
        """The hex SHA-256 of every chunk given (waits for the last one)."""
        self._wait()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        return self._digest.hexdigest()

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def __del__(self) -> None:  # an abandoned digest (an error while reading) must not leave its thread
        if self._pool is not None:
            self._pool.shutdown(wait=False)


def hash_pieces(pieces: Iterable[bytes], on_bytes: Callable[[int], None] | None = None) -> tuple[int, str]:
    """``(size in bytes, hex SHA-256)`` of the concatenation of ``pieces``, hashed beside the reading;
    ``on_bytes`` is called with each piece's size (progress)."""
    digest = HashBehind()
    size = 0
    for piece in pieces:
        digest.update(piece)
        size += len(piece)
        if on_bytes:
            on_bytes(len(piece))
    return size, digest.hexdigest()


def crc32_base64(crc: int) -> str:
    """A CRC-32 as S3 writes it (``x-amz-checksum-crc32``): its 4 big-endian bytes in base64."""
    import base64

    return base64.b64encode(crc.to_bytes(4, "big")).decode()
