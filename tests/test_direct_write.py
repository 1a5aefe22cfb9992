"""Split files written past the page cache (``O_DIRECT``): the same bytes as a plain write for every size and
chunking, padding cut off, a plain fallback where the file system refuses ``O_DIRECT``, nothing left by a
failed write."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from model_training.hashing import HashBehind
from model_training.output import direct_write
from model_training.output.direct_write import ALIGN, write_chunks
from model_training.output.local_store import LocalStore

BUFFER = 4 * ALIGN


def supports_direct(folder: Path) -> bool:
    """Whether ``folder``'s file system accepts ``O_DIRECT`` (tmpfs on older kernels does not)."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    probe = folder / ".direct-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | flag, 0o600)
    except OSError:
        return False
    os.close(fd)
    probe.unlink()
    return True


def write(path: Path, chunks: list[bytes], buffer_bytes: int = BUFFER) -> tuple[bool, str]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    digest = HashBehind()
    try:
        direct = write_chunks(fd, str(path), chunks, digest, buffer_bytes)
        os.fsync(fd)
    finally:
        os.close(fd)
    return direct, digest.hexdigest()


@pytest.mark.parametrize(
    "sizes",
    [
        [],
        [1],
        [BUFFER - 1],
        [BUFFER],  # exactly one buffer: a plain write
        [BUFFER + 1],  # the first direct write, and a padded last one
        [BUFFER, BUFFER],  # exact multiples: no padding
        [3 * BUFFER - 7],
        [ALIGN - 1, 1, ALIGN + 1, 0, 5 * BUFFER + 3],
        [17] * 5000,  # many small chunks across buffer edges
    ],
    ids=lambda sizes: "+".join(map(str, sizes[:5])) or "empty",
)
def test_the_file_holds_exactly_the_bytes_given(tmp_path: Path, sizes: list[int]) -> None:
    rng = random.Random(len(sizes) * 7919 + sum(sizes))
    chunks = [rng.randbytes(n) for n in sizes]
    expected = b"".join(chunks)
    path = tmp_path / "out.csv"
    direct, sha = write(path, chunks)
    assert path.read_bytes() == expected
    assert sha == hashlib.sha256(expected).hexdigest()
    assert direct == (len(expected) > BUFFER and supports_direct(tmp_path))


def test_memoryview_chunks_of_any_format(tmp_path: Path) -> None:
    import numpy as np

    values = np.arange(3 * BUFFER // 8 + 5, dtype=np.int64)  # a chunk whose memoryview format is not bytes
    path = tmp_path / "out.bin"
    write(path, [memoryview(values), memoryview(b"tail")])
    assert path.read_bytes() == values.tobytes() + b"tail"


def test_a_platform_without_o_direct_gets_a_plain_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS and Windows have no ``os.O_DIRECT``: the file is written plainly, the same bytes."""
    monkeypatch.delattr(os, "O_DIRECT", raising=False)
    data = random.Random(1).randbytes(5 * BUFFER + 11)
    direct, sha = write(tmp_path / "out.csv", [data])
    assert not direct
    assert (tmp_path / "out.csv").read_bytes() == data
    assert sha == hashlib.sha256(data).hexdigest()


def test_a_file_system_refusing_o_direct_at_open_gets_a_plain_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Older tmpfs and some network file systems refuse ``O_DIRECT`` at open (EINVAL)."""
    real_open = os.open

    def refusing(path: str, flags: int, *args: int) -> int:
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(22, "Invalid argument")
        return real_open(path, flags, *args)

    monkeypatch.setattr(direct_write.os, "open", refusing)
    data = random.Random(5).randbytes(5 * BUFFER + 11)
    direct, _ = write(tmp_path / "out.csv", [data])
    assert not direct
    assert (tmp_path / "out.csv").read_bytes() == data


def test_a_direct_write_refused_midway_goes_on_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system may accept ``O_DIRECT`` at open and refuse a write (an unusual logical block size: EINVAL):
    the rest is written plainly, and the file is still exactly the bytes given."""
    if not supports_direct(tmp_path):
        pytest.skip("this file system refuses O_DIRECT at open")
    real = direct_write._write_all
    direct_fds: set[int] = set()
    real_open = direct_write._open_direct

    def open_direct(path: str) -> int | None:
        fd = real_open(path)
        if fd is not None:
            direct_fds.add(fd)
        return fd

    calls = {"direct": 0}

    def write_all(fd: int, view: memoryview, offset: int) -> None:
        if fd in direct_fds:
            calls["direct"] += 1
            if calls["direct"] == 2:
                raise OSError(22, "Invalid argument")
        real(fd, view, offset)

    monkeypatch.setattr(direct_write, "_open_direct", open_direct)
    monkeypatch.setattr(direct_write, "_write_all", write_all)
    data = random.Random(2).randbytes(6 * BUFFER + 100)
    path = tmp_path / "out.csv"
    direct, sha = write(path, [data])
    assert direct  # the first buffer went directly
    assert path.read_bytes() == data
    assert sha == hashlib.sha256(data).hexdigest()


def test_a_large_write_that_fails_leaves_nothing(tmp_path: Path) -> None:
    """The local store's write: chunks that fail after several direct writes leave no object and no
    temporary file."""
    store = LocalStore(tmp_path)
    block = random.Random(3).randbytes(1 << 20)

    def chunks():
        for _ in range(3 * direct_write.DIRECT_BUFFER_BYTES // len(block)):
            yield block
        raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError, match="renderer failed"):
        store.write("run/train/part-00000", chunks())
    assert not (tmp_path / "run/train/part-00000").exists()
    assert not (tmp_path / "_tmp").exists()


def test_a_large_object_is_written_and_verified(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    data = random.Random(4).randbytes(2 * direct_write.DIRECT_BUFFER_BYTES + 12345)
    obj = store.write("run/train/part-00000", [data[:1000], data[1000:]])
    assert obj.size_bytes == len(data)
    assert obj.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read_bytes("run/train/part-00000") == data
    assert store.verify(obj)
    assert oct((tmp_path / "run/train/part-00000").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failed_direct_write_raises_its_own_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk during a direct write is reported as such (its traceback holds a view of the buffer, which
    must not turn the error into a BufferError when the buffers are closed)."""
    real = direct_write._write_all

    def write_all(fd: int, view: memoryview, offset: int) -> None:
        if offset >= BUFFER:
            raise OSError(28, "No space left on device")
        real(fd, view, offset)

    monkeypatch.setattr(direct_write, "_write_all", write_all)
    with pytest.raises(OSError, match="No space left"):
        write(tmp_path / "out.csv", [random.Random(6).randbytes(4 * BUFFER)])
