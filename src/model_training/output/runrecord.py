"""The run record (``run.json``) and the deterministic run id.

A run is identified by what went in (:meth:`~model_training.ports.SourceInfo.identity`: a local file's URI
and content hash, an S3 object's URI, eTag and versionId) and the effective configuration: the same input and
configuration give the same run id in any process, on any day the configuration's ``run_date`` is the same.
The only date in the id is that ``run_date`` (part of the configuration); no other clock reading enters it.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from model_training.config.run import NOT_IDENTITY, RunConfig
from model_training.ports import SourceInfo, StoredObject

RUN_RECORD_NAME = "run.json"
RUN_ID_LENGTH = 16
SCHEMA_VERSION = 1


def compute_run_id(source: SourceInfo, config: RunConfig) -> str:
    """The run id: the first 16 hex digits (64 bits) of the SHA-256 of a canonical JSON document holding
    the source's identity (URI and SHA-256 for a local file; URI, ``eTag`` and ``versionId`` for an S3
    object) and the effective configuration (but the fields that change no output, :data:`NOT_IDENTITY`)."""
    payload = {
        "source": source.identity(),
        "config": config.model_dump(mode="json", exclude=set(NOT_IDENTITY)),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:RUN_ID_LENGTH]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitRecord(_Model):
    """Rows in a split, how many rows carry each label value (keys are the numeric value: ``"0"``,
    ``"1"``, ``"2.5"``; ``1`` and ``1.0`` in the source are one class), and the rows labelled 1 when the
    labels are binary (0/1)."""

    rows: int
    label_counts: dict[str, int]
    positives: int | None = None


class TrainingRecord(_Model):
    """The training job of a run: backend, ``TrainingJobName`` and, once known, its outcome.

    ``serving_image`` is the algorithm image that must serve the model (the job's own
    ``AlgorithmSpecification.TrainingImage`` on SageMaker; ``sagemaker-xgboost:{version}`` for a local job,
    in any region's registry), and ``xgboost_version`` the XGBoost release that trained it, which is that
    image's.  Another image, such as the legacy ``xgboost:latest`` (0.72), cannot load the model."""

    backend: str
    job_name: str
    status: str
    serving_image: str | None = None
    xgboost_version: str | None = None
    failure_reason: str | None = None
    final_metrics: dict[str, float] = {}
    model_artifact: str | None = None
    training_seconds: float | None = None


class RunRecord(_Model):
    """Everything about one run, written as ``{prefix}/{run_id}/run.json`` after every split file is
    written and verified, and rewritten (atomically) when the training job's outcome is known.

    ``status`` is ``committed`` once the splits are complete and verified (a run split with
    ``--no-train`` stays there, and a later run with training trains it), ``complete`` once its training
    job has ended (``Completed`` or ``Failed``); ``started`` while a SageMaker job runs (the stage does
    not wait for it).
    """

    schema_version: int = SCHEMA_VERSION
    run_id: str
    status: Literal["committed", "started", "complete"]
    source: dict[str, Any]
    config: dict[str, Any]
    prefix: str
    splits: dict[str, SplitRecord]
    files: dict[str, StoredObject]
    """By split (``train``, ``validation``, ``test``); a channel written as several part files lists them
    as ``train/part-00000``, ``train/part-00001`` ...  Each is the store's
    :class:`~model_training.ports.StoredObject` as written: ``key``, ``uri``, ``size_bytes`` and ``sha256``
    in ``run.json`` (its ``stamp`` is left out)."""
    versions: dict[str, str]
    achieved_fractions: dict[str, float] | None = None
    manifest: dict[str, Any] | None = None
    training: TrainingRecord | None = None

    def to_json(self) -> bytes:
        """The record as indented UTF-8 JSON with a final newline."""
        return (self.model_dump_json(indent=2) + "\n").encode("utf-8")


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that shape the outputs (installed ones only)."""
    versions = {"python": platform.python_version()}
    for dist in ("model-training", "numpy", "pyarrow", "pydantic", "xgboost", "xgboost-cpu", "boto3"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions
