from __future__ import annotations

import datetime as dt
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model_training.errors import TrainingJobExistsError, TrainingJobNotFoundError
from model_training.training.local import LocalTrainingBackend
from model_training.training.request import build_training_request
from model_training.uris import path_from_uri

HP = {"objective": "binary:logistic", "num_round": "20", "max_depth": "3", "eval_metric": "auc,logloss"}


def write_channel(folder: Path, rows: int, seed: int, *, label_offset: float = 0.0, name: str = "part-00000.csv") -> Path:
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(rows, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.5, size=rows) > 0).astype(int) + label_offset
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        ",".join([repr(float(v)) if isinstance(v, float) else str(v) for v in (yy, *xx)]) for yy, xx in zip(y, x, strict=True)
    ]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def request(tmp_path: Path, name: str = "job-1", hp: dict[str, str] | None = None, **channels: Path) -> dict[str, Any]:
    chans = channels or {"train": tmp_path / "train", "validation": tmp_path / "validation"}
    return build_training_request(
        job_name=name,
        image="local/sagemaker-xgboost:3.0-5",
        hyperparameters=hp or HP,
        channels={k: v.as_uri() + "/" for k, v in chans.items()},
        output_path=(tmp_path / "model-output" / "2026-01-01" / "output").as_uri(),
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    write_channel(tmp_path / "train", 400, 1)
    write_channel(tmp_path / "validation", 150, 2)
    return tmp_path


def test_job_lifecycle(data: Path) -> None:
    backend = LocalTrainingBackend(data / "jobs")
    arn = backend.create_training_job(request(data))
    assert arn.endswith(":training-job/job-1")
    created = backend.describe_training_job("job-1")
    assert created["TrainingJobStatus"] == "InProgress"
    assert created["HyperParameters"] == HP

    done = backend.run_training_job("job-1")
    assert done["TrainingJobStatus"] == "Completed"
    assert done == backend.describe_training_job("job-1")
    metrics = {m["MetricName"]: m["Value"] for m in done["FinalMetricDataList"]}
    assert set(metrics) == {"train:auc", "train:logloss", "validation:auc", "validation:logloss"}
    assert metrics["validation:auc"] > 0.8
    artifact = path_from_uri(done["ModelArtifacts"]["S3ModelArtifacts"])
    assert artifact == data / "model-output/2026-01-01/output/job-1/output/model.tar.gz"
    assert done["TrainingTimeInSeconds"] >= 1
    assert done["TrainingStartTime"] <= done["TrainingEndTime"]
    # running a finished job again changes nothing
    assert backend.run_training_job("job-1") == done
    assert [j["TrainingJobName"] for j in backend.list_training_jobs()] == ["job-1"]


def test_creating_a_job_whose_name_exists_fails_and_changes_nothing(data: Path) -> None:
    backend = LocalTrainingBackend(data / "jobs")
    backend.create_training_job(request(data))
    before = (data / "jobs/job-1.json").read_bytes()
    with pytest.raises(TrainingJobExistsError, match="'job-1' already exists"):
        backend.create_training_job(request(data, hp={**HP, "num_round": "5"}))
    assert (data / "jobs/job-1.json").read_bytes() == before


def test_unknown_job(tmp_path: Path) -> None:
    with pytest.raises(TrainingJobNotFoundError, match="not found"):
        LocalTrainingBackend(tmp_path).describe_training_job("nope")
    with pytest.raises(TrainingJobNotFoundError):
        LocalTrainingBackend(tmp_path).describe_training_job("../../etc/passwd")


def test_rounds_are_logged_in_the_containers_format(data: Path) -> None:
    backend = LocalTrainingBackend(data / "jobs")
    backend.create_training_job(request(data))
    job = backend.run_training_job("job-1")
    lines = Path(job["LogFile"]).read_text().splitlines()
    rounds = [line for line in lines if line.startswith("[")]
    assert len(rounds) == 20
    pattern = (
        r"^\[(\d+)\]\ttrain-auc:\d+\.\d{5}\ttrain-logloss:\d+\.\d{5}\tvalidation-auc:\d+\.\d{5}\tvalidation-logloss:\d+\.\d{5}$"
    )
    for i, line in enumerate(rounds):
        match = re.match(pattern, line)
        assert match and int(match.group(1)) == i
    # the metric regex SageMaker's metric definitions use finds the final value
    last = re.findall(r"validation-auc:(\S+)", rounds[-1])[0]
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}["validation:auc"]
    assert float(last) == pytest.approx(final, abs=1e-5)


def test_model_archive_holds_one_loadable_xgboost_model(data: Path) -> None:
    import xgboost as xgb

    backend = LocalTrainingBackend(data / "jobs")
    backend.create_training_job(request(data))
    job = backend.run_training_job("job-1")
    archive = path_from_uri(job["ModelArtifacts"]["S3ModelArtifacts"])
    with tarfile.open(archive, "r:gz") as tar:
        assert tar.getnames() == ["xgboost-model"]
        model_bytes = tar.extractfile("xgboost-model").read()
    booster = xgb.Booster()
    booster.load_model(bytearray(model_bytes))
    assert booster.num_features() == 4
    preds = booster.predict(xgb.DMatrix(np.zeros((3, 4))))
    assert preds.shape == (3,) and ((preds >= 0) & (preds <= 1)).all()
    out_dir = archive.parent
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert len(metrics["history"]["validation"]["auc"]) == 20
    assert (out_dir / "learning-curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_hyperparameters_fail_the_job_with_a_client_error(data: Path) -> None:
    backend = LocalTrainingBackend(data / "jobs")
    backend.create_training_job(request(data, hp={**HP, "silent": "0"}))
    job = backend.run_training_job("job-1")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError")
    assert "verbosity" in job["FailureReason"]
    assert "ModelArtifacts" not in job


def test_labels_outside_0_1_fail_a_logistic_job(tmp_path: Path) -> None:
    write_channel(tmp_path / "train", 100, 1, label_offset=1.0)
    backend = LocalTrainingBackend(tmp_path / "jobs")
    backend.create_training_job(request(tmp_path, train=tmp_path / "train"))
    job = backend.run_training_job("job-1")
    assert job["TrainingJobStatus"] == "Failed"
    assert "label" in job["FailureReason"].lower()


def test_hidden_files_fail_and_underscore_files_are_skipped(data: Path) -> None:
    (data / "train" / "_SUCCESS").write_text("not csv at all")
    backend = LocalTrainingBackend(data / "jobs")
    backend.create_training_job(request(data, name="ok"))
    assert backend.run_training_job("ok")["TrainingJobStatus"] == "Completed"
    (data / "train" / ".hidden.csv").write_text("1,2,3,4,5\n")
    backend.create_training_job(request(data, name="hidden"))
    job = backend.run_training_job("hidden")
    assert job["TrainingJobStatus"] == "Failed"
    assert "hidden file" in job["FailureReason"]


def test_empty_channel_fails(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "part-00000.csv").write_bytes(b"")
    backend = LocalTrainingBackend(tmp_path / "jobs")
    backend.create_training_job(request(tmp_path, train=tmp_path / "train"))
    job = backend.run_training_job("job-1")
    assert job["TrainingJobStatus"] == "Failed"
    assert "empty" in job["FailureReason"]


def test_every_part_file_of_a_channel_is_read(tmp_path: Path) -> None:
    for i in range(3):
        write_channel(tmp_path / "train", 100, i, name=f"part-{i:05d}.csv")
    backend = LocalTrainingBackend(tmp_path / "jobs")
    backend.create_training_job(request(tmp_path, train=tmp_path / "train"))
    job = backend.run_training_job("job-1")
    assert job["TrainingJobStatus"] == "Completed"
    assert "300 train rows" in Path(job["LogFile"]).read_text()


def test_invalid_job_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TrainingJobName"):
        LocalTrainingBackend(tmp_path).create_training_job(request(tmp_path, name="bad_name"))


def test_another_xgboost_release_is_refused_before_anything_is_written(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XGBoost 3.2 wrote base_score as "[1.1165065E-1]", which the 3.0-5 image's 3.0.5 reads as 0.5: every
    served prediction shifted.  Only the image's own release may train."""
    from model_training.config.run import RunConfig
    from model_training.errors import XGBoostVersionError
    from model_training.output.layout import OutputLayout
    from model_training.training import xgboost_release
    from model_training.wiring import run_local

    source = tmp_path / "data.csv"
    rows = ["y_yes,y_no,a,b"] + [f"{i % 2},{1 - i % 2},{i},{i * 3 % 7}" for i in range(60)]
    source.write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(xgboost_release, "installed_xgboost", lambda: "3.2.0")
    out = tmp_path / "out"
    with pytest.raises(XGBoostVersionError) as caught:
        run_local(source, RunConfig(run_date=dt.date(2026, 6, 1)), OutputLayout(out))
    assert "XGBoost 3.0.5" in caught.value.message and "3.2.0 is installed" in caught.value.message
    assert "pip install 'xgboost-cpu==3.0.5'" in caught.value.hint
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_a_job_for_an_image_whose_xgboost_is_not_installed_fails_with_the_fix(data: Path) -> None:
    backend = LocalTrainingBackend(data / "jobs")
    req = request(data)
    req["AlgorithmSpecification"]["TrainingImage"] = "local/sagemaker-xgboost:1.7-1"
    backend.create_training_job(req)
    done = backend.run_training_job("job-1")
    assert done["TrainingJobStatus"] == "Failed"
    assert "XGBoost 1.7.4" in done["FailureReason"] and "environment of its own" in done["FailureReason"]
    assert "pip install -e . 'xgboost==1.7.4' matplotlib" in done["FailureReason"]


def test_the_job_record_names_the_xgboost_that_trained_and_the_serving_image(data: Path) -> None:
    import xgboost

    backend = LocalTrainingBackend(data / "jobs")
    backend.create_training_job(request(data))
    done = backend.run_training_job("job-1")
    assert done["XGBoostVersion"] == xgboost.__version__ == "3.0.5"
    assert done["ServingImage"] == "sagemaker-xgboost:3.0-5"


def test_early_stopping_keeps_the_best_iteration_as_the_container_does(data: Path) -> None:
    """The container's EarlyStopping has save_best=True: the archived model ends at the best round."""
    import xgboost

    backend = LocalTrainingBackend(data / "jobs")
    hp = {**HP, "num_round": "200", "eta": "0.9", "early_stopping_rounds": "3", "eval_metric": "auc,logloss"}
    backend.create_training_job(request(data, hp=hp))
    done = backend.run_training_job("job-1")
    assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")
    rounds = [line for line in Path(done["LogFile"]).read_text().splitlines() if re.match(r"^\[\d+\]\t", line)]
    assert len(rounds) < 200
    archive = path_from_uri(done["ModelArtifacts"]["S3ModelArtifacts"])
    with tarfile.open(archive) as tar:
        model = tar.extractfile("xgboost-model").read()
    booster = xgboost.Booster()
    booster.load_model(bytearray(model))
    losses = [float(line.rsplit("validation-logloss:", 1)[1]) for line in rounds]
    assert booster.num_boosted_rounds() == losses.index(min(losses)) + 1


def test_the_model_archive_is_byte_stable(data: Path) -> None:
    """The gzip header held the time of writing: one model gave another archive on every rerun."""
    import gzip

    backend = LocalTrainingBackend(data / "jobs")
    backend.create_training_job(request(data))
    done = backend.run_training_job("job-1")
    archive = path_from_uri(done["ModelArtifacts"]["S3ModelArtifacts"]).read_bytes()
    assert archive[4:8] == b"\0\0\0\0"  # gzip MTIME
    assert gzip.decompress(archive)


def test_the_demo_refuses_another_xgboost_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from model_training import demo
    from model_training.errors import XGBoostVersionError

    monkeypatch.setenv("MODEL_TRAINING_ALGORITHM_VERSION", "1.7-1")
    with pytest.raises(XGBoostVersionError):
        demo.run_offline_demo(tmp_path / "out", say=lambda line: None)
    assert not (tmp_path / "out").exists()


def test_a_watch_stops_a_job_at_a_round_and_the_job_is_stopped_with_what_it_trained(data: Path) -> None:
    """A tuning job's early stopping: the watch sees each round after it is logged; the job it stops is
    ``Stopped``, with the model, log and metrics of the rounds trained."""
    import xgboost

    backend = LocalTrainingBackend(data / "jobs")
    backend.create_training_job(request(data))
    seen: list[tuple[int, int]] = []

    def watch(epoch: int, history: Any) -> bool:
        seen.append((epoch, len(history["validation"]["auc"])))
        return epoch == 4

    done = backend.run_training_job("job-1", watch=watch, nthread=1)
    assert done["TrainingJobStatus"] == "Stopped" and done["SecondaryStatus"] == "Stopped"
    assert seen == [(epoch, epoch + 1) for epoch in range(5)]
    assert len([line for line in Path(done["LogFile"]).read_text().splitlines() if line.startswith("[")]) == 5
    with tarfile.open(path_from_uri(done["ModelArtifacts"]["S3ModelArtifacts"])) as tar:
        booster = xgboost.Booster()
        booster.load_model(bytearray(tar.extractfile("xgboost-model").read()))
    assert booster.num_boosted_rounds() == 5
    metrics = json.loads(path_from_uri(done["OutputFiles"]["metrics"]).read_text())
    final = {m["MetricName"]: m["Value"] for m in done["FinalMetricDataList"]}
    assert final["validation:auc"] == metrics["history"]["validation"]["auc"][4]
    assert "nthread" not in done["HyperParameters"]  # the thread count is the machine's, not the job's


def test_a_watch_that_stops_at_the_last_round_stops_nothing(data: Path) -> None:
    backend = LocalTrainingBackend(data / "jobs")
    backend.create_training_job(request(data))
    done = backend.run_training_job("job-1", watch=lambda epoch, history: epoch == 19)
    assert done["TrainingJobStatus"] == "Completed"
