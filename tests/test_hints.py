"""The names hints give settings (``errors.SETTINGS``) are those each entry point reads: the command line's
options, the environment variables of the configuration's layer, the manifest's keys."""

from __future__ import annotations

import typer

from model_training.cli import app
from model_training.config.manifest import Manifest, ManifestSplit, ManifestTraining
from model_training.config.resolve import ENV_SETTINGS
from model_training.errors import (
    SETTINGS,
    ConfigurationError,
    Setting,
    command_line,
    every_name,
    lambda_function,
)


def _run_options() -> set[str]:
    command = typer.main.get_command(app)
    run = command.commands["run"]  # type: ignore[attr-defined]
    return {name for param in run.params for name in (*param.opts, *param.secondary_opts)}


def test_every_flag_is_an_option_of_run() -> None:
    flags = {names.flag for names in SETTINGS.values() if names.flag}
    assert flags - _run_options() == set()


def test_every_variable_and_manifest_key_is_read_by_the_configuration() -> None:
    keys = set(Manifest.model_fields) - {"split", "training"}
    keys |= {f"split.{k}" for k in ManifestSplit.model_fields} | {f"training.{k}" for k in ManifestTraining.model_fields}
    for name, names in SETTINGS.items():
        if names.env:
            assert ENV_SETTINGS.get(name) == names.env, name
        if names.key:
            assert names.key in keys, name
    # and every setting the environment or the manifest sets that a hint could name, it names by those names
    assert {name for name in ENV_SETTINGS if name in SETTINGS} == {name for name, n in SETTINGS.items() if n.env}


def test_each_vocabulary_names_the_setting_its_way() -> None:
    drop = Setting("drop", ("y_no", "plan name"))
    assert command_line(drop) == "--drop 'y_no,plan name'"
    assert lambda_function(drop) == 'MODEL_TRAINING_DROP=y_no,plan name or the manifest\'s drop: ["y_no", "plan name"]'
    assert every_name(drop) == f"{command_line(drop)} ({lambda_function(drop)})"
    metric = Setting("hyperparameters", "eval_metric=logloss")
    assert command_line(metric) == "-H eval_metric=logloss"
    assert lambda_function(metric) == (
        'MODEL_TRAINING_HYPERPARAMETERS={"eval_metric": "logloss"} '
        'or the manifest\'s training.hyperparameters.eval_metric: "logloss"'
    )
    none = Setting("drop", ())
    # an empty variable is an unset one, except MODEL_TRAINING_DROP=, which drops no column
    assert command_line(none) == "--drop ''" and lambda_function(none) == "MODEL_TRAINING_DROP= or the manifest's drop: []"
    assert lambda_function(Setting("features", ())) == "the manifest's features: []"
    assert command_line(Setting("tags")) == lambda_function(Setting("tags")) == "the manifest's training.tags"
    assert "--" not in lambda_function(Setting("stream")) and "--" not in lambda_function(Setting("run_date"))


def test_an_error_s_hint_is_rendered_in_the_vocabulary_asked_and_names_every_name_by_default() -> None:
    exc = ConfigurationError("the seed is too large", ("give a smaller ", Setting("seed")))
    assert exc.hint_in(command_line) == "give a smaller --seed"
    assert exc.hint_in(lambda_function) == "give a smaller MODEL_TRAINING_SEED or the manifest's split.seed"
    assert exc.hint == "give a smaller --seed (MODEL_TRAINING_SEED or the manifest's split.seed)"
    assert str(exc) == f"the seed is too large ({exc.hint})"
