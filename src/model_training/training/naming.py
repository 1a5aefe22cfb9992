"""Deterministic names of a run's SageMaker jobs: the ``TrainingJobName`` and the
``HyperParameterTuningJobName``.

SageMaker's rules (API reference, service model): a ``TrainingJobName`` has 1-63 characters matching
``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``; a ``HyperParameterTuningJobName`` 1-32 characters matching
``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$`` ("not case sensitive": ``Bank`` and ``bank`` are one name).  Both are
unique per account and region forever.  There is no idempotency token, so a name derived from the run id is
the only guard against starting the same job twice: a second delivery of the same object finds the job by
its name.

Both names are ``{dataset-slug}-{run_id}`` and keep the whole run id: 16 hex digits, 64 bits of the SHA-256 of
the source's identity and the configuration (:mod:`model_training.output.runrecord`).  The run id is the
name's last 16 characters, so two runs share a name only if their run ids are equal; by the birthday bound,
a collision among n runs has a probability of about n²/2⁶⁵ (below 10⁻⁹ for 190,000 runs).  Shortening takes
characters of the dataset name only.
"""

from __future__ import annotations

import re

JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_JOB_NAME_LENGTH = 63
TUNING_JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
MAX_TUNING_JOB_NAME_LENGTH = 32


def job_name(dataset: str, run_id: str) -> str:
    """``{dataset-slug}-{run_id}``: the dataset name lower-cased with every run of other characters
    replaced by one ``-``, shortened so the whole name fits 63 characters (``model-training`` when
    nothing of the dataset name is usable, ``mt`` when nothing of it is left after shortening).

    Raises:
        ValueError: ``run_id`` is not 1-61 letters and digits."""
    return _name(dataset, run_id, MAX_JOB_NAME_LENGTH, JOB_NAME_PATTERN)


def tuning_job_name(dataset: str, run_id: str) -> str:
    """The run's ``HyperParameterTuningJobName``: ``{dataset-slug}-{run_id}`` as :func:`job_name` makes it,
    the slug shortened so the whole name fits 32 characters (15 characters of the slug with a 16-digit run id).
    The tuning job's training jobs are named by SageMaker with this name as their prefix.

    Raises:
        ValueError: ``run_id`` is not 1-30 letters and digits."""
    return _name(dataset, run_id, MAX_TUNING_JOB_NAME_LENGTH, TUNING_JOB_NAME_PATTERN)


def _name(dataset: str, run_id: str, longest: int, pattern: re.Pattern[str]) -> str:
    if not re.fullmatch(r"[a-zA-Z0-9]+", run_id) or len(run_id) > longest - 2:
        raise ValueError(f"run id {run_id!r} must be 1-{longest - 2} letters and digits")
    slug = re.sub(r"[^a-z0-9]+", "-", dataset.lower()).strip("-") or "model-training"
    slug = slug[: longest - len(run_id) - 1].rstrip("-") or "mt"
    name = f"{slug}-{run_id}"
    assert pattern.match(name), name
    return name


def is_valid_job_name(name: str) -> bool:
    """Whether ``name`` satisfies SageMaker's ``TrainingJobName`` rule."""
    return bool(JOB_NAME_PATTERN.match(name))


def is_valid_tuning_job_name(name: str) -> bool:
    """Whether ``name`` satisfies SageMaker's ``HyperParameterTuningJobName`` rule."""
    return bool(TUNING_JOB_NAME_PATTERN.match(name))
