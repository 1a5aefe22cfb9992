"""The run id (:func:`model_training.output.runrecord.compute_run_id`): 16 lowercase hex digits, the first
64 bits of the SHA-256 of the source's identity and the effective configuration.  The same in every process
for the same identity and configuration; different when any input of the identity or any configuration field
changes; the same when only what is not part of the identity changes, or one setting is written another way."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import model_training
from model_training.config.run import (
    DEFAULT_HYPERPARAMETERS,
    NOT_IDENTITY,
    RunConfig,
    SplitConfig,
    TrainingConfig,
    build_config,
)
from model_training.output.runrecord import RUN_ID_LENGTH, compute_run_id
from model_training.ports import SourceInfo

D = Decimal
SOURCE = SourceInfo(uri="file:///data/bank.csv", name="bank", size_bytes=10, sha256="ab" * 32)
S3_SOURCE = SourceInfo(
    uri="s3://data-bucket/automl/2026-03-01/bank.csv", name="bank", size_bytes=10, sha256="", etag="0" * 32, version_id="v1"
)
DAY = dt.date(2026, 3, 1)
#: 16 lowercase hex digits: the run folder's name and the ``RunId`` tag.
RUN_ID = re.compile(r"[0-9a-f]{16}")

SCRIPT = """
import datetime as dt, sys
from model_training.config.run import build_config
from model_training.ports import SourceInfo
from model_training.output.runrecord import compute_run_id
src = SourceInfo(uri="file:///data/bank.csv", name="bank", size_bytes=10, sha256="ab" * 32)
print(compute_run_id(src, build_config(run_date=dt.date(2026, 3, 1))))
"""


def config(**settings: Any) -> RunConfig:
    """``build_config(**settings)``, on :data:`DAY` unless ``settings`` give ``run_date``."""
    return build_config(**{"run_date": DAY, **settings})


def run_id(source: SourceInfo = SOURCE, **settings: Any) -> str:
    """The run id of ``source`` with ``config(**settings)``, checked to be 16 lowercase hex digits."""
    value = compute_run_id(source, config(**settings))
    assert RUN_ID.fullmatch(value), value
    return value


def test_run_id_is_16_lowercase_hex_digits() -> None:
    assert RUN_ID_LENGTH == 16
    assert RUN_ID.fullmatch(run_id())
    assert RUN_ID.fullmatch(run_id(S3_SOURCE))


def test_run_id_of_the_default_configuration_is_unchanged() -> None:
    # Every run id depends on this: a run delivered again after an upgrade is recognised as a duplicate only if
    # its id is the same.  A deliberate change of the identity (or of a default) changes this value on purpose.
    assert run_id() == "6800148febececa1"
    assert run_id(S3_SOURCE) == "48e511d1478fcb02"


def test_run_id_is_the_same_in_other_processes(tmp_path: Path) -> None:
    ours = run_id()
    package_root = str(Path(model_training.__file__).resolve().parents[1])  # the child imports the code under test
    for seed in ["0", "1", "random"]:
        env = {"PYTHONHASHSEED": seed, "PATH": "", "PYTHONPATH": package_root}
        out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, env=env)
        assert out.stdout.strip() == ours


# ----- the source's identity -----------------------------------------------------------------------------------


def test_a_local_file_is_identified_by_its_uri_and_content() -> None:
    base = run_id(SOURCE)
    assert run_id(SourceInfo(SOURCE.uri, "bank", 10, "cd" * 32)) != base
    assert run_id(SourceInfo("file:///data/other.csv", "bank", 10, SOURCE.sha256)) != base
    # size and name follow from the URI and the content: not part of the identity
    assert run_id(SourceInfo(SOURCE.uri, "other", 99, SOURCE.sha256)) == base


def test_an_s3_object_is_identified_by_its_uri_etag_and_version_before_it_is_read() -> None:
    base = run_id(S3_SOURCE)
    changed = [
        SourceInfo("s3://data-bucket/automl/2026-03-01/other.csv", "bank", 10, "", S3_SOURCE.etag, S3_SOURCE.version_id),
        SourceInfo(S3_SOURCE.uri, "bank", 10, "", "1" * 32, S3_SOURCE.version_id),
        SourceInfo(S3_SOURCE.uri, "bank", 10, "", S3_SOURCE.etag, "v2"),
        SourceInfo(S3_SOURCE.uri, "bank", 10, "", S3_SOURCE.etag, None),
    ]
    ids = [run_id(source) for source in changed]
    assert base not in ids and len(set(ids)) == len(ids)
    # the content hash is known only once the object has been read: a duplicate delivery is recognised without it
    assert run_id(SourceInfo(S3_SOURCE.uri, "other", 99, "ab" * 32, S3_SOURCE.etag, S3_SOURCE.version_id)) == base


# ----- the configuration ---------------------------------------------------------------------------------------

#: For every configuration field, two settings (given to ``build_config``) that differ in that field only.
DIFFERENT: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "label": ({}, {"label": "f1"}),
    "drop": ({}, {"drop": ("y_no", "f2")}),
    "features": ({}, {"features": ("f1",)}),
    "run_date": ({}, {"run_date": dt.date(2026, 3, 2)}),
    "prefix_template": ({}, {"prefix_template": "automl/{dataset}/{date}"}),
    "split.strategy": ({}, {"strategy": "hash"}),
    "split.seed": ({}, {"seed": 1}),
    "split.fractions": ({}, {"fractions": (D("0.8"), D("0.1"), D("0.1"))}),
    "split.key": ({"strategy": "hash", "key": "f1"}, {"strategy": "hash", "key": "f2"}),
    "split.order_by": ({"strategy": "ordered", "order_by": "f1"}, {"strategy": "ordered", "order_by": "f2"}),
    "split.shuffle_train": (
        {"strategy": "ordered", "order_by": "f1"},
        {"strategy": "ordered", "order_by": "f1", "shuffle_train": True},
    ),
    "training.algorithm_version": ({}, {"algorithm_version": "1.7-1"}),
    "training.hyperparameters": ({}, {"hyperparameters": {"num_round": "101"}}),
    "training.instance_type": ({}, {"instance_type": "ml.m5.2xlarge"}),
    "training.instance_count": ({}, {"instance_count": 2}),
    "training.volume_size_gb": ({}, {"volume_size_gb": 31}),
    "training.max_runtime_seconds": ({}, {"max_runtime_seconds": 3600}),
    "training.use_spot": ({}, {"use_spot": True}),
    "training.max_wait_seconds": ({"use_spot": True}, {"use_spot": True, "max_wait_seconds": 90_000}),
    "training.output_kms_key_id": ({}, {"output_kms_key_id": "alias/output"}),
    "training.volume_kms_key_id": ({}, {"volume_kms_key_id": "alias/volume"}),
    "training.enable_network_isolation": ({}, {"enable_network_isolation": True}),
    "training.enable_inter_container_traffic_encryption": ({}, {"enable_inter_container_traffic_encryption": True}),
    "training.part_size_mb": ({}, {"part_size_mb": 128}),
    "training.vpc_subnets": (
        {"vpc_subnets": ("subnet-1",), "vpc_security_groups": ("sg-1",)},
        {"vpc_subnets": ("subnet-2",), "vpc_security_groups": ("sg-1",)},
    ),
    "training.vpc_security_groups": (
        {"vpc_subnets": ("subnet-1",), "vpc_security_groups": ("sg-1",)},
        {"vpc_subnets": ("subnet-1",), "vpc_security_groups": ("sg-2",)},
    ),
    "training.tags": ({}, {"tags": {"Team": "ml"}}),
    "tuning": (
        {},
        {"tuning": {"objective_metric": "validation:auc", "max_trials": 4, "ranges": {"eta": {"min": 0.1, "max": 0.5}}}},
    ),
}

#: Settings that are one setting written two ways (or not written): the same configuration, the same run id.
SAME: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "a default given explicitly": ({}, {"seed": 1729, "label": "y_yes", "drop": ("y_no",), "algorithm_version": "3.0-5"}),
    "a setting given as None": ({}, {"seed": None, "fractions": None, "tags": None}),
    "fractions with trailing zeros": ({}, {"fractions": (D("0.70"), D("0.20"), D("0.100"))}),
    "a hyperparameter in another form": ({}, {"hyperparameters": {"eta": "0.20", "gamma": 4.0, "num_round": 100}}),
    "hyperparameters in another order": (
        {},
        {"hyperparameters": dict(reversed(DEFAULT_HYPERPARAMETERS.items())), "_replace_hyperparameters": True},
    ),
    "tags in another order": ({"tags": {"Team": "ml", "Cost": "1"}}, {"tags": {"Cost": "1", "Team": "ml"}}),
    "a drop column given twice": ({"drop": ("y_no", "f2")}, {"drop": ("y_no", "f2", "y_no")}),
    "a tuning section in another form": (
        {"tuning": {"objective_metric": "validation:auc", "max_trials": 4, "ranges": {"eta": [0.1, 0.3], "gamma": [1, 2]}}},
        {
            "tuning": {
                "strategy": "bayesian",
                "ranges": {"gamma": [2.0, 1], "eta": {"values": ["0.30", 0.1]}},
                "max_trials": 4,
                "objective_metric": "validation:auc",
                "seed": None,
            }
        },
    ),
}


def differing_fields(a: RunConfig, b: RunConfig) -> set[str]:
    """The configuration fields (``split.seed`` for a field of a part) whose values differ between ``a`` and ``b``."""
    dump_a, dump_b = a.model_dump(mode="json"), b.model_dump(mode="json")
    fields = set()
    for name in RunConfig.model_fields:
        if name in ("split", "training"):
            fields |= {f"{name}.{sub}" for sub in dump_a[name] if dump_a[name][sub] != dump_b[name][sub]}
        elif dump_a.get(name) != dump_b.get(name):  # tuning: left out of the dump when there is none
            fields.add(name)
    return fields


def test_every_configuration_field_has_a_case() -> None:
    every = {name for name in RunConfig.model_fields if name not in ("split", "training", *NOT_IDENTITY)}
    every |= {f"split.{name}" for name in SplitConfig.model_fields} | {f"training.{name}" for name in TrainingConfig.model_fields}
    assert set(DIFFERENT) == every


@pytest.mark.parametrize("field", DIFFERENT)
def test_run_id_changes_with_every_configuration_field(field: str) -> None:
    a, b = DIFFERENT[field]
    assert differing_fields(config(**a), config(**b)) == {field}
    assert run_id(**a) != run_id(**b)


def test_every_configuration_field_gives_its_own_run_id() -> None:
    ids = [run_id(**b) for _, b in DIFFERENT.values()]
    assert run_id() not in ids
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("value", ["index", "error"])
def test_index_column_is_not_part_of_the_run_id(value: str) -> None:
    # auto and index split a file alike and error only refuses one: no run that writes differs, so the id stays
    # (and the default's ids, pinned above, are those of the releases before the setting existed)
    assert {"index_column"} == NOT_IDENTITY
    assert differing_fields(config(), config(index_column=value)) == {"index_column"}
    assert run_id(index_column=value) == run_id()


@pytest.mark.parametrize("case", SAME)
def test_run_id_stays_for_one_setting_written_two_ways(case: str) -> None:
    a, b = SAME[case]
    assert differing_fields(config(**a), config(**b)) == set()
    assert run_id(**a) == run_id(**b)


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
