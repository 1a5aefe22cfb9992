"""How a command's failure ends the process: one ``error:`` line and a ``hint:`` line on stderr (no traceback), and
the exit code the command line documents (:mod:`model_training.cli`)."""

from __future__ import annotations

import os
from collections.abc import Callable

import typer

from model_training.cli.render import err, print_error
from model_training.errors import ModelTrainingError, command_line


def guarded(action: Callable[[], None]) -> None:
    """Run ``action``, turning what it raises into the error lines and an exit code.

    A :class:`ModelTrainingError`'s hint names settings by their flags (:func:`~model_training.errors.command_line`).

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
        print_error(exc.message, exc.hint_in(command_line))  # settings named by their flags
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
