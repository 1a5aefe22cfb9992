from __future__ import annotations

import re
import socket
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from model_training import aws
from model_training.cli import app
from model_training.demo import write_demo_dataset
from model_training.offline import FAKE_CREDENTIALS


def test_demo_dataset_is_deterministic_and_follows_the_pipelines_label_convention(tmp_path: Path) -> None:
    a = write_demo_dataset(tmp_path / "a").read_bytes()
    b = write_demo_dataset(tmp_path / "b").read_bytes()
    assert a == b
    lines = a.decode().splitlines()
    assert len(lines) == 570
    assert lines[0].endswith(",y_no,y_yes") and lines[0].count(",") == 31
    assert sum(line.endswith(",0,1") for line in lines[1:]) == 212
    assert sum(line.endswith(",1,0") for line in lines[1:]) == 357


def test_demo_runs_the_whole_stage_offline_and_ends_with_the_auc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res = CliRunner().invoke(app, ["demo", "--output", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[-1].startswith("validation AUC ")
    assert float(lines[-1].split()[2]) > 0.9
    assert "lambda_handler: started run" in res.output
    model_line = next(line for line in lines if line.startswith("model:"))
    model = Path(model_line.split(maxsplit=1)[1])
    assert model.is_file()
    # the key the deployment stage expects: {YYYY-MM-DD}/output/{TrainingJobName}/output/model.tar.gz
    bucket_dir = next(p for p in (tmp_path / "out/s3").iterdir() if "model-output" in p.name)
    key = model.relative_to(bucket_dir).as_posix()
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})/output/([A-Za-z0-9-]+)/output/model\.tar\.gz", key)
    assert match, key
    job = re.sub(r"^\d{4}-\d{2}-\d{2}/[A-Za-z0-9]+/", "", key).removesuffix("/output/model.tar.gz")
    assert job == match.group(2)
    with tarfile.open(model) as tar:
        assert tar.getnames() == ["xgboost-model"]
    # the endpoint has stopped: jobs describe says why the run record cannot be read, and reads the demo's copy
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    aws.reset_clients()
    described = CliRunner().invoke(app, ["jobs", "describe", job, "-o", str(tmp_path / "out")])
    aws.reset_clients()
    assert described.exit_code == 0, described.output
    rows = {key: value for key, _, value in (line.partition("  ") for line in described.output.splitlines())}
    assert f"(cannot be read: no S3 endpoint answers at http://127.0.0.1:{port}: " in rows["run record"], described.output
    data_bucket = next(p for p in (tmp_path / "out/s3").iterdir() if "automl-data" in p.name)
    (copy,) = data_bucket.rglob("run.json")
    assert rows["local copy"].strip() == f"{copy} (complete)"
    assert rows["recorded status"].strip() == "Completed"
    # and again: a fresh endpoint, a new object version, a new run
    again = CliRunner().invoke(app, ["demo", "--output", str(tmp_path / "out"), "-q"])
    assert again.exit_code == 0, again.output
