"""The dataset name of a source (:attr:`~model_training.ports.SourceInfo.name`): the one rule every source
(a local file, an S3 object, a folder of part files) names its dataset by.
"""

from __future__ import annotations

import re


def dataset_name(path: str) -> str:
    """The dataset name of a source path or key: its file name without ``.csv`` / ``.csv.gz``, with
    every character other than letters, digits, ``.``, ``_`` and ``-`` replaced by ``-`` and leading
    dots removed, so that it is safe in a key, a folder name and a SageMaker tag value (the
    ``Testing`` tag holds the test file's URI)."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".csv.gz", ".csv"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    safe = re.sub(r"[^\w.-]+", "-", base).strip("-").lstrip(".")
    # at most 80 characters: keys stay far below S3's 1,024 bytes and the Testing tag below SageMaker's 256
    return safe[:80].rstrip("-.") or "dataset"
