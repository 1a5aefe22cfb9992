"""Where a run on this machine writes: the output folder, its model output and its job records."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from model_training.errors import ConfigurationError

#: Where the command line writes by default (and keeps the local job records of runs whose output is in S3).
DEFAULT_OUTPUT = Path("model-training-output")


@dataclass(frozen=True)
class OutputLayout:
    """Where a local run writes.

    Attributes:
        root: the output folder (default ``./model-training-output``); split files and ``run.json``
            go under ``{root}/{prefix}/{run_id}/``.
        model_output: the model output folder; models go to ``{model_output}/{YYYY-MM-DD}/output/
            {TrainingJobName}/output/model.tar.gz`` (the key the deployment stage expects).
        jobs: the local training backend's job records.
        s3_copies: the demo's copies of its buckets, ``{s3_copies}/{bucket}/{key}`` (its offline endpoint stops with
            it: ``jobs describe`` reads a run record there).
    """

    root: Path

    @property
    def model_output(self) -> Path:
        return self.root / "model-output"

    @property
    def jobs(self) -> Path:
        return self.root / "training-jobs"

    @property
    def s3_copies(self) -> Path:
        return self.root / "s3"

    def check(self) -> None:
        """Refuse an output folder the run would leave, before anything is written.

        Raises:
            ConfigurationError: ``root`` is a symbolic link to nothing, or not a folder; ``model-output/`` or
                ``training-jobs/`` inside it resolves outside it (a symbolic link: models and job records
                would be written there; a link inside the output folder is fine).
        """
        if self.root.is_symlink() and not self.root.exists():
            raise ConfigurationError(
                f"the output folder {self.root} is a symbolic link to {os.readlink(self.root)}, which does not exist",
                "create the folder it points to, remove the link, or give another output folder (-o)",
            )
        if self.root.exists() and not self.root.is_dir():
            raise ConfigurationError(f"the output folder {self.root} is not a folder", "give a folder as the output (-o)")
        root = self.root.resolve()
        for folder in (self.model_output, self.jobs):
            resolved = folder.resolve()
            if resolved != root and root not in resolved.parents:
                link = f"a symbolic link to {os.readlink(folder)}" if folder.is_symlink() else f"under a link, at {resolved}"
                raise ConfigurationError(
                    f"{folder} is {link}, outside the output folder {self.root}: "
                    f"{'models' if folder == self.model_output else 'job records'} would be written there",
                    f"remove the link {folder} (or give -o the folder you mean): a run writes only inside its output folder",
                )
