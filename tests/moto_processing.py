"""SageMaker's side of a processing job on moto's server, driven in this process (helpers, not tests).

moto 5 creates a processing job ``Completed`` at once and replaces a job of the same name; SageMaker creates it
``InProgress``, refuses a name that is taken (``ResourceInUse``) and says later how it ended.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def processing_jobs_as_sagemaker(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on (for the test), moto's server creates a processing job ``InProgress`` and refuses a name that is
    taken with ``ResourceInUse``, as SageMaker does (moto's own: ``Completed`` at once, the first job replaced)."""
    from moto.sagemaker.exceptions import ResourceInUseException
    from moto.sagemaker.models import SageMakerModelBackend

    create = SageMakerModelBackend.create_processing_job

    def as_sagemaker(self: Any, **kwargs: Any) -> Any:
        if kwargs["processing_job_name"] in self.processing_jobs:
            raise ResourceInUseException(f"Job {kwargs['processing_job_name']} already exists")
        job = create(self, **kwargs)
        job.processing_job_status = "InProgress"
        return job

    monkeypatch.setattr(SageMakerModelBackend, "create_processing_job", as_sagemaker)


def set_processing_state(name: str, status: str, reason: str | None = None) -> None:
    """Put processing job ``name`` in ``status`` as SageMaker would (through moto's model of it)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    job = sagemaker_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_REGION"]].processing_jobs[name]
    job.processing_job_status, job.failure_reason = status, reason
