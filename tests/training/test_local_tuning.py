"""Local hyperparameter tuning jobs: real Optuna searches whose trials are real local XGBoost training jobs, on
scikit-learn's breast cancer data written as channels by the stage's own channel writer; the describe and list
responses checked against botocore's SageMaker service model.

Trials train 10 rounds with one XGBoost thread (``nthread`` as a static hyperparameter) to keep the suite fast on
a shared machine; the parallel test leaves ``nthread`` to the search.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.model import Shape
from botocore.session import get_session
from botocore.validate import validate_parameters

import model_training
from model_training.algorithm.tuning import (
    grid_trials,
    parse_tuning,
    tuning_job_config,
    untuned_values,
    validate_tuning,
    warm_start_config,
    without_tuned,
)
from model_training.channels import channel_columns, render_channel
from model_training.errors import RunBusyError, TrainingJobExistsError, TrainingJobNotFoundError
from model_training.training.local import LocalTrainingBackend
from model_training.training.request import build_training_request
from model_training.uris import path_from_uri
from tests.fixtures import load_dataset

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = Path(model_training.__file__).resolve().parents[1]
IMAGE = "local/sagemaker-xgboost:3.0-5"
ROLE = "arn:aws:iam::000000000000:role/model-training"
STATIC = {"objective": "binary:logistic", "num_round": "10", "eval_metric": "logloss", "nthread": "1"}
LOGLOSS = {"objective_metric": "validation:logloss", "seed": 7}


# ----- the data and the request -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``train`` (400 rows) and ``validation`` (169 rows) channels of the breast cancer data, written by the
    stage's channel writer from a CSV the stage parses."""
    from sklearn.datasets import load_breast_cancer

    root = tmp_path_factory.mktemp("channels")
    x, y = load_breast_cancer(return_X_y=True)
    lines = ["label," + ",".join(f"f{i}" for i in range(x.shape[1]))]
    lines += [",".join([str(int(label)), *(f"{v:.6g}" for v in row)]) for label, row in zip(y, x, strict=True)]
    dataset = load_dataset(root, "\n".join(lines) + "\n")
    columns = channel_columns(dataset.columns, "label", [])
    order = np.random.RandomState(0).permutation(len(y))
    for split, rows in (("train", order[:400]), ("validation", order[400:])):
        (root / split).mkdir()
        (root / split / "part-00000").write_bytes(b"".join(bytes(chunk) for chunk in render_channel(dataset, rows, columns)))
    return root


def tuning_request(data: Path, out: Path, name: str, section: dict[str, Any], static: dict[str, str] = STATIC) -> dict[str, Any]:
    """A ``CreateHyperParameterTuningJob`` request as the SageMaker backend sends it, for a tuning section and
    the stage's static hyperparameters; the trials' models go under ``out/tuning``."""
    static = without_tuned(static, parse_tuning(section))
    spec = validate_tuning(section, static)
    definition = build_training_request(
        job_name="definition",
        image=IMAGE,
        hyperparameters=static,
        channels={split: (data / split).as_uri() + "/" for split in ("train", "validation")},
        output_path=(out / "tuning").as_uri(),
        role_arn=ROLE,
    )
    request: dict[str, Any] = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": tuning_job_config(spec, static),
        "TrainingJobDefinition": {
            "StaticHyperParameters": static,
            **{key: definition[key] for key in ("AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig")},
            **{key: definition[key] for key in ("ResourceConfig", "StoppingCondition")},
        },
        "Tags": [{"Key": "Project", "Value": "MLOps"}],
    }
    warm = warm_start_config(spec)
    if warm:
        request["WarmStartConfig"] = warm
    return request


def search(
    data: Path, out: Path, name: str, section: dict[str, Any], static: dict[str, str] = STATIC, baseline: bool = True
) -> tuple[LocalTrainingBackend, dict[str, Any], list[dict[str, Any]]]:
    """Create and run a tuning job (the baseline: the untuned values of ``static``); returns the backend, the
    description and the trials' summaries."""
    backend = LocalTrainingBackend(out / "jobs")
    request = tuning_request(data, out, name, section, static)
    backend.create_hyper_parameter_tuning_job(request)
    values = untuned_values(static, parse_tuning(section)) if baseline else None
    described = backend.run_hyper_parameter_tuning_job(name, values)
    return backend, described, backend.list_training_jobs_for_hyper_parameter_tuning_job(name)


def value(summary: dict[str, Any]) -> float:
    return float(summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])


def rounds_trained(backend: LocalTrainingBackend, name: str) -> int:
    job = backend.describe_training_job(name)
    history = json.loads(path_from_uri(job["OutputFiles"]["metrics"]).read_text())["history"]
    return len(history["validation"]["logloss"])


# ----- botocore's output shapes -------------------------------------------------------------------------------


def output_shape(operation: str) -> Shape:
    return get_session().get_service_model("sagemaker").operation_model(operation).output_shape


def shape_problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Every way ``value`` breaks ``shape``: unknown and missing members, types, enums, lengths, minimums and
    patterns.  Timestamps are the local backend's ISO 8601 text; the S3 URIs of a local job are ``file://``
    URIs, so their patterns are not applied."""
    meta, kind = shape.metadata, shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        problems = [f"{path}.{m}: required" for m in shape.required_members if m not in value]
        for key, item in value.items():
            known = key in shape.members
            problems += shape_problems(item, shape.members[key], f"{path}.{key}") if known else [f"{path}.{key}: unknown"]
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for n, item in enumerate(value) for p in shape_problems(item, shape.member, f"{path}[{n}]")]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: not a map"]
        return [p for key, item in value.items() for p in shape_problems(item, shape.value, f"{path}.{key}")]
    if kind == "timestamp":
        return [] if isinstance(value, str) and dt.datetime.fromisoformat(value).tzinfo else [f"{path}: {value!r}"]
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= meta.get("min", value)
        return [] if ok else [f"{path}: {value!r} is not an integer >= {meta.get('min')}"]
    if kind in ("float", "double"):
        return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else [f"{path}: {value!r}"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: {value!r}"]
    if not isinstance(value, str):
        return [f"{path}: {value!r} is not a string"]
    problems = []
    if shape.enum and value not in shape.enum:
        problems.append(f"{path}: {value!r} not in {shape.enum}")
    if not meta.get("min", 0) <= len(value) <= meta.get("max", len(value)):
        problems.append(f"{path}: {len(value)} characters")
    if "pattern" in meta and shape.name not in ("S3Uri", "S3OutputPath") and not re.fullmatch(meta["pattern"], value):
        problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
    return problems


def test_describe_and_list_have_the_apis_shapes(data: Path, tmp_path: Path) -> None:
    section = {**LOGLOSS, "max_trials": 2, "ranges": {"eta": {"min": 0.1, "max": 0.5}}}
    request = tuning_request(data, tmp_path, "shapes", section)
    create = get_session().get_service_model("sagemaker").operation_model("CreateHyperParameterTuningJob").input_shape
    validate_parameters(request, create)  # the request the test gives is one SageMaker takes
    backend = LocalTrainingBackend(tmp_path / "jobs")
    arn = backend.create_hyper_parameter_tuning_job(request)
    assert shape_problems({"HyperParameterTuningJobArn": arn}, output_shape("CreateHyperParameterTuningJob")) == []
    pending = backend.describe_hyper_parameter_tuning_job("shapes")
    assert shape_problems(pending, output_shape("DescribeHyperParameterTuningJob")) == []
    assert pending["HyperParameterTuningJobStatus"] == "InProgress"
    assert pending["TrainingJobStatusCounters"]["Completed"] == 0 and "BestTrainingJob" not in pending

    described = backend.run_hyper_parameter_tuning_job("shapes", {"eta": "0.3"})
    assert shape_problems(described, output_shape("DescribeHyperParameterTuningJob")) == []
    summaries = backend.list_training_jobs_for_hyper_parameter_tuning_job("shapes")
    listed = {"TrainingJobSummaries": summaries}
    assert shape_problems(listed, output_shape("ListTrainingJobsForHyperParameterTuningJob")) == []
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"] == {
        "Completed": 3,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 3, "Pending": 0, "Failed": 0}
    assert described["HyperParameterTuningJobConfig"] == request["HyperParameterTuningJobConfig"]
    assert described["TrainingJobDefinition"] == request["TrainingJobDefinition"]
    assert described["CreationTime"] <= described["HyperParameterTuningEndTime"]
    # the checker is not vacuous: what the service would not return fails it
    broken = {**described, "HyperParameterTuningJobStatus": "Done", "Owner": {}, "ObjectiveStatusCounters": {"Succeeded": -1}}
    assert len(shape_problems(broken, output_shape("DescribeHyperParameterTuningJob"))) == 3


# ----- the strategies -----------------------------------------------------------------------------------------


def test_a_bayesian_search_trains_its_trials_as_local_training_jobs(data: Path, tmp_path: Path) -> None:
    ranges = {"eta": {"min": 0.01, "max": 0.5, "scaling": "Logarithmic"}, "max_depth": {"min": 1, "max": 6}}
    backend, described, summaries = search(data, tmp_path, "bayes", {**LOGLOSS, "max_trials": 4, "ranges": ranges})
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    names = [s["TrainingJobName"] for s in summaries]
    assert [int(n.split("-")[1]) for n in names] == [0, 1, 2, 3, 4]  # trial 000, then the 4 searched
    assert all(re.fullmatch(r"bayes-\d{3}-[0-9a-f]{8}", n) for n in names)
    for summary in summaries[1:]:
        tuned = summary["TunedHyperParameters"]
        assert set(tuned) == {"eta", "max_depth"}
        assert 0.01 <= float(tuned["eta"]) <= 0.5 and 1 <= int(tuned["max_depth"]) <= 6
    for name in names:
        job = backend.describe_training_job(name)
        assert job["TuningJobArn"] == described["HyperParameterTuningJobArn"]
        assert job["HyperParameters"]["_tuning_objective_metric"] == "validation:logloss"  # as SageMaker passes it
        assert job["Tags"] == [{"Key": "Project", "Value": "MLOps"}]
        # the trial's model and files under the tuning job's output path, not the model-output location
        model = path_from_uri(job["ModelArtifacts"]["S3ModelArtifacts"])
        assert model == tmp_path / "tuning" / name / "output" / "model.tar.gz" and model.is_file()
        assert path_from_uri(job["OutputFiles"]["learning_curve"]).is_file()
        assert rounds_trained(backend, name) == 10
    # the best: the lowest final logloss among the completed trials
    best = min(summaries, key=value)
    assert described["BestTrainingJob"] == best
    # the trials are listed among the folder's training jobs too, as ListTrainingJobs lists a tuning job's jobs
    assert sorted(j["TrainingJobName"] for j in backend.list_training_jobs()) == sorted(names)


def test_a_random_search_draws_every_scaling_inside_its_range(data: Path, tmp_path: Path) -> None:
    ranges = {
        "max_depth": {"min": 1, "max": 8, "scaling": "Logarithmic"},
        "subsample": {"min": 0.5, "max": 0.99, "scaling": "ReverseLogarithmic"},
        "min_child_weight": {"min": 0, "max": 5},
        "colsample_bytree": [0.5, 1],
    }
    section = {**LOGLOSS, "strategy": "Random", "max_trials": 4, "ranges": ranges}
    _, described, summaries = search(data, tmp_path, "random", section)
    assert described["TrainingJobStatusCounters"]["Completed"] == 5
    for summary in summaries[1:]:
        tuned = summary["TunedHyperParameters"]
        assert re.fullmatch(r"[1-8]", tuned["max_depth"])
        assert 0.5 <= float(tuned["subsample"]) <= 0.99
        assert 0 <= float(tuned["min_child_weight"]) <= 5
        assert tuned["colsample_bytree"] in ("0.5", "1")
    # the untuned configuration sets none of them: trial 000 trains with the container's defaults
    assert summaries[0]["TunedHyperParameters"] == {}


def test_a_grid_runs_every_combination_once_in_the_grids_order(data: Path, tmp_path: Path) -> None:
    section = {**LOGLOSS, "strategy": "Grid", "ranges": {"eta": [0.1, 0.4], "max_depth": [2, 4]}}
    _, described, summaries = search(data, tmp_path, "grid", section)
    assert described["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 4
    assert [s["TunedHyperParameters"] for s in summaries[1:]] == grid_trials(parse_tuning(section))
    assert summaries[0]["TunedHyperParameters"] == {}  # STATIC sets neither eta nor max_depth


def test_hyperband_stops_trials_by_their_rounds_and_never_the_baseline(data: Path, tmp_path: Path) -> None:
    static = {**STATIC, "num_round": "27"}
    ranges = {"eta": {"min": 0.01, "max": 0.5, "scaling": "Logarithmic"}}
    section = {**LOGLOSS, "strategy": "Hyperband", "max_trials": 6, "hyperband": {"min_resource": 3}, "ranges": ranges}
    backend, described, summaries = search(data, tmp_path, "hyperband", section, static)
    stopped = [s for s in summaries if s["TrainingJobStatus"] == "Stopped"]
    assert stopped, [s["TrainingJobStatus"] for s in summaries]
    assert described["TrainingJobStatusCounters"]["Stopped"] == len(stopped)
    for summary in stopped:
        assert 3 <= rounds_trained(backend, summary["TrainingJobName"]) < 27  # stopped at a rung, after min_resource
        assert summary["ObjectiveStatus"] == "Succeeded"  # its value at the round it stopped
        assert backend.describe_training_job(summary["TrainingJobName"])["SecondaryStatus"] == "Stopped"
    assert summaries[0]["TrainingJobStatus"] == "Completed" and rounds_trained(backend, summaries[0]["TrainingJobName"]) == 27
    completed = [s for s in summaries if s["TrainingJobStatus"] == "Completed"]
    assert described["BestTrainingJob"] == min(completed, key=value)  # a stopped trial is never the best


def test_early_stopping_auto_is_sagemakers_median_of_running_averages() -> None:
    """The rule of "Stop Training Jobs Early", on a real Optuna study: stop when the current value is worse than
    the median of the previous jobs' running averages up to the same round."""
    import optuna
    from optuna.distributions import FloatDistribution

    from model_training.training.local_tuning_space import RunningAverageMedianPruner

    study = optuna.create_study(direction="minimize", pruner=RunningAverageMedianPruner())
    space = {"eta": FloatDistribution(0.0, 1.0)}
    # previous jobs at round 3: values 0.5, 0.3, 0.2 (median 0.3), running averages 0.5, 0.5, 0.2 (median 0.5)
    for curve in ([0.5, 0.5, 0.5], [0.9, 0.3, 0.3], [0.2, 0.2, 0.2]):
        intermediate = {step: v for step, v in enumerate(curve, start=1)}
        study.add_trial(
            optuna.trial.create_trial(params={"eta": 0.1}, distributions=space, value=curve[-1], intermediate_values=intermediate)
        )
    trial = study.ask(space)
    trial.report(0.45, 3)
    assert not trial.should_prune()  # better than 0.5, although worse than the median value at round 3 (0.3)
    other = study.ask(space)
    other.report(0.55, 3)
    assert other.should_prune()
    assert not study.ask(space).should_prune()  # nothing reported yet
    late = study.ask(space)
    late.report(9.0, 4)
    assert not late.should_prune()  # no previous job reached round 4


def test_early_stopping_auto_stops_trials_worse_than_the_jobs_before(data: Path, tmp_path: Path) -> None:
    """Small learning rates lose to the baseline's (eta 0.3, inside the range: a previous job of the study)
    from the first rounds on: with early stopping Auto they are stopped; the baseline never is."""
    static = {**STATIC, "eta": "0.3"}
    ranges = {"eta": {"min": 0.01, "max": 0.3, "scaling": "Logarithmic"}}
    section = {**LOGLOSS, "strategy": "Random", "max_trials": 3, "early_stopping": "Auto", "ranges": ranges}
    backend, described, summaries = search(data, tmp_path, "auto", section, static)
    assert summaries[0]["TrainingJobStatus"] == "Completed"
    stopped = [s for s in summaries if s["TrainingJobStatus"] == "Stopped"]
    assert stopped and described["TrainingJobStatusCounters"]["Stopped"] == len(stopped)
    assert all(float(s["TunedHyperParameters"]["eta"]) < 0.3 for s in stopped)
    assert all(rounds_trained(backend, s["TrainingJobName"]) < 10 for s in stopped)


# ----- the baseline, determinism, failures, names --------------------------------------------------------------


def test_the_untuned_configuration_is_trial_000_and_the_best_is_never_worse(data: Path, tmp_path: Path) -> None:
    """Ranges far from the stage's values (eta 0.3, max_depth 6: outside both) give worse models in 10 rounds:
    the search's best is the baseline, which no searched trial matches."""
    static = {**STATIC, "eta": "0.3", "max_depth": "6"}
    section = {**LOGLOSS, "max_trials": 3, "ranges": {"eta": {"min": 0.01, "max": 0.02}, "max_depth": {"min": 1, "max": 2}}}
    backend, described, summaries = search(data, tmp_path, "baseline", section, static)
    first = summaries[0]
    assert first["TrainingJobName"].startswith("baseline-000-")
    assert first["TunedHyperParameters"] == {"eta": "0.3", "max_depth": "6"}
    hyperparameters = backend.describe_training_job(first["TrainingJobName"])["HyperParameters"]
    assert hyperparameters["eta"] == "0.3" and hyperparameters["max_depth"] == "6"
    assert all(value(first) < value(s) for s in summaries[1:])
    assert described["BestTrainingJob"]["TrainingJobName"] == first["TrainingJobName"]


def test_a_tie_goes_to_the_earlier_trial(data: Path, tmp_path: Path) -> None:
    """The grid's eta 0.3 is the baseline's configuration: the same model, the same value; trial 000 is the best."""
    static = {**STATIC, "eta": "0.3"}
    section = {**LOGLOSS, "strategy": "Grid", "ranges": {"eta": [0.1, 0.3]}}
    _, described, summaries = search(data, tmp_path, "tie", section, static)
    assert [s["TunedHyperParameters"] for s in summaries] == [{"eta": "0.3"}, {"eta": "0.1"}, {"eta": "0.3"}]
    assert value(summaries[0]) == value(summaries[2]) < value(summaries[1])
    assert described["BestTrainingJob"]["TrainingJobName"] == summaries[0]["TrainingJobName"]


def test_a_seed_gives_the_same_search_with_one_trial_at_a_time(data: Path, tmp_path: Path) -> None:
    ranges = {"eta": {"min": 0.05, "max": 0.5}, "max_depth": {"min": 1, "max": 6}, "subsample": [0.6, 0.8, 1]}
    section = {**LOGLOSS, "max_trials": 3, "ranges": ranges}

    def run(folder: str, seed: int) -> list[tuple[str, dict[str, str], float]]:
        _, _, summaries = search(data, tmp_path / folder, "same", {**section, "seed": seed})
        return [(s["TrainingJobName"], s["TunedHyperParameters"], value(s)) for s in summaries]

    first = run("one", 7)
    assert run("two", 7) == first  # names, values and models' metrics
    other = run("three", 8)
    assert [t[1] for t in other[1:]] != [t[1] for t in first[1:]]  # the seed matters


def test_a_failed_trial_is_recorded_and_the_search_goes_on(data: Path, tmp_path: Path) -> None:
    """A configuration the container refuses (eta -1 in a request whose ranges no spec checked) fails its trial
    with the container's ClientError; the tuning job completes with the others."""
    backend = LocalTrainingBackend(tmp_path / "jobs")
    section = {**LOGLOSS, "strategy": "Grid", "ranges": {"eta": [0.1, 0.3]}}
    request = tuning_request(data, tmp_path, "fails", section)
    request["HyperParameterTuningJobConfig"]["ParameterRanges"]["CategoricalParameterRanges"][0]["Values"] = ["-1", "0.3"]
    backend.create_hyper_parameter_tuning_job(request)
    described = backend.run_hyper_parameter_tuning_job("fails")
    summaries = backend.list_training_jobs_for_hyper_parameter_tuning_job("fails")
    failed = [s for s in summaries if s["TrainingJobStatus"] == "Failed"]
    assert [s["TunedHyperParameters"] for s in failed] == [{"eta": "-1"}]
    assert failed[0]["FailureReason"].startswith("ClientError") and "eta" in failed[0]["FailureReason"]
    assert failed[0]["ObjectiveStatus"] == "Failed" and "FinalHyperParameterTuningJobObjectiveMetric" not in failed[0]
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["NonRetryableError"] == 1
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 2, "Pending": 0, "Failed": 1}


def test_a_search_whose_every_trial_fails_fails(data: Path, tmp_path: Path) -> None:
    static = {**STATIC, "objective": "multi:softmax"}  # without num_class: the container refuses every trial
    backend = LocalTrainingBackend(tmp_path / "jobs")
    request = tuning_request(data, tmp_path, "nothing", {**LOGLOSS, "max_trials": 2, "ranges": {"eta": [0.1, 0.3]}})
    request["TrainingJobDefinition"]["StaticHyperParameters"] = static
    backend.create_hyper_parameter_tuning_job(request)
    described = backend.run_hyper_parameter_tuning_job("nothing")
    assert described["HyperParameterTuningJobStatus"] == "Failed"
    assert described["TrainingJobStatusCounters"]["NonRetryableError"] == 3
    assert described["FailureReason"].startswith("no training job completed (3 failed or stopped); nothing-000-")
    assert "num_class" in described["FailureReason"]
    assert "BestTrainingJob" not in described


def test_a_search_whose_trials_have_no_value_of_the_objective_fails(data: Path, tmp_path: Path) -> None:
    """validation:auc on a validation channel of one class: every trial completed with an AUC of nan, and the search
    ended Completed with no best training job (nothing to deploy, the run complete, exit 0).  It fails, saying why."""
    channels = tmp_path / "channels"
    for split in ("train", "validation"):
        (channels / split).mkdir(parents=True)
    shutil.copy(data / "train" / "part-00000", channels / "train" / "part-00000")
    rows = (data / "validation" / "part-00000").read_text().splitlines(keepends=True)
    (channels / "validation" / "part-00000").write_text("".join(row for row in rows if row.startswith("0,")))
    section = {"objective_metric": "validation:auc", "seed": 7, "strategy": "Grid", "ranges": {"eta": [0.1, 0.3]}}
    _, described, summaries = search(channels, tmp_path, "nan", section, {**STATIC, "eval_metric": "logloss"})
    assert [(s["TrainingJobStatus"], s["ObjectiveStatus"]) for s in summaries] == [("Completed", "Failed")] * 3
    assert described["HyperParameterTuningJobStatus"] == "Failed" and "BestTrainingJob" not in described
    assert described["FailureReason"].startswith(
        "no training job completed with a value of validation:auc (3 completed without one, e.g. nan"
    )


def test_a_tuning_job_name_is_used_once(data: Path, tmp_path: Path) -> None:
    backend = LocalTrainingBackend(tmp_path / "jobs")
    request = tuning_request(data, tmp_path, "once", {**LOGLOSS, "max_trials": 1, "ranges": {"eta": [0.1, 0.3]}})
    backend.create_hyper_parameter_tuning_job(request)
    record = tmp_path / "jobs" / "once.tuning.json"
    before = record.read_bytes()
    with pytest.raises(TrainingJobExistsError, match="'once' already exists"):
        backend.create_hyper_parameter_tuning_job({**request, "Tags": []})
    assert record.read_bytes() == before
    done = backend.run_hyper_parameter_tuning_job("once")
    with pytest.raises(TrainingJobExistsError):
        backend.create_hyper_parameter_tuning_job(request)
    assert backend.run_hyper_parameter_tuning_job("once") == done  # a finished search is described, not run again
    assert len(backend.list_training_jobs_for_hyper_parameter_tuning_job("once")) == 2
    with pytest.raises(TrainingJobNotFoundError):
        backend.describe_hyper_parameter_tuning_job("never")
    with pytest.raises(ValueError, match="HyperParameterTuningJobName"):
        backend.create_hyper_parameter_tuning_job({**request, "HyperParameterTuningJobName": "x" * 33})


# ----- parallel trials, crashes -------------------------------------------------------------------------------


def test_trials_run_in_parallel_and_a_grid_gives_the_same_trials(data: Path, tmp_path: Path) -> None:
    static = {k: v for k, v in STATIC.items() if k != "nthread"}  # the search sets XGBoost's threads
    section = {**LOGLOSS, "strategy": "Grid", "ranges": {"eta": [0.1, 0.4], "max_depth": [2, 4]}}
    parallel_backend, parallel, parallel_trials = search(
        data, tmp_path / "two", "grid", {**section, "max_parallel_trials": 2}, static
    )
    _, _, sequential_trials = search(data, tmp_path / "one", "grid", section, static)
    assert parallel["TrainingJobStatusCounters"]["Completed"] == 5
    assert [(s["TrainingJobName"], s["TunedHyperParameters"]) for s in parallel_trials] == [
        (s["TrainingJobName"], s["TunedHyperParameters"]) for s in sequential_trials
    ]
    assert [value(s) for s in parallel_trials] == pytest.approx([value(s) for s in sequential_trials], rel=1e-6)
    for summary in parallel_trials:
        job = parallel_backend.describe_training_job(summary["TrainingJobName"])
        assert "nthread" not in job["HyperParameters"]
        log = Path(job["LogFile"]).read_text()
        assert log.startswith(f"training {summary['TrainingJobName']}:") and log.count("\n[") == 10  # its own rounds


def _child(jobs: Path, name: str, kill_in: str) -> subprocess.CompletedProcess[str]:
    """Run the search in a process that kills itself (SIGKILL) at the third round of the trial ``kill_in``."""
    script = f"""
import os, signal
from pathlib import Path
from model_training.training.local import LocalTrainingBackend

run = LocalTrainingBackend.run_training_job

def killing(self, name, *, watch=None, nthread=None):
    def kill_at(epoch, history):
        if "{kill_in}" in name and epoch == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return watch(epoch, history) if watch else False
    return run(self, name, watch=kill_at, nthread=nthread)

LocalTrainingBackend.run_training_job = killing
LocalTrainingBackend(Path({str(jobs)!r})).run_hyper_parameter_tuning_job({name!r}, {{"eta": "0.3"}})
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), str(ROOT)])}
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_a_search_killed_mid_trial_is_not_completed_and_a_rerun_finishes_it(data: Path, tmp_path: Path) -> None:
    backend = LocalTrainingBackend(tmp_path / "jobs")
    section = {**LOGLOSS, "strategy": "Random", "max_trials": 3, "ranges": {"eta": {"min": 0.1, "max": 0.5}}}
    request = tuning_request(data, tmp_path, "killed", section)
    backend.create_hyper_parameter_tuning_job(request)
    killed = _child(tmp_path / "jobs", "killed", "-002-")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    left = backend.describe_hyper_parameter_tuning_job("killed")
    assert left["HyperParameterTuningJobStatus"] == "InProgress"
    assert left["TrainingJobStatusCounters"] == {
        "Completed": 2,
        "InProgress": 1,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    with pytest.raises(TrainingJobExistsError):  # the caller then describes it
        backend.create_hyper_parameter_tuning_job(request)
    before = {s["TrainingJobName"]: s for s in backend.list_training_jobs_for_hyper_parameter_tuning_job("killed")}

    done = backend.run_hyper_parameter_tuning_job("killed")  # the owner is dead: resumed
    summaries = backend.list_training_jobs_for_hyper_parameter_tuning_job("killed")
    assert done["HyperParameterTuningJobStatus"] == "Completed"
    assert [int(s["TrainingJobName"].split("-")[1]) for s in summaries] == [0, 1, 2, 3]
    assert all(s["TrainingJobStatus"] == "Completed" for s in summaries)
    for summary in summaries:  # finished trials kept as they were; the one killed trained again under its name
        if before.get(summary["TrainingJobName"], {}).get("TrainingJobStatus") == "Completed":
            assert summary == before[summary["TrainingJobName"]]
    assert {s["TrainingJobName"] for s in summaries} >= set(before)
    assert rounds_trained(backend, next(n for n in before if "-002-" in n)) == 10
    assert "Owner" not in json.loads((tmp_path / "jobs" / "killed.tuning.json").read_text())


@pytest.mark.parametrize("strategy", ["Random", "Bayesian"])
def test_a_resumed_search_does_not_draw_its_first_trials_values_again(data: Path, tmp_path: Path, strategy: str) -> None:
    """Killed in trial 002 and resumed, the search drew trial 003 from a sampler seeded as the first run's was: its
    first draw, trial 001's values again (Random, and Bayesian's random startup trials), a trial of the budget spent
    on a configuration already trained."""
    backend = LocalTrainingBackend(tmp_path / "jobs")
    ranges = {"eta": {"min": 0.05, "max": 0.5}, "max_depth": {"min": 1, "max": 6}}
    section = {**LOGLOSS, "strategy": strategy, "max_trials": 6, "ranges": ranges}
    backend.create_hyper_parameter_tuning_job(tuning_request(data, tmp_path, "resumed", section))
    killed = _child(tmp_path / "jobs", "resumed", "-002-")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert backend.run_hyper_parameter_tuning_job("resumed")["HyperParameterTuningJobStatus"] == "Completed"
    searched = [s["TunedHyperParameters"] for s in backend.list_training_jobs_for_hyper_parameter_tuning_job("resumed")[1:]]
    assert len(searched) == 6
    assert len({tuple(sorted(values.items())) for values in searched}) == 6, searched


def test_a_search_owned_by_a_live_process_is_not_run_twice(data: Path, tmp_path: Path) -> None:
    backend = LocalTrainingBackend(tmp_path / "jobs")
    backend.create_hyper_parameter_tuning_job(
        tuning_request(data, tmp_path, "busy", {**LOGLOSS, "max_trials": 1, "ranges": {"eta": [0.1]}})
    )
    record_path = tmp_path / "jobs" / "busy.tuning.json"
    from model_training.processes import host_id, process_start

    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = json.loads(record_path.read_text())
        record["Owner"] = {"Host": host_id(), "Pid": owner.pid, "Start": process_start(owner.pid)}
        record_path.write_text(json.dumps(record))
        with pytest.raises(RunBusyError, match=f"process {owner.pid}"):
            backend.run_hyper_parameter_tuning_job("busy")
    finally:
        owner.kill()
        owner.wait()
    assert backend.run_hyper_parameter_tuning_job("busy")["HyperParameterTuningJobStatus"] == "Completed"


def test_a_warm_start_learns_from_its_parents_trials(data: Path, tmp_path: Path) -> None:
    ranges = {"eta": {"min": 0.05, "max": 0.5}}
    backend, parent, _ = search(data, tmp_path, "parent", {**LOGLOSS, "max_trials": 2, "ranges": ranges})
    section = {**LOGLOSS, "max_trials": 2, "ranges": ranges, "warm_start": {"parents": ["parent"]}}
    _, child, summaries = search(data, tmp_path, "child", section)
    assert child["WarmStartConfig"]["ParentHyperParameterTuningJobs"] == [{"HyperParameterTuningJobName": "parent"}]
    assert len(summaries) == 3 and all(s["TrainingJobName"].startswith("child-") for s in summaries)
    # the same search without the parents draws other values: the parents' trials are in the study
    _, _, cold = search(data, tmp_path / "cold", "child", {**section, "warm_start": None})
    assert [s["TunedHyperParameters"] for s in cold[1:]] != [s["TunedHyperParameters"] for s in summaries[1:]]
    with pytest.raises(TrainingJobNotFoundError, match="the warm start's parent, hyperparameter tuning job 'orphan'"):
        request = tuning_request(data, tmp_path, "lost", {**section, "warm_start": {"parents": ["orphan"]}})
        backend.create_hyper_parameter_tuning_job(request)
    assert math.isfinite(value(parent["BestTrainingJob"]))
