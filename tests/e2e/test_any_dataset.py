"""Issue 13, "any user's dataset, first try": scikit-learn's bundled datasets, written to CSV here as a user's
pandas would write them, go through the real command line in one command each, trained by the local backend
with the real XGBoost.  None has the bank pipeline's ``y_yes``/``y_no`` columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from model_training.cli import app


def dataset_csv(tmp_path: Path, name: str) -> Path:
    from sklearn import datasets

    frame = getattr(datasets, f"load_{name}")(as_frame=True).frame  # features, then "target"
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def the_record(out: Path, name: str) -> dict:
    (path,) = out.glob(f"automl/*/training/{name}/*/run.json")
    return json.loads(path.read_text())


def test_diabetes_regression_in_one_command(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = dataset_csv(tmp_path, "diabetes")
    res = cli("run", str(src), "--label", "target", "-H", "objective=reg:squarederror", "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    assert "(Completed, local)" in res.output and "validation:rmse" in res.output
    assert "label mean (min to max)" in res.output and "positives" not in res.output  # the summary's label column
    record = the_record(out, "diabetes")
    assert record["config"]["training"]["hyperparameters"]["eval_metric"] == "rmse"
    assert 40 < record["training"]["final_metrics"]["validation:rmse"] < 80  # the target's spread is about 77
    assert Path(record["training"]["model_artifact"].removeprefix("file://")).is_file()
    assert record["inferred"] == {"drop": []}  # the file has no y_no
    train = record["splits"]["train"]
    assert train["label_counts"] is None and train["rows"] == 309
    assert 25 <= train["label_summary"]["min"] < train["label_summary"]["mean"] < train["label_summary"]["max"] <= 346


def test_wine_multiclass_without_num_class(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = dataset_csv(tmp_path, "wine")
    res = cli("run", str(src), "--label", "target", "-H", "objective=multi:softprob", "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    assert "(Completed, local)" in res.output and "validation:mlogloss" in res.output
    assert "classes" in res.output and "positives" not in res.output
    record = the_record(out, "wine")
    assert record["inferred"]["hyperparameters"] == {"num_class": "3"}
    assert "num_class" not in record["config"]["training"]["hyperparameters"]
    described = json.loads(cli("jobs", "describe", record["training"]["job_name"], "-o", str(out), "--json").output)
    assert described["HyperParameters"]["num_class"] == "3"
    assert sorted(record["splits"]["train"]["label_counts"]) == ["0", "1", "2"]
    assert record["training"]["final_metrics"]["validation:merror"] < 0.2


def test_iris_without_a_label_says_how_to_name_it(tmp_path: Path) -> None:
    res = cli("run", str(dataset_csv(tmp_path, "iris")), "-o", str(tmp_path / "out"), "-q")
    assert res.exit_code == 1, res.output
    text = " ".join(res.output.split())
    assert "the default label column 'y_yes' is not in the header" in text
    assert "--label target" in text and "MODEL_TRAINING_LABEL=target" in text and 'the manifest\'s label: "target"' in text
    assert "sepal length (cm), sepal width (cm), petal length (cm), petal width (cm), target" in text
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("objective", ["multi:softmax", "multi:softprob"])
def test_iris_class_numbers_under_the_default_objective_point_to_multi(tmp_path: Path, objective: str) -> None:
    src = dataset_csv(tmp_path, "iris")
    res = cli("run", str(src), "--label", "target", "-o", str(tmp_path / "out"), "-q")  # binary:logistic by default
    assert res.exit_code == 1
    assert "label 2 is outside [0, 1]" in res.output and "-H objective=multi:softprob" in " ".join(res.output.split())
    out = str(tmp_path / "o2")
    res = cli("run", str(src), "--label", "target", "-H", f"objective={objective}", "-H", "num_round=10", "-o", out, "-q")
    assert res.exit_code == 0, res.output
