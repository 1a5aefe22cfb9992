"""Typed errors of the stage.

Every error a user can cause (bad input, bad configuration, a job name that exists) is a
:class:`ModelTrainingError`: it carries one clear ``message`` that names the object and, where it
applies, the line and column, and a ``hint`` that says what to do.  The command line prints both on
one line each and exits non-zero; the Lambda handler reports them per object.  Nothing outside this
module should raise a bare library exception at a user.

The object, line and column are fields of the error (``uri``, ``line``, ``column``), and the message is
rendered from them: a raise site gives the text around the location as a template, a tuple of strings and
the markers :data:`LINE` and :data:`COLUMN`, and the error puts ``"{uri}: "`` in front of it.  So the same
error can be rendered again with another location (:meth:`ModelTrainingError.relocated`: a folder of part
files names the part and the part's line) without reading a message back.

Hints name settings the same way: a hint is a template of strings and :class:`Setting` markers
(``("choose the label column with ", Setting("label", "NAME"))``), and each entry point renders them in
its own vocabulary (:meth:`ModelTrainingError.hint_in`; the vocabularies are :mod:`model_training.vocabulary`'s,
re-exported here): the command line names its flag (``--label NAME``, :func:`command_line`), the Lambda function
the environment variable and the manifest key (:func:`lambda_function`); ``hint`` and ``str()`` (logs, tests,
library callers) name all of them (:func:`every_name`).

Several problems of one input are reported at once as one error (:meth:`ModelTrainingError.of`): its
message lists each problem's (:attr:`ModelTrainingError.errors`), its hint joins theirs.
"""

from __future__ import annotations

import enum
import errno
from collections.abc import Sequence
from typing import Self, TypeAlias, TypeVar

from model_training.vocabulary import SETTINGS as SETTINGS
from model_training.vocabulary import Hint as Hint
from model_training.vocabulary import Setting as Setting
from model_training.vocabulary import SettingNames as SettingNames
from model_training.vocabulary import Vocabulary as Vocabulary
from model_training.vocabulary import command_line as command_line
from model_training.vocabulary import every_name as every_name
from model_training.vocabulary import lambda_function as lambda_function
from model_training.vocabulary import manifest_file as manifest_file
from model_training.vocabulary import render_hint as render_hint

#: At most this many problems are described in one error; the rest are counted ("and N more").
MAX_PROBLEMS = 20


def listed(problems: list[str], limit: int = MAX_PROBLEMS) -> list[str]:
    """The first ``limit`` of ``problems``, then ``and N more`` if there are more (the list as an error
    describes it)."""
    return problems if len(problems) <= limit else [*problems[:limit], f"and {len(problems) - limit} more"]


class Place(enum.Enum):
    """Where a template puts one of its error's location fields (see :data:`Text`)."""

    #: ``line 32``; in a part file, ``line 32 (line 82 of the dataset)`` (see ``dataset_line``).
    LINE = "line"
    #: the column name, quoted as ``repr`` quotes it: ``'f2'``.
    COLUMN = "column"
    #: the problems of an error that reports several (:attr:`ModelTrainingError.errors`), ``; ``-separated.
    ERRORS = "errors"


LINE = Place.LINE
COLUMN = Place.COLUMN

#: An error's text: a plain string, or a template of strings and :class:`Place` markers that the error fills
#: in from its fields, e.g. ``(LINE, " (column ", COLUMN, ") is not valid UTF-8")``.
Text: TypeAlias = str | Sequence[str | Place]


_E = TypeVar("_E", bound="ModelTrainingError")


class ModelTrainingError(Exception):
    """Base class of every error the stage reports to a user.

    Args:
        message: the text of the message without the object (the error puts ``"{uri}: "`` in front of it): a
            string, or a template with :data:`LINE` and :data:`COLUMN` where the error renders ``line`` and
            ``column`` (:data:`Text`).
        hint: what to do about it (may be empty): a string, or a template naming settings with
            :class:`Setting` markers (:data:`Hint`).
        uri: the object the error is about, as the message names it (a URI, or a local path as given), or
            ``None``.
        line: the 1-based line in that object (counting the header and blank lines), or ``None``.
        column: the name of the column at fault, or ``None``.
        dataset_line: when ``uri`` is one part file of a dataset of parts, ``line`` counted in the whole
            dataset (rendered after the line: ``line 4 (line 54 of the dataset)``), else ``None``.
        log_message: the text for logs, as ``message`` (the same location); default: ``message``.

    Attributes:
        message: what went wrong, naming the object (and line/column where they apply): rendered from
            :attr:`text` and the fields.
        log_message: what goes to logs: the message without any value from the data (logs hold names,
            positions, sizes and counts only), rendered from :attr:`log_text`; ``message`` may quote the
            offending value for the caller.
        text, log_text: the templates ``message`` and ``log_message`` are rendered from (without the object).
        hint: what to do, every setting named by all its names (:func:`every_name`); :meth:`hint_in` renders it
            in one entry point's vocabulary.
        hint_text: the template ``hint`` is rendered from.
        errors: the problems this error reports together (:meth:`of`), each an error of its own; ``()`` for an
            error about one problem.
        uri, line, column, dataset_line: as given.
        exit_code: the command line's exit status for this error (1 unless a subclass says otherwise).
        retryable: whether running again may succeed (``False`` unless a subclass says otherwise: see
            :class:`TransientError`).

    Raises:
        ValueError: a template marks a place for a field that is ``None``.
    """

    exit_code = 1
    retryable = False
    errors: tuple[ModelTrainingError, ...] = ()

    def __init__(
        self,
        message: Text,
        hint: Hint = "",
        *,
        uri: str | None = None,
        line: int | None = None,
        column: str | None = None,
        dataset_line: int | None = None,
        log_message: Text | None = None,
    ) -> None:
        self.text = _template(message)
        self.log_text = _template(log_message) if log_message else self.text
        self.hint_text: tuple[str | Setting, ...] = (hint,) if isinstance(hint, str) else tuple(hint)
        self.hint = self.hint_in(every_name)
        self._locate(uri, line, column, dataset_line)

    @classmethod
    def of(cls, errors: Sequence[_E], what: str, *, uri: str | None = None, hint: Hint | None = None) -> _E | Self:
        """One error reporting every one of ``errors``: the error itself if there is one, else an error of this class
        whose message is ``what``, the number of problems and each problem's message (the first
        :data:`MAX_PROBLEMS`, then how many more), without the object when it is ``uri``: ``data.csv: 2 columns
        cannot be read (2 problems): feature 'a' on line 2 ...; feature 'b' on line 5 ...``.

        Args:
            errors: at least one.
            what: what is wrong, as a message starts (``invalid manifest``).
            uri: the object they are about (default: the first error's, if every one has it).
            hint: the hint (default: every problem's hint, each once, ``; ``-separated).
        """
        if len(errors) == 1 and hint is None:
            return errors[0]
        if uri is None and len({e.uri for e in errors}) == 1:
            uri = errors[0].uri
        if hint is None:
            pieces: list[str | Setting] = []
            for text in dict.fromkeys(e.hint_text for e in errors if e.hint_text not in ((), ("",))):
                pieces += [*(("; ",) if pieces else ()), *text]
            hint = pieces
        group = cls.__new__(cls)  # a subclass may take other arguments: the base class's are given
        ModelTrainingError.__init__(
            group, f"{what} ({len(errors)} problems): " if len(errors) > 1 else f"{what}: ", hint, uri=uri
        )
        group.errors = tuple(errors)
        group.text = group.log_text = (*group.text, Place.ERRORS)
        group._locate(group.uri, None, None, None)
        return group

    def with_errors(self, errors: Sequence[ModelTrainingError]) -> Self:
        """This error (as :meth:`of` made it) reporting ``errors`` instead, its message rendered again."""
        other = type(self).__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.errors = tuple(errors)
        other._locate(self.uri, self.line, self.column, self.dataset_line)
        return other

    def with_hint(self, hint: Hint) -> Self:
        """This error with another hint."""
        other = type(self).__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.hint_text = (hint,) if isinstance(hint, str) else tuple(hint)
        other.hint = other.hint_in(every_name)
        return other

    def message_lines(self) -> list[str]:
        """The message as lines, for a reader (the command line): an error that reports several problems (:meth:`of`)
        as its message up to the problems (``data.csv: invalid configuration (3 problems):``), then one line per
        problem (the first :data:`MAX_PROBLEMS`, then how many more), each without the object when it is this
        error's; any other error as its message, one line."""
        if len(self.errors) < 2 or Place.ERRORS not in self.text:
            return [self.message]
        head = self._render(tuple(piece for piece in self.text if piece is not Place.ERRORS)).rstrip()
        return [head, *listed([e._render(e.text, within=self.uri) for e in self.errors])]

    def hint_in(self, vocabulary: Vocabulary) -> str:
        """The hint with its settings named by ``vocabulary`` (:func:`command_line`, :func:`lambda_function`)."""
        return render_hint(self.hint_text, vocabulary)

    def _locate(self, uri: str | None, line: int | None, column: str | None, dataset_line: int | None) -> None:
        """Set the location fields and render the message and the log message from them."""
        self.uri, self.line, self.column, self.dataset_line = uri or None, line, column, dataset_line
        self.message = self._render(self.text)
        self.log_message = self._render(self.log_text, log=True)
        self.args = (self.message,)

    def _render(self, text: tuple[str | Place, ...], *, log: bool = False, within: str | None = None) -> str:
        """``text`` with its places filled in, after ``"{uri}: "`` unless the object is ``within`` (the object of
        the error that reports this one among others)."""
        pieces = [f"{self.uri}: "] if self.uri and self.uri != within else []
        for piece in text:
            if isinstance(piece, str):
                pieces.append(piece)
            elif piece is LINE:
                if self.line is None:
                    raise ValueError("the error's text places a line, but it has none")
                within_ = f" (line {self.dataset_line} of the dataset)" if self.dataset_line is not None else ""
                pieces.append(f"line {self.line}{within_}")
            elif piece is COLUMN:
                if self.column is None:
                    raise ValueError("the error's text places a column, but it has none")
                pieces.append(repr(self.column))
            else:
                shown = [e._render(e.log_text if log else e.text, log=log, within=self.uri) for e in self.errors]
                pieces.append("; ".join(listed(shown)))
        return "".join(pieces)

    def relocated(self, uri: str | None, line: int | None = None, *, dataset_line: int | None = None) -> Self:
        """The same error (class, text, hint, column and any other attribute) about another location:
        ``uri`` and ``line`` (and ``dataset_line``) replace the error's, and the message and the log message
        are rendered again from its templates.

        Raises:
            ValueError: the error's text places a line and ``line`` is ``None``.
        """
        other = type(self).__new__(type(self))
        other.__dict__.update(self.__dict__)
        other._locate(uri, line, self.column, dataset_line)
        return other

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


def _template(text: Text) -> tuple[str | Place, ...]:
    return (text,) if isinstance(text, str) else tuple(text)


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
        about: for each problem, the hyperparameters it is about, by the names given (``("etaa",)``,
            ``("objective", "num_class")``; ``()`` for none, or when the raise site does not say), so that a
            problem can be put down to the settings layer that gave those names.
    """

    def __init__(self, problems: list[str], hint: Hint = "", *, about: Sequence[tuple[str, ...]] = ()) -> None:
        self.problems = list(problems)
        self.about = [*about[: len(self.problems)], *[()] * (len(self.problems) - len(about))]
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
    """The training job of a run ended ``Failed`` (the run record says why); the split is kept.

    Attributes:
        job_name: the failed job's name (``TrainingJobName``, or the search's ``HyperParameterTuningJobName``; ``""`` if
            not given).
        run_uri: the run folder's URI (``""`` if not given).
        search: the failed job is the run's hyperparameter search (its tuning job).
    """

    exit_code = 3
    job_name = ""
    run_uri = ""
    search = False

    def with_command(self, command: str) -> Self:
        """This error, its hint naming ``command`` (the entry point's way to show the job: the command line's
        ``jobs describe`` with the run's ``-o`` or ``--backend``) as the place to see the job."""
        return self.with_hint(failed_run_hint(self.run_uri, command, search=self.search))


def failed_run_hint(run_uri: str, command: str, *, search: bool = False) -> Hint:
    """The hint of a failed run: the split is kept under ``run_uri``, ``command`` shows the job (the tuning job when
    ``search``), and how to train (or search) again."""
    if search:
        return (
            f"the split is kept under {run_uri}; see: {command}. Tuning job names are unique, as on SageMaker: to search "
            "again, change a setting (e.g. a range, or ",
            Setting("run_date"),
            ")",
        )
    return (
        f"the split is kept under {run_uri}; see: {command}. Job names are unique, as on SageMaker: to train again, "
        "change a setting (e.g. a hyperparameter, or ",
        Setting("run_date"),
        ")",
    )


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

    def __init__(self, message: Text, hint: Hint = "", *, uri: str | None = None) -> None:
        super().__init__(message, hint or "the record is retried; raise the function's timeout if this repeats", uri=uri)


class RetryableError(TransientError):
    """The Lambda handler's own failure when a record of an S3, SNS or EventBridge event failed transiently:
    raised so that Lambda retries the whole event (SQS batches report the failed items instead).  It carries
    no hint, so that ``str()`` (the Lambda runtime's ``errorMessage``) is its message alone."""


class EnvironmentFailure(TransientError):
    """The machine failed the run (disk full, out of memory, a signal), not the data or the settings:
    nothing is recorded as a verdict on the run, and running again redoes it."""


#: ``errno`` values that are the machine's fault, not the data's or the settings'.
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ENOMEM, errno.EMFILE, errno.ENFILE})


def environment_failure(exc: BaseException, doing: str) -> BaseException:
    """``exc`` as an :class:`EnvironmentFailure` (retryable) if the machine caused it (out of memory, a full
    disk, an I/O error), else ``exc`` itself."""
    if isinstance(exc, MemoryError):
        return EnvironmentFailure(
            f"{doing}: out of memory", ("give the process more memory, or split by streaming (", Setting("stream"), ")")
        )
    if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
        where = f" ({exc.filename})" if exc.filename else ""
        return EnvironmentFailure(
            f"{doing}: {exc.strerror or exc}{where}", "free space (or fix the disk) and run again: nothing was committed"
        )
    return exc
