"""Gathering rows' bytes out of the source with pyarrow (a row's output line is cut out of the source, so values
keep their source text), and the allocator those gathers use.
"""

from __future__ import annotations

import numpy as np


def take_elements(arr: object, rows: np.ndarray, template: np.ndarray, k: int) -> object:
    """Gather, for each row in ``rows`` (in order), the elements ``template`` of ``arr`` (see
    :meth:`~model_training.data.rowindex.RowIndex.elements`); returns a ``large_binary`` array of ``len(rows) * len(template)``
    elements."""
    import pyarrow.compute as pc

    idx = (rows.astype(np.int64, copy=False)[:, None] * k + template).ravel()
    return pc.take(arr, int64_array(idx), memory_pool=memory_pool())


def int64_array(values: np.ndarray) -> object:
    """``values`` as a pyarrow int64 array, without a copy when they are int64 already.  (``pa.array`` on
    a numpy array first looks for pandas, importing it if it is installed: 140 ms, in the middle of a
    split, with the import lock held.)"""
    import pyarrow as pa

    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), data.size, [None, pa.py_buffer(data)])


def memory_pool() -> object:
    """The allocator for the gathers: the C library's (tuned by :func:`tune_allocator`), which reuses
    the chunk-sized buffers; pyarrow's default (mimalloc) returned them to the system and faulted them in
    again (measured: the gather 30% slower)."""
    import pyarrow as pa

    return pa.system_memory_pool()


def concatenated(out: object) -> memoryview:
    """The data bytes of a ``large_binary`` array, all its values back to back (no copy)."""
    if len(out) == 0:  # type: ignore[arg-type]
        return memoryview(b"")
    bufs = out.buffers()  # type: ignore[attr-defined]
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[out.offset : out.offset + len(out) + 1]  # type: ignore[attr-defined, arg-type]
    return memoryview(bufs[2])[int(offsets[0]) : int(offsets[-1])]


def tune_allocator(*, streaming: bool) -> None:
    """Tune glibc's ``malloc`` for the split (``mallopt``; a no-op where the C library is not glibc): at most 2
    arenas, no trimming below 64 MiB, and no ``mmap`` below 64 MiB in memory, 12 MiB streaming.

    The few-MiB buffers that the scan, the gathers and the streaming split's 8 MiB chunks allocate and free by
    the thousand are reused instead of being mapped, faulted in and unmapped each time (measured on a 484 MB
    file: in memory, 140,000 page faults and a third of the scan's time; streaming, which mapped every buffer
    of 4 MiB or more fresh, 2.2 million page faults and half its CPU in the kernel: 13 s -> 8 s).  Streaming,
    the larger buffers (16 MiB buckets, per-row arrays of millions of rows) are still mapped and returned
    whole when freed: kept in the heap they fragmented it, and the peak on 1.9 GB varied from 345 to 545 MB
    between runs (314-318 MB with 12 MiB).  Two arenas, not glibc's eight a core: each thread's arena kept
    its freed buffers besides the others' (measured in memory: peak 965 -> 825 MB on the 484 MB file).
    The same as setting ``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_``.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    mallopt(-8, 2)  # M_ARENA_MAX
    mallopt(-3, (12 if streaming else 64) << 20)  # M_MMAP_THRESHOLD
    mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD
