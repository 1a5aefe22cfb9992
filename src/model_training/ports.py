"""The contracts between the orchestrator and the parts it drives: where the CSV comes from (:class:`Source`),
where outputs go (:class:`Store`), what runs training and tuning jobs (:class:`TrainingBackend`), and the values
they exchange (:class:`SourceInfo`, :class:`StoredObject`, :class:`SplitLabels`, :data:`Chunk`, :data:`OutputFile`), and the
names a split's files are written under (:func:`split_files`: the split writes them, the pipeline and the run record
name them, so they live here, importing neither numpy nor pyarrow).

The implementations live in the parts (:mod:`model_training.data` for sources, :mod:`model_training.output` for
stores, :mod:`model_training.training` for backends) and are chosen by :mod:`model_training.wiring`; the
pipeline and the parts below it see only these protocols.  This module imports nothing from the package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import Field

#: What is written: ``bytes``, or a ``memoryview`` of a buffer (the renderer's output, not copied).
Chunk = bytes | memoryview
#: One output file of a split, as the split renders it and the commit writes it: ``(name in run.json's files,
#: key under the run prefix, its bytes in chunks)``.
OutputFile = tuple[str, str, Iterable[Chunk]]


def split_files(split: str, parts: int = 1) -> list[tuple[str, str]]:
    """The files split ``split`` is written as: ``(name in run.json's files, key under {prefix}/{run_id}/)``.

    The one place output names are made.  Keys are Hadoop-style part names without an extension:
    ``train/part-00000``, ``validation/part-00000``, ``test/part-00000`` (``train/part-00001`` ... when a
    channel is sharded).  No output key ends in ``.csv``/``.csv.gz`` or is a ``_SUCCESS`` marker, so no
    S3 notification or EventBridge rule that delivers inputs (by suffix) delivers one of our own outputs.
    The XGBoost container reads every file of a channel whatever its name, and the deployment and
    evaluation stages find the test file through the ``Testing`` tag's URI.  The run-record name is the
    split itself for a single file, else ``{split}/part-NNNNN``.

    Args:
        split: ``train``, ``validation`` or ``test``.
        parts: number of part files (>= 1; the test split is always one).
    """
    keys = [f"{split}/part-{i:05d}" for i in range(max(parts, 1))]
    return [(split, keys[0])] if len(keys) == 1 else [(key, key) for key in keys]


@dataclass(frozen=True)
class SourceInfo:
    """Identity of the source object.

    Attributes:
        uri: ``file:///abs/path.csv`` or ``s3://bucket/key``.
        name: the dataset name used in the output prefix (the file name without ``.csv`` / ``.csv.gz``, made
            safe for keys and tags: :func:`~model_training.data.dataset.dataset_name`).
        size_bytes: size of the object in bytes.
        sha256: hex SHA-256 of the object's bytes (``""`` until an S3 object has been read).
        etag: the S3 ``ETag`` (without quotes), for S3 objects.
        version_id: the S3 ``VersionId``, in a versioned bucket.
    """

    uri: str
    name: str
    size_bytes: int
    sha256: str
    etag: str | None = None
    version_id: str | None = None

    def identity(self) -> dict[str, str]:
        """What identifies the object's content for the run id: the URI with the content hash for a
        local file, with ``eTag`` and ``versionId`` for an S3 object (known before it is downloaded, so a
        duplicate delivery is recognised without reading it)."""
        if self.uri.startswith("s3://"):
            return {"uri": self.uri, "etag": self.etag or "", "version_id": self.version_id or ""}
        return {"uri": self.uri, "sha256": self.sha256}


@dataclass(frozen=True)
class StoredObject:
    """An object as written.

    Attributes:
        key: the ``/``-separated key under the store's root.
        uri: ``file:///abs/path`` (``s3://bucket/key`` for S3).
        size_bytes: its size in bytes.
        sha256: hex SHA-256 of its bytes (computed from the bytes as they were written).
        stamp: for a local file, ``(device, inode, mtime in ns)`` of the file as written (what a local
            store's ``verify`` compares): a fact of this machine, not of the object, so two objects equal
            without it, and the run record (whose ``files`` are these objects) leaves it out of ``run.json``.
        checksum: for an S3 object, its CRC-32 as S3 reports it (``ChecksumCRC32``: base64 of 4 bytes, and for
            a multipart upload the composite ``<base64>-<parts>``), computed from the bytes as they were sent
            (what an S3 store's ``verify`` compares with S3's); like ``stamp``, left out of equality and of
            ``run.json``.
    """

    key: str
    uri: str
    size_bytes: int
    sha256: str
    stamp: Annotated[tuple[int, int, int] | None, Field(exclude=True)] = field(default=None, compare=False)
    checksum: Annotated[str | None, Field(exclude=True)] = field(default=None, compare=False)


@dataclass(frozen=True)
class SplitLabels:
    """One split's labels, as the split counts them and ``run.json`` records them.

    Attributes:
        rows: the rows in the split.
        counts: under a classification objective (``binary:``, ``multi:``), the rows per label value (the
            numeric value: ``1`` and ``1.0`` are one class), ascending; else ``None``.
        minimum, maximum, mean: under the other objectives, the label's smallest, largest and mean value (the
            mean of the exact sum, rounded once: the same whatever the order or chunking of the rows); ``None``
            under classification and for an empty split.
    """

    rows: int
    counts: dict[float, int] | None = None
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None

    def single_value(self) -> float | None:
        """The label's one value when the split has rows that all carry the same label, else ``None``."""
        if self.counts is not None:
            return next(iter(self.counts)) if len(self.counts) == 1 else None
        return self.minimum if self.rows and self.minimum == self.maximum else None


class Source(Protocol):
    """Where the CSV comes from: a local file, an S3 object (pinned to one version) or a folder of part files."""

    @property
    def display_name(self) -> str: ...

    def size(self) -> int:
        """The object's size in bytes (a ``HeadObject`` for S3)."""
        ...

    def identify(self, on_bytes: Callable[[int], None] | None = None, *, keep: bool = True) -> SourceInfo:
        """The source's identity (reading and hashing a local file; a ``HeadObject`` for S3); ``keep``: the
        bytes read may be kept for a :meth:`read` that follows."""
        ...

    def read(self, on_bytes: Callable[[int], None] | None = None) -> tuple[SourceInfo, bytes]:
        """The identity and every byte (gzip data as stored)."""
        ...

    def chunks(self, size: int) -> Iterator[bytes]:
        """The bytes in pieces of about ``size`` bytes (gzip data as stored)."""
        ...

    def sample(self, size: int) -> bytes:
        """The first ``size`` bytes (fewer for a smaller object)."""
        ...


class Store(Protocol):
    """Where outputs go: a local folder or an S3 bucket (under a root prefix)."""

    def uri(self, key: str) -> str: ...

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def write(self, key: str, chunks: Iterable[Chunk]) -> StoredObject:
        """Write ``key`` atomically from ``chunks``; returns what was written (size and SHA-256).  A chunk must
        not be changed once yielded: a store may hold it (not copied) until its bytes are sent."""
        ...

    def write_bytes(self, key: str, data: bytes) -> StoredObject: ...

    def verify(self, obj: StoredObject) -> bool:
        """Whether the object at ``obj.key`` is still the one written: on S3 its size and the CRC-32 S3
        computed (a ``HeadObject``) against ``obj.checksum``, locally the same file (device, inode, size and
        modification time)."""
        ...

    def with_tags(self, tags: dict[str, str]) -> Store:
        """The same store, tagging every object it writes with ``tags``."""
        ...

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Create ``key`` with ``data`` only if it does not exist; ``False`` if it did (``If-None-Match: *`` on
        S3; locally a hard link of a written temporary file, which fails if the name exists)."""
        ...

    def age_seconds(self, key: str) -> float | None: ...

    def delete(self, key: str) -> None: ...

    def sweep(self, prefix: str) -> None:
        """Remove the temporary files a killed run left under ``prefix`` (on S3 there are none: an object
        exists only once written whole)."""
        ...


class TrainingBackend(Protocol):
    """Runs training jobs and hyperparameter tuning jobs: XGBoost on this machine, or SageMaker.

    Tuning jobs are in SageMaker's shapes: the request is ``CreateHyperParameterTuningJob``'s, the answers
    ``DescribeHyperParameterTuningJob``'s and ``ListTrainingJobsForHyperParameterTuningJob``'s
    ``TrainingJobSummaries``."""

    backend_name: str
    #: Jobs run in this process (local): an ``InProgress`` job is run by the delivery holding the run claim.
    runs_jobs: bool

    def preflight(self, algorithm_version: str, *, tuning: bool = False) -> None:
        """Raise a :class:`~model_training.errors.ModelTrainingError` if this backend cannot train a job for
        ``algorithm_version`` as the image would (with ``tuning``: or cannot run a hyperparameter search);
        called before anything of a run is written."""
        ...

    def create_training_job(self, request: dict[str, Any]) -> str:
        """Create a job from a ``CreateTrainingJob`` request; returns its ARN.

        Raises:
            TrainingJobExistsError: a job of that ``TrainingJobName`` exists.
        """
        ...

    def find_training_job(self, name: str) -> dict[str, Any] | None:
        """The ``DescribeTrainingJob`` of ``name``, or ``None`` if there is no such job."""
        ...

    def run_training_job(self, name: str) -> dict[str, Any]:
        """Run the job where this backend runs jobs itself (local), then describe it; SageMaker: describe it."""
        ...

    def create_hyper_parameter_tuning_job(self, request: dict[str, Any]) -> str:
        """Create a tuning job from a ``CreateHyperParameterTuningJob`` request; returns its ARN.

        Raises:
            TrainingJobExistsError: a tuning job of that ``HyperParameterTuningJobName`` exists (and is the
                request's run's, where the backend can tell).
            TrainingJobError: the backend refused the request.
        """
        ...

    def describe_hyper_parameter_tuning_job(self, name: str) -> dict[str, Any]:
        """The tuning job ``name``, shaped like ``DescribeHyperParameterTuningJob``'s response.

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        ...

    def list_training_jobs_for_hyper_parameter_tuning_job(self, name: str) -> list[dict[str, Any]]:
        """Every training job the tuning job ``name`` started (``HyperParameterTrainingJobSummary`` each).

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        ...

    def run_hyper_parameter_tuning_job(self, name: str, baseline: Mapping[str, str | None] | None = None) -> dict[str, Any]:
        """Run the tuning job's search to its end where this backend runs jobs itself (local; ``baseline``: the
        untuned configuration's value of each tuned hyperparameter, trained first), then describe it; SageMaker:
        describe it."""
        ...


#: A backend that runs hyperparameter tuning jobs: every :class:`TrainingBackend` does.
TuningBackend = TrainingBackend
