from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from model_training.config.run import build_config
from model_training.output.runrecord import compute_run_id
from model_training.ports import SourceInfo

SOURCE = SourceInfo(uri="file:///data/bank.csv", name="bank", size_bytes=10, sha256="ab" * 32)
DAY = dt.date(2026, 3, 1)

SCRIPT = """
import datetime as dt, sys
from model_training.config.run import build_config
from model_training.ports import SourceInfo
from model_training.output.runrecord import compute_run_id
src = SourceInfo(uri="file:///data/bank.csv", name="bank", size_bytes=10, sha256="ab" * 32)
print(compute_run_id(src, build_config(run_date=dt.date(2026, 3, 1))))
"""


def test_run_id_is_the_same_in_other_processes(tmp_path: Path) -> None:
    ours = compute_run_id(SOURCE, build_config(run_date=DAY))
    env_seeds = ["0", "1", "random"]
    for seed in env_seeds:
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": seed, "PATH": ""}
        )
        assert out.stdout.strip() == ours
    assert len(ours) == 16 and int(ours, 16) >= 0


def test_run_id_changes_with_the_content_the_uri_and_every_setting() -> None:
    base = compute_run_id(SOURCE, build_config(run_date=DAY))
    variants = [
        compute_run_id(SourceInfo(SOURCE.uri, "bank", 10, "cd" * 32), build_config(run_date=DAY)),
        compute_run_id(SourceInfo("file:///data/other.csv", "bank", 10, SOURCE.sha256), build_config(run_date=DAY)),
        compute_run_id(SOURCE, build_config(run_date=DAY, seed=1)),
        compute_run_id(SOURCE, build_config(run_date=DAY, label="y_no", drop=("y_yes",))),
        compute_run_id(SOURCE, build_config(run_date=dt.date(2026, 3, 2))),
        compute_run_id(SOURCE, build_config(run_date=DAY, hyperparameters={"num_round": "101"})),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_run_id_ignores_the_size_field_and_name() -> None:
    # identity is URI + content hash + configuration; size and name follow from them
    a = compute_run_id(SOURCE, build_config(run_date=DAY))
    b = compute_run_id(SourceInfo(SOURCE.uri, "other", 99, SOURCE.sha256), build_config(run_date=DAY))
    assert a == b


def test_the_record_lists_each_file_as_written_without_the_local_stamp() -> None:
    """``files`` are the stores' StoredObjects; run.json holds key, uri, size_bytes and sha256, in that order,
    and the record read back is the one written (the stamp is a fact of the machine, not of the file)."""
    import json

    from model_training.output.runrecord import RunRecord
    from model_training.ports import StoredObject

    obj = StoredObject(key="run/train/part-00000", uri="file:///o/run/train/part-00000", size_bytes=3, sha256="ab" * 32)
    record = RunRecord(
        run_id="0" * 16,
        status="committed",
        source={},
        config={},
        prefix="run",
        splits={},
        files={"train": StoredObject(obj.key, obj.uri, obj.size_bytes, obj.sha256, stamp=(1, 2, 3))},
        versions={},
    )
    text = record.to_json()
    assert list(json.loads(text)["files"]["train"].items()) == [
        ("key", obj.key),
        ("uri", obj.uri),
        ("size_bytes", 3),
        ("sha256", "ab" * 32),
    ]
    back = RunRecord.model_validate_json(text)
    assert back == record and back.files["train"] == obj and back.files["train"].stamp is None
    assert back.to_json() == text
