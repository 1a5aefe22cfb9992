"""A source that changes between the streaming split's pass 1 and pass 2 is refused with the "changed" error
(a :class:`DatasetError`), whatever the change: never an internal error, never output files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from model_training.data.local import LocalSource
from model_training.errors import DatasetError
from tests.test_streaming import split


def _move_commas(data: bytes) -> bytes:
    # one row loses three fields, a later one gains three: the block's comma count stays that of the header
    lines = data.split(b"\n")
    lines[5] = lines[5].replace(b",", b";", 3)
    lines[9] = lines[9].replace(b",", b",,", 3)
    return b"\n".join(lines)


def _move_one_comma_at_the_end(data: bytes) -> bytes:
    lines = data.split(b"\n")
    head, _, last = lines[5].rpartition(b",")
    lines[5] = head + b";" + last  # the label glued to the column before it
    lines[6] = lines[6] + b",1"  # one field too many
    return b"\n".join(lines)


def _append_rows(data: bytes) -> bytes:
    lines = data.rstrip(b"\n").split(b"\n")
    return data + b"\n".join(lines[1:2000]) + b"\n"


def _drop_rows(data: bytes) -> bytes:
    lines = data.rstrip(b"\n").split(b"\n")
    return b"\n".join(lines[:-2000]) + b"\n"


def _quote_a_value(data: bytes) -> bytes:
    return data.replace(b"\n56,", b'\n"56",', 1)


def _label_not_a_number(data: bytes) -> bytes:
    lines = data.split(b"\n")
    head, _, _ = lines[7].rpartition(b",")
    lines[7] = head + b",yes"
    return b"\n".join(lines)


def _truncated_mid_row(data: bytes) -> bytes:
    return data[: len(data) - 37]


@pytest.mark.parametrize(
    "change",
    [_move_commas, _move_one_comma_at_the_end, _append_rows, _drop_rows, _quote_a_value, _label_not_a_number, _truncated_mid_row],
)
def test_a_source_changed_between_the_passes_is_refused_as_changed(
    tmp_path: Path, bank_csv: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[bytes], bytes]
) -> None:
    src = tmp_path / "bank.csv"
    src.write_bytes(bank_csv.read_bytes()[:2_000_000].rsplit(b"\n", 1)[0] + b"\n")
    reads = {"n": 0}
    original = LocalSource.chunks

    def chunks(self: LocalSource, size: int):  # type: ignore[no-untyped-def]
        reads["n"] += 1
        if reads["n"] == 2:
            src.write_bytes(change(src.read_bytes()))
        yield from original(self, size)

    monkeypatch.setattr(LocalSource, "chunks", chunks)
    with pytest.raises(DatasetError, match="changed while the streaming split read it"):
        split(src, tmp_path / "out", stream=True)
    assert not any((tmp_path / "out").rglob("part-*"))
