"""``jobs list`` and ``jobs describe`` of a local search: its training jobs counted as the run's summary counts them,
listed under their tuning job with ``--trials`` (not among the training jobs), a trial described as one, and no job
name broken over two lines in a pipe at 80 columns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import model_training
from model_training.cli import app
from model_training.output.runrecord import RunRecord
from tests.fixtures import write_csv

#: A Grid of two trials (and the untuned trial 000), 4 rounds each.
MANIFEST = {
    "label": "label",
    "training": {"hyperparameters": {"num_round": 4}},
    "tuning": {"objective_metric": "validation:logloss", "strategy": "Grid", "ranges": {"max_depth": [2, 3]}},
}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunRecord, Any]:
    """A search of a dataset with a long name, and a training job of another dataset, in one output folder: the
    output folder, the search's run record and the search's ``run`` output."""
    tmp_path = tmp_path_factory.mktemp("jobs")
    lines = ["f1,f2,label"] + [f"{i % 7}.5,{(i * 37) % 11},{int((i % 7) + (i * 37) % 11 > 8)}" for i in range(200)]
    data = write_csv(tmp_path / "customer-churn-scores.csv", "\n".join(lines) + "\n")
    (tmp_path / "customer-churn-scores.manifest.json").write_text(json.dumps(MANIFEST))
    out = tmp_path / "out"
    res = invoke("run", str(data), "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    other = write_csv(tmp_path / "single.csv", "\n".join(lines) + "\n")
    assert invoke("run", str(other), "--label", "label", "-H", "num_round=2", "-o", str(out), "-q").exit_code == 0
    (path,) = out.glob("automl/*/training/customer-churn-scores/*/run.json")
    return out, RunRecord.model_validate_json(path.read_bytes()), res


def test_the_jobs_of_a_search_are_counted_alike_and_listed_under_it(searched: tuple[Path, RunRecord, Any]) -> None:
    """jobs list said 3/3 of a search the summary called '2 trials searched', and listed its trials among the
    training jobs with nothing to tie them to it."""
    out, record, ran = searched
    assert record.tuning is not None
    tuning, trials = record.tuning.job_name, [t.job_name for t in record.tuning.trials]
    summary = " ".join(ran.output.split())
    counted = "3 training jobs, 3 completed: the untuned trial 000 and 2 searched"
    assert f"tuning job: {tuning} (Completed, local; Grid, {counted})" in summary
    listed = invoke("jobs", "list", "-o", str(out))
    assert listed.exit_code == 0, listed.output
    assert "3/3" in listed.output
    assert "jobs: its training jobs, completed/all (a local search's untuned trial 000 included)" in listed.output
    assert not any(trial in listed.output for trial in trials)
    assert "their 3 training jobs are not listed: --trials lists them" in listed.output
    assert "single-" in listed.output  # the training job of a run without a search
    with_trials = invoke("jobs", "list", "-o", str(out), "--trials")
    assert with_trials.exit_code == 0, with_trials.output
    under = with_trials.output.split(f"trials of tuning job {tuning}")
    assert len(under) == 2 and not any(trial in under[0] for trial in trials), with_trials.output
    assert sorted(trials, key=under[1].index) == trials and trials[0].split("-")[-2] == "000"  # in trial order


def test_a_trial_is_described_as_one_of_its_search(searched: tuple[Path, RunRecord, Any]) -> None:
    """jobs describe of a trial ended 'recorded  no training job recorded yet' although the run was complete."""
    out, record, _ = searched
    assert record.tuning is not None and record.tuning.best_training_job is not None
    best, tuning = record.tuning.best_training_job, record.tuning.job_name
    other = next(t.job_name for t in record.tuning.trials if t.job_name != best)
    see = f"see: model-training jobs describe {tuning} -o {out}"
    for name, verdict in ((best, "the best"), (other, f"not the best: {best} is")):
        described = invoke("jobs", "describe", name, "-o", str(out))
        assert described.exit_code == 0, described.output
        lines = dict(line.split(None, 1) for line in described.output.splitlines() if line.startswith("recorded "))
        assert lines["recorded"].strip() == f"a trial of tuning job {tuning} ({verdict}); {see}", described.output
        assert "no training job recorded yet" not in described.output


def test_jobs_list_in_a_pipe_never_breaks_a_job_name(searched: tuple[Path, RunRecord, Any]) -> None:
    """At 80 columns (a pipe) jobs list folded long names over two lines, so that they could not be copied."""
    out, record, _ = searched
    assert record.tuning is not None
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(model_training.__file__).parents[1]), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "model_training.cli", "jobs", "list", "-o", str(out), "--trials"]
    listing = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout  # a pipe: 80 columns
    names = [record.tuning.job_name, *(t.job_name for t in record.tuning.trials)]
    names += [p.stem for p in (out / "training-jobs").glob("single-*.json")]
    assert len(names) == 5
    for name in names:
        assert any(name in line.split("│")[1:2][0] for line in listing.splitlines() if line.startswith("│")), (name, listing)
    assert max(len(line) for line in listing.splitlines() if line.startswith("│")) <= 80
