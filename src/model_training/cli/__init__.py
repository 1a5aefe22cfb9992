"""The ``model-training`` command line (typer + rich).

Exit codes: 0 success; 1 bad input or configuration (one ``error:`` line and a ``hint:`` line, no
traceback); 2 a usage error (unknown option, missing argument); 3 the training job failed; 70 an
unexpected internal error (set ``MODEL_TRAINING_DEBUG=1`` for the traceback); 75 a temporary failure
(another process holds the run, or the machine failed it: disk full, out of memory): run again; 143
terminated by SIGTERM (temporary and partial files removed first).

The commands live one concern a module: :mod:`~model_training.cli.run`, :mod:`~model_training.cli.invoke`,
:mod:`~model_training.cli.demo`, :mod:`~model_training.cli.jobs`, :mod:`~model_training.cli.manifest`,
:mod:`~model_training.cli.config`; their options in :mod:`~model_training.cli.options`, what they print in
:mod:`~model_training.cli.render`, how a failure ends the process in :mod:`~model_training.cli.guard`.
"""

from __future__ import annotations

from typing import Any

import typer

from model_training.cli import config, demo, invoke, jobs, manifest, run

app = typer.Typer(
    name="model-training",
    help="Split a CSV into SageMaker XGBoost train/validation channels and a test file, then train.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# the order of --help: the commands, then the groups
app.command("run")(run.run)
app.command("invoke")(invoke.invoke)
app.command("demo")(demo.demo)
app.add_typer(jobs.app, name="jobs")
app.add_typer(manifest.app, name="manifest")
app.add_typer(config.app, name="config")


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the ``model-training`` console script.  SIGTERM raises ``SystemExit(143)``, so every
    ``finally`` runs before the process ends: temporary folders and partially written files are removed."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    app(prog_name="model-training")
