"""A model the local backend trains is the model SageMaker would train and serve, judged by the
container's own code under each image's pinned libraries (``tests/oracle/envs.py``):

* serving: the image's ``serve_utils.get_loaded_booster`` loads our ``model.tar.gz`` and its ``predict``
  scores the bank test rows (as the evaluation stage sends them) exactly as our backend's own library
  does, with the same ``base_score``;
* training: the image's training entry point, on our channels and the exact ``HyperParameters`` of our
  request, logs the same per-round metric lines as our job's log, and its model predicts as ours.

Our side runs in the XGBoost release of the image: the project's own pin for 3.0-5 (this interpreter),
an environment with our package and XGBoost 1.7.4 for 1.7-1 (``envs.build_ours``).
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from model_training.algorithm.hyperparameter_rules import CONTAINER_METRICS
from model_training.algorithm.images import DEFAULT_IMAGE_VERSION, IMAGE_XGBOOST
from tests.oracle import envs

pytestmark = pytest.mark.shared_data

ROUND = re.compile(r"^\[\d+\]\t")
TOLERANCE = 1e-6

_PREDICT = """
import json, sys, tarfile, tempfile, os
import numpy as np, xgboost as xgb
job = json.loads(sys.stdin.read())
with tempfile.TemporaryDirectory() as tmp:
    with tarfile.open(job["model_tar"]) as tar:
        tar.extractall(tmp)
    booster = xgb.Booster()
    booster.load_model(os.path.join(tmp, "xgboost-model"))
rows = np.loadtxt(job["csv"], delimiter=",", ndmin=2)
config = json.loads(booster.save_config())
print(json.dumps({"xgboost": xgb.__version__, "base_score": config["learner"]["learner_model_param"]["base_score"],
                  "predictions": booster.predict(xgb.DMatrix(rows)).tolist()}))
"""


def _python_for(version: str) -> Path:
    if version == DEFAULT_IMAGE_VERSION:
        return Path(sys.executable)
    try:
        return envs.build_ours(version)
    except (SystemExit, subprocess.CalledProcessError) as exc:
        message = f"no environment with our package and XGBoost {IMAGE_XGBOOST[version]}: {exc}"
        if envs.in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def _run_json(cmd: list[str], payload: Any = None, env: dict[str, str] | None = None) -> Any:
    proc = subprocess.run(cmd, input=json.dumps(payload), capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_ours(
    version: str, source: Path, out: Path, hyperparameters: dict[str, str] | None = None, extra_env: dict[str, str] | None = None
) -> dict:
    """``model-training run`` on ``source`` with the local backend for image ``version``, in the environment
    holding that image's XGBoost; returns the run's record, job record, features file, model and predictions."""
    python = _python_for(version)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_TRAINING_") or k == "MODEL_TRAINING_SHARED_DATA"}
    env["MODEL_TRAINING_ALGORITHM_VERSION"] = version
    env.update(extra_env or {})
    cli = "from model_training.cli import main; main()"
    flags = [arg for k, v in (hyperparameters or {}).items() for arg in ("-H", f"{k}={v}")]
    proc = subprocess.run(
        [str(python), "-c", cli, "run", str(source), "--output", str(out), "--date", "2026-06-01", *flags],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (record_path,) = out.glob(f"automl/2026-06-01/training/{source.stem}/*/run.json")
    record = json.loads(record_path.read_text())
    job = json.loads((out / "training-jobs" / f"{record['training']['job_name']}.json").read_text())
    features = out / "test-features.csv"
    _write_features(Path(record["files"]["test"]["uri"].removeprefix("file://")), features, drop=("y_no", "y_yes"))
    model_tar = Path(job["ModelArtifacts"]["S3ModelArtifacts"].removeprefix("file://"))
    ours = _run_json([str(python), "-c", _PREDICT], {"model_tar": str(model_tar), "csv": str(features)})
    return {
        "version": version,
        "out": out,
        "run_dir": record_path.parent,
        "record": record,
        "job": job,
        "features": features,
        "model_tar": model_tar,
        "ours": ours,
    }


@pytest.fixture(scope="module", params=envs.VERSIONS)
def local_run(request: pytest.FixtureRequest, bank_csv: Path, oracles: Any, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The bank data run end to end by ``model-training run`` with the local backend, for one image version."""
    version = request.param
    oracle = oracles(version)
    return {"oracle": oracle, **_run_ours(version, bank_csv, tmp_path_factory.mktemp(f"local-{version}"))}


def _write_features(test_file: Path, target: Path, drop: tuple[str, ...]) -> None:
    """The test file as the evaluation stage sends it to the endpoint: no header, no index, no labels."""
    with test_file.open(newline="") as src, target.open("w", newline="") as dst:
        reader = csv.reader(src)
        header = next(reader)
        keep = [i for i, name in enumerate(header) if i > 0 and name not in drop]
        writer = csv.writer(dst, lineterminator="\n")
        for row in reader:
            writer.writerow([row[i] for i in keep])


def _serve(oracle: Any, model_tar: Path, features: Path, workdir: Path) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    return oracle.run("serve.py", {"model_tar": str(model_tar), "csv": str(features), "workdir": str(workdir)})


def _max_diff(a: list[float], b: list[float]) -> float:
    assert len(a) == len(b)
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def test_the_run_names_the_xgboost_that_trained_and_the_image_that_must_serve(local_run: dict) -> None:
    version = local_run["version"]
    training = local_run["record"]["training"]
    assert training["xgboost_version"] == IMAGE_XGBOOST[version] == local_run["ours"]["xgboost"]
    assert training["serving_image"] == f"sagemaker-xgboost:{version}"
    assert local_run["job"]["XGBoostVersion"] == IMAGE_XGBOOST[version]
    assert local_run["job"]["ServingImage"] == f"sagemaker-xgboost:{version}"


def test_the_images_serving_code_predicts_as_our_backend(local_run: dict, tmp_path: Path) -> None:
    served = _serve(local_run["oracle"], local_run["model_tar"], local_run["features"], tmp_path)
    ours = local_run["ours"]
    assert served["xgboost"] == IMAGE_XGBOOST[local_run["version"]]
    assert served["base_score"] == ours["base_score"]
    assert len(served["predictions"]) == local_run["record"]["splits"]["test"]["rows"] == 4119
    diff = _max_diff(served["predictions"], ours["predictions"])
    print(f"\n{local_run['version']}: {len(served['predictions'])} predictions compared, max |diff| {diff:.2e}")
    assert diff <= TOLERANCE
    # the symptom: a base_score read as 0.5 put the mean near 0.41 and 734 rows at >= 0.5
    mean = sum(served["predictions"]) / len(served["predictions"])
    assert 0.05 < mean < 0.2, mean


def test_the_images_training_entry_point_logs_and_predicts_as_our_backend(local_run: dict, tmp_path: Path) -> None:
    rounds, diff = _compare_with_the_containers_training(local_run, tmp_path)
    assert rounds == int(local_run["job"]["HyperParameters"]["num_round"])
    print(f"\n{local_run['version']}: {rounds} round lines equal; container's model vs ours: max |diff| {diff:.2e}")


def _compare_with_the_containers_training(
    run: dict, tmp_path: Path, env: dict[str, str] | None = None, stop_slack: int = 0
) -> tuple[int, float]:
    """Train with the container on ``run``'s channels and request; assert the same round lines and
    predictions; returns (round lines, largest prediction difference; NaN when not compared).

    ``stop_slack``: with early stopping, the two may end up to that many rounds apart (see ``VARIANTS``);
    the rounds both logged must still be equal, and predictions are compared when they end together."""
    job, run_dir = run["job"], run["run_dir"]
    trained = run["oracle"].run(
        "train.py",
        {
            "hyperparameters": job["HyperParameters"],
            "input_data_config": job["InputDataConfig"],
            "train": str(run_dir / "train"),
            "validation": str(run_dir / "validation"),
            "base": str(tmp_path / "sagemaker"),
        },
        env=env,
    )
    assert trained["ok"], trained["error"]
    theirs = [line for line in trained["log"] if ROUND.match(line)]
    ours = [line for line in Path(job["LogFile"]).read_text().splitlines() if ROUND.match(line)]
    assert abs(len(theirs) - len(ours)) <= stop_slack, (len(theirs), len(ours))
    assert {tuple(_metric_names(line)) for line in theirs + ours} == {tuple(_metric_names(ours[0]))}
    for their_line, our_line in zip(theirs, ours, strict=False):
        _assert_same_round(their_line, our_line)
    if len(theirs) != len(ours):
        return len(ours), float("nan")
    archive = tmp_path / "theirs.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(trained["model"], arcname="xgboost-model")
    served = _serve(run["oracle"], archive, run["features"], tmp_path / "serve")
    diff = _max_diff(served["predictions"], run["ours"]["predictions"])
    assert diff <= TOLERANCE
    return len(ours), diff


def _metric_names(line: str) -> list[str]:
    return [token.rsplit(":", 1)[0] for token in line.split("\t")[1:]]


def _assert_same_round(theirs: str, ours: str) -> None:
    """XGBoost's own metrics print the same digits; the container's own metrics (scikit-learn: 1.0.2 in
    image 1.7-1, 1.5.2 in 3.0-5, the current release here) may differ by one unit in the 5th decimal, as
    its releases sum float32 values differently."""
    if theirs == ours:
        return
    for their_token, our_token in zip(theirs.split("\t")[1:], ours.split("\t")[1:], strict=True):
        name, their_value = their_token.rsplit(":", 1)
        metric = name.split("-", 1)[1]
        if metric in CONTAINER_METRICS:
            assert abs(float(their_value) - float(our_token.rsplit(":", 1)[1])) <= 1.5e-5, (theirs, ours)
        else:
            assert their_token == our_token, (theirs, ours)


#: Requests whose evaluation the container builds itself: its own metrics (computed with scikit-learn,
#: handed to XGBoost as one function; an objective's default metric when none of XGBoost's remain), the
#: tuning metric (a sorted union with eval_metric, early stopping on it). Both sides run with one OpenMP
#: thread (OMP_NUM_THREADS=1): the round early stopping ends at depends on the thread count in XGBoost
#: itself (seen: the container's own training stops at round 6 with one thread and at round 5 with two, on
#: the same data and request), so a SageMaker job's stop round depends on its instance's cores; even with
#: one thread it varies by a round from run to run here, on both sides, so early stopping is compared with
#: one round of slack (the rounds both log must be equal). On 1.7-1 it is not compared: XGBoost 1.7.4's
#: stop round varies more, in the container against itself (seen: 8 or 9 rounds on one request).
EARLY_STOPPING = ("early stopping on its own metric", "the tuning metric")
VARIANTS = {
    "its own metrics only": {"num_round": "15", "objective": "reg:squarederror", "eval_metric": "rmse,mae,r2"},
    "its own metrics after auc": {"num_round": "15", "eval_metric": "auc,accuracy,f1,precision,recall"},
    "early stopping on its own metric": {
        "num_round": "40", "eta": "0.5", "eval_metric": "logloss,balanced_accuracy", "early_stopping_rounds": "3",
    },
    "the tuning metric": {
        "num_round": "40", "eta": "0.5", "eval_metric": "logloss,auc", "_tuning_objective_metric": "validation:logloss",
        "early_stopping_rounds": "2",
    },
}  # fmt: skip


@pytest.mark.parametrize("version", envs.VERSIONS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_containers_own_metrics_and_tuning_metric_log_and_stop_as_ours(
    variant: str, version: str, bank_csv: Path, oracles: Any, tmp_path: Path
) -> None:
    if variant in EARLY_STOPPING and version != "3.0-5":
        pytest.skip("XGBoost 1.7.4's early stopping round varies from run to run, in the container too")
    one_thread = {"OMP_NUM_THREADS": "1"}
    run = {"oracle": oracles(version), **_run_ours(version, bank_csv, tmp_path / "out", VARIANTS[variant], one_thread)}
    slack = 1 if variant in EARLY_STOPPING else 0
    rounds, diff = _compare_with_the_containers_training(run, tmp_path, one_thread, slack)
    print(f"\n{version} {variant}: {rounds} round lines equal, max |diff| {diff:.2e}")
