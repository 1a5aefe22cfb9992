"""Issue 13: the bank pipeline's defaults give way to the data, and an explicit setting never does.

``--drop`` defaults to ``y_no`` and ``--label`` to ``y_yes``; ``eval_metric`` defaults to ``auc,logloss``, the
``binary:`` objectives' metrics.  A file without ``y_no`` is split without dropping anything; a file without
``y_yes`` is refused with the columns it has and every way to name the label; another objective gets its own
metric.  The same values given by a setting (environment, SSM, manifest, command line) are kept as given.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from model_training.algorithm.default_metrics import DEFAULT_EVAL_METRICS
from model_training.algorithm.hyperparameters import canonical_hyperparameters
from model_training.config.manifest import Manifest
from model_training.config.manifest_files import ManifestSource
from model_training.config.resolve import env_settings, resolve
from model_training.config.run import DEFAULT_HYPERPARAMETERS, StreamOptions, build_config
from model_training.errors import DatasetError, HyperparameterError
from model_training.output.layout import OutputLayout
from model_training.output.runrecord import compute_run_id
from model_training.pipeline import run
from model_training.ports import SourceInfo
from model_training.wiring import local_context, run_local
from tests.fixtures import write_csv

DAY = dt.date(2026, 5, 4)


def written(out: Path) -> list[Path]:
    """The files under ``out`` (a refused run leaves none; the streaming split may leave empty folders)."""
    return [p for p in out.rglob("*") if p.is_file()]


def no_y_no(tmp_path: Path, rows: int = 60) -> Path:
    """A binary CSV with the default label ``y_yes`` but without ``y_no``."""
    lines = ["a,b,y_yes"] + [f"{i % 5},{i * 3 % 7},{int(i % 5 > 2)}" for i in range(rows)]
    return write_csv(tmp_path / "data.csv", "\n".join(lines) + "\n")


def with_y_no(tmp_path: Path, rows: int = 60) -> Path:
    lines = ["a,y_no,b,y_yes"] + [f"{i % 5},{1 - int(i % 5 > 2)},{i * 3 % 7},{int(i % 5 > 2)}" for i in range(rows)]
    return write_csv(tmp_path / "data.csv", "\n".join(lines) + "\n")


def manifest(document: dict[str, Any]) -> ManifestSource:
    return ManifestSource(manifest=Manifest.model_validate(document), uri="file:///m/manifest.json", sha256="0" * 64)


def split(src: Path, out: Path, **layers: Any):
    config = resolve(run_date=DAY, **layers).config
    return run_local(src, config, OutputLayout(out), train=False)


def train_columns(out: Path, record) -> int:
    line = (out / record.prefix / "train/part-00000").read_text().splitlines()[0]
    return line.count(",") + 1


# ----- 1. --drop defaults to y_no: absent, not an error; given, an error from every layer ----------------------


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_a_default_drop_column_the_file_lacks_is_not_an_error(tmp_path: Path, stream: bool) -> None:
    src = no_y_no(tmp_path)
    config = resolve(run_date=DAY).config
    assert config.drop == ("y_no",) and "drop" not in config.given
    options = StreamOptions(above_bytes=0 if stream else None, chunk_bytes=200)
    result = run(local_context(src, config, OutputLayout(tmp_path / "out"), train=False, stream=options))
    assert train_columns(tmp_path / "out", result.record) == 3  # y_yes, a, b
    assert result.record.inferred == {"drop": []}  # what was left out, beside the configuration's ["y_no"]
    assert result.record.config["drop"] == ["y_no"]


def test_a_default_drop_column_the_file_has_is_dropped_and_nothing_is_inferred(tmp_path: Path) -> None:
    result = split(with_y_no(tmp_path), tmp_path / "out")
    assert train_columns(tmp_path / "out", result.record) == 3  # y_yes, a, b: y_no left out
    assert result.record.inferred is None


@pytest.mark.parametrize(
    "layers",
    [
        {"env": env_settings({"MODEL_TRAINING_DROP": "y_no"})},
        {"ssm": {"drop": ("y_no",)}},
        {"manifest": manifest({"drop": ["y_no"]})},
        {"cli": {"drop": ("y_no",)}},
    ],
    ids=["environment", "ssm", "manifest", "command line"],
)
def test_a_given_drop_column_the_file_lacks_is_an_error_from_every_layer(tmp_path: Path, layers: dict[str, Any]) -> None:
    with pytest.raises(DatasetError) as caught:
        split(no_y_no(tmp_path), tmp_path / "out", **layers)
    assert "the drop column 'y_no' is not in the header" in caught.value.message
    assert not written(tmp_path / "out")


def test_an_empty_drop_variable_means_no_drop_column(tmp_path: Path) -> None:
    # it was ignored (an empty variable counted as unset), so y_no was dropped all the same
    env = env_settings({"MODEL_TRAINING_DROP": ""})
    assert env == {"drop": ()}
    result = split(with_y_no(tmp_path), tmp_path / "out", env=env)
    assert train_columns(tmp_path / "out", result.record) == 4  # y_yes, a, y_no, b
    assert result.record.config["drop"] == [] and result.record.inferred is None
    assert env_settings({"MODEL_TRAINING_LABEL": ""}) == {}  # other empty variables stay unset


def test_a_given_label_that_is_the_default_drop_column_is_kept() -> None:
    # it was refused: "the label column 'y_no' is also a drop column"
    config = build_config(run_date=DAY, label="y_no")
    assert config.label == "y_no" and config.drop == ("y_yes",)  # its complement, left out by default instead
    with pytest.raises(Exception, match="also a drop column"):
        build_config(run_date=DAY, label="y_no", drop=("y_no",))


# y_no and y_yes are complements: the label y_no leaves y_yes out by default (a decision of issue 13's breaking)
def test_the_label_y_no_does_not_train_on_its_complement_y_yes(tmp_path: Path) -> None:
    result = split(with_y_no(tmp_path), tmp_path / "out", cli={"label": "y_no"})
    assert train_columns(tmp_path / "out", result.record) == 3  # y_no, a, b


# ----- 2. --label defaults to y_yes: a file without it names its columns and every way to set the label -------


def test_a_missing_default_label_lists_the_columns_and_the_three_ways_to_name_it(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "wine.csv", "alcohol,ash,target\n" + "".join(f"{i}.5,{i % 3},{i % 2}\n" for i in range(30)))
    with pytest.raises(DatasetError) as caught:
        split(src, tmp_path / "out")
    error = caught.value
    assert error.message.endswith("no label column was named, and the default label column 'y_yes' is not in the header")
    assert "the columns are: alcohol, ash, target" in error.hint
    assert "--label target" in error.hint  # the flag, with the likely column
    assert "MODEL_TRAINING_LABEL=target" in error.hint  # the environment variable
    assert 'the manifest\'s label: "target"' in error.hint  # the manifest's key, its value as JSON
    assert not written(tmp_path / "out")


def test_a_missing_default_label_and_text_columns_are_reported_together(tmp_path: Path) -> None:
    rows = [f"{i},{i % 2},Name {i},{('male', 'female')[i % 2]},{i}.5" for i in range(40)]
    lines = ["PassengerId,Survived,Name,Sex,Fare", *rows]
    src = write_csv(tmp_path / "titanic.csv", "\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as caught:
        split(src, tmp_path / "out")
    assert "'y_yes' is not in the header" in caught.value.message
    assert "feature 'Name' on line 2" in caught.value.message and "feature 'Sex' on line 2" in caught.value.message


def test_a_given_label_the_file_lacks_keeps_its_own_message(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as caught:
        split(no_y_no(tmp_path), tmp_path / "out", env=env_settings({"MODEL_TRAINING_LABEL": "y_yes_"}))
    assert "the label column 'y_yes_' is not in the header" in caught.value.message
    assert "did you mean 'y_yes'" in caught.value.hint


# ----- 3. the default eval_metric follows the objective -----------------------------------------------------


@pytest.mark.parametrize(("objective", "metric"), sorted(DEFAULT_EVAL_METRICS.items()))
def test_the_default_metric_follows_the_objective(objective: str, metric: str | None) -> None:
    # before: every objective but binary: was refused ("'auc' needs a binary: or rank: objective")
    for hyperparameters in (
        resolve(run_date=DAY, cli={"hyperparameters": {"objective": objective}}).config.training.hyperparameters,
        build_config(run_date=DAY, hyperparameters={"objective": objective}).training.hyperparameters,
    ):
        assert hyperparameters.get("eval_metric") == metric
        assert canonical_hyperparameters(hyperparameters, infer_num_class=True) == hyperparameters  # our rules accept it


def test_the_default_binary_run_keeps_its_hyperparameters_and_run_id() -> None:
    source = SourceInfo(uri="file:///data/bank.csv", name="bank", size_bytes=10, sha256="ab" * 32)
    default = resolve(run_date=dt.date(2026, 3, 1)).config
    assert list(default.training.hyperparameters.items()) == list(DEFAULT_HYPERPARAMETERS.items())
    assert compute_run_id(source, default) == "6800148febececa1"
    given = resolve(run_date=dt.date(2026, 3, 1), cli={"hyperparameters": {"objective": "binary:logistic"}}).config
    assert compute_run_id(source, given) == "6800148febececa1"


def test_the_objectives_metric_is_shown_as_the_objective_s_default(tmp_path: Path) -> None:
    """Its origin was "default", as if it were the default objective's auc,logloss."""
    resolution = resolve(run_date=DAY, manifest=manifest({"training": {"hyperparameters": {"objective": "reg:gamma"}}}))
    assert resolution.config.training.hyperparameters["eval_metric"] == "gamma-nloglik"
    assert resolution.origins["training.hyperparameters.eval_metric"] == "default for reg:gamma"
    assert resolution.origins["training.hyperparameters.objective"].startswith("manifest")
    assert resolve(run_date=DAY).origins["training.hyperparameters.eval_metric"] == "default"  # the default objective's


def shown_settings(output: str) -> dict[str, str]:
    """config show's setting lines (after the manifest and columns lines): name -> value and origin, spaces squeezed."""
    return {line.split()[0]: " ".join(line.split()[1:]) for line in output.splitlines()[2:]}


def test_config_show_shows_what_the_data_will_decide(tmp_path: Path) -> None:
    """config show printed drop ["y_no"] (default) for a file without y_no, where nothing is dropped, and said nothing
    of a multi: objective's num_class, which the labels give."""
    from typer.testing import CliRunner

    from model_training.cli import app

    src = write_csv(tmp_path / "data.csv", "a,b,target\n1,2,0\n")
    res = CliRunner().invoke(app, ["config", "show", str(src), "--label", "target", "-H", "objective=multi:softprob"])
    assert res.exit_code == 0, res.output
    lines = shown_settings(res.stdout)
    assert lines["drop"] == "[] (default y_no, not in the file)"
    assert lines["training.hyperparameters.eval_metric"] == "merror,mlogloss (default for multi:softprob)"
    assert lines["training.hyperparameters.num_class"] == "largest label + 1 (inferred from the labels)"
    shown = json.loads(CliRunner().invoke(app, ["config", "show", str(src), "--label", "target", "--json"]).stdout)
    assert shown["config"]["drop"] == ["y_no"] and shown["inferred"] == {"drop": []}  # as run.json records them
    # given settings are shown as given
    given = ["--label", "target", "--drop", "b", "-H", "objective=multi:softprob", "-H", "num_class=3"]
    res = CliRunner().invoke(app, ["config", "show", str(src), *given])
    lines = shown_settings(res.stdout)
    assert lines["drop"] == '["b"] (command line)'
    assert lines["training.hyperparameters.num_class"] == "3 (command line)"


# ----- 7. an explicit setting is never overridden -------------------------------------------------------------


@pytest.mark.parametrize(
    "layers",
    [
        {"env": env_settings({"MODEL_TRAINING_HYPERPARAMETERS": json.dumps({"eval_metric": "mae"})})},
        {"ssm": {"hyperparameters": {"eval_metric": "mae"}}},
        {"manifest": manifest({"training": {"hyperparameters": {"eval_metric": "mae"}}})},
        {"cli": {"hyperparameters": {"eval_metric": "mae"}}},
    ],
    ids=["environment", "ssm", "manifest", "command line"],
)
def test_a_given_eval_metric_is_kept_under_any_objective(layers: dict[str, Any]) -> None:
    # the objective from the command line, the metric from a lower (or the same) layer
    cli = {"hyperparameters": {**layers.pop("cli", {}).get("hyperparameters", {}), "objective": "reg:squarederror"}}
    config = resolve(run_date=DAY, cli=cli, **layers).config
    assert config.training.hyperparameters["eval_metric"] == "mae"
    given = build_config(run_date=DAY, hyperparameters={"objective": "multi:softmax", "eval_metric": "mlogloss"})
    assert given.training.hyperparameters["eval_metric"] == "mlogloss"


def test_a_given_binary_metric_under_another_objective_is_kept_and_refused() -> None:
    # never replaced by the objective's: the container's rule refuses it, and says why
    with pytest.raises(HyperparameterError, match="'auc' needs a binary: or rank: objective"):
        resolve(run_date=DAY, cli={"hyperparameters": {"objective": "reg:squarederror", "eval_metric": "auc,logloss"}})


def test_given_label_and_drop_equal_to_the_defaults_are_kept_as_given(tmp_path: Path) -> None:
    config = resolve(run_date=DAY, cli={"label": "y_yes", "drop": ("y_no",)}).config
    assert {"label", "drop"} <= config.given
    with pytest.raises(DatasetError, match="the drop column 'y_no' is not in the header"):
        run_local(no_y_no(tmp_path), config, OutputLayout(tmp_path / "out"), train=False)
    # the given and the default configuration are the same run: only where a default gives way do they differ
    source = SourceInfo(uri="file:///d.csv", name="d", size_bytes=1, sha256="ab" * 32)
    assert compute_run_id(source, config) == compute_run_id(source, resolve(run_date=DAY).config)


def test_config_show_names_a_missing_default_label_from_the_header_alone(tmp_path: Path) -> None:
    """config show reads the header alone: for a file without y_yes it said "the file has a header but no data rows"
    (the likely label's values were looked for in rows it never read) instead of the missing label."""
    from typer.testing import CliRunner

    from model_training.cli import app

    src = tmp_path / "flowers.csv"
    src.write_text("sepal,petal,target\n1.0,2.0,0\n1.5,2.5,1\n3,4,2\n")
    res = CliRunner().invoke(app, ["config", "show", str(src)])
    assert res.exit_code == 1
    assert "no label column was named, and the default label column 'y_yes' is not in the header" in res.stderr
    assert "--label target" in res.stderr and "no data rows" not in res.stderr
    nameless = tmp_path / "nameless.csv"
    nameless.write_text("a,b\n1,2\n")
    res = CliRunner().invoke(app, ["config", "show", str(nameless)])
    assert res.exit_code == 1 and "--label NAME" in res.stderr and "no data rows" not in res.stderr
