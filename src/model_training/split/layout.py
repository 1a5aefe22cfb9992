"""Where the streaming split puts each row: its rank in the output order (:func:`output_ranks`), and the output
files' rows in temporary buckets of contiguous ranks (:class:`BucketLayout`), which pass 2 fills and pass 3 reads
back in order (:mod:`model_training.split.streaming`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model_training.channels import part_count, split_files
from model_training.config.run import SPLIT_NAMES, RunConfig
from model_training.data.chunks import MAX_CHUNK_ROWS

#: At most this many buckets (open files) in all: very large inputs get larger buckets.
MAX_BUCKETS = 256


def output_ranks(plan: Any, n: int) -> np.ndarray:
    """Each source row's position in the output order (train rows, then validation, then test)."""
    rank = np.empty(n, dtype=np.uint32 if n < 2**32 else np.int64)
    offset = 0
    step = 1 << 20  # in slices: no n-long temporary
    for split in SPLIT_NAMES:
        rows = plan.indices[split]
        for i in range(0, rows.size, step):
            part = rows[i : i + step]
            rank[part] = np.arange(offset + i, offset + i + part.size, dtype=rank.dtype)
        offset += rows.size
    return rank


@dataclass
class FileBuckets:
    """One output file's rows (a contiguous range of output ranks) and the buckets that hold them, in order."""

    name: str  # the run record's file name (train, or train/part-00001 ...)
    key: str  # the key under the run prefix
    split: str
    start: int  # first output rank
    rows: int
    first_bucket: int
    bucket_rows: int
    buckets: int


@dataclass
class BucketLayout:
    """Every output file's buckets (:class:`FileBuckets`), in output order."""

    files: list[FileBuckets]
    starts: np.ndarray  # first rank of each file, ascending
    count: int  # buckets in all

    @classmethod
    def build(cls, sizes: dict[str, int], n: int, source_bytes: int, config: RunConfig, bucket_bytes: int) -> BucketLayout:
        """The layout of ``n`` rows split into ``sizes`` (rows per split), each file (its parts:
        :func:`~model_training.channels.part_count`) in buckets of about ``bucket_bytes`` (estimated from the
        source's ``source_bytes`` a row; at most :data:`MAX_BUCKETS` buckets in all, and
        ``5 * MAX_CHUNK_ROWS`` rows a bucket unless that would take more buckets)."""
        files: list[FileBuckets] = []
        offset = 0
        bucket = 0
        row_bytes = max(source_bytes / max(n, 1), 1.0)
        bucket_bytes = max(bucket_bytes, int(source_bytes * 1.2 / MAX_BUCKETS))
        # the rows a bucket must hold for the buckets to stay within MAX_BUCKETS (each holds two files open during pass
        # 2), keeping 32 for each file's last bucket, part full: above the rows' cap only for hundreds of millions of
        # rows (and below the bytes' estimate, which keeps 20% to spare, for wide ones)
        fewest = -(-n // (MAX_BUCKETS - 32))
        for split in SPLIT_NAMES:
            size = sizes[split]
            if size == 0:
                offset += size
                continue
            parts = 1 if split == "test" else part_count(size, n, source_bytes, config)
            part_sizes = [len(p) for p in np.array_split(np.arange(size), parts)] if parts > 1 else [size]
            for (name, key), rows in zip(split_files(split, parts), part_sizes, strict=True):
                per_bucket = max(1, min(MAX_CHUNK_ROWS * 5, int(bucket_bytes / row_bytes)), fewest)
                count = max(1, -(-rows // per_bucket))
                files.append(FileBuckets(name, key, split, offset, rows, bucket, per_bucket, count))
                bucket += count
                offset += rows
        return cls(files, np.array([f.start for f in files], dtype=np.int64), bucket)
