from __future__ import annotations

import datetime as dt
import errno
import json
from decimal import Decimal
from pathlib import Path

import pytest

from model_training.config.run import build_config
from model_training.errors import DatasetError, EnvironmentFailure, HyperparameterError, RunFailedError, SplitError
from model_training.output.layout import OutputLayout
from model_training.output.runrecord import RunRecord
from model_training.wiring import run_local
from tests.fixtures import write_csv

DAY = dt.date(2026, 1, 15)


def small_csv(tmp_path: Path, rows: int = 200, name: str = "small.csv") -> Path:
    lines = ["f1,f2,label,other"]
    for i in range(rows):
        lines.append(f"{i % 7}.5,{(i * 37) % 11},{1 if (i % 7) > 3 else 0},{i}")
    return write_csv(tmp_path / name, "\n".join(lines) + "\n")


def config(**kw):
    return build_config(label="label", drop=("other",), run_date=DAY, hyperparameters={"num_round": "5"}, **kw)


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_layout_and_run_record(tmp_path: Path) -> None:
    src = small_csv(tmp_path)
    out = tmp_path / "out"
    result = run_local(src, config(), OutputLayout(out))
    rec = result.record
    run = f"automl/2026-01-15/training/small/{rec.run_id}"
    assert rec.prefix == run
    assert not result.duplicate
    assert rec.status == "complete"
    assert {k: v.rows for k, v in rec.splits.items()} == {"train": 140, "validation": 40, "test": 20}
    assert sum(v.positives or 0 for v in rec.splits.values()) == sum(1 for i in range(200) if i % 7 > 3)
    assert set(rec.files) == {"train", "validation", "test"}
    assert rec.files["train"].key == f"{run}/train/part-00000"
    assert rec.files["validation"].key == f"{run}/validation/part-00000"
    assert rec.files["test"].key == f"{run}/test/part-00000"
    on_disk = json.loads((out / run / "run.json").read_text())
    assert RunRecord.model_validate(on_disk) == rec
    assert on_disk["source"]["size_bytes"] == src.stat().st_size
    assert on_disk["versions"]["pyarrow"]
    assert rec.training is not None and rec.training.status == "Completed"
    job = rec.training.job_name
    assert job == f"small-{rec.run_id}"
    assert rec.training.model_artifact == (out / "model-output/2026-01-15/output" / job / "output/model.tar.gz").as_uri()
    assert "validation:auc" in rec.training.final_metrics
    # the train channel holds label first, the drop column left out, and the text as in the source
    first = (out / rec.files["train"].key).read_text().splitlines()[0].split(",")
    assert len(first) == 3 and first[0] in ("0", "1")


def test_a_local_run_leaves_no_temporary_folder(tmp_path: Path) -> None:
    # the deployment stage watches the model's folder: nothing but the model and its files may be there, and no
    # empty _tmp/ folder beside the run's outputs, the job records or the model
    out = tmp_path / "out"
    result = run_local(small_csv(tmp_path), config(), OutputLayout(out))
    assert result.record.training is not None and result.record.training.status == "Completed"
    assert [p.relative_to(out).as_posix() for p in out.rglob("_tmp")] == []
    model_folder = out / "model-output/2026-01-15/output" / result.record.training.job_name / "output"
    assert all(p.is_file() for p in model_folder.iterdir())
    assert "model.tar.gz" in {p.name for p in model_folder.iterdir()}


def test_second_run_is_a_duplicate_and_writes_nothing(tmp_path: Path) -> None:
    src = small_csv(tmp_path)
    out = tmp_path / "out"
    first = run_local(src, config(), OutputLayout(out))
    before = {p: (out / p).stat().st_mtime_ns for p in files_under(out)}
    second = run_local(src, config(), OutputLayout(out))
    assert second.duplicate
    assert second.record == first.record
    assert {p: (out / p).stat().st_mtime_ns for p in files_under(out)} == before


def test_no_train_then_train_trains_the_committed_split(tmp_path: Path) -> None:
    src = small_csv(tmp_path)
    out = tmp_path / "out"
    split_only = run_local(src, config(), OutputLayout(out), train=False)
    assert split_only.record.status == "committed" and split_only.record.training is None
    assert not (out / "training-jobs").exists()
    split_files = {p: (out / p).read_bytes() for p in files_under(out) if "/part-" in p}
    # the same input and configuration again without training: nothing to do
    assert run_local(src, config(), OutputLayout(out), train=False).duplicate
    # with training: the committed split is trained, not rewritten
    trained = run_local(src, config(), OutputLayout(out))
    assert not trained.duplicate
    assert trained.record.run_id == split_only.record.run_id
    assert trained.record.status == "complete" and trained.record.training
    assert trained.record.training.status == "Completed"
    assert {p: (out / p).read_bytes() for p in split_files} == split_files
    assert run_local(src, config(), OutputLayout(out)).duplicate


def test_a_changed_setting_is_a_new_run(tmp_path: Path) -> None:
    src = small_csv(tmp_path)
    out = tmp_path / "out"
    a = run_local(src, config(), OutputLayout(out), train=False)
    b = run_local(src, config(seed=2), OutputLayout(out), train=False)
    assert a.record.run_id != b.record.run_id


def test_zero_fraction_split_writes_no_file(tmp_path: Path) -> None:
    src = small_csv(tmp_path)
    result = run_local(src, config(fractions=(Decimal("0.8"), Decimal("0.2"), Decimal("0"))), OutputLayout(tmp_path / "o"))
    assert set(result.record.files) == {"train", "validation"}
    assert result.record.splits["test"].rows == 0


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        ("f1,label\n1,x\n" * 1, DatasetError, "label 'label' on line 2 is not a number"),
        ("f1,label,other\n", DatasetError, "no data rows"),
        ("f1,lab,other\n1,1,2\n", DatasetError, "'label' is not in the header"),
        ("f1,label,other\nyes,1,x\n", DatasetError, "feature 'f1' on line 2"),
        ("f1,label,other\n1,1,x\n2,0,y\n3,1,z\n", SplitError, "3 rows are too few"),
    ],
)
def test_bad_input_writes_nothing(tmp_path: Path, content: str, error: type, message: str) -> None:
    src = write_csv(tmp_path / "bad.csv", content)
    out = tmp_path / "out"
    cfg = build_config(label="label", drop=("other",) if "other" in content else (), run_date=DAY)
    with pytest.raises(error, match=message):
        run_local(src, cfg, OutputLayout(out))
    assert files_under(out) == []


def test_invalid_hyperparameters_are_refused_before_anything(tmp_path: Path) -> None:
    with pytest.raises(HyperparameterError) as info:
        build_config(hyperparameters={"silent": "0", "eta": "2", "num_round": "0"})
    text = info.value.message
    assert "verbosity" in text and "eta" in text and "num_round" in text


def test_labels_outside_the_objectives_range_are_refused_before_anything(tmp_path: Path) -> None:
    lines = ["f1,label"] + [f"{i},{2 if i == 5 else i % 2}" for i in range(50)]
    src = write_csv(tmp_path / "labels.csv", "\n".join(lines) + "\n")
    cfg = build_config(label="label", drop=(), run_date=DAY)
    with pytest.raises(
        DatasetError, match=r"label 2 is outside \[0, 1\], which binary:logistic requires \(column 'label', line 7\)"
    ):
        run_local(src, cfg, OutputLayout(tmp_path / "out"))
    assert files_under(tmp_path / "out") == []


def test_failed_training_keeps_the_split_and_says_so(tmp_path: Path) -> None:
    # gradient-based sampling trains on a GPU only: XGBoost itself fails the job on a CPU (the container would too)
    lines = ["f1,label"] + [f"{i},{i % 2}" for i in range(50)]
    src = write_csv(tmp_path / "labels.csv", "\n".join(lines) + "\n")
    hp = {"num_round": "3", "sampling_method": "gradient_based"}
    cfg = build_config(label="label", drop=(), run_date=DAY, hyperparameters=hp)
    with pytest.raises(RunFailedError) as info:
        run_local(src, cfg, OutputLayout(tmp_path / "out"))
    assert "AlgorithmError" in info.value.message
    assert info.value.exit_code == 3
    records = list((tmp_path / "out").rglob("run.json"))
    assert len(records) == 1
    rec = RunRecord.model_validate_json(records[0].read_text())
    assert rec.status == "complete" and rec.training and rec.training.status == "Failed"
    assert len(list((tmp_path / "out").rglob("part-*"))) == 3


def test_a_crash_while_writing_leaves_no_run_record_and_the_retry_completes_it(tmp_path: Path, monkeypatch) -> None:
    from model_training.output.local_store import LocalStore

    src = small_csv(tmp_path)
    out = tmp_path / "out"
    real_write = LocalStore.write

    def failing_write(self, key, chunks):
        if key.endswith("test/part-00000"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, key, chunks)

    monkeypatch.setattr(LocalStore, "write", failing_write)
    with pytest.raises(EnvironmentFailure) as info:  # the disk's fault: retryable, not a verdict on the run
        run_local(src, config(), OutputLayout(out))
    assert info.value.exit_code == 75
    # the train and validation files written before the failure are removed: no partial split, no temporary
    # file, no claim
    assert files_under(out) == []

    monkeypatch.setattr(LocalStore, "write", real_write)
    result = run_local(src, config(), OutputLayout(out))
    assert result.record.status == "complete"
    assert not any("/." in p or p.startswith("_tmp/") for p in files_under(out))


def test_rerunning_a_failed_run_still_fails(tmp_path: Path) -> None:
    lines = ["f1,label"] + [f"{i},{i % 2}" for i in range(50)]
    src = write_csv(tmp_path / "labels.csv", "\n".join(lines) + "\n")
    hp = {"num_round": "3", "sampling_method": "gradient_based"}  # fails on a CPU
    cfg = build_config(label="label", drop=(), run_date=DAY, hyperparameters=hp)
    with pytest.raises(RunFailedError):
        run_local(src, cfg, OutputLayout(tmp_path / "out"))
    with pytest.raises(RunFailedError, match="failed earlier") as info:
        run_local(src, cfg, OutputLayout(tmp_path / "out"))
    assert info.value.exit_code == 3


def test_the_request_tags_the_serving_image_and_one_testing_key(tmp_path: Path) -> None:
    from model_training.errors import ConfigurationError
    from model_training.output.local_store import LocalStore
    from model_training.training.jobs import TrainingTarget, training_request

    cfg = config(tags={"team": "growth"})
    record = run_local(small_csv(tmp_path), cfg, OutputLayout(tmp_path / "out"), train=False).record
    image = "764974769150.dkr.ecr.eu-west-2.amazonaws.com/sagemaker-xgboost:3.0-5"
    target = TrainingTarget(image=image, model_output_root="s3://model-output", region="eu-west-2")
    request = training_request(record, cfg, target, LocalStore(tmp_path / "out"))
    tags = [(t["Key"], t["Value"]) for t in request["Tags"]]
    assert dict(tags)["ServingImage"] == request["AlgorithmSpecification"]["TrainingImage"] == image
    assert [k for k, _ in tags if "Testing" in k] == ["Testing"]
    assert dict(tags)["Testing"] == record.files["test"].uri
    # a configuration that slipped past validation still cannot put a second "...Testing..." key on the job
    cfg.training.tags["ABTesting"] = "x"
    with pytest.raises(ConfigurationError, match="'ABTesting' contains 'Testing'"):
        training_request(record, cfg, target, LocalStore(tmp_path / "out"))
