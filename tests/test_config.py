from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from model_training.config.run import DEFAULT_HYPERPARAMETERS, build_config
from model_training.config.split import parse_fractions
from model_training.errors import ConfigurationError


def test_defaults_are_the_originals() -> None:
    cfg = build_config(run_date=dt.date(2026, 1, 2))
    assert cfg.label == "y_yes"
    assert cfg.drop == ("y_no",)
    assert cfg.split.seed == 1729
    assert cfg.split.fractions == (Decimal("0.7"), Decimal("0.2"), Decimal("0.1"))
    assert "silent" not in cfg.training.hyperparameters
    assert cfg.training.hyperparameters["num_round"] == "100"
    assert cfg.prefix("bank") == "automl/2026-01-02/training/bank"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.7,0.2,0.1", ("0.7", "0.2", "0.1")), (" 0.8 , 0.2 , 0 ", ("0.8", "0.2", "0")), ("1,0,0", ("1", "0", "0"))],
)
def test_parse_fractions(text: str, expected: tuple[str, ...]) -> None:
    assert parse_fractions(text) == tuple(Decimal(e) for e in expected)


@pytest.mark.parametrize("text", ["0.7,0.3", "a,b,c", "0.5,0.5,0,0", ""])
def test_parse_fractions_rejects(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_fractions(text)


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        (("0.7", "0.2", "0.2"), "sum to 1"),
        (("0.7", "0.4", "-0.1"), "non-negative"),
        (("0", "0.5", "0.5"), "train fraction"),
        (("NaN", "0", "0"), "finite number"),
    ],
)
def test_invalid_fractions_are_refused_with_the_reason(fractions: tuple[str, ...], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_config(fractions=tuple(Decimal(f) for f in fractions))


def test_equal_fractions_written_differently_are_the_same_setting() -> None:
    a = build_config(fractions=(Decimal("0.70"), Decimal("0.20"), Decimal("0.10")), run_date=dt.date(2026, 1, 1))
    b = build_config(fractions=(Decimal("0.7"), Decimal("0.2"), Decimal("0.1")), run_date=dt.date(2026, 1, 1))
    assert a == b


def test_label_cannot_be_dropped() -> None:
    with pytest.raises(ConfigurationError, match="also a drop column"):
        build_config(label="y", drop=("y",))


def test_unknown_prefix_placeholder() -> None:
    with pytest.raises(ConfigurationError, match="unknown placeholders"):
        build_config(prefix_template="automl/{day}/{dataset}")


def test_seed_range() -> None:
    with pytest.raises(ConfigurationError, match="seed"):
        build_config(seed=-1)
    with pytest.raises(ConfigurationError, match="seed"):
        build_config(seed=2**32)


def test_hyperparameters_merge_over_the_defaults() -> None:
    cfg = build_config(hyperparameters={"num_round": "7"})
    assert cfg.training.hyperparameters == {**DEFAULT_HYPERPARAMETERS, "num_round": "7"}
