"""Our channel layout for N instances, as the container's distributed training loads it: the part files of a
run split for ``instance_count`` N handed to hosts as ``ShardedByS3Key`` hands them (the train channel: host
``i`` gets every N-th object by key order, :func:`~model_training.training.local_distributed.shard`) and
``FullyReplicated`` (the validation channel: every host gets every object), each host's folders then loaded by
the image's own ``get_validated_dmatrices``.  Every host must get training rows of a similar count and all the
validation rows; a host that gets no objects must be one the container leaves out of the training.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from model_training.config.run import build_config
from model_training.output.layout import OutputLayout
from model_training.training.local_distributed import host_names, shard
from model_training.wiring import run_local
from tests.oracle import envs


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV of about 7 MB (50,000 rows: a 0/1 label and 12 features), so that with ``part_size_mb`` 1 the
    train channel (70%, about 4.5 MB) is written as 5 parts by size: not a multiple of 2 or 4 instances."""
    rng = np.random.RandomState(7)
    x = rng.normal(size=(50_000, 12))
    y = (x[:, 0] - x[:, 1] > 0).astype(int)
    path = tmp_path_factory.mktemp("source") / "data.csv"
    header = "label," + ",".join(f"f{i}" for i in range(12))
    lines = [f"{label}," + ",".join(f"{v:.8f}" for v in row) for label, row in zip(y, x, strict=True)]
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    return path


def split_for(source: Path, out: Path, instances: int, part_size_mb: int) -> Path:
    """The run folder of ``source`` split (not trained) for ``instances`` instances."""
    config = build_config(run_date=dt.date(2026, 8, 1), instance_count=instances, part_size_mb=part_size_mb, label="label")
    result = run_local(source, config, OutputLayout(out), train=False)
    return out / result.record.prefix


def host_folders(run_dir: Path, hosts: int, base: Path) -> list[dict[str, str]]:
    """Each host's channel folders, holding the objects ShardedByS3Key (train) and FullyReplicated (validation)
    give it, copied as SageMaker downloads them."""
    train = shard([p.name for p in (run_dir / "train").iterdir()], hosts)
    validation = sorted(p.name for p in (run_dir / "validation").iterdir())
    folders = []
    for host, names in zip(host_names(hosts), train, strict=True):
        for channel, files in (("train", names), ("validation", validation)):
            (base / host / channel).mkdir(parents=True)
            for name in files:
                shutil.copyfile(run_dir / channel / name, base / host / channel / name)
        folders.append({"host": host, "train": str(base / host / "train"), "validation": str(base / host / "validation")})
    return folders


@pytest.mark.parametrize("part_size_mb", [256, 1], ids=["one-part-per-instance", "parts-by-size"])
@pytest.mark.parametrize("instances", [1, 2, 4])
def test_every_host_gets_a_similar_share_of_train_and_all_of_validation(
    source: Path, tmp_path: Path, instances: int, part_size_mb: int, oracles
) -> None:
    run_dir = split_for(source, tmp_path / "run", instances, part_size_mb)
    record = json.loads((run_dir / "run.json").read_text())
    parts = len(list((run_dir / "train").iterdir()))
    hosts = oracles(envs.VERSIONS[0]).run("hosts.py", {"hosts": host_folders(run_dir, instances, tmp_path / "hosts")})
    assert [h["host"] for h in hosts] == host_names(instances)
    assert all(h["include_in_training"] for h in hosts)
    train_rows = [h["train_rows"] for h in hosts]
    assert sum(train_rows) == record["splits"]["train"]["rows"]
    # the same number of parts each, and np.array_split's parts differ by one row at most
    assert max(train_rows) - min(train_rows) <= parts // instances, f"{parts} train parts: {train_rows}"
    assert parts % instances == 0
    assert {h["validation_rows"] for h in hosts} == {record["splits"]["validation"]["rows"]}


def test_a_host_given_no_objects_is_one_the_container_leaves_out(source: Path, tmp_path: Path, oracles) -> None:
    run_dir = split_for(source, tmp_path / "run", 2, 256)  # 2 train parts, for a job of 4 instances
    hosts = oracles(envs.VERSIONS[0]).run("hosts.py", {"hosts": host_folders(run_dir, 4, tmp_path / "hosts")})
    assert [(h["host"], h["include_in_training"], h["train_rows"]) for h in hosts][2:] == [
        ("algo-3", False, None),
        ("algo-4", False, None),
    ]
    assert all(h["include_in_training"] and h["train_rows"] for h in hosts[:2])
