"""The commit sequence of a run: the split files written and verified, then ``run.json`` with status
``committed``; and reading a committed run back.

A run without ``run.json`` is incomplete, whatever files exist; a failed write deletes the files it wrote
(:func:`write_verified`), and a redo rewrites the same bytes (the run id and the keys depend only on the
input and the configuration).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from model_training.algorithm.labels import label_text
from model_training.config.run import SPLIT_NAMES, RunConfig
from model_training.errors import ModelTrainingError, TransientError
from model_training.output.runrecord import LabelSummary, RunRecord, SplitRecord, library_versions
from model_training.ports import OutputFile, SourceInfo, SplitLabels, Store, StoredObject
from model_training.progress import Reporter


def write_verified(store: Store, run_prefix: str, outputs: Iterable[OutputFile]) -> dict[str, StoredObject]:
    """Write each ``(name, key, chunks)`` of ``outputs`` under ``run_prefix``, in turn; each file is verified
    (:meth:`~model_training.ports.Store.verify`: size and S3's CRC-32, or the same file) on a worker thread while
    the next one is rendered.

    If writing fails (or is interrupted), the files this call wrote are deleted again before the error
    propagates, so a failed run leaves no partial split.

    Raises:
        ModelTrainingError: a written file does not read back as written.
    """
    files: dict[str, StoredObject] = {}
    attempted: list[str] = []
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="verify") as pool:
            checks = []
            for name, key, chunks in outputs:
                attempted.append(f"{run_prefix}/{key}")
                obj = store.write(attempted[-1], chunks)
                files[name] = obj
                checks.append((obj, pool.submit(store.verify, obj)))
            for obj, check in checks:
                if not check.result():
                    raise ModelTrainingError(f"{obj.uri}: the written file does not match what was rendered", "retry the run")
    except BaseException:
        for written in attempted:  # a failed run leaves no split file behind (best effort: a kill leaves them)
            with contextlib.suppress(Exception):
                store.delete(written)
        raise
    return files


def split_records(labels: dict[str, SplitLabels]) -> dict[str, SplitRecord]:
    """The run record's per-split summary from each split's labels: the rows per label value (and the rows
    labelled 1 when the labels are 0/1) under a classification objective, else the label's minimum, maximum
    and mean."""
    out = {}
    for split in SPLIT_NAMES:
        stats = labels.get(split, SplitLabels(rows=0, counts={}))
        if stats.counts is None:
            summary = None
            if stats.minimum is not None and stats.maximum is not None and stats.mean is not None:
                summary = LabelSummary(min=stats.minimum, max=stats.maximum, mean=stats.mean)
            out[split] = SplitRecord(rows=stats.rows, label_counts=None, label_summary=summary)
            continue
        per_label = stats.counts
        label_counts_text = {label_text(v): c for v, c in sorted(per_label.items())}
        positives = per_label.get(1.0, 0) if set(per_label) <= {0.0, 1.0} else None
        out[split] = SplitRecord(rows=stats.rows, label_counts=label_counts_text, positives=positives)
    return out


def commit_record(
    store: Store,
    record_key: str,
    run_id: str,
    source: SourceInfo,
    config: RunConfig,
    *,
    labels: dict[str, SplitLabels],
    achieved: dict[str, float] | None,
    manifest: dict[str, Any] | None,
    files: dict[str, StoredObject],
    inferred: dict[str, Any] | None = None,
) -> RunRecord:
    """Write ``run.json`` (at ``record_key``, in the run folder) with status ``committed``: called after every
    split file was verified.  Returns the record written."""
    record = RunRecord(
        run_id=run_id,
        status="committed",
        source={
            "uri": source.uri,
            "name": source.name,
            "size_bytes": source.size_bytes,
            "sha256": source.sha256,
            **({"etag": source.etag} if source.etag else {}),
            **({"version_id": source.version_id} if source.version_id else {}),
            "identity": source.identity(),
        },
        config=config.model_dump(mode="json"),
        prefix=record_key.rsplit("/", 1)[0],
        splits=split_records(labels),
        achieved_fractions=achieved,
        manifest=manifest,
        inferred=inferred or None,
        files=files,
        versions=library_versions(),
    )
    store.write_bytes(record_key, record.to_json())
    return record


def write_record(store: Store, record_key: str, record: RunRecord) -> StoredObject:
    """Rewrite ``run.json`` at ``record_key`` with ``record`` (the store writes atomically: one ``PutObject``, or a
    rename) and verify it (:meth:`~model_training.ports.Store.verify`: size and S3's CRC-32 on S3, the same file
    locally).  Returns the object written.

    Raises:
        TransientError: it does not read back as written (another writer replaced it in between): retry.
    """
    obj = store.write_bytes(record_key, record.to_json())
    if not store.verify(obj):
        raise TransientError(
            f"{obj.uri}: the run record does not read back as written", "another delivery wrote it at the same time: retry"
        )
    return obj


def read_record(store: Store, record_key: str, rep: Reporter) -> RunRecord | None:
    """The run record at ``record_key``, if one was committed; an unreadable one (a partial write by another
    tool, an older schema) counts as none: the run is redone, which rewrites the same bytes."""
    if not store.exists(record_key):
        return None
    try:
        return RunRecord.model_validate_json(store.read_bytes(record_key))
    except ValueError:
        rep.info(f"{store.uri(record_key)} cannot be read as a run record: redoing the run")
        return None
