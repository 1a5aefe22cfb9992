"""Whether source bytes are UTF-8 text: a UTF-16 or UTF-32 file (by its byte-order mark or its NUL bytes), or a
binary format uploaded under a ``.csv`` name that its first bytes give away (a zip archive, a workbook,
Parquet ...), is refused with what it is and what to do (:func:`check_text`).  Other bytes that are not
UTF-8 are reported later, with their line, by the header and row parsers.
"""

from __future__ import annotations

import re

from model_training.errors import DatasetError

#: The UTF-8 byte-order mark, which may start a source (Excel's "CSV UTF-8" writes it); it is not part of the header.
BOM = b"\xef\xbb\xbf"

#: Formats uploaded under a ``.csv`` name now and then, by their first bytes: what the file is, what to do.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (
        b"PK\x03\x04",
        "a zip archive (an .xlsx workbook is one), not CSV",
        "unzip it (or save the sheet as CSV UTF-8) and upload the CSV",
    ),
    (b"PK\x05\x06", "an empty zip archive, not CSV", "upload the CSV file itself"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document (.xls), not CSV", "save the sheet as CSV UTF-8 and upload that"),
    (b"PAR1", "a Parquet file, not CSV", "write it as CSV upstream (e.g. pandas read_parquet(...).to_csv(index=False))"),
    (b"%PDF-", "a PDF document, not CSV", "upload the data as a CSV file"),
    (b"BZh", "bzip2-compressed data, not CSV", "decompress it, or compress the CSV with gzip (.csv.gz)"),
    (b"\xfd7zXZ\x00", "xz-compressed data, not CSV", "decompress it, or compress the CSV with gzip (.csv.gz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data, not CSV", "decompress it, or compress the CSV with gzip (.csv.gz)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive, not CSV", "extract it and upload the CSV"),
    (b"SQLite format 3\x00", "an SQLite database, not CSV", "export the table as CSV and upload that"),
)


def _looks_binary(head: bytes) -> bool:
    """Whether ``head`` is not text: a control byte no CSV holds, or bytes that are not UTF-8."""
    if re.search(rb"[\x00-\x08\x0e-\x1f]", head):
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 3  # a character cut at the end of the sample is not a sign
    return False


def _utf16_or_32(head: bytes) -> str | None:
    """``UTF-16``/``UTF-32`` and the byte order (and whether a byte-order mark says so) if ``head`` is
    that encoding, judged by its byte-order mark or, without one, by where its NUL bytes fall (text of
    Latin letters in UTF-16LE has a NUL after every letter)."""
    for bom, name in (
        (b"\xff\xfe\x00\x00", "UTF-32 (little-endian, with a byte-order mark)"),
        (b"\x00\x00\xfe\xff", "UTF-32 (big-endian, with a byte-order mark)"),
        (b"\xff\xfe", "UTF-16 (little-endian, with a byte-order mark)"),
        (b"\xfe\xff", "UTF-16 (big-endian, with a byte-order mark)"),
    ):
        if head.startswith(bom):
            return name
    sample = head[: len(head) // 4 * 4]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    by_position = [sample[i::4].count(0) / (len(sample) // 4) for i in range(4)]
    if by_position[0] < 0.1 and min(by_position[1:]) > 0.6:
        return "UTF-32 (little-endian, no byte-order mark)"
    if by_position[3] < 0.1 and min(by_position[:3]) > 0.6:
        return "UTF-32 (big-endian, no byte-order mark)"
    even, odd = (by_position[0] + by_position[2]) / 2, (by_position[1] + by_position[3]) / 2
    if even < 0.1 and odd > 0.4:
        return "UTF-16 (little-endian, no byte-order mark)"
    if odd < 0.1 and even > 0.4:
        return "UTF-16 (big-endian, no byte-order mark)"
    return None


def check_text(obj: str, data: bytes) -> None:
    """Refuse data that is not UTF-8 text before its header is read, saying what it is.

    Raises:
        DatasetError: the data is UTF-16 or UTF-32 (by its byte-order mark, or by its NUL bytes), or a zip
            archive, an .xls workbook, Parquet, PDF, bzip2/xz/zstd/7-Zip data or an SQLite database (by its
            first bytes).
    """
    head = bytes(data[:4096])
    encoding = _utf16_or_32(head)
    if encoding:
        raise DatasetError(
            f"the file is {encoding}, not UTF-8",
            "save it as UTF-8 (Excel: Save As 'CSV UTF-8'; pandas: to_csv(..., encoding='utf-8')) and use that file",
            uri=obj,
        )
    if _looks_binary(head):
        for magic, what, action in _MAGIC:
            if head.startswith(magic):
                raise DatasetError(f"this is {what}", action, uri=obj)
