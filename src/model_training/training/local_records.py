"""A local job's record created once, as SageMaker creates a job once (:func:`create_job_record`): the local
backends' training and tuning jobs are JSON files in the jobs folder, one per job name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from model_training.errors import TrainingJobExistsError


def create_job_record(path: Path, record: Mapping[str, Any], exists: TrainingJobExistsError) -> None:
    """Write ``record`` as JSON to ``path``, which must not exist yet: created with ``O_EXCL``, so that of two
    processes creating the same job exactly one succeeds (SageMaker's ``CreateTrainingJob`` and
    ``CreateHyperParameterTuningJob`` refuse a name in use).  The folder must exist.

    Raises:
        TrainingJobExistsError: ``exists``, when ``path`` exists (nothing is written).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise exists from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh, indent=2)
