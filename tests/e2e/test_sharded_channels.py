"""Channels written as several part files: by size, and one per instance for distributed training."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from model_training.config.run import build_config
from model_training.output.layout import OutputLayout
from model_training.wiring import run_local
from tests.reference import original_split

pytestmark = pytest.mark.shared_data


def test_parts_by_size_concatenate_to_the_single_file_and_train(bank_csv: Path, tmp_path: Path) -> None:
    config = build_config(run_date=dt.date(2026, 8, 1), part_size_mb=1, hyperparameters={"num_round": "20"})
    result = run_local(bank_csv, config, OutputLayout(tmp_path))
    run_dir = tmp_path / result.record.prefix
    reference = original_split(bank_csv)
    for split in ("train", "validation"):
        parts = sorted((run_dir / split).glob("part-*"))
        assert len(parts) > 1, split
        sizes = [p.stat().st_size for p in parts]
        assert max(sizes) <= 1.2 * 2**20  # about the target size
        assert b"".join(p.read_bytes() for p in parts) == reference[split]  # the same rows, the same order
        assert {k for k in result.record.files if k.startswith(f"{split}/")} == {f"{split}/{p.stem}" for p in parts}
    assert result.record.training and result.record.training.status == "Completed"  # the local backend reads every part
    assert (
        "train rows"
        in Path(
            json.loads((tmp_path / "training-jobs" / f"{result.record.training.job_name}.json").read_text())["LogFile"]
        ).read_text()
    )


def test_one_similar_part_per_instance_and_sharded_train_channel(bank_csv: Path, tmp_path: Path) -> None:
    from model_training.output.local_store import LocalStore
    from model_training.training.jobs import TrainingTarget, training_request

    config = build_config(run_date=dt.date(2026, 8, 1), instance_count=3)
    result = run_local(bank_csv, config, OutputLayout(tmp_path), train=False)
    run_dir = tmp_path / result.record.prefix
    for split in ("train", "validation"):
        rows = [len(p.read_text().splitlines()) for p in sorted((run_dir / split).glob("part-*"))]
        assert len(rows) == 3 and max(rows) - min(rows) <= 1, (split, rows)
    request = training_request(result.record, config, TrainingTarget(image="i", model_output_root="s3://m"), LocalStore(tmp_path))
    distribution = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3DataDistributionType"] for c in request["InputDataConfig"]
    }
    assert distribution == {"train": "ShardedByS3Key", "validation": "FullyReplicated"}
    assert request["ResourceConfig"]["InstanceCount"] == 3
