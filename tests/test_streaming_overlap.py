"""The streaming split's speed-ups keep its results: chunks read and indexed one ahead on a worker thread
(:func:`~model_training.data.chunks.read_ahead`), buckets assembled one ahead of the writer, and glibc
reusing the chunk-sized buffers instead of mapping each fresh (issue 16).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from model_training.data.chunks import read_ahead
from model_training.errors import DatasetError
from model_training.split.buckets import Buckets
from model_training.split.layout import FileBuckets
from model_training.split.streaming import _file_chunks


def test_read_ahead_yields_every_item_in_order_prepared_on_a_worker() -> None:
    prepared: list[tuple[int, str]] = []
    items = list(read_ahead(iter(range(50)), lambda i: prepared.append((i, threading.current_thread().name))))
    assert items == list(range(50))
    assert [i for i, _ in prepared] == list(range(50))
    assert {name for _, name in prepared} == {"read-ahead"}


def test_read_ahead_runs_one_item_ahead_of_the_caller() -> None:
    made: list[int] = []

    def produce() -> Iterator[int]:
        for i in range(10):
            made.append(i)
            yield i

    it = read_ahead(produce())
    assert next(it) == 0
    deadline = time.monotonic() + 5
    while len(made) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert made == [0, 1]  # the caller's item and the next: no further, memory holds two at most
    assert next(it) == 1
    deadline = time.monotonic() + 5
    while len(made) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert made == [0, 1, 2]
    assert list(it) == list(range(2, 10))


def test_an_error_comes_where_its_item_would_have() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise DatasetError("line 7 is bad", "fix it")

    seen = []
    with pytest.raises(DatasetError, match="line 7 is bad"):
        for item in read_ahead(produce()):
            seen.append(item)
    assert seen == [1, 2]


def test_a_caller_that_stops_early_stops_the_worker_and_closes_the_items() -> None:
    closed = threading.Event()

    def produce() -> Iterator[int]:
        try:
            yield from range(1000)
        finally:
            closed.set()

    before = threading.active_count()
    for item in read_ahead(produce()):
        if item == 3:
            break
    assert closed.wait(5)
    assert threading.active_count() == before


def test_a_warm_up_s_error_is_left_to_the_caller() -> None:
    def prepare(i: int) -> None:
        if i == 2:
            raise DatasetError("not plain CSV", "the caller parses it and words the error")

    assert list(read_ahead(iter(range(4)), prepare)) == [0, 1, 2, 3]


def test_the_next_bucket_is_read_while_the_writer_holds_this_one(tmp_path: Path) -> None:
    buckets = Buckets(tmp_path, 3)
    rows = [b"%d\n" % i for i in range(30)]
    for b in range(3):  # bucket b holds output rows 10b .. 10b+9, appended in reverse
        mine = list(range(10 * b, 10 * b + 10))[::-1]
        data = b"".join(rows[i] for i in mine)
        buckets.append(b, memoryview(data), np.array(mine) - 0, np.array([len(rows[i]) for i in mine]))
    buckets.close()
    file = FileBuckets("train", "train/part-00000", "train", 0, 30, 0, 10, 3)
    chunks = _file_chunks(file, buckets, b"", False)
    first = bytes(next(chunks))
    assert first == b"".join(rows[:10])
    deadline = time.monotonic() + 5  # the generator is suspended: only a worker can have read bucket 1
    while buckets.paths(1)[0].exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not buckets.paths(1)[0].exists()
    assert first + b"".join(bytes(c) for c in chunks) == b"".join(rows)


def test_streaming_reuses_chunk_sized_buffers() -> None:
    # glibc maps a buffer above its mmap threshold fresh and returns it when freed: every 8 MiB chunk faulted in
    # page by page (2.3 M page faults and 45% of the CPU in the kernel on 484 MB).  Tuned for streaming, the
    # buffers are reused.
    code = textwrap.dedent(
        """
        import resource, numpy as np
        from model_training.data.gather import tune_allocator
        tune_allocator(streaming=True)
        np.ones(8 << 20, dtype=np.uint8)  # the heap grows once
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(40):
            np.ones(8 << 20, dtype=np.uint8).sum()
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        """
    )
    faults = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert faults < 2000  # measured: 18 reused, 20,600 when each buffer is mapped fresh


@pytest.mark.parametrize("streaming", [False, True])
def test_the_split_s_threads_share_two_arenas(streaming: bool) -> None:
    # glibc's default, eight arenas a core, kept each thread's freed buffers besides the others': measured in
    # memory on x50, peak 965 MB (2.0x the input) against 825 MB with two
    code = textwrap.dedent(
        f"""
        import ctypes, os, tempfile, threading, numpy as np
        from model_training.data.gather import tune_allocator
        tune_allocator(streaming={streaming})
        barrier = threading.Barrier(8)
        def work():
            barrier.wait()
            for _ in range(200):
                np.ones(1 << 16).sum()
        threads = [threading.Thread(target=work) for _ in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        libc = ctypes.CDLL("libc.so.6")
        libc.fopen.restype = ctypes.c_void_p
        fd, path = tempfile.mkstemp()
        os.close(fd)
        fp = libc.fopen(path.encode(), b"w")
        libc.malloc_info(0, ctypes.c_void_p(fp))
        libc.fclose(ctypes.c_void_p(fp))
        print(open(path).read().count("<heap nr="))
        os.unlink(path)
        """
    )
    arenas = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert arenas <= 2


def test_streaming_maps_bucket_sized_buffers_fresh() -> None:
    # kept in the heap, the 16 MiB buckets and the per-row arrays fragmented it: the peak on 1.9 GB varied from
    # 345 to 545 MB between runs (the bound is 400 MB); mapped, each goes back to the system whole when freed
    code = textwrap.dedent(
        """
        import re, numpy as np
        from model_training.data.gather import tune_allocator
        tune_allocator(streaming=True)
        def rss():
            return int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024
        before = rss()
        held = [np.ones(16 << 20, dtype=np.uint8) for _ in range(8)]
        small = np.ones(1 << 20, dtype=np.uint8)  # above them in the heap, if they were in the heap
        del held
        print(rss() - before)
        """
    )
    kept = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert kept < 32 << 20  # 128 MiB freed: returned, not kept behind the small buffer


def test_a_read_ahead_collected_on_its_own_worker_thread_stops_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    # found by the breaker: a read-ahead left in a reference cycle can be collected by a garbage collection that runs
    # on its own worker thread, whose cleanup then joined that thread ("cannot join current thread", printed as an
    # ignored exception)
    import gc
    import sys
    import threading

    from model_training.data.chunks import read_ahead

    ignored: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    holder: dict[str, object] = {}
    dropped, collected = threading.Event(), threading.Event()

    def prepare(item: int) -> None:
        if item == 1:  # on the worker thread: the caller's read-ahead freed and collected here
            dropped.wait(10)
            holder.clear()
            gc.collect()
            collected.set()

    ahead = read_ahead(iter(range(5)), prepare)
    cycle: list[object] = [ahead]
    cycle.append(cycle)  # only a cycle holds it: freed by whichever thread collects
    holder["cycle"] = cycle
    assert next(ahead) == 0
    del ahead, cycle
    dropped.set()
    assert collected.wait(10)
    assert ignored == []
