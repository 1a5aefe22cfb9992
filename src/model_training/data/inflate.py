"""Gzip inflation within limits: a gzip source inflates in pieces, never past
``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES`` (:func:`max_decompressed_bytes`) and never past the run's time budget
(:data:`inflate_time_left`, checked after every piece).  :func:`gunzip` inflates bytes held in memory,
:func:`decompressed` a stream of pieces (the streaming split and part files).

Python's ``gzip`` module reads the data, as :func:`gzip.decompress` does: multi-member files and zero padding
are accepted.
"""

from __future__ import annotations

import contextvars
import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, cast

from model_training.errors import ConfigurationError, DatasetError, Setting, TimeBudgetError

#: The first two bytes of gzip data (RFC 1952): a source that starts with them is inflated, whatever its name.
GZIP_MAGIC = b"\x1f\x8b"
#: The default of ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``: the most bytes a gzip source may inflate to (8 GiB,
#: as ``MODEL_TRAINING_MAX_OBJECT_BYTES``: what a Lambda function's memory or ``/tmp`` can split).
MAX_DECOMPRESSED_BYTES = 8 * 1024**3
#: Seconds left in the invocation below which inflating stops (the time budget's margin).
INFLATE_MARGIN_SECONDS = 10.0
#: Bytes inflated at a time: a highly compressed source never inflates into one huge piece.
INFLATE_PIECE_BYTES = 8 * 1024 * 1024
#: The time budget of the run in progress (seconds left, a callable), checked while gzip data inflates.
inflate_time_left: contextvars.ContextVar[Callable[[], float] | None] = contextvars.ContextVar("inflate_time_left", default=None)


def max_decompressed_bytes(env: Mapping[str, str] | None = None) -> int:
    """``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES`` (bytes), or :data:`MAX_DECOMPRESSED_BYTES` if unset.

    Raises:
        ConfigurationError: not a whole number of at least 1.
    """
    text = (os.environ if env is None else env).get("MODEL_TRAINING_MAX_DECOMPRESSED_BYTES", "").strip()
    if not text:
        return MAX_DECOMPRESSED_BYTES
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(
            f"MODEL_TRAINING_MAX_DECOMPRESSED_BYTES={text[:40]!r} is not a whole number of bytes", "fix the environment variable"
        )
    return int(text)


class DecompressedTooLargeError(DatasetError):
    """Gzip data inflates to more than a limit: ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES`` (the run is
    refused), or, in memory, the size above which the split streams (:attr:`in_memory`: the pipeline then
    streams instead; nothing is refused).

    Attributes:
        limit: the limit, in bytes.
        in_memory: the limit was the in-memory split's, not the absolute one.
    """

    def __init__(self, uri: str, limit: int, *, in_memory: bool = False) -> None:
        self.limit, self.in_memory = limit, in_memory
        if in_memory:
            super().__init__(
                f"the gzip data inflates to more than {limit} bytes, the in-memory split's limit",
                ("split it by streaming (", Setting("stream"), "), or raise MODEL_TRAINING_STREAM_ABOVE_MB"),
                uri=uri,
            )
        else:
            super().__init__(
                f"the gzip data inflates to more than {limit} bytes, the limit set by "
                "MODEL_TRAINING_MAX_DECOMPRESSED_BYTES (a compression bomb, or a larger dataset than allowed)",
                "raise MODEL_TRAINING_MAX_DECOMPRESSED_BYTES if the data is genuine (the split needs memory or /tmp "
                "space of about the inflated size), or upload the CSV uncompressed",
                uri=uri,
            )


def check_inflate_time(uri: str, inflated: int) -> None:
    """Stop inflating when the run's time budget (:data:`inflate_time_left`) is nearly spent.

    Raises:
        TimeBudgetError: less than :data:`INFLATE_MARGIN_SECONDS` left (retryable: the object is not judged).
    """
    time_left = inflate_time_left.get()
    if time_left is None:
        return
    left = time_left()
    if left < INFLATE_MARGIN_SECONDS:
        raise TimeBudgetError(f"inflating the gzip data stopped after {inflated} bytes: {left:.0f} s left", uri=uri)


def gunzip(data: bytes, uri: str, *, memory_limit: int | None = None, piece_bytes: int = INFLATE_PIECE_BYTES) -> bytes:
    """Inflate gzip ``data`` (multi-member and zero padding accepted, as :func:`gzip.decompress`) in pieces,
    never past a limit: :func:`max_decompressed_bytes`, or ``memory_limit`` if smaller; the time budget is
    checked after every piece (:func:`check_inflate_time`).

    Raises:
        DecompressedTooLargeError: the data inflates past a limit (``in_memory`` when ``memory_limit`` was it).
        DatasetError: corrupt or truncated gzip data.
        TimeBudgetError: too little time left to go on.
    """
    limit = max_decompressed_bytes()
    in_memory = memory_limit is not None and memory_limit < limit
    if memory_limit is not None:
        limit = min(limit, memory_limit)
    out = bytearray()
    reader = gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")
    try:
        while piece := reader.read(piece_bytes):
            out += piece
            if len(out) > limit:
                raise DecompressedTooLargeError(uri, limit, in_memory=in_memory)
            check_inflate_time(uri, len(out))
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"the gzip data is corrupt ({exc})", "upload the file again", uri=uri) from None
    return cast(bytes, out)


def decompressed(pieces: Iterable[bytes], uri: str = "", piece_bytes: int = INFLATE_PIECE_BYTES) -> Iterator[bytes]:
    """``pieces`` as they are, or gunzipped (in pieces of at most ``piece_bytes``, so that a highly
    compressed source cannot inflate into one huge piece) if they start with the gzip magic.  Python's
    ``gzip`` module reads them, as ``gzip.decompress`` does in memory: multi-member files and zero padding
    are accepted, and errors carry the same text.

    The inflated bytes are bounded by ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``
    (:func:`max_decompressed_bytes`), and the run's time budget is checked after every piece
    (:func:`check_inflate_time`).

    Raises:
        DatasetError: corrupt or truncated gzip data (naming ``uri``, worded as the in-memory split words it).
        DecompressedTooLargeError: the data inflates past ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``.
        TimeBudgetError: too little time left to go on inflating.
    """
    it = iter(pieces)
    head = b""
    for piece in it:
        head += piece
        if len(head) >= 2:
            break
    if head[:2] != GZIP_MAGIC:
        if head:
            first, head = head, b""
            yield first
            del first
        yield from it
        return
    reader = gzip.GzipFile(fileobj=_PiecesFile(_chain([head], it)), mode="rb")
    limit = max_decompressed_bytes()
    inflated = 0
    try:
        while out := reader.read(piece_bytes):
            inflated += len(out)
            if inflated > limit:
                raise DecompressedTooLargeError(uri, limit)
            check_inflate_time(uri, inflated)
            yield out
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"the gzip data is corrupt ({exc})", "upload the file again", uri=uri) from None


def _chain(first: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


class _PiecesFile(io.RawIOBase):
    """A read-only file over an iterator of byte pieces (for :class:`gzip.GzipFile`)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._piece = memoryview(b"")
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at >= len(self._piece):
            piece = next(self._pieces, b"")
            if not piece:
                return 0
            self._piece, self._at = memoryview(piece), 0
        n = min(len(buffer), len(self._piece) - self._at)
        buffer[:n] = self._piece[self._at : self._at + n]
        self._at += n
        return n
