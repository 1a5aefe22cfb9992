"""The ``model-training`` command line (typer, its help in click's plain format; rich for what it prints).

Exit codes: 0 success; 1 bad input or configuration found while running (one ``error:`` line and a ``hint:``
line, no traceback); 2 a usage error, as click reports it (an unknown option, a missing argument, a flag value
that does not parse: :mod:`~model_training.cli.options`); 3 the training job failed; 70 an unexpected internal
error (set ``MODEL_TRAINING_DEBUG=1`` for the traceback); 75 a temporary failure (another process holds the run,
or the machine failed it: disk full, out of memory): run again; 141 the reader of standard output went away;
143 terminated by SIGTERM (temporary and partial files removed first).

The commands live one concern a module: :mod:`~model_training.cli.run`, :mod:`~model_training.cli.invoke`,
:mod:`~model_training.cli.demo`, :mod:`~model_training.cli.jobs`, :mod:`~model_training.cli.manifest`,
:mod:`~model_training.cli.config`; their options in :mod:`~model_training.cli.options`, how their help reads in
:mod:`~model_training.cli.help`, what they print in :mod:`~model_training.cli.render`, how a failure ends the
process in :mod:`~model_training.cli.guard`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from model_training.cli import config, demo, invoke, jobs, manifest, run
from model_training.cli.help import Command, new_app

app = new_app(
    "Split a CSV into SageMaker XGBoost train/validation channels and a test file, then train.",
    name="model-training",
    pretty_exceptions_enable=False,
    add_completion=False,
)
# the order of --help: the commands, then the groups
app.command("run", cls=Command)(run.run)
app.command("invoke", cls=Command)(invoke.invoke)
app.command("demo", cls=Command)(demo.demo)
app.add_typer(jobs.app, name="jobs")
app.add_typer(manifest.app, name="manifest")
app.add_typer(config.app, name="config")


def version_text() -> str:
    """``model-training X.Y.Z (default image sagemaker-xgboost:3.0-5, XGBoost 3.0.5)``: the installed distribution's
    version (``unknown`` when the package is imported from a source tree without being installed), and the algorithm
    image a run uses unless told otherwise, with the XGBoost release it trains and serves with."""
    from importlib.metadata import PackageNotFoundError, version

    from model_training.algorithm.images import DEFAULT_IMAGE_VERSION, IMAGE_XGBOOST, REPOSITORY

    try:
        installed = version("model-training")
    except PackageNotFoundError:
        installed = "unknown"
    image = f"{REPOSITORY}:{DEFAULT_IMAGE_VERSION}"
    return f"model-training {installed} (default image {image}, XGBoost {IMAGE_XGBOOST[DEFAULT_IMAGE_VERSION]})"


def _print_version(value: bool) -> None:
    if value:
        from model_training.cli.render import out

        out.print(version_text())
        raise typer.Exit()


@app.callback()
def program(
    show_version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
    ] = False,
) -> None:
    """Split a CSV into SageMaker XGBoost train/validation channels and a test file, then train."""


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the ``model-training`` console script.  SIGTERM raises ``SystemExit(143)``, so every
    ``finally`` runs before the process ends: temporary folders and partially written files are removed.  A reader
    of standard output that goes away (``| head``) ends it with 141 and no message
    (:func:`~model_training.cli.guard.quiet_on_closed_pipes`)."""
    import signal

    from model_training.cli.guard import quiet_on_closed_pipes

    signal.signal(signal.SIGTERM, _terminate)
    quiet_on_closed_pipes()
    app(prog_name="model-training")
