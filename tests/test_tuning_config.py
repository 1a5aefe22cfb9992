"""The ``tuning`` setting through every layer (manifest, environment, SSM on moto's server, the command line's
``--tuning`` and ``--max-trials``), with its provenance in ``config show``; static or tuned: the stage's defaults
give way to a range, a value a layer set is an error naming both layers; every problem at once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from model_training import aws
from model_training.cli import app
from model_training.config.resolve import env_settings, resolve
from model_training.config.run import build_config
from model_training.config.settings import settings_from_env, ssm_layer
from model_training.errors import ConfigurationError, HyperparameterError
from model_training.offline import Pipeline
from tests.fixtures import write_csv

runner = CliRunner()
DAY = dt.date(2026, 3, 4)
SEARCH: dict[str, Any] = {
    "objective_metric": "validation:auc",
    "max_trials": 6,
    "ranges": {"eta": {"min": 0.05, "max": 0.5, "scaling": "Logarithmic"}, "max_depth": [3, 5, 7]},
}


def source(tmp_path: Path, manifest: dict[str, Any] | None = None) -> Path:
    """A small CSV (label ``y``), and a ``manifest.json`` beside it when given."""
    lines = ["a,b,y"] + [f"{i % 5},{i * 3 % 7},{i % 2}" for i in range(40)]
    if manifest is not None:
        (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return write_csv(tmp_path / "data.csv", "\n".join(lines) + "\n")


def shown(tmp_path: Path, *args: str) -> dict[str, Any]:
    """``config show --json`` of the CSV in ``tmp_path``."""
    res = runner.invoke(app, ["config", "show", str(tmp_path / "data.csv"), "--label", "y", "--json", *args])
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.stdout))


def test_the_manifests_search_is_the_runs_in_canonical_form(tmp_path: Path) -> None:
    source(tmp_path, {"tuning": SEARCH})
    document = shown(tmp_path)
    tuning = document["config"]["tuning"]
    assert tuning["objective_metric"] == "validation:auc" and tuning["strategy"] == "Bayesian"
    assert tuning["ranges"] == {
        "eta": {"min": "0.05", "max": "0.5", "scaling": "Logarithmic"},
        "max_depth": {"values": ["3", "5", "7"]},
    }
    manifest = f"manifest {(tmp_path / 'manifest.json').resolve().as_uri()}"
    assert document["origins"]["tuning.ranges.eta.min"] == manifest
    # the stage's defaults of the tuned names give way to the ranges and stay as the untuned configuration's values
    assert document["config"]["training"]["hyperparameters"]["eta"] == "0.2"
    assert document["origins"]["training.hyperparameters.eta"] == "default, tuned: the untuned trial's value"
    assert document["origins"]["training.hyperparameters.gamma"] == "default"


def test_what_a_search_leaves_out_is_shown_as_the_default(tmp_path: Path) -> None:
    """``config show`` named the section's layer for every tuning value, the defaults it fills in too: a manifest
    without max_parallel_trials, early_stopping, a range's scaling or a seed was shown as having set them."""
    source(tmp_path, {"tuning": SEARCH})
    origins = shown(tmp_path)["origins"]
    manifest = f"manifest {(tmp_path / 'manifest.json').resolve().as_uri()}"
    for given in ("objective_metric", "max_trials", "ranges.eta.scaling", "ranges.max_depth.values"):
        assert origins[f"tuning.{given}"] == manifest, given
    for left_out in ("strategy", "max_parallel_trials", "early_stopping", "warm_start", "seed"):
        assert origins[f"tuning.{left_out}"] == "default", left_out
    grid = {"objective_metric": "validation:auc", "strategy": "Grid", "ranges": {"max_depth": {"values": [2, 3]}}}
    origins = shown(tmp_path, "--tuning", json.dumps(grid))["origins"]
    assert (origins["tuning.max_trials"], origins["tuning.ranges.max_depth.values"]) == ("default", "command line")


def test_the_command_line_replaces_the_manifests_search_and_sets_max_trials(tmp_path: Path) -> None:
    source(tmp_path, {"tuning": SEARCH})
    search = {"objective_metric": "validation:logloss", "strategy": "Random", "max_trials": 8, "ranges": {"subsample": [0.5, 1]}}
    (tmp_path / "search.json").write_text(json.dumps(search))
    document = shown(tmp_path, "--tuning", str(tmp_path / "search.json"), "--max-trials", "3")
    tuning = document["config"]["tuning"]
    assert (tuning["strategy"], tuning["max_trials"], list(tuning["ranges"])) == ("Random", 3, ["subsample"])
    assert document["origins"]["tuning.strategy"] == "command line"
    assert document["origins"]["tuning.max_trials"] == "command line"
    # --max-trials alone changes the manifest's search, which stays the manifest's otherwise
    document = shown(tmp_path, "--max-trials", "2")
    assert document["config"]["tuning"]["max_trials"] == 2 and document["config"]["tuning"]["ranges"]["max_depth"]
    assert document["origins"]["tuning.max_trials"] == "command line"
    assert document["origins"]["tuning.objective_metric"].startswith("manifest ")
    # the section as JSON text, and a whole manifest given to --tuning
    assert shown(tmp_path, "--tuning", json.dumps(search))["config"]["tuning"]["strategy"] == "Random"
    (tmp_path / "other.json").write_text(json.dumps({"label": "y", "tuning": search}))
    assert shown(tmp_path, "--tuning", str(tmp_path / "other.json"))["config"]["tuning"]["strategy"] == "Random"


def test_a_hyperparameter_both_set_and_tuned_names_both_layers_with_every_other_problem(tmp_path: Path) -> None:
    bad = {**SEARCH, "ranges": {**SEARCH["ranges"], "gamma": {"min": 1, "max": 9}, "subsample": {"min": 0.5, "max": 2}}}
    source(tmp_path, {"tuning": bad, "training": {"hyperparameters": {"gamma": 3}}})
    res = runner.invoke(app, ["config", "show", str(tmp_path / "data.csv"), "--label", "y", "-H", "max_depth=4"])
    assert res.exit_code == 1
    manifest = f"manifest {(tmp_path / 'manifest.json').resolve().as_uri()}"
    text = " ".join(res.output.split())
    assert (
        f"hyperparameters.max_depth = '4' (command line) is also tuned by tuning.ranges.max_depth ({manifest}): a "
        "hyperparameter is either static or tuned, remove one" in text
    )
    assert f"hyperparameters.gamma = '3' ({manifest}) is also tuned by tuning.ranges.gamma ({manifest})" in text
    assert f"tuning.ranges.subsample.max ({manifest}, line 1): 2 is not in" in text  # at the same time
    assert "Traceback" not in res.output


def test_the_environment_gives_a_search_as_json() -> None:
    flat = env_settings({"MODEL_TRAINING_TUNING": json.dumps(SEARCH)})
    config = resolve(run_date=DAY, env=flat).config
    assert config.tuning is not None and config.tuning.max_trials == 6
    with pytest.raises(ConfigurationError, match=r"MODEL_TRAINING_TUNING='\[1\]' cannot be read \(a JSON object is needed\)"):
        env_settings({"MODEL_TRAINING_TUNING": "[1]"})


def test_max_trials_without_a_search_is_an_error(tmp_path: Path) -> None:
    source(tmp_path)
    res = runner.invoke(app, ["config", "show", str(tmp_path / "data.csv"), "--label", "y", "--max-trials", "4"])
    assert res.exit_code == 1
    assert "--max-trials sets the tuning section's max_trials, and no tuning section is given" in res.output


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("[1, 2]", "the tuning section must be a JSON object"),
        ("{nope", "the tuning section is not JSON"),
        ("missing.json", "cannot read the file"),
    ],
)
def test_a_tuning_option_that_cannot_be_read_names_it(tmp_path: Path, value: str, said: str) -> None:
    source(tmp_path)
    res = runner.invoke(app, ["config", "show", str(tmp_path / "data.csv"), "--label", "y", "--tuning", value])
    assert res.exit_code == 1 and "--tuning" in res.output and said in res.output, res.output


def test_a_direct_configuration_treats_the_given_hyperparameters_as_set() -> None:
    assert build_config(run_date=DAY, tuning=SEARCH).tuning is not None
    with pytest.raises(HyperparameterError, match=r"hyperparameters.eta = '0.1' \(given\) is also tuned by tuning.ranges.eta"):
        build_config(run_date=DAY, tuning=SEARCH, hyperparameters={"eta": "0.1"})


def test_no_search_leaves_the_configuration_and_its_run_id_as_before() -> None:
    assert "tuning" not in build_config(run_date=DAY).model_dump(mode="json")


def test_the_ssm_settings_parameter_gives_a_search(pipeline: Pipeline) -> None:
    aws.client("ssm").put_parameter(
        Name="mlops-eu-west-2-dev-training-settings", Value=json.dumps({"tuning": SEARCH}), Type="SecureString"
    )
    layer, _ = ssm_layer(settings_from_env())
    config = resolve(run_date=DAY, ssm=layer).config
    assert config.tuning is not None and sorted(config.tuning.ranges) == ["eta", "max_depth"]


def test_manifest_check_checks_the_search(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"tuning": SEARCH}))
    bad.write_text(json.dumps({"tuning": {**SEARCH, "objective_metric": "validation:mlogloss", "strategy": "Sideways"}}))
    assert runner.invoke(app, ["manifest", "check", str(good)]).exit_code == 0
    res = runner.invoke(app, ["manifest", "check", str(bad)])
    assert res.exit_code == 1
    text = " ".join(res.output.split())
    assert "tuning.strategy" in text and "tuning.objective_metric" in text  # both at once
    schema = json.loads(runner.invoke(app, ["manifest", "schema"]).stdout)
    assert "tuning" in schema["properties"]


def test_a_searchs_problems_come_with_the_other_settings_problems(tmp_path: Path) -> None:
    source(tmp_path, {"tuning": {**SEARCH, "ranges": {"eta": {"min": 0.5, "max": 2}}}, "split": {"seed": -1}})
    res = runner.invoke(app, ["config", "show", str(tmp_path / "data.csv"), "--label", "y", "--fractions", "0.5,0.2,0.2"])
    assert res.exit_code == 1
    text = " ".join(res.output.split())
    assert "tuning.ranges.eta.max (manifest file:" in text and "2 is not in" in text, text
    assert "seed" in text and "sum to 1" in text, text
    assert "training.hyperparameters: tuning" not in text  # a search's problem is named by its own path
    source(tmp_path)
    (tmp_path / "manifest.json").unlink()
    res = runner.invoke(app, ["config", "show", str(tmp_path / "data.csv"), "--label", "y", "--max-trials", "3", "--seed", "-2"])
    text = " ".join(res.output.split())
    assert res.exit_code == 1 and "--max-trials sets the tuning section's max_trials" in text and "seed" in text, text


def test_a_searchs_problem_names_the_layer_of_the_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manifest.json beside the data applies to every CSV in that folder: its search's problem with another dataset
    (an objective metric for 0/1 labels under multi:softprob) names the manifest and the key's line, and
    --no-manifest leaves it out; a section from --tuning, --max-trials or the environment is named so too."""
    source(tmp_path)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"tuning": SEARCH}, indent=2))  # objective_metric on line 3
    other = ["config", "show", str(tmp_path / "data.csv"), "--label", "y", "-H", "objective=multi:softprob"]
    res = runner.invoke(app, other)
    assert res.exit_code == 1
    assert f"error: invalid tuning section: tuning.objective_metric (manifest {manifest.as_uri()}, line 3): " in res.output
    res = runner.invoke(app, [*other, "--no-manifest"])
    assert res.exit_code == 0 and "manifest: (none: --no-manifest)" in res.output, res.output
    res = runner.invoke(app, [*other, "--no-manifest", "--manifest", str(manifest)])
    assert res.exit_code == 1 and "--no-manifest contradict each other" in res.output

    res = runner.invoke(app, [*other, "--no-manifest", "--tuning", json.dumps(SEARCH), "--max-trials", "800"])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert lines[0] == "error: invalid tuning section (2 problems):", res.output  # one line per problem
    assert lines[1].startswith("  tuning.max_trials (--max-trials, command line): 800 is not in")
    assert lines[2].startswith("  tuning.objective_metric (--tuning, command line): the container adds validation:auc")
    monkeypatch.setenv("MODEL_TRAINING_TUNING", json.dumps(SEARCH))
    res = runner.invoke(app, [*other, "--no-manifest"])
    assert res.exit_code == 1 and "tuning.objective_metric (MODEL_TRAINING_TUNING, environment): " in res.output


def test_a_run_with_no_manifest_records_none(tmp_path: Path) -> None:
    source(tmp_path, {"split": {"seed": 5}})
    out = tmp_path / "out"
    args = ["run", str(tmp_path / "data.csv"), "--label", "y", "--no-train", "-o", str(out)]
    res = runner.invoke(app, [*args, "--no-manifest"])
    assert res.exit_code == 0 and "manifest:" not in res.output, res.output
    (path,) = out.glob("automl/*/training/data/*/run.json")
    record = json.loads(path.read_text())
    assert record["manifest"] is None and record["config"]["split"]["seed"] == 1729
    res = runner.invoke(app, args)  # the manifest beside the data applies: another run
    assert res.exit_code == 0 and "manifest: " in res.output, res.output
    found = [json.loads(p.read_text()) for p in out.glob("automl/*/training/data/*/run.json") if p != path]
    assert [r["config"]["split"]["seed"] for r in found] == [5] and found[0]["manifest"]["uri"].endswith("/manifest.json")
