"""Typed errors of the stage.

Every error a user can cause (bad input, bad configuration, a job name that exists) is a
:class:`ModelTrainingError`: it carries one clear ``message`` that names the object and, where it
applies, the line and column, and a ``hint`` that says what to do.  The command line prints both on
one line each and exits non-zero; the Lambda handler reports them per object.  Nothing outside this
module should raise a bare library exception at a user.
"""

from __future__ import annotations

import errno

#: At most this many problems are described in one error; the rest are counted ("and N more").
MAX_PROBLEMS = 20


def listed(problems: list[str], limit: int = MAX_PROBLEMS) -> list[str]:
    """The first ``limit`` of ``problems``, then ``and N more`` if there are more (the list as an error
    describes it)."""
    return problems if len(problems) <= limit else [*problems[:limit], f"and {len(problems) - limit} more"]


class ModelTrainingError(Exception):
    """Base class of every error the stage reports to a user.

    Attributes:
        message: what went wrong, naming the object (and line/column where it applies).
        hint: what to do about it (may be empty).
        exit_code: the command line's exit status for this error (1 unless a subclass says otherwise).
    """

    exit_code = 1

    def __init__(self, message: str, hint: str = "", *, log_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.log_message = log_message or message

    #: ``log_message`` is what goes to logs: the message without any value from the data (logs hold names,
    #: positions, sizes and counts only); ``message`` may quote the offending value for the caller.

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class DatasetError(ModelTrainingError):
    """The source CSV cannot be split: unreadable, malformed, a missing column, a non-numeric value."""


class ConfigurationError(ModelTrainingError):
    """A setting is invalid (fractions, seed, label/drop columns, paths)."""


class XGBoostVersionError(ConfigurationError):
    """The installed XGBoost is not the release the chosen algorithm image runs, so a model trained with
    it would not be served identically (or the local backend's libraries are not installed)."""


class HyperparameterError(ModelTrainingError):
    """Hyperparameters break the built-in XGBoost container's rules.

    Attributes:
        problems: the problems found, one sentence each, reported together rather than one per attempt (at
            most :data:`MAX_PROBLEMS`, then ``and N more``: :func:`listed`).
    """

    def __init__(self, problems: list[str], hint: str = "") -> None:
        self.problems = list(problems)
        joined = "; ".join(self.problems)
        super().__init__(f"invalid hyperparameters: {joined}", hint)


class SplitError(ModelTrainingError):
    """The requested split cannot be made (e.g. too few rows for the fractions)."""


class EventError(ModelTrainingError):
    """An event record names an object but cannot be trusted as it stands (an ``eventTime`` that is not an
    ISO-8601 time, or one outside years 1 to 9999 in UTC): the record fails, and no retry can cure it."""


class TrainingJobError(ModelTrainingError):
    """A training job SageMaker refused to create, one that does not exist, or one whose name exists already."""


class TrainingJobExistsError(TrainingJobError):
    """A training job with this ``TrainingJobName`` exists already (SageMaker's ``ResourceInUse``)."""


class RunFailedError(ModelTrainingError):
    """The training job of a run ended ``Failed`` (the run record says why); the split is kept."""

    exit_code = 3


class TrainingJobNotFoundError(TrainingJobError):
    """No training job has this name (SageMaker's ``ValidationException: Requested resource not found``)."""


class TransientError(ModelTrainingError):
    """A failure that says nothing about the input or the settings: running again may succeed (the command
    line exits 75, ``EX_TEMPFAIL``; the Lambda handler reports the record as retryable)."""

    exit_code = 75
    retryable = True


class RunBusyError(TransientError):
    """Another delivery (or process) holds the run's claim and is still alive: it writes and trains the
    run; this one stops before writing anything."""


class TimeBudgetError(TransientError):
    """Not enough of the Lambda invocation's time is left for the next step: the record fails cleanly
    before the step (and is retried) instead of being killed in the middle of an upload."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint or "the record is retried; raise the function's timeout if this repeats")


class RetryableError(TransientError):
    """The Lambda handler's own failure when a record of an S3, SNS or EventBridge event failed transiently:
    raised so that Lambda retries the whole event (SQS batches report the failed items instead)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint or "a transient failure: Lambda retries the event; by hand, run it again")


class EnvironmentFailure(TransientError):
    """The machine failed the run (disk full, out of memory, a signal), not the data or the settings:
    nothing is recorded as a verdict on the run, and running again redoes it."""


#: ``errno`` values that are the machine's fault, not the data's or the settings'.
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ENOMEM, errno.EMFILE, errno.ENFILE})


def environment_failure(exc: BaseException, doing: str) -> BaseException:
    """``exc`` as an :class:`EnvironmentFailure` (retryable) if the machine caused it (out of memory, a full
    disk, an I/O error), else ``exc`` itself."""
    if isinstance(exc, MemoryError):
        return EnvironmentFailure(f"{doing}: out of memory", "give the process more memory, or split by streaming (--stream)")
    if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
        where = f" ({exc.filename})" if exc.filename else ""
        return EnvironmentFailure(
            f"{doing}: {exc.strerror or exc}{where}", "free space (or fix the disk) and run again: nothing was committed"
        )
    return exc
