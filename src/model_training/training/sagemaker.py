"""The SageMaker training backend: ``CreateTrainingJob`` / ``DescribeTrainingJob`` through boto3.

No SageMaker Python SDK at run time (it is hundreds of MB and seconds of import); the request is built
by :mod:`model_training.training.request` and sent as it is.  SageMaker has no idempotency token for
training jobs: a deterministic ``TrainingJobName`` is the guard, and a second create with the same name
fails with ``ResourceInUse``, which is reported as :class:`TrainingJobExistsError`.
"""

from __future__ import annotations

from typing import Any

from model_training.errors import TrainingJobError, TrainingJobExistsError, TrainingJobNotFoundError
from model_training.training.backend import JobFinder


class SageMakerBackend(JobFinder):
    """Start and describe training jobs on SageMaker (or whatever endpoint boto3 is configured for).

    Args:
        client: a boto3 ``sagemaker`` client (default: the process-wide cached one).
    """

    backend_name = "sagemaker"
    runs_jobs = False  # SageMaker runs the job; an InProgress job needs nothing more from us

    def __init__(self, client: Any = None) -> None:
        from model_training import aws

        self.client = client or aws.client("sagemaker")

    def preflight(self, algorithm_version: str) -> None:
        """Nothing to check here: SageMaker trains with the image's own XGBoost."""

    def create_training_job(self, request: dict[str, Any]) -> str:
        """Send ``CreateTrainingJob``; returns the job ARN.

        Raises:
            TrainingJobExistsError: ``ResourceInUse``: a job with this name exists (a duplicate delivery).
            TrainingJobError: SageMaker refused the request (``ValidationException`` and the like), with its message.
        """
        from model_training.aws import error_code, is_transient

        try:
            return str(self.client.create_training_job(**request)["TrainingJobArn"])
        except Exception as exc:
            code = error_code(exc)
            if is_transient(exc):
                raise  # throttling or a server fault after boto3's retries: the delivery is retried
            if code == "ResourceInUse":
                raise TrainingJobExistsError(
                    f"training job {request['TrainingJobName']!r} already exists", "this object version was already handled"
                ) from None
            if code:
                message = getattr(exc, "response", {}).get("Error", {}).get("Message", str(exc))
                raise TrainingJobError(
                    f"SageMaker refused training job {request['TrainingJobName']!r}: {code}: {message}",
                    "check the role, the instance type's quota and the request's settings",
                ) from None
            raise

    def describe_training_job(self, name: str) -> dict[str, Any]:
        """``DescribeTrainingJob``.

        Raises:
            TrainingJobNotFoundError: no such job.
        """
        from model_training.aws import error_code

        try:
            response = dict(self.client.describe_training_job(TrainingJobName=name))
        except Exception as exc:
            if error_code(exc) in ("ValidationException", "ResourceNotFound"):
                raise TrainingJobNotFoundError(f"training job {name!r} not found", "check the name and the region") from None
            raise
        response.pop("ResponseMetadata", None)
        return response

    def job_tags(self, arn: str) -> dict[str, str]:
        """The tags of the job ``arn`` (``ListTags``, every page), as ``{key: value}``."""
        pages = self.client.get_paginator("list_tags").paginate(ResourceArn=arn)
        return {tag["Key"]: tag["Value"] for page in pages for tag in page.get("Tags", [])}

    def list_training_jobs(self, max_results: int = 50) -> list[dict[str, Any]]:
        """The newest jobs' summaries (``ListTrainingJobs``, by creation time, descending)."""
        response = self.client.list_training_jobs(SortBy="CreationTime", SortOrder="Descending", MaxResults=max_results)
        return list(response.get("TrainingJobSummaries", []))

    def run_training_job(self, name: str) -> dict[str, Any]:
        """SageMaker runs the job by itself: this only describes it (a Lambda never waits for training)."""
        return self.describe_training_job(name)
