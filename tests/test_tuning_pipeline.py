"""A run's search through the pipeline on this machine, where it goes wrong: a search whose every trial fails fails
the run (exit 3, the reason in run.json, nothing in the model output); a best model that cannot be copied leaves the
run ``started`` with the search recorded, and the next run copies it (nothing searched again)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from model_training.cli import app
from model_training.config.run import RunConfig
from model_training.output.local_store import LocalStore
from model_training.output.runrecord import RunRecord
from model_training.training.jobs import TrainingTarget
from model_training.training.local import LocalTrainingBackend
from model_training.training.request import LOCAL_IMAGE
from model_training.training.tuning_request import tuning_request
from tests.fixtures import write_csv

SEARCH: dict[str, Any] = {"objective_metric": "validation:logloss", "strategy": "Grid", "ranges": {"max_depth": [2, 3]}}


def source(tmp_path: Path) -> Path:
    """200 rows labelled 0 and 1 from two features, and a manifest beside them: 4 rounds, a Grid of two trials."""
    lines = ["f1,f2,label"] + [f"{i % 7}.5,{(i * 37) % 11},{int((i % 7) + (i * 37) % 11 > 8)}" for i in range(200)]
    manifest = {"label": "label", "training": {"hyperparameters": {"num_round": 4}}, "tuning": SEARCH}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return write_csv(tmp_path / "data.csv", "\n".join(lines) + "\n")


def run(tmp_path: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        app, ["run", str(tmp_path / "data.csv"), "-o", str(tmp_path / "out"), "--date", "2026-03-04", "-q", *extra]
    )


def the_record(tmp_path: Path) -> tuple[Path, RunRecord]:
    (path,) = (tmp_path / "out").glob("automl/2026-03-04/training/data/*/run.json")
    return path, RunRecord.model_validate_json(path.read_bytes())


def test_a_search_whose_every_trial_fails_fails_the_run(tmp_path: Path) -> None:
    """The run's tuning job, created by an earlier delivery that died, with static hyperparameters the container
    refuses in every trial (``multi:softmax`` without ``num_class``): this run finds it, runs its search and fails."""
    source(tmp_path)
    assert run(tmp_path, "--no-train").exit_code == 0
    _, record = the_record(tmp_path)
    config = RunConfig.model_validate(record.config)
    assert config.tuning is not None
    out = tmp_path / "out"
    target = TrainingTarget(image=LOCAL_IMAGE.format(version="3.0-5"), model_output_root=(out / "model-output").as_uri())
    request = tuning_request(record, config, config.tuning, target, LocalStore(out))
    request["TrainingJobDefinition"]["StaticHyperParameters"]["objective"] = "multi:softmax"
    LocalTrainingBackend(out / "training-jobs").create_hyper_parameter_tuning_job(request)

    res = run(tmp_path)
    assert res.exit_code == 3, res.output
    name = request["HyperParameterTuningJobName"]
    assert f"error: tuning job {name} failed: no training job completed (3 failed or stopped)" in res.output
    assert f"jobs describe {name}" in " ".join(res.output.split())
    _, failed = the_record(tmp_path)
    assert failed.status == "complete" and failed.tuning is not None and failed.tuning.status == "Failed"
    assert failed.tuning.failure_reason and "num_class" in failed.tuning.failure_reason
    assert failed.tuning.best_training_job is None and not (out / "model-output").exists()
    again = run(tmp_path)
    assert again.exit_code == 3 and f"tuning job {name} failed earlier" in again.output


def test_a_best_model_that_could_not_be_copied_is_copied_by_the_next_run(tmp_path: Path) -> None:
    source(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "model-output").write_text("a file where the model output folder goes")
    res = run(tmp_path)
    assert res.exit_code == 1, res.output
    assert "cannot copy the best model there" in res.output and "Traceback" not in res.output
    path, record = the_record(tmp_path)
    assert record.status == "started" and record.tuning is not None and record.tuning.status == "Completed"
    assert record.tuning.model_copied_to is None and record.tuning.best_training_job is not None
    trials = sorted((out / "training-jobs").glob("*.json"))

    (out / "model-output").unlink()
    res = run(tmp_path)
    assert res.exit_code == 0, res.output
    _, done = the_record(tmp_path)
    assert done.status == "complete" and done.tuning is not None
    assert done.tuning.trials == record.tuning.trials  # the search was not run again
    assert sorted((out / "training-jobs").glob("*.json")) == trials
    (model,) = (p for p in (out / "model-output").rglob("*") if p.is_file())
    assert done.tuning.model_copied_to == model.as_uri() and record.tuning.best_training_job in model.as_posix()
    assert json.loads(path.read_text())["status"] == "complete"


def test_a_multi_class_search_takes_num_class_from_the_labels(tmp_path: Path) -> None:
    """A multi: objective without num_class, which a run infers from the labels: the search was refused before anything
    ran ("objective multi:softprob requires num_class"); it runs, every trial with the inferred num_class."""
    lines = ["f1,f2,label"] + [f"{i % 7}.5,{(i * 37) % 11},{((i % 7) + (i * 37) % 11) % 3}" for i in range(210)]
    search = {"objective_metric": "validation:mlogloss", "strategy": "Grid", "ranges": {"max_depth": [2, 3]}}
    hyperparameters = {"num_round": 4, "objective": "multi:softprob"}
    (tmp_path / "manifest.json").write_text(json.dumps({"label": "label", "training": {"hyperparameters": hyperparameters}}))
    write_csv(tmp_path / "data.csv", "\n".join(lines) + "\n")
    res = run(tmp_path, "--tuning", json.dumps(search))
    assert res.exit_code == 0, res.output
    _, record = the_record(tmp_path)
    assert record.status == "complete" and record.tuning is not None and record.tuning.status == "Completed"
    assert [t.status for t in record.tuning.trials] == ["Completed"] * 3
    assert record.inferred["hyperparameters"] == {"num_class": "3"}
    (search_record,) = (tmp_path / "out" / "training-jobs").glob("*.tuning.json")
    static = json.loads(search_record.read_text())["TrainingJobDefinition"]["StaticHyperParameters"]
    assert (static["objective"], static["num_class"]) == ("multi:softprob", "3")


def test_a_search_for_auc_needs_both_classes_in_the_validation_split(tmp_path: Path) -> None:
    """The run refuses a split of one class when auc is an eval_metric; a search for validation:auc (which the container
    adds to every trial's eval_metric) did not check: every trial's AUC was nan, and the search ended Completed with no
    best and nothing deployed, exit 0.  It is refused as the run's own eval_metric is, before anything is written."""
    lines = ["f1,f2,label"] + [f"{i % 7},{(i * 13) % 5},{int(i in (3, 17))}" for i in range(60)]
    write_csv(tmp_path / "data.csv", "\n".join(lines) + "\n")
    (tmp_path / "manifest.json").write_text(json.dumps({"label": "label"}))
    search = {"objective_metric": "validation:auc", "strategy": "Grid", "ranges": {"max_depth": [2, 3]}}
    hp = ("-H", "num_round=3", "-H", "objective=binary:logistic", "-H", "eval_metric=logloss")
    res = run(tmp_path, "--seed", "1", *hp, "--tuning", json.dumps(search))
    assert res.exit_code == 1, res.output
    said = " ".join(res.output.split())
    assert "the validation split has only one class (label 0, 12 rows): AUC is undefined" in said
    assert "or search another objective_metric" in said
    assert not list((tmp_path / "out").rglob("*.json")) and not (tmp_path / "out" / "training-jobs").exists()


def wine(tmp_path: Path) -> Path:
    """scikit-learn's wine data (178 rows, 13 features, classes 0, 1 and 2 in ``target``) as a CSV."""
    from sklearn.datasets import load_wine

    data = load_wine()
    header = ",".join([*(name.replace("/", "_") for name in data.feature_names), "target"])
    labelled = zip(data.data, data.target, strict=True)
    rows = [",".join([*(repr(float(v)) for v in row), str(int(label))]) for row, label in labelled]
    return write_csv(tmp_path / "wine.csv", "\n".join([header, *rows]) + "\n")


def test_a_multi_class_search_without_num_class_takes_it_from_the_labels(tmp_path: Path) -> None:
    """A ``multi:softprob`` search with no ``num_class`` anywhere: the run takes it from the labels, as a run without
    a search does, and every trial (the untuned trial 000 too) trains with it; ``manifest check``, ``config show``
    and ``--tuning`` accept the section (each refused it: 'objective multi:softprob requires num_class')."""
    data = wine(tmp_path)
    search = {"objective_metric": "validation:mlogloss", "strategy": "Random", "max_trials": 2, "seed": 3}
    search["ranges"] = {"eta": {"min": 0.1, "max": 0.5}}
    settings = {"label": "target", "training": {"hyperparameters": {"objective": "multi:softprob", "num_round": 3}}}
    manifest = tmp_path / "wine.manifest.json"
    manifest.write_text(json.dumps({**settings, "tuning": search}))
    checked = CliRunner().invoke(app, ["manifest", "check", str(manifest)])
    assert checked.exit_code == 0, checked.output
    shown = CliRunner().invoke(app, ["config", "show", str(data)])
    assert shown.exit_code == 0 and "inferred from the labels" in shown.output, shown.output
    (tmp_path / "settings.json").write_text(json.dumps(settings))  # the search from --tuning instead
    flagged = ["config", "show", str(data), "--manifest", str(tmp_path / "settings.json"), "--tuning", json.dumps(search)]
    flagged_res = CliRunner().invoke(app, flagged)
    assert flagged_res.exit_code == 0 and "inferred from the labels" in flagged_res.output, flagged_res.output

    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(data), "-o", str(out), "--date", "2026-03-04", "-q"])
    assert res.exit_code == 0, res.output
    (path,) = out.glob("automl/2026-03-04/training/wine/*/run.json")
    record = RunRecord.model_validate_json(path.read_bytes())
    assert record.inferred == {"hyperparameters": {"num_class": "3"}, "drop": []}
    assert "num_class" not in record.config["training"]["hyperparameters"]
    assert record.tuning is not None and record.tuning.status == "Completed"
    assert [t.status for t in record.tuning.trials] == ["Completed"] * 3  # the untuned trial 000 and two searched
    (tuning_job,) = (out / "training-jobs").glob("*.tuning.json")
    static = json.loads(tuning_job.read_text())["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static["num_class"] == "3" and static["objective"] == "multi:softprob"
    for trial in record.tuning.trials:
        job = json.loads((out / "training-jobs" / f"{trial.job_name}.json").read_text())
        assert job["HyperParameters"]["num_class"] == "3", trial.job_name
