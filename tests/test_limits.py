"""Ceilings on the training job's costly settings (issue #11, item 6): checked by every entry point
before anything runs, each refusal naming the setting, the value, the ceiling and how to raise it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from model_training.cli import app
from model_training.config.limits import LimitError, Limits, limits_from
from model_training.config.resolve import resolve
from model_training.errors import ConfigurationError

DAY = dt.date(2026, 3, 4)
GREEDY = {"training": {"instance_type": "ml.p5.48xlarge", "instance_count": 100, "max_runtime_seconds": 28 * 86_400}}


def test_the_defaults_allow_the_defaults_and_refuse_a_greedy_request() -> None:
    assert resolve(run_date=DAY).config.training.instance_type == "ml.m5.xlarge"
    with pytest.raises(LimitError) as info:
        resolve(run_date=DAY, cli=dict(GREEDY["training"]))
    settings = [p[0] for p in info.value.problems]
    assert settings == ["training.instance_type", "training.instance_count", "training.max_runtime_seconds"]
    assert "(settings from: command line)" in info.value.message
    assert isinstance(info.value, ConfigurationError) and info.value.exit_code == 1


@pytest.mark.parametrize(
    ("setting", "value", "variable", "ceiling"),
    [
        ("instance_count", 11, "MODEL_TRAINING_LIMIT_INSTANCE_COUNT", 10),
        ("volume_size_gb", 513, "MODEL_TRAINING_LIMIT_VOLUME_SIZE_GB", 512),
        ("max_runtime_seconds", 86_401, "MODEL_TRAINING_LIMIT_RUNTIME_SECONDS", 86_400),
    ],
)
def test_each_ceiling_names_the_setting_value_ceiling_and_variable(
    setting: str, value: int, variable: str, ceiling: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(LimitError) as info:
        resolve(run_date=DAY, cli={setting: value})
    assert f"training.{setting} = {value} is above the ceiling of {ceiling} (to raise it, set {variable})" in info.value.message
    monkeypatch.setenv(variable, str(value))  # raised: accepted
    assert getattr(resolve(run_date=DAY, cli={setting: value}).config.training, setting) == value


def test_the_spot_wait_has_its_own_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    wants = {"use_spot": True, "max_wait_seconds": 3 * 86_400}
    with pytest.raises(LimitError, match=r"training\.max_wait_seconds = 259200 is above the ceiling of 172800"):
        resolve(run_date=DAY, cli=wants)
    monkeypatch.setenv("MODEL_TRAINING_LIMIT_MAX_WAIT_SECONDS", "259200")
    assert resolve(run_date=DAY, cli=wants).config.training.max_wait_seconds == 259_200


def test_instance_types_are_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LimitError, match=r"'ml\.g5\.xlarge' is not an allowed instance type"):
        resolve(run_date=DAY, cli={"instance_type": "ml.g5.xlarge"})
    monkeypatch.setenv("MODEL_TRAINING_ALLOWED_INSTANCE_TYPES", "ml.m5.*, ml.g5.xlarge")
    assert resolve(run_date=DAY, cli={"instance_type": "ml.g5.xlarge"}).config.training.instance_type == "ml.g5.xlarge"
    with pytest.raises(LimitError):  # the default families are replaced, not extended
        resolve(run_date=DAY, cli={"instance_type": "ml.c5.xlarge"})


def test_ssm_over_the_environment_and_bad_ceilings_are_named() -> None:
    env = {"MODEL_TRAINING_LIMIT_INSTANCE_COUNT": "20", "MODEL_TRAINING_LIMIT_VOLUME_SIZE_GB": "100"}
    limits = limits_from(env, json.dumps({"instance_count": 30, "instance_types": ["ml.m5.*"]}), "mlops-x-training-limits")
    assert limits == Limits(instance_types=("ml.m5.*",), instance_count=30, volume_size_gb=100)
    with pytest.raises(ConfigurationError, match="MODEL_TRAINING_LIMIT_INSTANCE_COUNT='lots' cannot be read"):
        limits_from({"MODEL_TRAINING_LIMIT_INSTANCE_COUNT": "lots"})
    with pytest.raises(ConfigurationError, match="MODEL_TRAINING_LIMIT_RUNTIME_SECONDS='0' cannot be read"):
        limits_from({"MODEL_TRAINING_LIMIT_RUNTIME_SECONDS": "0"})
    with pytest.raises(ConfigurationError, match="unknown keys instance_cuont"):
        limits_from({}, '{"instance_cuont": 3}', "mlops-x-training-limits")


def test_manifest_check_and_config_show_refuse_a_manifest_above_the_ceilings(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(GREEDY))
    res = CliRunner().invoke(app, ["manifest", "check", str(manifest)])
    assert res.exit_code == 1, res.output
    assert "training.instance_count = 100 is above the ceiling of 10" in " ".join(res.output.split())
    assert "hint:" in res.output
    data = tmp_path / "d.csv"
    data.write_text("a,y_no,y_yes\n" + "".join(f"{i},{i % 2},{1 - i % 2}\n" for i in range(60)))
    res = CliRunner().invoke(app, ["config", "show", str(data)])
    assert res.exit_code == 1 and "MODEL_TRAINING_ALLOWED_INSTANCE_TYPES" in " ".join(res.output.split()), res.output
    res = CliRunner().invoke(app, ["run", str(data), "-o", str(tmp_path / "out"), "-q", "--no-train"])
    assert res.exit_code == 1, res.output
    assert not (tmp_path / "out").exists()
