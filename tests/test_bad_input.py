"""Regressions from trying to break the stage with bad input: each of these once gave a wrong line
number, a traceback, an exit code that lied, or a misleading message."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from model_training.cli import app
from model_training.data.checks import check_numeric
from model_training.errors import DatasetError
from tests.fixtures import load_dataset, write_csv

runner = CliRunner()


def run(tmp_path: Path, content: str | bytes, *args: str):
    src = write_csv(tmp_path / "in.csv", content)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(src), "-o", str(out), "-q", "-H", "num_round=3", *args])
    written = sorted(p.name for p in out.rglob("*") if p.is_file()) if out.exists() else []
    return res, written


def rows(n: int, label: str = "y") -> str:
    return f"a,b,{label}\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(n))


# -- line numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "line"),
    [
        # the short row's text "1,2" also occurs earlier as part of longer rows
        ("a,b,c\n1,2,3\n" + "4,5,6\n" * 9 + "1,2\n", 12),
        ("a,b,c\n\n\n1,2,3\n4,5\n", 5),  # blank lines before it
        ('a,b,c\n1,"x\ny",3\n4,5\n', 4),  # a quoted line break before it
        ("a,b,c\n1,2,3,4\n", 2),  # one field too many
    ],
)
def test_ragged_row_reports_its_true_line(tmp_path: Path, content: str, line: int) -> None:
    with pytest.raises(DatasetError, match=f"line {line} has"):
        load_dataset(tmp_path, content)


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("a,y\n1,0\n\n\n\n2,0\nyes,1\n", 7),
        ('a,t,y\n1,"two\nlines",0\n2,x,1\nno,x,1\n', 5),
        ("\n\na,y\n1,0\nyes,1\n", 5),  # blank lines before the header
    ],
)
def test_non_numeric_value_reports_its_true_line(tmp_path: Path, content: str, line: int) -> None:
    ds = load_dataset(tmp_path, content)
    with pytest.raises(DatasetError, match=f"'a' on line {line} is not a number"):
        check_numeric(ds, ["a"], allow_empty=True, role="feature")


# -- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e400", "-1e309", "9" * 400])
def test_numbers_beyond_float64_are_refused(tmp_path: Path, value: str) -> None:
    ds = load_dataset(tmp_path, f"a,y\n1,0\n{value},1\n")
    with pytest.raises(DatasetError, match="line 3 is too large for a 64-bit float"):
        check_numeric(ds, ["a"], allow_empty=True)


def test_booleans_get_the_get_dummies_explanation(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, "a,y\nTrue,0\nFalse,1\n")
    with pytest.raises(DatasetError) as info:
        check_numeric(ds, ["a"], allow_empty=True)
    assert "get_dummies" in info.value.hint and "1/0" in info.value.hint


# -- framing ----------------------------------------------------------------------------------


def test_cr_only_line_endings(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, "a,y\r1,0\r2,1\r")
    assert ds.columns == ("a", "y") and ds.column("y").to_pylist() == ["0", "1"]


def test_header_with_a_quoted_line_break(tmp_path: Path) -> None:
    ds = load_dataset(tmp_path, '"a\nb",y\n1,0\nx,1\n')
    assert ds.columns == ("a\nb", "y")
    with pytest.raises(DatasetError, match="line 4"):
        check_numeric(ds, ["a\nb"], allow_empty=True)


def test_very_long_column_name(tmp_path: Path) -> None:
    name = "c" * 200_000
    ds = load_dataset(tmp_path, f"{name},y\n1,0\n")
    assert ds.columns[0] == name


@pytest.mark.parametrize("content", ["a,b,y", "\ufeffa,b,y", "a,b,y\n"])
def test_header_only_with_or_without_final_newline(tmp_path: Path, content: str) -> None:
    with pytest.raises(DatasetError, match="header but no data rows"):
        load_dataset(tmp_path, content)


def test_semicolon_separated_file_is_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="looks ';'-separated"):
        load_dataset(tmp_path, '"age";"job";"y"\n56;"housemaid";"no"\n')


def test_gzip_body_is_decompressed_whatever_the_name(tmp_path: Path) -> None:
    import gzip

    ds = load_dataset(tmp_path, gzip.compress(b"a,y\n1,0\n2,1\n"))
    assert ds.columns == ("a", "y") and ds.column("a").to_pylist() == ["1", "2"]
    with pytest.raises(DatasetError, match="gzip data is corrupt"):
        load_dataset(tmp_path, gzip.compress(b"a,y\n1,0\n")[:-6])


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["[/x]", "[bold red]yes[/]"])
def test_markup_like_text_is_printed_as_it_is(tmp_path: Path, text: str) -> None:
    res, written = run(tmp_path, f"a,y_no,y_yes\n1,0,1\n{text},1,0\n" + "2,0,1\n" * 10)
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert text in res.output
    assert written == []
    res = runner.invoke(app, ["run", str(tmp_path / "in.csv"), "--label", text, "-o", str(tmp_path / "o2")])
    assert res.exit_code == 1 and text in res.output


def test_markup_like_output_path_does_not_break_the_summary(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", rows(40, "y_yes").replace("a,b,y_yes", "a,y_no,y_yes"))
    res = runner.invoke(app, ["run", str(src), "-o", str(tmp_path / "[/y]" / "out"), "-q", "-H", "num_round=2"])
    assert res.exit_code == 0, res.output
    assert "[/y]" in res.output


def test_no_feature_columns_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    res, written = run(tmp_path, "y_no,y_yes\n" + "0,1\n1,0\n" * 10)
    assert res.exit_code == 1
    assert "no feature columns" in res.output
    assert written == []


def test_a_single_class_with_auc_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    res, written = run(tmp_path, "a,y_no,y_yes\n" + "".join(f"{i},1,0\n" for i in range(30)))
    assert res.exit_code == 1
    assert "single class" in res.output
    assert written == []


def test_labels_written_two_ways_are_one_class(tmp_path: Path) -> None:
    import json

    content = "a,y_no,y_yes\n" + "".join(f"{i},0,{'1' if i % 4 == 0 else '1.0' if i % 4 == 1 else '0'}\n" for i in range(40))
    res, _ = run(tmp_path, content, "--no-train")
    assert res.exit_code == 0, res.output
    (record,) = (tmp_path / "out").rglob("run.json")
    splits = json.loads(record.read_text())["splits"]
    assert sum(s["positives"] for s in splits.values()) == 20
    assert all(set(s["label_counts"]) <= {"0", "1"} for s in splits.values())


def test_output_folder_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    src = write_csv(tmp_path / "in.csv", rows(40, "y_yes").replace("a,b,y_yes", "a,y_no,y_yes"))
    res = runner.invoke(app, ["run", str(src), "-o", str(blocker / "out"), "-q"])
    assert res.exit_code == 1, res.output
    assert res.output.startswith("error: ") and "hint: check that the output folder" in res.output


def test_outputs_are_readable_files_not_0600(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", rows(40, "y_yes").replace("a,b,y_yes", "a,y_no,y_yes"))
    res = runner.invoke(app, ["run", str(src), "-o", str(tmp_path / "out"), "-q", "-H", "num_round=2"])
    assert res.exit_code == 0, res.output
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & stat.S_IRGRP, path


def test_hyperparameters_that_would_fail_the_job_are_refused_up_front(tmp_path: Path) -> None:
    res, written = run(tmp_path, rows(30), "-H", "max_bin=1", "-H", "eval_metric=mlogloss")
    assert res.exit_code == 1
    assert "max_bin" in res.output and "mlogloss" in res.output
    assert written == []


def test_text_columns_are_refused_together_and_the_hint_s_command_goes_through(tmp_path: Path) -> None:
    """Issue 13: one run names every text column, and its hint's --drop list is the one to paste."""
    content = "city,age,plan name,y_no,y_yes\n" + "".join(
        f"{'Leeds' if i % 5 == 0 else i},{i},{'gold tier' if i == 7 else i % 3},{1 - i % 2},{i % 2}\n" for i in range(40)
    )
    res, written = run(tmp_path, content, "--no-train")
    assert res.exit_code == 1 and written == []
    error, *problems, hint = res.output.strip().splitlines()  # several problems: a header, then one line each
    assert error.startswith("error: file://") and error.endswith(
        ": columns the training job cannot read as numbers (2 problems):"
    )
    assert problems == [
        "  feature 'city' on line 2 is not a number: 'Leeds'",
        "  feature 'plan name' on line 9 is not a number: 'gold tier'",
    ]
    assert hint == (
        "hint: every train/validation value must be numeric (empty means missing): leave them out with "
        "--drop 'y_no,city,plan name', or encode them upstream"
    )
    res, written = run(tmp_path, content, "--no-train", "--drop", "y_no,city,plan name")
    assert res.exit_code == 0, res.output
    assert written == ["part-00000", "part-00000", "part-00000", "run.json"]


# -- labels the objective's training would refuse -------------------------------------------------


@pytest.mark.parametrize(
    ("objective", "labels", "message"),
    [
        ("reg:gamma", ("2", "1", "0"), "label 0 is not above 0, which reg:gamma requires (column 'y', line 4)"),
        ("reg:tweedie", ("2", "-0.5", "1"), "label -0.5 is not 0 or more, which reg:tweedie requires (column 'y', line 3)"),
        ("count:poisson", ("3", "1", "-1"), "label -1 is not 0 or more, which count:poisson requires (column 'y', line 4)"),
        ("reg:squaredlogerror", ("-1", "1", "2"), "label -1 is not above -1, which reg:squaredlogerror requires"),
    ],
)
def test_labels_an_objective_refuses_are_refused_before_anything_is_written(
    tmp_path: Path, objective: str, labels: tuple[str, ...], message: str
) -> None:
    # before: accepted, split and written; the training job then failed (exit 3) with XGBoost's "label must be
    # positive for gamma regression", "TweedieRegression: label must be nonnegative" ...
    content = "a,b,y\n" + "".join(f"{i},{i % 3},{labels[i % 3]}\n" for i in range(30))
    res, written = run(tmp_path, content, "--label", "y", "-H", f"objective={objective}")
    assert res.exit_code == 1, res.output
    assert message in res.output and written == []
    allowed = content.replace(",0\n", ",3\n").replace(",-0.5\n", ",0\n").replace(",-1\n", ",0\n")
    res, written = run(tmp_path, allowed, "--label", "y", "-H", f"objective={objective}")
    assert res.exit_code == 0, res.output  # the bound itself where the objective takes it: 0 for tweedie and poisson


def test_survival_aft_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    # before: split and written; the training job then failed (exit 3; on SageMaker a job started to fail):
    # "labels_lower_bound_.Size() == ndata", since a CSV channel has one label column and no bounds
    res, written = run(tmp_path, rows(30), "--label", "y", "-H", "objective=survival:aft")
    assert res.exit_code == 1, res.output
    assert "survival:aft" in res.output and "-H objective=survival:cox" in res.output and written == []


@pytest.mark.xfail(
    strict=True,
    reason="a malformed row stops the checks: only the first is reported (data/table.py's _raise_ragged), without the "
    "other malformed rows nor the text columns of the same file; the streaming split would have to go on past it too",
)
@pytest.mark.parametrize("stream", ["--in-memory", "--stream"])
def test_malformed_rows_and_text_columns_are_reported_together(tmp_path: Path, stream: str) -> None:
    lines = ["a,b,c,y"] + [f"{i},{'x' if i == 3 else i},{i % 3},{i % 2}" for i in range(40)]
    lines[11], lines[21] = "1,2,3,4,5", "1,2"
    res, written = run(tmp_path, "\n".join(lines) + "\n", "--label", "y", "--no-train", stream)
    assert res.exit_code == 1 and written == []
    error = " ".join(res.output.split())  # the problems, on one line or one a line
    assert "line 12 has 5 fields" in error and "line 22 has 2 fields" in error
    assert "feature 'b' on line 5 is not a number: 'x'" in error


@pytest.mark.xfail(
    strict=True,
    reason="the ranking objectives' label rules (XGBoost 3.0.5, image 3.0-5: relevance degrees are integers 0 to 31 for "
    "rank:ndcg and for the ndcg metric, the default of rank:pairwise; rank:map and the map metric take 0/1 only) are "
    "not checked: the split is written and the job fails (exit 3); XGBoost 1.7.4 (image 1.7-1) has no such rules",
)
@pytest.mark.parametrize(
    ("objective", "bad"), [("rank:ndcg", "0.5"), ("rank:pairwise", "40"), ("rank:map", "2")], ids=lambda v: str(v)
)
def test_labels_a_ranking_objective_refuses_are_refused_before_anything_is_written(
    tmp_path: Path, objective: str, bad: str
) -> None:
    content = "a,b,y\n" + "".join(f"{i},{i % 3},{bad if i == 7 else i % 2}\n" for i in range(30))
    res, written = run(tmp_path, content, "--label", "y", "-H", f"objective={objective}")
    assert res.exit_code == 1, res.output
    assert "line 9" in res.output and written == []


@pytest.mark.parametrize(
    ("objective", "rule"),
    [
        ("binary:logistic", "the label must be a number on every row (0 or 1 for binary:logistic)"),
        ("multi:softprob", "the label must be a number on every row (a class number from 0 for multi:softprob)"),
        ("reg:squarederror", "the label must be a number on every row; "),
    ],
)
def test_a_label_that_is_not_a_number_is_told_what_the_objective_takes(tmp_path: Path, objective: str, rule: str) -> None:
    # before: "(0 or 1 for binary:logistic)" whatever the objective (a regression's NaN label too)
    content = "a,b,y\n" + "".join(f"{i},{'x' if i == 4 else i % 3},{'nan' if i == 2 else i % 2}\n" for i in range(30))
    res, written = run(tmp_path, content, "--label", "y", "-H", f"objective={objective}", "--no-train")
    assert res.exit_code == 1 and written == []
    assert f"hint: {rule}" in res.output, res.output
