"""A dataset written as many CSV part files under one prefix (as Spark, Glue or Athena write them): one
dataset, split as if the parts were concatenated in key order.

Which objects are parts: every object under the prefix (sub-folders included, as S3 lists them) except
markers and metadata: names starting with ``_`` or ``.`` (``_SUCCESS``, ``_committed_*``, ``.crc``
files), ``*.json`` (manifests), ``*.crc``, folder placeholders (``*/``, ``*_$folder$``) and empty
objects.  Each part starts with the same header (Spark's ``header=true`` writes it into every part; a
part with the header only is an empty partition); the first part's header is kept, the others' are
dropped, and a part whose last row lacks its line break gets one.  Gzip parts (``.csv.gz``, or a gzip
body under any name) are decompressed part by part.

The identity of the dataset (what makes a run id) is the listing: every part's key, ``ETag`` and
``VersionId`` for S3 (known without downloading), or the SHA-256 of the concatenation for a local folder.
An error names the part and its line (:meth:`PartsSource.locate`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_training.data.encoding import BOM
from model_training.data.header import header_bytes, parse_header
from model_training.data.inflate import DecompressedTooLargeError, decompressed, max_decompressed_bytes
from model_training.data.local import READ_CHUNK_BYTES, LocalSource
from model_training.data.names import dataset_name
from model_training.data.s3 import S3Source
from model_training.errors import DatasetError
from model_training.hashing import hash_pieces
from model_training.ports import SourceInfo


def is_part_name(key: str) -> bool:
    """Whether an object under a dataset prefix holds rows (see the module documentation)."""
    name = key.rstrip("/").rsplit("/", 1)[-1]
    if key.endswith("/") or not name or name.endswith("_$folder$"):
        return False
    if name.startswith(("_", ".")):
        return False
    return not name.lower().endswith((".json", ".crc"))


@dataclass(frozen=True)
class Part:
    """One part file: its URI (for messages), size in bytes, and a way to read it."""

    uri: str
    size: int
    source: LocalSource | S3Source
    etag: str | None = None
    version_id: str | None = None


class PartsSource:
    """Every part file under ``s3://bucket/prefix/`` (``bucket``, ``prefix``) or a local folder
    (``folder``), as one source (see the module documentation).

    Raises (from :meth:`size`, :meth:`identify`, :meth:`read`, :meth:`chunks`):
        DatasetError: no part under the prefix; a part whose header differs from the first part's.
    """

    def __init__(self, *, folder: Path | None = None, bucket: str | None = None, prefix: str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.bucket = bucket
        self.prefix = (prefix or "").strip("/") + "/" if bucket is not None and (prefix or "").strip("/") else ""
        self._parts: list[Part] | None = None
        self._info: SourceInfo | None = None
        self._read: tuple[SourceInfo, bytes] | None = None

    @property
    def uri(self) -> str:
        if self.folder is not None:
            return self.folder.resolve().as_uri() + "/"
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def display_name(self) -> str:
        return (self.prefix.rstrip("/").rsplit("/", 1)[-1] if self.folder is None else self.folder.name) + "/"

    def parts(self) -> list[Part]:
        """The part files, in key order."""
        if self._parts is None:
            self._parts = self._list_local() if self.folder is not None else self._list_s3()
            if not self._parts:
                raise DatasetError(
                    "no CSV part files under the prefix (markers, .json and empty objects are not parts)",
                    "check the prefix; a dataset folder holds part files such as part-00000.csv",
                    uri=self.uri,
                )
        return self._parts

    def _list_local(self) -> list[Part]:
        assert self.folder is not None
        if not self.folder.is_dir():
            raise DatasetError("not a folder", "give a CSV file or a folder of CSV part files", uri=str(self.folder))
        found = []
        for path in sorted(self.folder.rglob("*"), key=lambda p: p.relative_to(self.folder).as_posix()):  # type: ignore[arg-type]
            rel = path.relative_to(self.folder).as_posix()
            if path.is_symlink() and not path.exists() and is_part_name(rel):
                raise DatasetError("a broken symbolic link among the parts", "remove it, or restore its target", uri=str(path))
            if path.is_file() and is_part_name(rel) and not any(p.startswith(("_", ".")) for p in rel.split("/")[:-1]):
                size = path.stat().st_size
                if size:
                    found.append(Part(path.resolve().as_uri(), size, LocalSource(path)))
        return found

    def _list_s3(self) -> list[Part]:
        from model_training import aws

        client = aws.client("s3")
        found = []
        try:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    rel = key[len(self.prefix) :]
                    if item["Size"] and is_part_name(rel) and not any(p.startswith(("_", ".")) for p in rel.split("/")[:-1]):
                        etag = str(item.get("ETag", "")).strip('"') or None
                        source = S3Source(self.bucket or "", key, etag=etag)
                        found.append(Part(f"s3://{self.bucket}/{key}", int(item["Size"]), source, etag))
        except Exception as exc:
            if aws.error_code(exc) in ("AccessDenied", "403"):
                raise DatasetError(
                    "access denied", "grant the function s3:ListBucket on the input prefix", uri=self.uri
                ) from None
            if aws.error_code(exc) == "NoSuchBucket":
                raise DatasetError("the bucket does not exist", "check the bucket name", uri=self.uri) from None
            raise
        return sorted(found, key=lambda p: p.uri)

    def size(self) -> int:
        """Bytes in all parts (compressed, for gzip parts)."""
        return sum(p.size for p in self.parts())

    def identify(self, on_bytes: Callable[[int], None] | None = None, *, keep: bool = True) -> SourceInfo:
        """The dataset's identity: for S3 the listing's digest (kept as the ``etag``; no download), for a
        local folder the SHA-256 of the concatenation (the bytes are kept unless ``keep`` is false)."""
        if self._info is not None:
            return self._info
        parts = self.parts()
        name = dataset_name(self.uri.rstrip("/"))
        if self.folder is None:
            listing = [{"key": p.uri, "etag": p.etag, "size": p.size} for p in parts]
            digest = hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()
            self._info = SourceInfo(self.uri, name, self.size(), "", etag=f"parts-{digest[:32]}", version_id=None)
            return self._info
        if keep:
            info, _ = self.read(on_bytes)
            return info
        size, sha = hash_pieces(self.chunks(READ_CHUNK_BYTES), on_bytes)
        self._info = SourceInfo(self.uri, name, size, sha)
        return self._info

    def read(self, on_bytes: Callable[[int], None] | None = None) -> tuple[SourceInfo, bytes]:
        """The concatenation (the first part's header, then every part's rows), and its identity."""
        if self._read is None:
            buffer = bytearray()
            for piece in self.chunks(READ_CHUNK_BYTES):
                buffer += piece
                if on_bytes:
                    on_bytes(len(piece))
            name = dataset_name(self.uri.rstrip("/"))
            if self.folder is not None:
                info = SourceInfo(self.uri, name, len(buffer), hashlib.sha256(buffer).hexdigest())
            else:
                listed = self.identify()
                info = SourceInfo(self.uri, name, len(buffer), hashlib.sha256(buffer).hexdigest(), listed.etag, None)
            self._info = self._info or info
            self._read = (info, bytes(buffer))
        return self._read

    def sample(self, size: int) -> bytes:
        """The first part's first ``size`` bytes (for estimates)."""
        return self.parts()[0].source.sample(size)

    def chunks(self, size: int) -> Iterator[bytes]:
        """The concatenation in pieces of about ``size`` bytes (decompressed).

        Raises:
            DecompressedTooLargeError: the concatenation, decompressed, is larger than
                ``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES`` (each gzip part is also bounded as it inflates).
        """
        limit = max_decompressed_bytes()
        total = 0
        for piece in self._concatenation(size):
            total += len(piece)
            if total > limit:
                raise DecompressedTooLargeError(self.uri, limit)
            yield piece

    def _concatenation(self, size: int) -> Iterator[bytes]:
        header: bytes | None = None
        names: list[str] = []
        for part in self.parts():
            body = decompressed(part.source.chunks(size), part.uri)
            try:
                head, rest = _split_header(body, part.uri)
            except DatasetError as exc:
                if header is None or isinstance(exc, _LineEnds):
                    raise
                raise DatasetError(
                    ("its first line is not the dataset's header (", *exc.text, ")"),
                    f"every part must start with the same header line as the first part ({_shown(header)})",
                    uri=part.uri,
                    line=exc.line,
                    column=exc.column,
                ) from None
            if not head:  # blank lines only: no header and no rows, like an empty object
                continue
            if header is None:
                header = head if head.endswith((b"\n", b"\r")) else head + b"\n"  # a header-only first part
                names = _header_names(header, part.uri)
                yield header
            elif _header_names(head, part.uri) != names:  # compared as names: a BOM, blank lines, quotes may differ
                raise DatasetError("its header differs from the first part's", _header_difference(header, head), uri=part.uri)
            last = b"\n"
            for piece in rest:
                if piece:
                    last = piece[-1:]
                    yield piece
            if last not in (b"\n", b"\r"):
                yield b"\n"  # the part's last row had no line break: it must not run into the next part's first

    def locate(self, line: int) -> tuple[str, int] | None:
        """The part and its line number (1-based, counting its header) of line ``line`` of the
        concatenation, or ``None`` past the end (a scan of the parts: for error messages)."""
        header_lines = 0
        line_base = 0
        for i, part in enumerate(self.parts()):
            text = b"".join(decompressed(part.source.chunks(READ_CHUNK_BYTES), part.uri))
            head, _ = _split_header(iter([text]), part.uri)
            if not head:  # blank lines only: not in the concatenation
                continue
            h = head.count(b"\n")
            if i == 0:
                header_lines = h
                rows = text.count(b"\n") + (0 if text.endswith(b"\n") else 1) - h
                if line <= header_lines + rows:
                    return part.uri, line
                line_base = header_lines + rows
                continue
            rows = text.count(b"\n") + (0 if text.endswith(b"\n") else 1) - h
            if line <= line_base + rows:
                return part.uri, line - line_base + h
            line_base += rows
        return None


class _LineEnds(DatasetError):
    """A part with ``\\r``-only line ends (reported as such, not as a wrong header)."""


def _header_names(head: bytes, uri: str) -> list[str]:
    return parse_header(uri, head)[0]


def _header_difference(expected: bytes, found: bytes) -> str:
    """What differs between the first part's header and another part's, for the hint."""
    if b"\n" not in found and b"\r" in found:
        return "its lines end with \\r alone (old Mac line ends): write every part with the same line ends (\\n)"
    a, b = expected.rstrip(b"\r\n"), found.rstrip(b"\r\n")
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, at - 20)
    return (
        f"every part must start with the same header line; from byte {at + 1} the first part's has "
        f"{_shown(a[start : at + 40])} and this one {_shown(b[start : at + 40])}"
    )


def _shown(header: bytes) -> str:
    text = header.decode("utf-8", "replace").rstrip("\r\n")
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _split_header(pieces: Iterator[bytes], uri: str) -> tuple[bytes, Iterator[bytes]]:
    """The header line(s) of a part (with any blank lines and byte-order mark before it; ``b""`` for a
    part of blank lines only), and the rest of its bytes."""

    buf = b""
    for piece in pieces:
        buf += piece
        if b"\n" in buf[: 64 * 1024 * 1024] and (b'"' not in buf or len(buf) > 1 << 20):
            break
    if not buf.removeprefix(BOM).strip():
        return b"", iter(())
    if buf.find(b"\n") < 0 and buf.rstrip(b"\r").find(b"\r") >= 0:
        raise _LineEnds(
            "its lines end with \\r alone (old Mac line ends)",
            "write every part with \\n or \\r\\n line ends (a single file with \\r line ends can be split as a file)",
            uri=uri,
        )
    _, header_lines = parse_header(uri, header_bytes(buf))
    cut = 0
    for _ in range(header_lines):
        nxt = buf.find(b"\n", cut)
        cut = len(buf) if nxt < 0 else nxt + 1

    def rest() -> Iterator[bytes]:
        yield buf[cut:]
        yield from pieces

    return buf[:cut], rest()


def part_source(source: str) -> Any | None:
    """A :class:`PartsSource` for ``source`` if it names a folder (a local directory, or an ``s3://`` URI
    ending in ``/``), else ``None``."""
    if source.startswith("s3://"):
        if not source.endswith("/"):
            return None
        from model_training.uris import parse_s3_uri

        bucket, prefix = parse_s3_uri(source)
        return PartsSource(bucket=bucket, prefix=prefix)
    path = Path(source)
    return PartsSource(folder=path) if path.is_dir() else None


def located(exc: DatasetError, source: PartsSource) -> DatasetError:
    """``exc`` about the part file and the part's line that its line of the dataset is in
    (:meth:`PartsSource.locate`; the message keeps the dataset's line: ``line 4 (line 54 of the dataset)``), or
    ``exc`` itself if it is not about a line of ``source`` (another object, or no line).  An error that reports
    several problems (:attr:`~model_training.errors.ModelTrainingError.errors`) reports each about its part."""
    if exc.errors:
        return exc.with_errors([located(e, source) if isinstance(e, DatasetError) else e for e in exc.errors])
    if exc.uri != source.uri or exc.line is None:
        return exc
    where = source.locate(exc.line)
    if where is None:
        return exc
    part_uri, line = where
    return exc.relocated(part_uri, line, dataset_line=exc.line)


__all__ = ["Part", "PartsSource", "is_part_name", "located", "part_source"]
