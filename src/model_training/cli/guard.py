"""How a command's failure ends the process: an ``error:`` line (then one indented line per problem, when it reports
several) and a ``hint:`` line on stderr (no traceback), and the exit code the command line documents
(:mod:`model_training.cli`); and how it ends when the reader of its output goes away (:func:`quiet_on_closed_pipes`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TextIO

import typer

from model_training.cli.render import err, print_error
from model_training.errors import ModelTrainingError, Vocabulary, command_line


def guarded(action: Callable[[], None], vocabulary: Vocabulary = command_line) -> None:
    """Run ``action``, turning what it raises into the error lines and an exit code.

    A :class:`ModelTrainingError`'s hint names settings in ``vocabulary``: by their flags
    (:func:`~model_training.errors.command_line`), or, for a command that reads a manifest file alone, by its keys
    (:func:`~model_training.errors.manifest_file`).

    Raises:
        typer.Exit: ``exc.exit_code`` for a :class:`ModelTrainingError` (its class says which); 1 for an ``OSError`` (the
            output folder: missing, a file, read-only, full); 130 for Ctrl-C; 70 for anything else (with
            ``MODEL_TRAINING_DEBUG`` set, that exception is raised as it is, traceback and all). A
            ``typer.Exit`` from ``action`` passes through.
    """
    try:
        action()
    except typer.Exit:
        raise
    except ModelTrainingError as exc:
        message, *problems = exc.message_lines()  # several problems: a header, then one line each
        print_error(message, exc.hint_in(vocabulary), problems=problems)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        print_error(
            f"{exc.filename or 'the output folder'}: {exc.strerror or exc}",
            "check that the output folder (-o) is a writable directory with free space",
        )
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:
        if os.environ.get("MODEL_TRAINING_DEBUG"):
            raise
        print_error(
            f"{type(exc).__name__}: {exc}",
            "this is a bug; rerun with MODEL_TRAINING_DEBUG=1 for the traceback and report it",
            label="internal error:",
        )
        raise typer.Exit(70) from None


#: The exit status when the reader of standard output has gone (``model-training jobs list | head -1``): 128 +
#: SIGPIPE (13), the status a shell reports for ``git log`` or ``cat`` ended by that signal.
CLOSED_PIPE_EXIT = 141


class _PipeGuard:
    """A text stream (standard output or error) that notices when its reader has gone: the stream's descriptor
    then points at ``/dev/null`` (so that nothing flushed later fails again, at exit included), and on standard
    output the process ends with :data:`CLOSED_PIPE_EXIT`, quietly (``SystemExit`` runs every ``finally`` on the
    way out); on standard error the command carries on without its diagnostics, and exits with its own status.
    Everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO, *, ends: bool) -> None:
        self._stream = stream
        self._ends = ends

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
        return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)
        if self._ends:
            self._exit()

    @staticmethod
    def _exit() -> NoReturn:
        raise SystemExit(CLOSED_PIPE_EXIT)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def quiet_on_closed_pipes() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` (:class:`_PipeGuard`): a closed standard output (``| head``) ends
    the process with :data:`CLOSED_PIPE_EXIT` and no message, where Python, click and rich would exit 1, some
    with a ``BrokenPipeError`` traceback; a closed standard error is ignored.  Called once, by the console
    script."""
    if sys.stdout is not None and not isinstance(sys.stdout, _PipeGuard):
        sys.stdout = _PipeGuard(sys.stdout, ends=True)
    if sys.stderr is not None and not isinstance(sys.stderr, _PipeGuard):
        sys.stderr = _PipeGuard(sys.stderr, ends=False)
