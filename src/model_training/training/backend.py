"""What the training backends (:mod:`~model_training.training.local`, :mod:`~model_training.training.sagemaker`)
share: finding a job is describing it, with "no such job" as ``None``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from model_training.errors import TrainingJobNotFoundError


class JobFinder(ABC):
    """A backend that describes jobs by name; :meth:`find_training_job` follows from that."""

    @abstractmethod
    def describe_training_job(self, name: str) -> dict[str, Any]:
        """The job, shaped like SageMaker's ``DescribeTrainingJob`` response.

        Raises:
            TrainingJobNotFoundError: no such job.
        """

    def find_training_job(self, name: str) -> dict[str, Any] | None:
        """The job's description (:meth:`describe_training_job`), or ``None`` if there is no such job."""
        try:
            return self.describe_training_job(name)
        except TrainingJobNotFoundError:
            return None
