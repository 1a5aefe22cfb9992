"""The SageMaker training backend: ``CreateTrainingJob`` / ``DescribeTrainingJob`` and
``CreateHyperParameterTuningJob`` / ``DescribeHyperParameterTuningJob`` /
``ListTrainingJobsForHyperParameterTuningJob`` through boto3.

No SageMaker Python SDK at run time (it is hundreds of MB and seconds of import); the requests are built
by :mod:`model_training.training.jobs` and :mod:`model_training.training.tuning_request` and sent as they are.
SageMaker has no idempotency token for training or tuning jobs: a deterministic name is the guard, and a
second create with the same name fails with ``ResourceInUse``, which is reported as
:class:`TrainingJobExistsError`.  For a tuning job, that answer is checked first: the existing job's ``RunId``
tag (``ListTags``) must be the request's, else the name belongs to another run (or to someone else) and the
create fails with a :class:`TrainingJobError` saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from model_training.errors import TrainingJobError, TrainingJobExistsError, TrainingJobNotFoundError
from model_training.training.backend import JobFinder

if TYPE_CHECKING:
    from model_training.ports import TuningBackend

#: Trials per page of ``ListTrainingJobsForHyperParameterTuningJob``: the service model's largest ``MaxResults``
#: (its default is 10, and a Random search may have 10,000 trials).
TRIALS_PAGE_SIZE = 100


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

    def preflight(self, algorithm_version: str, *, tuning: bool = False) -> None:
        """Nothing to check here: SageMaker trains and searches with the image's own XGBoost."""

    def create_training_job(self, request: dict[str, Any]) -> str:
        """Send ``CreateTrainingJob``; returns the job ARN.

        Raises:
            TrainingJobExistsError: ``ResourceInUse``: a job with this name exists (a duplicate delivery).
            TrainingJobError: SageMaker refused the request (``ValidationException`` and the like), with its message.
        """
        from model_training.aws import error_code

        try:
            return str(self.client.create_training_job(**request)["TrainingJobArn"])
        except Exception as exc:
            if error_code(exc) == "ResourceInUse":
                raise TrainingJobExistsError(
                    f"training job {request['TrainingJobName']!r} already exists", "this object version was already handled"
                ) from None
            refused = _refused(exc, "training job", request["TrainingJobName"])
            if refused is None:
                raise  # throttling or a server fault after boto3's retries (the delivery is retried), or not AWS's
            raise refused from None

    def describe_training_job(self, name: str) -> dict[str, Any]:
        """``DescribeTrainingJob``.

        Raises:
            TrainingJobNotFoundError: no such job.
        """
        try:
            response = dict(self.client.describe_training_job(TrainingJobName=name))
        except Exception as exc:
            _raise_not_found(exc, "training job", name)
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

    # ----- tuning jobs ------------------------------------------------------------------------------------------

    def create_hyper_parameter_tuning_job(self, request: dict[str, Any]) -> str:
        """Send ``CreateHyperParameterTuningJob``; returns the tuning job's ARN.

        Raises:
            TrainingJobExistsError: ``ResourceInUse``, and the existing tuning job's ``RunId`` tag is the
                request's: this run's job, created by an earlier delivery.
            TrainingJobError: ``ResourceInUse`` for a tuning job that is not this run's (another ``RunId``, or
                none); SageMaker refused the request (``ValidationException``, ``ResourceLimitExceeded`` ...),
                with its message.
        """
        from model_training.aws import error_code

        name = request["HyperParameterTuningJobName"]
        try:
            return str(self.client.create_hyper_parameter_tuning_job(**request)["HyperParameterTuningJobArn"])
        except Exception as exc:
            if error_code(exc) != "ResourceInUse":
                refused = _refused(exc, "tuning job", name)
                if refused is None:
                    raise  # throttling or a server fault after boto3's retries (the delivery is retried), or not AWS's
                raise refused from None
        self._check_same_run(request)  # outside the handler: its errors are not chained to SageMaker's answer
        raise TrainingJobExistsError(f"tuning job {name!r} already exists", "this object version was already handled")

    def _check_same_run(self, request: dict[str, Any]) -> None:
        """Raise :class:`TrainingJobError` unless the existing tuning job of ``request``'s name carries the
        request's ``RunId`` tag."""
        name = request["HyperParameterTuningJobName"]
        wanted = _tag(request.get("Tags", []), "RunId")
        arn = self.describe_hyper_parameter_tuning_job(name)["HyperParameterTuningJobArn"]
        found = _tag(self.tags(arn), "RunId")
        if wanted is not None and found == wanted:
            return
        if wanted is None:
            why = "and the request has no RunId tag to tie it to a run"
        elif found is None:
            why = f"and has no RunId tag: it was not started for this run ({wanted})"
        else:
            why = f"and belongs to run {found}, not to this run ({wanted})"
        raise TrainingJobError(
            f"tuning job {name!r} exists {why}",
            "tuning job names are unique per account and region for ever (ignoring case), and this one is taken: "
            "change a setting of the run (e.g. --date) for another run id and name, or rename the dataset's file",
        )

    def describe_hyper_parameter_tuning_job(self, name: str) -> dict[str, Any]:
        """``DescribeHyperParameterTuningJob``.

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        try:
            response = dict(self.client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name))
        except Exception as exc:
            _raise_not_found(exc, "tuning job", name)
            raise
        response.pop("ResponseMetadata", None)
        return response

    def list_training_jobs_for_hyper_parameter_tuning_job(self, name: str) -> list[dict[str, Any]]:
        """Every training job the tuning job ``name`` started, oldest first
        (``ListTrainingJobsForHyperParameterTuningJob``, every page, each of :data:`TRIALS_PAGE_SIZE`; its
        ``TrainingJobSummaries``).

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        paginator = self.client.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
        pages = paginator.paginate(
            HyperParameterTuningJobName=name,
            SortBy="CreationTime",
            SortOrder="Ascending",
            PaginationConfig={"PageSize": TRIALS_PAGE_SIZE},
        )
        try:
            return [summary for page in pages for summary in page.get("TrainingJobSummaries", [])]
        except Exception as exc:
            _raise_not_found(exc, "tuning job", name)
            raise

    def run_hyper_parameter_tuning_job(self, name: str, baseline: Mapping[str, str | None] | None = None) -> dict[str, Any]:
        """SageMaker runs the search by itself: this only describes it (``baseline`` is the local backend's: SageMaker
        trains no untuned trial).

        Raises:
            TrainingJobNotFoundError: no such tuning job.
        """
        return self.describe_hyper_parameter_tuning_job(name)

    def list_hyper_parameter_tuning_jobs(self, max_results: int = 50) -> list[dict[str, Any]]:
        """The newest tuning jobs' summaries (``ListHyperParameterTuningJobs``, by creation time, descending)."""
        response = self.client.list_hyper_parameter_tuning_jobs(
            SortBy="CreationTime", SortOrder="Descending", MaxResults=max_results
        )
        return list(response.get("HyperParameterTuningJobSummaries", []))

    def tags(self, arn: str) -> list[dict[str, str]]:
        """Every tag of the resource ``arn`` (``ListTags``, every page), as ``[{"Key": k, "Value": v}]``."""
        pages = self.client.get_paginator("list_tags").paginate(ResourceArn=arn)
        return [tag for page in pages for tag in page.get("Tags", [])]


if TYPE_CHECKING:

    def _is_a_tuning_backend(backend: SageMakerBackend) -> TuningBackend:
        return backend  # mypy checks here that the backend has the protocol's methods and signatures


def _tag(tags: list[dict[str, str]], key: str) -> str | None:
    return next((tag["Value"] for tag in tags if tag["Key"] == key), None)


def _refused(exc: Exception, kind: str, name: str) -> TrainingJobError | None:
    """SageMaker's refusal of a create as a :class:`TrainingJobError` with its code and message; ``None`` for
    a failure a retry may cure (throttling, a server fault, after boto3's own retries) and for an exception
    that is not an AWS error, which the caller re-raises."""
    from model_training.aws import error_code, is_transient

    code = error_code(exc)
    if is_transient(exc) or not code:
        return None
    message = getattr(exc, "response", {}).get("Error", {}).get("Message", str(exc))
    hint = "check the role, the instance type's quota and the request's settings"
    return TrainingJobError(f"SageMaker refused {kind} {name!r}: {code}: {message}", hint)


def _raise_not_found(exc: Exception, kind: str, name: str) -> None:
    """Raise :class:`TrainingJobNotFoundError` if ``exc`` says there is no such job (``ResourceNotFound``, or
    the ``ValidationException`` SageMaker answers for some unknown names)."""
    from model_training.aws import error_code

    if error_code(exc) in ("ValidationException", "ResourceNotFound"):
        raise TrainingJobNotFoundError(f"{kind} {name!r} not found", "check the name and the region") from None
