"""Reading a large S3 object with parallel ranged ``GetObject`` requests through boto3's managed transfer
(s3transfer's ``TransferManager``), every range pinned to one object version: its ``VersionId`` when it has one,
and always its ``ETag`` (``If-Match``), so an object replaced during the read fails the read
(s3transfer's ``S3DownloadFailedError``) instead of mixing two objects' bytes.

Two ways to take the bytes:

* :func:`read_ranged`: into one buffer of the object's size, hashed (SHA-256) as the ranges arrive in order
  (the in-memory split).
* :func:`ranged_pieces`: as pieces of about a given size through a bounded pipe (the streaming split): memory
  stays bounded whatever the object's size (:data:`STREAM_RANGES_IN_FLIGHT` ranges, s3transfer's write queue and
  :data:`PIPE_PIECES` pieces).

s3transfer writes the ranges in order to an output that is not seekable (it holds the ranges that arrive early:
at most the ranges in flight), on one I/O thread; the caller's thread only waits.  Its errors are raised as
s3transfer raises them (a ``ClientError`` for S3's refusals; ``S3DownloadFailedError`` for an ``ETag`` that no
longer matches; ``RetriesExceededError`` after repeated connection failures): :class:`~model_training.data.s3.S3Source`
words them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from model_training.hashing import HashBehind

#: Objects of at least this many bytes are read with ranged requests (smaller ones: one ``GetObject``).
RANGED_FROM_BYTES = 16 * 1024 * 1024
#: Bytes per ranged ``GetObject``.
RANGE_BYTES = 8 * 1024 * 1024
#: Ranges in flight for an in-memory read (the early ones are held: at most this many ranges, 32 MiB, beside the
#: buffer).
RANGES_IN_FLIGHT = 4
#: Ranges in flight for a streamed read (a couple: memory stays bounded while the split consumes the pieces).
STREAM_RANGES_IN_FLIGHT = 2
#: Pieces of the pipe of a streamed read (each about the size the caller asks for).
PIPE_PIECES = 1
#: Bytes per write s3transfer hands to the output (its default is 256 KiB: four times the tasks).
IO_BYTES = 1024 * 1024
#: s3transfer's pending writes (of :data:`IO_BYTES`) at most: 16 MiB in memory, 4 MiB for a streamed read.
IO_QUEUE = 16
STREAM_IO_QUEUE = 4


class _Pinned:
    """An s3transfer subscriber that gives the transfer the object's size and quoted ``ETag`` (from the caller's
    ``HeadObject``), so it sends no ``HeadObject`` of its own and pins every range to that ``ETag``."""

    def __init__(self, size: int, etag: str) -> None:
        self.size, self.etag = size, etag

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self.size)
        future.meta.provide_object_etag(f'"{self.etag.strip(chr(34))}"')

    def on_progress(self, **kwargs: Any) -> None:  # s3transfer calls every subscriber's hooks
        pass

    def on_done(self, **kwargs: Any) -> None:
        pass


def _manager(client: Any, concurrency: int, io_queue: int) -> Any:
    from boto3.s3.transfer import TransferConfig, create_transfer_manager

    config = TransferConfig(
        multipart_threshold=1,  # the caller decided: ranges whatever the size
        multipart_chunksize=RANGE_BYTES,
        max_concurrency=concurrency,
        max_io_queue=io_queue,
        io_chunksize=IO_BYTES,
    )
    return create_transfer_manager(client, config)


def _download(manager: Any, client_args: dict[str, Any], fileobj: Any, size: int, etag: str) -> Any:
    """Start the download of ``client_args`` (``Bucket``, ``Key``, optional ``VersionId``) into ``fileobj``."""
    extra = {"VersionId": client_args["VersionId"]} if client_args.get("VersionId") else {}
    return manager.download(
        client_args["Bucket"], client_args["Key"], fileobj, extra_args=extra, subscribers=[_Pinned(size, etag)]
    )


class _Into:
    """The in-order output of :func:`read_ranged`: copies each write into the buffer and hashes it."""

    def __init__(self, size: int, on_bytes: Callable[[int], None] | None) -> None:
        self.buffer = bytearray(size)
        self.view = memoryview(self.buffer)
        self.at = 0
        self.digest = HashBehind()  # hashed on another thread while the next piece is copied
        self.on_bytes = on_bytes

    def seekable(self) -> bool:
        return False  # s3transfer then writes the ranges in order

    def write(self, data: bytes) -> int:
        end = self.at + len(data)
        if end > len(self.buffer):
            raise ValueError(f"the object sent more than its {len(self.buffer)} bytes")
        self.view[self.at : end] = data
        self.digest.update(data)
        self.at = end
        if self.on_bytes:
            self.on_bytes(len(data))
        return len(data)


def read_ranged(
    client: Any, args: dict[str, Any], size: int, etag: str, on_bytes: Callable[[int], None] | None = None
) -> tuple[bytearray, str]:
    """The object's ``size`` bytes and their hex SHA-256, read with :data:`RANGES_IN_FLIGHT` ranged requests of
    :data:`RANGE_BYTES` at a time pinned to ``args``' ``VersionId`` (if any) and to ``etag``; ``on_bytes`` is
    called with each piece's size as it arrives (on s3transfer's I/O thread).

    Raises:
        ClientError, S3DownloadFailedError, RetriesExceededError: as s3transfer raises them (module docstring).
        ValueError: S3 sent a size other than ``size``.
    """
    into = _Into(size, on_bytes)
    manager = _manager(client, RANGES_IN_FLIGHT, IO_QUEUE)
    try:
        _download(manager, args, into, size, etag).result()
    finally:
        manager.shutdown()
    into.view.release()
    if into.at != size:
        raise ValueError(f"the object sent {into.at} of its {size} bytes")
    return into.buffer, into.digest.hexdigest()


class _Pipe:
    """The in-order output of :func:`ranged_pieces`: gathers writes into pieces of ``piece_bytes`` and puts them
    in a queue of :data:`PIPE_PIECES` (blocking s3transfer's I/O thread while it is full)."""

    def __init__(self, piece_bytes: int) -> None:
        self.piece_bytes = piece_bytes
        self.queue: queue.Queue[bytes] = queue.Queue(PIPE_PIECES)
        self.closed = threading.Event()
        self.parts: list[bytes] = []
        self.held = 0

    def seekable(self) -> bool:
        return False

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        self.held += len(data)
        if self.held >= self.piece_bytes:
            piece = self.rest()
            while not self.closed.is_set():
                try:
                    self.queue.put(piece, timeout=0.1)
                    break
                except queue.Full:
                    continue
            else:
                raise InterruptedError("the reader stopped reading")
        return len(data)

    def rest(self) -> bytes:
        piece = b"".join(self.parts)
        self.parts, self.held = [], 0
        return piece


def ranged_pieces(client: Any, args: dict[str, Any], size: int, etag: str, piece_bytes: int) -> Iterator[bytes]:
    """The object's bytes in pieces of about ``piece_bytes`` (the last one shorter), read with
    :data:`STREAM_RANGES_IN_FLIGHT` ranged requests at a time pinned like :func:`read_ranged`'s, ahead of the
    caller by at most :data:`PIPE_PIECES` piece.  Closing the iterator early cancels the transfer.

    Raises:
        ClientError, S3DownloadFailedError, RetriesExceededError: as s3transfer raises them, after the pieces
            read before the failure.
    """
    pipe = _Pipe(piece_bytes)
    manager = _manager(client, STREAM_RANGES_IN_FLIGHT, STREAM_IO_QUEUE)
    future = _download(manager, args, pipe, size, etag)
    finished = False
    try:
        while True:
            try:
                yield pipe.queue.get(timeout=0.05)
                continue
            except queue.Empty:
                if not future.done():
                    continue
            if pipe.queue.empty():  # every write is done before the transfer is
                break
        future.result()
        if last := pipe.rest():
            yield last
        finished = True
    finally:
        if not finished:
            pipe.closed.set()
            future.cancel()
        manager.shutdown(cancel=not finished)
