"""One list of object keys and what the stage does with each, shared by the handler's skip-rule tests
(``tests/test_events.py``, ``tests/aws/test_handler.py``) and the deployment template's trigger filters
(``tests/test_deployment.py``): the template must deliver every key the handler processes under the input
prefix, and no key under the stage's own output prefix.

``PROCESSED`` keys are split (``skip_reason`` is ``None``); ``SKIPPED`` keys are not.  The stage's own
outputs are named by :func:`model_training.channels.split_files` and the run folder's constants, so a
rename of an output is checked against the template's filters here.
"""

from __future__ import annotations

from model_training.channels import split_files
from model_training.output.claims import claim_key
from model_training.output.runrecord import RUN_RECORD_NAME

PROCESSED = "processed"
SKIPPED = "skipped"

#: The prefix every trigger filters on (``pipeline-contracts.md``: our notification's prefix).
INPUT_PREFIX = "automl/"
#: A run folder, as ``automl/{date}/training/{dataset}/{run_id}`` makes it.
RUN_FOLDER = "automl/2026-03-04/training/small/0123456789abcdef"

#: Every file the stage writes into a run folder: the split files (sharded channels too), run.json, the claims.
OUTPUT_KEYS: list[str] = [
    f"{RUN_FOLDER}/{key}"
    for key in sorted(
        {
            key
            for split in ("train", "validation", "test")
            for parts in (1, 3 if split != "test" else 1)
            for _, key in split_files(split, parts)
        }
        | {RUN_RECORD_NAME, claim_key("", 0)[1:], claim_key("", 1)[1:]}
    )
]

KEYS: list[tuple[str, str]] = [
    ("automl/2026-03-04/small.csv", PROCESSED),
    ("automl/2026-03-04/small.csv.gz", PROCESSED),
    ("automl/2026-03-04/exports/small/_SUCCESS", PROCESSED),  # a part folder's marker: the folder is split
    ("automl/2026-03-04/training-data.csv", PROCESSED),  # "training" in a user's name is not our prefix
    ("automl/2026-03-04/training/x.csv", PROCESSED),  # not under training/{dataset}/
    ("automl/2026-03-04/données client+v2 (final).csv", PROCESSED),
    ("automl/small.csv", PROCESSED),
    ("automl/2026-03-04/notes.txt", SKIPPED),
    ("automl/2026-03-04/small.parquet", SKIPPED),
    ("automl/2026-03-04/manifest.json", SKIPPED),
    ("automl/2026-03-04/small.CSV", SKIPPED),  # suffixes are case-sensitive, as S3 filters are
    ("automl/2026-03-04/.hidden.csv", SKIPPED),
    ("automl/2026-03-04/_SUCCESS.csv", SKIPPED),
    ("automl/2026-03-04/_temporary.csv", SKIPPED),
    ("automl/2026-03-04/exports/small/part-00000-4f1c-c000.csv", SKIPPED),  # waits for the folder's _SUCCESS
    ("automl/2026-03-04/exports/small/part-00003.csv.gz", SKIPPED),
    ("automl/2026-03-04/exports/small/_SUCCESS.tmp", SKIPPED),
    *[(key, SKIPPED) for key in OUTPUT_KEYS],
]


def is_output(key: str) -> bool:
    """Whether ``key`` is one of the stage's own outputs in :data:`KEYS`."""
    return key in OUTPUT_KEYS
