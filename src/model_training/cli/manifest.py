"""``model-training manifest schema|check``: the per-dataset manifest.json's schema, and checking one."""

from __future__ import annotations

import json
from pathlib import Path

from model_training.cli.guard import guarded
from model_training.cli.help import Command, new_app
from model_training.cli.options import ManifestFileArg
from model_training.cli.render import out
from model_training.errors import manifest_file

app = new_app("The per-dataset manifest.json: its schema, and checking one.")


@app.command("schema", cls=Command)
def manifest_schema_command() -> None:
    """Print the manifest's JSON Schema."""
    from model_training.config.manifest import manifest_schema

    out.print_json(json.dumps(manifest_schema()))


@app.command("check", cls=Command)
def manifest_check(file: ManifestFileArg) -> None:
    """Validate a manifest.json, its values as well as its shape.

    Unknown keys are listed with the closest valid name, hyperparameters are checked by the container's rules,
    the training settings against their ceilings. Exit 1 if it is invalid.
    """
    guarded(lambda: check_manifest(file), manifest_file)  # hints name the manifest's keys, not flags


def check_manifest(file: Path) -> None:
    """Load ``file`` and resolve its settings as of today (the values too, not only the shape); print that it is
    valid, with the start of its sha256.

    Raises:
        ConfigurationError, HyperparameterError, LimitError: the manifest cannot be read or is invalid.
    """
    import datetime as dt

    from model_training.config.manifest_files import load_manifest_file
    from model_training.config.resolve import resolve

    source = load_manifest_file(file)
    resolve(run_date=dt.date.today(), manifest=source)
    out.print(f"{file}: valid manifest (sha256 {source.sha256[:16]}...)")
