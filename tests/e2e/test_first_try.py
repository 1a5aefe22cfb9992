"""Issue 13's "done means": a user's dataset reaches a trained model in one or two commands.  The first command
names no label; its hint names a likely label (a column named like one, else the last column) and, from that
column's values, the objective they fit, so that pasting the hint's flags is the second and last command.  Also a
file pandas read back and wrote again with a new index (``read_csv(f).to_csv(g)``): the earlier index is not a
feature."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model_training.cli import app


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def hint_flags(output: str) -> list[str]:
    """The flags of the hint's command-line names: ``--label NAME`` and ``-H objective=...``."""
    (hint,) = [line for line in output.splitlines() if line.startswith("hint: ")]
    flags: list[str] = []
    for flag, value in re.findall(r"(--label|-H) ([^\s;,()]+)", hint):
        flags += [flag, *shlex.split(value)]
    return flags


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


RNG = np.random.default_rng(5)
HOUSES = [f"{RNG.integers(500, 3000)},{RNG.integers(1, 6)},{RNG.uniform(-20, 30):.2f}" for _ in range(200)]
DIGITS = [f"{RNG.random():.3f},{RNG.random():.3f},{i % 4}" for i in range(200)]
CHURN = [f"{RNG.random():.3f},{RNG.integers(0, 40)},{i % 2}" for i in range(200)]


@pytest.mark.parametrize(
    ("name", "header", "rows", "flags"),
    [
        ("houses", "sqft,bedrooms,price_change", HOUSES, ["--label", "price_change", "-H", "objective=reg:squarederror"]),
        ("digits", "a,b,target", DIGITS, ["--label", "target", "-H", "objective=multi:softprob"]),
        ("churn", "spend,tenure,churned", CHURN, ["--label", "churned"]),  # 0/1: the default objective fits
    ],
    ids=["regression, label last", "classes, label named target", "binary, label last"],
)
def test_the_first_hint_pasted_trains_the_model(
    tmp_path: Path, name: str, header: str, rows: list[str], flags: list[str]
) -> None:
    src, out = write(tmp_path / f"{name}.csv", header, rows), tmp_path / "out"
    first = cli("run", str(src), "-o", str(out), "-q", "-H", "num_round=5")
    assert first.exit_code == 1 and "no label column was named" in first.output, first.output
    assert hint_flags(first.output) == flags
    second = cli("run", str(src), "-o", str(out), "-q", "-H", "num_round=5", *hint_flags(first.output))
    assert second.exit_code == 0, second.output
    assert "(Completed, local)" in second.output


def test_a_label_that_is_a_quantity_gets_the_regression_objective_in_its_hint(tmp_path: Path) -> None:
    src = write(tmp_path / "houses.csv", "sqft,bedrooms,price_change", HOUSES)
    res = cli("run", str(src), "--label", "price_change", "-o", str(tmp_path / "out"), "-q", "--no-train")
    assert res.exit_code == 1
    assert "hint: the labels look like a quantity: choose -H objective=reg:squarederror" in res.output


@pytest.mark.parametrize("stream", ["--in-memory", "--stream"])
def test_an_earlier_index_after_the_index_is_not_a_feature(tmp_path: Path, stream: str) -> None:
    rows = [f"{i},{i + 7},{i % 5}.5,{i % 2}" for i in range(60)]
    src = write(tmp_path / "again.csv", ",Unnamed: 0,a,y", rows)  # read_csv(f).to_csv(g) of a to_csv(f) file
    out = tmp_path / "out"
    res = cli("run", str(src), "--label", "y", "-o", str(out), "--no-train", stream)
    assert res.exit_code == 0, res.output
    assert "'Unnamed: 0' is an earlier index" in res.output.replace("\n", " ")
    (run,) = out.glob("automl/*/training/again/*")
    train = (run / "train" / "part-00000").read_text().splitlines()
    assert all(len(line.split(",")) == 2 for line in train)  # the label and a: neither index
    test = (run / "test" / "part-00000").read_text().splitlines()
    assert test[0] == ",Unnamed: 0,a,y"  # the test file keeps the source's columns, its index first
    record = json.loads((run / "run.json").read_text())
    assert record["splits"]["train"]["rows"] == 42


def test_the_guessed_label_is_never_a_column_of_text(tmp_path: Path) -> None:
    # before: the last column was guessed whatever it held: Titanic's order (..., Fare, Embarked) gave
    # "--label Embarked", whose pasting failed on "label 'Embarked' on line 2 is not a number: 'C'"
    rows = [f"{spend},{i % 2},{'SCQ'[i % 3]}" for i, spend in enumerate(RNG.uniform(0, 100, 200).round(2))]
    src, out = write(tmp_path / "churn.csv", "spend,churned,port", rows), tmp_path / "out"
    first = cli("run", str(src), "-o", str(out), "-q", "-H", "num_round=5")
    assert first.exit_code == 1 and "no label column was named" in first.output, first.output
    assert hint_flags(first.output) == ["--label", "churned"]  # the last column of numbers
    second = cli("run", str(src), "-o", str(out), "-q", "-H", "num_round=5", "--label", "churned")
    assert "label 'churned'" not in second.output and "--drop port" in second.output  # the text column is next
    texts = write(tmp_path / "texts.csv", "name,city", [f"n{i},c{i}" for i in range(20)])
    res = cli("run", str(texts), "-o", str(out), "-q")
    assert "--label NAME" in res.output  # no column of numbers to guess
