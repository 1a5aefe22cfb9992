"""Deterministic ``TrainingJobName`` values.

SageMaker's rule (CreateTrainingJob API reference): 1-63 characters matching
``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``, unique per account and region forever.  There is no
idempotency token, so a name derived from the run id is the only guard against starting the same
job twice.
"""

from __future__ import annotations

import re

JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_JOB_NAME_LENGTH = 63


def job_name(dataset: str, run_id: str) -> str:
    """``{dataset-slug}-{run_id}``: the dataset name lower-cased with every run of other characters
    replaced by one ``-``, shortened so the whole name fits 63 characters (``model-training`` when
    nothing of the dataset name is usable, ``mt`` when nothing of it is left after shortening).

    Raises:
        ValueError: ``run_id`` is not 1-61 letters and digits."""
    if not re.fullmatch(r"[a-zA-Z0-9]+", run_id) or len(run_id) > MAX_JOB_NAME_LENGTH - 2:
        raise ValueError(f"run id {run_id!r} must be 1-61 letters and digits")
    slug = re.sub(r"[^a-z0-9]+", "-", dataset.lower()).strip("-") or "model-training"
    slug = slug[: MAX_JOB_NAME_LENGTH - len(run_id) - 1].rstrip("-") or "mt"
    name = f"{slug}-{run_id}"
    assert JOB_NAME_PATTERN.match(name), name
    return name


def is_valid_job_name(name: str) -> bool:
    """Whether ``name`` satisfies SageMaker's ``TrainingJobName`` rule."""
    return bool(JOB_NAME_PATTERN.match(name))
