"""Reading a source in bounded memory: its bytes inflated if gzip
(:func:`~model_training.data.inflate.decompressed`), re-cut into chunks that end at a row boundary
(:class:`RowChunks`), and each chunk parsed with the header in front of it, its line numbers those of the whole
file (:func:`chunk_datasets`).  The streaming split reads sources this way, twice.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

from model_training.data.dataset import Dataset
from model_training.data.header import header_bytes, parse_header
from model_training.data.inflate import GZIP_MAGIC, decompressed
from model_training.data.parsing import parse_csv
from model_training.errors import LINE, DatasetError, ModelTrainingError, Setting
from model_training.hashing import HashBehind
from model_training.ports import SourceInfo


class ChunkSource(Protocol):
    """A source that can be read in pieces (any :class:`~model_training.ports.Source`)."""

    def chunks(self, size: int) -> Iterator[bytes]: ...


#: A row may be at most this many chunks long (a longer one cannot be held in bounded memory).
MAX_ROW_CHUNKS = 32
#: At most about this many rows per chunk and per bucket: the row index and the bucket's order cost tens of
#: bytes a row, so narrow rows (a few bytes each) must come in smaller chunks for memory to stay bounded.
MAX_CHUNK_ROWS = 200_000


class RowTooLongError(Exception):
    """No row boundary within :data:`MAX_ROW_CHUNKS` chunks (:class:`RowChunks`); the callers here word it as a
    :class:`DatasetError`.

    Attributes:
        size: the bytes held without a line break outside quotes.
    """

    def __init__(self, size: int) -> None:
        self.size = size


class RowChunks:
    """Re-cut a byte stream into chunks of about ``chunk_bytes`` that end just after a line break outside
    quotes (so a quoted field with a line break is never cut); the first chunk starts with the header.

    The line break is ``\n`` (which also ends ``\r\n`` lines), or ``\r`` for a source whose first chunk
    has ``\r`` and no ``\n`` outside quotes (old Mac line ends, which the in-memory split reads too): :attr:`newline`.

    Raises (while iterating):
        RowTooLongError: no row boundary within :data:`MAX_ROW_CHUNKS` chunks.
    """

    def __init__(self, pieces: Iterable[bytes], chunk_bytes: int) -> None:
        self.pieces = pieces
        self.chunk_bytes = chunk_bytes
        self.max_row_bytes = MAX_ROW_CHUNKS * chunk_bytes
        self.newline = b"\n"
        self.prefix = b""  # see :meth:`views`
        self._sized = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk, prefixed in self.views():
            yield bytes(chunk[len(self.prefix) :] if prefixed else chunk)

    def views(self) -> Iterator[tuple[bytes | memoryview, bool]]:
        """The chunks, each as ``(chunk, prefixed)``: with ``prefixed``, a new ``bytes`` that starts with
        :attr:`prefix` (which the caller may set between chunks: the header) and then holds the chunk's rows, joined
        in one copy; else a view of the buffer the chunk was joined in (no copy; it holds that buffer).  The chunks
        are the same either way: the join is done in one copy where no ``"`` makes the row boundary depend on what
        came before (the common case)."""
        parts: list[bytes] = []
        size = 0
        for piece in self.pieces:
            parts.append(piece)
            size += len(piece)
            if size < self.chunk_bytes:
                continue
            if self.prefix and self._sized and size <= 2 * self.chunk_bytes and not any(p.find(b'"') >= 0 for p in parts):
                cut = piece.rfind(self.newline) + 1  # the last row boundary: in the last piece, if it has one
                if cut:
                    yield b"".join([self.prefix, *parts[:-1], memoryview(piece)[:cut]]), True
                    rest = piece[cut:]
                    parts, size = ([rest] if rest else []), len(rest)
                    continue
            buf = b"".join(parts)
            self._decide(buf)
            cut = _row_boundary(buf, self.newline)
            if cut == 0:
                if len(buf) > self.max_row_bytes:
                    raise RowTooLongError(len(buf))
                parts, size = [buf], len(buf)
                continue
            yield from ((view, False) for view in self._cut(buf, cut))
            rest = buf[cut:]
            parts, size = ([rest] if rest else []), len(rest)
        if parts:
            buf = b"".join(parts)
            self._decide(buf)
            yield from ((view, False) for view in self._cut(buf, len(buf)))

    def _decide(self, buf: bytes) -> None:
        """From the first buffer: the line break, and chunks of at most about :data:`MAX_CHUNK_ROWS` rows."""
        if self._sized:
            return
        self._sized = True
        outside = _QUOTED.sub(b"", buf) if b'"' in buf else buf  # a quoted value's line break ends no row
        if outside.find(b"\n") < 0 and outside.find(b"\r") >= 0:
            self.newline = b"\r"
        rows = buf.count(self.newline)
        if rows:
            by_rows = int(MAX_CHUNK_ROWS * len(buf) / rows)
            self.chunk_bytes = max(min(64 * 1024, self.chunk_bytes), min(self.chunk_bytes, by_rows))

    def _cut(self, buf: bytes, cut: int) -> Iterator[memoryview]:
        """``buf[:cut]`` (which ends a row) in chunks of about :attr:`chunk_bytes`."""
        start = 0
        view = memoryview(buf)
        while cut - start > 2 * self.chunk_bytes:
            sub = _row_boundary(buf[start : start + self.chunk_bytes], self.newline)
            if sub == 0:
                break
            yield view[start : start + sub]
            start += sub
        if cut > start:
            yield view[start:cut]


def row_chunks(pieces: Iterable[bytes], chunk_bytes: int, uri: str) -> Iterator[bytes]:
    """:class:`RowChunks` with its errors as :class:`DatasetError` (for callers that have no line number)."""
    try:
        yield from RowChunks(pieces, chunk_bytes)
    except RowTooLongError as exc:
        raise DatasetError(
            f"no line break outside quotes in {exc.size} bytes: the streaming split cannot cut it into rows",
            ("check for an unclosed quote, or split it in memory (", Setting("in_memory"), ")"),
            uri=uri,
        ) from None


def _row_boundary(buf: bytes, newline: bytes = b"\n") -> int:
    """The offset just after the last line break of ``buf`` that is outside quotes (0: none), for a
    ``buf`` that starts outside quotes (a ``""`` inside a quoted field keeps the parity)."""
    pos = buf.rfind(newline)
    if buf.find(b'"') < 0:
        return pos + 1
    while pos >= 0:
        if buf.count(b'"', 0, pos) % 2 == 0:
            return pos + 1
        pos = buf.rfind(newline, 0, pos)
    return 0


def chunk_datasets(
    source: ChunkSource, info: SourceInfo, chunk_bytes: int, digest: HashBehind
) -> Iterator[tuple[Dataset, bytes | memoryview, bytes]]:
    """``(dataset, chunk, header)`` for every chunk of data rows: the chunk (its data rows' bytes; a view of the
    buffer it was re-cut from) parsed with the header in front of it, its line numbers offset to the file's.
    ``digest`` hashes the source's bytes as read.

    Raises:
        DatasetError: as :func:`~model_training.data.parsing.parse_csv` words it for the same file (an empty
            object, a header without rows), or a row too long to hold in bounded memory.
    """
    raw = _Peeked(_hashed(source.chunks(chunk_bytes), digest))
    chunks = RowChunks(decompressed(raw, info.uri), chunk_bytes)  # joined to the header in one copy (its ``views``)
    header = b""
    header_lines = 0
    lines_before = 0
    pending = b""  # leading blank chunks, kept until the header shows up
    try:
        for piece, prefixed in chunks.views():
            chunk: bytes | memoryview = memoryview(piece)[len(header) :] if prefixed else piece
            if not header:
                chunk = pending + piece
                if _NOT_BLANK.search(chunk) is None:  # no header yet: blank so far
                    pending = chunk
                    continue
                pending = b""
                _, header_lines = parse_header(info.uri, header_bytes(chunk))
                cut = 0
                for _ in range(header_lines):  # lines as the header's parser counts them: CR, LF or CRLF ends one
                    found = _LINE_BREAK.search(chunk, cut)
                    cut = found.end() if found else 0
                    if cut == 0:
                        raise DatasetError("the file has a header but no data rows", _NO_ROWS_HINT, uri=info.uri)
                header, chunk = chunk[:cut], chunk[cut:]
                chunks.prefix = header  # the next chunks come joined to it
            if _NOT_LINE_BREAK.search(chunk) is None:  # empty lines only: not rows, but they count as lines
                lines_before += _lines(bytes(chunk), 0)
                continue
            data = piece if prefixed and isinstance(piece, bytes) else b"".join((header, chunk))
            dataset = parse_csv(info, data, line_offset=lines_before, lazy=True)
            yield dataset, chunk, header
            index = dataset.built_row_index()  # indexed by the consumer: plain rows are one line each
            lines_before += index.rows if index else _lines(data, len(header))
    except RowTooLongError as exc:
        raise DatasetError(
            (
                LINE,
                f" is longer than {exc.size // 2**20} MiB without a line break outside quotes: "
                "the streaming split holds a row at a time",
            ),
            ("check for an unclosed quote; a row this long can be split in memory (", Setting("in_memory"), ")"),
            uri=info.uri,
            line=header_lines + lines_before + 1,
        ) from None
    if not header:
        if raw.head[:2] == GZIP_MAGIC:
            raise DatasetError("the object is empty (after gzip decompression)", "upload a CSV with data rows", uri=info.uri)
        raise DatasetError("the object is empty", "upload a CSV file with a header row and data rows", uri=info.uri)


class _Peeked:
    """An iterator of pieces that keeps its first piece's first bytes (:attr:`head`) once started."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self.head = b""

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._pieces:
            if len(self.head) < 2:
                self.head += piece[:2]
            yield piece


T = TypeVar("T")


def read_ahead(items: Iterator[T], prepare: Callable[[T], object] | None = None) -> Iterator[T]:
    """``items``, each produced (and passed to ``prepare``) on a worker thread one ahead of the caller: reading,
    re-cutting, hashing and indexing the next chunk overlap the caller's work on this one.  At most two items
    exist at a time: the caller's, and the next one (made once the caller has asked for the one before it).  An
    error raised producing an item is raised where that item would have come; when the caller stops early, the
    worker stops after the item in hand and ``items`` is closed.

    ``prepare`` is a warm-up (typically :meth:`~model_training.data.dataset.Dataset.row_index` through the
    caller's own indexing function, whose result the dataset caches): a
    :class:`~model_training.errors.ModelTrainingError` it raises is dropped, for the caller to meet again, in
    its own order, when it does the same work.
    """
    ready: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
    slots = threading.Semaphore(2)  # items made and not yet left behind by the caller
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                while not slots.acquire(timeout=0.05):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(items, ready)
                if item is ready:
                    break
                if prepare is not None:
                    with contextlib.suppress(ModelTrainingError):
                        prepare(item)  # type: ignore[arg-type]
                ready.put((True, item))
            ready.put((False, None))
        except BaseException as exc:  # delivered to the caller, in order
            ready.put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        first = True
        while True:
            if not first:
                slots.release()  # the caller is done with the item before: the one after next may be made
            first = False
            more, value = ready.get()
            if not more:
                if value is not None:
                    raise value  # type: ignore[misc]
                return
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        if threading.current_thread() is not worker:  # a garbage collection on the worker itself may close this
            worker.join()


_NO_ROWS_HINT = "upload a CSV file with data rows"
_NOT_BLANK = re.compile(rb"[^\s]")
_NOT_LINE_BREAK = re.compile(rb"[^\r\n]")
_LINE_BREAK = re.compile(rb"\r\n?|\n")
_QUOTED = re.compile(rb'"[^"]*"')


def _lines(data: bytes, start: int) -> int:
    """The line breaks in ``data[start:]`` as the in-memory split's line numbers count them: CR, LF or CRLF ends a
    line (a file may mix them; a quoted line break counts too)."""
    return data.count(b"\n", start) + data.count(b"\r", start) - data.count(b"\r\n", start)


def _hashed(pieces: Iterator[bytes], digest: HashBehind) -> Iterator[bytes]:
    for piece in pieces:
        digest.update(piece)
        yield piece
